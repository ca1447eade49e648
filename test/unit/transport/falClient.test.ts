import { CAPS, FAL_QUEUE_URL, TIMING } from '../../../nodes/FluxProFill/common/constants';
import { fal as words, InputProblem } from '../../../nodes/FluxProFill/common/messages';
import { FalError } from '../../../nodes/FluxProFill/transport/errors';
import {
	checkProxyUrl,
	createFal,
	parseRetryAfter,
	readCapped,
} from '../../../nodes/FluxProFill/transport/falClient';
import { settled, useFakeClock } from '../kit';
import { abortError, fetchFailed } from './fakeFal';

const KEY = 'key-id:key-secret-0123456789';
const ID = '764cabcf-b745-4b3e-ae38-1200304cf45b';
const ENDPOINT = 'fal-ai/flux-pro/v1/fill';
const STATUS_URL = `${FAL_QUEUE_URL}/fal-ai/flux-pro/requests/${ID}/status`;
const RESULT_URL = `${FAL_QUEUE_URL}/fal-ai/flux-pro/requests/${ID}`;

interface Sent {
	url: string;
	headers: Headers;
}

/** A fetch that gives `answer()` to every request and records what was sent. */
function fakeSend(answer: () => Response | Promise<Response>) {
	const sent: Sent[] = [];
	const send = (async (input: RequestInfo | URL, init?: RequestInit) => {
		sent.push({ url: String(input), headers: new Headers(init?.headers) });
		return await answer();
	}) as typeof fetch;
	return { sent, send };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
	new Response(JSON.stringify(body), {
		status,
		headers: { 'content-type': 'application/json', ...headers },
	});

/** A body of `bytes` bytes in chunks of 64 KiB, made as it is read. */
function bigBody(bytes: number, type = 'application/json'): Response {
	let left = bytes;
	const stream = new ReadableStream<Uint8Array>({
		pull(controller) {
			if (left <= 0) return controller.close();
			const size = Math.min(left, 64 * 1024);
			left -= size;
			controller.enqueue(new Uint8Array(size).fill(0x20));
		},
	});
	return new Response(stream, { headers: { 'content-type': type } });
}

const failureOf = async (promise: Promise<unknown>) => {
	const error = await settled(promise);
	expect(error).toBeInstanceOf(FalError);
	return error as FalError;
};

describe('createFal: the way to fal', () => {
	it('calls fal with the key, directly when there is no proxy', async () => {
		const { sent, send } = fakeSend(() => json(200, { status: 'COMPLETED' }));
		const response = await createFal({ apiKey: KEY }, send).call(STATUS_URL);
		expect(await response.json()).toEqual({ status: 'COMPLETED' });
		expect(sent).toHaveLength(1);
		expect(sent[0].url).toBe(STATUS_URL);
		expect(sent[0].headers.get('authorization')).toBe(`Key ${KEY}`);
		expect(sent[0].headers.has('x-fal-target-url')).toBe(false);
	});

	it("sends calls to the credential's server proxy, with fal's URL in a header", async () => {
		const proxy = 'https://n8n.example.com/api/fal/proxy';
		const { sent, send } = fakeSend(() => json(200, { status: 'COMPLETED' }));
		await createFal({ apiKey: KEY, proxyUrl: ` ${proxy} ` }, send).call(STATUS_URL);
		expect(sent[0].url).toBe(proxy);
		expect(sent[0].headers.get('x-fal-target-url')).toBe(STATUS_URL);
		expect(sent[0].headers.get('authorization')).toBe(`Key ${KEY}`);
	});

	it("sends the client's own calls through the same fetch, with the key", async () => {
		const { sent, send } = fakeSend(() => json(200, { status: 'IN_QUEUE', queue_position: 2 }));
		const status = await createFal({ apiKey: KEY }, send).client.queue.status(ENDPOINT, {
			requestId: ID,
		});
		expect(status).toMatchObject({ status: 'IN_QUEUE', queue_position: 2 });
		expect(sent).toHaveLength(1);
		expect(sent[0].url.startsWith(STATUS_URL)).toBe(true);
		expect(sent[0].headers.get('authorization')).toBe(`Key ${KEY}`);
	});

	it("gives the client's callers the checked FalError, tried once (the node retries, not the client)", async () => {
		const { sent, send } = fakeSend(() => json(503, { detail: 'No runner' }));
		const error = await failureOf(
			createFal({ apiKey: KEY }, send).client.queue.status(ENDPOINT, { requestId: ID }),
		);
		expect(error.fields).toMatchObject({ status: 503, body: { detail: 'No runner' } });
		expect(sent).toHaveLength(1);
	});

	it('refuses a bad proxy URL before anything is sent', () => {
		const { sent, send } = fakeSend(() => json(200, {}));
		expect(() => createFal({ apiKey: KEY, proxyUrl: 'not a url' }, send)).toThrow(InputProblem);
		expect(sent).toHaveLength(0);
	});
});

describe('the checked fetch', () => {
	const call = (answer: () => Response | Promise<Response>, url = STATUS_URL) =>
		createFal({ apiKey: KEY }, fakeSend(answer).send).call(url);

	it("turns an error status into a FalError with fal's body, its request id and Retry-After", async () => {
		const error = await failureOf(
			call(() =>
				json(429, { detail: 'Too many requests' }, { 'x-fal-request-id': ID, 'retry-after': '3' }),
			),
		);
		expect(error.fields).toMatchObject({
			status: 429,
			body: { detail: 'Too many requests' },
			requestId: ID,
			retryAfterMs: 3_000,
		});
	});

	it('takes the request id from the body when no header names it, and only a valid one', async () => {
		const fromBody = await failureOf(call(() => json(500, { request_id: ID })));
		expect(fromBody.fields.requestId).toBe(ID);
		const invalid = await failureOf(
			call(() => json(500, {}, { 'x-fal-request-id': '../../../etc/passwd' })),
		);
		expect(invalid.fields.requestId).toBeUndefined();
	});

	it('keeps a body that is not JSON as text', async () => {
		const error = await failureOf(
			call(() => new Response('<h1>Bad Gateway</h1>', { status: 502 })),
		);
		expect(error.fields).toMatchObject({ status: 502, body: '<h1>Bad Gateway</h1>' });
	});

	it('passes a good answer on, read and whole', async () => {
		const response = await call(() => json(200, { status: 'IN_PROGRESS' }, { 'x-custom': 'y' }));
		expect(response.status).toBe(200);
		expect(response.headers.get('x-custom')).toBe('y');
		expect(await response.json()).toEqual({ status: 'IN_PROGRESS' });
		const empty = await call(() => new Response(null, { status: 204 }));
		expect(empty.status).toBe(204);
	});

	it(`caps a JSON or text answer at ${CAPS.jsonBytes / 1024 / 1024} MiB with a clear FalError`, async () => {
		for (const type of ['application/json', 'text/plain']) {
			const error = await failureOf(call(() => bigBody(CAPS.jsonBytes + 1, type)));
			expect(error.fields.words).toEqual(
				words.tooLarge(new URL(STATUS_URL).pathname, CAPS.jsonBytes),
			);
			expect(error.fields.status).toBeUndefined();
		}
		// Up to the cap, it is read.
		const atCap = await call(() => bigBody(CAPS.jsonBytes));
		expect((await atCap.text()).length).toBe(CAPS.jsonBytes);
	});

	it("reads an error answer only up to the cap: its start is fal's words", async () => {
		const huge = async () => {
			const response = bigBody(CAPS.jsonBytes * 3);
			return new Response(response.body, { status: 500 });
		};
		const failure = await failureOf(call(huge));
		expect(failure.fields.status).toBe(500);
		expect(String(failure.fields.body).length).toBe(CAPS.jsonBytes);
	});

	it('lets a result (sync mode: images inline) be larger than the other answers', async () => {
		const response = await call(() => bigBody(CAPS.jsonBytes * 2), RESULT_URL);
		expect((await response.text()).length).toBe(CAPS.jsonBytes * 2);
	});

	it('passes an event stream through unread, for the stream reader', async () => {
		const stream = bigBody(CAPS.jsonBytes * 2, 'text/event-stream');
		const response = await call(() => stream);
		expect(response).toBe(stream);
		expect(response.bodyUsed).toBe(false);
	});

	it('turns a network failure into a FalError with its code, and passes an abort as it is', async () => {
		const failure = await failureOf(
			call(async () => await Promise.reject(fetchFailed('ECONNRESET', 'socket hang up'))),
		);
		expect(failure.fields).toMatchObject({
			networkCode: 'ECONNRESET',
			networkText: 'socket hang up',
		});
		const aborted = abortError();
		expect(await settled(call(async () => await Promise.reject(aborted)))).toBe(aborted);
	});

	describe('a call the client sends without a signal (storage)', () => {
		useFakeClock();
		const hanging = (seen: AbortSignal[]) =>
			(async (_input: RequestInfo | URL, init?: RequestInit) => {
				const signal = init?.signal as AbortSignal;
				seen.push(signal);
				return await new Promise<Response>((_resolve, reject) =>
					signal.addEventListener('abort', () => reject(signal.reason)),
				);
			}) as typeof fetch;

		it(`gets a time limit of ${TIMING.uploadCallMs / 1000} s: a stalled upload is a network timeout`, async () => {
			const seen: AbortSignal[] = [];
			const fal = createFal({ apiKey: KEY }, hanging(seen));
			const outcome = settled(fal.client.storage.upload(new Blob(['png']) as File));
			await jest.advanceTimersByTimeAsync(TIMING.uploadCallMs - 1);
			expect(seen[0].aborted).toBe(false);
			await jest.advanceTimersByTimeAsync(1);
			expect(await outcome).toMatchObject({ fields: { networkCode: 'ETIMEDOUT' } });
		});

		it("ends with the execution's stop", async () => {
			const seen: AbortSignal[] = [];
			const stop = new AbortController();
			const fal = createFal({ apiKey: KEY }, hanging(seen), { stop: stop.signal });
			const outcome = settled(fal.client.storage.upload(new Blob(['png']) as File));
			await jest.advanceTimersByTimeAsync(10);
			stop.abort();
			const error = await outcome;
			expect(error).not.toBeInstanceOf(FalError);
			expect(seen[0].aborted).toBe(true);
		});
	});

	it('turns an answer cut while being read into a network FalError with the request id', async () => {
		const cut = () =>
			new Response(
				new ReadableStream({
					start(controller) {
						controller.enqueue(new TextEncoder().encode('{"status":'));
						controller.error(fetchFailed('ECONNRESET', 'socket hang up'));
					},
				}),
				{ headers: { 'content-type': 'application/json', 'x-fal-request-id': ID } },
			);
		const error = await failureOf(call(cut));
		expect(error.fields).toMatchObject({ networkCode: 'ECONNRESET', requestId: ID });
		expect(error.fields.status).toBeUndefined();
	});
});

describe('readCapped', () => {
	it('reads up to the cap, and fails one byte past it, stopping an endless download', async () => {
		expect(await readCapped(new Response('12345'), 5, 'x')).toBe('12345');
		expect(await readCapped(new Response(null), 5, 'x')).toBe('');
		let cancelled = false;
		const endless = new ReadableStream<Uint8Array>({
			pull: (controller) => controller.enqueue(new Uint8Array(4)),
			cancel: () => {
				cancelled = true;
			},
		});
		const error = await settled(readCapped(new Response(endless), 5, 'the status'));
		expect(error).toBeInstanceOf(FalError);
		expect((error as FalError).fields.words).toEqual(words.tooLarge('the status', 5));
		expect(cancelled).toBe(true);
	});
});

describe('parseRetryAfter', () => {
	it('reads seconds and HTTP dates, in milliseconds', () => {
		expect(parseRetryAfter('2')).toBe(2_000);
		expect(parseRetryAfter('0.5')).toBe(500);
		expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
	});

	it('never gives a negative wait', () => {
		expect(parseRetryAfter('-5')).toBe(0);
		expect(parseRetryAfter(new Date(1_000).toUTCString(), 5_000)).toBe(0);
	});

	it('gives nothing for an absent or unreadable header', () => {
		expect(parseRetryAfter(null)).toBeUndefined();
		expect(parseRetryAfter('')).toBeUndefined();
		expect(parseRetryAfter('  ')).toBeUndefined();
		expect(parseRetryAfter('soon')).toBeUndefined();
	});
});

describe('checkProxyUrl', () => {
	it('takes empty as "fal directly", and a proxy URL trimmed', () => {
		expect(checkProxyUrl(undefined)).toBeUndefined();
		expect(checkProxyUrl('   ')).toBeUndefined();
		expect(checkProxyUrl(' http://127.0.0.1:3000/api/fal/proxy ')).toBe(
			'http://127.0.0.1:3000/api/fal/proxy',
		);
	});

	it.each(['not a url', 'example.com/proxy', 'ftp://example.com/proxy', 'file:///etc/passwd'])(
		'refuses %p as an InputProblem',
		(value) => {
			expect(() => checkProxyUrl(value)).toThrow(InputProblem);
		},
	);

	it('refuses a user and password without repeating them', () => {
		let error: unknown;
		try {
			checkProxyUrl('https://proxy-user:hunter2-secret@example.com/proxy');
		} catch (caught) {
			error = caught;
		}
		expect(error).toBeInstanceOf(InputProblem);
		const { message, description } = error as InputProblem;
		expect(`${message} ${description}`).not.toMatch(/hunter2|proxy-user/);
	});
});
