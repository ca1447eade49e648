import { createFalClient, type FalClient } from '@fal-ai/client';

import { CAPS, FAL_REQUEST_ID, TIMING } from '../common/constants';
import { fal as words, parameters } from '../common/messages';
import { FalError, falError, isAbort, networkFailure, type FalErrorFields } from './errors';

export interface FalCredentials {
	apiKey: string;
	proxyUrl?: string;
}

/** The way to fal for one execution: the client, and the same way for the calls it has no method for. */
export interface Fal {
	client: FalClient;
	/** An API call as the client would send it (key, server proxy), through the same checked fetch. */
	call(url: string, init?: RequestInit): Promise<Response>;
	/** A plain request (the CDN, storage PUTs): no key, no server proxy. */
	send: typeof fetch;
	/** n8n's log, for retries. */
	warn: (message: string) => void;
}

/**
 * One client per execution, with the key passed explicitly: the library's global
 * configuration is shared by the whole n8n process, and without a key it silently falls
 * back to FAL_KEY from the server's environment. Every call goes through `checked`, so the
 * client never sees an answer or error it would retry on its own: the node's retry policy
 * is stated once, where each call is made (queue.ts).
 */
export function createFal(
	credentials: FalCredentials,
	send: typeof fetch,
	options: { warn?: (message: string) => void; stop?: AbortSignal } = {},
): Fal {
	const { warn = () => undefined, stop = new AbortController().signal } = options;
	const proxyUrl = checkProxyUrl(credentials.proxyUrl);
	const fetchChecked = checkedFetch(send, stop);
	return {
		client: createFalClient({
			credentials: credentials.apiKey,
			suppressLocalCredentialsWarning: true,
			...(proxyUrl ? { proxyUrl: { url: proxyUrl, when: 'always' as const } } : {}),
			fetch: fetchChecked,
			retry: { maxRetries: 0 },
		}),
		call: async (url, init = {}) => {
			const headers = new Headers(init.headers);
			headers.set('authorization', `Key ${credentials.apiKey}`);
			if (proxyUrl) headers.set('x-fal-target-url', url);
			return await fetchChecked(proxyUrl ?? url, { ...init, headers });
		},
		send,
		warn,
	};
}

/**
 * A fetch whose answers are safe to read: an error status becomes a FalError (with fal's
 * body, capped, and the request id fal named), a network failure a FalError without the
 * library's error in it; a JSON or text answer is read here, capped, so a huge or endless
 * one is a clear error and not a process out of memory. Event streams pass through for
 * the stream reader, which caps them itself.
 */
function checkedFetch(send: typeof fetch, stop: AbortSignal): typeof fetch {
	return async (input, given) => {
		// Behind the credential's server proxy, fal's own URL travels in a header.
		const target = new URL(
			new Headers(given?.headers).get('x-fal-target-url') ??
				String(input instanceof Request ? input.url : input),
		);
		// The client passes no signal to its storage calls: they get the execution's stop
		// and a time limit of their own, so a stalled upload can neither hang nor outlive a cancel.
		const ownLimit = given?.signal ? undefined : AbortSignal.timeout(TIMING.uploadCallMs);
		const init = ownLimit ? { ...given, signal: AbortSignal.any([stop, ownLimit]) } : given;
		// What a failed send or read throws: our own limit is a network timeout, a stop the
		// abort as it is, anything else a network failure without the library's error.
		const failure = (error: unknown, fields: FalErrorFields = {}) => {
			if (ownLimit?.aborted && !stop.aborted)
				return networkFailure(error, { ...fields, networkCode: 'ETIMEDOUT' });
			if (isAbort(error) || init?.signal?.aborted) return error;
			return networkFailure(error, fields);
		};
		let response: Response;
		try {
			response = await send(input, init);
		} catch (error) {
			throw failure(error);
		}
		const requestId = idFrom(response.headers.get('x-fal-request-id'));
		const type = response.headers.get('content-type') ?? '';
		if (response.ok && type.startsWith('text/event-stream')) return response;
		// A result in sync mode carries the images inline; every other answer is small.
		const isResult = /\/requests\/[^/]+$/.test(target.pathname);
		const cap = response.ok && isResult ? CAPS.resultBytes : CAPS.jsonBytes;
		let text: string;
		try {
			// An error answer is only read for its words: its start is enough.
			text = await readCapped(response, cap, target.pathname, !response.ok);
		} catch (error) {
			if (error instanceof FalError) throw error;
			throw failure(error, { requestId, status: undefined });
		}
		if (!response.ok) {
			const body = parseJson(text) ?? text;
			throw new FalError(`HTTP ${response.status}`, {
				status: response.status,
				body,
				requestId: requestId ?? idFrom((body as { request_id?: unknown })?.request_id),
				retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
			});
		}
		const empty = [204, 205, 304].includes(response.status);
		return new Response(empty ? null : text, {
			status: response.status,
			headers: response.headers,
		});
	};
}

/** A body as text, failing as soon as it passes `cap` bytes, or cut there with `truncate`. */
export async function readCapped(
	response: Response,
	cap: number,
	what: string,
	truncate = false,
): Promise<string> {
	if (!response.body) return '';
	const chunks: Uint8Array[] = [];
	let length = 0;
	for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
		if (length + chunk.length > cap) {
			await response.body.cancel().catch(() => undefined);
			if (!truncate) throw falError(words.tooLarge(what, cap));
			chunks.push(chunk.subarray(0, cap - length));
			break;
		}
		length += chunk.length;
		chunks.push(chunk);
	}
	return Buffer.concat(chunks).toString('utf8');
}

export function parseJson(text: string): unknown {
	try {
		return JSON.parse(text) as unknown;
	} catch {
		return undefined;
	}
}

function idFrom(value: unknown): string | undefined {
	return typeof value === 'string' && FAL_REQUEST_ID.test(value) ? value : undefined;
}

/** Retry-After as seconds or an HTTP date, in milliseconds; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
	if (value === null || value.trim() === '') return undefined;
	const seconds = Number(value);
	if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
	const date = Date.parse(value);
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The credential's Proxy URL, checked: empty means fal directly. A user and password in it
 * cannot work (the Authorization header carries the fal key), so they are refused with a
 * message that never repeats them.
 */
export function checkProxyUrl(value: string | undefined): string | undefined {
	const text = value?.trim();
	if (!text) return undefined;
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw parameters.proxyUrlInvalid();
	}
	if (url.username || url.password) throw parameters.proxyUrlWithLogin();
	if (url.protocol !== 'https:' && url.protocol !== 'http:')
		throw parameters.proxyUrlScheme(url.protocol.replace(/:$/, ''));
	return text;
}
