/**
 * The fill operation end to end in n8n's engine, against the fal emulator over real
 * HTTP through the real @fal-ai/client: binary in, every parameter on the wire,
 * binary out with pixels checked; URL inputs; URL-only output, the cost estimate and
 * its execution hint; tool mode as n8n's AI-agent wrapper runs it; NSFW flags.
 */
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { FluxProFill } from '../../nodes/FluxProFill/FluxProFill.node';
import { runNode } from '../helpers/n8nHarness';
import {
	countChangedPixels,
	KEY,
	makePictures,
	makeUploadedPictures,
	pictureItem,
	readPixels,
	runFill,
	type Pictures,
	serveFiles,
	shorthands,
	useEmulator,
} from './fixtures';

const env = useEmulator();
const { fill, run } = shorthands(env);

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

describe('URL-only output and cost', () => {
	it('returns links and JSON without downloading anything', async () => {
		const result = await run('fill', [pictureItem(env.pictures)], {
			options: { outputMode: 'url', numImages: 2 },
		});
		expect(result.items).toHaveLength(2);
		for (const item of result.items) {
			expect(item.binary).toBeUndefined();
			expect(item.json.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\//);
			expect(item.json).toMatchObject({
				width: env.pictures.width,
				height: env.pictures.height,
				content_type: 'image/jpeg',
			});
		}
		expect(env.emu.requests.filter((r) => r.kind === 'file')).toHaveLength(0);
	});

	it('with sync mode the URL is the whole image as a data URI', async () => {
		const result = await run('fill', [pictureItem(env.pictures)], {
			options: { outputMode: 'url', syncMode: true },
		});
		const url = result.items[0].json.url as string;
		expect(url).toMatch(/^data:image\/jpeg;base64,\/9j\//);
	});

	it("puts each image's share of the cost on its item (summing gives the run's cost), its request's total beside it, and the run total in an execution hint", async () => {
		const big = await makePictures(1200, 1000);
		const items = [pictureItem(big), pictureItem(env.pictures)];
		const result = await run('fill', items, { options: { numImages: 2, outputMode: 'url' } });
		// 1.2 MP rounds up to 2 MP: 2 × $0.05 per image; 0.003 MP rounds up to 1 MP: 1 × $0.05 per image.
		expect(result.items.map((i) => i.json.estimated_cost_usd)).toEqual([0.1, 0.1, 0.05, 0.05]);
		expect(result.items.map((i) => i.json.request_estimated_cost_usd)).toEqual([
			0.2, 0.2, 0.1, 0.1,
		]);
		const summed = result.items.reduce((sum, i) => sum + (i.json.estimated_cost_usd as number), 0);
		expect(summed).toBeCloseTo(0.3, 10);
		const hints = result.runData['FLUX.1 Fill']?.[0]?.hints ?? [];
		expect(hints.map((h) => h.message)).toEqual([
			expect.stringMatching(/^Estimated fal cost of this run: \$0\.30 for 2 requests/),
		]);
	});
});

describe('as an AI agent tool', () => {
	const TOOL_TYPE = 'n8n-nodes-fal-flux-fill.fluxProFillTool';
	const files = serveFiles(() => ({
		'/image.png': env.pictures.image,
		'/mask.png': env.pictures.mask,
	}));

	const toolParameters: INodeParameters = {
		prompt: "={{ $fromAI('prompt', 'What to paint into the white part of the mask') }}",
		imageSource: 'url',
		imageUrl: "={{ $fromAI('image_url', 'Public link to the image') }}",
		maskSource: 'url',
		maskUrl: "={{ $fromAI('mask_url', 'Public link to the black-and-white mask') }}",
		options: { syncMode: true },
	};

	/** As n8n's tool wrapper does: the agent's arguments are the only input item, JSON only. */
	async function invokeAsTool(args: IDataObject, parameters = toolParameters) {
		const result = await runNode({
			nodeType: new FluxProFill(),
			typeName: TOOL_TYPE,
			parameters: { operation: 'fill', ...parameters },
			credentials: { falApi: { apiKey: KEY, proxyUrl: env.emu.proxyUrl } },
			inputItems: [{ json: args }],
		});
		// The wrapper hands the agent `items.flatMap(item => item.json)`, serialised.
		return { result, response: JSON.stringify(result.items.map((item) => item.json)) };
	}

	it('cannot spend past Max Cost per Run: the linked image is costed before anything is sent', async () => {
		const { result } = await invokeAsTool(
			{
				prompt: 'a red door',
				image_url: `${files.base}/image.png`,
				mask_url: `${files.base}/mask.png`,
			},
			{ ...toolParameters, options: { maxCostUsd: 0.01 } },
		);
		expect(result.error?.message).toMatch(
			/^The estimated fal cost of this run, \$0\.05 for 1 item/,
		);
		expect(env.emu.requests).toHaveLength(0);
	});

	it('takes URLs from the agent and answers with links and JSON, never binary or data URIs', async () => {
		const { result, response } = await invokeAsTool({
			prompt: 'a red door',
			image_url: `${files.base}/image.png`,
			mask_url: `${files.base}/mask.png`,
		});
		expect(result.error).toBeUndefined();
		expect(result.items.every((item) => item.binary === undefined)).toBe(true);
		const parsed = JSON.parse(response) as IDataObject[];
		expect(parsed[0]).toMatchObject({
			prompt: 'a red door',
			url: expect.stringMatching(/^http:\/\/127\.0\.0\.1/),
		});
		// Sync mode would put megabytes of base64 into the agent's context: it is off in tool mode.
		expect(env.emu.requests.find((r) => r.kind === 'submit')?.body).toMatchObject({
			sync_mode: false,
		});
		expect(response.length).toBeLessThan(2_000);
	});

	it('explains that binary sources cannot be used by an agent', async () => {
		const { result } = await invokeAsTool({ prompt: 'x' }, { prompt: "={{ $fromAI('prompt') }}" });
		expect(result.error?.message).toBe("As an AI agent's tool this node needs the image as a URL");
	});
});

describe('NSFW flags', () => {
	it('marks flagged images', async () => {
		const result = await fill({ prompt: 'nsfw-test', options: { numImages: 2 } });
		expect(result.items.map((i) => i.json.has_nsfw_concept)).toEqual([true, true]);
	});

	it('drops them when asked, and fails the item when nothing is left', async () => {
		const result = await fill({ prompt: 'nsfw-test', options: { dropNsfw: true } });
		expect(result.error?.message).toBe(
			'fal flagged all 1 generated image as NSFW, and "Drop NSFW Images" is on',
		);
	});
});
