import type { IExecuteFunctions } from 'n8n-workflow';

import { checkSameSize, loadPicture, type Picture } from '../images/pictures';
import type { FalFillInput } from '../transport/queueRequest';
import { parseFillSettings, readRawFillParameters, type FillSettings } from './fillSettings';
import { isToolMode } from './itemParameters';
import { binaryReader, type FalServices } from './services';

/*
 * What Fill and Submit share: an item's settings and pictures, checked before anything
 * is paid for, then uploaded and turned into the endpoint's input.
 */

/** Parameters and pictures of one item, before anything is uploaded or paid for. */
export async function checkFillItem(
	ctx: IExecuteFunctions,
	itemIndex: number,
	services: FalServices,
): Promise<FillSettings> {
	const settings = parseFillSettings(readRawFillParameters(ctx, itemIndex), {
		tool: isToolMode(ctx),
	});
	await loadPictures(ctx, itemIndex, settings, services);
	return settings;
}

/** Reads the item's pictures again (one item's files in memory at a time) and gives fal URLs for them. */
export async function uploadInputs(
	ctx: IExecuteFunctions,
	itemIndex: number,
	settings: FillSettings,
	services: FalServices,
): Promise<{ input: FalFillInput; mask: Picture }> {
	const { image, mask } = await loadPictures(ctx, itemIndex, settings, services);
	const [imageUrl, maskUrl] = await Promise.all([
		services.uploader.urlFor(image),
		services.uploader.urlFor(mask),
	]);
	return { input: toFalInput(settings, imageUrl, maskUrl), mask };
}

async function loadPictures(
	ctx: IExecuteFunctions,
	itemIndex: number,
	settings: FillSettings,
	services: FalServices,
) {
	const reader = binaryReader(ctx, itemIndex);
	const image = await loadPicture('image', settings.image, reader);
	const mask = await services.masks.maskFor(settings.mask, image, reader, settings.maskOptions);
	checkSameSize(image, mask);
	return { image, mask };
}

/** The endpoint's inputs, named as fal names them; defaults are sent explicitly so runs are reproducible. */
export function toFalInput(
	settings: FillSettings,
	imageUrl: string,
	maskUrl: string,
): FalFillInput {
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
