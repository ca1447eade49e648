import type { IExecuteFunctions } from 'n8n-workflow';
import type { Readable } from 'node:stream';

import { secretsOfKey } from '../errors/redact';
import type { BinaryReader } from '../images/pictures';
import { MaskPreparer } from '../masks/maskPreparer';
import { MAX_OUTPUT_IMAGE_BYTES, readCapped, type HttpGet } from '../transport/downloads';
import { createFalAccess, type FalAccess, type FalCredentials } from '../transport/falClient';
import { createResilientFetch } from '../transport/resilientFetch';
import { PictureUploader } from '../transport/uploads';
import { ExecutionStop } from './executionStop';

/** Everything one execution shares across its items: one fal client, one upload cache. */
export interface FalServices {
	/** The fal client, and what the transport needs beside it. */
	fal: FalAccess;
	uploader: PictureUploader;
	masks: MaskPreparer;
	httpGet: HttpGet;
	stop: ExecutionStop;
	/** Strings that must never appear in output: the key and its secret half. */
	secrets: string[];
}

export async function createFalServices(ctx: IExecuteFunctions): Promise<FalServices> {
	const stored = (await ctx.getCredentials('falApi')) as unknown as FalCredentials;
	// A pasted key often brings a trailing space or newline; fal would refuse it, redaction would miss it.
	const credentials = { apiKey: String(stored.apiKey ?? '').trim(), proxyUrl: stored.proxyUrl };
	// Older n8n versions have no cancel signal; the node then simply runs to the end.
	const stop = new ExecutionStop(ctx.getExecutionCancelSignal?.());
	const fetchWithRetries = createResilientFetch({
		signal: stop.signal,
		onRetry: ({ attempt, delayMs, reason }) =>
			ctx.logger.warn(`fal request failed (${reason}); retry ${attempt} in ${delayMs} ms`),
	});
	const fal = createFalAccess(credentials, fetchWithRetries);
	return {
		fal,
		uploader: new PictureUploader(fal.client),
		masks: new MaskPreparer(),
		httpGet: n8nHttpGet(ctx),
		stop,
		secrets: secretsOfKey(credentials.apiKey),
	};
}

/** Reads an item's binary fields through n8n's helpers: works in every binary-data mode. */
export function binaryReader(ctx: IExecuteFunctions, itemIndex: number): BinaryReader {
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
