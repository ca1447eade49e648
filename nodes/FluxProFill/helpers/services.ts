import type { IExecuteFunctions } from 'n8n-workflow';
import type { Readable } from 'node:stream';

import { secretsOfKey } from '../errors/redact';
import type { BinaryReader } from '../images/pictures';
import { CanvasPreparer } from '../masks/canvasPreparer';
import { MaskPreparer } from '../masks/maskPreparer';
import { MAX_OUTPUT_IMAGE_BYTES, readCapped, type HttpGet } from '../transport/downloads';
import { FalError } from '../transport/falError';
import { createFalAccess, type FalAccess, type FalCredentials } from '../transport/falClient';
import { fetchThroughN8n } from '../transport/n8nFetch';
import { createResilientFetch } from '../transport/resilientFetch';
import { PictureUploader } from '../transport/uploads';
import { ExecutionStop } from './executionStop';
import { Segmenter } from './segmenter';

/** Everything one execution shares across its items: one fal client, one upload cache. */
export interface FalServices {
	/** The fal client, and what the transport needs beside it. */
	fal: FalAccess;
	uploader: PictureUploader;
	masks: MaskPreparer;
	/** Describe It and Expand Canvas: masks that need more than a mask file. */
	canvas: CanvasPreparer;
	segmenter: Segmenter;
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
		fetchImpl: fetchThroughN8n(async (options) => await ctx.helpers.httpRequest(options)),
		signal: stop.signal,
		onRetry: ({ attempt, delayMs, reason }) =>
			ctx.logger.warn(`fal request failed (${reason}); retry ${attempt} in ${delayMs} ms`),
	});
	const fal = createFalAccess(credentials, fetchWithRetries);
	const httpGet = n8nHttpGet(ctx);
	return {
		fal,
		uploader: new PictureUploader(fal.client),
		masks: new MaskPreparer(),
		canvas: new CanvasPreparer(),
		segmenter: new Segmenter(fal, httpGet, {
			executionId: ctx.getExecutionId(),
			nodeId: ctx.getNode().id,
		}),
		httpGet,
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

/** fal's CDN may redirect once or twice; more, or anywhere but http(s), is not an image link. */
const MAX_REDIRECTS = 3;

/**
 * Downloads through n8n's HTTP helper (so n8n's proxy and TLS settings apply), streamed
 * and capped. Redirects are followed here, a few and only to http(s), instead of by the
 * helper, which follows many and anywhere.
 */
function n8nHttpGet(ctx: IExecuteFunctions): HttpGet {
	return async (firstUrl, signal) => {
		let url = firstUrl;
		for (let hop = 0; ; hop++) {
			const response = (await ctx.helpers.httpRequest({
				method: 'GET',
				url,
				encoding: 'stream',
				returnFullResponse: true,
				disableFollowRedirect: true,
				ignoreHttpStatusErrors: true,
				abortSignal: signal,
				timeout: 120_000,
			})) as { body: Readable; headers: Record<string, string | undefined>; statusCode: number };
			const { statusCode, headers } = response;
			if (statusCode >= 300 && statusCode < 400 && headers.location) {
				response.body.destroy();
				url = nextHop(url, headers.location, hop);
				continue;
			}
			if (statusCode >= 400) {
				response.body.destroy();
				throw new Error(`the CDN answered HTTP ${statusCode}`);
			}
			const bytes = await readCapped(response.body, MAX_OUTPUT_IMAGE_BYTES, firstUrl);
			return { bytes, contentType: headers['content-type'] };
		}
	};
}

function nextHop(from: string, location: string, hop: number): string {
	const next = new URL(location, from);
	if (next.protocol !== 'https:' && next.protocol !== 'http:') {
		throw new FalError(
			`fal's image link redirects to a ${next.protocol.replace(/:$/, '')}: address`,
			{
				description: 'Only http(s) redirects are followed. Report the request to fal.',
			},
		);
	}
	if (hop + 1 > MAX_REDIRECTS) {
		throw new FalError(`fal's image link redirects more than ${MAX_REDIRECTS} times`, {
			description:
				'The image was not downloaded. Try again; if it persists, report the request to fal.',
		});
	}
	return next.href;
}
