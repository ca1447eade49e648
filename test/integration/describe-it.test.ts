/**
 * Describe It (maskSource "text"): fal's segmentation (fal-ai/evf-sam, emulated: the
 * words name a colour, the mask is where the image has it) makes the mask, which is
 * then prepared like any other and filled. Run in n8n's engine against the emulator.
 */
import type { IDataObject, INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { FluxProFill } from '../../nodes/FluxProFill/FluxProFill.node';
import { FILL_ENDPOINT, makeColourImage, readPixels, SEGMENT_ENDPOINT } from '../emulator';
import { prepareBinary, runNode } from '../helpers/n8nHarness';
import { KEY, runFill, serveFiles, useEmulator, waitFor } from './fixtures';

const env = useEmulator();

const WIDTH = 40;
const HEIGHT = 30;
const SKY = { left: 0, top: 0, width: WIDTH, height: 12 };
const BLUE: [number, number, number] = [0, 0, 255];
/** Within 48 of (0, 255, 0) on every channel: "green" and "grass" find it. */
const GREEN: [number, number, number] = [0, 220, 0];
const NODE_NAME = 'FLUX.1 Fill';
const RETRY = { retryOnFail: true, maxTries: 2, waitBetweenTries: 1 };

/** Blue sky over green grass, with a red square in the grass. */
const landscape = async () =>
	await makeColourImage({
		width: WIDTH,
		height: HEIGHT,
		background: GREEN,
		regions: [
			{ rect: SKY, colour: BLUE },
			{ rect: { left: 4, top: 20, width: 6, height: 6 }, colour: [255, 0, 0] },
		],
	});

let picture: Buffer;
beforeAll(async () => {
	picture = await landscape();
});

const item = (image: Buffer, json: IDataObject = {}): INodeExecutionData => ({
	json,
	binary: { data: prepareBinary(image, 'landscape.png', 'image/png') },
});

const describe_ = (parameters: INodeParameters, items: INodeExecutionData[], extra = {}) =>
	runFill({
		proxyUrl: env.emu.proxyUrl,
		items,
		parameters: { maskSource: 'text', maskPrompt: 'the sky', prompt: 'a sunset', ...parameters },
		...extra,
	});

const segmentations = () => env.emu.jobsFor(SEGMENT_ENDPOINT);
const segmentationJobs = () => [...segmentations().values()];
const calls = (endpoint: typeof FILL_ENDPOINT | typeof SEGMENT_ENDPOINT, kind: string) =>
	env.emu.requestsFor(endpoint).filter((r) => r.kind === kind);
const uploadsNamed = (fileName: string) =>
	env.emu.uploads.filter((upload) => upload.fileName === fileName);
const hintsOf = (result: Awaited<ReturnType<typeof describe_>>) =>
	(result.runData[NODE_NAME]?.[0]?.hints ?? []).map((hint) => hint.message);
const descriptionOf = (error: unknown) => (error as { description?: string }).description;

/** White pixels of a mask, by row. */
async function whiteRows(png: Buffer): Promise<number[]> {
	const { data, width, height, channels } = await readPixels(png);
	const rows: number[] = [];
	for (let y = 0; y < height; y++) {
		let white = 0;
		for (let x = 0; x < width; x++) if (data[(y * width + x) * channels] === 255) white++;
		rows.push(white);
	}
	return rows;
}

/** `rows` full rows of `white` pixels each, as whiteRows counts them. */
const rowsOf = (...runs: Array<[count: number, white: number]>) =>
	runs.flatMap(([count, white]) => Array<number>(count).fill(white));

/** The sky: rows 0–11 white, the rest black. */
const SKY_ROWS = rowsOf([12, WIDTH], [HEIGHT - 12, 0]);

/** The mask fal's fill endpoint was given, fetched from the emulator's CDN. */
async function maskFalFilledWith(): Promise<Buffer> {
	const [fill] = [...env.emu.jobs.values()];
	const url = (fill.input as { mask_url: string }).mask_url;
	return Buffer.from(await (await fetch(url)).arrayBuffer());
}

describe('Describe It', () => {
	it('asks fal for the mask of the words, then fills with it', async () => {
		const result = await describe_(
			{ options: { growMask: 0, returnMask: true, outputFormat: 'png' } },
			[item(picture)],
		);
		expect(result.error).toBeUndefined();
		expect(segmentations().size).toBe(1);
		const [job] = segmentationJobs();
		expect(job.input).toMatchObject({ prompt: 'the sky', mask_only: true });
		expect((job.input as { negative_prompt?: string }).negative_prompt).toBeUndefined();
		// The mask sent to fal is exactly the sky: rows 0–11 white, the rest black.
		const mask = await result.binary(result.items[0], 'mask');
		expect(await whiteRows(mask)).toEqual(SKY_ROWS);
		expect(await whiteRows(await maskFalFilledWith())).toEqual(SKY_ROWS);
		const [fill] = [...env.emu.jobs.values()];
		expect(fill.input).toMatchObject({ prompt: 'a sunset' });
		expect(result.items[0].json).toMatchObject({
			request_id: fill.id,
			segmentation_request_id: job.id,
			estimated_fill_cost_usd: 0.05,
			estimated_segmentation_cost_usd: 0.005,
			estimated_cost_usd: 0.055,
			request_estimated_cost_usd: 0.055,
		});
	});
});

describe('Describe It: one segmentation serves every use of the same image and words', () => {
	it('numImages 3: 1 segmentation, 1 fill, its cost split over the 3 images', async () => {
		const result = await describe_({ options: { numImages: 3, outputMode: 'url' } }, [
			item(picture),
		]);
		expect(result.error).toBeUndefined();
		expect(segmentations().size).toBe(1);
		expect(env.emu.jobs.size).toBe(1);
		expect(calls(SEGMENT_ENDPOINT, 'submit')).toHaveLength(1);
		expect(calls(FILL_ENDPOINT, 'submit')).toHaveLength(1);
		const [segmentation] = segmentationJobs();
		const [fill] = [...env.emu.jobs.values()];
		expect(fill.input).toMatchObject({ num_images: 3 });
		expect(result.items).toHaveLength(3);
		expect(result.items.map((i) => [i.json.request_id, i.json.segmentation_request_id])).toEqual(
			Array(3).fill([fill.id, segmentation.id]),
		);
		// $0.005 over three images: 0.0017 each, the first takes the rounding rest.
		expect(result.items.map((i) => i.json.estimated_segmentation_cost_usd)).toEqual([
			0.0016, 0.0017, 0.0017,
		]);
		expect(result.items.map((i) => i.json.estimated_fill_cost_usd)).toEqual([0.05, 0.05, 0.05]);
		expect(result.items.map((i) => i.json.estimated_cost_usd)).toEqual([0.0516, 0.0517, 0.0517]);
		expect(result.items.map((i) => i.json.request_estimated_cost_usd)).toEqual([
			0.155, 0.155, 0.155,
		]);
		const summed = result.items.reduce((sum, i) => sum + (i.json.estimated_cost_usd as number), 0);
		expect(summed).toBeCloseTo(0.155, 10);
		expect(hintsOf(result)).toEqual([
			expect.stringMatching(
				/^Estimated fal cost of this run: \$0\.155 for 1 request, including 1 Describe It segmentation \(\$0\.005 each/,
			),
		]);
	});

	it('3 identical items: 1 segmentation, 3 fills; the first item carries the segmentation', async () => {
		const result = await describe_({ options: { outputMode: 'url' } }, [
			item(picture),
			item(picture),
			item(picture),
		]);
		expect(result.error).toBeUndefined();
		expect(segmentations().size).toBe(1);
		expect(calls(SEGMENT_ENDPOINT, 'submit')).toHaveLength(1);
		expect(env.emu.jobs.size).toBe(3);
		// One upload of the image, one of the (identical) mask.
		expect(uploadsNamed('landscape.png')).toHaveLength(0); // small: it goes inline
		expect(uploadsNamed('mask.png')).toHaveLength(0); // small: it goes inline
		const [segmentation] = segmentationJobs();
		expect(result.items.map((i) => i.json.segmentation_request_id)).toEqual(
			Array(3).fill(segmentation.id),
		);
		expect(new Set(result.items.map((i) => i.json.request_id)).size).toBe(3);
		expect(result.items.map((i) => i.json.estimated_segmentation_cost_usd)).toEqual([0.005, 0, 0]);
		expect(result.items.map((i) => i.json.estimated_fill_cost_usd)).toEqual([0.05, 0.05, 0.05]);
		expect(result.items.map((i) => i.json.estimated_cost_usd)).toEqual([0.055, 0.05, 0.05]);
		expect(result.items.map((i) => i.json.request_estimated_cost_usd)).toEqual([0.055, 0.05, 0.05]);
		// Summing the items gives 3 fills and one segmentation.
		const summed = result.items.reduce((sum, i) => sum + (i.json.estimated_cost_usd as number), 0);
		expect(summed).toBeCloseTo(3 * 0.05 + 0.005, 10);
		expect(hintsOf(result)).toEqual([
			expect.stringMatching(
				/^Estimated fal cost of this run: \$0\.155 for 3 requests, including 1 Describe It segmentation \(\$0\.005 each/,
			),
		]);
	});

	it('different words on the same image: 2 segmentations, each item its own mask', async () => {
		const result = await describe_(
			{
				maskPrompt: '={{ $json.words }}',
				options: { growMask: 0, returnMask: true, outputFormat: 'png' },
			},
			[item(picture, { words: 'the sky' }), item(picture, { words: 'the grass' })],
		);
		expect(result.error).toBeUndefined();
		expect(segmentations().size).toBe(2);
		expect(
			segmentationJobs()
				.map((job) => (job.input as { prompt: string }).prompt)
				.sort(),
		).toEqual(['the grass', 'the sky']);
		expect(env.emu.jobs.size).toBe(2);
		expect(uploadsNamed('landscape.png')).toHaveLength(0); // small: it goes inline
		expect(await whiteRows(await result.binary(result.items[0], 'mask'))).toEqual(SKY_ROWS);
		// The grass: rows 12–29, minus the 6×6 red square at rows 20–25.
		expect(await whiteRows(await result.binary(result.items[1], 'mask'))).toEqual(
			rowsOf([12, 0], [8, WIDTH], [6, WIDTH - 6], [4, WIDTH]),
		);
		const ids = result.items.map((i) => i.json.segmentation_request_id);
		expect(new Set(ids).size).toBe(2);
		expect(result.items.map((i) => i.json.estimated_segmentation_cost_usd)).toEqual([0.005, 0.005]);
	});
});

describe('Describe It: nothing found', () => {
	it('fails the item before any fill, quoting the words and pointing at Invert Mask', async () => {
		const result = await describe_({ maskPrompt: 'the elephant' }, [item(picture)]);
		expect(result.error?.message).toBe(
			'fal found nothing in the image matching "the elephant": there is nothing to repaint',
		);
		expect(descriptionOf(result.error)).toContain('"Invert Mask"');
		expect(descriptionOf(result.error)).toContain('only the segmentation was charged');
		expect(segmentations().size).toBe(1);
		expect(calls(FILL_ENDPOINT, 'submit')).toHaveLength(0);
		expect(env.emu.requestsFor(FILL_ENDPOINT)).toHaveLength(0);
		expect(env.emu.jobs.size).toBe(0);
		// The image went to the segmentation (inline: it is small); no mask was ever made or sent.
		expect(env.emu.uploads).toHaveLength(0);
	});

	it('with continueOnFail the other items go on', async () => {
		const result = await describe_(
			{ maskPrompt: '={{ $json.words }}', options: { outputMode: 'url' } },
			[
				item(picture, { words: 'the elephant' }),
				item(picture, { words: 'the sky' }),
				item(picture, { words: 'an elephant in the room' }),
			],
			{ continueOnFail: true },
		);
		expect(result.error).toBeUndefined();
		expect(result.items).toHaveLength(3);
		// The failed items still say what their segmentation cost: fal billed it.
		const segmentationIds = [...segmentations().keys()];
		expect(result.items[0].json).toMatchObject({
			error: 'fal found nothing in the image matching "the elephant": there is nothing to repaint',
			description: expect.stringContaining('"Invert Mask"'),
			estimated_segmentation_cost_usd: 0.005,
		});
		expect(segmentationIds).toContain(result.items[0].json.segmentation_request_id);
		expect(result.items[2].json).toMatchObject({ estimated_segmentation_cost_usd: 0.005 });
		expect(hintsOf(result)).toEqual([
			expect.stringMatching(
				/^Estimated fal cost of this run: \$0\.065 for 1 request, including 3 Describe It segmentations /,
			),
		]);
		expect(result.items[2].json.error).toBe(
			'fal found nothing in the image matching "an elephant in the room": there is nothing to repaint',
		);
		expect(result.items[1].json).toMatchObject({
			request_id: [...env.emu.jobs.keys()][0],
			estimated_cost_usd: 0.055,
		});
		expect(result.items[1].json.error).toBeUndefined();
		expect(result.items.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(segmentations().size).toBe(3);
		expect(env.emu.jobs.size).toBe(1);
		expect(calls(FILL_ENDPOINT, 'submit')).toHaveLength(1);
	});
});

describe('Describe It: words to keep', () => {
	it('sends negative_prompt, keeps what it names out of the mask, and counts it twice', async () => {
		const result = await describe_(
			{
				maskPrompt: 'blue and green',
				maskNegativePrompt: 'the grass',
				options: { growMask: 0, returnMask: true, outputFormat: 'png' },
			},
			[item(picture)],
		);
		expect(result.error).toBeUndefined();
		const [job] = segmentationJobs();
		expect(job.input).toEqual({
			prompt: 'blue and green',
			negative_prompt: 'the grass',
			image_url: expect.any(String),
			mask_only: true,
		});
		// "blue and green" alone would be everything but the red square; the grass is kept.
		expect(await whiteRows(await result.binary(result.items[0], 'mask'))).toEqual(SKY_ROWS);
		expect(result.items[0].json).toMatchObject({
			segmentation_request_id: job.id,
			estimated_fill_cost_usd: 0.05,
			estimated_segmentation_cost_usd: 0.01,
			estimated_cost_usd: 0.06,
			request_estimated_cost_usd: 0.06,
		});
		expect(hintsOf(result)).toEqual([
			expect.stringMatching(
				/^Estimated fal cost of this run: \$0\.06 for 1 request, including 1 Describe It segmentation \(/,
			),
		]);
	});

	it('without words to keep, "blue and green" is everything but the red square', async () => {
		const result = await describe_(
			{ maskPrompt: 'blue and green', options: { growMask: 0, returnMask: true } },
			[item(picture)],
		);
		expect(result.error).toBeUndefined();
		expect(await whiteRows(await result.binary(result.items[0], 'mask'))).toEqual(
			rowsOf([20, WIDTH], [6, WIDTH - 6], [4, WIDTH]),
		);
		expect(result.items[0].json.estimated_segmentation_cost_usd).toBe(0.005);
	});

	it('names the words to keep when nothing is left', async () => {
		const result = await describe_({ maskPrompt: 'the sky', maskNegativePrompt: 'blue' }, [
			item(picture),
		]);
		expect(result.error?.message).toBe(
			'fal found nothing in the image matching "the sky" (except "blue"): there is nothing to repaint',
		);
		expect(env.emu.requestsFor(FILL_ENDPOINT)).toHaveLength(0);
	});
});

describe('Describe It: the mask options apply to the segmentation', () => {
	it('Invert Mask: everything but the sky', async () => {
		const result = await describe_(
			{ options: { invertMask: true, growMask: 0, returnMask: true, outputFormat: 'png' } },
			[item(picture)],
		);
		expect(result.error).toBeUndefined();
		const inverted = rowsOf([12, 0], [HEIGHT - 12, WIDTH]);
		expect(await whiteRows(await result.binary(result.items[0], 'mask'))).toEqual(inverted);
		expect(await whiteRows(await maskFalFilledWith())).toEqual(inverted);
	});

	it('Invert Mask, then Grow Mask 2: the grass and two rows of sky', async () => {
		const result = await describe_(
			{ options: { invertMask: true, growMask: 2, returnMask: true, outputFormat: 'png' } },
			[item(picture)],
		);
		expect(result.error).toBeUndefined();
		expect(await whiteRows(await result.binary(result.items[0], 'mask'))).toEqual(
			rowsOf([10, 0], [HEIGHT - 10, WIDTH]),
		);
	});

	it('Grow Mask unset: grown by 8 pixels (rows 0–19)', async () => {
		const result = await describe_({ options: { returnMask: true, outputFormat: 'png' } }, [
			item(picture),
		]);
		expect(result.error).toBeUndefined();
		const grown = rowsOf([12 + 8, WIDTH], [HEIGHT - 20, 0]);
		expect(await whiteRows(await result.binary(result.items[0], 'mask'))).toEqual(grown);
		expect(await whiteRows(await maskFalFilledWith())).toEqual(grown);
	});

	it('Grow Mask 3 on the red square: a 12×12 square', async () => {
		const result = await describe_(
			{
				maskPrompt: 'the red thing',
				options: { growMask: 3, returnMask: true, outputFormat: 'png' },
			},
			[item(picture)],
		);
		expect(result.error).toBeUndefined();
		// The 6×6 square at (4, 20) grown by 3 on every side: columns 1–12, rows 17–28.
		expect(await whiteRows(await result.binary(result.items[0], 'mask'))).toEqual(
			rowsOf([17, 0], [12, 12], [1, 0]),
		);
	});
});

describe('Describe It: faults at the segmentation step', () => {
	it('a 500 on the segmentation result is retried and succeeds', async () => {
		const rule = env.emu.fail({
			kind: 'result',
			endpoint: SEGMENT_ENDPOINT,
			status: 500,
			body: { detail: 'Internal error' },
		});
		const result = await describe_({ options: { outputMode: 'url' } }, [item(picture)]);
		expect(result.error).toBeUndefined();
		expect(rule.hits).toBe(1);
		expect(calls(SEGMENT_ENDPOINT, 'result')).toHaveLength(2);
		expect(calls(SEGMENT_ENDPOINT, 'submit')).toHaveLength(1);
		expect(segmentations().size).toBe(1);
		expect(env.emu.jobs.size).toBe(1);
		// The fill's result was not touched by the rule.
		expect(calls(FILL_ENDPOINT, 'result')).toHaveLength(1);
	});

	it('a segmentation submit whose answer is lost but named by fal is followed: segmented once, then filled', async () => {
		env.emu.fail({
			kind: 'submit',
			endpoint: SEGMENT_ENDPOINT,
			acceptThenFail: true,
			status: 504,
			body: { detail: 'Gateway timeout' },
		});
		const result = await describe_({ options: { outputMode: 'url' } }, [item(picture)]);
		expect(result.error).toBeUndefined();
		expect(calls(SEGMENT_ENDPOINT, 'submit')).toHaveLength(1);
		expect(segmentations().size).toBe(1);
		expect(env.emu.jobs.size).toBe(1);
		expect(result.items[0].json).toMatchObject({
			segmentation_request_id: segmentationJobs()[0].id,
			estimated_cost_usd: 0.055,
		});
	});

	it('a segmentation submit fal may have accepted unnamed is never sent again, not even by Retry On Fail, and no fill follows', async () => {
		env.emu.fail({ kind: 'submit', endpoint: SEGMENT_ENDPOINT, acceptThenFail: true, reset: true });
		const result = await describe_({}, [item(picture)], { nodeSettings: RETRY });
		expect(calls(SEGMENT_ENDPOINT, 'submit')).toHaveLength(1);
		expect(segmentations().size).toBe(1);
		// The retry did not send it again: it says why, and where to look.
		expect(result.error?.message).toMatch(/^An earlier try of this item sent its request to fal/);
		expect(descriptionOf(result.error)).toContain('not charged twice');
		expect(env.emu.requestsFor(FILL_ENDPOINT)).toHaveLength(0);
		expect(uploadsNamed('mask.png')).toHaveLength(0);
	});

	it('a segmentation lost unnamed is charged to one item only, though each item that shares it fails on it', async () => {
		env.emu.fail({ kind: 'submit', endpoint: SEGMENT_ENDPOINT, acceptThenFail: true, reset: true });
		const result = await describe_(
			{ options: { concurrency: 1 } },
			[item(picture), item(picture), item(picture)],
			{
				continueOnFail: true,
			},
		);
		expect(calls(SEGMENT_ENDPOINT, 'submit')).toHaveLength(1);
		const costs = result.items.map(({ json }) => json.estimated_cost_usd);
		expect(result.items.map(({ json }) => typeof json.error)).toEqual([
			'string',
			'string',
			'string',
		]);
		// fal may bill the one segmentation it may have run: $0.005, once.
		expect(costs).toEqual([0.005, 0, 0]);
		expect(hintsOf(result).join()).toContain('$0.005');
	});

	it('a stopped execution cancels the segmentation at fal, and sends no fill', async () => {
		env.emu.configure({ latencyMs: 10_000 });
		const controller = new AbortController();
		const started = Date.now();
		const run = describe_({}, [item(picture)], { abortSignal: controller.signal });
		await waitFor(() => segmentations().size === 1);
		controller.abort();
		const result = await run;
		expect(result.run.status).toBe('canceled');
		expect(Date.now() - started).toBeLessThan(5_000);
		const [job] = segmentationJobs();
		await waitFor(() => job.cancelled);
		expect(job.status).toBe('CANCELLED');
		expect(calls(SEGMENT_ENDPOINT, 'cancel')).toHaveLength(1);
		expect(env.emu.requestsFor(FILL_ENDPOINT)).toHaveLength(0);
		expect(uploadsNamed('mask.png')).toHaveLength(0);
	});

	it("n8n's Retry On Fail picks up the earlier segmentation instead of paying again", async () => {
		env.emu.fail({
			kind: 'submit',
			endpoint: FILL_ENDPOINT,
			status: 422,
			body: { detail: [{ loc: ['body', 'prompt'], msg: 'try again', type: 'value_error' }] },
		});
		const result = await describe_({ options: { outputMode: 'url' } }, [item(picture)], {
			nodeSettings: RETRY,
		});
		expect(result.error).toBeUndefined();
		// Segmented once, on the first try; the retry only read its result again.
		expect(calls(SEGMENT_ENDPOINT, 'submit')).toHaveLength(1);
		expect(segmentations().size).toBe(1);
		expect(calls(SEGMENT_ENDPOINT, 'result')).toHaveLength(2);
		// The fill: refused once, accepted on the retry.
		expect(calls(FILL_ENDPOINT, 'submit')).toHaveLength(2);
		expect(env.emu.jobs.size).toBe(1);
		const [segmentation] = segmentationJobs();
		expect(result.items[0].json).toMatchObject({
			segmentation_request_id: segmentation.id,
			estimated_segmentation_cost_usd: 0.005,
			estimated_cost_usd: 0.055,
		});
	});
});

describe('Describe It with an image URL', () => {
	let served = 0;
	const files = serveFiles(() => {
		served++;
		return { '/landscape.png': picture };
	});

	it('fal segments and fills the linked image; nothing is uploaded, the mask goes inline', async () => {
		const imageUrl = `${files.base}/landscape.png`;
		const result = await describe_(
			{
				imageSource: 'url',
				imageUrl,
				options: { growMask: 0, returnMask: true, outputFormat: 'png' },
			},
			[{ json: {} }],
		);
		expect(result.error).toBeUndefined();
		const [segmentation] = segmentationJobs();
		expect(segmentation.input).toMatchObject({ prompt: 'the sky', image_url: imageUrl });
		const [fill] = [...env.emu.jobs.values()];
		expect(fill.input).toMatchObject({ image_url: imageUrl });
		expect(env.emu.uploads).toHaveLength(0);
		expect((fill.input as { mask_url: string }).mask_url).toMatch(/^data:image\/png;base64,/);
		expect(await whiteRows(await maskFalFilledWith())).toEqual(SKY_ROWS);
		expect(await whiteRows(await result.binary(result.items[0], 'mask'))).toEqual(SKY_ROWS);
		// fal fetched the image twice (segmentation, fill); the node never did.
		expect(served).toBe(2);
		// The fill's price from the image fal returned (40×30: 1 MP), plus the segmentation.
		expect(result.items[0].json).toMatchObject({
			segmentation_request_id: segmentation.id,
			estimated_segmentation_cost_usd: 0.005,
			estimated_fill_cost_usd: 0.05,
			estimated_cost_usd: 0.055,
		});
	});
});

describe('Describe It as an AI agent tool', () => {
	const TOOL_TYPE = 'n8n-nodes-fal-flux-fill.fluxProFillTool';
	const files = serveFiles(() => ({ '/landscape.png': picture }));

	it('takes the words from the agent and answers with links and JSON', async () => {
		const result = await runNode({
			nodeType: new FluxProFill(),
			typeName: TOOL_TYPE,
			parameters: {
				operation: 'fill',
				prompt: "={{ $fromAI('prompt', 'What to paint') }}",
				imageSource: 'url',
				imageUrl: "={{ $fromAI('image_url', 'Public link to the image') }}",
				maskSource: 'text',
				maskPrompt: "={{ $fromAI('mask_prompt', 'What to repaint, e.g. the sky') }}",
			},
			credentials: { falApi: { apiKey: KEY, proxyUrl: env.emu.proxyUrl } },
			// As n8n's tool wrapper does: the agent's arguments are the only input item.
			inputItems: [
				{
					json: {
						prompt: 'a sunset',
						image_url: `${files.base}/landscape.png`,
						mask_prompt: 'the sky',
					},
				},
			],
		});
		expect(result.error).toBeUndefined();
		const [segmentation] = segmentationJobs();
		expect(segmentation.input).toMatchObject({ prompt: 'the sky' });
		const [fill] = [...env.emu.jobs.values()];
		expect(fill.input).toMatchObject({ prompt: 'a sunset', sync_mode: false });
		expect(result.items).toHaveLength(1);
		expect(result.items[0].binary).toBeUndefined();
		expect(result.items[0].json).toMatchObject({
			request_id: fill.id,
			segmentation_request_id: segmentation.id,
			url: expect.stringMatching(/^http:\/\/127\.0\.0\.1/),
		});
		// Grow Mask unset: the sky grown by 8 rows.
		expect(await whiteRows(await maskFalFilledWith())).toEqual(
			rowsOf([20, WIDTH], [HEIGHT - 20, 0]),
		);
		expect(JSON.stringify(result.items.map((i) => i.json)).length).toBeLessThan(2_000);
	});
});

describe('Describe It with Submit', () => {
	it('returns the fill request and the segmentation with the cost parts', async () => {
		const result = await describe_({ operation: 'submit' }, [item(picture)]);
		expect(result.error).toBeUndefined();
		const [segmentation] = segmentationJobs();
		const [fill] = [...env.emu.jobs.values()];
		expect(segmentations().size).toBe(1);
		expect(env.emu.jobs.size).toBe(1);
		expect(result.items).toHaveLength(1);
		expect(result.items[0].json).toMatchObject({
			request_id: fill.id,
			segmentation_request_id: segmentation.id,
			num_images: 1,
			estimated_fill_cost_usd: 0.05,
			estimated_segmentation_cost_usd: 0.005,
			estimated_cost_usd: 0.055,
			request_estimated_cost_usd: 0.055,
		});
		expect(result.items[0].binary).toBeUndefined();
	});
});

describe('every path reports what it paid for: the items sum to the bill', () => {
	const sum = (result: Awaited<ReturnType<typeof describe_>>) =>
		Math.round(
			result.items.reduce((total, { json }) => total + Number(json.estimated_cost_usd ?? 0), 0) *
				10_000,
		) / 10_000;

	it.each([
		[
			'the fill refused by fal (422): only the segmentation',
			() =>
				env.emu.fail({
					kind: 'result',
					endpoint: FILL_ENDPOINT,
					status: 422,
					body: { detail: 'no' },
				}),
			0.005,
		],
		[
			'the image download failing: the fill was made, and billed',
			// Only the fill's images: they exist once the fill is submitted.
			() =>
				env.emu.fail({
					kind: 'file',
					status: 500,
					body: 'gone',
					times: Infinity,
					match: () => calls(FILL_ENDPOINT, 'submit').length > 0,
				}),
			0.055,
		],
		[
			"the item's timeout while fal had finished: the fill is counted, it may be billed",
			() =>
				env.emu.fail({ kind: 'stream', endpoint: FILL_ENDPOINT, delayMs: 10_000, times: Infinity }),
			0.055,
		],
	] as const)('%s', async (_name, fault, billed) => {
		fault();
		const result = await describe_({ options: { timeout: 2 } }, [item(picture)], {
			continueOnFail: true,
		});
		const [json] = result.items.map((i) => i.json);
		expect(json.error).toEqual(expect.any(String));
		expect(json).toMatchObject({
			segmentation_request_id: segmentationJobs()[0].id,
			estimated_segmentation_cost_usd: 0.005,
			estimated_cost_usd: billed,
			request_id: [...env.emu.jobs.keys()][0],
		});
		expect(sum(result)).toBe(billed);
		expect(hintsOf(result).join()).toContain(`$${billed.toFixed(3)}`);
	});

	it('Drop NSFW: 2 images made, 1 dropped; the kept image carries the whole bill', async () => {
		const result = await describe_(
			{ prompt: 'nsfw-test:1', options: { numImages: 2, dropNsfw: true, outputMode: 'url' } },
			[item(picture)],
		);
		expect(result.items).toHaveLength(1);
		expect(result.items[0].json).toMatchObject({
			estimated_cost_usd: 0.105,
			request_estimated_cost_usd: 0.105,
			estimated_fill_cost_usd: 0.1,
		});
		expect(sum(result)).toBe(0.105);
	});
});
