import type { FalClient, QueueStatus } from '@fal-ai/client';

import type { OutputFormat, SafetyTolerance } from '../helpers/spec';
import { markCall } from './callIntent';
import type { ItemDeadline } from './itemDeadline';
import { networkFailure } from './resilientFetch';
import { sleep } from './sleep';

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

export interface QueueRunOptions {
	deadline: ItemDeadline;
	/** Called as soon as fal has accepted the request. */
	onSubmitted?: (requestId: string) => void;
}

export interface QueueRunResult {
	requestId: string;
	data: FalFillOutput;
}

const STREAM_ATTEMPTS = 3;
/** Polling interval when the status stream is unavailable. */
const POLL_INTERVAL_MS = 250;

/**
 * Submit → wait → result through fal's queue. Waiting listens to fal's status stream,
 * so completion is seen the moment fal sends it; a dropped stream falls back to
 * polling. Once fal has accepted the request it is never submitted again (that would
 * be a second charge); a timeout or cancellation sends fal's cancel instead.
 */
export async function runQueued(
	client: FalClient,
	endpoint: string,
	input: object,
	options: QueueRunOptions,
): Promise<QueueRunResult> {
	const { deadline } = options;
	const { request_id: requestId } = await submitRequest(client, endpoint, input, { deadline });
	options.onSubmitted?.(requestId);
	return await awaitResult(client, endpoint, requestId, { deadline });
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
	client: FalClient,
	endpoint: string,
	input: object,
	options: { deadline: ItemDeadline; webhookUrl?: string },
): Promise<SubmittedRequest> {
	const { deadline, webhookUrl } = options;
	if (deadline.stopped) throw deadline.error();
	let submitted: SubmittedRequest;
	try {
		submitted = (await client.queue.submit(endpoint, {
			input,
			abortSignal: markCall('startsPaidWork', AbortSignal.timeout(SUBMIT_CALL_TIMEOUT_MS)),
			...(webhookUrl ? { webhookUrl } : {}),
		})) as SubmittedRequest;
	} catch (error) {
		if (deadline.stopped) throw deadline.error();
		// Our own time limit cut the submit: fal may have accepted it all the same.
		if ((error as { name?: unknown })?.name === 'TimeoutError')
			throw networkFailure(error, 'ETIMEDOUT', 1, true);
		throw error;
	}
	if (deadline.stopped) {
		await cancelQuietly(client, endpoint, submitted.request_id);
		throw deadline.error(submitted.request_id);
	}
	return submitted;
}

/**
 * Waits for a request fal has accepted and fetches its result. If the wait is stopped
 * (timeout, cancelled execution) fal's cancel is sent, so nothing runs on unattended.
 */
export async function awaitResult(
	client: FalClient,
	endpoint: string,
	requestId: string,
	options: { deadline: ItemDeadline; cancelOnStop?: boolean },
): Promise<QueueRunResult> {
	const { deadline } = options;
	const { signal } = deadline;
	try {
		await waitForCompletion(client, endpoint, requestId, signal);
		const result = await client.queue.result(endpoint, { requestId, abortSignal: signal });
		return { requestId: result.requestId || requestId, data: result.data as FalFillOutput };
	} catch (error) {
		if (!deadline.stopped) throw error;
		const cancel = options.cancelOnStop !== false;
		if (cancel) await cancelQuietly(client, endpoint, requestId);
		throw deadline.error(requestId, { cancelled: cancel });
	}
}

export type RequestStatus = QueueStatus & {
	request_id?: string;
	logs?: unknown;
	metrics?: unknown;
	queue_position?: number;
};

export async function getRequestStatus(
	client: FalClient,
	endpoint: string,
	requestId: string,
	logs: boolean,
	signal: AbortSignal,
): Promise<RequestStatus> {
	return (await client.queue.status(endpoint, {
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
	client: FalClient,
	endpoint: string,
	requestId: string,
	signal: AbortSignal,
): Promise<'CANCELLATION_REQUESTED' | 'ALREADY_COMPLETED'> {
	try {
		await client.queue.cancel(endpoint, {
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

export async function waitForCompletion(
	client: FalClient,
	endpoint: string,
	requestId: string,
	signal: AbortSignal,
): Promise<void> {
	for (let attempt = 0; attempt < STREAM_ATTEMPTS && !signal.aborted; attempt++) {
		const last = await followStatusStream(client, endpoint, requestId, signal);
		if (last?.status === 'COMPLETED') return;
		// The stream ended without COMPLETED (dropped connection): ask directly before reconnecting.
		const status = await client.queue.status(endpoint, { requestId, abortSignal: signal });
		if (status.status === 'COMPLETED') return;
	}
	while (!signal.aborted) {
		const status = await client.queue.status(endpoint, { requestId, abortSignal: signal });
		if (status.status === 'COMPLETED') return;
		await sleep(POLL_INTERVAL_MS, signal);
	}
	signal.throwIfAborted();
}

/** Returns the last status the stream sent, or undefined if the stream broke. */
async function followStatusStream(
	client: FalClient,
	endpoint: string,
	requestId: string,
	signal: AbortSignal,
): Promise<QueueStatus | undefined> {
	const stream = await client.queue.streamStatus(endpoint, { requestId, logs: false });
	const abort = () => stream.abort();
	signal.addEventListener('abort', abort, { once: true });
	if (signal.aborted) stream.abort();
	try {
		return (await stream.done()) as QueueStatus;
	} catch (error) {
		if (isPermanent(error)) throw error;
		return undefined;
	} finally {
		signal.removeEventListener('abort', abort);
	}
}

/** Auth and not-found answers will not change on reconnect; everything else may. */
function isPermanent(error: unknown): boolean {
	const status = (error as { status?: unknown })?.status;
	return (
		typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429
	);
}

async function cancelQuietly(
	client: FalClient,
	endpoint: string,
	requestId: string,
): Promise<void> {
	try {
		// Not tied to the aborted signal: the cancel must still go out.
		await client.queue.cancel(endpoint, {
			requestId,
			abortSignal: markCall('cancel', AbortSignal.timeout(10_000)),
		});
	} catch {
		// Best effort: fal finishes or expires the request on its own.
	}
}
