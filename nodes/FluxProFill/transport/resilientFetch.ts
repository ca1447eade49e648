import { intentOf } from './callIntent';
import { FalError, findErrorCode, findInCauses, TLS_FAILURES } from './falError';
import { sleep } from './sleep';

/**
 * How transient failures are retried. `@fal-ai/client` has retries of its own, but they
 * ignore Retry-After and would resubmit a queue request after an ambiguous failure
 * (a second charge). This layer sits under the client as its `fetch` and replaces them.
 */
export interface RetryPolicy {
	/** Attempts in all, the first included. */
	attempts: number;
	baseDelayMs: number;
	maxDelayMs: number;
	/** The longest Retry-After we wait; longer answers fail the request instead. */
	maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
	attempts: 4,
	baseDelayMs: 250,
	maxDelayMs: 8_000,
	maxRetryAfterMs: 30_000,
};

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
/** A submit that got one of these was not accepted: safe to send again. */
const SUBMIT_NOT_ACCEPTED_STATUS = new Set([429, 503]);
/** Network errors raised before the request left: safe to retry for any method. */
const NOT_SENT_CODES = new Set([
	'ECONNREFUSED',
	'ENOTFOUND',
	'EAI_AGAIN',
	'EHOSTUNREACH',
	'ENETUNREACH',
	'UND_ERR_CONNECT_TIMEOUT',
]);
const TRANSPORT_CODES = new Set([
	...NOT_SENT_CODES,
	'ECONNRESET',
	'EPIPE',
	'ETIMEDOUT',
	'UND_ERR_SOCKET',
	'UND_ERR_HEADERS_TIMEOUT',
	'UND_ERR_BODY_TIMEOUT',
]);

export interface ResilientFetchOptions {
	policy?: RetryPolicy;
	/** Stops retrying and waiting (the execution's cancel signal). */
	signal?: AbortSignal;
	/** Told about each retry, for n8n's log. */
	onRetry?: (info: { url: string; attempt: number; delayMs: number; reason: string }) => void;
	fetchImpl?: typeof fetch;
}

/**
 * A `fetch` for `@fal-ai/client` that retries 429, 5xx and connection failures with
 * exponential backoff and jitter, honours Retry-After, and treats a request marked as
 * starting paid work (callIntent.ts) specially: once fal may have accepted it (an
 * ambiguous 5xx, a reset connection) it is never sent again, because it is billed.
 */
export function createResilientFetch(options: ResilientFetchOptions = {}): typeof fetch {
	const policy = options.policy ?? DEFAULT_RETRY_POLICY;
	const fetchImpl = options.fetchImpl ?? fetch;
	return async (input, init) => {
		const target = targetUrl(input, init);
		const intent = intentOf(init?.signal);
		const isSubmit = intent === 'startsPaidWork';
		const isCancel = intent === 'cancel';
		// A cancel is sent because the execution stopped, so the stop signal must not stop
		// it; nor may it cut a submit in flight: fal could accept it without us learning
		// its id, and it could then never be cancelled. Both still stop between retries.
		const signal = combine(
			init?.signal ?? undefined,
			isCancel || isSubmit ? undefined : options.signal,
		);
		const waitSignal = combine(init?.signal ?? undefined, isCancel ? undefined : options.signal);
		for (let attempt = 1; ; attempt++) {
			if (attempt > 1) waitSignal?.throwIfAborted();
			let response: Response;
			try {
				response = await fetchImpl(input, { ...init, signal });
			} catch (error) {
				const code = transportCode(error);
				const retryable =
					code !== undefined && (isSubmit ? NOT_SENT_CODES.has(code) : TRANSPORT_CODES.has(code));
				if (signal?.aborted || !retryable || attempt >= policy.attempts) {
					if (isAbort(error)) throw error;
					// A certificate that is not trusted fails the handshake, before anything is sent.
					const certificate = findErrorCode(error);
					const refusedCertificate = certificate !== undefined && TLS_FAILURES.has(certificate);
					// After any failure but one that happened before sending, a submit may have been
					// accepted: never let the client's own retry send it again.
					if (isSubmit && !(code && NOT_SENT_CODES.has(code)) && !refusedCertificate) {
						throw networkFailure(error, code, attempt, true);
					}
					// Retrying will not make a certificate trusted: keep the client from trying.
					if (refusedCertificate) throw networkFailure(error, certificate, attempt, false);
					if (code === undefined) throw error;
					throw networkFailure(error, code, attempt, false);
				}
				const delayMs = backoff(policy, attempt);
				options.onRetry?.({ url: target, attempt, delayMs, reason: code });
				await sleep(delayMs, waitSignal);
				continue;
			}
			if (!RETRYABLE_STATUS.has(response.status))
				return isSubmit ? await readWhole(response) : response;
			const maybeAccepted = isSubmit && !SUBMIT_NOT_ACCEPTED_STATUS.has(response.status);
			const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
			const lastAttempt =
				maybeAccepted ||
				attempt >= policy.attempts ||
				waitSignal?.aborted ||
				(retryAfterMs ?? 0) > policy.maxRetryAfterMs;
			if (lastAttempt) {
				// Give up with an error the client does not retry on its own.
				const requestId = response.headers.get('x-fal-request-id') ?? undefined;
				throw new FalError(
					`HTTP ${response.status} after ${attempt} attempt${attempt === 1 ? '' : 's'}`,
					{
						status: response.status,
						body: await readBody(response),
						requestId,
						attempts: attempt,
						maybeAccepted,
					},
				);
			}
			await response.body?.cancel().catch(() => undefined);
			const delayMs = retryAfterMs ?? backoff(policy, attempt);
			options.onRetry?.({ url: target, attempt, delayMs, reason: `HTTP ${response.status}` });
			await sleep(delayMs, waitSignal);
		}
	};
}

/**
 * Reads a submit's answer here, so that a connection cut while the body arrives is seen
 * by this layer (as "may have been accepted") and not retried by the client.
 */
async function readWhole(response: Response): Promise<Response> {
	try {
		const body = await response.arrayBuffer();
		return new Response(body, {
			status: response.status,
			statusText: response.statusText,
			headers: response.headers,
		});
	} catch (error) {
		throw networkFailure(error, transportCode(error), 1, true);
	}
}

function isAbort(error: unknown): boolean {
	const name = (error as { name?: unknown })?.name;
	return name === 'AbortError' || name === 'TimeoutError';
}

/** The URL fal meant: behind a proxy the real one travels in x-fal-target-url. */
function targetUrl(input: Parameters<typeof fetch>[0], init?: RequestInit): string {
	const headers = new Headers(init?.headers);
	const proxied = headers.get('x-fal-target-url');
	if (proxied) return proxied;
	return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
}

export function backoff(policy: RetryPolicy, attempt: number): number {
	const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
	// Full jitter keeps many items that failed together from retrying together.
	return Math.round(exponential / 2 + (Math.random() * exponential) / 2);
}

/** Retry-After as seconds or an HTTP date, in milliseconds; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
	if (value === null || value.trim() === '') return undefined;
	const seconds = Number(value);
	if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
	const date = Date.parse(value);
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A network failure the client must not retry on its own (the original is kept out of `cause`). */
export function networkFailure(
	original: unknown,
	code: string | undefined,
	attempts: number,
	maybeAccepted: boolean,
): FalError {
	return new FalError(original instanceof Error ? original.message : String(original), {
		original,
		networkCode: code,
		attempts,
		maybeAccepted,
	});
}

/** The transport error code in the cause chain; none for an abort, which is ours, not the network's. */
function transportCode(error: unknown): string | undefined {
	const found = findInCauses(error, (candidate) => {
		const { name, code } = candidate as { name?: unknown; code?: unknown };
		if (name === 'AbortError' || name === 'TimeoutError') return { code: undefined };
		return typeof code === 'string' && TRANSPORT_CODES.has(code) ? { code } : undefined;
	});
	return found?.code;
}

async function readBody(response: Response): Promise<unknown> {
	const text = await response.text().catch(() => '');
	try {
		return JSON.parse(text) as unknown;
	} catch {
		return text.length > 500 ? `${text.slice(0, 500)}…` : text;
	}
}

function combine(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
	if (a && b) return AbortSignal.any([a, b]);
	return a ?? b;
}
