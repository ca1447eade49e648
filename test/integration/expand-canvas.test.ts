/**
 * Expand Canvas (maskSource "expand", outpainting): the node pads the image from its
 * edges, masks the new part (plus the overlap), checks the size against fal's limits
 * before paying, and fills. Run in n8n's engine against the emulator.
 */
import type { INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { makeTestImage, readPixels } from '../emulator';
import { prepareBinary } from '../helpers/n8nHarness';
import { runFill, useEmulator } from './fixtures';

const env = useEmulator();

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

describe('Expand Canvas', () => {
	it('grows a 48×64 portrait to 16:9 around its centre, and fal gets the padded image and its mask', async () => {
		const image = await makeTestImage({ width: 48, height: 64, format: 'png', seed: 5 });
		const result = await expand(
			{
				expandBy: 'aspectRatio',
				expandAspectRatio: '16:9',
				expandAnchor: 'center',
				expandOverlap: 4,
				options: { returnMask: true, outputFormat: 'png' },
			},
			[item(image)],
		);
		expect(result.error).toBeUndefined();
		// 64 high at 16:9 is 114 wide (113.8 rounded): 66 pixels added, 33 a side.
		expect(result.items[0].json).toMatchObject({ width: 114, height: 64 });
		const mask = await readPixels(await result.binary(result.items[0], 'mask'));
		expect([mask.width, mask.height]).toEqual([114, 64]);
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
		// The image fal got has the original's pixels at the offset.
		const [job] = [...env.emu.jobs.values()];
		expect(job.input).toMatchObject({ prompt: 'more of the same' });
		const uploaded = env.emu.uploads.find((upload) => upload.fileName === 'expanded.png');
		expect(uploaded).toBeDefined();
	});

	it('refuses a canvas beyond fal-ready limits before anything is uploaded', async () => {
		const image = await makeTestImage({ width: 48, height: 64, format: 'png', seed: 5 });
		const result = await expand({ expandBy: 'pixels', expandLeft: 20_000, expandOverlap: 0 }, [
			item(image),
		]);
		expect(result.error?.message).toMatch(/20048/);
		expect(env.emu.requests).toEqual([]);
	});
});
