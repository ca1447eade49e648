import { CAPS, TIMING } from '../common/constants';
import { fal as words } from '../common/messages';
import { FalError, falError, isAbort, networkFailure } from './errors';
import { sleep } from './queue';

export interface Downloaded {
	bytes: Buffer;
	/** Content type the server gave, if any. */
	contentType?: string;
}

const DATA_URI = /^data:([^;,]+)?(;base64)?,/i;

/**
 * Gets one generated image: a data: URI (sync mode) or an http(s) link on fal's CDN, sent
 * without the key. Redirects are followed here, a few and to http(s) only. `damage` checks
 * the bytes as the node checks its inputs; a cut or damaged image is downloaded once more.
 */
export async function download(
	url: string,
	send: typeof fetch,
	options: {
		signal: AbortSignal;
		requestId: string;
		damage: (bytes: Buffer) => string | undefined;
	},
): Promise<Downloaded> {
	const { signal, requestId, damage } = options;
	const dataUri = DATA_URI.exec(url);
	if (dataUri) {
		const payload = url.slice(dataUri[0].length);
		const bytes = dataUri[2]
			? Buffer.from(payload, 'base64')
			: Buffer.from(decodeURIComponent(payload));
		if (bytes.length > CAPS.imageBytes)
			throw falError(words.imageTooLarge('a data URI'), { requestId });
		const reason = damage(bytes);
		if (reason) throw falError(words.damagedImage(reason, requestId), { requestId });
		return { bytes, contentType: dataUri[1] };
	}
	if (!/^https?:\/\//i.test(url)) throw falError(words.badImageLink(url, requestId), { requestId });
	let lastError: unknown;
	for (let attempt = 1; attempt <= TIMING.downloadAttempts; attempt++) {
		try {
			const downloaded = await get(url, send, signal);
			const reason = damage(downloaded.bytes);
			if (!reason) return downloaded;
			lastError = falError(words.damagedImage(reason, requestId), { requestId });
		} catch (error) {
			if (signal.aborted || isAbort(error) || (error instanceof FalError && error.fields.words))
				throw error;
			lastError = error;
		}
		if (attempt < TIMING.downloadAttempts) await sleep(300, signal);
	}
	if (lastError instanceof FalError && lastError.fields.words) throw lastError;
	const reason = lastError instanceof Error ? lastError.message : String(lastError);
	throw falError(words.downloadFailed(reason, requestId), { requestId });
}

async function get(firstUrl: string, send: typeof fetch, outer: AbortSignal): Promise<Downloaded> {
	const signal = AbortSignal.any([outer, AbortSignal.timeout(TIMING.downloadCallMs)]);
	let url = firstUrl;
	for (let hop = 0; ; hop++) {
		let response: Response;
		try {
			response = await send(url, { redirect: 'manual', signal });
		} catch (error) {
			if (isAbort(error)) throw error;
			throw networkFailure(error);
		}
		const location = response.headers.get('location');
		if (response.status >= 300 && response.status < 400 && location) {
			await response.body?.cancel().catch(() => undefined);
			const next = new URL(location, url);
			if (next.protocol !== 'https:' && next.protocol !== 'http:')
				throw falError(words.redirectScheme(next.protocol.replace(/:$/, '')));
			if (hop + 1 > CAPS.redirects) throw falError(words.tooManyRedirects());
			url = next.href;
			continue;
		}
		if (response.status >= 400) {
			await response.body?.cancel().catch(() => undefined);
			throw new Error(`the CDN answered HTTP ${response.status}`);
		}
		return {
			bytes: await readImage(response, firstUrl),
			contentType: response.headers.get('content-type') ?? undefined,
		};
	}
}

/** Collects a download, failing as soon as it passes the cap instead of filling memory. */
async function readImage(response: Response, url: string): Promise<Buffer> {
	const chunks: Uint8Array[] = [];
	let length = 0;
	for await (const chunk of (response.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
		length += chunk.length;
		if (length > CAPS.imageBytes) {
			await response.body?.cancel().catch(() => undefined);
			throw falError(words.imageTooLarge(url));
		}
		chunks.push(chunk);
	}
	return Buffer.concat(chunks, length);
}

/** The start of a linked image (a data URI's, or the first bytes over HTTP), to read its header. */
export async function probe(url: string, send: typeof fetch, signal: AbortSignal): Promise<Buffer> {
	const dataUri = DATA_URI.exec(url);
	if (dataUri) {
		const start = url.slice(dataUri[0].length, dataUri[0].length + (CAPS.probeBytes * 4) / 3);
		return dataUri[2] ? Buffer.from(start, 'base64') : Buffer.from(decodeURIComponent(start));
	}
	let response: Response;
	try {
		response = await send(url, { headers: { range: `bytes=0-${CAPS.probeBytes - 1}` }, signal });
	} catch (error) {
		if (isAbort(error)) throw error;
		throw networkFailure(error);
	}
	if (!response.ok) {
		await response.body?.cancel().catch(() => undefined);
		throw new Error(`the server answered HTTP ${response.status}`);
	}
	const chunks: Uint8Array[] = [];
	let length = 0;
	const reader = (response.body as ReadableStream<Uint8Array>).getReader();
	while (length < CAPS.probeBytes) {
		const { done, value } = await reader.read();
		if (done) break;
		chunks.push(value);
		length += value.length;
	}
	await reader.cancel().catch(() => undefined);
	return Buffer.concat(chunks).subarray(0, CAPS.probeBytes);
}
