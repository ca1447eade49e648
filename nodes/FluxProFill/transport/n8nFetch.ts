import type { IHttpRequestOptions } from 'n8n-workflow';
import { Readable } from 'node:stream';

import { networkCodeOf } from './errors';

/** n8n's `helpers.httpRequest`, as much of it as the adapter uses. */
export type N8nHttpRequest = (options: IHttpRequestOptions) => Promise<unknown>;

interface StreamedResponse {
	body: Readable;
	headers: Record<string, string | string[] | undefined>;
	statusCode: number;
	statusMessage?: string;
}

/** Statuses whose answer has no body: a Response refuses one. */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * A WHATWG `fetch` that sends every request through n8n's own HTTP helper, so that the
 * fal client's calls (submits, uploads, status streams, results, cancels) use n8n's
 * networking exactly like n8n's own nodes: HTTP_PROXY / HTTPS_PROXY / ALL_PROXY with
 * NO_PROXY (lower case first), NODE_EXTRA_CA_CERTS, and whatever an n8n version adds
 * (SSRF protection, allowed domains). Node's global fetch ignores all of these.
 *
 * Answers are streamed, never buffered here; redirects are the helper's (as fetch's
 * `follow`) unless `redirect: 'manual'`; HTTP error statuses are answers, as with fetch.
 */
export function fetchThroughN8n(httpRequest: N8nHttpRequest): typeof fetch {
	return async (input, init = {}) => {
		const request = input instanceof Request ? input : undefined;
		const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
		const method = (init.method ?? request?.method ?? 'GET').toUpperCase();
		const signal = init.signal ?? request?.signal ?? undefined;
		signal?.throwIfAborted();
		const body = await bodyOf(init.body ?? undefined);
		let answer: StreamedResponse;
		try {
			answer = (await httpRequest({
				method: method as IHttpRequestOptions['method'],
				url,
				headers: headerRecord(new Headers(init.headers ?? request?.headers)),
				...(body !== undefined ? { body } : {}),
				encoding: 'stream',
				returnFullResponse: true,
				ignoreHttpStatusErrors: true,
				json: false,
				...(init.redirect === 'manual' ? { disableFollowRedirect: true } : {}),
				...(signal ? { abortSignal: signal } : {}),
			})) as StreamedResponse;
		} catch (error) {
			// fetch rejects with the signal's reason when stopped, and with a TypeError
			// "fetch failed" around the network error otherwise; the layers above rely on both.
			if (signal?.aborted) throw signal.reason;
			throw new TypeError('fetch failed', { cause: networkCause(error) });
		}
		const { body: stream, statusCode } = answer;
		if (signal) {
			const stop = () => stream.destroy(signal.reason as Error);
			signal.addEventListener('abort', stop, { once: true });
			stream.once('close', () => signal.removeEventListener('abort', stop));
		}
		const empty = NULL_BODY_STATUS.has(statusCode) || method === 'HEAD';
		if (empty) stream.destroy();
		return new Response(empty ? null : (Readable.toWeb(stream) as ReadableStream<Uint8Array>), {
			status: statusCode,
			statusText: answer.statusMessage ?? '',
			headers: responseHeaders(answer.headers),
		});
	};
}

async function bodyOf(body: RequestInit['body'] | undefined): Promise<string | Buffer | undefined> {
	if (body === undefined || body === null) return undefined;
	if (typeof body === 'string') return body;
	if (body instanceof URLSearchParams) return body.toString();
	if (body instanceof Blob) return Buffer.from(await body.arrayBuffer());
	if (body instanceof ArrayBuffer) return Buffer.from(body);
	if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
	// The fal client sends JSON text and Blobs only; anything else is a programming error.
	throw new TypeError(`fetchThroughN8n cannot send a ${Object.prototype.toString.call(body)} body`);
}

function headerRecord(headers: Headers): Record<string, string> {
	const record: Record<string, string> = {};
	headers.forEach((value, name) => {
		record[name] = value;
	});
	return record;
}

function responseHeaders(raw: StreamedResponse['headers']): Headers {
	const headers = new Headers();
	for (const [name, value] of Object.entries(raw ?? {})) {
		if (value === undefined) continue;
		for (const one of Array.isArray(value) ? value : [String(value)]) headers.append(name, one);
	}
	return headers;
}

/**
 * The network error without the rest of what the HTTP library attaches: its request
 * options include the headers, and with them the fal key.
 */
function networkCause(error: unknown): Error {
	const { message, name } = (error ?? {}) as { message?: unknown; name?: unknown };
	const cause = new Error(typeof message === 'string' ? message : String(error));
	if (typeof name === 'string') cause.name = name;
	const code = networkCodeOf(error);
	if (code !== undefined) Object.assign(cause, { code });
	return cause;
}
