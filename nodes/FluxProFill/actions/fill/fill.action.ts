import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { checkSameSize, loadPicture } from '../../images/pictures';
import { ItemDeadline } from '../../transport/itemDeadline';
import { runQueuedFill, type FalFillInput } from '../../transport/queueRequest';
import { collectResult } from '../collectResult';
import { readConcurrency, readRawFillParameters, isToolMode } from '../parameters';
import { runItems, type ItemRunner } from '../runItems';
import { binaryReader, createFalServices, type FalServices } from '../services';
import { parseFillSettings, type FillSettings } from './settings';

/**
 * Fill: every input item becomes its generated images. The concurrency slot is held
 * from upload to fal's answer and released before the downloads, so the next item is
 * already at fal while they run.
 */
export async function executeFill(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const services = await createFalServices(this);
	const runner: ItemRunner<FillSettings> = {
		check: async (itemIndex) => await checkFillItem(this, itemIndex),
		run: async (itemIndex, settings, { atFal, stopSignal, track }) => {
			const { deadline, result } = await atFal(async () => {
				const deadline = new ItemDeadline(stopSignal, settings.timeoutMs);
				const input = await uploadInputs(this, itemIndex, settings, services);
				if (deadline.stopped) throw deadline.error();
				const result = await runQueuedFill(services.client, input, {
					deadline,
					onSubmitted: (requestId) => {
						track(requestId);
						this.logger.debug('fal accepted the fill request', { itemIndex, requestId });
					},
				});
				return { deadline, result };
			});
			return await collectResult(this, itemIndex, result, { ...outputOptions(settings), signal: deadline.signal }, services);
		},
	};
	return await runItems(this, runner, { concurrency: readConcurrency(this), stop: services.stop, secrets: services.secrets });
}

/** Parameters and pictures of one item, before anything is uploaded or paid for. */
export async function checkFillItem(ctx: IExecuteFunctions, itemIndex: number): Promise<FillSettings> {
	const settings = parseFillSettings(readRawFillParameters(ctx, itemIndex), { tool: isToolMode(ctx) });
	await loadPictures(ctx, itemIndex, settings);
	return settings;
}

/** Reads the item's pictures again (one item's files in memory at a time) and gives fal URLs for them. */
export async function uploadInputs(
	ctx: IExecuteFunctions,
	itemIndex: number,
	settings: FillSettings,
	services: FalServices,
): Promise<FalFillInput> {
	const { image, mask } = await loadPictures(ctx, itemIndex, settings);
	const [imageUrl, maskUrl] = await Promise.all([services.uploader.urlFor(image), services.uploader.urlFor(mask)]);
	return toFalInput(settings, imageUrl, maskUrl);
}

async function loadPictures(ctx: IExecuteFunctions, itemIndex: number, settings: FillSettings) {
	const reader = binaryReader(ctx, itemIndex);
	const image = await loadPicture('image', settings.image, reader);
	const mask = await loadPicture('mask', settings.mask, reader);
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
