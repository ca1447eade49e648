import { crc32, inflateSync } from 'node:zlib';

import type { IBinaryData } from 'n8n-workflow';
import sharp from 'sharp';

import type { ImageFormat } from '../../nodes/FluxProFill/images/imageInfo';
import { readImageInfo } from '../../nodes/FluxProFill/images/imageInfo';
import { findDamage } from '../../nodes/FluxProFill/images/integrity';
import { readBinaryPicture } from '../../nodes/FluxProFill/images/pictures';

const tooSmall = (width: number, height: number) =>
	`the image data is far too small for the ${width}×${height} pixels its header declares (the file was probably edited or damaged)`;

const flat = (width: number, height: number, channels: 3 | 4 = 3, background = '#3366cc') =>
	sharp({ create: { width, height, channels, background } });
const noisy = (width: number, height: number) =>
	sharp({
		create: {
			width,
			height,
			channels: 3,
			background: '#808080',
			noise: { type: 'gaussian', mean: 128, sigma: 40 },
		},
	});
const transparent = (width: number, height: number) =>
	sharp({
		create: { width, height, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
	});

// PNG helpers

function chunk(type: string, data: Buffer): Buffer {
	const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
	const length = Buffer.alloc(4);
	length.writeUInt32BE(data.length);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(crc32(typeAndData));
	return Buffer.concat([length, typeAndData, crc]);
}

function pngChunks(png: Buffer): Array<{ type: string; data: Buffer }> {
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

function buildPng(chunks: Array<{ type: string; data: Buffer }>): Buffer {
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		...chunks.map(({ type, data }) => chunk(type, data)),
	]);
}

/** The same PNG with IHDR claiming another size, its CRC fixed so only the size check sees it. */
function forgePngSize(png: Buffer, width: number, height: number): Buffer {
	return buildPng(
		pngChunks(png).map(({ type, data }) => {
			if (type !== 'IHDR') return { type, data };
			const header = Buffer.from(data);
			header.writeUInt32BE(width, 0);
			header.writeUInt32BE(height, 4);
			return { type, data: header };
		}),
	);
}

/** A PNG with the header of `model` and `sizes.length` IDAT chunks of zeros (never inflated). */
function pngWithData(model: Buffer, sizes: number[]): Buffer {
	const header = pngChunks(model).find(({ type }) => type === 'IHDR')!;
	return buildPng([
		header,
		...sizes.map((size) => ({ type: 'IDAT', data: Buffer.alloc(size) })),
		{ type: 'IEND', data: Buffer.alloc(0) },
	]);
}

const inflatedLength = (png: Buffer) =>
	inflateSync(
		Buffer.concat(
			pngChunks(png)
				.filter(({ type }) => type === 'IDAT')
				.map(({ data }) => data),
		),
	).length;

// JPEG helpers

/** Offset of the first SOF0/1/2 marker, walking the segments before the first scan. */
function sofOffset(jpeg: Buffer): number {
	let offset = 2;
	while (offset < jpeg.length) {
		const marker = jpeg[offset + 1];
		if (marker >= 0xc0 && marker <= 0xc2) return offset;
		offset += 2 + jpeg.readUInt16BE(offset + 2);
	}
	throw new Error('no SOF');
}

function forgeJpegSize(jpeg: Buffer, width: number, height: number): Buffer {
	const forged = Buffer.from(jpeg);
	const sof = sofOffset(forged);
	forged.writeUInt16BE(height, sof + 5);
	forged.writeUInt16BE(width, sof + 7);
	return forged;
}

/** The segments of `jpeg` up to its first SOS header, included. */
function jpegHeaders(jpeg: Buffer): Buffer {
	let offset = 2;
	for (;;) {
		const marker = jpeg[offset + 1];
		const end = offset + 2 + jpeg.readUInt16BE(offset + 2);
		if (marker === 0xda) return jpeg.subarray(0, end);
		offset = end;
	}
}

const EOI = Buffer.from([0xff, 0xd9]);

/** A minimal baseline-looking JPEG: SOF with the given sampling factors, one SOS, data, EOI. */
function syntheticJpeg(
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
	const sos = Buffer.from([0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00]);
	return Buffer.concat([Buffer.from([0xff, 0xd8]), sof, sos, data, EOI]);
}

// WebP helpers

function webpChunks(webp: Buffer): Array<{ type: string; offset: number }> {
	const chunks = [];
	for (let offset = 12; offset + 8 <= webp.length;) {
		const size = webp.readUInt32LE(offset + 4);
		chunks.push({ type: webp.toString('latin1', offset, offset + 4), offset });
		offset += 8 + size + (size & 1);
	}
	return chunks;
}

function forgeVp8Size(webp: Buffer, width: number, height: number): Buffer {
	const forged = Buffer.from(webp);
	const vp8 = webpChunks(forged).find(({ type }) => type === 'VP8 ')!;
	forged.writeUInt16LE(width, vp8.offset + 8 + 6);
	forged.writeUInt16LE(height, vp8.offset + 8 + 8);
	return forged;
}

function forgeCanvasSize(webp: Buffer, width: number, height: number): Buffer {
	const forged = Buffer.from(webp);
	const vp8x = webpChunks(forged).find(({ type }) => type === 'VP8X')!;
	forged.writeUIntLE(width - 1, vp8x.offset + 8 + 4, 3);
	forged.writeUIntLE(height - 1, vp8x.offset + 8 + 7, 3);
	return forged;
}

/** The check as pictures.ts runs it: format from the header, then findDamage. */
function check(bytes: Buffer): string | undefined {
	const result = readImageInfo(bytes);
	if (!result.ok) throw new Error(`unreadable: ${result.reason}`);
	return findDamage(bytes, result.info.format);
}

describe('findDamage: real pictures are never refused', () => {
	// Flat 4000×3000 pictures compress the best there is: the worst case for these bounds.
	const W = 4000;
	const H = 3000;
	const cases: Array<[string, () => Promise<Buffer>]> = [
		[
			'flat grey PNG',
			() => flat(W, H).toColourspace('b-w').png({ compressionLevel: 9 }).toBuffer(),
		],
		['flat grey+alpha PNG', () => transparent(W, H).toColourspace('b-w').png().toBuffer()],
		['flat RGB PNG', () => flat(W, H).png({ compressionLevel: 9 }).toBuffer()],
		['flat RGB PNG, fast', () => flat(W, H).png({ compressionLevel: 1 }).toBuffer()],
		['flat RGBA PNG', () => transparent(W, H).png({ compressionLevel: 9 }).toBuffer()],
		[
			'flat 1-bit palette PNG',
			() =>
				flat(W, H, 3, '#000').png({ palette: true, colours: 2, compressionLevel: 9 }).toBuffer(),
		],
		[
			'flat 4-bit palette PNG',
			() => flat(W, H).png({ palette: true, colours: 16, compressionLevel: 9 }).toBuffer(),
		],
		['flat 16-bit RGB PNG', () => flat(W, H).toColourspace('rgb16').png().toBuffer()],
		[
			'flat 16-bit grey PNG',
			() => flat(W, H, 3, '#000').toColourspace('grey16').png({ compressionLevel: 9 }).toBuffer(),
		],
		[
			'flat interlaced RGB PNG',
			() => flat(W, H).png({ progressive: true, compressionLevel: 9 }).toBuffer(),
		],
		[
			'flat interlaced 1-bit palette PNG',
			() =>
				flat(W, H, 3, '#000')
					.png({ progressive: true, palette: true, colours: 2, compressionLevel: 9 })
					.toBuffer(),
		],
		['flat baseline JPEG 4:2:0', () => flat(W, H).jpeg().toBuffer()],
		['flat baseline JPEG 4:4:4', () => flat(W, H).jpeg({ chromaSubsampling: '4:4:4' }).toBuffer()],
		['flat progressive JPEG', () => flat(W, H).jpeg({ progressive: true }).toBuffer()],
		// mozjpeg's progressive scans with optimised Huffman tables spend exactly one bit on
		// each block of a flat picture: the bound is tight here.
		['flat mozjpeg JPEG', () => flat(W, H).jpeg({ mozjpeg: true, quality: 1 }).toBuffer()],
		[
			'flat mozjpeg JPEG 4:4:4',
			() => flat(W, H).jpeg({ mozjpeg: true, chromaSubsampling: '4:4:4' }).toBuffer(),
		],
		[
			'flat greyscale mozjpeg JPEG',
			() => flat(W, H, 3, '#000').toColourspace('b-w').jpeg({ mozjpeg: true }).toBuffer(),
		],
		[
			'flat greyscale baseline JPEG',
			() => flat(W, H).toColourspace('b-w').jpeg({ optimiseCoding: true }).toBuffer(),
		],
		['flat lossy WebP', () => flat(W, H).webp({ quality: 1 }).toBuffer()],
		['flat lossy WebP, fastest', () => flat(W, H).webp({ effort: 0 }).toBuffer()],
		['flat lossy WebP with alpha', () => transparent(W, H).webp().toBuffer()],
		['flat lossless WebP', () => flat(W, H).webp({ lossless: true }).toBuffer()],
	];

	it.each(cases)('%s, 4000×3000', async (_name, make) => {
		expect(check(await make())).toBeUndefined();
	});

	it.each([
		[1, 1],
		[17, 9],
		[641, 479],
	])('noisy and flat pictures of %i×%i in every format', async (width, height) => {
		for (const picture of [noisy(width, height), flat(width, height)]) {
			const outputs = await Promise.all([
				picture.clone().png().toBuffer(),
				picture.clone().png({ progressive: true }).toBuffer(),
				picture.clone().png({ palette: true, colours: 4 }).toBuffer(),
				picture.clone().toColourspace('b-w').png().toBuffer(),
				picture.clone().jpeg().toBuffer(),
				picture.clone().jpeg({ progressive: true }).toBuffer(),
				picture.clone().jpeg({ mozjpeg: true }).toBuffer(),
				picture.clone().jpeg({ chromaSubsampling: '4:4:4' }).toBuffer(),
				picture.clone().toColourspace('b-w').jpeg().toBuffer(),
				picture.clone().webp().toBuffer(),
				picture.clone().webp({ lossless: true }).toBuffer(),
				picture.clone().ensureAlpha(0.5).webp().toBuffer(),
				picture.clone().webp().withMetadata().keepIccProfile().toBuffer(),
				picture.clone().jpeg().withMetadata().keepIccProfile().toBuffer(),
			]);
			for (const bytes of outputs) expect(check(bytes)).toBeUndefined();
		}
	});

	it('an animated WebP (frames may be smaller than the canvas, so not bounded)', async () => {
		const frames = await Promise.all(
			['#800', '#080'].map((colour) => flat(40, 30, 3, colour).png().toBuffer()),
		);
		const animated = await sharp(frames, { join: { animated: true } })
			.webp()
			.toBuffer();
		expect(check(animated)).toBeUndefined();
	});

	it('a JPEG with stray bytes between segments and unknown markers, as libjpeg reads it', async () => {
		const jpeg = await noisy(64, 48).jpeg().toBuffer();
		const unknown = Buffer.from([0xff, 0xef, 0x00, 0x04, 0xab, 0xcd]); // APP15
		const comment = Buffer.from([0xff, 0xfe, 0x00, 0x05, 0x68, 0x69, 0x21]);
		const patched = Buffer.concat([
			jpeg.subarray(0, 2),
			Buffer.from([0xff, 0xff, 0xff]), // fill bytes before a marker
			comment,
			Buffer.from([0x00, 0x12, 0x34]), // stray bytes (libjpeg warns and skips them)
			unknown,
			jpeg.subarray(2),
		]);
		expect(findDamage(patched, 'jpeg')).toBeUndefined();
		// The file is still one libjpeg reads (with a warning about the stray bytes).
		expect((await sharp(patched, { failOn: 'none' }).stats()).channels).toHaveLength(3);
	});

	it('is fast: reads lengths and markers, never inflates', async () => {
		const big = noisy(2000, 1500);
		const files = await Promise.all([
			big.clone().png({ compressionLevel: 0 }).toBuffer(),
			big.clone().jpeg({ progressive: true }).toBuffer(),
			big.clone().webp({ effort: 0 }).toBuffer(),
		]);
		for (const bytes of files) {
			const started = performance.now();
			expect(check(bytes)).toBeUndefined();
			// The PNG's CRCs (as before) are the bulk, at memory speed.
			expect(performance.now() - started).toBeLessThan(200);
		}
	});
});

describe('findDamage: headers edited to a larger size', () => {
	it.each([
		['RGB', (p: sharp.Sharp) => p.png()],
		['palette', (p: sharp.Sharp) => p.png({ palette: true })],
		['interlaced', (p: sharp.Sharp) => p.png({ progressive: true })],
		['16-bit grey', (p: sharp.Sharp) => p.toColourspace('grey16').png()],
	])('a 64×48 %s PNG whose IHDR says 6000×6000', async (_name, encode) => {
		const png = await encode(noisy(64, 48)).toBuffer();
		expect(check(png)).toBeUndefined();
		const forged = forgePngSize(png, 6000, 6000);
		expect(readImageInfo(forged)).toMatchObject({ ok: true, info: { width: 6000, height: 6000 } });
		expect(check(forged)).toBe(tooSmall(6000, 6000));
	});

	it.each([
		['baseline 4:2:0', { chromaSubsampling: '4:2:0' }],
		['baseline 4:4:4', { chromaSubsampling: '4:4:4' }],
		['progressive', { progressive: true }],
		['mozjpeg', { mozjpeg: true }],
	] as const)('a 64×48 %s JPEG whose SOF says 6000×6000', async (_name, options) => {
		const jpeg = await noisy(64, 48).jpeg(options).toBuffer();
		expect(check(jpeg)).toBeUndefined();
		const forged = forgeJpegSize(jpeg, 6000, 6000);
		expect(readImageInfo(forged)).toMatchObject({ ok: true, info: { width: 6000, height: 6000 } });
		expect(check(forged)).toBe(tooSmall(6000, 6000));
	});

	it('a 64×48 greyscale JPEG whose SOF says 6000×6000', async () => {
		const jpeg = await noisy(64, 48).toColourspace('b-w').jpeg().toBuffer();
		expect(check(forgeJpegSize(jpeg, 6000, 6000))).toBe(tooSmall(6000, 6000));
	});

	it('a 64×48 lossy WebP whose VP8 frame header says 6000×6000', async () => {
		const webp = await noisy(64, 48).webp().toBuffer();
		expect(check(webp)).toBeUndefined();
		const forged = forgeVp8Size(webp, 6000, 6000);
		expect(readImageInfo(forged)).toMatchObject({ ok: true, info: { width: 6000, height: 6000 } });
		expect(check(forged)).toBe(tooSmall(6000, 6000));
	});

	it('a WebP whose VP8X canvas says 6000×6000 around 64×48 data, lossy or lossless', async () => {
		for (const webp of await Promise.all([
			// Alpha or metadata make an extended file (VP8X) with its canvas size.
			noisy(64, 48).ensureAlpha(0.5).webp().toBuffer(),
			noisy(64, 48).webp({ lossless: true }).withMetadata().toBuffer(),
		])) {
			expect(check(webp)).toBeUndefined();
			const forged = forgeCanvasSize(webp, 6000, 6000);
			expect(readImageInfo(forged)).toMatchObject({
				ok: true,
				info: { width: 6000, height: 6000 },
			});
			expect(check(forged)).toBe(
				'the image data is 64×48 pixels but its header declares 6000×6000 (the file was probably edited or damaged)',
			);
		}
	});

	it('not a simple lossless WebP: VP8L has no lower bound (a flat picture of any size takes a few bytes)', async () => {
		const webp = await flat(64, 48).webp({ lossless: true }).toBuffer();
		const forged = Buffer.from(webp);
		const bits = ((6000 - 1) | ((6000 - 1) << 14)) >>> 0;
		forged.writeUInt32LE((forged.readUInt32LE(21) & 0xf0000000) | bits, 21);
		expect(readImageInfo(forged)).toMatchObject({ ok: true, info: { width: 6000, height: 6000 } });
		expect(check(forged)).toBeUndefined();
	});

	it('is refused by readBinaryPicture before upload, with the reason for users', async () => {
		const forged = forgePngSize(await noisy(64, 48).png().toBuffer(), 6000, 6000);
		const reader = {
			fields: () => ({ data: { data: '', mimeType: 'image/png', fileName: 'photo.png' } }),
			read: async () => forged,
		} satisfies { fields(): Record<string, IBinaryData>; read(field: string): Promise<Buffer> };
		await expect(readBinaryPicture('image', 'data', reader)).rejects.toThrow(
			`The image in binary field "data" (photo.png) cannot be used: ${tooSmall(6000, 6000)}`,
		);
	});
});

describe('findDamage: the PNG bound', () => {
	// Headers whose scanlines (per Adam7 pass when interlaced) inflate to well over 1032 bytes.
	const models: Array<[string, () => Promise<Buffer>]> = [
		['RGB', () => flat(1001, 97).png().toBuffer()],
		['interlaced RGB', () => flat(1001, 97).png({ progressive: true }).toBuffer()],
		['interlaced RGBA', () => transparent(333, 131).png({ progressive: true }).toBuffer()],
		[
			'interlaced 1-bit palette',
			() => flat(3001, 37).png({ progressive: true, palette: true, colours: 2 }).toBuffer(),
		],
		['2-bit palette', () => flat(2999, 13).png({ palette: true, colours: 4 }).toBuffer()],
		['16-bit grey', () => flat(517, 29).toColourspace('grey16').png().toBuffer()],
		[
			'interlaced grey+alpha',
			() => transparent(7, 1201).toColourspace('b-w').png({ progressive: true }).toBuffer(),
		],
	];

	it.each(models)(
		'%s: IDAT of ceil(inflated / 1032) bytes passes, one byte less does not',
		async (_name, make) => {
			const model = await make();
			// The real inflated length checks the scanline arithmetic, Adam7 passes included.
			const minimum = Math.ceil(inflatedLength(model) / 1032);
			const [width, height] = [model.readUInt32BE(16), model.readUInt32BE(20)];
			expect(findDamage(pngWithData(model, [minimum]), 'png')).toBeUndefined();
			expect(findDamage(pngWithData(model, [minimum - 1]), 'png')).toBe(tooSmall(width, height));
			// Every IDAT before IEND counts.
			const half = Math.floor(minimum / 2);
			expect(findDamage(pngWithData(model, [half, minimum - half]), 'png')).toBeUndefined();
		},
	);

	it('refuses a PNG without image data or without a valid header', async () => {
		const png = await flat(40, 30).png().toBuffer();
		const chunks = pngChunks(png);
		expect(findDamage(buildPng(chunks.filter(({ type }) => type !== 'IDAT')), 'png')).toBe(
			'the file is damaged (the PNG holds no image data)',
		);
		expect(findDamage(pngWithData(png, [0]), 'png')).toBe(tooSmall(40, 30));
		const badHeader = chunks.map(({ type, data }) => {
			if (type !== 'IHDR') return { type, data };
			const header = Buffer.from(data);
			header[9] = 5; // no such colour type
			return { type, data: header };
		});
		expect(findDamage(buildPng(badHeader), 'png')).toBe(
			'the file is damaged (its PNG header chunk is invalid)',
		);
		expect(findDamage(buildPng(chunks.filter(({ type }) => type !== 'IHDR')), 'png')).toBe(
			'the file is damaged (its PNG header chunk is missing)',
		);
	});
});

describe('findDamage: the JPEG bound', () => {
	it.each([
		['greyscale', 1001, 67, [0x11]],
		['4:2:0', 1001, 67, [0x22, 0x11, 0x11]],
		['4:2:2', 999, 65, [0x21, 0x11, 0x11]],
		['4:4:4 CMYK', 257, 255, [0x11, 0x11, 0x11, 0x11]],
	])(
		'%s: one bit a block (MCU padding not counted) passes, a byte less does not',
		(_name, width, height, sampling) => {
			const hMax = Math.max(...sampling.map((s) => s >> 4));
			const vMax = Math.max(...sampling.map((s) => s & 15));
			const blocks = sampling.reduce(
				(sum, s) =>
					sum +
					Math.ceil((width * (s >> 4)) / (hMax * 8)) * Math.ceil((height * (s & 15)) / (vMax * 8)),
				0,
			);
			const minimum = Math.ceil(blocks / 8);
			const data = (length: number) => Buffer.alloc(length, 0x55);
			expect(findDamage(syntheticJpeg(width, height, sampling, data(minimum)), 'jpeg')).toBe(
				undefined,
			);
			expect(findDamage(syntheticJpeg(width, height, sampling, data(minimum - 1)), 'jpeg')).toBe(
				tooSmall(width, height),
			);
		},
	);

	it('counts stuffed FF00 bytes and restart markers as data, and the data of every scan', () => {
		// 64×64 greyscale: 64 blocks, 8 bytes.
		const stuffedWithRestart = Buffer.from([0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0x78]);
		expect(findDamage(syntheticJpeg(64, 64, [0x11], stuffedWithRestart), 'jpeg')).toBeUndefined();
		expect(findDamage(syntheticJpeg(64, 64, [0x11], stuffedWithRestart.subarray(1)), 'jpeg')).toBe(
			tooSmall(64, 64),
		);
		const twoScans = syntheticJpeg(
			64,
			64,
			[0x11],
			Buffer.concat([
				Buffer.alloc(4, 0x55),
				Buffer.from([0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00]),
				Buffer.alloc(4, 0x55),
			]),
		);
		expect(findDamage(twoScans, 'jpeg')).toBeUndefined();
	});

	it('does not bound arithmetic-coded frames, nor a height left to a DNL marker', () => {
		expect(findDamage(syntheticJpeg(6000, 6000, [0x11], Buffer.alloc(1), 0xc9), 'jpeg')).toBe(
			undefined,
		);
		expect(findDamage(syntheticJpeg(6000, 0, [0x11], Buffer.alloc(1)), 'jpeg')).toBeUndefined();
	});

	it('refuses JPEGs whose structure cannot be read, with a reason', async () => {
		const jpeg = await noisy(64, 48).jpeg().toBuffer();
		const headers = jpegHeaders(jpeg);
		expect(findDamage(Buffer.concat([headers.subarray(0, sofOffset(jpeg)), EOI]), 'jpeg')).toBe(
			'the file is damaged (the JPEG holds no image data)',
		);
		const sosFirst = Buffer.concat([
			Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00]),
			Buffer.alloc(10, 0x55),
			EOI,
		]);
		expect(findDamage(sosFirst, 'jpeg')).toBe(
			'the file is damaged (its JPEG image data comes before the frame header)',
		);
		expect(findDamage(syntheticJpeg(64, 64, [0x05], Buffer.alloc(8, 0x55)), 'jpeg')).toBe(
			'the file is damaged (its JPEG frame header is invalid)',
		);
		const overlong = Buffer.concat([
			Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff]),
			Buffer.alloc(100),
			EOI,
		]);
		expect(findDamage(overlong, 'jpeg')).toBe(
			'the file is cut off (a JPEG segment runs past the end)',
		);
	});
});

describe('findDamage: WebP structure', () => {
	it('refuses a WebP whose image chunk runs past its end, or that has none', async () => {
		const webp = await noisy(64, 48).webp().toBuffer();
		const cut = Buffer.from(webp.subarray(0, webp.length - 10));
		cut.writeUInt32LE(cut.length - 8, 4); // a RIFF size that agrees with the cut file
		expect(findDamage(cut, 'webp')).toBe('the file is cut off (a WebP chunk runs past the end)');
		const empty = Buffer.concat([
			webp.subarray(0, 12),
			Buffer.from('JUNK\x02\x00\x00\x00ab', 'latin1'),
		]);
		empty.writeUInt32LE(empty.length - 8, 4);
		expect(findDamage(empty, 'webp')).toBe('the file is damaged (the WebP holds no image data)');
	});
});

describe('findDamage: never throws', () => {
	it.each(['png', 'jpeg', 'webp'] as const)(
		'on damaged, cut and garbled %s files',
		async (format: ImageFormat) => {
			const original = await noisy(96, 64).toFormat(format).toBuffer();
			let seed = 7;
			const random = () => {
				seed = (seed * 1103515245 + 12345) >>> 0;
				return seed / 2 ** 32;
			};
			for (let run = 0; run < 300; run++) {
				const bytes = Buffer.from(original.subarray(0, 2 + Math.floor(random() * original.length)));
				for (let flips = Math.floor(random() * 8); flips > 0; flips--) {
					bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
				}
				expect(() => findDamage(bytes, format)).not.toThrow();
				const result = findDamage(bytes, format);
				expect(result === undefined || typeof result === 'string').toBe(true);
			}
		},
	);
});
