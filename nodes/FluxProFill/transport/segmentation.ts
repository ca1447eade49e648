import { FAL_SEGMENT_ENDPOINT } from '../helpers/spec';
import { downloadImage, type HttpGet } from './downloads';
import type { FalAccess } from './falClient';
import { FalError } from './falError';
import type { ItemDeadline } from './itemDeadline';
import { awaitResult, submitRequest } from './queueRequest';
import { acceptedRequests, requestKey } from './requestMemory';

/** What fal-ai/evf-sam takes (docs/evf-sam.md); only what the node sets. */
export interface FalSegmentationInput {
	prompt: string;
	image_url: string;
	negative_prompt?: string;
	/** The black-and-white mask itself, not the image with the mask drawn on it. */
	mask_only: true;
}

export interface SegmentationRun {
	requestId: string;
	/** The mask image fal returned, checked to be a whole image. */
	mask: Buffer;
}

/**
 * One segmentation at fal: submitted (or, on n8n's Retry On Fail, picked up from the
 * earlier try), awaited and downloaded with the same rules as a fill — retried, never
 * sent twice, cancelled when the item stops. `memory` names it in the request memory:
 * the input with the image by content, since an upload gets a new URL each time.
 */
export async function runSegmentation(
	access: FalAccess,
	httpGet: HttpGet,
	input: FalSegmentationInput,
	options: {
		deadline: ItemDeadline;
		cancelOnStop: () => boolean;
		memory: { executionId: string; nodeId: string; imageRef: string };
	},
): Promise<SegmentationRun> {
	const { deadline, memory } = options;
	const key = requestKey(
		// Shared by the execution's items: one segmentation serves every item with this image and words.
		{ executionId: memory.executionId, nodeId: memory.nodeId, itemIndex: -1 },
		{ endpoint: FAL_SEGMENT_ENDPOINT, input: { ...input, image_url: memory.imageRef } },
	);
	let requestId = acceptedRequests.recall(key)?.requestId;
	if (!requestId) {
		const answer = await submitRequest(access, FAL_SEGMENT_ENDPOINT, input, { deadline });
		requestId = answer.request_id;
		acceptedRequests.remember(key, {
			endpoint: FAL_SEGMENT_ENDPOINT,
			requestId,
			answer: { ...answer },
		});
	}
	let result;
	try {
		result = await awaitResult(access, FAL_SEGMENT_ENDPOINT, requestId, {
			deadline,
			cancelOnStop: options.cancelOnStop,
		});
	} catch (error) {
		if (error instanceof FalError && error.cancelledAtFal) acceptedRequests.forget(key);
		throw error;
	}
	const url = (result.data as { image?: { url?: unknown } }).image?.url;
	if (typeof url !== 'string' || url === '') {
		throw new FalError("fal's segmentation answer holds no mask image", {
			requestId,
			description: `Try again; if it persists, report fal request ID ${requestId} to fal.`,
		});
	}
	const downloaded = await deadline.guard(
		async () => await downloadImage(url, httpGet, deadline.signal, requestId),
		requestId,
		'alreadyCompleted',
	);
	return { requestId, mask: downloaded.bytes };
}
