/**
 * Describe It (maskSource "text"): fal's segmentation (fal-ai/evf-sam, emulated: the
 * words name a colour, the mask is where the image has it) makes the mask, which is
 * then prepared like any other and filled. Run in n8n's engine against the emulator.
 */
import type { INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { makeColourImage, readPixels, SEGMENT_ENDPOINT } from '../emulator';
import { prepareBinary } from '../helpers/n8nHarness';
import { runFill, useEmulator } from './fixtures';

const env = useEmulator();

const WIDTH = 40;
const HEIGHT = 30;
const SKY = { left: 0, top: 0, width: WIDTH, height: 12 };
const BLUE: [number, number, number] = [0, 0, 255];
const GREEN: [number, number, number] = [0, 200, 0];

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

const item = (image: Buffer): INodeExecutionData => ({
	json: {},
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

describe('Describe It', () => {
	it('asks fal for the mask of the words, then fills with it', async () => {
		const image = await landscape();
		const result = await describe_(
			{ options: { growMask: 0, returnMask: true, outputFormat: 'png' } },
			[item(image)],
		);
		expect(result.error).toBeUndefined();
		expect(segmentations().size).toBe(1);
		const [job] = [...segmentations().values()];
		expect(job.input).toMatchObject({ prompt: 'the sky', mask_only: true });
		expect((job.input as { negative_prompt?: string }).negative_prompt).toBeUndefined();
		// The mask sent to fal is exactly the sky: rows 0–11 white, the rest black.
		const mask = await result.binary(result.items[0], 'mask');
		expect(await whiteRows(mask)).toEqual([
			...Array<number>(12).fill(WIDTH),
			...Array<number>(HEIGHT - 12).fill(0),
		]);
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
