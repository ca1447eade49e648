/**
 * Edits of real picture files for the integrity tests: chunks and segments rewritten with
 * valid checksums, so that only the check under test can see what was changed.
 */
import { crc32, deflateSync, inflateSync } from 'node:zlib';

// PNG

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface PngChunk {
	type: string;
	data: Buffer;
}

export function pngChunks(png: Buffer): PngChunk[] {
	const chunks = [];
	for (let offset = 8; offset < png.length;) {
		const length = png.readUInt32BE(offset);
		chunks.push({
			type: png.toString('latin1', offset + 4, offset + 8),
			data: png.subarray(offset + 8, offset + 8 + length),
		});
		offset += 12 + length;
	}
	return chunks;
}

/** A PNG of these chunks, each with its length and a correct CRC. */
export function buildPng(chunks: PngChunk[]): Buffer {
	return Buffer.concat([
		PNG_SIGNATURE,
		...chunks.map(({ type, data }) => {
			const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
			const head = Buffer.alloc(4);
			head.writeUInt32BE(data.length);
			const crc = Buffer.alloc(4);
			crc.writeUInt32BE(crc32(typeAndData));
			return Buffer.concat([head, typeAndData, crc]);
		}),
	]);
}

/** The same PNG with its IHDR edited by `edit`, its CRC fixed. */
export function editPngHeader(png: Buffer, edit: (header: Buffer) => void): Buffer {
	return buildPng(
		pngChunks(png).map(({ type, data }) => {
			if (type !== 'IHDR') return { type, data };
			const header = Buffer.from(data);
			edit(header);
			return { type, data: header };
		}),
	);
}

/** The same PNG with IHDR claiming another size. */
export const forgePngSize = (png: Buffer, width: number, height: number) =>
	editPngHeader(png, (header) => {
		header.writeUInt32BE(width, 0);
		header.writeUInt32BE(height, 4);
	});

/** A PNG with the header of `model` and IDAT chunks of zeros of these sizes (never inflated). */
export function pngWithData(model: Buffer, sizes: number[]): Buffer {
	const header = pngChunks(model).find(({ type }) => type === 'IHDR')!;
	return buildPng([
		header,
		...sizes.map((size) => ({ type: 'IDAT', data: Buffer.alloc(size) })),
		{ type: 'IEND', data: Buffer.alloc(0) },
	]);
}

/** What the PNG's image data inflates to, in bytes. */
export const inflatedLength = (png: Buffer) =>
	inflateSync(
		Buffer.concat(
			pngChunks(png)
				.filter(({ type }) => type === 'IDAT')
				.map(({ data }) => data),
		),
	).length;

// JPEG

/** Offset of the first SOF0/1/2 marker, walking the segments before the first scan. */
export function sofOffset(jpeg: Buffer): number {
	let offset = 2;
	while (offset < jpeg.length) {
		const marker = jpeg[offset + 1];
		if (marker >= 0xc0 && marker <= 0xc2) return offset;
		offset += 2 + jpeg.readUInt16BE(offset + 2);
	}
	throw new Error('no SOF');
}

export function forgeJpegSize(jpeg: Buffer, width: number, height: number): Buffer {
	const forged = Buffer.from(jpeg);
	const sof = sofOffset(forged);
	forged.writeUInt16BE(height, sof + 5);
	forged.writeUInt16BE(width, sof + 7);
	return forged;
}

export const EOI = Buffer.from([0xff, 0xd9]);
export const SOS = Buffer.from([0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00]);

/** A minimal JPEG: SOI, a SOF with these sampling factors, one SOS, `data`, EOI. */
export function syntheticJpeg(
	width: number,
	height: number,
	sampling: number[],
	data: Buffer,
	sofMarker = 0xc0,
): Buffer {
	const sof = Buffer.alloc(2 + 8 + 3 * sampling.length);
	sof.writeUInt16BE(0xff00 | sofMarker, 0);
	sof.writeUInt16BE(8 + 3 * sampling.length, 2);
	sof[4] = 8;
	sof.writeUInt16BE(height, 5);
	sof.writeUInt16BE(width, 7);
	sof[9] = sampling.length;
	sampling.forEach((factors, i) => {
		sof[10 + 3 * i] = i + 1;
		sof[11 + 3 * i] = factors;
	});
	return Buffer.concat([Buffer.from([0xff, 0xd8]), sof, SOS, data, EOI]);
}

// WebP

function webpChunk(webp: Buffer, wanted: string): number {
	for (let offset = 12; offset + 8 <= webp.length;) {
		const size = webp.readUInt32LE(offset + 4);
		if (webp.toString('latin1', offset, offset + 4) === wanted) return offset;
		offset += 8 + size + (size & 1);
	}
	throw new Error(`no ${wanted} chunk`);
}

/** The same lossy WebP with its VP8 frame header claiming another size. */
export function forgeVp8Size(webp: Buffer, width: number, height: number): Buffer {
	const forged = Buffer.from(webp);
	const vp8 = webpChunk(forged, 'VP8 ');
	forged.writeUInt16LE(width, vp8 + 8 + 6);
	forged.writeUInt16LE(height, vp8 + 8 + 8);
	return forged;
}

/** The same extended WebP with its VP8X canvas claiming another size. */
export function forgeCanvasSize(webp: Buffer, width: number, height: number): Buffer {
	const forged = Buffer.from(webp);
	const vp8x = webpChunk(forged, 'VP8X');
	forged.writeUIntLE(width - 1, vp8x + 8 + 4, 3);
	forged.writeUIntLE(height - 1, vp8x + 8 + 7, 3);
	return forged;
}

/**
 * The most compressible PNG there is: every pixel 0, every row filter 0, deflated at
 * zlib's best (about 1028:1, near deflate's limit of 1032:1).
 */
export function zeroPng(width: number, height: number, colourType: number, bitDepth: number) {
	const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colourType]!;
	const header = Buffer.alloc(13);
	header.writeUInt32BE(width, 0);
	header.writeUInt32BE(height, 4);
	header[8] = bitDepth;
	header[9] = colourType;
	const rows = Buffer.alloc(height * (1 + Math.ceil((width * channels * bitDepth) / 8)));
	const palette = colourType === 3 ? [{ type: 'PLTE', data: Buffer.alloc(3) }] : [];
	return buildPng([
		{ type: 'IHDR', data: header },
		...palette,
		{ type: 'IDAT', data: deflateSync(rows, { level: 9 }) },
		{ type: 'IEND', data: Buffer.alloc(0) },
	]);
}
