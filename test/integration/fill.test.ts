/**
 * The fill operation end to end in n8n's engine, against the fal emulator over real
 * HTTP through the real @fal-ai/client: binary in, every parameter on the wire,
 * binary out with pixels checked.
 */

import {
	countChangedPixels,
	makeUploadedPictures,
	pictureItem,
	readPixels,
	runFill,
	type Pictures,
	serveFiles,
	useEmulator,
} from './fixtures';

const env = useEmulator();

const submits = () => env.emu.requests.filter((r) => r.kind === 'submit');
const inMask = (p: Pictures) => (x: number, y: number) =>
	x >= p.rect.left &&
	x < p.rect.left + p.rect.width &&
	y >= p.rect.top &&
	y < p.rect.top + p.rect.height;

describe.each(['default', 'filesystem'] as const)(
	'binary in, binary out (%s binary-data mode)',
	(binaryMode) => {
		it('repaints only the white part of the mask and returns a PNG item', async () => {
			const result = await runFill({
				proxyUrl: env.emu.proxyUrl,
				binaryMode,
				items: [pictureItem(env.pictures)],
				parameters: { options: { outputFormat: 'png', seed: 99 } },
			});
			expect(result.error).toBeUndefined();
			expect(result.items).toHaveLength(1);
			const [item] = result.items;
			expect(item.pairedItem).toEqual({ item: 0 });
			expect(item.binary?.data).toMatchObject({ mimeType: 'image/png', fileExtension: 'png' });
			expect(item.binary?.data.fileName).toMatch(/\.png$/);
			expect(item.json).toMatchObject({
				image_index: 0,
				content_type: 'image/png',
				width: env.pictures.width,
				height: env.pictures.height,
				seed: 99,
				prompt: 'a red bicycle',
				has_nsfw_concept: false,
				has_nsfw_concepts: [false],
			});
			expect(item.json.request_id).toEqual(submits()[0].requestId);
			expect(item.json.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\//);
			expect(item.json.timings).toEqual(expect.objectContaining({ inference: expect.any(Number) }));

			const output = await readPixels(await result.binary(item));
			const input = await readPixels(env.pictures.image);
			expect([output.width, output.height]).toEqual([env.pictures.width, env.pictures.height]);
			const outside = countChangedPixels(
				output,
				input,
				(x, y) => !inMask(env.pictures)(x, y),
				env.pictures.height,
			);
			const inside = countChangedPixels(output, input, inMask(env.pictures), env.pictures.height);
			expect(outside.changed).toBe(0);
			expect(inside.changed).toBeGreaterThan(inside.inside * 0.9);
		});
	},
);

it('sends every parameter to fal under its endpoint name, with image and mask inline', async () => {
	const result = await runFill({
		proxyUrl: env.emu.proxyUrl,
		items: [pictureItem(env.pictures)],
		parameters: {
			prompt: 'a blue door',
			options: {
				seed: 7,
				numImages: 3,
				outputFormat: 'png',
				safetyTolerance: '5',
				enhancePrompt: true,
				syncMode: false,
			},
		},
	});
	expect(result.error).toBeUndefined();
	const [submit] = submits();
	expect(submit.body).toEqual({
		prompt: 'a blue door',
		image_url: expect.stringMatching(/^data:image\/png;base64,/),
		mask_url: expect.stringMatching(/^data:image\/png;base64,/),
		seed: 7,
		num_images: 3,
		output_format: 'png',
		safety_tolerance: '5',
		enhance_prompt: true,
		sync_mode: false,
	});
	// The image fal got is byte for byte what the earlier node produced; the mask is
	// that mask made pure black and white, as a PNG of the image's size.
	expect(env.emu.uploads).toHaveLength(0);
	const imageUrl = (submit.body as { image_url: string }).image_url;
	expect(Buffer.from(await (await fetch(imageUrl)).arrayBuffer()).equals(env.pictures.image)).toBe(
		true,
	);
	const maskUrl = (submit.body as { mask_url: string }).mask_url;
	const sentMask = await readPixels(Buffer.from(await (await fetch(maskUrl)).arrayBuffer()));
	const expected = await readPixels(env.pictures.mask);
	expect([sentMask.width, sentMask.height]).toEqual([env.pictures.width, env.pictures.height]);
	expect(sentMask.data.equals(expected.data)).toBe(true);
});

it('sends the endpoint defaults explicitly and lets fal draw the seed', async () => {
	const result = await runFill({ proxyUrl: env.emu.proxyUrl, items: [pictureItem(env.pictures)] });
	expect(result.error).toBeUndefined();
	expect(submits()[0].body).toEqual({
		prompt: 'a red bicycle',
		image_url: expect.any(String),
		mask_url: expect.any(String),
		num_images: 1,
		output_format: 'jpeg',
		safety_tolerance: '2',
		enhance_prompt: false,
		sync_mode: false,
	});
	const [item] = result.items;
	expect(item.binary?.data).toMatchObject({ mimeType: 'image/jpeg' });
	expect(item.binary?.data.fileName).toMatch(/\.(jpeg|jpg)$/);
	expect(typeof item.json.seed).toBe('number');
});

it('returns one item per image for num_images 4, each different', async () => {
	const result = await runFill({
		proxyUrl: env.emu.proxyUrl,
		items: [pictureItem(env.pictures)],
		parameters: { options: { numImages: 4, outputFormat: 'png', seed: 5 } },
	});
	expect(result.items.map((i) => i.json.image_index)).toEqual([0, 1, 2, 3]);
	expect(result.items.every((i) => (i.pairedItem as { item: number }).item === 0)).toBe(true);
	const hashes = await Promise.all(
		result.items.map(async (i) => (await result.binary(i)).toString('base64')),
	);
	expect(new Set(hashes).size).toBe(4);
});

it('takes images inline as data URIs in sync mode without downloading from the CDN', async () => {
	const result = await runFill({
		proxyUrl: env.emu.proxyUrl,
		items: [pictureItem(env.pictures)],
		parameters: { options: { syncMode: true, numImages: 2 } },
	});
	expect(result.error).toBeUndefined();
	expect(submits()[0].body).toMatchObject({ sync_mode: true });
	expect(result.items).toHaveLength(2);
	expect(result.items[0].json.url).toMatch(/^data:image\/jpeg;base64,\(omitted/);
	const outputDownloads = env.emu.requests.filter((r) => r.kind === 'file');
	expect(outputDownloads).toHaveLength(0);
	const pixels = await readPixels(await result.binary(result.items[1]));
	expect([pixels.width, pixels.height]).toEqual([env.pictures.width, env.pictures.height]);
});

describe('URL inputs', () => {
	const files = serveFiles(() => ({
		'/image.png': env.pictures.image,
		'/mask.png': env.pictures.mask,
	}));

	it('passes URLs through to fal without uploading anything', async () => {
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items: [{ json: {} }],
			parameters: {
				imageSource: 'url',
				imageUrl: `${files.base}/image.png`,
				maskSource: 'url',
				maskUrl: `${files.base}/mask.png`,
			},
		});
		expect(result.error).toBeUndefined();
		expect(submits()[0].body).toMatchObject({
			image_url: `${files.base}/image.png`,
			mask_url: `${files.base}/mask.png`,
		});
		expect(env.emu.requests.filter((r) => r.kind === 'initiate')).toHaveLength(0);
		expect(result.items).toHaveLength(1);
	});

	it('mixes a binary image with a mask URL', async () => {
		const item = pictureItem(env.pictures);
		delete item.binary?.mask;
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items: [item],
			parameters: { maskSource: 'url', maskUrl: `${files.base}/mask.png` },
		});
		expect(result.error).toBeUndefined();
		expect(submits()[0].body).toMatchObject({
			mask_url: `${files.base}/mask.png`,
			image_url: expect.stringMatching(/^data:image\/png;base64,/),
		});
	});

	it("shows fal's 422 when fal cannot load the image URL", async () => {
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items: [{ json: {} }],
			parameters: {
				imageSource: 'url',
				imageUrl: `${files.base}/missing.png`,
				maskSource: 'url',
				maskUrl: `${files.base}/mask.png`,
			},
		});
		expect(result.error?.constructor.name).toBe('NodeApiError');
		expect(result.error?.message).toMatch(
			/^fal rejected the request: image_url: .*image_load_error/,
		);
		expect((result.error as { httpCode?: string }).httpCode).toBe('422');
	});
});

it('processes several items in order, each with its own prompt from an expression', async () => {
	const large = await makeUploadedPictures();
	const items = [0, 1, 2].map((n) => pictureItem(large, { prompt: `prompt number ${n}` }));
	const result = await runFill({
		proxyUrl: env.emu.proxyUrl,
		items,
		parameters: { prompt: '={{ $json.prompt }}', options: { numImages: 2 } },
	});
	expect(result.error).toBeUndefined();
	expect(result.items.map((i) => [i.pairedItem, i.json.prompt, i.json.image_index])).toEqual([
		[{ item: 0 }, 'prompt number 0', 0],
		[{ item: 0 }, 'prompt number 0', 1],
		[{ item: 1 }, 'prompt number 1', 0],
		[{ item: 1 }, 'prompt number 1', 1],
		[{ item: 2 }, 'prompt number 2', 0],
		[{ item: 2 }, 'prompt number 2', 1],
	]);
	// The same image in every item, too large to go inline: uploaded once. The mask goes inline.
	expect(env.emu.requests.filter((r) => r.kind === 'initiate')).toHaveLength(1);
	expect(env.emu.uploads).toHaveLength(1);
});

it('writes the result into the chosen output binary field', async () => {
	const result = await runFill({
		proxyUrl: env.emu.proxyUrl,
		items: [pictureItem(env.pictures)],
		parameters: { options: { outputBinaryProperty: 'filled' } },
	});
	expect(Object.keys(result.items[0].binary ?? {})).toEqual(['filled']);
	expect((await result.binary(result.items[0], 'filled')).length).toBeGreaterThan(100);
});
