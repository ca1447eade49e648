import sharp from 'sharp';

import { InputProblem } from '../../nodes/FluxProFill/errors/InputProblem';
import { dilateSquare } from '../../nodes/FluxProFill/masks/dilate';
import { prepareMask } from '../../nodes/FluxProFill/masks/prepareMask';
import type { MaskOptions, MaskSpec, Rectangle, Size } from '../../nodes/FluxProFill/masks/types';

const W = 40;
const H = 30;
const IMAGE: Size = { width: W, height: H };

type Pixel = (x: number, y: number) => number[];

/** A PNG (or other format) whose pixel (x, y) is `pixel(x, y)`, with `channels` values. */
async function picture(
	width: number,
	height: number,
	channels: 1 | 2 | 3 | 4,
	pixel: Pixel,
	format: 'png' | 'jpeg' | 'webp' | 'gif' = 'png',
): Promise<Buffer> {
	const raw = Buffer.alloc(width * height * channels);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) raw.set(pixel(x, y), (y * width + x) * channels);
	}
	let image = sharp(raw, { raw: { width, height, channels } });
	if (channels <= 2) image = image.toColourspace('b-w');
	if (format === 'webp') return image.webp({ lossless: true }).toBuffer();
	if (format === 'jpeg') return image.jpeg({ quality: 95 }).toBuffer();
	return image.toFormat(format).toBuffer();
}

/** A one-channel picture from a predicate: true → white. */
const bw = (width: number, height: number, white: (x: number, y: number) => boolean) =>
	picture(width, height, 1, (x, y) => [white(x, y) ? 255 : 0]);

const inside = (x0: number, y0: number, x1: number, y1: number) => (x: number, y: number) =>
	x >= x0 && x < x1 && y >= y0 && y < y1;

/** Decodes the prepared PNG and checks it is a lossless black-and-white PNG of `size`. */
async function decodeMask(png: Buffer, size: Size = IMAGE): Promise<Uint8Array> {
	expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
	const metadata = await sharp(png).metadata();
	expect(metadata).toMatchObject({
		format: 'png',
		width: size.width,
		height: size.height,
		channels: 1,
		depth: 'uchar',
		hasAlpha: false,
	});
	const { data, info } = await sharp(png)
		.toColourspace('b-w')
		.raw()
		.toBuffer({ resolveWithObject: true });
	expect(info.channels).toBe(1);
	const greys = new Set(data.filter((value) => value !== 0 && value !== 255));
	expect([...greys]).toEqual([]);
	return data;
}

/** Compares with the expected mask pixel by pixel; on failure shows both as text. */
async function expectMask(
	png: Buffer,
	white: (x: number, y: number) => boolean,
	size: Size = IMAGE,
): Promise<void> {
	const data = await decodeMask(png, size);
	const rows: string[] = [];
	let wrong = 0;
	for (let y = 0; y < size.height; y++) {
		let expected = '';
		let actual = '';
		for (let x = 0; x < size.width; x++) {
			const want = white(x, y);
			const got = data[y * size.width + x] === 255;
			if (want !== got) wrong++;
			expected += want ? '#' : '.';
			actual += got === want ? (got ? '#' : '.') : got ? 'X' : 'o';
		}
		rows.push(`${expected}   ${actual}`);
	}
	if (wrong > 0) {
		throw new Error(
			`${wrong} pixels differ (expected | actual, X = white but should be black, o = the reverse):\n${rows.join('\n')}`,
		);
	}
}

const countWhite = (size: Size, white: (x: number, y: number) => boolean) => {
	let n = 0;
	for (let y = 0; y < size.height; y++) for (let x = 0; x < size.width; x++) if (white(x, y)) n++;
	return n;
};

/** prepareMask + pixel comparison + whitePixels check. */
async function expectPrepared(
	spec: MaskSpec,
	options: MaskOptions,
	white: (x: number, y: number) => boolean,
	size: Size = IMAGE,
) {
	const result = await prepareMask(spec, size, options);
	expect(result.size).toEqual(size);
	await expectMask(result.png, white, size);
	expect(result.whitePixels).toBe(countWhite(size, white));
	return result;
}

async function expectProblem(
	promise: Promise<unknown>,
	message: string | RegExp,
	description?: string | RegExp,
) {
	const error: unknown = await promise.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(InputProblem);
	const problem = error as InputProblem;
	expect(problem.message).toMatch(message);
	if (description !== undefined) expect(problem.description).toMatch(description);
	return problem;
}

const rect = (
	left: number,
	top: number,
	width: number,
	height: number,
	unit: Rectangle['unit'] = 'px',
): Rectangle => ({
	left,
	top,
	width,
	height,
	unit,
});
const rectangles = (...list: Rectangle[]): MaskSpec => ({ kind: 'rectangles', rectangles: list });

describe('prepareMask: alpha (image transparency)', () => {
	// Opaque red picture with a transparent hole [10,20)×[5,15), and semi-transparent
	// columns beside it: alpha 127 at x = 9 (below 128: repainted), 128 at x = 20 (kept).
	const holeAlpha = (x: number, y: number) => {
		if (y >= 5 && y < 15) {
			if (x >= 10 && x < 20) return 0;
			if (x === 9) return 127;
			if (x === 20) return 128;
		}
		return 255;
	};
	const hole = (x: number, y: number) => y >= 5 && y < 15 && x >= 9 && x < 20;

	it.each(['png', 'webp'] as const)(
		'turns the transparent hole of an RGBA %s white and the opaque rest black',
		async (format) => {
			const image = await picture(W, H, 4, (x, y) => [200, 30, 30, holeAlpha(x, y)], format);
			await expectPrepared({ kind: 'alpha', image }, {}, hole);
		},
	);

	it('uses the threshold for semi-transparent edges: alpha < threshold is repainted', async () => {
		const image = await picture(W, H, 4, (x, y) => [200, 30, 30, holeAlpha(x, y)]);
		await expectPrepared(
			{ kind: 'alpha', image },
			{ threshold: 129 },
			(x, y) => hole(x, y) || (x === 20 && y >= 5 && y < 15),
		);
		await expectPrepared({ kind: 'alpha', image }, { threshold: 1 }, inside(10, 5, 20, 15));
	});

	it('reads grey+alpha, palette and 16-bit PNGs', async () => {
		const greyAlpha = await picture(W, H, 2, (x, y) => [90, holeAlpha(x, y)]);
		expect(await sharp(greyAlpha).metadata()).toMatchObject({ channels: 2, hasAlpha: true });
		await expectPrepared({ kind: 'alpha', image: greyAlpha }, {}, hole);

		const rgba = await picture(W, H, 4, (x, y) => [200, 30, 30, holeAlpha(x, y)]);
		const palette = await sharp(rgba).png({ palette: true }).toBuffer();
		expect(await sharp(palette).metadata()).toMatchObject({ isPalette: true, hasAlpha: true });
		await expectPrepared({ kind: 'alpha', image: palette }, {}, hole);

		const sixteen = await sharp(rgba).toColourspace('rgb16').png().toBuffer();
		expect(await sharp(sixteen).metadata()).toMatchObject({ depth: 'ushort', hasAlpha: true });
		await expectPrepared({ kind: 'alpha', image: sixteen }, {}, hole);
	});

	it('with invert, repaints the opaque part', async () => {
		const image = await picture(W, H, 4, (x, y) => [200, 30, 30, holeAlpha(x, y)]);
		await expectPrepared({ kind: 'alpha', image }, { invert: true }, (x, y) => !hole(x, y));
	});

	it('rejects a JPEG and a PNG without alpha, naming the format and the other sources', async () => {
		const jpeg = await picture(W, H, 3, () => [10, 20, 30], 'jpeg');
		await expectProblem(
			prepareMask({ kind: 'alpha', image: jpeg }, IMAGE, {}),
			'The image has no alpha channel: it is a JPEG, and JPEG cannot store transparency',
			/"Binary Field".*"Rectangles"/,
		);
		const png = await picture(W, H, 3, () => [10, 20, 30]);
		await expectProblem(
			prepareMask({ kind: 'alpha', image: png }, IMAGE, {}),
			'The image has no alpha channel: it is a PNG without transparency',
		);
	});

	it('rejects a fully opaque image, and one whose transparency is above the threshold', async () => {
		const opaque = await picture(W, H, 4, () => [10, 20, 30, 255]);
		await expectProblem(
			prepareMask({ kind: 'alpha', image: opaque }, IMAGE, {}),
			'The image has an alpha channel but is fully opaque, so nothing would be repainted',
			/charge/,
		);
		const faint = await picture(W, H, 4, (x) => [10, 20, 30, x < 5 ? 200 : 255]);
		await expectProblem(
			prepareMask({ kind: 'alpha', image: faint }, IMAGE, {}),
			'No pixel of the image is transparent enough to be repainted: pixels with alpha below "Mask Threshold" (128) are repainted, and the lowest alpha is 200',
			/Raise "Mask Threshold" above 200/,
		);
		const transparent = await picture(W, H, 4, () => [0, 0, 0, 0]);
		await expectProblem(
			prepareMask({ kind: 'alpha', image: transparent }, IMAGE, { invert: true }),
			/No pixel of the image is opaque enough/,
		);
	});

	it('repaints everything for a fully transparent image (allowed)', async () => {
		const transparent = await picture(W, H, 4, () => [0, 0, 0, 0]);
		const result = await expectPrepared({ kind: 'alpha', image: transparent }, {}, () => true);
		expect(result.whitePixels).toBe(W * H);
	});
});

describe('prepareMask: rectangles', () => {
	it('paints a rectangle in pixels with exact boundaries', async () => {
		await expectPrepared(rectangles(rect(5, 3, 10, 4)), {}, inside(5, 3, 15, 7));
	});

	it('paints the union of several rectangles, overlapping or not', async () => {
		await expectPrepared(
			rectangles(rect(2, 2, 6, 6), rect(5, 5, 6, 6), rect(30, 20, 1, 1)),
			{},
			(x, y) => inside(2, 2, 8, 8)(x, y) || inside(5, 5, 11, 11)(x, y) || (x === 30 && y === 20),
		);
	});

	it('clamps rectangles that overlap an edge', async () => {
		await expectPrepared(
			rectangles(rect(-5, -5, 10, 8), rect(35, 25, 20, 20), rect(-1, 10, 100, 1)),
			{},
			(x, y) => inside(0, 0, 5, 3)(x, y) || inside(35, 25, 40, 30)(x, y) || y === 10,
		);
	});

	it('rounds fractional pixel edges', async () => {
		// left 2.4 → 2, right 2.4 + 5.2 = 7.6 → 8; top 1.5 → 2, bottom 1.5 + 1 = 2.5 → 3
		await expectPrepared(rectangles(rect(2.4, 1.5, 5.2, 1)), {}, inside(2, 2, 8, 3));
	});

	it('paints rectangles in percent of the image width and height', async () => {
		// 40×30: left 25% = 10, width 50% = 20; top 10% = 3, height 20% = 6
		await expectPrepared(rectangles(rect(25, 10, 50, 20, 'percent')), {}, inside(10, 3, 30, 9));
		await expectPrepared(rectangles(rect(0, 0, 100, 100, 'percent')), {}, () => true);
	});

	it('rounds percent edges, so rectangles that touch in percent neither overlap nor leave a gap', async () => {
		// 33.3% of 40 = 13.32 → 13; 66.6% of 40 = 26.64 → 27; 50% of 30 = 15
		const result = await expectPrepared(
			rectangles(rect(0, 0, 33.3, 50, 'percent'), rect(33.3, 0, 33.3, 50, 'percent')),
			{},
			inside(0, 0, 27, 15),
		);
		expect(result.whitePixels).toBe(27 * 15);
	});

	it('gives a rectangle smaller than a pixel one pixel, and clamps percent overlaps', async () => {
		await expectPrepared(
			rectangles(rect(50, 50, 0.1, 0.1, 'percent')),
			{},
			(x, y) => x === 20 && y === 15,
		);
		await expectPrepared(rectangles(rect(90, 90, 20, 20, 'percent')), {}, inside(36, 27, 40, 30));
	});

	it('with invert, repaints everything outside the rectangles', async () => {
		await expectPrepared(
			rectangles(rect(5, 3, 10, 4)),
			{ invert: true },
			(x, y) => !inside(5, 3, 15, 7)(x, y),
		);
	});

	it('ignores threshold and fit', async () => {
		await expectPrepared(
			rectangles(rect(5, 3, 10, 4)),
			{ threshold: 255, fit: 'stretch' },
			inside(5, 3, 15, 7),
		);
	});

	// Objects, not arrays: jest would take a missing last array element for `done`.
	it.each<{
		name: string;
		spec: MaskSpec;
		message: string | RegExp;
		description?: string | RegExp;
	}>([
		{
			name: 'an empty list',
			spec: rectangles(),
			message: 'No rectangles to repaint were given',
			description: /Add at least one rectangle/,
		},
		{
			name: 'zero width',
			spec: rectangles(rect(1, 1, 5, 5), rect(1, 1, 0, 5)),
			message: 'Rectangle 2 has width 0, so it covers nothing',
		},
		{
			name: 'negative height',
			spec: rectangles(rect(1, 1, 5, -2)),
			message: 'Rectangle 1 has height -2, so it covers nothing',
		},
		{
			name: 'percent over 100',
			spec: rectangles(rect(10, 10, 150, 10, 'percent')),
			message: 'Rectangle 1 has width 150%, outside 0–100%',
			description: /from 0 to 100/,
		},
		{
			name: 'negative percent',
			spec: rectangles(rect(-5, 10, 10, 10, 'percent')),
			message: 'Rectangle 1 has left -5%, outside 0–100%',
		},
		{
			name: 'a rectangle right of the image',
			spec: rectangles(rect(40, 0, 10, 10)),
			message:
				'Rectangle 1 (left 40 px, top 0 px, width 10 px, height 10 px) lies outside the 40×30 image',
			description: /must overlap the image/,
		},
		{
			name: 'a rectangle above the image',
			spec: rectangles(rect(0, -20, 10, 10)),
			message: /^Rectangle 1 .* lies outside the 40×30 image$/,
		},
		{
			name: 'a rectangle at 100%',
			spec: rectangles(rect(100, 0, 10, 10, 'percent')),
			message: /lies outside the 40×30 image/,
		},
		{
			name: 'a missing number',
			spec: rectangles({ left: 1, top: Number.NaN, width: 1, height: 1, unit: 'px' }),
			message: 'Rectangle 1 has no valid top: null',
		},
		{
			name: 'an unknown unit',
			spec: rectangles({ left: 1, top: 1, width: 1, height: 1, unit: 'cm' as 'px' }),
			message: 'Rectangle 1 has unit "cm"',
		},
	])('rejects $name', async ({ spec, message, description }) => {
		await expectProblem(prepareMask(spec, IMAGE, {}), message, description);
	});

	it('rejects inverted rectangles that cover the whole image (nothing to repaint)', async () => {
		await expectProblem(
			prepareMask(rectangles(rect(-10, -10, 100, 100)), IMAGE, { invert: true }),
			'The rectangles cover the whole image, and with "Invert Mask" on only the part outside them is repainted: nothing would be repainted',
		);
	});
});

describe('prepareMask: mask files', () => {
	const square = inside(10, 5, 25, 20);

	it('passes a black-and-white PNG through unchanged', async () => {
		await expectPrepared({ kind: 'file', bytes: await bw(W, H, square) }, {}, square);
	});

	it('reads RGB PNG, lossless WebP, JPEG and 16-bit grey PNG masks', async () => {
		const rgb = await picture(W, H, 3, (x, y) => (square(x, y) ? [255, 255, 255] : [0, 0, 0]));
		await expectPrepared({ kind: 'file', bytes: rgb }, {}, square);
		const webp = await picture(
			W,
			H,
			3,
			(x, y) => (square(x, y) ? [255, 255, 255] : [0, 0, 0]),
			'webp',
		);
		await expectPrepared({ kind: 'file', bytes: webp }, {}, square);
		// JPEG artefacts around the edges are removed by the threshold.
		const jpeg = await picture(
			W,
			H,
			3,
			(x, y) => (square(x, y) ? [255, 255, 255] : [0, 0, 0]),
			'jpeg',
		);
		const decoded = await sharp(jpeg).greyscale().raw().toBuffer();
		expect(new Set(decoded).size).toBeGreaterThan(2);
		await expectPrepared({ kind: 'file', bytes: jpeg }, {}, square);
		const sixteen = await sharp(await bw(W, H, square))
			.toColourspace('grey16')
			.png()
			.toBuffer();
		expect(await sharp(sixteen).metadata()).toMatchObject({ depth: 'ushort', channels: 1 });
		await expectPrepared({ kind: 'file', bytes: sixteen }, {}, square);
	});

	it('inverts a mask that marks the part to repaint in black', async () => {
		await expectPrepared(
			{ kind: 'file', bytes: await bw(W, H, square) },
			{ invert: true },
			(x, y) => !square(x, y),
		);
	});

	it('binarises a grey, anti-aliased mask at the threshold (luminance ≥ threshold is white)', async () => {
		// A horizontal ramp: value = 6·x (0 … 234).
		const ramp = await picture(W, H, 1, (x) => [6 * x]);
		await expectPrepared({ kind: 'file', bytes: ramp }, {}, (x) => 6 * x >= 128); // x ≥ 22
		await expectPrepared({ kind: 'file', bytes: ramp }, { threshold: 60 }, (x) => x >= 10);
		await expectPrepared({ kind: 'file', bytes: ramp }, { threshold: 234 }, (x) => x === 39);
		await expectPrepared({ kind: 'file', bytes: ramp }, { threshold: 0 }, () => true);
	});

	it('binarises a blurred (anti-aliased) shape back to a hard edge', async () => {
		const blurred = await sharp(await bw(W, H, square))
			.blur(1.5)
			.toBuffer();
		const greys = await sharp(blurred).greyscale().raw().toBuffer();
		expect(new Set(greys).size).toBeGreaterThan(10);
		// A symmetric blur of a straight edge crosses 128 on the edge itself, so the sides come
		// back exactly; only the four corner pixels, blurred from one side more, fall below.
		const corner = (x: number, y: number) => (x === 10 || x === 24) && (y === 5 || y === 19);
		await expectPrepared(
			{ kind: 'file', bytes: blurred },
			{},
			(x, y) => square(x, y) && !corner(x, y),
		);
	});

	it('binarises a coloured mask by luminance (sRGB → grey as libvips does it)', async () => {
		// Vertical stripes of 4 px: red (grey 127), green (220), blue (76), yellow (247), white, black.
		const colours = [
			[255, 0, 0],
			[0, 255, 0],
			[0, 0, 255],
			[255, 255, 0],
			[255, 255, 255],
			[0, 0, 0],
		];
		const stripe = (x: number) => Math.floor(x / 4) % colours.length;
		const mask = await picture(W, H, 3, (x) => colours[stripe(x)]);
		await expectPrepared({ kind: 'file', bytes: mask }, {}, (x) => [1, 3, 4].includes(stripe(x)));
		await expectPrepared({ kind: 'file', bytes: mask }, { threshold: 127 }, (x) =>
			[0, 1, 3, 4].includes(stripe(x)),
		);
		await expectPrepared({ kind: 'file', bytes: mask }, { threshold: 70 }, (x) => stripe(x) !== 5);
	});

	it('counts transparent parts of a mask as black (white strokes on a transparent layer)', async () => {
		// White everywhere, but only opaque inside the square: the rest is "unpainted".
		const layer = await picture(W, H, 4, (x, y) => [255, 255, 255, square(x, y) ? 255 : 0]);
		await expectPrepared({ kind: 'file', bytes: layer }, {}, square);
	});

	it('stretches a 20×15 mask to 40×30 with fit "stretch" (nearest neighbour: each pixel becomes 2×2)', async () => {
		const small = await bw(
			20,
			15,
			(x, y) => inside(5, 4, 10, 9)(x, y) || (x === 0 && y === 0) || (x === 19 && y === 14),
		);
		await expectPrepared(
			{ kind: 'file', bytes: small },
			{ fit: 'stretch' },
			(x, y) =>
				inside(10, 8, 20, 18)(x, y) || inside(0, 0, 2, 2)(x, y) || inside(38, 28, 40, 30)(x, y),
		);
	});

	it('shrinks an 80×60 mask to 40×30 with fit "stretch", thresholding after the resize', async () => {
		// 2×2 blocks of grey 200 (white at 128) and 100 (black): every sample of a block agrees.
		const big = await picture(80, 60, 1, (x, y) => [
			square(Math.floor(x / 2), Math.floor(y / 2)) ? 200 : 100,
		]);
		await expectPrepared({ kind: 'file', bytes: big }, { fit: 'stretch' }, square);
	});

	it('stretches to a different aspect ratio', async () => {
		// 40×10 with the left half white → 40×30 with the left half white.
		await expectPrepared(
			{ kind: 'file', bytes: await bw(40, 10, (x) => x < 20) },
			{ fit: 'stretch' },
			(x) => x < 20,
		);
	});

	it('rejects a mask of another size unless fit is "stretch"', async () => {
		const small = await bw(20, 15, square);
		const problem = await expectProblem(
			prepareMask({ kind: 'file', bytes: small }, IMAGE, {}),
			'The mask is 20×15 pixels but the image is 40×30',
			/Turn on "Fit Mask to Image"/,
		);
		expect(problem.name).toBe('InputProblem');
		await expectProblem(
			prepareMask({ kind: 'file', bytes: small }, IMAGE, { fit: 'none' }),
			/20×15/,
		);
	});

	it('rejects an all-black mask, naming the brightest pixel when it is grey', async () => {
		await expectProblem(
			prepareMask({ kind: 'file', bytes: await bw(W, H, () => false) }, IMAGE, {}),
			'The mask is entirely black, so nothing would be repainted',
			/turn on "Invert Mask".*charge/,
		);
		const dim = await picture(W, H, 1, (x) => [x < 10 ? 100 : 0]);
		await expectProblem(
			prepareMask({ kind: 'file', bytes: dim }, IMAGE, {}),
			'The mask is all black after "Mask Threshold" (128): its brightest pixel is 100, so nothing would be repainted',
			/Lower "Mask Threshold" to 100 or less/,
		);
		await expectProblem(
			prepareMask({ kind: 'file', bytes: await bw(W, H, () => true) }, IMAGE, { invert: true }),
			/^The mask is all black after "Invert Mask"/,
		);
	});

	it('allows an all-white mask (repaint everything)', async () => {
		const result = await expectPrepared(
			{ kind: 'file', bytes: await bw(W, H, () => true) },
			{},
			() => true,
		);
		expect(result.whitePixels).toBe(W * H);
	});

	it('rejects files that are not PNG, JPEG or WebP, or cannot be decoded', async () => {
		const gif = await picture(W, H, 3, () => [255, 255, 255], 'gif');
		await expectProblem(
			prepareMask({ kind: 'file', bytes: gif }, IMAGE, {}),
			'The mask cannot be used: it is a GIF file, not PNG, JPEG or WebP',
		);
		await expectProblem(
			prepareMask({ kind: 'file', bytes: Buffer.from('not an image') }, IMAGE, {}),
			/^The mask cannot be used: /,
		);
		await expectProblem(
			prepareMask({ kind: 'file', bytes: Buffer.alloc(0) }, IMAGE, {}),
			'The mask cannot be used: the file is empty (0 bytes)',
		);
		const png = await bw(W, H, square);
		await expectProblem(
			prepareMask({ kind: 'file', bytes: png.subarray(0, png.length - 30) }, IMAGE, {}),
			/^The mask file cannot be decoded: /,
			/damaged/,
		);
	});
});

describe('prepareMask: grow', () => {
	it('turns a single white pixel into a (2N+1)² square', async () => {
		const dot = await bw(W, H, (x, y) => x === 20 && y === 15);
		for (const n of [1, 3, 8]) {
			const result = await expectPrepared(
				{ kind: 'file', bytes: dot },
				{ grow: n },
				inside(20 - n, 15 - n, 21 + n, 16 + n),
			);
			expect(result.whitePixels).toBe((2 * n + 1) ** 2);
		}
	});

	it('clips the grown square at the image edges', async () => {
		const corners = await bw(W, H, (x, y) => (x === 1 && y === 1) || (x === 39 && y === 29));
		await expectPrepared(
			{ kind: 'file', bytes: corners },
			{ grow: 3 },
			(x, y) => inside(0, 0, 5, 5)(x, y) || inside(36, 26, 40, 30)(x, y),
		);
	});

	it('grows rectangles and inverted masks (always the repainted part)', async () => {
		await expectPrepared(rectangles(rect(10, 10, 5, 5)), { grow: 2 }, inside(8, 8, 17, 17));
		// Inverted: the black square [10,25)×[5,20) is kept, the white outside grows into it by 2.
		const square = inside(10, 5, 25, 20);
		await expectPrepared(
			{ kind: 'file', bytes: await bw(W, H, square) },
			{ invert: true, grow: 2 },
			(x, y) => !inside(12, 7, 23, 18)(x, y),
		);
	});

	it('may grow the mask to the whole image', async () => {
		const result = await expectPrepared(rectangles(rect(0, 0, 1, 1)), { grow: 1000 }, () => true);
		expect(result.whitePixels).toBe(W * H);
	});

	it('equals a brute-force square max filter on random masks', () => {
		let seed = 12345;
		const random = () => {
			seed = (seed * 1103515245 + 12345) & 0x7fffffff;
			return seed / 0x7fffffff;
		};
		for (const [width, height, density, radius] of [
			[37, 23, 0.01, 1],
			[37, 23, 0.02, 4],
			[64, 9, 0.05, 2],
			[5, 50, 0.03, 3],
			[30, 30, 0.001, 40],
		]) {
			const plane = new Uint8Array(width * height).map(() => (random() < density ? 255 : 0));
			const expected = new Uint8Array(plane.length);
			for (let y = 0; y < height; y++) {
				for (let x = 0; x < width; x++) {
					let hit = false;
					for (let dy = -radius; dy <= radius && !hit; dy++) {
						for (let dx = -radius; dx <= radius && !hit; dx++) {
							const u = x + dx;
							const v = y + dy;
							hit = u >= 0 && u < width && v >= 0 && v < height && plane[v * width + u] === 255;
						}
					}
					expected[y * width + x] = hit ? 255 : 0;
				}
			}
			const white = dilateSquare(plane, width, height, radius);
			expect(Buffer.from(plane).equals(Buffer.from(expected))).toBe(true);
			expect(white).toBe(expected.filter((v) => v === 255).length);
		}
	});
});

describe('prepareMask: options and output', () => {
	const spec = rectangles(rect(5, 5, 5, 5));

	it.each<[MaskOptions, RegExp]>([
		[{ threshold: 300 }, /^"Mask Threshold" is 300, but it must be a number from 0 to 255/],
		[{ threshold: -1 }, /^"Mask Threshold" is -1/],
		[{ threshold: Number.NaN }, /^"Mask Threshold" is NaN/],
		[
			{ grow: -1 },
			/^"Grow Mask \(Pixels\)" is -1, but it must be a whole number of pixels, 0 or more/,
		],
		[{ grow: 1.5 }, /^"Grow Mask \(Pixels\)" is 1.5/],
		[
			{ fit: 'cover' as 'none' },
			/^"Fit Mask to Image" is "cover", but it must be "none" or "stretch"/,
		],
	])('rejects option %p', async (options, message) => {
		await expectProblem(prepareMask(spec, IMAGE, options), message);
	});

	it('rejects an invalid image size as a programming error', async () => {
		await expect(prepareMask(spec, { width: 0, height: 10 }, {})).rejects.toThrow(/whole pixels/);
		await expect(prepareMask(spec, { width: 10.5, height: 10 }, {})).rejects.not.toBeInstanceOf(
			InputProblem,
		);
	});

	it('returns an 8-bit single-channel PNG of the image size for every source', async () => {
		const image = await picture(64, 48, 4, (x) => [1, 2, 3, x < 8 ? 0 : 255]);
		const size = { width: 64, height: 48 };
		for (const maskSpec of [
			rectangles(rect(1, 1, 2, 2)),
			{ kind: 'alpha', image } as const,
			{ kind: 'file', bytes: await bw(32, 24, (x) => x < 4) } as const,
		]) {
			const result = await prepareMask(maskSpec, size, { fit: 'stretch' });
			expect(result.size).toEqual(size);
			await decodeMask(result.png, size);
		}
	});
});

describe('loading sharp', () => {
	it('loads the node without sharp, and names the problem when a mask is prepared', async () => {
		let prepare: typeof prepareMask | undefined;
		jest.isolateModules(() => {
			jest.doMock('sharp', () => {
				throw new Error(
					'Could not load the "sharp" module using the linux-x64 runtime\nPossible solutions: …',
				);
			});
			// Importing the library (as the node does at start-up) must not need sharp.
			prepare = (
				jest.requireActual(
					'../../nodes/FluxProFill/masks',
				) as typeof import('../../nodes/FluxProFill/masks')
			).prepareMask;
		});
		expect(prepare).toBeDefined();
		// Rectangles are validated before sharp is needed …
		const error: unknown = await prepare!(rectangles(), IMAGE, {}).catch((e: unknown) => e);
		expect((error as Error).message).toBe('No rectangles to repaint were given');
		// … and encoding the PNG needs it.
		const failure: unknown = await prepare!(rectangles(rect(1, 1, 2, 2)), IMAGE, {}).catch(
			(e: unknown) => e,
		);
		expect(failure).toMatchObject({
			name: 'MaskLibraryUnavailable',
			message: expect.stringMatching(
				/^Cannot prepare the mask: the image library "sharp" could not be loaded on this n8n server \(\w+-\w+, Node v[\d.]+\): Could not load the "sharp" module using the linux-x64 runtime$/,
			),
			description: expect.stringContaining('reinstall the community node'),
		});
		jest.dontMock('sharp');
	});
});

describe('prepareMask: 4 MP measurement', () => {
	it('prepares the mask of a 2048×2048 image with threshold and grow 8 (reported, not asserted tightly)', async () => {
		const size = { width: 2048, height: 2048 };
		// An anti-aliased grey mask: a blurred white disc and a grey (160) rectangle on black.
		const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="2048" height="2048"><rect width="2048" height="2048" fill="black"/><circle cx="900" cy="1000" r="500" fill="white"/><rect x="1500" y="200" width="400" height="300" fill="rgb(160,160,160)"/></svg>`;
		const file = await sharp(Buffer.from(svg))
			.removeAlpha()
			.blur(3)
			.greyscale()
			.toColourspace('b-w')
			.png()
			.toBuffer();
		expect(await sharp(file).metadata()).toMatchObject({ channels: 1, width: 2048 });
		const alphaImage = await sharp({
			create: {
				width: 2048,
				height: 2048,
				channels: 4,
				background: { r: 40, g: 90, b: 160, alpha: 1 },
			},
		})
			.composite([
				{ input: Buffer.from(svg.replace('fill="black"', 'fill="none"')), blend: 'dest-out' },
			])
			.png()
			.toBuffer();
		const cases: Array<[string, MaskSpec]> = [
			['file (1-channel grey PNG)', { kind: 'file', bytes: file }],
			['alpha (RGBA PNG)', { kind: 'alpha', image: alphaImage }],
			['rectangles', rectangles(rect(10, 10, 30, 40, 'percent'), rect(1200, 100, 500, 800))],
		];
		await prepareMask(cases[2][1], size, {}); // load sharp and warm up once
		const lines: string[] = [];
		for (const [name, maskSpec] of cases) {
			const rssBefore = process.memoryUsage().rss;
			const started = process.hrtime.bigint();
			const result = await prepareMask(maskSpec, size, { threshold: 128, grow: 8 });
			const ms = Number(process.hrtime.bigint() - started) / 1e6;
			const rssDelta = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
			expect(result.size).toEqual(size);
			expect(result.whitePixels).toBeGreaterThan(0);
			expect(ms).toBeLessThan(5000);
			lines.push(
				`${name.padEnd(26)} ${ms.toFixed(0).padStart(5)} ms, RSS +${rssDelta.toFixed(1)} MiB, PNG ${(result.png.length / 1024).toFixed(1)} KiB, ${result.whitePixels} white px`,
			);
		}
		console.log(`4 MP (2048×2048) mask, threshold 128, grow 8:\n${lines.join('\n')}`);
	});
});
