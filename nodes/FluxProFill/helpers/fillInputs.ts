import { createHash } from 'node:crypto';

import type { IExecuteFunctions } from 'n8n-workflow';

import { checkSameSize, loadPicture, type Picture } from '../images/pictures';
import type { ItemDeadline } from '../transport/itemDeadline';
import { submitRequest, type FalFillInput } from '../transport/queueRequest';
import { acceptedRequests, requestKey, type AcceptedRequest } from '../transport/requestMemory';
import { parseFillSettings, readRawFillParameters, type FillSettings } from './fillSettings';
import { isToolMode } from './itemParameters';
import { binaryReader, type FalServices } from './services';
import { FAL_FILL_ENDPOINT } from './spec';

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

/** A fill request at fal for one item: newly accepted, or picked up from an earlier try. */
export interface StartedRequest {
	request: AcceptedRequest;
	/** It was accepted on an earlier try of this node in this execution (n8n's Retry On Fail). */
	pickedUp: boolean;
	/** Its key in the request memory, to forget it once fal has cancelled it. */
	key: string;
	/** The mask sent to fal, for Return Mask. */
	mask: Picture;
	/** The image's size when the node read it (for the cost estimate), else undefined. */
	size?: { width: number; height: number };
}

/**
 * Gets one item's request to fal: reads its pictures again (one item's files in memory at
 * a time), and unless this item's request with the same inputs was accepted on an earlier
 * try of the node in this execution, uploads them and submits. Never pays twice for one
 * item across n8n's retries.
 */
export async function startFillRequest(
	ctx: IExecuteFunctions,
	itemIndex: number,
	settings: FillSettings,
	services: FalServices,
	options: { deadline: ItemDeadline; webhookUrl?: string },
): Promise<StartedRequest> {
	const { image, mask } = await loadPictures(ctx, itemIndex, settings, services);
	const size =
		image.kind === 'bytes' ? { width: image.info.width, height: image.info.height } : undefined;
	const key = requestKey(
		{ executionId: ctx.getExecutionId(), nodeId: ctx.getNode().id, itemIndex },
		{
			endpoint: FAL_FILL_ENDPOINT,
			webhookUrl: options.webhookUrl,
			input: toFalInput(settings, contentRef(image), contentRef(mask)),
		},
	);
	const earlier = acceptedRequests.recall(key);
	if (earlier) return { request: earlier, pickedUp: true, key, mask, size };
	const [imageUrl, maskUrl] = await Promise.all([
		services.uploader.urlFor(image),
		services.uploader.urlFor(mask),
	]);
	if (options.deadline.stopped) throw options.deadline.error();
	const answer = await submitRequest(
		services.fal,
		FAL_FILL_ENDPOINT,
		toFalInput(settings, imageUrl, maskUrl),
		options,
	);
	const request = {
		endpoint: FAL_FILL_ENDPOINT,
		requestId: answer.request_id,
		answer: { ...answer },
	};
	acceptedRequests.remember(key, request);
	return { request, pickedUp: false, key, mask, size };
}

/** A picture by its content: the same file uploaded again gets another URL, but not another ref. */
function contentRef(picture: Picture): string {
	if (picture.kind === 'url') return picture.url;
	return `sha256:${createHash('sha256').update(picture.bytes).digest('hex')}`;
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
