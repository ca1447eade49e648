import { createHash } from 'node:crypto';

import type { IExecuteFunctions } from 'n8n-workflow';

import { checkSameSize, loadPicture, type BinaryReader, type Picture } from '../images/pictures';
import type { ItemDeadline } from '../transport/itemDeadline';
import { submitRequest, type FalFillInput } from '../transport/queueRequest';
import { acceptedRequests, requestKey, type AcceptedRequest } from '../transport/requestMemory';
import { parseFillSettings, readRawFillParameters, type FillSettings } from './fillSettings';
import { isToolMode } from './itemParameters';
import { withSegmentation } from './segmenter';
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
	const reader = binaryReader(ctx, itemIndex);
	const image = await loadPicture('image', settings.image, reader);
	const source = settings.mask;
	if (source.kind === 'expand') services.canvas.plan(source, image);
	// Describe It's mask comes from fal, at a price: it is made when the item runs.
	else if (source.kind !== 'text') await maskFromItem(source, image, reader, settings, services);
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
	/** The size of the image sent (for the cost estimate); undefined for an image URL. */
	size?: { width: number; height: number };
	/** Describe It: the segmentation that made the mask. */
	segmentation?: { requestId: string; costUsd: number };
}

interface StartOptions {
	deadline: ItemDeadline;
	webhookUrl?: string;
	/** Whether a stop cancels a paid request (see the operations). */
	cancelOnStop: () => boolean;
}

/**
 * Gets one item's request to fal: reads its pictures again (one item's files in memory at
 * a time), and unless this item's request with the same inputs was accepted on an earlier
 * try of the node in this execution, uploads them and submits. Never pays twice for one
 * item across n8n's retries. With Describe It, fal's segmentation makes the mask first.
 */
export async function startFillRequest(
	ctx: IExecuteFunctions,
	itemIndex: number,
	settings: FillSettings,
	services: FalServices,
	options: StartOptions,
): Promise<StartedRequest> {
	const { image, mask, segmentation } = await picturesOf(
		ctx,
		itemIndex,
		settings,
		services,
		options,
	);
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
	const started = { key, mask, size, ...(segmentation ? { segmentation } : {}) };
	const earlier = acceptedRequests.recall(key);
	if (earlier) return { ...started, request: earlier, pickedUp: true };
	let answer;
	try {
		const [imageUrl, maskUrl] = await Promise.all([
			services.uploader.urlFor(image),
			services.uploader.urlFor(mask),
		]);
		if (options.deadline.stopped) throw options.deadline.error();
		answer = await submitRequest(
			services.fal,
			FAL_FILL_ENDPOINT,
			toFalInput(settings, imageUrl, maskUrl),
			options,
		);
	} catch (error) {
		throw segmentation ? withSegmentation(error, segmentation) : error;
	}
	const request = {
		endpoint: FAL_FILL_ENDPOINT,
		requestId: answer.request_id,
		answer: { ...answer },
	};
	acceptedRequests.remember(key, request);
	return { ...started, request, pickedUp: false };
}

/**
 * The image and mask fal gets. Without `run` (the check pass) nothing is paid for, so
 * Describe It cannot be asked for its mask.
 */
async function picturesOf(
	ctx: IExecuteFunctions,
	itemIndex: number,
	settings: FillSettings,
	services: FalServices,
	run?: StartOptions,
): Promise<{
	image: Picture;
	mask: Picture;
	segmentation?: { requestId: string; costUsd: number };
}> {
	const reader = binaryReader(ctx, itemIndex);
	const image = await loadPicture('image', settings.image, reader);
	const source = settings.mask;
	if (source.kind === 'expand') return await services.canvas.expand(source, image);
	if (source.kind === 'text') {
		if (!run) throw new Error('Describe It makes its mask only when the item runs');
		const url = await services.uploader.urlFor(image);
		const found = await services.segmenter.segment({ ref: contentRef(image), url }, source, run);
		const segmentation = { requestId: found.requestId, costUsd: found.costUsd };
		try {
			const mask = await services.canvas.fromSegmentation(
				found.mask,
				image,
				source,
				settings.maskOptions,
			);
			return { image, mask, segmentation };
		} catch (error) {
			throw withSegmentation(error, segmentation);
		}
	}
	return { image, mask: await maskFromItem(source, image, reader, settings, services) };
}

/** A mask from the item itself (a file, a link, the image's transparency, rectangles), checked against the image. */
async function maskFromItem(
	source: Exclude<FillSettings['mask'], { kind: 'text' | 'expand' }>,
	image: Picture,
	reader: BinaryReader,
	settings: FillSettings,
	services: FalServices,
): Promise<Picture> {
	const mask = await services.masks.maskFor(source, image, reader, settings.maskOptions);
	checkSameSize(image, mask);
	return mask;
}

/** A picture by its content: the same file uploaded again gets another URL, but not another ref. */
function contentRef(picture: Picture): string {
	if (picture.kind === 'url') return picture.url;
	return `sha256:${createHash('sha256').update(picture.bytes).digest('hex')}`;
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
