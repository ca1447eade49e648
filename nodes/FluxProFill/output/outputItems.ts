import type { IBinaryData, IDataObject, INodeExecutionData } from 'n8n-workflow';

import { readImageInfo } from '../images/imageInfo';
import { FalTransportError } from '../transport/falErrors';
import type { DownloadedImage } from '../transport/downloads';
import type { FalFillOutput } from '../transport/queueRequest';

/** Stores bytes as n8n binary data (in memory, on disk or in the database, as n8n is set up). */
export type StoreBinary = (bytes: Buffer, fileName: string, mimeType: string) => Promise<IBinaryData>;

export interface OutputContext {
	itemIndex: number;
	requestId: string;
	output: FalFillOutput;
	binaryProperty: string;
	/** Set when fal's answer differs from what was asked (fewer images, NSFW dropped). */
	warning?: string;
}

/** Builds the output item of generated image `imageIndex` from its downloaded bytes. */
export async function buildOutputItem(
	context: OutputContext,
	imageIndex: number,
	image: DownloadedImage,
	storeBinary: StoreBinary,
): Promise<INodeExecutionData> {
	const { output, requestId } = context;
	const described = output.images?.[imageIndex];
	const info = readImageInfo(image.bytes);
	if (!info.ok || info.info.format === 'webp') {
		throw new FalTransportError(
			`Image ${imageIndex + 1} from fal is not a JPEG or PNG image (${info.ok ? info.info.format : info.reason})`,
			`Try again; if it persists, report fal request ID ${requestId} to fal.`,
			requestId,
		);
	}
	const { format, mimeType, width, height } = info.info;
	const fileName = `fal-fill-${requestId.slice(0, 8)}-${imageIndex + 1}.${format}`;
	const binary = await storeBinary(image.bytes, fileName, mimeType);
	const nsfwFlags = Array.isArray(output.has_nsfw_concepts) ? output.has_nsfw_concepts : [];
	const json: IDataObject = {
		request_id: requestId,
		image_index: imageIndex,
		url: shortenDataUri(described?.url ?? '', context.binaryProperty),
		content_type: mimeType,
		width,
		height,
		seed: output.seed ?? null,
		prompt: output.prompt ?? null,
		has_nsfw_concept: nsfwFlags[imageIndex] === true,
		has_nsfw_concepts: nsfwFlags,
		timings: (output.timings as IDataObject | undefined) ?? {},
		...(context.warning ? { warning: context.warning } : {}),
	};
	return {
		json,
		binary: { [context.binaryProperty]: binary },
		pairedItem: { item: context.itemIndex },
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
