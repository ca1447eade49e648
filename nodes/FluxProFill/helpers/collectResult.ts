import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { binaryOutputItem, urlOutputItem } from '../output/outputItems';
import { selectResultImages } from '../output/resultImages';
import { downloadImage } from '../transport/downloads';
import type { ItemDeadline } from '../transport/itemDeadline';
import type { QueueRunResult } from '../transport/queueRequest';
import type { FalServices } from './services';
import type { OutputMode } from './spec';

/** How the images come back: the result options that Fill and Get Result share. */
export interface CollectOptions {
	outputMode: OutputMode;
	outputBinaryProperty: string;
	dropNsfw: boolean;
	/** Images asked for, to notice an answer with fewer; undefined when not known (getResult). */
	numImages?: number;
}

/** fal's answer into output items: checked, then each image downloaded into n8n's binary data, or linked. */
export async function collectResult(
	ctx: IExecuteFunctions,
	itemIndex: number,
	{ requestId, data }: QueueRunResult,
	options: CollectOptions,
	deadline: ItemDeadline,
	services: Pick<FalServices, 'httpGet'>,
): Promise<INodeExecutionData[]> {
	const selection = selectResultImages(data, requestId, {
		requested: options.numImages ?? data.images?.length ?? 0,
		dropNsfw: options.dropNsfw,
	});
	if (selection.warning)
		ctx.logger.warn(`fal request ${requestId}: ${selection.warning}`, { itemIndex });
	const context = {
		itemIndex,
		requestId,
		output: data,
		binaryProperty: options.outputBinaryProperty,
		imagesReturned: selection.returned,
		warning: selection.warning,
	};
	if (options.outputMode === 'url')
		return selection.images.map((image) => urlOutputItem(context, image));
	const store = (bytes: Buffer, fileName: string, mimeType: string) =>
		ctx.helpers.prepareBinaryData(bytes, fileName, mimeType);
	// The item fails as a whole: once one image cannot be had, its siblings stop downloading.
	const siblings = new AbortController();
	const signal = AbortSignal.any([deadline.signal, siblings.signal]);
	return await Promise.all(
		selection.images.map(async (image) => {
			try {
				// fal has finished by now: a timeout here stops the download, there is nothing to cancel.
				const downloaded = await deadline.guard(
					async () => await downloadImage(image.url, services.httpGet, signal, requestId),
					requestId,
					'alreadyCompleted',
				);
				return await binaryOutputItem(context, image, downloaded, store);
			} catch (error) {
				siblings.abort();
				throw error;
			}
		}),
	);
}
