/**
 * Unattended runs when fal or the network falters: transient faults at every step are
 * survived with bounded retries (the policy stated at each call, whatever the endpoint),
 * a paid job is not abandoned while its item has time, and a timeout or a stopped
 * execution cancels the request at fal and says whether fal confirmed it.
 * What fal answers is in faults.answers, bad input in faults.input, paying once in
 * faults.paying-once.
 */
import { Deadline } from '../../nodes/FluxProFill/transport/deadline';
import { createFal } from '../../nodes/FluxProFill/transport/falClient';
import { getStatus, submit } from '../../nodes/FluxProFill/transport/queue';
import {
	KEY,
	makeUploadedPictures,
	pictureItem,
	runFill,
	shorthands,
	useEmulator,
	waitFor,
} from './fixtures';

const env = useEmulator();
const { count, fill } = shorthands(env);

describe('transient faults are survived', () => {
	it.each([
		[
			'a 429 with Retry-After on submit',
			{
				kind: 'submit',
				status: 429,
				body: { detail: 'Too many requests' },
				headers: { 'retry-after': '1' },
			},
		],
		[
			'two 503s on submit',
			{ kind: 'submit', status: 503, times: 2, body: { detail: 'No runner' } },
		],
		['a 502 on opening the status stream', { kind: 'stream', status: 502, body: 'bad gateway' }],
		['a status stream that drops', { kind: 'stream', dropAfterEvents: 1, times: 2 }],
		['a 500 on the result', { kind: 'result', status: 500, body: { detail: 'Internal error' } }],
		['a reset connection on the result', { kind: 'result', reset: true }],
		[
			'a 504 on the result',
			{ kind: 'result', status: 504, body: { detail: 'timeout', error_type: 'request_timeout' } },
		],
		['a 500 on storage initiate', { kind: 'initiate', status: 500, body: { detail: 'oops' } }],
		['a failed upload PUT', { kind: 'upload', status: 503, body: 'unavailable' }],
		['an image download that fails once', { kind: 'file', reset: true }],
	] as const)('%s', async (_name, rule) => {
		const started = Date.now();
		const applied = env.emu.fail({ ...rule });
		// Storage is only used for pictures too large to go inline.
		const uploads = rule.kind === 'initiate' || rule.kind === 'upload';
		const items = [pictureItem(uploads ? await makeUploadedPictures() : env.pictures)];
		const result = await fill({ options: { numImages: 1 } }, items);
		expect(result.error).toBeUndefined();
		expect(result.items).toHaveLength(1);
		expect(applied.hits).toBeGreaterThan(0);
		// Exactly one job at fal: a rejected submit created none, an accepted one was not repeated.
		expect(env.emu.jobs.size).toBe(1);
		if (rule.kind === 'submit' && 'headers' in rule)
			expect(Date.now() - started).toBeGreaterThanOrEqual(950);
	});

	it('notices completion by polling, within about a second, when the stream keeps dropping', async () => {
		env.emu.configure({ latencyMs: 300 });
		env.emu.fail({ kind: 'stream', dropAfterEvents: 0, times: Infinity });
		const started = Date.now();
		const result = await fill();
		env.emu.configure({ latencyMs: 0 });
		expect(result.error).toBeUndefined();
		expect(count('status')).toBeGreaterThanOrEqual(1);
		expect(Date.now() - started).toBeLessThan(2500);
	});
});

describe('retries are bounded', () => {
	it('gives up on a submit that keeps answering 429, after 4 attempts', async () => {
		const rule = env.emu.fail({
			kind: 'submit',
			status: 429,
			times: Infinity,
			headers: { 'retry-after': '0' },
			body: { detail: 'Too many requests' },
		});
		const result = await fill();
		expect(rule.hits).toBe(4);
		expect(result.error?.message).toBe('fal is rate-limiting this account: Too many requests');
		expect(env.emu.jobs.size).toBe(0);
	});

	it('does not wait for a Retry-After longer than 30 s', async () => {
		const started = Date.now();
		env.emu.fail({
			kind: 'submit',
			status: 429,
			times: Infinity,
			headers: { 'retry-after': '3600' },
			body: { detail: 'Slow down' },
		});
		const result = await fill();
		expect(Date.now() - started).toBeLessThan(3000);
		expect(result.error?.message).toContain('rate-limiting');
	});

	it('reports a download that fails twice', async () => {
		env.emu.fail({ kind: 'file', reset: true, times: Infinity });
		const result = await fill();
		expect(result.error?.message).toMatch(/^Could not download the generated image from fal/);
	});

	it('shows the text of a non-JSON error page', async () => {
		env.emu.fail({
			kind: 'result',
			status: 502,
			times: Infinity,
			contentType: 'text/html',
			body: '<html>Bad gateway</html>',
			headers: { 'retry-after': '0' },
		});
		const result = await fill({ options: { timeout: 2 } });
		expect((result.error as { description?: string }).description).toContain(
			'fal had a server error (HTTP 502): <html>Bad gateway</html>',
		);
	});
});

describe('the retry policy is stated where each call is made, whatever the endpoint', () => {
	it('sends a submit to another, made-up endpoint once, and retries a read until its deadline', async () => {
		const fal = createFal({ apiKey: KEY, proxyUrl: env.emu.proxyUrl }, fetch);
		// The emulator knows no such endpoint; every call to it answers 502, as a gateway would.
		env.emu.fail({ kind: 'other', status: 502, body: { detail: 'bad gateway' }, times: Infinity });
		const deadline = new Deadline(new AbortController().signal, 10_000);
		const error = await submit(fal, 'acme/made-up-model/v2', { prompt: 'x' }, { deadline }).catch(
			(e: unknown) => e,
		);
		expect(error).toMatchObject({ fields: { status: 502, maybeAccepted: true } });
		expect(count('other')).toBe(1);
		// A read of the same endpoint is not paid work: it is retried until its signal ends.
		const status = getStatus(
			fal,
			'acme/made-up-model/v2',
			'abc-123',
			false,
			AbortSignal.timeout(1_500),
		);
		await expect(status).rejects.toMatchObject({ fields: { status: 502 } });
		expect(count('other')).toBeGreaterThanOrEqual(4);
	});
});

describe('a paid job is never abandoned while its item has time', () => {
	const unhandled: unknown[] = [];
	const onUnhandled = (reason: unknown) => unhandled.push(reason);
	beforeAll(() => process.on('unhandledRejection', onUnhandled));
	afterAll(() => process.off('unhandledRejection', onUnhandled));
	beforeEach(() => (unhandled.length = 0));
	afterEach(async () => {
		// Rejections surface a tick late: give them the chance, then insist there were none.
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(unhandled).toEqual([]);
	});

	it('rides out 3 s of 5xx on the status stream and status while fal generates, without cancelling', async () => {
		env.emu.configure({ latencyMs: 4000 });
		const outageUntil = Date.now() + 3000;
		const during = () => Date.now() < outageUntil;
		env.emu.fail({
			kind: 'stream',
			status: 503,
			times: Infinity,
			match: during,
			body: { detail: 'down' },
		});
		env.emu.fail({
			kind: 'status',
			status: 502,
			times: Infinity,
			match: during,
			body: 'bad gateway',
		});
		const result = await fill();
		env.emu.configure({ latencyMs: 0 });
		expect(result.error).toBeUndefined();
		expect(result.items).toHaveLength(1);
		expect(count('submit')).toBe(1);
		expect(count('cancel')).toBe(0);
	}, 20_000);

	it.each([
		[
			'JSON that is cut midway',
			{ contentType: 'application/json', body: { status: 'IN_PROGRESS' }, cutAfterBytes: 5 },
		],
		[
			'plain text that is cut midway',
			{ contentType: 'text/plain', body: 'not a stream at all', cutAfterBytes: 3 },
		],
		[
			'a whole JSON answer instead of a stream',
			{ contentType: 'application/json', body: { status: 'IN_PROGRESS' } },
		],
		[
			'an event stream cut inside an event',
			{ contentType: 'text/event-stream', body: 'data: {"status":"IN_PR', cutAfterBytes: 10 },
		],
	])(
		'notices completion within about a second of fal when the status stream is %s',
		async (_name, shape) => {
			env.emu.configure({ latencyMs: 500 });
			env.emu.fail({ kind: 'stream', status: 200, times: Infinity, ...shape });
			const started = Date.now();
			const result = await fill();
			env.emu.configure({ latencyMs: 0 });
			expect(result.error).toBeUndefined();
			// 500 ms of generation, then at most about a second to notice it.
			expect(Date.now() - started).toBeLessThan(2300);
		},
	);

	it('says the request may still be running when fal does not confirm the cancel', async () => {
		env.emu.configure({ latencyMs: 5000 });
		env.emu.fail({
			kind: 'cancel',
			status: 500,
			times: Infinity,
			body: { detail: 'cancel broke' },
		});
		const result = await fill({ options: { timeout: 1 } });
		env.emu.configure({ latencyMs: 0 });
		const error = result.error as { message: string; description?: string };
		expect(error.message).toMatch(
			/^fal did not finish within 1 s \(fal request ID [0-9a-f-]{36}\)$/,
		);
		expect(error.description).toContain(
			'fal did not confirm the cancel, so the request may still be running',
		);
		expect(error.description).not.toContain('was cancelled at fal');
		expect(count('cancel')).toBeGreaterThanOrEqual(1);
	}, 15_000);

	it('says "cancelled at fal" only for a request still in fal\'s queue; one fal runs may still be billed', async () => {
		// An account that runs one request at once: the second item waits in fal's queue.
		env.emu.configure({ latencyMs: 5000, concurrency: 1 });
		try {
			const result = await runFill({
				proxyUrl: env.emu.proxyUrl,
				items: [pictureItem(env.pictures), pictureItem(env.pictures, { second: true })],
				parameters: { options: { timeout: 1, concurrency: 2 } },
				continueOnFail: true,
			});
			const [running, queued] = result.items.map((item) => item.json);
			expect(running.description).toContain('the cancel only asked fal to stop');
			expect(running.estimated_cost_usd).toBeGreaterThan(0);
			expect(queued.description).toContain('The request was cancelled at fal.');
			expect(queued.estimated_cost_usd).toBe(0);
			expect(count('cancel')).toBe(2);
		} finally {
			env.emu.configure({ latencyMs: 0, concurrency: Infinity });
		}
	}, 15_000);
});

describe('time and cancellation', () => {
	it('cancels the fal request when the execution is cancelled', async () => {
		env.emu.configure({ latencyMs: 10_000 });
		const controller = new AbortController();
		const started = Date.now();
		const run = runFill({
			proxyUrl: env.emu.proxyUrl,
			items: [pictureItem(env.pictures)],
			abortSignal: controller.signal,
		});
		await waitFor(() => env.emu.requests.some((r) => r.kind === 'submit'));
		controller.abort();
		const result = await run;
		expect(result.run.status).toBe('canceled');
		expect(Date.now() - started).toBeLessThan(5_000);
		await waitFor(() => env.emu.requests.some((r) => r.kind === 'cancel'));
		const job = [...env.emu.jobs.values()][0];
		expect(job.cancelled).toBe(true);
	});

	it('cancels a request that fal accepted while the execution was being cancelled', async () => {
		env.emu.configure({ latencyMs: 10_000 });
		env.emu.fail({ kind: 'submit', acceptThenDelayMs: 400 });
		const controller = new AbortController();
		const run = runFill({
			proxyUrl: env.emu.proxyUrl,
			items: [pictureItem(env.pictures)],
			abortSignal: controller.signal,
		});
		await waitFor(() => env.emu.jobs.size === 1);
		controller.abort();
		const result = await run;
		expect(result.run.status).toBe('canceled');
		const [job] = [...env.emu.jobs.values()];
		await waitFor(() => job.cancelled === true);
		expect(env.emu.requests.filter((r) => r.kind === 'submit')).toHaveLength(1);
	});

	it("an item's timeout runs from its upload, not while it waits for a concurrency slot", async () => {
		// 3 items one at a time, 1.2 s each at fal: the last starts 2.4 s in, its timeout is 2 s.
		env.emu.configure({ latencyMs: 1_200 });
		try {
			const result = await runFill({
				proxyUrl: env.emu.proxyUrl,
				items: [1, 2, 3].map((n) => pictureItem(env.pictures, { n })),
				parameters: { options: { timeout: 2, concurrency: 1, outputMode: 'url' } },
			});
			expect(result.error).toBeUndefined();
			expect(result.items).toHaveLength(3);
		} finally {
			env.emu.configure({ latencyMs: 0 });
		}
	}, 15_000);

	it('times out an item, cancels it at fal and names the request id', async () => {
		env.emu.configure({ latencyMs: 10_000 });
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items: [pictureItem(env.pictures)],
			parameters: { options: { timeout: 1 } },
		});
		const requestId = env.emu.requests.find((r) => r.kind === 'submit')?.requestId as string;
		expect(result.error?.message).toBe(
			`fal did not finish within 1 s (fal request ID ${requestId})`,
		);
		expect(env.emu.requests.some((r) => r.kind === 'cancel' && r.requestId === requestId)).toBe(
			true,
		);
	});
});
