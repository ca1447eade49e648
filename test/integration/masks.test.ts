/**
 * Masks without an image editor, end to end: each mask source and option is run
 * through the node against the emulator; the mask fal received, the mask returned to
 * the user and the repainted image are all checked pixel by pixel against the
 * expected area.
 */
import type { INodeParameters } from 'n8n-workflow';
import sharp from 'sharp';

import type { FalEmulator } from '../emulator';
import { prepareBinary } from '../helpers/n8nHarness';
import { countChangedPixels, makeTestImage, readPixels, runFill, startEmulator } from './fixtures';

const W = 60;
const H = 40;
type Area = (x: number, y: number) => boolean;
const rect =
	(left: number, top: number, width: number, height: number): Area =>
	(x, y) =>
		x >= left && x < left + width && y >= top && y < top + height;
const not =
	(area: Area): Area =>
	(x, y) =>
		!area(x, y);

let emu: FalEmulator;
let image: Buffer;

beforeAll(async () => {
	emu = await startEmulator();
	image = await makeTestImage({ width: W, height: H, format: 'png', seed: 11 });
});
afterAll(async () => await emu.close());
beforeEach(() => emu.reset());

/** A one-channel picture from a predicate, as PNG (white where the predicate holds). */
async function maskPng(width: number, height: number, white: (x: number, y: number) => number) {
	const raw = Buffer.alloc(width * height);
	for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw[y * width + x] = white(x, y);
	return await sharp(raw, { raw: { width, height, channels: 1 } })
		.png()
		.toBuffer();
}

async function fillWith(parameters: INodeParameters, binary: Record<string, Buffer> = {}) {
	const result = await runFill({
		proxyUrl: emu.proxyUrl,
		items: [
			{
				json: {},
				binary: Object.fromEntries(
					Object.entries({ data: image, ...binary }).map(([field, bytes]) => [
						field,
						prepareBinary(bytes, `${field}.png`, 'image/png'),
					]),
				),
			},
		],
		parameters: {
			...parameters,
			options: { outputFormat: 'png', returnMask: true, ...(parameters.options as object) },
		},
	});
	expect(result.error).toBeUndefined();
	return result;
}

/** The mask fal got, the mask the node returned and the repainted image all show exactly `area`. */
async function expectRepainted(result: Awaited<ReturnType<typeof fillWith>>, area: Area) {
	const maskUrl = (emu.requests.find((r) => r.kind === 'submit')?.body as { mask_url: string })
		.mask_url;
	const sent = await readPixels(Buffer.from(await (await fetch(maskUrl)).arrayBuffer()));
	const returned = await readPixels(await result.binary(result.items[0], 'mask'));
	for (const mask of [sent, returned]) {
		expect([mask.width, mask.height]).toEqual([W, H]);
		let wrong = 0;
		for (let y = 0; y < H; y++) {
			for (let x = 0; x < W; x++) {
				const value = mask.data[(y * W + x) * mask.channels];
				if (value !== (area(x, y) ? 255 : 0)) wrong++;
			}
		}
		expect(wrong).toBe(0);
	}
	const output = await readPixels(await result.binary(result.items[0]));
	const input = await readPixels(image);
	expect(countChangedPixels(output, input, not(area), H).changed).toBe(0);
	const inside = countChangedPixels(output, input, area, H);
	expect(inside.changed).toBeGreaterThan(inside.inside * 0.9);
}

it('alpha: the transparent part of the image is repainted', async () => {
	const hole = rect(10, 5, 20, 15);
	const { data } = await sharp(image).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
	for (let y = 0; y < H; y++)
		for (let x = 0; x < W; x++) if (hole(x, y)) data[(y * W + x) * 4 + 3] = 0;
	const withHole = await sharp(data, { raw: { width: W, height: H, channels: 4 } })
		.png()
		.toBuffer();
	image = withHole;
	try {
		const result = await fillWith({ maskSource: 'alpha' });
		await expectRepainted(result, hole);
	} finally {
		image = await makeTestImage({ width: W, height: H, format: 'png', seed: 11 });
	}
});

it('alpha: an image without transparency gets a clear error before any call', async () => {
	const result = await runFill({
		proxyUrl: emu.proxyUrl,
		items: [{ json: {}, binary: { data: prepareBinary(image, 'photo.png', 'image/png') } }],
		parameters: { maskSource: 'alpha' },
	});
	expect(result.error?.message).toMatch(/^The image has no alpha channel/);
	expect(emu.requests.filter((r) => r.kind === 'submit')).toHaveLength(0);
});

it('rectangles in pixels and in percent together', async () => {
	const result = await fillWith({
		maskSource: 'rectangles',
		maskRectangles: {
			rectangle: [
				{ left: 2, top: 3, width: 10, height: 8, unit: 'px' },
				{ left: 50, top: 50, width: 25, height: 50, unit: 'percent' },
			],
		},
	});
	const px = rect(2, 3, 10, 8);
	const percent = rect(30, 20, 15, 20);
	await expectRepainted(result, (x, y) => px(x, y) || percent(x, y));
});

it('invert: repaints what the mask marks as kept', async () => {
	const marked = rect(20, 10, 20, 20);
	const mask = await maskPng(W, H, (x, y) => (marked(x, y) ? 255 : 0));
	await expectRepainted(await fillWith({ options: { invertMask: true } }, { mask }), not(marked));
});

it('fit: a mask of half the size is stretched to the image', async () => {
	const small = await maskPng(W / 2, H / 2, (x, y) => (rect(5, 5, 10, 5)(x, y) ? 255 : 0));
	await expectRepainted(
		await fillWith({ options: { fitMask: true } }, { mask: small }),
		rect(10, 10, 20, 10),
	);
});

it('fit is off by default: a mask of another size is an error naming both sizes', async () => {
	const small = await maskPng(W / 2, H / 2, () => 255);
	const result = await runFill({
		proxyUrl: emu.proxyUrl,
		items: [
			{
				json: {},
				binary: {
					data: prepareBinary(image, 'i.png', 'image/png'),
					mask: prepareBinary(small, 'm.png', 'image/png'),
				},
			},
		],
	});
	expect(result.error?.message).toBe('The mask is 30×20 pixels but the image is 60×40');
});

it('threshold: a grey, anti-aliased mask becomes black and white at the threshold', async () => {
	// Left to right: grey 0 … 236; at threshold 100, columns whose grey is ≥ 100 are repainted.
	const ramp = await maskPng(W, H, (x) => x * 4);
	await expectRepainted(
		await fillWith({ options: { maskThreshold: 100 } }, { mask: ramp }),
		(x) => x * 4 >= 100,
	);
});

it('grow: widens the repainted area by N pixels on every side', async () => {
	const mask = await maskPng(W, H, (x, y) => (rect(20, 15, 10, 5)(x, y) ? 255 : 0));
	await expectRepainted(
		await fillWith({ options: { growMask: 3 } }, { mask }),
		rect(17, 12, 16, 11),
	);
});

it('one mask shared by many items is prepared once, and sent inline', async () => {
	const mask = await maskPng(W, H, (x, y) => (rect(0, 0, 10, 10)(x, y) ? 255 : 0));
	const item = () => ({
		json: {},
		binary: {
			data: prepareBinary(image, 'i.png', 'image/png'),
			mask: prepareBinary(mask, 'm.png', 'image/png'),
		},
	});
	const result = await runFill({
		proxyUrl: emu.proxyUrl,
		items: [item(), item(), item()],
		parameters: { options: { growMask: 2 } },
	});
	expect(result.items).toHaveLength(3);
	// Small pictures go in the submit itself: nothing uploaded, the same prepared mask three times.
	expect(emu.uploads).toHaveLength(0);
	const masks = emu.requests
		.filter((r) => r.kind === 'submit')
		.map((r) => (r.body as { mask_url: string }).mask_url);
	expect(masks).toHaveLength(3);
	expect(new Set(masks).size).toBe(1);
	expect(masks[0]).toMatch(/^data:image\/png;base64,/);
});

describe('EXIF orientation: masks line up with the photo as every viewer shows it', () => {
	// Stored 40×60 with its left half red; orientation 6 turns it to 60×40, red on top.
	let phone: Buffer;
	beforeAll(async () => {
		const raw = Buffer.alloc(40 * 60 * 3);
		for (let y = 0; y < 60; y++)
			for (let x = 0; x < 40; x++)
				raw.set(x < 20 ? [220, 20, 20] : [20, 20, 220], (y * 40 + x) * 3);
		phone = await sharp(raw, { raw: { width: 40, height: 60, channels: 3 } })
			.jpeg({ quality: 95 })
			.withMetadata({ orientation: 6 })
			.toBuffer();
	});

	/** The image fal got: upright, W×H, red on top and blue below. */
	async function expectUprightUpload() {
		const imageUrl = (emu.requests.find((r) => r.kind === 'submit')?.body as { image_url: string })
			.image_url;
		const sent = await readPixels(Buffer.from(await (await fetch(imageUrl)).arrayBuffer()));
		expect([sent.width, sent.height]).toEqual([W, H]);
		const red = (x: number, y: number) => sent.data[(y * W + x) * sent.channels] > 150;
		expect([red(30, 2), red(30, H - 3)]).toEqual([true, false]);
		return sent;
	}

	it.each([
		['a mask file drawn on the photo as shown', { maskSource: 'binary' }],
		[
			'rectangles in percent of the photo as shown',
			{
				maskSource: 'rectangles',
				maskRectangles: {
					rectangle: [{ left: 50, top: 25, width: 25, height: 50, unit: 'percent' }],
				},
			},
		],
	] as Array<[string, INodeParameters]>)('%s', async (_name, parameters) => {
		const area = rect(30, 10, 15, 20);
		const result = await runFill({
			proxyUrl: emu.proxyUrl,
			items: [
				{
					json: {},
					binary: {
						data: prepareBinary(phone, 'IMG_0001.jpg', 'image/jpeg'),
						mask: prepareBinary(
							await maskPng(W, H, (x, y) => (area(x, y) ? 255 : 0)),
							'mask.png',
							'image/png',
						),
					},
				},
			],
			parameters: { ...parameters, options: { outputFormat: 'png', returnMask: true } },
		});
		expect(result.error).toBeUndefined();
		const sent = await expectUprightUpload();
		const returned = await readPixels(await result.binary(result.items[0], 'mask'));
		expect([returned.width, returned.height]).toEqual([W, H]);
		const output = await readPixels(await result.binary(result.items[0]));
		expect(countChangedPixels(output, sent, not(area), H).changed).toBe(0);
		expect(result.items[0].json).toMatchObject({ width: W, height: H });
	});
});
