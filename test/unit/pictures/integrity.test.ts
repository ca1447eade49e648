import sharp from 'sharp';

import { findDamage } from '../../../nodes/FluxProFill/pictures/integrity';
import { readImageInfo, type ImageFormat } from '../../../nodes/FluxProFill/pictures/picture';
import {
	buildPng,
	editPngHeader,
	EOI,
	forgeCanvasSize,
	forgeJpegSize,
	forgePngSize,
	forgeVp8Size,
	inflatedLength,
	pngChunks,
	pngWithData,
	SOS,
	sofOffset,
	syntheticJpeg,
	zeroPng,
} from './forge';

/** The reason given for image data too small for the size the header declares. */
const tooSmall = (width: number, height: number) =>
	new RegExp(`^the image data is far too small for the ${width}×${height} pixels`);

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
	sharp({ create: { width, height, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } });

/** The check as readPicture runs it: the format from the header, then findDamage. */
function check(bytes: Buffer): string | undefined {
	const result = readImageInfo(bytes);
	if (!result.ok) throw new Error(`unreadable: ${result.reason}`);
	return findDamage(bytes, result.info.format);
}

describe('findDamage: real pictures are never refused', () => {
	// Flat pictures compress the best there is: the worst case for the lower bounds (the PNG
	// and JPEG ones the tighter the larger the picture). Slow encoders get a smaller one.
	const [W, H] = [2000, 1500];
	const [w, h] = [1000, 750];
	const cases: Array<[string, () => Promise<Buffer>]> = [
		['grey PNG', () => flat(W, H).toColourspace('b-w').png({ compressionLevel: 9 }).toBuffer()],
		['grey+alpha PNG', () => transparent(W, H).toColourspace('b-w').png().toBuffer()],
		['RGB PNG', () => flat(W, H).png({ compressionLevel: 9 }).toBuffer()],
		['RGBA PNG', () => transparent(W, H).png({ compressionLevel: 9 }).toBuffer()],
		['16-bit RGB PNG', () => flat(W, H).toColourspace('rgb16').png().toBuffer()],
		[
			'interlaced 1-bit palette PNG',
			() =>
				flat(w, h, 3, '#000')
					.png({ progressive: true, palette: true, colours: 2, compressionLevel: 9 })
					.toBuffer(),
		],
		['baseline JPEG 4:2:0', () => flat(W, H).jpeg().toBuffer()],
		['progressive JPEG', () => flat(W, H).jpeg({ progressive: true }).toBuffer()],
		// mozjpeg's progressive scans with optimised Huffman tables spend exactly one bit on
		// each block of a flat picture: the JPEG bound is tight here.
		['mozjpeg JPEG', () => flat(W, H).jpeg({ mozjpeg: true, quality: 1 }).toBuffer()],
		[
			'greyscale mozjpeg JPEG',
			() => flat(W, H, 3, '#000').toColourspace('b-w').jpeg({ mozjpeg: true }).toBuffer(),
		],
		['lossy WebP', () => flat(w, h).webp({ quality: 1 }).toBuffer()],
		['lossy WebP, fastest', () => flat(w, h).webp({ effort: 0 }).toBuffer()],
		['lossy WebP with alpha', () => transparent(w, h).webp().toBuffer()],
		['lossless WebP', () => flat(W, H).webp({ lossless: true }).toBuffer()],
	];

	it.each(cases)('a flat %s', async (_name, make) => {
		expect(check(await make())).toBeUndefined();
	});

	it.each([
		[16_384, 2_441, 0, 1],
		[8_000, 5_000, 0, 8],
		[8_000, 5_000, 3, 1],
		[4_000, 3_000, 2, 8],
		[2_000, 1_500, 6, 16],
	])(
		'the most compressible PNG of %i×%i (colour type %i, %i bits): zeros at zlib’s best',
		(width, height, colourType, bitDepth) => {
			const png = zeroPng(width, height, colourType, bitDepth);
			expect(check(png)).toBeUndefined();
		},
	);

	it.each([
		[1, 1],
		[17, 9],
		[161, 119],
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

	it('an animated WebP (its frames may be smaller than the canvas, so it is not bounded)', async () => {
		const frames = await Promise.all(
			['#800', '#080'].map((colour) => flat(40, 30, 3, colour).png().toBuffer()),
		);
		const animated = await sharp(frames, { join: { animated: true } })
			.webp()
			.toBuffer();
		expect(check(animated)).toBeUndefined();
	});

	it('a JPEG with fill bytes, stray bytes and unknown markers between segments, as libjpeg reads it', async () => {
		const jpeg = await noisy(64, 48).jpeg().toBuffer();
		const patched = Buffer.concat([
			jpeg.subarray(0, 2),
			Buffer.from([0xff, 0xff, 0xff]), // fill bytes before a marker
			Buffer.from([0xff, 0xfe, 0x00, 0x05, 0x68, 0x69, 0x21]), // a comment
			Buffer.from([0x00, 0x12, 0x34]), // stray bytes (libjpeg warns and skips them)
			Buffer.from([0xff, 0xef, 0x00, 0x04, 0xab, 0xcd]), // APP15
			jpeg.subarray(2),
		]);
		expect(findDamage(patched, 'jpeg')).toBeUndefined();
		expect((await sharp(patched, { failOn: 'none' }).stats()).channels).toHaveLength(3);
	});

	it('a JPEG with data after its end marker, as some cameras write', async () => {
		const jpeg = await noisy(64, 48).jpeg().toBuffer();
		expect(findDamage(Buffer.concat([jpeg, Buffer.alloc(500, 0x42)]), 'jpeg')).toBeUndefined();
	});
});

describe('findDamage: cut and damaged files', () => {
	it.each(['png', 'jpeg', 'webp'] as const)('a %s cut short', async (format) => {
		const whole = await noisy(64, 48).toFormat(format).toBuffer();
		expect(findDamage(whole, format)).toBeUndefined();
		for (const keep of [0.3, 0.7, 0.99])
			expect(findDamage(whole.subarray(0, Math.floor(whole.length * keep)), format)).toMatch(
				/cut off/,
			);
	});

	it('a PNG with a byte changed inside a chunk fails its checksum', async () => {
		const png = Buffer.from(await noisy(64, 48).png().toBuffer());
		png[png.length - 40] ^= 0xff;
		expect(findDamage(png, 'png')).toMatch(/checksum/);
	});

	it.each([
		['png', Buffer.from('GIF89a this is not a PNG')],
		['jpeg', Buffer.from('not a JPEG at all')],
		['webp', Buffer.from('RIFF....WAVEfmt ')],
	] as const)('a %s whose signature is wrong', (format, bytes) => {
		expect(findDamage(bytes, format)).toMatch(/damaged/);
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
		expect(check(forged)).toMatch(tooSmall(6000, 6000));
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
		expect(check(forged)).toMatch(tooSmall(6000, 6000));
	});

	it('a 64×48 lossy WebP whose VP8 frame header says 6000×6000', async () => {
		const webp = await noisy(64, 48).webp().toBuffer();
		expect(check(webp)).toBeUndefined();
		const forged = forgeVp8Size(webp, 6000, 6000);
		expect(readImageInfo(forged)).toMatchObject({ ok: true, info: { width: 6000, height: 6000 } });
		expect(check(forged)).toMatch(tooSmall(6000, 6000));
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
			expect(check(forged)).toMatch(/64×48 pixels but its header declares 6000×6000/);
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
			expect(findDamage(pngWithData(model, [minimum - 1]), 'png')).toMatch(tooSmall(width, height));
			// Every IDAT before IEND counts.
			const half = Math.floor(minimum / 2);
			expect(findDamage(pngWithData(model, [half, minimum - half]), 'png')).toBeUndefined();
		},
	);

	it('refuses a PNG without image data, or without a valid header', async () => {
		const png = await flat(40, 30).png().toBuffer();
		const chunks = pngChunks(png);
		expect(findDamage(buildPng(chunks.filter(({ type }) => type !== 'IDAT')), 'png')).toMatch(
			/no image data/,
		);
		expect(findDamage(pngWithData(png, [0]), 'png')).toMatch(tooSmall(40, 30));
		const badColourType = editPngHeader(png, (header) => {
			header[9] = 5; // no such colour type
		});
		expect(findDamage(badColourType, 'png')).toMatch(/header chunk is invalid/);
		expect(findDamage(buildPng(chunks.filter(({ type }) => type !== 'IHDR')), 'png')).toMatch(
			/header chunk is missing/,
		);
		expect(findDamage(buildPng(chunks.filter(({ type }) => type !== 'IEND')), 'png')).toMatch(
			/cut off/,
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
			expect(
				findDamage(syntheticJpeg(width, height, sampling, data(minimum)), 'jpeg'),
			).toBeUndefined();
			expect(findDamage(syntheticJpeg(width, height, sampling, data(minimum - 1)), 'jpeg')).toMatch(
				tooSmall(width, height),
			);
		},
	);

	it('counts stuffed FF00 bytes and restart markers as data, and the data of every scan', () => {
		// 64×64 greyscale: 64 blocks, 8 bytes.
		const stuffedWithRestart = Buffer.from([0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56, 0x78]);
		expect(findDamage(syntheticJpeg(64, 64, [0x11], stuffedWithRestart), 'jpeg')).toBeUndefined();
		expect(
			findDamage(syntheticJpeg(64, 64, [0x11], stuffedWithRestart.subarray(1)), 'jpeg'),
		).toMatch(tooSmall(64, 64));
		const twoScans = Buffer.concat([Buffer.alloc(4, 0x55), SOS, Buffer.alloc(4, 0x55)]);
		expect(findDamage(syntheticJpeg(64, 64, [0x11], twoScans), 'jpeg')).toBeUndefined();
	});

	it('does not bound arithmetic-coded frames, nor a height left to a DNL marker', () => {
		expect(
			findDamage(syntheticJpeg(6000, 6000, [0x11], Buffer.alloc(1), 0xc9), 'jpeg'),
		).toBeUndefined();
		expect(findDamage(syntheticJpeg(6000, 0, [0x11], Buffer.alloc(1)), 'jpeg')).toBeUndefined();
	});

	it('refuses JPEGs whose structure cannot be read, with a reason', async () => {
		const jpeg = await noisy(64, 48).jpeg().toBuffer();
		const noScan = Buffer.concat([jpeg.subarray(0, sofOffset(jpeg)), EOI]);
		expect(findDamage(noScan, 'jpeg')).toMatch(/no image data/);
		const scanFirst = Buffer.concat([Buffer.from([0xff, 0xd8]), SOS, Buffer.alloc(10, 0x55), EOI]);
		expect(findDamage(scanFirst, 'jpeg')).toMatch(/comes before the frame header/);
		expect(findDamage(syntheticJpeg(64, 64, [0x05], Buffer.alloc(8, 0x55)), 'jpeg')).toMatch(
			/frame header is invalid/,
		);
		const overlong = Buffer.concat([
			Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff]),
			Buffer.alloc(100),
			EOI,
		]);
		expect(findDamage(overlong, 'jpeg')).toMatch(/segment runs past the end/);
	});
});

describe('findDamage: WebP structure', () => {
	it('refuses a WebP whose image chunk runs past its end, or that has none', async () => {
		const webp = await noisy(64, 48).webp().toBuffer();
		const cut = Buffer.from(webp.subarray(0, webp.length - 10));
		cut.writeUInt32LE(cut.length - 8, 4); // a RIFF size that agrees with the cut file
		expect(findDamage(cut, 'webp')).toMatch(/chunk runs past the end/);
		const empty = Buffer.concat([
			webp.subarray(0, 12),
			Buffer.from('JUNK\x02\x00\x00\x00ab', 'latin1'),
		]);
		empty.writeUInt32LE(empty.length - 8, 4);
		expect(findDamage(empty, 'webp')).toMatch(/no image data/);
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
				const result = findDamage(bytes, format);
				expect(result === undefined || typeof result === 'string').toBe(true);
			}
		},
	);
});
