/**
 * Expand Canvas (maskSource "expand", outpainting): the node pads the image from its
 * edges, masks the new part (plus the overlap), checks the size against fal's limits
 * before paying, and fills. Run in n8n's engine against the emulator.
 */
import type { INodeExecutionData, INodeParameters } from 'n8n-workflow';
import sharp from 'sharp';

import { makeColourImage, makeTestImage, readPixels } from '../emulator';
import { prepareBinary } from '../helpers/n8nHarness';
import { runFill, serveFiles, useEmulator } from './fixtures';

const env = useEmulator();

const NODE_NAME = 'FLUX.1 Fill';

const item = (image: Buffer): INodeExecutionData => ({
	json: {},
	binary: { data: prepareBinary(image, 'portrait.png', 'image/png') },
});

const expand = (parameters: INodeParameters, items: INodeExecutionData[]) =>
	runFill({
		proxyUrl: env.emu.proxyUrl,
		items,
		parameters: { maskSource: 'expand', prompt: 'more of the same', ...parameters },
	});

type Run = Awaited<ReturnType<typeof expand>>;
type Pixels = Awaited<ReturnType<typeof readPixels>>;

/** Where the original lands on the new canvas, and how far the mask reaches into it. */
interface Layout {
	canvas: { width: number; height: number };
	offset: { left: number; top: number };
	band: { top: number; right: number; bottom: number; left: number };
}

const NO_BAND = { top: 0, right: 0, bottom: 0, left: 0 };

async function download(url: string): Promise<Buffer> {
	return Buffer.from(await (await fetch(url)).arrayBuffer());
}

const rgbAt = (image: Pixels, x: number, y: number) => {
	const i = (y * image.width + x) * image.channels;
	return [image.data[i], image.data[i + 1], image.data[i + 2]];
};

/** Pixels (as "x,y") where a mask differs from what the layout says: white outside the kept part. */
function maskMistakes(mask: Pixels, original: Pixels, { offset, band }: Layout): string[] {
	const keptLeft = offset.left + band.left;
	const keptRight = offset.left + original.width - band.right;
	const keptTop = offset.top + band.top;
	const keptBottom = offset.top + original.height - band.bottom;
	const wrong: string[] = [];
	for (let y = 0; y < mask.height; y++) {
		for (let x = 0; x < mask.width; x++) {
			const kept = x >= keptLeft && x < keptRight && y >= keptTop && y < keptBottom;
			if (mask.data[(y * mask.width + x) * mask.channels] !== (kept ? 0 : 255))
				wrong.push(`${x},${y}`);
		}
	}
	return wrong;
}

/**
 * Checks a finished Expand Canvas run against the layout: the output's size, the returned
 * mask and the one fal got, and the image fal got (its bytes from the emulator's store):
 * the original untouched at the offset, every new pixel a copy of the nearest edge pixel.
 */
async function expectExpanded(result: Run, originalPng: Buffer, layout: Layout) {
	expect(result.error).toBeUndefined();
	const { canvas, offset } = layout;
	const original = await readPixels(originalPng);
	expect(result.items[0].json).toMatchObject({ width: canvas.width, height: canvas.height });

	const [job] = [...env.emu.jobs.values()];
	expect(job.input).toMatchObject({ prompt: 'more of the same' });
	const { image_url: imageUrl, mask_url: maskUrl } = job.input as {
		image_url: string;
		mask_url: string;
	};
	// Both small: they go to fal inline, in the submit.
	expect(env.emu.uploads).toHaveLength(0);
	expect([imageUrl, maskUrl].map((url) => url.slice(0, 22))).toEqual([
		'data:image/png;base64,',
		'data:image/png;base64,',
	]);

	const returnedMask = await readPixels(await result.binary(result.items[0], 'mask'));
	const sentMask = await readPixels(await download(maskUrl));
	for (const mask of [returnedMask, sentMask]) {
		expect([mask.width, mask.height]).toEqual([canvas.width, canvas.height]);
		expect(maskMistakes(mask, original, layout)).toEqual([]);
	}

	const sent = await readPixels(await download(imageUrl));
	expect([sent.width, sent.height]).toEqual([canvas.width, canvas.height]);
	let changed = 0;
	let notEdge = 0;
	for (let y = 0; y < canvas.height; y++) {
		for (let x = 0; x < canvas.width; x++) {
			const ox = x - offset.left;
			const oy = y - offset.top;
			const inside = ox >= 0 && ox < original.width && oy >= 0 && oy < original.height;
			const source = rgbAt(
				original,
				Math.min(original.width - 1, Math.max(0, ox)),
				Math.min(original.height - 1, Math.max(0, oy)),
			);
			if (rgbAt(sent, x, y).join() === source.join()) continue;
			if (inside) changed++;
			else notEdge++;
		}
	}
	expect({ changed, notEdge }).toEqual({ changed: 0, notEdge: 0 });
	return { job, returnedMask, sent };
}

let portrait: Buffer; // 48×64
let landscape: Buffer; // 64×48
beforeAll(async () => {
	portrait = await makeTestImage({ width: 48, height: 64, format: 'png', seed: 5 });
	landscape = await makeTestImage({ width: 64, height: 48, format: 'png', seed: 9 });
});

describe('Expand Canvas', () => {
	it('grows a 48×64 portrait to 16:9 around its centre, and fal gets the padded image and its mask', async () => {
		const result = await expand(
			{
				expandBy: 'aspectRatio',
				expandAspectRatio: '16:9',
				expandAnchor: 'center',
				expandOverlap: 4,
				options: { returnMask: true, outputFormat: 'png' },
			},
			[item(portrait)],
		);
		// 64 high at 16:9 is 114 wide (113.8 rounded): 66 pixels added, 33 a side.
		const { returnedMask: mask } = await expectExpanded(result, portrait, {
			canvas: { width: 114, height: 64 },
			offset: { left: 33, top: 0 },
			band: { ...NO_BAND, left: 4, right: 4 },
		});
		const whiteAt = (x: number, y: number) =>
			mask.data[(y * mask.width + x) * mask.channels] === 255;
		// New area and 4 px of overlap white; the rest of the original black.
		expect([
			whiteAt(0, 10),
			whiteAt(33 + 3, 10),
			whiteAt(33 + 4, 10),
			whiteAt(33 + 47 - 4, 10),
		]).toEqual([true, true, false, false]);
		expect([whiteAt(33 + 47 - 3, 10), whiteAt(113, 63)]).toEqual([true, true]);
		// A 114×64 canvas is under a megapixel: one $0.05 image.
		expect(result.items[0].json.estimated_cost_usd).toBe(0.05);
	});

	it('works on a phone photo as shown: a 64×48 JPEG with EXIF orientation 6 is a 48×64 portrait, grown upright to 114×64', async () => {
		const phone = await sharp(landscape)
			.jpeg({ quality: 95 })
			.withMetadata({ orientation: 6 })
			.toBuffer();
		const shown = await sharp(phone).autoOrient().png().toBuffer();
		const result = await expand(
			{
				expandBy: 'aspectRatio',
				expandAspectRatio: '16:9',
				expandOverlap: 4,
				options: { returnMask: true, outputFormat: 'png' },
			},
			[{ json: {}, binary: { data: prepareBinary(phone, 'IMG_0001.jpg', 'image/jpeg') } }],
		);
		await expectExpanded(result, shown, {
			canvas: { width: 114, height: 64 },
			offset: { left: 33, top: 0 },
			band: { ...NO_BAND, left: 4, right: 4 },
		});
	});

	it.each([
		[
			'center, an odd pixel to the right',
			'portrait',
			'center',
			'4:3',
			// 64 × 4/3 = 85.3 → 85 wide: 37 added, 18 left and 19 right.
			{ canvas: { width: 85, height: 64 }, offset: { left: 18, top: 0 }, sides: ['left', 'right'] },
		],
		[
			'topLeft, a landscape to 1:1 grows downwards',
			'landscape',
			'topLeft',
			'1:1',
			{ canvas: { width: 64, height: 64 }, offset: { left: 0, top: 0 }, sides: ['bottom'] },
		],
		[
			'bottomRight, a landscape to 1:1 grows upwards',
			'landscape',
			'bottomRight',
			'1:1',
			{ canvas: { width: 64, height: 64 }, offset: { left: 0, top: 16 }, sides: ['top'] },
		],
		[
			'bottomRight, a portrait to 16:9 grows to the left',
			'portrait',
			'bottomRight',
			'16:9',
			{ canvas: { width: 114, height: 64 }, offset: { left: 66, top: 0 }, sides: ['left'] },
		],
	] as const)('aspect ratio, %s', async (_name, shape, anchor, ratio, expected) => {
		const image = shape === 'portrait' ? portrait : landscape;
		const result = await expand(
			{
				expandBy: 'aspectRatio',
				expandAspectRatio: ratio,
				expandAnchor: anchor,
				expandOverlap: 6,
				options: { returnMask: true, outputFormat: 'png' },
			},
			[item(image)],
		);
		const band = { ...NO_BAND };
		for (const side of expected.sides) band[side] = 6;
		await expectExpanded(result, image, { ...expected, band });
	});

	it('by pixels, each side its own: 20 left, 10 top, 5 bottom, none right', async () => {
		const result = await expand(
			{
				expandBy: 'pixels',
				expandTop: 10,
				expandRight: 0,
				expandBottom: 5,
				expandLeft: 20,
				expandOverlap: 4,
				options: { returnMask: true, outputFormat: 'png' },
			},
			[item(portrait)],
		);
		// 48 + 20 + 0 wide, 64 + 10 + 5 high; the right side did not grow, so no overlap there.
		await expectExpanded(result, portrait, {
			canvas: { width: 68, height: 79 },
			offset: { left: 20, top: 10 },
			band: { top: 4, right: 0, bottom: 4, left: 4 },
		});
	});

	it('by percent of the width or height, with the default overlap of 16', async () => {
		const result = await expand(
			{
				expandBy: 'percent',
				expandTop: 25,
				expandRight: 50,
				expandBottom: 0,
				expandLeft: 10,
				options: { returnMask: true, outputFormat: 'png' },
			},
			[item(portrait)],
		);
		// Top 25 % of 64 = 16, right 50 % of 48 = 24, left 10 % of 48 = 4.8 → 5.
		await expectExpanded(result, portrait, {
			canvas: { width: 77, height: 80 },
			offset: { left: 5, top: 16 },
			band: { top: 16, right: 16, bottom: 0, left: 16 },
		});
	});

	it('clamps the overlap so a row and a column of a small original stay', async () => {
		const small = await makeTestImage({ width: 10, height: 9, format: 'png', seed: 3 });
		const result = await expand(
			{
				expandBy: 'pixels',
				expandTop: 3,
				expandRight: 3,
				expandBottom: 3,
				expandLeft: 3,
				expandOverlap: 8,
				options: { returnMask: true, outputFormat: 'png' },
			},
			[item(small)],
		);
		// At most ⌊(10 − 1) / 2⌋ = 4 of the width and ⌊(9 − 1) / 2⌋ = 4 of the height a side.
		await expectExpanded(result, small, {
			canvas: { width: 16, height: 15 },
			offset: { left: 3, top: 3 },
			band: { top: 4, right: 4, bottom: 4, left: 4 },
		});
	});

	it('estimates the cost from the expanded size: 1000×1000 grown to 1000×1100 is 2 MP', async () => {
		const square = await makeColourImage({
			width: 1000,
			height: 1000,
			background: [30, 120, 200],
			regions: [{ rect: { left: 100, top: 100, width: 300, height: 300 }, colour: [250, 250, 0] }],
		});
		const result = await expand(
			{ expandBy: 'pixels', expandBottom: 100, options: { outputMode: 'url', numImages: 2 } },
			[item(square)],
		);
		expect(result.error).toBeUndefined();
		expect(result.items.map((i) => [i.json.width, i.json.height])).toEqual([
			[1000, 1100],
			[1000, 1100],
		]);
		// 1.1 MP rounds up to 2 MP: $0.10 per image, where the 1 MP original would be $0.05.
		expect(result.items.map((i) => i.json.estimated_cost_usd)).toEqual([0.1, 0.1]);
		expect(result.items.map((i) => i.json.request_estimated_cost_usd)).toEqual([0.2, 0.2]);
		const hints = (result.runData[NODE_NAME]?.[0]?.hints ?? []).map((hint) => hint.message);
		expect(hints).toEqual([
			expect.stringMatching(/^Estimated fal cost of this run: \$0\.20 for 1 request \(/),
		]);
	});
});

describe('Expand Canvas refuses before anything is sent', () => {
	it('refuses a canvas beyond fal-ready limits before anything is uploaded', async () => {
		const result = await expand({ expandBy: 'pixels', expandLeft: 20_000, expandOverlap: 0 }, [
			item(portrait),
		]);
		expect(result.error?.message).toBe(
			'Expanding the 48×64 image would make it 20048×64 pixels (1.29 megapixels), more than the 16384 pixels a side and 40 megapixels fal accepts',
		);
		expect(env.emu.requests).toEqual([]);
	});

	it('refuses an aspect ratio the image already has', async () => {
		const wide = await makeTestImage({ width: 64, height: 36, format: 'png', seed: 2 });
		const result = await expand({ expandBy: 'aspectRatio', expandAspectRatio: '16:9' }, [
			item(wide),
		]);
		expect(result.error?.message).toBe(
			'The image is already 16:9 (64×36 pixels), so there is nothing to add',
		);
		expect((result.error as { description?: string }).description).toContain('"Aspect Ratio"');
		expect(env.emu.requests).toEqual([]);
	});

	describe('with an image URL', () => {
		let fetched = 0;
		const files = serveFiles(() => {
			fetched++;
			return { '/portrait.png': portrait };
		});

		it('says it needs the image as a binary field, and asks nobody for anything', async () => {
			const result = await expand(
				{ imageSource: 'url', imageUrl: `${files.base}/portrait.png`, expandBy: 'aspectRatio' },
				[{ json: {} }],
			);
			expect(result.error?.message).toBe(
				'"Mask Source" "Expand Canvas" needs the image as a binary field',
			);
			expect((result.error as { description?: string }).description).toContain('"Binary Field"');
			expect(env.emu.requests).toEqual([]);
			expect(fetched).toBe(0);
		});
	});
});
