import { falRequest, type FalAccess } from './falClient';
import { FalError } from './falError';

/** A status answer is a few hundred bytes; a stream that is not SSE is read up to this. */
const MAX_PLAIN_BODY_BYTES = 1024 * 1024;

/**
 * Follows fal's status stream of one request. Returns true when it reports COMPLETED,
 * false when it ended or broke without (the caller reconnects or polls). Whatever the
 * server sends — server-sent events, one JSON answer, something else, or a connection
 * cut midway — is read here, with every error handled: `@fal-ai/client`'s own reader
 * leaves a rejection unhandled when a non-SSE answer is cut, and then never ends.
 * Throws only for an HTTP error answer (the caller decides whether it is permanent).
 */
export async function followStatusStream(
	access: FalAccess,
	endpoint: string,
	requestId: string,
	signal: AbortSignal,
): Promise<boolean> {
	const url = `https://queue.fal.run/${appOf(endpoint)}/requests/${encodeURIComponent(requestId)}/status/stream?logs=0`;
	const response = await access.fetch(
		...falRequest(access, url, { method: 'GET', headers: { accept: 'text/event-stream' }, signal }),
	);
	if (!response.ok) {
		const body = await response.text().catch(() => '');
		throw new FalError(`HTTP ${response.status} on fal's status stream`, {
			status: response.status,
			body: parseJson(body) ?? body.slice(0, 300),
			requestId,
		});
	}
	if (!response.body) return false;
	const reader = response.body.getReader();
	const decoder = new TextDecoder();
	const isEventStream = (response.headers.get('content-type') ?? '').startsWith(
		'text/event-stream',
	);
	let text = '';
	try {
		for (;;) {
			const { done, value } = await reader.read();
			if (done) break;
			text += decoder.decode(value, { stream: true });
			if (isEventStream) {
				// Events end with a blank line; keep the unfinished one for the next chunk.
				const events = text.split(/\r?\n\r?\n/);
				text = events.pop() ?? '';
				if (events.some(isCompletedEvent)) return true;
			} else if (text.length > MAX_PLAIN_BODY_BYTES) {
				return false;
			}
		}
		text += decoder.decode();
		return isEventStream ? isCompletedEvent(text) : isCompleted(parseJson(text));
	} catch {
		// Cut midway, or stopped by the signal: not known to be complete.
		return false;
	} finally {
		reader.cancel().catch(() => undefined);
	}
}

/** The queue's URLs name the app (owner/name), not the endpoint's sub-path (`/v1/fill`). */
export function appOf(endpoint: string): string {
	return endpoint.split('/').slice(0, 2).join('/');
}

function isCompletedEvent(event: string): boolean {
	const data = event
		.split(/\r?\n/)
		.filter((line) => line.startsWith('data:'))
		.map((line) => line.slice(5).trim())
		.join('\n');
	return data !== '' && isCompleted(parseJson(data));
}

function isCompleted(value: unknown): boolean {
	return (value as { status?: unknown } | undefined)?.status === 'COMPLETED';
}

function parseJson(text: string): unknown {
	try {
		return JSON.parse(text) as unknown;
	} catch {
		return undefined;
	}
}
