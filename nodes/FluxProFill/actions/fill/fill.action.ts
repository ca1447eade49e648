import type { FalClient } from '@fal-ai/client';
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';
import pLimit from 'p-limit';
import type { Readable } from 'node:stream';

import { DEFAULT_CONCURRENCY } from '../../constants';
import { secretsOfKey } from '../../errors/redact';
import { toNodeError } from '../../errors/toNodeError';
import { checkSameSize, loadPicture, type BinaryReader } from '../../images/pictures';
import { buildOutputItem } from '../../output/outputItems';
import { selectResultImages } from '../../output/resultImages';
import { downloadImage, MAX_OUTPUT_IMAGE_BYTES, readCapped, type HttpGet } from '../../transport/downloads';
import { createFalClientForCredentials, type FalCredentials } from '../../transport/falClient';
import { ItemDeadline } from '../../transport/itemDeadline';
import { runQueuedFill, type FalFillInput, type QueueRunResult } from '../../transport/queueRequest';
import { createResilientFetch } from '../../transport/resilientFetch';
import { PictureUploader } from '../../transport/uploads';
import { parseFillSettings, type FillSettings, type RawFillParameters } from './settings';

type Failure = { itemIndex: number; error: unknown; requestId?: string };
type ItemOutcome = { items: INodeExecutionData[] } | Failure;

/**
 * The fill operation: every input item becomes its generated images, in input order.
 * All items are checked first (parameters and image headers, no fal call), so bad
 * input never costs money. Then items run concurrently up to the concurrency option;
 * a failing item becomes an error item (continueOnFail) or stops the node, cancelling
 * the items still running.
 */
export async function executeFill(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const items = this.getInputData();
	const continueOnFail = this.continueOnFail();
	const credentials = (await this.getCredentials('falApi')) as unknown as FalCredentials;
	const secrets = secretsOfKey(credentials.apiKey ?? '');
	const toError = (failure: Failure) =>
		toNodeError(this.getNode(), failure.error, failure.itemIndex, secrets, failure.requestId);

	const checked = await checkAllItems(this, items.length);
	const invalid = checked.find((entry): entry is Failure => 'error' in entry);
	if (invalid && !continueOnFail) throw toError(invalid);

	// Stops the other items when one fails and the node is to stop (no continueOnFail).
	const failFast = new AbortController();
	const executionSignal = this.getExecutionCancelSignal();
	const stopSignal = executionSignal ? AbortSignal.any([executionSignal, failFast.signal]) : failFast.signal;

	const fetchWithRetries = createResilientFetch({
		signal: stopSignal,
		onRetry: ({ attempt, delayMs, reason }) =>
			this.logger.warn(`fal request failed (${reason}); retry ${attempt} in ${delayMs} ms`),
	});
	const client = createFalClientForCredentials(credentials, fetchWithRetries);
	const services: ItemServices = { uploader: new PictureUploader(client), httpGet: n8nHttpGet(this), client };
	let firstFailure: Failure | undefined;

	// The limit counts requests at fal: a slot is held from upload to fal's answer, and
	// released before the downloads, so the next item is already queued while they run.
	const limit = pLimit(readConcurrency(this));
	const outcomes = await Promise.all(
		checked.map(async (entry, itemIndex): Promise<ItemOutcome> => {
			if ('error' in entry) return entry;
			const tracker: { requestId?: string } = {};
			try {
				const generated = await limit(async () => {
					const deadline = new ItemDeadline(stopSignal, entry.timeoutMs);
					if (deadline.stopped) throw deadline.error();
					return { deadline, ...(await generate(this, itemIndex, entry, deadline, services, tracker)) };
				});
				return { items: await collectImages(this, itemIndex, entry, generated, services) };
			} catch (error) {
				const failure = { itemIndex, error, requestId: tracker.requestId };
				if (!continueOnFail && !firstFailure) {
					firstFailure = failure;
					failFast.abort();
				}
				return failure;
			}
		}),
	);
	// n8n recognises a cancelled run by "canceled" in the error; no item output is wanted then.
	if (executionSignal?.aborted) {
		throw new NodeOperationError(this.getNode(), 'The execution was canceled', {
			description: 'fal requests that were still running were canceled too.',
		});
	}
	if (firstFailure) throw toError(firstFailure);

	return outcomes.flatMap((outcome) =>
		'items' in outcome
			? outcome.items
			: [{ json: errorJson(toError(outcome), outcome.requestId), pairedItem: { item: outcome.itemIndex } }],
	);
}

/**
 * Parameters and pictures of every item, before anything is uploaded or paid for.
 * One item's files are in memory at a time; they are read again when the item runs.
 */
async function checkAllItems(ctx: IExecuteFunctions, count: number): Promise<Array<FillSettings | Failure>> {
	const checked: Array<FillSettings | Failure> = [];
	for (let itemIndex = 0; itemIndex < count; itemIndex++) {
		try {
			const settings = parseFillSettings(readRawParameters(ctx, itemIndex));
			await loadPictures(ctx, itemIndex, settings);
			checked.push(settings);
		} catch (error) {
			checked.push({ itemIndex, error });
		}
	}
	return checked;
}

async function loadPictures(ctx: IExecuteFunctions, itemIndex: number, settings: FillSettings) {
	const reader = binaryReader(ctx, itemIndex);
	const image = await loadPicture('image', settings.image, reader);
	const mask = await loadPicture('mask', settings.mask, reader);
	checkSameSize(image, mask);
	return { image, mask };
}

interface ItemServices {
	client: FalClient;
	uploader: PictureUploader;
	httpGet: HttpGet;
}

/** One item up to fal's answer: read and check the pictures, upload them, run the request. */
async function generate(
	ctx: IExecuteFunctions,
	itemIndex: number,
	settings: FillSettings,
	deadline: ItemDeadline,
	services: ItemServices,
	tracker: { requestId?: string },
): Promise<QueueRunResult> {
	const { image, mask } = await loadPictures(ctx, itemIndex, settings);
	const [imageUrl, maskUrl] = await Promise.all([services.uploader.urlFor(image), services.uploader.urlFor(mask)]);
	if (deadline.stopped) throw deadline.error();
	return await runQueuedFill(services.client, toFalInput(settings, imageUrl, maskUrl), {
		deadline,
		onSubmitted: (id) => {
			tracker.requestId = id;
			ctx.logger.debug('fal accepted the fill request', { itemIndex, requestId: id });
		},
	});
}

/** fal's answer into output items: check it, download every image into n8n's binary data. */
async function collectImages(
	ctx: IExecuteFunctions,
	itemIndex: number,
	settings: FillSettings,
	{ requestId, data, deadline }: QueueRunResult & { deadline: ItemDeadline },
	services: ItemServices,
): Promise<INodeExecutionData[]> {
	const selection = selectResultImages(data, requestId, { requested: settings.numImages, dropNsfw: settings.dropNsfw });
	if (selection.warning) ctx.logger.warn(`fal request ${requestId}: ${selection.warning}`, { itemIndex });
	const context = { itemIndex, requestId, output: data, binaryProperty: settings.outputBinaryProperty, warning: selection.warning };
	const store = (bytes: Buffer, fileName: string, mimeType: string) =>
		ctx.helpers.prepareBinaryData(bytes, fileName, mimeType);
	return await Promise.all(
		selection.images.map(async (image) => {
			const downloaded = await downloadImage(image.url, services.httpGet, deadline.signal, requestId);
			return await buildOutputItem(context, image.index, downloaded, store);
		}),
	);
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

function readRawParameters(ctx: IExecuteFunctions, itemIndex: number): RawFillParameters {
	const get = (name: string, fallback: unknown = undefined) => ctx.getNodeParameter(name, itemIndex, fallback);
	const imageSource = get('imageSource', 'binary');
	const maskSource = get('maskSource', 'binary');
	return {
		prompt: get('prompt', ''),
		imageSource,
		imageBinaryProperty: imageSource === 'binary' ? get('imageBinaryProperty', 'data') : undefined,
		imageUrl: imageSource === 'url' ? get('imageUrl', '') : undefined,
		maskSource,
		maskBinaryProperty: maskSource === 'binary' ? get('maskBinaryProperty', 'mask') : undefined,
		maskUrl: maskSource === 'url' ? get('maskUrl', '') : undefined,
		options: (get('options', {}) ?? {}) as Record<string, unknown>,
	};
}

function readConcurrency(ctx: IExecuteFunctions): number {
	if (ctx.getInputData().length === 0) return DEFAULT_CONCURRENCY;
	const options = ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const value = Number(options.concurrency ?? DEFAULT_CONCURRENCY);
	return Number.isInteger(value) && value >= 1 ? value : DEFAULT_CONCURRENCY;
}

function binaryReader(ctx: IExecuteFunctions, itemIndex: number): BinaryReader {
	return {
		fields: () => ctx.getInputData()[itemIndex]?.binary,
		read: async (field) => await ctx.helpers.getBinaryDataBuffer(itemIndex, field),
	};
}

/** Downloads through n8n's HTTP helper (so n8n's proxy and TLS settings apply), streamed and capped. */
function n8nHttpGet(ctx: IExecuteFunctions): HttpGet {
	return async (url, signal) => {
		const response = (await ctx.helpers.httpRequest({
			method: 'GET',
			url,
			encoding: 'stream',
			returnFullResponse: true,
			abortSignal: signal,
			timeout: 120_000,
		})) as { body: Readable; headers: Record<string, string | undefined> };
		const bytes = await readCapped(response.body, MAX_OUTPUT_IMAGE_BYTES, url);
		return { bytes, contentType: response.headers['content-type'] };
	};
}

function errorJson(error: { message: string; description?: string | null; httpCode?: string | null }, requestId?: string): IDataObject {
	return {
		error: error.message,
		...(error.description ? { description: error.description } : {}),
		...(error.httpCode ? { http_code: error.httpCode } : {}),
		...(requestId ? { request_id: requestId } : {}),
	};
}
