import { FAL_QUEUE_URL, TIMING } from '../../../nodes/FluxProFill/common/constants';
import { AT_FAL, fal as words } from '../../../nodes/FluxProFill/common/messages';
import { Deadline } from '../../../nodes/FluxProFill/transport/deadline';
import { FalError, falError } from '../../../nodes/FluxProFill/transport/errors';
import {
	awaitResult,
	backoff,
	cancel,
	getStatus,
	requestUrl,
	submit,
	withRetries,
} from '../../../nodes/FluxProFill/transport/queue';
import { settled, useFakeClock } from '../kit';
import { abortError, fakeFal, httpError, networkError, scripted, timeoutError } from './fakeFal';

useFakeClock();

const ENDPOINT = 'fal-ai/flux-pro/v1/fill';
const ID = '764cabcf-b745-4b3e-ae38-1200304cf45b';
const fail = (error: unknown) => () => {
	throw error;
};
const ok =
	<T>(value: T) =>
	() =>
		value;
const neverSignal = () => new AbortController().signal;
const longDeadline = (stop = neverSignal()) => new Deadline(stop, 3_600_000);

/** Starts `promise`, lets `ms` of fake time pass, and gives what it settled to. */
async function after(ms: number, promise: Promise<unknown>): Promise<unknown> {
	const outcome = settled(promise);
	await jest.advanceTimersByTimeAsync(ms);
	return await outcome;
}

describe('withRetries', () => {
	it('tries again after failures that may pass, until the call succeeds', async () => {
		const call = scripted(fail(httpError(503)), fail(networkError('ECONNRESET')), ok('done'));
		expect(await after(60_000, withRetries(call, { signal: neverSignal() }))).toBe('done');
		expect(call).toHaveBeenCalledTimes(3);
	});

	it('stops after its attempts and throws the last failure, with the count', async () => {
		const failures = [1, 2, 3, 4, 5].map(() => httpError(500));
		const call = scripted(...failures.map(fail));
		const error = await after(60_000, withRetries(call, { signal: neverSignal(), attempts: 4 }));
		expect(call).toHaveBeenCalledTimes(4);
		expect(error).toBe(failures[3]);
		expect((error as FalError).fields.attempts).toBe(4);
	});

	it.each([
		['HTTP 401', httpError(401)],
		['HTTP 404', httpError(404)],
		['HTTP 422', httpError(422)],
		['a bug (a plain error)', new TypeError('x is not a function')],
	])('does not retry %s, which would fail the same way', async (_name, failure) => {
		const call = scripted(fail(failure), ok('done'));
		const error = await after(60_000, withRetries(call, { signal: neverSignal() }));
		expect(error).toBe(failure);
		expect(call).toHaveBeenCalledTimes(1);
		expect((error as Partial<FalError>).fields?.attempts).toBeUndefined();
	});

	it.each([
		['HTTP 408', httpError(408)],
		['HTTP 429', httpError(429)],
		['HTTP 502', httpError(502)],
		['a reset connection', networkError('ECONNRESET')],
	])('retries %s', async (_name, failure) => {
		const call = scripted(fail(failure), ok('done'));
		expect(await after(60_000, withRetries(call, { signal: neverSignal() }))).toBe('done');
	});

	it('backs off exponentially with jitter: each wait between half and all of its step, capped', async () => {
		for (const random of [0, 0.5, 0.999_999]) {
			jest.spyOn(Math, 'random').mockReturnValue(random);
			const at: number[] = [];
			const call = scripted(() => {
				at.push(Date.now());
				throw httpError(503);
			});
			await after(10 * 60_000, withRetries(call, { signal: neverSignal(), attempts: 10 }));
			const waits = at.slice(1).map((time, index) => time - at[index]);
			expect(waits).toHaveLength(9);
			waits.forEach((wait, index) => {
				const step = Math.min(TIMING.maxDelayMs, TIMING.baseDelayMs * 2 ** index);
				expect(wait).toBeGreaterThanOrEqual(Math.floor(step / 2));
				expect(wait).toBeLessThanOrEqual(step);
			});
			// The cap is reached, and held.
			expect(Math.max(...waits)).toBeLessThanOrEqual(TIMING.maxDelayMs);
			expect(waits.at(-1)).toBeGreaterThanOrEqual(TIMING.maxDelayMs / 2);
		}
	});

	it('spreads the waits of items that failed together (jitter)', () => {
		const waits = (random: number) => {
			jest.spyOn(Math, 'random').mockReturnValue(random);
			return Array.from({ length: 8 }, (_, i) => backoff(i + 1));
		};
		const low = waits(0);
		const high = waits(0.999_999);
		low.forEach((wait, i) => expect(wait).toBeLessThan(high[i]));
	});

	it("waits as long as fal's Retry-After says", async () => {
		const call = scripted(fail(httpError(429, { retryAfterMs: 5_000 })), ok('done'));
		const outcome = settled(withRetries(call, { signal: neverSignal() }));
		await jest.advanceTimersByTimeAsync(4_999);
		expect(call).toHaveBeenCalledTimes(1);
		await jest.advanceTimersByTimeAsync(1);
		expect(await outcome).toBe('done');
	});

	it('fails at once when Retry-After asks for longer than the node waits', async () => {
		const tooLong = httpError(429, { retryAfterMs: TIMING.maxRetryAfterMs + 1 });
		const call = scripted(fail(tooLong), ok('done'));
		expect(await after(0, withRetries(call, { signal: neverSignal() }))).toBe(tooLong);
		expect(call).toHaveBeenCalledTimes(1);
	});

	it('stops waiting when the signal fires, and throws the failure, not the abort', async () => {
		const stop = new AbortController();
		const failure = httpError(503);
		const call = scripted(fail(failure));
		const outcome = settled(withRetries(call, { signal: stop.signal }));
		await jest.advanceTimersByTimeAsync(10);
		stop.abort();
		expect(await outcome).toBe(failure);
		await jest.advanceTimersByTimeAsync(60_000);
		expect(call).toHaveBeenCalledTimes(1);
	});

	it('throws the failure before a call the signal cut short', async () => {
		const stop = new AbortController();
		const failure = httpError(502);
		const call = scripted(fail(failure), async () => {
			await new Promise((resolve) => stop.signal.addEventListener('abort', resolve));
			// As fetch does: it rejects with the signal's reason.
			throw stop.signal.reason;
		});
		const outcome = settled(withRetries(call, { signal: stop.signal }));
		await jest.advanceTimersByTimeAsync(TIMING.maxDelayMs);
		expect(call).toHaveBeenCalledTimes(2);
		stop.abort();
		expect(await outcome).toBe(failure);
	});

	it('throws the abort when the first call is stopped', async () => {
		const aborted = abortError();
		const call = scripted(fail(aborted));
		expect(await after(0, withRetries(call, { signal: neverSignal() }))).toBe(aborted);
	});

	it('tells n8n’s log about each retry', async () => {
		const warn = jest.fn();
		const call = scripted(fail(httpError(503)), fail(httpError(503)), ok('done'));
		await after(60_000, withRetries(call, { signal: neverSignal(), warn }));
		expect(warn).toHaveBeenCalledTimes(2);
	});
});

describe('backoff', () => {
	it("keeps under a lower cap (the status stream's), and reaches it", () => {
		for (const random of [0, 0.999_999]) {
			jest.spyOn(Math, 'random').mockReturnValue(random);
			const waits = Array.from({ length: 12 }, (_, i) => backoff(i + 1, TIMING.maxStreamDelayMs));
			expect(Math.max(...waits)).toBeLessThanOrEqual(TIMING.maxStreamDelayMs);
			expect(waits.at(-1)).toBeGreaterThanOrEqual(TIMING.maxStreamDelayMs / 2);
			// Never shorter than the attempt before.
			waits.slice(1).forEach((wait, i) => expect(wait).toBeGreaterThanOrEqual(waits[i]));
		}
	});
});

describe('submit', () => {
	const submitWith = (...steps: Array<() => unknown>) => {
		const send = scripted(...steps);
		return { send, fal: fakeFal({ submit: send, cancel: scripted(ok(undefined)) }) };
	};

	it("sends the input once, with the webhook, and gives fal's answer", async () => {
		const answer = { request_id: ID, status: 'IN_QUEUE' };
		const { send, fal } = submitWith(ok(answer));
		const input = { prompt: 'a red bicycle' };
		const result = await after(
			0,
			submit(fal, ENDPOINT, input, {
				deadline: longDeadline(),
				webhookUrl: 'https://n8n.test/hook',
			}),
		);
		expect(result).toEqual(answer);
		expect(send).toHaveBeenCalledTimes(1);
		expect(send.calls[0]).toEqual([
			ENDPOINT,
			expect.objectContaining({ input, webhookUrl: 'https://n8n.test/hook' }),
		]);
	});

	it.each([
		['HTTP 429', httpError(429)],
		['HTTP 503', httpError(503)],
		['a refused connection', networkError('ECONNREFUSED')],
		['an unknown host', networkError('ENOTFOUND')],
		['a host that could not be looked up', networkError('EAI_AGAIN')],
	])('is sent again after %s: fal surely did not accept it', async (_name, failure) => {
		const { send, fal } = submitWith(fail(failure), ok({ request_id: ID }));
		const result = await after(60_000, submit(fal, ENDPOINT, {}, { deadline: longDeadline() }));
		expect(result).toEqual({ request_id: ID });
		expect(send).toHaveBeenCalledTimes(2);
	});

	it('gives up after its attempts when fal keeps refusing, as not accepted', async () => {
		const { send, fal } = submitWith(fail(httpError(503)));
		const error = await after(60_000, submit(fal, ENDPOINT, {}, { deadline: longDeadline() }));
		expect(send).toHaveBeenCalledTimes(TIMING.attempts);
		expect(error).toBeInstanceOf(FalError);
		expect((error as FalError).fields).toMatchObject({ status: 503, attempts: TIMING.attempts });
		expect((error as FalError).fields.maybeAccepted).toBeFalsy();
	});

	it.each([
		['HTTP 500', httpError(500)],
		['HTTP 502', httpError(502)],
		['HTTP 504', httpError(504)],
		['a reset connection', networkError('ECONNRESET')],
		['a connection closed midway', networkError('UND_ERR_SOCKET')],
		['a network error without a code', networkError()],
		['its own time limit', timeoutError()],
		['an answer too large to read', falError(words.tooLarge('x', 1024))],
	])('is never sent again after %s: fal may have accepted it', async (_name, failure) => {
		const { send, fal } = submitWith(fail(failure), ok({ request_id: ID }));
		const error = await after(60_000, submit(fal, ENDPOINT, {}, { deadline: longDeadline() }));
		expect(send).toHaveBeenCalledTimes(1);
		expect(error).toBeInstanceOf(FalError);
		expect((error as FalError).fields.maybeAccepted).toBe(true);
	});

	it('keeps the request id fal named in an answer that failed', async () => {
		const { fal } = submitWith(fail(httpError(502, { requestId: ID })));
		const error = await after(0, submit(fal, ENDPOINT, {}, { deadline: longDeadline() }));
		expect((error as FalError).fields).toMatchObject({ maybeAccepted: true, requestId: ID });
	});

	it.each([
		['HTTP 401', httpError(401)],
		['HTTP 403', httpError(403)],
		['HTTP 422', httpError(422)],
	])('passes on a refusal (%s) as it is: nothing was accepted', async (_name, failure) => {
		const { send, fal } = submitWith(fail(failure), ok({ request_id: ID }));
		const error = await after(60_000, submit(fal, ENDPOINT, {}, { deadline: longDeadline() }));
		expect(error).toBe(failure);
		expect(send).toHaveBeenCalledTimes(1);
		expect((error as FalError).fields.maybeAccepted).toBeFalsy();
	});

	it.each([[{}], [{ request_id: '../../other' }], [{ request_id: 42 }], [undefined]])(
		'takes an answer without a valid request id (%p) as maybe accepted',
		async (answer) => {
			const { send, fal } = submitWith(ok(answer));
			const error = await after(0, submit(fal, ENDPOINT, {}, { deadline: longDeadline() }));
			expect((error as FalError).fields.maybeAccepted).toBe(true);
			expect(send).toHaveBeenCalledTimes(1);
		},
	);

	it('is not sent when the item has already stopped', async () => {
		const stop = new AbortController();
		stop.abort();
		const deadline = longDeadline(stop.signal);
		const { send, fal } = submitWith(ok({ request_id: ID }));
		const error = await after(0, submit(fal, ENDPOINT, {}, { deadline }));
		expect((error as Error).message).toBe(deadline.error().message);
		expect(send).not.toHaveBeenCalled();
	});

	it('is not cut by a stop: the request fal accepted meanwhile is given, for the caller to record', async () => {
		const stop = new AbortController();
		const cancelled = scripted(ok(undefined));
		const send = scripted(async () => {
			await new Promise((resolve) => setTimeout(resolve, 1_000));
			return { request_id: ID };
		});
		const fal = fakeFal({ submit: send, cancel: cancelled });
		const outcome = settled(submit(fal, ENDPOINT, {}, { deadline: longDeadline(stop.signal) }));
		await jest.advanceTimersByTimeAsync(500);
		stop.abort();
		await jest.advanceTimersByTimeAsync(500);
		expect(await outcome).toEqual({ request_id: ID });
		// The caller cancels it once it is remembered (awaitResult on a stopped deadline).
		expect(cancelled).not.toHaveBeenCalled();
	});

	it('a submit cut by its own time limit after a refusal may be accepted, though the item stopped meanwhile', async () => {
		const stop = new AbortController();
		const send = scripted(fail(httpError(503)), async () => {
			await new Promise((resolve) => setTimeout(resolve, TIMING.submitCallMs));
			throw timeoutError();
		});
		const outcome = settled(
			submit(fakeFal({ submit: send }), ENDPOINT, {}, { deadline: longDeadline(stop.signal) }),
		);
		await jest.advanceTimersByTimeAsync(TIMING.maxDelayMs);
		expect(send).toHaveBeenCalledTimes(2);
		stop.abort();
		await jest.advanceTimersByTimeAsync(TIMING.submitCallMs);
		const error = (await outcome) as FalError;
		expect(error).toBeInstanceOf(FalError);
		expect(error.fields.maybeAccepted).toBe(true);
	});

	it('a stop while waiting to send again is the reason it failed', async () => {
		const stop = new AbortController();
		const deadline = longDeadline(stop.signal);
		const { send, fal } = submitWith(fail(httpError(503)), ok({ request_id: ID }));
		const outcome = settled(submit(fal, ENDPOINT, {}, { deadline }));
		await jest.advanceTimersByTimeAsync(1);
		stop.abort();
		expect(((await outcome) as Error).message).toBe(deadline.error().message);
		expect(send).toHaveBeenCalledTimes(1);
	});
});

describe('requestUrl', () => {
	it("names the app (owner/name), not the endpoint's sub-path, and encodes the id", () => {
		expect(requestUrl(ENDPOINT, ID, '/status')).toBe(
			`${FAL_QUEUE_URL}/fal-ai/flux-pro/requests/${ID}/status`,
		);
		expect(requestUrl('fal-ai/evf-sam', 'a b')).toBe(
			`${FAL_QUEUE_URL}/fal-ai/evf-sam/requests/a%20b`,
		);
	});
});

describe('getStatus and cancel', () => {
	it('getStatus asks for the logs when told, and retries until it has an answer', async () => {
		const status = scripted(fail(httpError(503)), ok({ status: 'IN_PROGRESS' }));
		const fal = fakeFal({ status });
		const result = await after(60_000, getStatus(fal, ENDPOINT, ID, true, neverSignal()));
		expect(result).toEqual({ status: 'IN_PROGRESS' });
		expect(status.calls[1]).toEqual([
			ENDPOINT,
			expect.objectContaining({ requestId: ID, logs: true }),
		]);
	});

	it("cancel tells a requested cancel from fal's ALREADY_COMPLETED", async () => {
		const requested = fakeFal({ cancel: scripted(fail(httpError(503)), ok(undefined)) });
		expect(await after(60_000, cancel(requested, ENDPOINT, ID, neverSignal()))).toBe(
			'CANCELLATION_REQUESTED',
		);
		const done = httpError(400, { body: { status: 'ALREADY_COMPLETED' } });
		const completed = fakeFal({ cancel: scripted(fail(done)) });
		expect(await after(0, cancel(completed, ENDPOINT, ID, neverSignal()))).toBe(
			'ALREADY_COMPLETED',
		);
		const other = httpError(400, { body: { detail: 'bad request' } });
		const refused = fakeFal({ cancel: scripted(fail(other)) });
		expect(await after(0, cancel(refused, ENDPOINT, ID, neverSignal()))).toBe(other);
	});
});

describe('awaitResult', () => {
	const encoder = new TextEncoder();
	const statusEvent = (status: string) => `data: ${JSON.stringify({ status })}\n\n`;

	/**
	 * A status stream that sends `events` (one chunk each), then ends, or with `hang` stays
	 * open until the request's signal fires, as a real connection does.
	 */
	const eventStream = (signal: AbortSignal | null | undefined, events: string[], hang = false) =>
		new Response(
			new ReadableStream<Uint8Array>({
				start(controller) {
					for (const event of events) controller.enqueue(encoder.encode(event));
					if (!hang) return controller.close();
					signal?.addEventListener('abort', () => controller.error(signal.reason));
				},
			}),
			{ headers: { 'content-type': 'text/event-stream' } },
		);

	const waitWith = (
		streams: Array<(signal?: AbortSignal | null) => Response>,
		parts: Parameters<typeof fakeFal>[0] = {},
	) => {
		const urls: string[] = [];
		const call = async (url: string, init?: RequestInit) => {
			urls.push(url);
			return streams[Math.min(urls.length, streams.length) - 1](init?.signal);
		};
		const result = scripted(ok({ data: { images: [] }, requestId: ID }));
		const cancelled = scripted(ok(undefined));
		return { urls, result, cancelled, fal: fakeFal({ call, result, cancel: cancelled, ...parts }) };
	};
	const wait = (fal: ReturnType<typeof fakeFal>, deadline = longDeadline(), cancelOnStop = true) =>
		awaitResult(fal, ENDPOINT, ID, { deadline, cancelOnStop: () => cancelOnStop });

	it("follows fal's status stream to COMPLETED, then fetches the result at once when fal closes it", async () => {
		const { fal, urls, result } = waitWith([
			(signal) => eventStream(signal, [statusEvent('IN_QUEUE'), statusEvent('COMPLETED')]),
		]);
		expect(await after(0, wait(fal))).toEqual({ images: [] });
		expect(urls).toEqual([requestUrl(ENDPOINT, ID, '/status/stream?logs=0')]);
		expect(result.calls[0]).toEqual([ENDPOINT, expect.objectContaining({ requestId: ID })]);
	});

	it('reads an event split over chunks', async () => {
		const event = statusEvent('COMPLETED');
		const { fal } = waitWith([
			(signal) => eventStream(signal, [event.slice(0, 9), event.slice(9)]),
		]);
		expect(await after(0, wait(fal))).toEqual({ images: [] });
	});

	it('waits at most a second for a stream that stays open after COMPLETED, then fetches the result', async () => {
		const { fal, result } = waitWith([
			(signal) => eventStream(signal, [statusEvent('COMPLETED')], true),
		]);
		const outcome = settled(wait(fal));
		await jest.advanceTimersByTimeAsync(TIMING.streamDrainMs - 1);
		expect(result).toHaveBeenCalledTimes(0);
		await jest.advanceTimersByTimeAsync(1);
		expect(await outcome).toEqual({ images: [] });
	});

	it('takes a plain status answer where a proxy does not stream', async () => {
		const json = () =>
			new Response(JSON.stringify({ status: 'COMPLETED' }), {
				headers: { 'content-type': 'application/json' },
			});
		const { fal } = waitWith([json]);
		expect(await after(0, wait(fal))).toEqual({ images: [] });
	});

	it('reopens a stream that ended before completion, and backs an empty one by a status call', async () => {
		const status = scripted(ok({ status: 'IN_PROGRESS' }), ok({ status: 'COMPLETED' }));
		const { fal, urls } = waitWith(
			[
				(signal) => eventStream(signal, [statusEvent('IN_QUEUE')]),
				(signal) => eventStream(signal, []),
				(signal) => eventStream(signal, []),
			],
			{ status },
		);
		expect(await after(10_000, wait(fal))).toEqual({ images: [] });
		// Events, then nothing twice: each empty stream is followed by one status call.
		expect(urls).toHaveLength(3);
		expect(status).toHaveBeenCalledTimes(2);
	});

	it('reopens a stream that stays silent', async () => {
		const { fal, urls } = waitWith([
			(signal) => eventStream(signal, [statusEvent('IN_QUEUE')], true),
			(signal) => eventStream(signal, [statusEvent('COMPLETED')]),
		]);
		const outcome = settled(wait(fal));
		await jest.advanceTimersByTimeAsync(TIMING.streamIdleMs - 1);
		expect(urls).toHaveLength(1);
		await jest.advanceTimersByTimeAsync(1);
		expect(await outcome).toEqual({ images: [] });
		expect(urls).toHaveLength(2);
	});

	it('keeps a stream that sends events open past the idle time', async () => {
		const { fal, urls } = waitWith([
			(signal) =>
				new Response(
					new ReadableStream<Uint8Array>({
						start(controller) {
							const send = (status: string) =>
								controller.enqueue(encoder.encode(statusEvent(status)));
							send('IN_QUEUE');
							const idle = TIMING.streamIdleMs;
							setTimeout(() => send('IN_PROGRESS'), idle * 0.7);
							setTimeout(() => send('IN_PROGRESS'), idle * 1.4);
							setTimeout(() => send('COMPLETED'), idle * 2.1);
							signal?.addEventListener('abort', () => controller.error(signal.reason));
						},
					}),
					{ headers: { 'content-type': 'text/event-stream' } },
				),
		]);
		expect(await after(TIMING.streamIdleMs * 3, wait(fal))).toEqual({ images: [] });
		expect(urls).toHaveLength(1);
	});

	it("passes on fal's error answer to the stream (no such request)", async () => {
		const missing = httpError(404);
		const { fal } = waitWith([
			() => {
				throw missing;
			},
		]);
		expect(await after(60_000, wait(fal))).toBe(missing);
	});

	it.each([
		['in the queue: taken off it', 'IN_QUEUE', 'confirmed'],
		['generating: only asked to stop, it may still be billed', 'IN_PROGRESS', 'requested'],
		['unknown (the status call failed): it may still be billed', undefined, 'requested'],
	] as const)(
		'when stopped, asks fal where the request is, then cancels it: %s',
		async (_name, where, outcome) => {
			const stop = new AbortController();
			const status = scripted(where ? ok({ status: where }) : fail(httpError(500)));
			const { fal, cancelled } = waitWith([(signal) => eventStream(signal, [], true)], {
				status,
			});
			const outcomeOf = settled(wait(fal, longDeadline(stop.signal)));
			await jest.advanceTimersByTimeAsync(100);
			stop.abort();
			const error = (await outcomeOf) as FalError;
			expect(status).toHaveBeenCalledTimes(1);
			expect(cancelled).toHaveBeenCalledTimes(1);
			expect(error.fields.words).toEqual(words.canceled(ID, AT_FAL[outcome]));
			expect(error.fields.cancelledAtFal).toBe(outcome === 'confirmed');
		},
	);

	it('does not trust a status the stream gave earlier: fal may have started the request since', async () => {
		const stop = new AbortController();
		const status = scripted(ok({ status: 'IN_PROGRESS' }));
		const { fal } = waitWith([(signal) => eventStream(signal, [statusEvent('IN_QUEUE')], true)], {
			status,
		});
		const outcome = settled(wait(fal, longDeadline(stop.signal)));
		await jest.advanceTimersByTimeAsync(100);
		stop.abort();
		expect(((await outcome) as FalError).fields.words).toEqual(
			words.canceled(ID, AT_FAL.requested),
		);
	});

	it('sends no cancel when the operation keeps requests running on a stop', async () => {
		const stop = new AbortController();
		const { fal, cancelled } = waitWith([(signal) => eventStream(signal, [], true)]);
		const outcome = settled(wait(fal, longDeadline(stop.signal), false));
		await jest.advanceTimersByTimeAsync(100);
		stop.abort();
		const error = (await outcome) as FalError;
		expect(error.fields).toMatchObject({ requestId: ID, cancelledAtFal: false });
		expect(cancelled).not.toHaveBeenCalled();
	});

	it('on a timeout, says so and whether the cancel was confirmed', async () => {
		const { fal } = waitWith([(signal) => eventStream(signal, [statusEvent('IN_QUEUE')], true)], {
			cancel: scripted(fail(httpError(500))),
		});
		const deadline = new Deadline(neverSignal(), 2_000);
		const error = (await after(2_000 + TIMING.cancelCallMs, wait(fal, deadline))) as FalError;
		expect(error.fields.words).toEqual(words.timedOut(2, ID, AT_FAL.failed));
		expect(error.fields.cancelledAtFal).toBe(false);
	});
});

describe('submit after a refusal, then its own time limit', () => {
	it('is not sent a third time: the timed-out second submit may have been accepted', async () => {
		const send = scripted(fail(httpError(429)), fail(timeoutError()), () => ({ request_id: ID }));
		const deadline = new Deadline(new AbortController().signal, 3_600_000);
		const outcome = settled(
			submit(fakeFal({ submit: send }), 'fal-ai/flux-pro/v1/fill', {}, { deadline }),
		);
		await jest.advanceTimersByTimeAsync(60_000);
		const error = await outcome;
		expect(send).toHaveBeenCalledTimes(2);
		expect(error).toBeInstanceOf(FalError);
		expect((error as FalError).fields.maybeAccepted).toBe(true);
	});

	it('when the last attempt times out, the item says fal may have accepted it', async () => {
		const send = scripted(
			...Array.from({ length: TIMING.attempts - 1 }, () => fail(httpError(503))),
			fail(timeoutError()),
		);
		const deadline = new Deadline(new AbortController().signal, 3_600_000);
		const outcome = settled(
			submit(fakeFal({ submit: send }), 'fal-ai/flux-pro/v1/fill', {}, { deadline }),
		);
		await jest.advanceTimersByTimeAsync(60_000);
		const error = await outcome;
		expect(send).toHaveBeenCalledTimes(TIMING.attempts);
		expect((error as FalError).fields.maybeAccepted).toBe(true);
	});
});
