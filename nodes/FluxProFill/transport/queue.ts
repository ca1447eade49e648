import { CAPS, FAL_QUEUE_URL, FAL_REQUEST_ID, TIMING } from '../common/constants';
import { fal as words, type CancelOutcome } from '../common/messages';
import type { Deadline } from './deadline';
import {
	describeFalError,
	FalError,
	falError,
	isAbort,
	isPermanent,
	networkFailure,
	NOT_SENT_CODES,
} from './errors';
import { parseJson, type Fal } from './falClient';

/*
 * The node's retry policy, stated once, where each call is made:
 * - a submit (paid work) is sent again only when fal surely did not accept it (429, 503,
 *   or a connection that never opened); after any other failure it is never sent again;
 * - uploads and downloads are tried a few times;
 * - status, the status stream, result and cancel are retried until the item's deadline.
 */

/** What fal answers to a submit. */
export interface SubmittedRequest {
	request_id: string;
	status?: string;
	status_url?: string;
	response_url?: string;
	cancel_url?: string;
	queue_position?: number;
}

/** Submit answers that mean "not accepted" and may pass: safe to send again. */
const NOT_ACCEPTED_STATUS = new Set([429, 503]);

/**
 * Retries `call` while `retryable` says so, with exponential backoff and full jitter
 * (Retry-After when fal gives one, up to 30 s), at most `attempts` times and never past
 * `signal`. The last failure is thrown, counted.
 */
export async function withRetries<T>(
	call: () => Promise<T>,
	options: {
		signal: AbortSignal;
		attempts?: number;
		retryable?: (error: unknown) => boolean;
		/** Told about each retry, for n8n's log. */
		warn?: (message: string) => void;
	},
): Promise<T> {
	const { signal, attempts = Infinity, retryable = (error) => !isPermanent(error) } = options;
	let previous: unknown;
	for (let attempt = 1; ; attempt++) {
		try {
			return await call();
		} catch (caught) {
			// Stopped midway by the caller: the item's error names the last failure, not the
			// abort. A call's own time limit is a failure of its own, even when the caller
			// stopped meanwhile (a submit it cut may have been accepted).
			const stopped = signal.aborted && caught === signal.reason;
			const error = stopped && previous !== undefined ? previous : caught;
			const retryAfterMs = error instanceof FalError ? error.fields.retryAfterMs : undefined;
			const last =
				attempt >= attempts ||
				signal.aborted ||
				isAbort(error) ||
				!retryable(error) ||
				(retryAfterMs ?? 0) > TIMING.maxRetryAfterMs;
			if (last) {
				if (error instanceof FalError && attempt > 1) error.fields.attempts = attempt;
				throw error;
			}
			const delayMs = retryAfterMs ?? backoff(attempt);
			options.warn?.(`fal request failed (${reasonOf(error)}); retry ${attempt} in ${delayMs} ms`);
			previous = error;
			await sleep(delayMs, signal);
			if (signal.aborted) throw error;
		}
	}
}

function reasonOf(error: unknown): string {
	if (!(error instanceof FalError)) return error instanceof Error ? error.name : 'error';
	const { status, networkCode } = error.fields;
	return status !== undefined ? `HTTP ${status}` : (networkCode ?? 'network error');
}

export function backoff(attempt: number, maxMs: number = TIMING.maxDelayMs): number {
	const exponential = Math.min(maxMs, TIMING.baseDelayMs * 2 ** (attempt - 1));
	// Full jitter keeps many items that failed together from retrying together.
	return Math.round(exponential / 2 + (Math.random() * exponential) / 2);
}

/** Waits `ms`, or less if the signal aborts (it then resolves; callers check the signal). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
	return new Promise((resolve) => {
		if (signal.aborted) return resolve();
		const done = () => {
			clearTimeout(timer);
			signal.removeEventListener('abort', done);
			resolve();
		};
		const timer = setTimeout(done, ms);
		signal.addEventListener('abort', done, { once: true });
	});
}

function surelyNotAccepted(error: unknown): boolean {
	if (!(error instanceof FalError)) return false;
	const { status, networkCode } = error.fields;
	return status !== undefined
		? NOT_ACCEPTED_STATUS.has(status)
		: networkCode !== undefined && NOT_SENT_CODES.has(networkCode);
}

/**
 * Puts a request in fal's queue. A submit is not cut off by a stop: fal might accept it
 * without us learning its id, and it would run (and be billed) with no way to cancel it.
 * An accepted request is returned even when a stop came meanwhile: the caller records it
 * first, then handles the stop (awaitResult cancels it). When fal may have accepted it,
 * the FalError says so (`maybeAccepted`) with the request id if fal named one.
 */
export async function submit(
	fal: Fal,
	endpoint: string,
	input: object,
	options: { deadline: Deadline; webhookUrl?: string },
): Promise<SubmittedRequest> {
	const { deadline, webhookUrl } = options;
	if (deadline.stopped) throw deadline.error();
	let answer: SubmittedRequest;
	try {
		answer = await withRetries(
			async () =>
				(await fal.client.queue.submit(endpoint, {
					input,
					abortSignal: AbortSignal.timeout(TIMING.submitCallMs),
					...(webhookUrl ? { webhookUrl } : {}),
				})) as SubmittedRequest,
			{
				signal: deadline.signal,
				attempts: TIMING.attempts,
				retryable: surelyNotAccepted,
				warn: fal.warn,
			},
		);
	} catch (error) {
		// Refused, or nothing reached fal: a stop meanwhile is the item's reason.
		if (surelyNotAccepted(error) || isRefused(error))
			throw deadline.stopped ? deadline.error() : error;
		if (!(error instanceof FalError) && !isAbort(error)) throw error;
		// fal's answer was lost, or our own time limit cut the submit: it may be accepted all the same.
		const failure =
			error instanceof FalError ? error : networkFailure(error, { networkCode: 'ETIMEDOUT' });
		failure.fields.maybeAccepted = true;
		throw failure;
	}
	const requestId = (answer as { request_id?: unknown } | undefined)?.request_id;
	// The id goes into every later URL: an answer without a valid one was not fal's.
	if (typeof requestId !== 'string' || !FAL_REQUEST_ID.test(requestId))
		throw falError(words.noRequestId(), { maybeAccepted: true });
	return answer;
}

/** fal refused the submit (a 4xx: the key, the account, the input), or TLS refused the connection. */
function isRefused(error: unknown): boolean {
	if (!(error instanceof FalError)) return false;
	const { status, networkCode } = error.fields;
	return status !== undefined ? status < 500 : isPermanent(error) && networkCode !== undefined;
}

/**
 * Waits for an accepted request and fetches its result. Failures of the status stream and
 * the result call are retried until the item's deadline: a paid job is not given up while
 * it has time. When the wait is stopped (timeout, cancelled execution) fal's cancel is
 * sent if `cancelOnStop()` says so, and the error says whether fal confirmed it.
 */
export async function awaitResult(
	fal: Fal,
	endpoint: string,
	requestId: string,
	options: { deadline: Deadline; cancelOnStop: () => boolean },
): Promise<unknown> {
	const { deadline } = options;
	const { signal } = deadline;
	try {
		await withRetries(async () => await waitForCompletion(fal, endpoint, requestId, signal), {
			signal,
			warn: fal.warn,
		});
		const result = await withRetries(
			async () => await fal.client.queue.result(endpoint, { requestId, abortSignal: signal }),
			{ signal, warn: fal.warn },
		);
		return result.data;
	} catch (error) {
		if (!deadline.stopped) throw error;
		const cancel: CancelOutcome = options.cancelOnStop()
			? await cancelQuietly(fal, endpoint, requestId)
			: 'notSent';
		throw deadline.error(
			requestId,
			cancel,
			isAbort(error) ? undefined : describeFalError(error).message,
		);
	}
}

/** The queue's URLs name the app (owner/name), not the endpoint's sub-path (`/v1/fill`). */
export function requestUrl(endpoint: string, requestId: string, suffix = ''): string {
	const app = endpoint.split('/').slice(0, 2).join('/');
	return `${FAL_QUEUE_URL}/${app}/requests/${encodeURIComponent(requestId)}${suffix}`;
}

/**
 * Resolves once fal's status stream reports the request COMPLETED. The stream is reopened
 * whenever it ends without (fal sends the current status first on every connection). Read
 * here, not by the client, whose reader leaves a rejection unhandled when a non-stream
 * answer is cut.
 */
async function waitForCompletion(
	fal: Fal,
	endpoint: string,
	requestId: string,
	signal: AbortSignal,
) {
	for (let quiet = 1; ; quiet++) {
		signal.throwIfAborted();
		const outcome = await followStream(
			fal,
			requestUrl(endpoint, requestId, '/status/stream?logs=0'),
			signal,
		);
		if (outcome === 'completed') return;
		// A stream that carried events was healthy: reopen at once. One that gave nothing
		// (dropped at once, or a proxy that does not stream) is backed by one status call.
		if (outcome === 'events') {
			quiet = 0;
			continue;
		}
		await sleep(backoff(quiet, TIMING.maxStreamDelayMs), signal);
		const status = await fal.client.queue.status(endpoint, { requestId, abortSignal: signal });
		if (status.status === 'COMPLETED') return;
	}
}

async function followStream(
	fal: Fal,
	url: string,
	outer: AbortSignal,
): Promise<'completed' | 'events' | 'nothing'> {
	const idle = new AbortController();
	let timer = setTimeout(() => idle.abort(), TIMING.streamIdleMs);
	let events = 0;
	let response: Response | undefined;
	let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
	try {
		response = await fal.call(url, {
			headers: { accept: 'text/event-stream' },
			signal: AbortSignal.any([outer, idle.signal]),
		});
		if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
			// One status answer instead of a stream (read, capped, by the checked fetch).
			return isCompleted(parseJson(await response.text())) ? 'completed' : 'nothing';
		}
		let pending = '';
		const decoder = new TextDecoder();
		reader = (response.body as ReadableStream<Uint8Array>).getReader();
		for (;;) {
			const { done, value } = await reader.read();
			if (done) break;
			clearTimeout(timer);
			timer = setTimeout(() => idle.abort(), TIMING.streamIdleMs);
			// Events end with a blank line; the unfinished one waits for the next chunk.
			const parts = (pending + decoder.decode(value, { stream: true })).split(/\r?\n\r?\n/);
			pending = parts.pop() ?? '';
			if (pending.length > CAPS.eventBytes)
				throw falError(words.tooLarge('the status stream', CAPS.eventBytes));
			events += parts.length;
			if (parts.some((event) => isCompleted(parseJson(dataOf(event))))) {
				// fal closes the stream after COMPLETED: read it to its end, so that its
				// connection is kept and the result goes out on it at once.
				await Promise.race([drain(reader), sleep(TIMING.streamDrainMs, outer)]);
				return 'completed';
			}
		}
		return isCompleted(parseJson(dataOf(pending))) ? 'completed' : events ? 'events' : 'nothing';
	} catch (error) {
		// An HTTP error answer (the caller decides) or a stop; anything else (cut midway,
		// silent) only means completion is not known yet.
		if (
			outer.aborted ||
			(error instanceof FalError && !idle.signal.aborted && error.fields.networkCode === undefined)
		)
			throw error;
		return events ? 'events' : 'nothing';
	} finally {
		clearTimeout(timer);
		// A stream read to its end keeps its connection; one given up is cut.
		await (reader ? reader.cancel() : response?.body?.cancel())?.catch(() => undefined);
	}
}

async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
	while (!(await reader.read().catch(() => ({ done: true }))).done);
}

function dataOf(event: string): string {
	return event
		.split(/\r?\n/)
		.filter((line) => line.startsWith('data:'))
		.map((line) => line.slice(5).trim())
		.join('\n');
}

function isCompleted(value: unknown): boolean {
	return (value as { status?: unknown } | undefined)?.status === 'COMPLETED';
}

export type RequestStatus = {
	status: string;
	queue_position?: number;
	logs?: unknown;
	metrics?: unknown;
};

export async function getStatus(
	fal: Fal,
	endpoint: string,
	requestId: string,
	logs: boolean,
	signal: AbortSignal,
): Promise<RequestStatus> {
	return (await withRetries(
		async () => await fal.client.queue.status(endpoint, { requestId, logs, abortSignal: signal }),
		{ signal, warn: fal.warn },
	)) as RequestStatus;
}

/** Asks fal to cancel a request; fal answers 400 ALREADY_COMPLETED for one that has ended. */
export async function cancel(
	fal: Fal,
	endpoint: string,
	requestId: string,
	signal: AbortSignal,
): Promise<'CANCELLATION_REQUESTED' | 'ALREADY_COMPLETED'> {
	try {
		await withRetries(
			async () => await fal.client.queue.cancel(endpoint, { requestId, abortSignal: signal }),
			{ signal },
		);
		return 'CANCELLATION_REQUESTED';
	} catch (error) {
		const { status, body } = error instanceof FalError ? error.fields : {};
		if (status === 400 && (body as { status?: unknown })?.status === 'ALREADY_COMPLETED')
			return 'ALREADY_COMPLETED';
		throw error;
	}
}

/**
 * The cancel sent when an item stops: its own time limit, since the item's signal has
 * fired. fal takes a request still in its queue off it (not billed); one it runs is only
 * asked to stop, and may still finish (and be billed). Where it is, fal is asked right
 * before the cancel: a status seen earlier may be stale.
 */
async function cancelQuietly(
	fal: Fal,
	endpoint: string,
	requestId: string,
): Promise<CancelOutcome> {
	try {
		const before = await fal.client.queue
			.status(endpoint, { requestId, abortSignal: AbortSignal.timeout(TIMING.cancelStatusMs) })
			.then(
				(answer) => answer.status as string,
				() => undefined,
			);
		const answer = await cancel(fal, endpoint, requestId, AbortSignal.timeout(TIMING.cancelCallMs));
		if (answer === 'ALREADY_COMPLETED') return 'alreadyCompleted';
		return before === 'IN_QUEUE' ? 'confirmed' : 'requested';
	} catch {
		// fal finishes or expires the request on its own; the item's error says it may still run.
		return 'failed';
	}
}
