import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';

import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';

/**
 * The node's HTTP for one execution: connections kept alive and reused across its calls
 * and items (a new TCP + TLS connection costs two more round trips than a request on a
 * warm one), closed with `close()` when the execution ends. Proxies are n8n's own: the
 * proxy of each URL comes from proxy-from-env and the agents are http(s)-proxy-agent, the
 * libraries and versions n8n 2.41 routes its requests with, so HTTPS_PROXY, HTTP_PROXY,
 * ALL_PROXY and NO_PROXY (lower case first) mean what they mean to n8n's nodes, and
 * NODE_EXTRA_CA_CERTS applies as to all TLS in the process. docs/proxy-design.md says why.
 */
export function keepAliveHttp(): { fetch: typeof fetch; close(): void } {
	const agents = new Map<string, http.Agent>();
	const agentFor = (url: URL): http.Agent => {
		const proxy = getProxyForUrl(url.href) || undefined;
		const key = `${url.protocol}${proxy ?? ''}`;
		let agent = agents.get(key);
		if (!agent) {
			const options = { keepAlive: true };
			const secure = url.protocol === 'https:';
			agent = proxy
				? secure
					? new HttpsProxyAgent(proxy, options)
					: new HttpProxyAgent(proxy, options)
				: new (secure ? https : http).Agent(options);
			agents.set(key, agent);
		}
		return agent;
	};
	return {
		fetch: async (input, init = {}) => {
			const request = input instanceof Request ? input : undefined;
			let url = new URL(request?.url ?? String(input));
			let method = (init.method ?? request?.method ?? 'GET').toUpperCase();
			const signal = init.signal ?? request?.signal ?? undefined;
			const headers: Record<string, string> = {};
			new Headers(init.headers ?? request?.headers).forEach(
				(value, name) => (headers[name] = value),
			);
			let body = await bodyOf(init.body ?? undefined);
			for (let hop = 0; ; hop++) {
				signal?.throwIfAborted();
				const answer = await send(url, { method, headers, agent: agentFor(url), signal }, body);
				const location = answer.headers.location;
				const status = answer.statusCode ?? 0;
				// Like fetch's `follow` (a few hops) unless asked for `manual`.
				if (init.redirect !== 'manual' && REDIRECTS.has(status) && location && hop < 3) {
					answer.resume();
					const next = new URL(location, url);
					// As fetch does: the key stays with its origin, and a 303 (a POST's 301 or
					// 302 too) is followed by a GET without the body.
					if (next.origin !== url.origin)
						for (const name of ['authorization', 'x-fal-target-url']) delete headers[name];
					if (status === 303 || (status <= 302 && method === 'POST')) {
						if (method !== 'HEAD') method = 'GET';
						body = undefined;
						for (const name of ['content-type', 'content-length']) delete headers[name];
					}
					url = next;
					continue;
				}
				return toResponse(answer, method, signal);
			}
		},
		close: () => {
			for (const agent of agents.values()) agent.destroy();
			agents.clear();
		},
	};
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Statuses whose answer has no body: a Response refuses one. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

function send(
	url: URL,
	options: http.RequestOptions & { signal?: AbortSignal },
	body: Buffer | undefined,
): Promise<http.IncomingMessage> {
	return new Promise((resolve, reject) => {
		const request = (url.protocol === 'https:' ? https : http).request(url, options, resolve);
		// fetch rejects with the signal's reason when stopped, and with a TypeError
		// "fetch failed" around the network error otherwise; the layers above rely on both.
		request.on('error', (error) =>
			reject(
				options.signal?.aborted
					? options.signal.reason
					: new TypeError('fetch failed', { cause: causeOf(error) }),
			),
		);
		request.end(body);
	});
}

function toResponse(answer: http.IncomingMessage, method: string, signal?: AbortSignal): Response {
	if (signal) {
		const stop = () => answer.destroy(signal.reason as Error);
		signal.addEventListener('abort', stop, { once: true });
		answer.once('close', () => signal.removeEventListener('abort', stop));
	}
	const status = answer.statusCode ?? 0;
	const empty = NULL_BODY.has(status) || method === 'HEAD';
	if (empty) answer.resume();
	const headers = new Headers();
	for (const [name, value] of Object.entries(answer.headers))
		for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value])
			headers.append(name, one);
	return new Response(empty ? null : (Readable.toWeb(answer) as ReadableStream<Uint8Array>), {
		status,
		statusText: answer.statusMessage ?? '',
		headers,
	});
}

async function bodyOf(body: RequestInit['body'] | undefined): Promise<Buffer | undefined> {
	if (body === undefined || body === null) return undefined;
	if (typeof body === 'string') return Buffer.from(body);
	if (body instanceof Blob) return Buffer.from(await body.arrayBuffer());
	if (body instanceof ArrayBuffer) return Buffer.from(body);
	if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
	// The fal client sends JSON text and Blobs only; anything else is a programming error.
	throw new TypeError(`keepAliveHttp cannot send a ${Object.prototype.toString.call(body)} body`);
}

/** The network error's code and words only: nothing else of the request it failed on. */
function causeOf(error: Error & { code?: unknown }): Error {
	const cause = new Error(error.message);
	cause.name = error.name;
	if (typeof error.code === 'string') Object.assign(cause, { code: error.code });
	return cause;
}
