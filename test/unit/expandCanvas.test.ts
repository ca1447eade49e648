import sharp from 'sharp';

import { InputProblem } from '../../nodes/FluxProFill/errors/InputProblem';
import { MAX_INPUT_PIXELS, MAX_INPUT_SIDE } from '../../nodes/FluxProFill/images/pictures';
import {
	EXPAND_ANCHORS,
	EXPAND_ASPECT_RATIOS,
	EXPAND_DEFAULTS,
	EXPAND_LIMITS,
	type Anchor,
} from '../../nodes/FluxProFill/helpers/spec';
import {
	describeExpansion,
	expandCanvas,
	parseAspectRatio,
	planExpansion,
	type ExpandSizing,
	type ExpansionPlan,
	type Sides,
} from '../../nodes/FluxProFill/masks/expandCanvas';
import type { Size } from '../../nodes/FluxProFill/masks/types';
import { makeTestImage, readPixels } from '../emulator/images';

const size = (width: number, height: number): Size => ({ width, height });
const px = (top: number, right: number, bottom: number, left: number): ExpandSizing => ({
	mode: 'pixels',
	top,
	right,
	bottom,
	left,
});
const pct = (top: number, right: number, bottom: number, left: number): ExpandSizing => ({
	mode: 'percent',
	top,
	right,
	bottom,
	left,
});
const ratio = (text: string, anchor: Anchor = 'center'): ExpandSizing => ({
	mode: 'aspectRatio',
	ratio: text,
	anchor,
});
const sides = (top: number, right: number, bottom: number, left: number): Sides => ({
	top,
	right,
	bottom,
	left,
});

function problem(run: () => unknown): InputProblem {
	let error: unknown;
	try {
		run();
	} catch (e) {
		error = e;
	}
	expect(error).toBeInstanceOf(InputProblem);
	return error as InputProblem;
}

async function asyncProblem(promise: Promise<unknown>): Promise<InputProblem> {
	const error: unknown = await promise.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(InputProblem);
	return error as InputProblem;
}

describe('constants', () => {
	it('offers the agreed ratios and anchors, and defaults inside the limits', () => {
		expect([...EXPAND_ASPECT_RATIOS]).toEqual([
			'16:9',
			'3:2',
			'4:3',
			'1:1',
			'3:4',
			'2:3',
			'9:16',
			'21:9',
		]);
		expect(EXPAND_ANCHORS).toHaveLength(9);
		expect(EXPAND_ASPECT_RATIOS).toContain(EXPAND_DEFAULTS.aspectRatio);
		expect(EXPAND_ANCHORS).toContain(EXPAND_DEFAULTS.anchor);
		expect(EXPAND_DEFAULTS.overlap).toBe(16);
		expect(EXPAND_DEFAULTS.overlap).toBeLessThanOrEqual(EXPAND_LIMITS.overlap.max);
		// Every offered ratio parses and, on a square, grows exactly one side.
		for (const text of EXPAND_ASPECT_RATIOS) {
			if (text === '1:1') continue;
			const plan = planExpansion(size(1000, 1000), ratio(text), 0);
			expect(plan.canvas.width === 1000 || plan.canvas.height === 1000).toBe(true);
			expect(plan.canvas.width / plan.canvas.height).toBeCloseTo(parseAspectRatio(text), 2);
		}
	});
});

describe('planExpansion: pixels', () => {
	it('adds the given pixels on each side; the original goes at (left, top)', () => {
		const plan = planExpansion(size(100, 50), px(10, 20, 0, 5), 0);
		expect(plan).toEqual<ExpansionPlan>({
			original: size(100, 50),
			canvas: size(125, 60),
			offset: { left: 5, top: 10 },
			added: sides(10, 20, 0, 5),
			overlap: 0,
			overlapBySide: sides(0, 0, 0, 0),
		});
	});

	it('rounds each side to whole pixels', () => {
		const plan = planExpansion(size(100, 50), px(2.4, 2.5, 0.4, 7.6), 0);
		expect(plan.added).toEqual(sides(2, 3, 0, 8));
		expect(plan.canvas).toEqual(size(111, 52));
		expect(plan.offset).toEqual({ left: 8, top: 2 });
	});
});

describe('planExpansion: percent', () => {
	it('takes left and right of the width, top and bottom of the height', () => {
		// 200×50: top 10% of 50 = 5, right 25% of 200 = 50, bottom 3% of 50 = 1.5 → 2, left 10% = 20
		const plan = planExpansion(size(200, 50), pct(10, 25, 3, 10), 0);
		expect(plan.added).toEqual(sides(5, 50, 2, 20));
		expect(plan.canvas).toEqual(size(270, 57));
		expect(plan.offset).toEqual({ left: 20, top: 5 });
	});

	it(`allows up to ${EXPAND_LIMITS.percent.max}% a side and refuses more`, () => {
		expect(planExpansion(size(100, 100), pct(0, 400, 0, 0), 0).canvas).toEqual(size(500, 100));
		const error = problem(() => planExpansion(size(100, 100), pct(0, 0, 400.5, 0), 0));
		expect(error.message).toBe('Cannot add 400.5% at the bottom: at most 400% a side');
		expect(error.description).toMatch(/original's height/);
	});
});

describe('planExpansion: aspect ratio', () => {
	it('grows the narrower axis to the smallest canvas of that ratio (rounded)', () => {
		expect(planExpansion(size(1024, 576), ratio('4:3'), 0).canvas).toEqual(size(1024, 768));
		// 100 × 16/9 = 177.8 → 178
		expect(planExpansion(size(100, 100), ratio('16:9'), 0).canvas).toEqual(size(178, 100));
		// 100 × 16/9 = 177.8 → 178 rows for a portrait target
		expect(planExpansion(size(100, 100), ratio('9:16'), 0).canvas).toEqual(size(100, 178));
	});

	it('never crops: a landscape image made square or portrait gets taller', () => {
		expect(planExpansion(size(1920, 1080), ratio('1:1'), 0).canvas).toEqual(size(1920, 1920));
		expect(planExpansion(size(1920, 1080), ratio('9:16'), 0).canvas).toEqual(size(1920, 3413));
		// portrait to landscape: 1920 × 16/9 = 3413.3 → 3413 wide
		expect(planExpansion(size(1080, 1920), ratio('16:9'), 0).canvas).toEqual(size(3413, 1920));
	});

	it('grows by one pixel when the image is one pixel short of the ratio', () => {
		expect(planExpansion(size(1919, 1080), ratio('16:9'), 0).added).toEqual(sides(0, 1, 0, 0));
		expect(planExpansion(size(1920, 1079), ratio('16:9'), 0).added).toEqual(sides(0, 0, 1, 0));
	});

	it.each(['16:9', '16/9', ' 16 : 9 ', '16x9', '1920×1080', '1.7778', '32:18'])(
		'reads %j as 16:9',
		(text) => {
			expect(planExpansion(size(1000, 1000), ratio(text), 0).canvas).toEqual(size(1778, 1000));
		},
	);

	it('reads decimals on either side, and a rounded decimal as what it says', () => {
		expect(parseAspectRatio('2.39:1')).toBeCloseTo(2.39, 10);
		expect(parseAspectRatio('.5')).toBe(0.5);
		expect(parseAspectRatio('4.:3')).toBeCloseTo(4 / 3, 10);
		// 1000 × 1.777 = 1777, one pixel less than 16:9's 1778
		expect(planExpansion(size(1000, 1000), ratio('1.777'), 0).canvas).toEqual(size(1777, 1000));
	});

	// 999×1000 → 16:9 adds 1778 − 999 = 779 columns; 1000×999 → 9:16 adds 779 rows.
	// Centred, the odd pixel goes right (or below).
	const anchors: Array<[Anchor, [number, number], [number, number]]> = [
		['center', [389, 390], [389, 390]],
		['top', [389, 390], [0, 779]],
		['bottom', [389, 390], [779, 0]],
		['left', [0, 779], [389, 390]],
		['right', [779, 0], [389, 390]],
		['topLeft', [0, 779], [0, 779]],
		['topRight', [779, 0], [0, 779]],
		['bottomLeft', [0, 779], [779, 0]],
		['bottomRight', [779, 0], [779, 0]],
	];

	it.each(anchors)(
		'anchor %s: left/right %j when widening, top/bottom %j when heightening',
		(anchor, [left, right], [top, bottom]) => {
			const wide = planExpansion(size(999, 1000), ratio('16:9', anchor), 0);
			expect(wide.canvas).toEqual(size(1778, 1000));
			expect(wide.added).toEqual(sides(0, right, 0, left));
			expect(wide.offset).toEqual({ left, top: 0 });

			const tall = planExpansion(size(1000, 999), ratio('9:16', anchor), 0);
			expect(tall.canvas).toEqual(size(1000, 1778));
			expect(tall.added).toEqual(sides(top, 0, bottom, 0));
			expect(tall.offset).toEqual({ left: 0, top });
		},
	);
});

describe('planExpansion: refusals', () => {
	it('refuses to add nothing, naming the sizes', () => {
		let error = problem(() => planExpansion(size(100, 50), px(0, 0, 0, 0), 16));
		expect(error.message).toBe(
			'Expanding by top 0 px, right 0 px, bottom 0 px, left 0 px would add nothing to the 100×50 image',
		);
		expect(error.description).toContain('"Add at Top / Right / Bottom / Left"');
		// 0.4 px and 0.9% of 50 px both round to nothing
		error = problem(() => planExpansion(size(100, 50), px(0.4, 0, 0, 0), 16));
		expect(error.message).toMatch(/would add nothing/);
		error = problem(() => planExpansion(size(100, 50), pct(0.9, 0, 0, 0), 16));
		expect(error.message).toMatch(/top 0.9%.*would add nothing to the 100×50 image/);
		expect(error.description).toContain('"Add at Top / Right / Bottom / Left"');
	});

	it('refuses negative sides: the canvas only grows', () => {
		const error = problem(() => planExpansion(size(100, 50), px(10, 0, 0, -5), 0));
		expect(error.message).toBe('Cannot add -5 pixels at the left: the canvas only grows');
		expect(error.description).toMatch(/crop it first/);
		expect(problem(() => planExpansion(size(100, 50), pct(-1, 0, 0, 0), 0)).message).toBe(
			'Cannot add -1% at the top: the canvas only grows',
		);
	});

	it.each([NaN, Infinity, -Infinity, '10', undefined, null])('refuses %p as a side', (value) => {
		const sizing = { ...px(0, 10, 0, 0), right: value } as unknown as ExpandSizing;
		const error = problem(() => planExpansion(size(100, 50), sizing, 0));
		expect(error.message).toMatch(/^No valid number of pixels to add at the right/);
	});

	it.each(['', 'abc', '16:0', '0:9', '0', '-16:9', '16:9:1', '1e3', '16:', ':9', 'sixteen:nine'])(
		'refuses the ratio %j',
		(text) => {
			const error = problem(() => planExpansion(size(100, 50), ratio(text), 0));
			expect(error.message).toBe(`"Aspect Ratio" "${text.trim()}" is not an aspect ratio`);
			expect(error.description).toMatch(/"16:9"/);
		},
	);

	it('refuses an unknown anchor', () => {
		const error = problem(() => planExpansion(size(100, 50), ratio('1:1', 'middle' as Anchor), 0));
		expect(error.message).toBe('Unknown position of the original: "middle"');
	});

	it('refuses a ratio the image already has, within rounding to whole pixels', () => {
		let error = problem(() => planExpansion(size(1920, 1080), ratio('16:9'), 0));
		expect(error.message).toBe(
			'The image is already 16:9 (1920×1080 pixels), so there is nothing to add',
		);
		expect(error.description).toMatch(/"Aspect Ratio".*"Expand By"/);
		// 1366×768 is "16:9" to the pixel: 768 × 16/9 = 1365.3, 1366 × 9/16 = 768.4
		error = problem(() => planExpansion(size(1366, 768), ratio('16:9'), 0));
		expect(error.message).toMatch(/already 16:9 \(1366×768/);
		problem(() => planExpansion(size(1024, 576), ratio('1.777'), 0));
		problem(() => planExpansion(size(300, 300), ratio('1:1'), 0));
	});

	it('refuses a canvas wider or taller than fal accepts, naming both sizes', () => {
		const error = problem(() => planExpansion(size(10_000, 1000), px(0, 7000, 0, 0), 0));
		expect(error.message).toBe(
			`Expanding the 10000×1000 image would make it 17000×1000 pixels (17 megapixels), more than the ${MAX_INPUT_SIDE} pixels a side and 40 megapixels fal accepts`,
		);
		expect(error.description).toMatch(/Add less, or scale the image down first.*"Edit Image"/);
		expect(problem(() => planExpansion(size(100, 10_000), pct(0, 0, 100, 0), 0)).message).toMatch(
			/100×20000 pixels/,
		);
	});

	it('refuses a canvas of too many pixels, and allows exactly the limits', () => {
		expect(MAX_INPUT_PIXELS).toBe(8000 * 5000);
		expect(planExpansion(size(8000, 4999), px(0, 0, 1, 0), 0).canvas).toEqual(size(8000, 5000));
		const error = problem(() => planExpansion(size(8000, 5000), px(0, 1, 0, 0), 0));
		expect(error.message).toMatch(
			/8001×5000 pixels \(40.01 megapixels\).*40 megapixels fal accepts/,
		);
		expect(planExpansion(size(16_000, 100), px(0, 384, 0, 0), 0).canvas.width).toBe(MAX_INPUT_SIDE);
		expect(problem(() => planExpansion(size(16_000, 1000), ratio('1:1'), 0)).message).toMatch(
			/16000×16000 pixels \(256 megapixels\)/,
		);
	});

	it.each([-1, 1.5, NaN, Infinity, EXPAND_LIMITS.overlap.max + 1])(
		'refuses the overlap %p',
		(overlap) => {
			const error = problem(() => planExpansion(size(100, 50), px(0, 10, 0, 0), overlap));
			expect(error.message).toMatch(
				/^"Overlap \(Pixels\)" is .*, not a whole number from 0 to 256$/,
			);
		},
	);

	it('throws a plain Error (a bug, not the user) for a size that is not whole pixels', () => {
		for (const bad of [size(0, 10), size(10.5, 10), size(NaN, 10)]) {
			let error: unknown;
			try {
				planExpansion(bad, px(1, 1, 1, 1), 0);
			} catch (e) {
				error = e;
			}
			expect(error).toBeInstanceOf(Error);
			expect(error).not.toBeInstanceOf(InputProblem);
		}
	});
});

describe('planExpansion: overlap', () => {
	it('applies only on sides that grew', () => {
		expect(planExpansion(size(100, 50), px(0, 10, 0, 0), 16).overlapBySide).toEqual(
			sides(0, 16, 0, 0),
		);
		expect(planExpansion(size(100, 50), px(3, 0, 3, 0), 16).overlapBySide).toEqual(
			sides(16, 0, 16, 0),
		);
		expect(planExpansion(size(100, 100), ratio('16:9', 'left'), 16).overlapBySide).toEqual(
			sides(0, 16, 0, 0),
		);
	});

	it('clamps each side to ⌊(length − 1) / 2⌋ of the original, by axis', () => {
		// 100×50: left/right at most 49, top/bottom at most 24
		const plan = planExpansion(size(100, 50), px(10, 10, 10, 10), 30);
		expect(plan.overlap).toBe(30);
		expect(plan.overlapBySide).toEqual(sides(24, 30, 24, 30));
		expect(planExpansion(size(100, 50), px(10, 10, 10, 10), 256).overlapBySide).toEqual(
			sides(24, 49, 24, 49),
		);
		// At least one column and row of the original stay unmasked, even or odd.
		expect(planExpansion(size(10, 11), px(1, 1, 1, 1), 100).overlapBySide).toEqual(
			sides(5, 4, 5, 4),
		);
		expect(planExpansion(size(1, 1), px(1, 1, 1, 1), 16).overlapBySide).toEqual(sides(0, 0, 0, 0));
	});
});

describe('describeExpansion', () => {
	it('names old and new size and the sides that grew', () => {
		expect(describeExpansion(planExpansion(size(1024, 576), px(96, 171, 96, 171), 0))).toBe(
			'1024×576 → 1366×768 (+171 left, +171 right, +96 top, +96 bottom)',
		);
		expect(describeExpansion(planExpansion(size(1000, 1000), ratio('16:9', 'left'), 0))).toBe(
			'1000×1000 → 1778×1000 (+778 right)',
		);
	});
});

// ── with sharp ────────────────────────────────────────────────────────────────────────

interface Pixels {
	width: number;
	height: number;
	channels: number;
	data: Buffer;
}

const rgb = (p: Pixels, x: number, y: number) => {
	const i = (y * p.width + x) * p.channels;
	return [...p.data.subarray(i, i + 3)];
};

const clamp = (value: number, max: number) => Math.min(Math.max(value, 0), max);

/** Every canvas pixel is the original's pixel nearest to it: itself inside, an edge pixel outside. */
function expectEdgeCopy(out: Pixels, original: Pixels, plan: ExpansionPlan) {
	expect(out.channels).toBe(3);
	let inside = 0;
	let outside = 0;
	const wrong: string[] = [];
	for (let y = 0; y < out.height; y++) {
		for (let x = 0; x < out.width; x++) {
			const ox = x - plan.offset.left;
			const oy = y - plan.offset.top;
			const within = ox >= 0 && oy >= 0 && ox < original.width && oy < original.height;
			if (within) inside++;
			else outside++;
			const want = rgb(original, clamp(ox, original.width - 1), clamp(oy, original.height - 1));
			const got = rgb(out, x, y);
			if (want.join() !== got.join() && wrong.length < 5) {
				wrong.push(`(${x}, ${y}): ${got.join()} instead of ${want.join()}`);
			}
		}
	}
	expect(wrong).toEqual([]);
	expect(inside).toBe(original.width * original.height);
	expect(outside).toBe(out.width * out.height - inside);
}

/** Decodes the mask, checks it is a 1-channel black-and-white PNG, and counts it against `white`. */
async function expectMask(png: Buffer, canvas: Size, white: (x: number, y: number) => boolean) {
	expect(await sharp(png).metadata()).toMatchObject({
		format: 'png',
		width: canvas.width,
		height: canvas.height,
		channels: 1,
		depth: 'uchar',
		hasAlpha: false,
	});
	const data = await sharp(png).toColourspace('b-w').raw().toBuffer();
	expect(data).toHaveLength(canvas.width * canvas.height);
	let expected = 0;
	let wrong = 0;
	for (let y = 0; y < canvas.height; y++) {
		for (let x = 0; x < canvas.width; x++) {
			const want = white(x, y) ? 255 : 0;
			if (want === 255) expected++;
			if (data[y * canvas.width + x] !== want) wrong++;
		}
	}
	expect(wrong).toBe(0);
	return expected;
}

async function expectOpaqueRgbPng(png: Buffer, canvas: Size) {
	expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
	expect(await sharp(png).metadata()).toMatchObject({
		format: 'png',
		width: canvas.width,
		height: canvas.height,
		channels: 3,
		depth: 'uchar',
		hasAlpha: false,
		space: 'srgb',
	});
}

describe('expandCanvas', () => {
	it('pads an RGB PNG with copies of its edges, the original untouched at the offset', async () => {
		const source = await makeTestImage({ width: 40, height: 30, seed: 3 });
		const original = await readPixels(source);
		const plan = planExpansion(size(40, 30), px(5, 7, 3, 11), 4);
		const result = await expandCanvas(source, plan);
		expect(result.size).toEqual(size(58, 38));
		await expectOpaqueRgbPng(result.image, result.size);
		const out = await readPixels(result.image);

		// The original's bytes, row by row, exactly where the plan put them.
		for (let y = 0; y < 30; y++) {
			const at = ((y + 5) * 58 + 11) * 3;
			expect(out.data.subarray(at, at + 40 * 3)).toEqual(
				original.data.subarray(y * 40 * 3, (y + 1) * 40 * 3),
			);
		}
		expectEdgeCopy(out, original, plan);
		// Not a flat colour: the top row (a copy of the first) changes along its length.
		expect(new Set([0, 20, 30, 57].map((x) => rgb(out, x, 0).join())).size).toBe(4);
	});

	it('masks the added area and the overlap into the original, nothing else', async () => {
		const source = await makeTestImage({ width: 40, height: 30 });
		const plan = planExpansion(size(40, 30), px(5, 7, 3, 11), 4);
		const result = await expandCanvas(source, plan);
		// kept: x 11+4 … 11+40−4, y 5+4 … 5+30−4 → 32 × 22
		const kept = (x: number, y: number) => x >= 15 && x < 47 && y >= 9 && y < 31;
		const white = await expectMask(result.mask, result.size, (x, y) => !kept(x, y));
		expect(white).toBe(58 * 38 - 32 * 22);
		expect(result.whitePixels).toBe(white);
	});

	it('with no overlap and one side grown, masks exactly the added columns', async () => {
		const source = await makeTestImage({ width: 40, height: 30 });
		// 30 × 16/9 = 53.3 → 53: 13 columns, 6 left and 7 right when centred
		const plan = planExpansion(size(40, 30), ratio('16:9'), 0);
		expect(plan.added).toEqual(sides(0, 7, 0, 6));
		const result = await expandCanvas(source, plan);
		expect(result.size).toEqual(size(53, 30));
		const white = await expectMask(result.mask, result.size, (x) => x < 6 || x >= 46);
		expect(white).toBe(13 * 30);
		expect(result.whitePixels).toBe(13 * 30);
		expectEdgeCopy(await readPixels(result.image), await readPixels(source), plan);
	});

	it('leaves sides that did not grow unmasked even with an overlap', async () => {
		const source = await makeTestImage({ width: 20, height: 10 });
		const plan = planExpansion(size(20, 10), px(0, 0, 6, 0), 3);
		const result = await expandCanvas(source, plan);
		const white = await expectMask(result.mask, result.size, (_x, y) => y >= 7);
		expect(white).toBe(20 * 9);
		expect(result.whitePixels).toBe(white);
	});

	it('clamped overlaps leave one column of the original unmasked', async () => {
		const source = await makeTestImage({ width: 5, height: 4 });
		const plan = planExpansion(size(5, 4), px(0, 2, 0, 2), 100);
		expect(plan.overlapBySide).toEqual(sides(0, 2, 0, 2));
		const result = await expandCanvas(source, plan);
		const white = await expectMask(result.mask, result.size, (x) => x !== 4);
		expect(result.whitePixels).toBe(white);
		expect(white).toBe(9 * 4 - 4);
	});

	it('keeps a JPEG’s decoded pixels and returns a PNG', async () => {
		const source = await makeTestImage({ width: 32, height: 24, format: 'jpeg' });
		const plan = planExpansion(size(32, 24), pct(0, 0, 50, 25), 2);
		const result = await expandCanvas(source, plan);
		expect(result.size).toEqual(size(40, 36));
		await expectOpaqueRgbPng(result.image, result.size);
		expectEdgeCopy(await readPixels(result.image), await readPixels(source), plan);
	});

	it('turns grey into RGB', async () => {
		const grey = Buffer.alloc(6 * 4);
		for (let i = 0; i < grey.length; i++) grey[i] = i * 10;
		const source = await sharp(grey, { raw: { width: 6, height: 4, channels: 1 } })
			.toColourspace('b-w')
			.png()
			.toBuffer();
		const result = await expandCanvas(source, planExpansion(size(6, 4), px(1, 1, 1, 1), 0));
		await expectOpaqueRgbPng(result.image, size(8, 6));
		const out = await readPixels(result.image);
		expect(rgb(out, 1, 1)).toEqual([0, 0, 0]);
		expect(rgb(out, 6, 4)).toEqual([230, 230, 230]);
		expect(rgb(out, 7, 5)).toEqual([230, 230, 230]);
	});

	it('flattens transparency onto white before copying the edges', async () => {
		// Left half opaque red, right half transparent with a black colour underneath.
		const raw = Buffer.alloc(8 * 4 * 4);
		for (let y = 0; y < 4; y++) {
			for (let x = 0; x < 8; x++)
				raw.set(x < 4 ? [200, 30, 30, 255] : [0, 0, 0, 0], (y * 8 + x) * 4);
		}
		const source = await sharp(raw, { raw: { width: 8, height: 4, channels: 4 } })
			.png()
			.toBuffer();
		const result = await expandCanvas(source, planExpansion(size(8, 4), px(0, 2, 0, 2), 0));
		await expectOpaqueRgbPng(result.image, size(12, 4));
		const out = await readPixels(result.image);
		expect(rgb(out, 0, 0)).toEqual([200, 30, 30]);
		expect(rgb(out, 5, 2)).toEqual([200, 30, 30]);
		expect(rgb(out, 6, 2)).toEqual([255, 255, 255]);
		expect(rgb(out, 11, 3)).toEqual([255, 255, 255]);
	});

	it('reports a damaged file as an InputProblem', async () => {
		const source = await makeTestImage({ width: 40, height: 30 });
		const plan = planExpansion(size(40, 30), px(1, 0, 0, 0), 0);
		const error = await asyncProblem(expandCanvas(source.subarray(0, 60), plan));
		expect(error.message).toMatch(/^The image cannot be expanded: /);
	});

	it('throws a plain Error when the plan was made for another size', async () => {
		const source = await makeTestImage({ width: 40, height: 30 });
		const plan = planExpansion(size(30, 40), px(1, 0, 0, 0), 0);
		const error: unknown = await expandCanvas(source, plan).then(
			() => undefined,
			(e: unknown) => e,
		);
		expect(error).toBeInstanceOf(Error);
		expect(error).not.toBeInstanceOf(InputProblem);
		expect((error as Error).message).toBe(
			'The image is 40×30 pixels but the expansion was planned for 30×40',
		);
	});
});
