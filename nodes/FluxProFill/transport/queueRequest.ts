import type { QueueStatus } from '@fal-ai/client';

import { FAL_REQUEST_ID, type OutputFormat, type SafetyTolerance } from '../helpers/spec';
import { markCall } from './callIntent';
import type { FalAccess } from './falClient';
import { describeFalError, FalError } from './falError';
import type { CancelOutcome, ItemDeadline } from './itemDeadline';
import { backoff, DEFAULT_RETRY_POLICY, networkFailure } from './resilientFetch';
import { sleep } from './sleep';
import { followStatusStream } from './statusStream';

/** What the endpoint takes, with fal's field names. */
export interface FalFillInput {
	prompt: string;
	image_url: string;
	mask_url: string;
	seed?: number;
	sync_mode: boolean;
	num_images: number;
	output_format: OutputFormat;
	safety_tolerance: SafetyTolerance;
	enhance_prompt: boolean;
}

export interface FalImage {
	url: string;
	width?: number;
	height?: number;
	content_type?: string;
}

/** What the endpoint answers. Fields are optional here because fal's answer is not trusted. */
export interface FalFillOutput {
	images?: FalImage[];
	timings?: Record<string, unknown>;
	seed?: number;
	has_nsfw_concepts?: boolean[];
	prompt?: string;
}

export interface QueueRunResult {
	requestId: string;
	data: FalFillOutput;
}

/** What fal answers to a submit: the request's id and where to follow it. */
export interface SubmittedRequest {
	request_id: string;
	status?: string;
	status_url?: string;
	response_url?: string;
	cancel_url?: string;
	queue_position?: number;
}

/** The submit itself is never aborted midway (see below); this bounds a hanging one. */
const SUBMIT_CALL_TIMEOUT_MS = 60_000;

/**
 * Puts a request in fal's queue; with a webhook URL fal calls it when the request ends.
 * A submit is not cut off by a stop: fal might accept it without us learning its id,
 * and it would then run (and be billed) with no way to cancel it. Instead a stop that
 * comes while it is in flight cancels the request as soon as its id is known.
 */
export async function submitRequest(
	access: FalAccess,
	endpoint: string,
	input: object,
	options: { deadline: ItemDeadline; webhookUrl?: string },
): Promise<SubmittedRequest> {
	const { deadline, webhookUrl } = options;
	if (deadline.stopped) throw deadline.error();
	let submitted: SubmittedRequest;
	try {
		submitted = (await access.client.queue.submit(endpoint, {
			input,
			abortSignal: markCall('startsPaidWork', AbortSignal.timeout(SUBMIT_CALL_TIMEOUT_MS)),
			...(webhookUrl ? { webhookUrl } : {}),
		})) as SubmittedRequest;
	} catch (error) {
		if (deadline.stopped) throw deadline.error();
		// Our own time limit cut the submit: fal may have accepted it all the same.
		if ((error as { name?: unknown })?.name === 'TimeoutError') {
			throw networkFailure(error, 'ETIMEDOUT', 1, true);
		}
		throw error;
	}
	const requestId = (submitted as { request_id?: unknown } | undefined)?.request_id;
	// The id goes into every later URL: an answer without a valid one was not fal's.
	if (typeof requestId !== 'string' || !FAL_REQUEST_ID.test(requestId)) {
		throw new FalError(
			"fal's answer to the request was not understood: it holds no valid request ID",
			{
				maybeAccepted: true,
				description:
					"The request was not sent again, so you are not charged twice. If the credential has a Proxy URL, check that it forwards to fal (an answer from another server looks like this); otherwise check your fal dashboard's request history.",
			},
		);
	}
	if (deadline.stopped) {
		throw deadline.error(requestId, await cancelQuietly(access, endpoint, requestId));
	}
	return submitted;
}

/**
 * Waits for a request fal has accepted and fetches its result. Transient failures of
 * fal's status and result calls are retried until the item's deadline: a paid job is not
 * given up while it still has time. If the wait is stopped (timeout, cancelled
 * execution) fal's cancel is sent, and the error says whether fal confirmed it.
 */
export async function awaitResult(
	access: FalAccess,
	endpoint: string,
	requestId: string,
	options: {
		deadline: ItemDeadline;
		/** Whether a stop sends fal's cancel (default yes); asked when the stop comes. */
		cancelOnStop?: boolean | (() => boolean);
	},
): Promise<QueueRunResult> {
	const { deadline } = options;
	const { signal } = deadline;
	try {
		await waitForCompletion(access, endpoint, requestId, signal);
		const result = await untilDeadline(
			signal,
			async () => await access.client.queue.result(endpoint, { requestId, abortSignal: signal }),
		);
		return { requestId, data: result.data as FalFillOutput };
	} catch (error) {
		if (!deadline.stopped) throw error;
		const { cancelOnStop = true } = options;
		const cancel: CancelOutcome = (
			typeof cancelOnStop === 'function' ? cancelOnStop() : cancelOnStop
		)
			? await cancelQuietly(access, endpoint, requestId)
			: 'notSent';
		throw deadline.error(
			requestId,
			cancel,
			isAbort(error) ? undefined : describeFalError(error).message,
		);
	}
}

function isAbort(error: unknown): boolean {
	const name = (error as { name?: unknown } | undefined)?.name;
	return name === 'AbortError' || name === 'TimeoutError';
}

export type RequestStatus = QueueStatus & {
	request_id?: string;
	logs?: unknown;
	metrics?: unknown;
	queue_position?: number;
};

export async function getRequestStatus(
	access: FalAccess,
	endpoint: string,
	requestId: string,
	logs: boolean,
	signal: AbortSignal,
): Promise<RequestStatus> {
	return (await access.client.queue.status(endpoint, {
		requestId,
		logs,
		abortSignal: signal,
	})) as RequestStatus;
}

/**
 * Asks fal to cancel a request. fal answers 400 ALREADY_COMPLETED for one that has
 * ended; that is an answer, not a failure.
 */
export async function cancelRequest(
	access: FalAccess,
	endpoint: string,
	requestId: string,
	signal: AbortSignal,
): Promise<'CANCELLATION_REQUESTED' | 'ALREADY_COMPLETED'> {
	try {
		await access.client.queue.cancel(endpoint, {
			requestId,
			abortSignal: markCall('cancel', AbortSignal.any([signal])),
		});
		return 'CANCELLATION_REQUESTED';
	} catch (error) {
		const { status, body } = error as { status?: number; body?: { status?: unknown } };
		if (status === 400 && body?.status === 'ALREADY_COMPLETED') return 'ALREADY_COMPLETED';
		throw error;
	}
}

/** How often fal's status is asked for beside the stream: completion is seen within about this. */
const POLL_INTERVAL_MS = 1000;

/**
 * Resolves once fal reports the request COMPLETED (each watcher also returns when
 * `signal` aborts; the caller's abort is then thrown). Two watchers race: fal's status
 * stream (seen the moment fal sends it) and a status poll every second (for a stream
 * that stalls, or is not a stream at all). Transient failures of either are retried
 * until `signal` aborts; auth and not-found answers end the wait at once.
 */
export async function waitForCompletion(
	access: FalAccess,
	endpoint: string,
	requestId: string,
	signal: AbortSignal,
): Promise<void> {
	const done = new AbortController();
	const both = AbortSignal.any([signal, done.signal]);
	const watchers = [
		watchStream(access, endpoint, requestId, both),
		watchPolling(access, endpoint, requestId, both),
	];
	// The loser's end (an abort, or a late error) must not become an unhandled rejection.
	for (const watcher of watchers) watcher.catch(() => undefined);
	try {
		await Promise.race(watchers);
	} finally {
		done.abort();
	}
	signal.throwIfAborted();
}

async function watchStream(
	access: FalAccess,
	endpoint: string,
	requestId: string,
	signal: AbortSignal,
) {
	for (let attempt = 1; !signal.aborted; attempt++) {
		try {
			if (await followStatusStream(access, endpoint, requestId, signal)) return;
		} catch (error) {
			if (isPermanent(error)) throw error;
		}
		await sleep(backoff(DEFAULT_RETRY_POLICY, Math.min(attempt, 6)), signal);
	}
}

async function watchPolling(
	access: FalAccess,
	endpoint: string,
	requestId: string,
	signal: AbortSignal,
) {
	for (;;) {
		await sleep(POLL_INTERVAL_MS, signal);
		if (signal.aborted) return;
		try {
			const status = await access.client.queue.status(endpoint, { requestId, abortSignal: signal });
			if (status.status === 'COMPLETED') return;
		} catch (error) {
			if (isPermanent(error)) throw error;
		}
	}
}

/**
 * Retries `call` on transient failures (after the fetch layer's own retries) until
 * `signal` aborts; then throws the last failure, so the item's error can name it.
 */
async function untilDeadline<T>(signal: AbortSignal, call: () => Promise<T>): Promise<T> {
	for (let attempt = 1; ; attempt++) {
		try {
			return await call();
		} catch (error) {
			if (signal.aborted || isPermanent(error)) throw error;
			await sleep(backoff(DEFAULT_RETRY_POLICY, Math.min(attempt, 6)), signal);
			if (signal.aborted) throw error;
		}
	}
}

/** Auth, not-found and validation answers will not change on retry; everything else may. */
function isPermanent(error: unknown): boolean {
	const status = (error as { status?: unknown })?.status;
	return (
		typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429
	);
}

async function cancelQuietly(
	access: FalAccess,
	endpoint: string,
	requestId: string,
): Promise<CancelOutcome> {
	try {
		// Not tied to the aborted signal: the cancel must still go out.
		const answer = await cancelRequest(access, endpoint, requestId, AbortSignal.timeout(10_000));
		return answer === 'CANCELLATION_REQUESTED' ? 'confirmed' : 'alreadyCompleted';
	} catch {
		// fal finishes or expires the request on its own; the item's error says it may still run.
		return 'failed';
	}
}
