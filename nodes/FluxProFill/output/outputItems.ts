import type { IBinaryData, IDataObject, INodeExecutionData } from 'n8n-workflow';

import { readImageInfo } from '../images/imageInfo';
import { FalError } from '../transport/falError';
import type { DownloadedImage } from '../transport/downloads';
import type { FalFillOutput } from '../transport/queueRequest';
import { estimateCostUsd } from './cost';
import type { SelectedImage } from './resultImages';

/** Stores bytes as n8n binary data (in memory, on disk or in the database, as n8n is set up). */
export type StoreBinary = (
	bytes: Buffer,
	fileName: string,
	mimeType: string,
) => Promise<IBinaryData>;

export interface OutputContext {
	itemIndex: number;
	requestId: string;
	output: FalFillOutput;
	binaryProperty: string;
	/** Images fal returned for the request (before any were dropped), for the cost. */
	imagesReturned: number;
	/** Set when fal's answer differs from what was asked (fewer images, NSFW dropped). */
	warning?: string;
}

/** The output item of one image, with its bytes in the binary field. */
export async function binaryOutputItem(
	context: OutputContext,
	image: SelectedImage,
	downloaded: DownloadedImage,
	storeBinary: StoreBinary,
): Promise<INodeExecutionData> {
	const info = readImageInfo(downloaded.bytes);
	if (!info.ok || info.info.format === 'webp') {
		throw new FalError(
			`Image ${image.index + 1} from fal is not a JPEG or PNG image (${info.ok ? info.info.format : info.reason})`,
			{
				description: `Try again; if it persists, report fal request ID ${context.requestId} to fal.`,
				requestId: context.requestId,
			},
		);
	}
	const { format, mimeType, width, height } = info.info;
	const fileName = `fal-fill-${context.requestId.slice(0, 8)}-${image.index + 1}.${format}`;
	const binary = await storeBinary(downloaded.bytes, fileName, mimeType);
	return {
		json: imageJson(context, image, {
			url: shortenDataUri(image.url, context.binaryProperty),
			mimeType,
			width,
			height,
		}),
		binary: { [context.binaryProperty]: binary },
		pairedItem: { item: context.itemIndex },
	};
}

/** The output item of one image as a link only; size and type are as fal described them. */
export function urlOutputItem(context: OutputContext, image: SelectedImage): INodeExecutionData {
	const described = context.output.images?.[image.index];
	return {
		json: imageJson(context, image, {
			url: image.url,
			mimeType: described?.content_type ?? null,
			width: described?.width ?? null,
			height: described?.height ?? null,
		}),
		pairedItem: { item: context.itemIndex },
	};
}

function imageJson(
	context: OutputContext,
	image: SelectedImage,
	file: { url: string; mimeType: string | null; width: number | null; height: number | null },
): IDataObject {
	const { output, requestId } = context;
	// Only what fal's answer is documented to hold, each bounded: the item's JSON is saved
	// with every execution, and an answer is not trusted to be small.
	const flags = Array.isArray(output.has_nsfw_concepts)
		? output.has_nsfw_concepts.slice(0, MAX_LISTED).map((flag) => flag === true)
		: [];
	return {
		request_id: requestId,
		image_index: image.index,
		url: file.url,
		content_type: file.mimeType,
		width: file.width,
		height: file.height,
		seed: typeof output.seed === 'number' ? output.seed : null,
		prompt: typeof output.prompt === 'string' ? output.prompt.slice(0, MAX_PROMPT_CHARS) : null,
		has_nsfw_concept: image.nsfw,
		has_nsfw_concepts: flags,
		timings: boundedTimings(output.timings),
		// This image's share, so that summing the items gives the run's cost; and its request's total.
		estimated_cost_usd: estimateCostUsd(file.width ?? 0, file.height ?? 0, 1),
		request_estimated_cost_usd: estimateCostUsd(
			file.width ?? 0,
			file.height ?? 0,
			context.imagesReturned,
		),
		...(context.warning ? { warning: context.warning } : {}),
	};
}

/**
 * In sync mode fal's `url` is the whole image as base64. Copying megabytes into the
 * item's JSON (which n8n saves with every execution) would double the data for nothing:
 * the bytes are in the binary field.
 */
function shortenDataUri(url: string, binaryProperty: string): string {
	if (!url.startsWith('data:')) return url;
	const header = url.slice(0, url.indexOf(',') + 1);
	return `${header}(omitted: the image is in binary field "${binaryProperty}")`;
}

const MAX_LISTED = 16;
const MAX_PROMPT_CHARS = 10_000;

/** fal's timings are a few named durations: keep up to 16 numbers under short names. */
function boundedTimings(timings: unknown): IDataObject {
	if (!timings || typeof timings !== 'object' || Array.isArray(timings)) return {};
	const kept: IDataObject = {};
	for (const [name, value] of Object.entries(timings).slice(0, MAX_LISTED)) {
		if (typeof value === 'number' && name.length <= 64) kept[name] = value;
	}
	return kept;
}
