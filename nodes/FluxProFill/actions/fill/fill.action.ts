import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import type { MaskPreparer } from '../../images/inputMask';
import { checkSameSize, loadPicture, type Picture } from '../../images/pictures';
import { ItemDeadline } from '../../transport/itemDeadline';
import { runQueuedFill, type FalFillInput } from '../../transport/queueRequest';
import { collectResult } from '../collectResult';
import { readConcurrency, readRawFillParameters, isToolMode } from '../parameters';
import { runItems, type ItemRunner } from '../runItems';
import { binaryReader, createFalServices, type FalServices } from '../services';
import { parseFillSettings, type FillSettings } from './settings';

/** Binary field of the output items that gets the mask sent to fal, when asked for. */
export const RETURNED_MASK_FIELD = 'mask';

/**
 * Fill: every input item becomes its generated images. The concurrency slot is held
 * from upload to fal's answer and released before the downloads, so the next item is
 * already at fal while they run.
 */
export async function executeFill(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const services = await createFalServices(this);
	const runner: ItemRunner<FillSettings> = {
		check: async (itemIndex) => await checkFillItem(this, itemIndex, services),
		run: async (itemIndex, settings, { atFal, stopSignal, track }) => {
			const { deadline, result, mask } = await atFal(async () => {
				const deadline = new ItemDeadline(stopSignal, settings.timeoutMs);
				const { input, mask } = await uploadInputs(this, itemIndex, settings, services);
				if (deadline.stopped) throw deadline.error();
				const result = await runQueuedFill(services.client, input, {
					deadline,
					onSubmitted: (requestId) => {
						track(requestId);
						this.logger.debug('fal accepted the fill request', { itemIndex, requestId });
					},
				});
				return { deadline, result, mask };
			});
			const items = await collectResult(this, itemIndex, result, { ...outputOptions(settings), deadline }, services);
			return settings.returnMask ? await attachMask(this, items, mask) : items;
		},
	};
	return await runItems(this, runner, { concurrency: readConcurrency(this), stop: services.stop, secrets: services.secrets });
}

/** Parameters and pictures of one item, before anything is uploaded or paid for. */
export async function checkFillItem(ctx: IExecuteFunctions, itemIndex: number, services: FalServices): Promise<FillSettings> {
	const settings = parseFillSettings(readRawFillParameters(ctx, itemIndex), { tool: isToolMode(ctx) });
	await loadPictures(ctx, itemIndex, settings, services.masks);
	return settings;
}

/** Reads the item's pictures again (one item's files in memory at a time) and gives fal URLs for them. */
export async function uploadInputs(
	ctx: IExecuteFunctions,
	itemIndex: number,
	settings: FillSettings,
	services: FalServices,
): Promise<{ input: FalFillInput; mask: Picture }> {
	const { image, mask } = await loadPictures(ctx, itemIndex, settings, services.masks);
	const [imageUrl, maskUrl] = await Promise.all([services.uploader.urlFor(image), services.uploader.urlFor(mask)]);
	return { input: toFalInput(settings, imageUrl, maskUrl), mask };
}

/** Adds the mask that was sent to fal to every output item, so users can see what was repainted. */
async function attachMask(ctx: IExecuteFunctions, items: INodeExecutionData[], mask: Picture): Promise<INodeExecutionData[]> {
	if (mask.kind !== 'bytes') return items;
	const binary = await ctx.helpers.prepareBinaryData(mask.bytes, 'mask.png', 'image/png');
	return items.map((item) => ({ ...item, binary: { ...item.binary, [RETURNED_MASK_FIELD]: binary } }));
}

async function loadPictures(ctx: IExecuteFunctions, itemIndex: number, settings: FillSettings, masks: MaskPreparer) {
	const reader = binaryReader(ctx, itemIndex);
	const image = await loadPicture('image', settings.image, reader);
	const mask = await masks.maskFor(settings.mask, image, reader, settings.maskOptions);
	checkSameSize(image, mask);
	return { image, mask };
}

function outputOptions(settings: FillSettings) {
	return {
		outputMode: settings.outputMode,
		binaryProperty: settings.outputBinaryProperty,
		dropNsfw: settings.dropNsfw,
		requested: settings.numImages,
	};
}

/** The endpoint's inputs, named as fal names them; defaults are sent explicitly so runs are reproducible. */
export function toFalInput(settings: FillSettings, imageUrl: string, maskUrl: string): FalFillInput {
	return {
		prompt: settings.prompt,
		image_url: imageUrl,
		mask_url: maskUrl,
		...(settings.seed !== undefined ? { seed: settings.seed } : {}),
		sync_mode: settings.syncMode,
		num_images: settings.numImages,
		output_format: settings.outputFormat,
		safety_tolerance: settings.safetyTolerance,
		enhance_prompt: settings.enhancePrompt,
	};
}
