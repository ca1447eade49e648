import sharp from 'sharp';

import {
	masks as words,
	pictures as pictureWords,
} from '../../../nodes/FluxProFill/common/messages';
import {
	prepareMask,
	type MaskOptions,
	type MaskSpec,
	type Rectangle,
	type Size,
} from '../../../nodes/FluxProFill/pictures/masks';
import { expectProblem, problemOf } from '../kit';
import { bw, expectMask, inside, picture, type Predicate } from './pixels';

const W = 40;
const H = 30;
const IMAGE: Size = { width: W, height: H };
const DEFAULTS: MaskOptions = { invert: false, fit: false, threshold: 128, grow: 0 };
const options = (changes: Partial<MaskOptions> = {}): MaskOptions => ({ ...DEFAULTS, ...changes });

/** prepareMask, and the mask it made compared pixel by pixel. */
async function expectPrepared(
	spec: MaskSpec,
	changes: Partial<MaskOptions>,
	white: Predicate,
	size: Size = IMAGE,
) {
	await expectMask(await prepareMask(spec, size, options(changes)), size, white);
}

const rect = (
	left: number,
	top: number,
	width: number,
	height: number,
	unit: Rectangle['unit'] = 'px',
): Rectangle => ({ left, top, width, height, unit });
const rectangles = (...list: Rectangle[]): MaskSpec => ({ kind: 'rectangles', rectangles: list });

describe('prepareMask: mask files', () => {
	const square = inside(10, 5, 25, 20);
	const squareColours = (x: number, y: number) => (square(x, y) ? [255, 255, 255] : [0, 0, 0]);

	it('passes a black-and-white PNG through unchanged', async () => {
		await expectPrepared({ kind: 'file', bytes: await bw(W, H, square) }, {}, square);
	});

	it('reads RGB PNG, lossless WebP, JPEG and 16-bit grey PNG masks', async () => {
		for (const format of ['png', 'webp', 'jpeg'] as const) {
			const bytes = await picture(W, H, 3, squareColours, format);
			await expectPrepared({ kind: 'file', bytes }, {}, square);
		}
		const sixteen = await sharp(await bw(W, H, square))
			.toColourspace('grey16')
			.png()
			.toBuffer();
		expect(await sharp(sixteen).metadata()).toMatchObject({ depth: 'ushort' });
		await expectPrepared({ kind: 'file', bytes: sixteen }, {}, square);
	});

	it('with invert, repaints what the mask marks black', async () => {
		await expectPrepared(
			{ kind: 'file', bytes: await bw(W, H, square) },
			{ invert: true },
			(x, y) => !square(x, y),
		);
	});

	it('binarises a grey mask at the threshold: luminance at or above it is repainted', async () => {
		// A horizontal ramp: value = 6·x (0 … 234).
		const ramp = await picture(W, H, 1, (x) => [6 * x]);
		await expectPrepared({ kind: 'file', bytes: ramp }, {}, (x) => 6 * x >= 128);
		await expectPrepared({ kind: 'file', bytes: ramp }, { threshold: 60 }, (x) => x >= 10);
		await expectPrepared({ kind: 'file', bytes: ramp }, { threshold: 234 }, (x) => x === 39);
		await expectPrepared({ kind: 'file', bytes: ramp }, { threshold: 0 }, () => true);
	});

	it('binarises a blurred (anti-aliased) shape back to a hard edge', async () => {
		const blurred = await sharp(await bw(W, H, square))
			.blur(1.5)
			.toBuffer();
		expect(new Set(await sharp(blurred).greyscale().raw().toBuffer()).size).toBeGreaterThan(10);
		// A symmetric blur crosses 128 on a straight edge, so the sides come back exactly;
		// only the four corner pixels, blurred from two sides, fall below.
		const corner = (x: number, y: number) => (x === 10 || x === 24) && (y === 5 || y === 19);
		await expectPrepared(
			{ kind: 'file', bytes: blurred },
			{},
			(x, y) => square(x, y) && !corner(x, y),
		);
	});

	it('binarises a coloured mask by its luminance', async () => {
		// Stripes of 4 px: red (grey 127), green (220), blue (76), yellow (247), white, black.
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
	});

	it('takes transparent parts of a mask as black: white strokes on a transparent layer', async () => {
		const layer = await picture(W, H, 4, (x, y) => [255, 255, 255, square(x, y) ? 255 : 0]);
		await expectPrepared({ kind: 'file', bytes: layer }, {}, square);
	});

	it('refuses a mask of another size, naming both sizes', async () => {
		const small = await bw(20, 15, square);
		await expectProblem(
			prepareMask({ kind: 'file', bytes: small }, IMAGE, options()),
			pictureWords.sizesDiffer({ width: 20, height: 15 }, IMAGE),
		);
	});

	it('with fit, stretches a smaller mask to the image (nearest neighbour: each pixel 2×2)', async () => {
		const small = await bw(
			20,
			15,
			(x, y) => inside(5, 4, 10, 9)(x, y) || (x === 0 && y === 0) || (x === 19 && y === 14),
		);
		await expectPrepared(
			{ kind: 'file', bytes: small },
			{ fit: true },
			(x, y) =>
				inside(10, 8, 20, 18)(x, y) || inside(0, 0, 2, 2)(x, y) || inside(38, 28, 40, 30)(x, y),
		);
	});

	it('with fit, shrinks a larger mask, thresholding after the resize', async () => {
		// 2×2 blocks of grey 200 (white at 128) and 100 (black): every sample of a block agrees.
		const big = await picture(80, 60, 1, (x, y) => [
			square(Math.floor(x / 2), Math.floor(y / 2)) ? 200 : 100,
		]);
		await expectPrepared({ kind: 'file', bytes: big }, { fit: true }, square);
		// Another aspect ratio: 40×10, its left half white, becomes 40×30 with the left half white.
		const wide = await bw(40, 10, (x) => x < 20);
		await expectPrepared({ kind: 'file', bytes: wide }, { fit: true }, (x) => x < 20);
	});

	it('turns a sideways mask upright, as the image is', async () => {
		// Stored 30×40 with EXIF orientation 6: shown 40×30, the stored top rows on the right.
		const stored = await sharp(await bw(30, 40, (_x, y) => y < 10))
			.withMetadata({ orientation: 6 })
			.jpeg({ quality: 100 })
			.toBuffer();
		await expectPrepared({ kind: 'file', bytes: stored }, {}, (x) => x >= 30);
	});

	it('refuses an all-black mask, saying what would help', async () => {
		await expectProblem(
			prepareMask({ kind: 'file', bytes: await bw(W, H, () => false) }, IMAGE, options()),
			words.nothingToRepaint('file', { min: 0, max: 0 }, DEFAULTS),
		);
		// A grey one, all below the threshold: the brightest pixel is named.
		const dim = await picture(W, H, 1, (x) => [x < 10 ? 100 : 0]);
		await expectProblem(
			prepareMask({ kind: 'file', bytes: dim }, IMAGE, options()),
			words.nothingToRepaint('file', { min: 0, max: 100 }, DEFAULTS),
		);
		// All white, inverted.
		await expectProblem(
			prepareMask(
				{ kind: 'file', bytes: await bw(W, H, () => true) },
				IMAGE,
				options({ invert: true }),
			),
			words.nothingToRepaint('file', { min: 255, max: 255 }, options({ invert: true })),
		);
	});

	it('allows an all-white mask: repaint everything', async () => {
		await expectPrepared({ kind: 'file', bytes: await bw(W, H, () => true) }, {}, () => true);
	});

	it('refuses files that are not PNG, JPEG or WebP, or cannot be decoded', async () => {
		const gif = await picture(W, H, 3, () => [255, 255, 255], 'gif');
		for (const bytes of [gif, Buffer.from('not an image'), Buffer.alloc(0)])
			await problemOf(prepareMask({ kind: 'file', bytes }, IMAGE, options()));
		const png = await bw(W, H, square);
		const cut = await problemOf(
			prepareMask({ kind: 'file', bytes: png.subarray(0, png.length - 30) }, IMAGE, options()),
		);
		expect(cut.message.startsWith(pictureWords.undecodable('mask', '').message)).toBe(true);
	});
});

describe('prepareMask: segmentation (Describe It)', () => {
	const found = inside(4, 4, 12, 10);

	it("takes fal's mask, stretched to the image when its size differs", async () => {
		const mask = await bw(20, 15, found);
		await expectPrepared(
			{ kind: 'segmentation', bytes: mask, words: 'the sky' },
			{},
			inside(8, 8, 24, 20),
		);
	});

	it('says fal found nothing when its mask is black, naming the words', async () => {
		const empty = await bw(W, H, () => false);
		await expectProblem(
			prepareMask(
				{ kind: 'segmentation', bytes: empty, words: 'the sky', negative: 'the tree' },
				IMAGE,
				options(),
			),
			words.nothingFound('the sky', 'the tree'),
		);
	});
});

describe('prepareMask: alpha (image transparency)', () => {
	// Opaque red with a transparent hole [10,20)×[5,15), and semi-transparent columns beside
	// it: alpha 127 at x = 9 (below 128: repainted), 128 at x = 20 (kept).
	const holeAlpha = (x: number, y: number) => {
		if (y >= 5 && y < 15) {
			if (x >= 10 && x < 20) return 0;
			if (x === 9) return 127;
			if (x === 20) return 128;
		}
		return 255;
	};
	const hole = (x: number, y: number) => y >= 5 && y < 15 && x >= 9 && x < 20;
	const rgba = (format: 'png' | 'webp' = 'png') =>
		picture(W, H, 4, (x, y) => [200, 30, 30, holeAlpha(x, y)], format);

	it.each(['png', 'webp'] as const)(
		'repaints the transparent hole of an RGBA %s and keeps the opaque rest',
		async (format) => {
			await expectPrepared({ kind: 'alpha', image: await rgba(format) }, {}, hole);
		},
	);

	it('repaints alpha below the threshold', async () => {
		const image = await rgba();
		await expectPrepared(
			{ kind: 'alpha', image },
			{ threshold: 129 },
			(x, y) => hole(x, y) || (x === 20 && y >= 5 && y < 15),
		);
		await expectPrepared({ kind: 'alpha', image }, { threshold: 1 }, inside(10, 5, 20, 15));
	});

	it('reads grey+alpha, palette and 16-bit PNGs', async () => {
		const greyAlpha = await picture(W, H, 2, (x, y) => [90, holeAlpha(x, y)]);
		await expectPrepared({ kind: 'alpha', image: greyAlpha }, {}, hole);
		const palette = await sharp(await rgba())
			.png({ palette: true })
			.toBuffer();
		expect(await sharp(palette).metadata()).toMatchObject({ isPalette: true, hasAlpha: true });
		await expectPrepared({ kind: 'alpha', image: palette }, {}, hole);
		const sixteen = await sharp(await rgba())
			.toColourspace('rgb16')
			.png()
			.toBuffer();
		await expectPrepared({ kind: 'alpha', image: sixteen }, {}, hole);
	});

	it('with invert, repaints the opaque part', async () => {
		await expectPrepared(
			{ kind: 'alpha', image: await rgba() },
			{ invert: true },
			(x, y) => !hole(x, y),
		);
	});

	it('refuses a JPEG and a PNG without alpha, naming the format', async () => {
		const jpeg = await picture(W, H, 3, () => [10, 20, 30], 'jpeg');
		await expectProblem(
			prepareMask({ kind: 'alpha', image: jpeg }, IMAGE, options()),
			pictureWords.noAlpha('JPEG'),
		);
		const png = await picture(W, H, 3, () => [10, 20, 30]);
		await expectProblem(
			prepareMask({ kind: 'alpha', image: png }, IMAGE, options()),
			pictureWords.noAlpha('PNG'),
		);
	});

	it('refuses an opaque image, and one not transparent enough, with what would help', async () => {
		const opaque = await picture(W, H, 4, () => [10, 20, 30, 255]);
		await expectProblem(
			prepareMask({ kind: 'alpha', image: opaque }, IMAGE, options()),
			words.nothingToRepaint('alpha', { min: 255, max: 255 }, DEFAULTS),
		);
		const faint = await picture(W, H, 4, (x) => [10, 20, 30, x < 5 ? 200 : 255]);
		await expectProblem(
			prepareMask({ kind: 'alpha', image: faint }, IMAGE, options()),
			words.nothingToRepaint('alpha', { min: 200, max: 255 }, DEFAULTS),
		);
		const clear = await picture(W, H, 4, () => [0, 0, 0, 0]);
		await expectProblem(
			prepareMask({ kind: 'alpha', image: clear }, IMAGE, options({ invert: true })),
			words.nothingToRepaint('alpha', { min: 0, max: 0 }, options({ invert: true })),
		);
	});

	it('repaints everything of a fully transparent image', async () => {
		const clear = await picture(W, H, 4, () => [0, 0, 0, 0]);
		await expectPrepared({ kind: 'alpha', image: clear }, {}, () => true);
	});
});

describe('prepareMask: rectangles', () => {
	it('paints a rectangle in pixels with exact edges, and the union of several', async () => {
		await expectPrepared(rectangles(rect(5, 3, 10, 4)), {}, inside(5, 3, 15, 7));
		await expectPrepared(
			rectangles(rect(2, 2, 6, 6), rect(5, 5, 6, 6), rect(30, 20, 1, 1)),
			{},
			(x, y) => inside(2, 2, 8, 8)(x, y) || inside(5, 5, 11, 11)(x, y) || (x === 30 && y === 20),
		);
	});

	it('cuts off the parts outside the image', async () => {
		await expectPrepared(
			rectangles(rect(-5, -5, 10, 8), rect(35, 25, 20, 20), rect(-1, 10, 100, 1)),
			{},
			(x, y) => inside(0, 0, 5, 3)(x, y) || inside(35, 25, 40, 30)(x, y) || y === 10,
		);
	});

	it('rounds edges, not widths', async () => {
		// left 2.4 → 2, right 2.4 + 5.2 = 7.6 → 8; top 1.5 → 2, bottom 2.5 → 3
		await expectPrepared(rectangles(rect(2.4, 1.5, 5.2, 1)), {}, inside(2, 2, 8, 3));
	});

	it('takes percent of the image width and height', async () => {
		// 40×30: left 25% = 10, width 50% = 20; top 10% = 3, height 20% = 6
		await expectPrepared(rectangles(rect(25, 10, 50, 20, 'percent')), {}, inside(10, 3, 30, 9));
		await expectPrepared(rectangles(rect(0, 0, 100, 100, 'percent')), {}, () => true);
		await expectPrepared(rectangles(rect(90, 90, 20, 20, 'percent')), {}, inside(36, 27, 40, 30));
	});

	it('rectangles that touch in percent neither overlap nor leave a gap', async () => {
		// 33.3% of 40 = 13.32 → 13; 66.6% of 40 = 26.64 → 27; 50% of 30 = 15
		await expectPrepared(
			rectangles(rect(0, 0, 33.3, 50, 'percent'), rect(33.3, 0, 33.3, 50, 'percent')),
			{},
			inside(0, 0, 27, 15),
		);
	});

	it('gives a rectangle narrower than a pixel one pixel', async () => {
		await expectPrepared(
			rectangles(rect(50, 50, 0.1, 0.1, 'percent')),
			{},
			(x, y) => x === 20 && y === 15,
		);
	});

	it('with invert, repaints everything outside the rectangles; threshold and fit do nothing', async () => {
		await expectPrepared(
			rectangles(rect(5, 3, 10, 4)),
			{ invert: true },
			(x, y) => !inside(5, 3, 15, 7)(x, y),
		);
		await expectPrepared(
			rectangles(rect(5, 3, 10, 4)),
			{ threshold: 255, fit: true },
			inside(5, 3, 15, 7),
		);
	});

	it('refuses an empty list, and a rectangle wholly outside the image, naming it', async () => {
		await expectProblem(prepareMask(rectangles(), IMAGE, options()), words.noRectangles());
		for (const [outside, described] of [
			[rect(40, 0, 10, 10), 'left 40 px, top 0 px, width 10 px, height 10 px'],
			[rect(100, 0, 10, 10, 'percent'), 'left 100%, top 0%, width 10%, height 10%'],
		] as const)
			await expectProblem(
				prepareMask(rectangles(rect(1, 1, 2, 2), outside), IMAGE, options()),
				words.rectangleOutside(2, described, IMAGE),
			);
		await problemOf(prepareMask(rectangles(rect(0, -20, 10, 10)), IMAGE, options()));
	});

	it('refuses inverted rectangles that cover the whole image', async () => {
		const whole = rectangles(rect(-10, -10, 100, 100));
		await expectProblem(
			prepareMask(whole, IMAGE, options({ invert: true })),
			words.nothingToRepaint('rectangles', { min: 255, max: 255 }, options({ invert: true })),
		);
	});
});

describe('prepareMask: grow', () => {
	it('turns a single white pixel into a (2N+1)² square', async () => {
		const dot = await bw(W, H, (x, y) => x === 20 && y === 15);
		for (const n of [1, 3, 8])
			await expectPrepared(
				{ kind: 'file', bytes: dot },
				{ grow: n },
				inside(20 - n, 15 - n, 21 + n, 16 + n),
			);
	});

	it('stops at the image edges', async () => {
		const corners = await bw(W, H, (x, y) => (x === 1 && y === 1) || (x === 39 && y === 29));
		await expectPrepared(
			{ kind: 'file', bytes: corners },
			{ grow: 3 },
			(x, y) => inside(0, 0, 5, 5)(x, y) || inside(36, 26, 40, 30)(x, y),
		);
	});

	it('grows what is repainted: rectangles, and the outside of an inverted mask', async () => {
		await expectPrepared(rectangles(rect(10, 10, 5, 5)), { grow: 2 }, inside(8, 8, 17, 17));
		const square = inside(10, 5, 25, 20);
		await expectPrepared(
			{ kind: 'file', bytes: await bw(W, H, square) },
			{ invert: true, grow: 2 },
			(x, y) => !inside(12, 7, 23, 18)(x, y),
		);
	});

	it('may grow the mask to the whole image', async () => {
		await expectPrepared(rectangles(rect(0, 0, 1, 1)), { grow: 4096 }, () => true);
	});
});

describe('prepareMask: the PNG fal gets', () => {
	it('is an 8-bit one-channel PNG of the image size for every source', async () => {
		const size = { width: 64, height: 48 };
		const image = await picture(64, 48, 4, (x) => [1, 2, 3, x < 8 ? 0 : 255]);
		const specs: MaskSpec[] = [
			rectangles(rect(1, 1, 2, 2)),
			{ kind: 'alpha', image },
			{ kind: 'file', bytes: await bw(32, 24, (x) => x < 4) },
			{ kind: 'segmentation', bytes: await bw(16, 12, (x) => x < 2), words: 'the left' },
		];
		for (const spec of specs)
			await expectMask(await prepareMask(spec, size, options({ fit: true })), size, (x, y) =>
				spec.kind === 'rectangles' ? inside(1, 1, 3, 3)(x, y) : x < 8,
			);
	});
});
