import { markCall } from '../../nodes/FluxProFill/transport/callIntent';
import { FalError } from '../../nodes/FluxProFill/transport/falError';
import {
	backoff,
	createResilientFetch,
	parseRetryAfter,
	DEFAULT_RETRY_POLICY,
} from '../../nodes/FluxProFill/transport/resilientFetch';

const SUBMIT = 'https://queue.fal.run/fal-ai/flux-pro/v1/fill';
const STATUS = 'https://queue.fal.run/fal-ai/flux-pro/requests/abc/status';
const fast = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1 };
/** A queue submit as the transport sends it: marked as starting paid work. */
const submitInit = (init: RequestInit = {}): RequestInit => ({
	method: 'POST',
	...init,
	signal: markCall('startsPaidWork', new AbortController().signal),
});

/** A fetch that answers from a list and counts its calls. */
function scripted(...answers: Array<() => Response | Promise<Response>>) {
	const calls: string[] = [];
	const impl = (async (input: RequestInfo | URL) => {
		calls.push(String(input));
		const next = answers[Math.min(calls.length - 1, answers.length - 1)];
		return await next();
	}) as typeof fetch;
	return { calls, impl };
}
const networkError = (code?: string) =>
	Object.assign(
		new TypeError('fetch failed'),
		code ? { cause: Object.assign(new Error(code), { code }) } : {},
	);
const json = (status: number, body: object, headers: Record<string, string> = {}) =>
	new Response(JSON.stringify(body), {
		status,
		headers: { 'content-type': 'application/json', ...headers },
	});

describe('createResilientFetch', () => {
	it('retries a status call on 503 and a reset connection, then answers', async () => {
		const { calls, impl } = scripted(
			() => json(503, { detail: 'busy' }),
			() => Promise.reject(networkError('ECONNRESET')),
			() => json(200, { status: 'COMPLETED' }),
		);
		const response = await createResilientFetch({ fetchImpl: impl, policy: fast })(STATUS, {
			method: 'GET',
		});
		expect(response.status).toBe(200);
		expect(calls).toHaveLength(3);
	});

	it("gives up after the policy's attempts with an error the client will not retry again", async () => {
		const { calls, impl } = scripted(() => json(500, { detail: 'down' }));
		await expect(
			createResilientFetch({ fetchImpl: impl, policy: fast })(STATUS, { method: 'GET' }),
		).rejects.toBeInstanceOf(FalError);
		expect(calls).toHaveLength(4);
	});

	it('retries a submit only when fal surely did not take it (429, 503, refused connection)', async () => {
		const { calls, impl } = scripted(
			() => json(429, { detail: 'slow down' }, { 'retry-after': '0' }),
			() => Promise.reject(networkError('ECONNREFUSED')),
			() => json(503, { detail: 'no runner' }),
			() => json(200, { request_id: 'r1' }),
		);
		const response = await createResilientFetch({ fetchImpl: impl, policy: fast })(
			SUBMIT,
			submitInit(),
		);
		expect(await response.json()).toEqual({ request_id: 'r1' });
		expect(calls).toHaveLength(4);
	});

	it.each([
		['a 502', () => json(502, { detail: 'bad gateway' })],
		['a 504', () => json(504, { detail: 'timeout' })],
		['a reset connection', () => Promise.reject(networkError('ECONNRESET'))],
		['a failure without a code', () => Promise.reject(networkError())],
		['an unknown code', () => Promise.reject(networkError('UND_ERR_CLOSED'))],
	])('never sends a submit again after %s: fal may have accepted it', async (_name, answer) => {
		const { calls, impl } = scripted(answer as () => Promise<Response>);
		const error = await createResilientFetch({ fetchImpl: impl, policy: fast })(
			SUBMIT,
			submitInit(),
		).catch((e: unknown) => e);
		expect(calls).toHaveLength(1);
		expect((error as FalError).maybeAccepted).toBe(true);
	});

	it("reads a submit's answer itself, so a body cut after acceptance is not retried by the client", async () => {
		const cut = new ReadableStream({
			start(controller) {
				controller.enqueue(new TextEncoder().encode('{"request_id":'));
				controller.error(networkError('ECONNRESET'));
			},
		});
		const { calls, impl } = scripted(
			() => new Response(cut, { status: 200, headers: { 'content-type': 'application/json' } }),
		);
		const error = await createResilientFetch({ fetchImpl: impl, policy: fast })(
			SUBMIT,
			submitInit(),
		).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(FalError);
		expect((error as FalError).maybeAccepted).toBe(true);
		expect(calls).toHaveLength(1);
	});

	it('knows a submit by its mark, not its URL: any endpoint, behind a proxy or not', async () => {
		const madeUp = 'https://queue.fal.run/acme/made-up-model/v2';
		for (const [input, init] of [
			[madeUp, submitInit()],
			['http://127.0.0.1:9/proxy', submitInit({ headers: { 'x-fal-target-url': madeUp } })],
		] as const) {
			const { calls, impl } = scripted(() => json(502, { detail: 'x' }));
			await expect(
				createResilientFetch({ fetchImpl: impl, policy: fast })(input, init),
			).rejects.toMatchObject({ maybeAccepted: true });
			expect(calls).toHaveLength(1);
		}
		// The fill endpoint's own URL, unmarked (a status or result read), is retried as usual.
		const { calls, impl } = scripted(() => json(502, { detail: 'x' }));
		await expect(
			createResilientFetch({ fetchImpl: impl, policy: fast })(SUBMIT, { method: 'POST' }),
		).rejects.toMatchObject({ maybeAccepted: false });
		expect(calls).toHaveLength(fast.attempts);
	});
});

describe('parseRetryAfter and backoff', () => {
	it('reads seconds and HTTP dates', () => {
		expect(parseRetryAfter('2')).toBe(2000);
		expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
		expect(parseRetryAfter(null)).toBeUndefined();
		expect(parseRetryAfter('soon')).toBeUndefined();
	});

	it('grows exponentially with jitter, capped', () => {
		for (let attempt = 1; attempt <= 10; attempt++) {
			const delay = backoff(DEFAULT_RETRY_POLICY, attempt);
			const ceiling = Math.min(
				DEFAULT_RETRY_POLICY.maxDelayMs,
				DEFAULT_RETRY_POLICY.baseDelayMs * 2 ** (attempt - 1),
			);
			expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
			expect(delay).toBeLessThanOrEqual(ceiling);
		}
	});
});
