import { crc32 } from 'node:zlib';

import type { ImageFormat } from './picture';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Finds, without decoding pixels, files with a valid header that are damaged further on
 * (cut off, garbage behind the signature) or whose compressed data is far too small for
 * the size their header declares (a header edited to a larger size). Returns the reason
 * for users, or undefined when the file is whole. The size checks use lower bounds no
 * valid file falls below, whatever its content: a flat single-colour picture passes.
 */
export function findDamage(bytes: Buffer, format: ImageFormat): string | undefined {
	return { png: pngDamage, jpeg: jpegDamage, webp: webpDamage }[format](bytes);
}

function tooLittleData(width: number, height: number): string {
	return `the image data is far too small for the ${width}×${height} pixels its header declares (the file was probably edited or damaged)`;
}

// PNG

/**
 * Deflate's best case: a 258-byte match from a 1-bit length and a 1-bit distance code
 * (RFC 1951); literals, block headers and zlib's header and checksum only add to it.
 */
const DEFLATE_MAX_RATIO = 1032;

/** Adam7 passes: first column, first row, column step, row step. */
const ADAM7 = [
	[0, 0, 8, 8],
	[4, 0, 8, 8],
	[0, 4, 4, 8],
	[2, 0, 4, 4],
	[0, 2, 2, 4],
	[1, 0, 2, 2],
	[0, 1, 1, 2],
] as const;

/** Bit depths allowed for each colour type, and its samples per pixel. */
const PNG_COLOUR_TYPES: Record<number, { channels: number; depths: number[] }> = {
	0: { channels: 1, depths: [1, 2, 4, 8, 16] },
	2: { channels: 3, depths: [8, 16] },
	3: { channels: 1, depths: [1, 2, 4, 8] },
	4: { channels: 2, depths: [8, 16] },
	6: { channels: 4, depths: [8, 16] },
};

interface PngHeader {
	width: number;
	height: number;
	bitsPerPixel: number;
	interlaced: boolean;
}

/**
 * Walks the chunk list, checking every chunk's bounds and CRC, up to IEND; then that
 * the IDAT chunks hold enough compressed data to inflate to every scanline IHDR asks for.
 */
function pngDamage(bytes: Buffer): string | undefined {
	if (!bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return 'its PNG signature is damaged';
	let header: PngHeader | undefined;
	let sawHeader = false;
	let sawData = false;
	let dataBytes = 0;
	let offset = 8;
	while (offset + 12 <= bytes.length) {
		const length = bytes.readUInt32BE(offset);
		const end = offset + 12 + length;
		if (end > bytes.length) return 'the file is cut off (a PNG chunk runs past the end)';
		const type = bytes.toString('latin1', offset + 4, offset + 8);
		const typeAndData = bytes.subarray(offset + 4, offset + 8 + length);
		if (crc32(typeAndData) !== bytes.readUInt32BE(offset + 8 + length))
			return `the file is damaged (PNG chunk "${type}" fails its checksum)`;
		if (type === 'IHDR' && !sawHeader && !sawData) {
			sawHeader = true;
			header = readPngHeader(bytes.subarray(offset + 8, offset + 8 + length));
		} else if (type === 'IDAT') {
			sawData = true;
			dataBytes += length;
		} else if (type === 'IEND') {
			return pngDataShortfall(sawHeader, header, sawData, dataBytes);
		}
		offset = end;
	}
	return 'the file is cut off (no PNG end marker)';
}

function readPngHeader(data: Buffer): PngHeader | undefined {
	if (data.length !== 13) return undefined;
	const width = data.readUInt32BE(0);
	const height = data.readUInt32BE(4);
	const bitDepth = data[8];
	const colourType = PNG_COLOUR_TYPES[data[9]];
	const interlace = data[12];
	if (!width || !height || !colourType?.depths.includes(bitDepth) || interlace > 1)
		return undefined;
	return {
		width,
		height,
		bitsPerPixel: colourType.channels * bitDepth,
		interlaced: interlace === 1,
	};
}

function pngDataShortfall(
	sawHeader: boolean,
	header: PngHeader | undefined,
	sawData: boolean,
	dataBytes: number,
): string | undefined {
	if (!sawHeader) return 'the file is damaged (its PNG header chunk is missing)';
	if (!header) return 'the file is damaged (its PNG header chunk is invalid)';
	if (!sawData) return 'the file is damaged (the PNG holds no image data)';
	return dataBytes * DEFLATE_MAX_RATIO < pngScanlineBytes(header)
		? tooLittleData(header.width, header.height)
		: undefined;
}

/**
 * What the IDAT stream inflates to: per row a filter-type byte and the row's pixels,
 * packed to whole bytes; for an interlaced PNG the same over each Adam7 pass (a pass
 * with no pixels has no rows, not even filter bytes).
 */
function pngScanlineBytes({ width, height, bitsPerPixel, interlaced }: PngHeader): number {
	const rows = (w: number, h: number) =>
		w > 0 && h > 0 ? h * (1 + Math.ceil((w * bitsPerPixel) / 8)) : 0;
	if (!interlaced) return rows(width, height);
	let total = 0;
	for (const [x0, y0, dx, dy] of ADAM7)
		total += rows(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy));
	return total;
}

// JPEG

/** SOF markers: C0–CF except DHT (C4), JPG (C8) and DAC (CC). */
const isFrameMarker = (marker: number) =>
	marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
/** Markers without a length: TEM, RST0–7, SOI (EOI ends the walk). */
const isStandaloneMarker = (marker: number) =>
	marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8);
const isRestartMarker = (marker: number) => marker >= 0xd0 && marker <= 0xd7;

interface JpegFrame {
	width: number;
	height: number;
	/** 8×8 blocks over all components, without the padding to whole MCUs; 0 if unknown. */
	blocks: number;
}

/**
 * A whole JPEG ends with the EOI marker; some cameras append data after it, so search back.
 * Then it must hold enough entropy-coded data for the blocks of its frame.
 */
function jpegDamage(bytes: Buffer): string | undefined {
	if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return 'its JPEG start marker is damaged';
	const tail = bytes.subarray(Math.max(2, bytes.length - 64 * 1024));
	for (let i = tail.length - 2; i >= 0; i--)
		if (tail[i] === 0xff && tail[i + 1] === 0xd9) return jpegDataShortfall(bytes);
	return 'the file is cut off (no JPEG end marker)';
}

/**
 * Walks the markers to the first EOI and counts the entropy-coded bytes after each SOS
 * header. A Huffman-coded frame (SOF0, 1 and 2) codes every 8×8 block's DC coefficient
 * in some scan, in at least one bit (ITU-T T.81, F.1.2.1); arithmetic-coded and lossless
 * frames are not bounded. Stuffing and restart markers are counted: it can only overstate.
 */
function jpegDataShortfall(bytes: Buffer): string | undefined {
	let frame: JpegFrame | 'unbounded' | undefined;
	let sawScan = false;
	let dataBytes = 0;
	let offset = 2;
	while (offset < bytes.length) {
		// Like libjpeg, skip stray bytes before a marker and the fill bytes (FF) in front of it.
		offset = bytes.indexOf(0xff, offset);
		if (offset < 0) break;
		while (bytes[offset + 1] === 0xff) offset++;
		if (offset + 1 >= bytes.length) break;
		const marker = bytes[offset + 1];
		offset += 2;
		if (marker === 0x00 || isStandaloneMarker(marker)) continue;
		if (marker === 0xd9) break;
		if (offset + 2 > bytes.length) return 'the file is cut off (a JPEG segment runs past the end)';
		const length = bytes.readUInt16BE(offset);
		if (length < 2) return 'the file is damaged (a JPEG segment has an impossible length)';
		const end = offset + length;
		if (end > bytes.length) return 'the file is cut off (a JPEG segment runs past the end)';
		if (isFrameMarker(marker) && frame === undefined) {
			frame = marker > 0xc2 ? 'unbounded' : readJpegFrame(bytes.subarray(offset + 2, end));
			if (!frame) return 'the file is damaged (its JPEG frame header is invalid)';
		} else if (marker === 0xda) {
			if (!frame) return 'the file is damaged (its JPEG image data comes before the frame header)';
			if (frame === 'unbounded') return undefined;
			sawScan = true;
			const needed = Math.ceil(frame.blocks / 8);
			const scanEnd = entropyCodedEnd(bytes, end, needed - dataBytes);
			dataBytes += scanEnd - end;
			if (dataBytes >= needed) return undefined;
			offset = scanEnd;
			continue;
		}
		offset = end;
	}
	if (!sawScan || frame === undefined || frame === 'unbounded')
		return 'the file is damaged (the JPEG holds no image data)';
	return tooLittleData(frame.width, frame.height);
}

/** Reads a SOF segment (after its length): size, components and their sampling factors. */
function readJpegFrame(segment: Buffer): JpegFrame | undefined {
	if (segment.length < 6) return undefined;
	const height = segment.readUInt16BE(1);
	const width = segment.readUInt16BE(3);
	const count = segment[5];
	if (!width || !count || segment.length < 6 + 3 * count) return undefined;
	const sampling: Array<[number, number]> = [];
	for (let i = 0; i < count; i++) {
		const factors = segment[6 + 3 * i + 1];
		const h = factors >> 4;
		const v = factors & 0x0f;
		if (h < 1 || h > 4 || v < 1 || v > 4) return undefined;
		sampling.push([h, v]);
	}
	// A height of 0 is given later by a DNL marker: no bound then.
	if (!height) return { width, height, blocks: 0 };
	const hMax = Math.max(...sampling.map(([h]) => h));
	const vMax = Math.max(...sampling.map(([, v]) => v));
	let blocks = 0;
	for (const [h, v] of sampling) {
		const componentWidth = Math.ceil((width * h) / hMax);
		const componentHeight = Math.ceil((height * v) / vMax);
		blocks += Math.ceil(componentWidth / 8) * Math.ceil(componentHeight / 8);
	}
	return { width, height, blocks };
}

/**
 * Where the entropy-coded data starting at `from` ends: at the first marker that is
 * neither a stuffed FF00 nor a restart marker. Stops early once `enough` bytes are seen.
 */
function entropyCodedEnd(bytes: Buffer, from: number, enough: number): number {
	let i = from;
	for (;;) {
		const ff = bytes.indexOf(0xff, i);
		if (ff < 0) return bytes.length;
		if (ff - from >= enough) return ff;
		let next = ff + 1;
		while (bytes[next] === 0xff) next++;
		if (next >= bytes.length) return ff;
		if (bytes[next] !== 0x00 && !isRestartMarker(bytes[next])) return ff;
		i = next + 1;
	}
}

// WebP

/**
 * The RIFF header states the file's length; a shorter file was cut off. Then the image
 * data must match the VP8X canvas and, for lossy data, be large enough for its size.
 */
function webpDamage(bytes: Buffer): string | undefined {
	if (
		bytes.length < 12 ||
		bytes.toString('latin1', 0, 4) !== 'RIFF' ||
		bytes.toString('latin1', 8, 12) !== 'WEBP'
	)
		return 'its WebP header is damaged';
	const riffEnd = bytes.readUInt32LE(4) + 8;
	return riffEnd > bytes.length
		? 'the file is cut off (shorter than its WebP header says)'
		: webpDataShortfall(bytes.subarray(0, riffEnd));
}

/**
 * Finds the image data chunk (VP8 or VP8L) of a still WebP; in an extended file (VP8X)
 * its size must be the canvas size, as libwebp requires. Lossy data takes at least a bit
 * a 16×16 macroblock: a key frame codes each one's luma and chroma modes with fixed
 * probabilities, over 0.8 bits each (RFC 6386, section 11). Lossless data and alpha
 * planes have no bound (a flat picture fits in a few dozen bytes); animations, whose
 * frames may be smaller than the canvas, are left alone.
 */
function webpDataShortfall(riff: Buffer): string | undefined {
	let canvas: { width: number; height: number } | undefined;
	let offset = 12;
	while (offset + 8 <= riff.length) {
		const type = riff.toString('latin1', offset, offset + 4);
		const size = riff.readUInt32LE(offset + 4);
		if (offset + 8 + size > riff.length)
			return 'the file is cut off (a WebP chunk runs past the end)';
		const data = riff.subarray(offset + 8, offset + 8 + size);
		if (type === 'VP8X' && !canvas) {
			if (data.length < 10) return 'its WebP header is damaged';
			if (data[0] & 0x02) return undefined; // animation
			canvas = { width: data.readUIntLE(4, 3) + 1, height: data.readUIntLE(7, 3) + 1 };
		} else if (type === 'VP8 ' || type === 'VP8L') {
			const frame = type === 'VP8 ' ? readVp8Frame(data) : readVp8lFrame(data);
			if (!frame) return 'the file is damaged (its WebP image data is invalid)';
			if (canvas && (canvas.width !== frame.width || canvas.height !== frame.height))
				return `the image data is ${frame.width}×${frame.height} pixels but its header declares ${canvas.width}×${canvas.height} (the file was probably edited or damaged)`;
			if (type === 'VP8L') return undefined;
			const macroblocks = Math.ceil(frame.width / 16) * Math.ceil(frame.height / 16);
			return data.length * 8 < macroblocks ? tooLittleData(frame.width, frame.height) : undefined;
		}
		offset += 8 + size + (size & 1);
	}
	return 'the file is damaged (the WebP holds no image data)';
}

/** A VP8 key frame header: frame tag, start code, 14-bit width and height. */
function readVp8Frame(data: Buffer): { width: number; height: number } | undefined {
	if (data.length < 10 || data[0] & 0x01) return undefined;
	if (data[3] !== 0x9d || data[4] !== 0x01 || data[5] !== 0x2a) return undefined;
	const width = data.readUInt16LE(6) & 0x3fff;
	const height = data.readUInt16LE(8) & 0x3fff;
	return width && height ? { width, height } : undefined;
}

/** A VP8L header: signature byte, then 14-bit width − 1 and height − 1. */
function readVp8lFrame(data: Buffer): { width: number; height: number } | undefined {
	if (data.length < 5 || data[0] !== 0x2f) return undefined;
	const bits = data.readUInt32LE(1);
	return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
}
