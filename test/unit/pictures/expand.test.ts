import sharp from 'sharp';

import {
	EXPAND_ANCHORS,
	EXPAND_ASPECT_RATIOS,
	LIMITS,
	type Anchor,
} from '../../../nodes/FluxProFill/common/constants';
import { expand as words } from '../../../nodes/FluxProFill/common/messages';
import {
	expandCanvas,
	parseAspectRatio,
	planExpansion,
	type ExpandSizing,
	type ExpansionPlan,
	type Sides,
} from '../../../nodes/FluxProFill/pictures/expand';
import type { Size } from '../../../nodes/FluxProFill/pictures/masks';
import { makeTestImage, readPixels } from '../../emulator/images';
import { expectProblem, problemOf } from '../kit';
import { expectMask, picture } from './pixels';

const size = (width: number, height: number): Size => ({ width, height });
const sides = (top: number, right: number, bottom: number, left: number): Sides => ({
	top,
	right,
	bottom,
	left,
});
const px = (top: number, right: number, bottom: number, left: number): ExpandSizing => ({
	mode: 'pixels',
	...sides(top, right, bottom, left),
});
const pct = (top: number, right: number, bottom: number, left: number): ExpandSizing => ({
	mode: 'percent',
	...sides(top, right, bottom, left),
});
const ratio = (text: string, anchor: Anchor = 'center'): ExpandSizing => ({
	mode: 'aspectRatio',
	ratio: parseAspectRatio(text),
	text,
	anchor,
});

describe('planExpansion: pixels and percent', () => {
	it('adds the given pixels on each side; the original goes at (left, top)', () => {
		expect(planExpansion(size(100, 50), px(10, 20, 0, 5), 0)).toEqual<ExpansionPlan>({
			original: size(100, 50),
			canvas: size(125, 60),
			added: sides(10, 20, 0, 5),
			overlap: sides(0, 0, 0, 0),
		});
	});

	it('rounds each side to whole pixels', () => {
		const plan = planExpansion(size(100, 50), px(2.4, 2.5, 0.4, 7.6), 0);
		expect(plan.added).toEqual(sides(2, 3, 0, 8));
		expect(plan.canvas).toEqual(size(111, 52));
	});

	it('takes left and right in percent of the width, top and bottom of the height', () => {
		// 200×50: top 10% of 50 = 5, right 25% of 200 = 50, bottom 3% of 50 = 1.5 → 2, left 10% = 20
		const plan = planExpansion(size(200, 50), pct(10, 25, 3, 10), 0);
		expect(plan.added).toEqual(sides(5, 50, 2, 20));
		expect(plan.canvas).toEqual(size(270, 57));
	});

	it('refuses to add nothing, also when the sides round to nothing', async () => {
		await problemOf(() => planExpansion(size(100, 50), px(0, 0, 0, 0), 16));
		await expectProblem(
			() => planExpansion(size(100, 50), px(0.4, 0, 0, 0), 16),
			words.addsNothing('top 0.4 px, right 0 px, bottom 0 px, left 0 px', size(100, 50), false),
		);
		await expectProblem(
			() => planExpansion(size(100, 50), pct(0.9, 0, 0, 0), 16),
			words.addsNothing('top 0.9%, right 0%, bottom 0%, left 0%', size(100, 50), true),
		);
	});
});

describe('planExpansion: aspect ratio', () => {
	it('grows one axis to the smallest canvas of the ratio that holds the original', () => {
		expect(planExpansion(size(1024, 576), ratio('4:3'), 0).canvas).toEqual(size(1024, 768));
		// 100 × 16/9 = 177.8 → 178
		expect(planExpansion(size(100, 100), ratio('16:9'), 0).canvas).toEqual(size(178, 100));
		expect(planExpansion(size(100, 100), ratio('9:16'), 0).canvas).toEqual(size(100, 178));
	});

	it('never crops: a landscape image made square or portrait gets taller', () => {
		expect(planExpansion(size(1920, 1080), ratio('1:1'), 0).canvas).toEqual(size(1920, 1920));
		expect(planExpansion(size(1920, 1080), ratio('9:16'), 0).canvas).toEqual(size(1920, 3413));
		expect(planExpansion(size(1080, 1920), ratio('16:9'), 0).canvas).toEqual(size(3413, 1920));
	});

	it('grows by one pixel when the image is one pixel short of the ratio', () => {
		expect(planExpansion(size(1919, 1080), ratio('16:9'), 0).added).toEqual(sides(0, 1, 0, 0));
		expect(planExpansion(size(1920, 1079), ratio('16:9'), 0).added).toEqual(sides(0, 0, 1, 0));
	});

	it('grows exactly one side of a square for every ratio the panel offers', () => {
		for (const text of EXPAND_ASPECT_RATIOS.filter((offered) => offered !== '1:1')) {
			const { canvas } = planExpansion(size(1000, 1000), ratio(text), 0);
			expect(canvas.width === 1000 || canvas.height === 1000).toBe(true);
			expect(canvas.width / canvas.height).toBeCloseTo(parseAspectRatio(text), 2);
		}
	});

	// 999×1000 → 16:9 adds 1778 − 999 = 779 columns; 1000×999 → 9:16 adds 779 rows.
	const placed: Record<Anchor, { columns: [number, number]; rows: [number, number] }> = {
		center: { columns: [389, 390], rows: [389, 390] },
		top: { columns: [389, 390], rows: [0, 779] },
		bottom: { columns: [389, 390], rows: [779, 0] },
		left: { columns: [0, 779], rows: [389, 390] },
		right: { columns: [779, 0], rows: [389, 390] },
		topLeft: { columns: [0, 779], rows: [0, 779] },
		topRight: { columns: [779, 0], rows: [0, 779] },
		bottomLeft: { columns: [0, 779], rows: [779, 0] },
		bottomRight: { columns: [779, 0], rows: [779, 0] },
	};

	it.each([...EXPAND_ANCHORS])(
		'places the original by its anchor (%s); centred, the odd pixel goes after',
		(anchor) => {
			const {
				columns: [left, right],
				rows: [top, bottom],
			} = placed[anchor];
			expect(planExpansion(size(999, 1000), ratio('16:9', anchor), 0).added).toEqual(
				sides(0, right, 0, left),
			);
			expect(planExpansion(size(1000, 999), ratio('9:16', anchor), 0).added).toEqual(
				sides(top, 0, bottom, 0),
			);
		},
	);

	it('refuses a ratio the image already has, to the pixel', async () => {
		await expectProblem(
			() => planExpansion(size(1920, 1080), ratio('16:9'), 0),
			words.alreadyRatio('16:9', size(1920, 1080)),
		);
		// 1366×768 is 16:9 to the pixel: 768 × 16/9 = 1365.3, 1366 × 9/16 = 768.4
		await problemOf(() => planExpansion(size(1366, 768), ratio('16:9'), 0));
		await problemOf(() => planExpansion(size(300, 300), ratio('1:1'), 0));
	});
});

describe('planExpansion: what fal accepts', () => {
	it('refuses a canvas wider, taller or larger than fal accepts, naming both sizes', async () => {
		await expectProblem(
			() => planExpansion(size(10_000, 1000), px(0, 7000, 0, 0), 0),
			words.tooLarge(size(10_000, 1000), size(17_000, 1000)),
		);
		await problemOf(() => planExpansion(size(100, 10_000), pct(0, 0, 100, 0), 0));
		await problemOf(() => planExpansion(size(16_000, 1000), ratio('1:1'), 0));
	});

	it('allows exactly the limits', async () => {
		const side = LIMITS.imageSide;
		expect(planExpansion(size(side - 10, 100), px(0, 10, 0, 0), 0).canvas).toEqual(size(side, 100));
		await problemOf(() => planExpansion(size(side - 10, 100), px(0, 11, 0, 0), 0));
		const width = 8000;
		const height = LIMITS.imagePixels / width;
		expect(planExpansion(size(width, height - 1), px(0, 0, 1, 0), 0).canvas).toEqual(
			size(width, height),
		);
		await problemOf(() => planExpansion(size(width, height), px(0, 1, 0, 0), 0));
	});
});

describe('planExpansion: overlap', () => {
	it('applies only on the sides that grew', () => {
		expect(planExpansion(size(100, 50), px(0, 10, 0, 0), 16).overlap).toEqual(sides(0, 16, 0, 0));
		expect(planExpansion(size(100, 50), px(3, 0, 3, 0), 16).overlap).toEqual(sides(16, 0, 16, 0));
		expect(planExpansion(size(100, 100), ratio('16:9', 'left'), 16).overlap).toEqual(
			sides(0, 16, 0, 0),
		);
	});

	it('takes at most ⌊(length − 1) / 2⌋ of the original a side: a row and a column stay', () => {
		// 100×50: left/right at most 49, top/bottom at most 24
		expect(planExpansion(size(100, 50), px(10, 10, 10, 10), 30).overlap).toEqual(
			sides(24, 30, 24, 30),
		);
		expect(planExpansion(size(100, 50), px(10, 10, 10, 10), 256).overlap).toEqual(
			sides(24, 49, 24, 49),
		);
		expect(planExpansion(size(10, 11), px(1, 1, 1, 1), 100).overlap).toEqual(sides(5, 4, 5, 4));
		expect(planExpansion(size(1, 1), px(1, 1, 1, 1), 16).overlap).toEqual(sides(0, 0, 0, 0));
	});
});

describe('parseAspectRatio', () => {
	it.each(['16:9', '16/9', '16 : 9', '16x9', '16X9', '1920×1080', '32:18'])(
		'reads %j as 16:9',
		(text) => {
			expect(parseAspectRatio(text)).toBeCloseTo(16 / 9, 10);
		},
	);

	it('reads decimals on either side, and one number as width ÷ height', () => {
		expect(parseAspectRatio('2.39:1')).toBeCloseTo(2.39, 10);
		expect(parseAspectRatio('.5')).toBe(0.5);
		expect(parseAspectRatio('4.:3')).toBeCloseTo(4 / 3, 10);
		expect(parseAspectRatio('1.777')).toBe(1.777);
	});

	it.each(['', 'abc', '16:0', '0:9', '0', '-16:9', '16:9:1', '1e3', '16:', ':9', 'sixteen:nine'])(
		'refuses %j',
		async (text) => {
			await expectProblem(() => parseAspectRatio(text), words.badRatio(text));
		},
	);
});

// With sharp

type Pixels = Awaited<ReturnType<typeof readPixels>>;

const rgb = (p: Pixels, x: number, y: number) => {
	const i = (y * p.width + x) * p.channels;
	return [...p.data.subarray(i, i + 3)];
};
const clamp = (value: number, max: number) => Math.min(Math.max(value, 0), max);

/** Every canvas pixel is the original's pixel nearest to it: itself inside, an edge pixel outside. */
function expectEdgeCopy(out: Pixels, original: Pixels, plan: ExpansionPlan) {
	expect(out.channels).toBe(3);
	const wrong: string[] = [];
	for (let y = 0; y < out.height; y++)
		for (let x = 0; x < out.width; x++) {
			const ox = clamp(x - plan.added.left, original.width - 1);
			const oy = clamp(y - plan.added.top, original.height - 1);
			const want = rgb(original, ox, oy).join();
			const got = rgb(out, x, y).join();
			if (want !== got && wrong.length < 5) wrong.push(`(${x}, ${y}): ${got} instead of ${want}`);
		}
	expect(wrong).toEqual([]);
}

async function expectOpaqueRgbPng(png: Buffer, canvas: Size) {
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
	it('pads with copies of the edges, the original untouched where the plan puts it', async () => {
		const source = await makeTestImage({ width: 40, height: 30, seed: 3 });
		const plan = planExpansion(size(40, 30), px(5, 7, 3, 11), 4);
		const { image } = await expandCanvas(source, plan);
		await expectOpaqueRgbPng(image, size(58, 38));
		const out = await readPixels(image);
		expectEdgeCopy(out, await readPixels(source), plan);
		// Not a flat colour: the top row (a copy of the first) changes along its length.
		expect(new Set([0, 20, 30, 57].map((x) => rgb(out, x, 0).join())).size).toBe(4);
	});

	it('masks the added area and the overlap into the original, nothing else', async () => {
		const source = await makeTestImage({ width: 40, height: 30 });
		const plan = planExpansion(size(40, 30), px(5, 7, 3, 11), 4);
		const { mask } = await expandCanvas(source, plan);
		// kept: x from 11 + 4 to 11 + 40 − 4, y from 5 + 4 to 5 + 30 − 4
		await expectMask(mask, plan.canvas, (x, y) => !(x >= 15 && x < 47 && y >= 9 && y < 31));
	});

	it('without overlap, masks exactly the added columns', async () => {
		const source = await makeTestImage({ width: 40, height: 30 });
		// 30 × 16/9 = 53.3 → 53: 13 columns, 6 left and 7 right when centred
		const plan = planExpansion(size(40, 30), ratio('16:9'), 0);
		const { image, mask } = await expandCanvas(source, plan);
		await expectMask(mask, size(53, 30), (x) => x < 6 || x >= 46);
		expectEdgeCopy(await readPixels(image), await readPixels(source), plan);
	});

	it('leaves the sides that did not grow unmasked, even with an overlap', async () => {
		const source = await makeTestImage({ width: 20, height: 10 });
		const plan = planExpansion(size(20, 10), px(0, 0, 6, 0), 3);
		await expectMask((await expandCanvas(source, plan)).mask, plan.canvas, (_x, y) => y >= 7);
	});

	it('keeps one column of the original unmasked when the overlap is clamped', async () => {
		const source = await makeTestImage({ width: 5, height: 4 });
		const plan = planExpansion(size(5, 4), px(0, 2, 0, 2), 100);
		await expectMask((await expandCanvas(source, plan)).mask, plan.canvas, (x) => x !== 4);
	});

	it("keeps a JPEG's decoded pixels, and gives a PNG", async () => {
		const source = await makeTestImage({ width: 32, height: 24, format: 'jpeg' });
		const plan = planExpansion(size(32, 24), pct(0, 0, 50, 25), 2);
		const { image } = await expandCanvas(source, plan);
		await expectOpaqueRgbPng(image, size(40, 36));
		expectEdgeCopy(await readPixels(image), await readPixels(source), plan);
	});

	it('gives grey and 16-bit pictures to fal as 8-bit RGB', async () => {
		const grey = await picture(6, 4, 1, (x, y) => [(y * 6 + x) * 10]);
		const fromGrey = await expandCanvas(grey, planExpansion(size(6, 4), px(1, 1, 1, 1), 0));
		await expectOpaqueRgbPng(fromGrey.image, size(8, 6));
		const out = await readPixels(fromGrey.image);
		expect(rgb(out, 1, 1)).toEqual([0, 0, 0]);
		expect(rgb(out, 7, 5)).toEqual([230, 230, 230]);
		const sixteen = await sharp(await makeTestImage({ width: 6, height: 4 }))
			.toColourspace('rgb16')
			.png()
			.toBuffer();
		expect(await sharp(sixteen).metadata()).toMatchObject({ depth: 'ushort' });
		const fromSixteen = await expandCanvas(sixteen, planExpansion(size(6, 4), px(0, 2, 0, 0), 0));
		await expectOpaqueRgbPng(fromSixteen.image, size(8, 4));
	});

	it('flattens transparency onto white before copying the edges', async () => {
		// The left half opaque red, the right half transparent with black underneath.
		const source = await picture(8, 4, 4, (x) => (x < 4 ? [200, 30, 30, 255] : [0, 0, 0, 0]));
		const { image } = await expandCanvas(source, planExpansion(size(8, 4), px(0, 2, 0, 2), 0));
		await expectOpaqueRgbPng(image, size(12, 4));
		const out = await readPixels(image);
		expect(rgb(out, 0, 0)).toEqual([200, 30, 30]);
		expect(rgb(out, 5, 2)).toEqual([200, 30, 30]);
		expect(rgb(out, 6, 2)).toEqual([255, 255, 255]);
		expect(rgb(out, 11, 3)).toEqual([255, 255, 255]);
	});

	it('expands a sideways JPEG as it is shown, the size its header gives', async () => {
		// Stored 30×20, EXIF orientation 6: shown 20×30, as readImageInfo says.
		const stored = await sharp(await makeTestImage({ width: 30, height: 20 }))
			.withMetadata({ orientation: 6 })
			.jpeg()
			.toBuffer();
		const plan = planExpansion(size(20, 30), px(0, 4, 0, 0), 0);
		const { image, mask } = await expandCanvas(stored, plan);
		await expectOpaqueRgbPng(image, size(24, 30));
		await expectMask(mask, size(24, 30), (x) => x >= 20);
	});

	it('says a damaged file cannot be expanded', async () => {
		const source = await makeTestImage({ width: 40, height: 30 });
		const problem = await problemOf(
			expandCanvas(source.subarray(0, 60), planExpansion(size(40, 30), px(1, 0, 0, 0), 0)),
		);
		expect(problem.message.startsWith(words.failed('').message)).toBe(true);
	});
});
