/**
 * Paying once: a submit fal may have accepted is never sent again (followed when fal named
 * the request, and the item says so when fal has no such request). n8n's "Retry On Fail"
 * re-runs the whole node, every item, in the same execution: an item whose request fal had
 * accepted is picked up (its status and result) instead of submitted. Each run of the
 * node, a loop's or a new execution's, is a new run.
 */
import { pictureItem, runFill, runFillInLoop, shorthands, useEmulator } from './fixtures';

const env = useEmulator();
const { count, fill } = shorthands(env);

const submits = () => env.emu.requests.filter((r) => r.kind === 'submit');
const RETRY = { retryOnFail: true, maxTries: 2, waitBetweenTries: 1 };

/** Fill (or what `options` says) on one picture item. */
const onePicture = (options: Omit<Parameters<typeof runFill>[0], 'proxyUrl' | 'items'> = {}) =>
	runFill({ proxyUrl: env.emu.proxyUrl, items: [pictureItem(env.pictures)], ...options });

/** fal's gateway answers a submit 502 naming a request it does not have. */
const lostAnswerNaming = (requestId: string, times?: number) =>
	env.emu.fail({
		kind: 'submit',
		status: 502,
		...(times === undefined ? {} : { times }),
		body: { detail: 'bad gateway' },
		headers: { 'x-fal-request-id': requestId },
	});

/** Three items; the third is refused by fal once (422 before acceptance), then accepted. */
function threeItemsOneFailingOnce() {
	env.emu.fail({
		kind: 'submit',
		status: 422,
		times: 1,
		body: { detail: [{ loc: ['body', 'prompt'], msg: 'try again', type: 'value_error' }] },
		match: (request) => JSON.stringify(request.body ?? '').includes('third'),
	});
	return ['first', 'second', 'third'].map((prompt) => pictureItem(env.pictures, { prompt }));
}

describe('a submit fal may have accepted is never sent again', () => {
	it('a gateway timeout after accepting, with the request named by fal: it is followed, one job, the images come', async () => {
		env.emu.fail({
			kind: 'submit',
			acceptThenFail: true,
			status: 504,
			body: { detail: 'Gateway timeout' },
		});
		const result = await fill();
		expect(result.error).toBeUndefined();
		expect(count('submit')).toBe(1);
		expect(env.emu.jobs.size).toBe(1);
		expect(result.items[0].json.request_id).toBe([...env.emu.jobs.keys()][0]);
	});

	it.each([
		[
			'without Retry On Fail',
			undefined,
			/^Sending the request to fal failed \(the connection was reset\), and fal may have accepted it anyway/,
		],
		[
			'with Retry On Fail: the retry does not send it either',
			{ retryOnFail: true, maxTries: 3, waitBetweenTries: 1 },
			/^An earlier try of this item sent its request to fal/,
		],
	] as const)(
		'a reset connection after accepting, unnamed: %s',
		async (_name, nodeSettings, message) => {
			env.emu.fail({ kind: 'submit', acceptThenFail: true, reset: true });
			const result = await onePicture({
				nodeSettings,
			});
			expect(count('submit')).toBe(1);
			expect(env.emu.jobs.size).toBe(1);
			expect(result.error?.message).toMatch(message);
			expect((result.error as { description?: string }).description).toContain('not charged twice');
		},
	);

	it('a submit fal may have accepted unnamed is counted in the error item and the cap: it may be billed', async () => {
		env.emu.fail({ kind: 'submit', acceptThenFail: true, reset: true });
		const result = await onePicture({
			continueOnFail: true,
		});
		expect(result.items).toHaveLength(1);
		expect(result.items[0].json).toMatchObject({
			error: expect.stringMatching(/fal may have accepted it anyway/),
			estimated_cost_usd: 0.05,
		});
		expect(result.items[0].json.request_id).toBeUndefined();
	});
});

describe('error items carry the fal request id whenever fal gave one', () => {
	it("a submit answered 502 with fal's x-fal-request-id is followed; fal has no such request, so the item says it was not accepted", async () => {
		lostAnswerNaming('5d1c7a2e-0000-4000-8000-000000000001');
		const result = await onePicture({
			continueOnFail: true,
		});
		expect(result.items).toHaveLength(1);
		expect(result.items[0].json).toMatchObject({
			request_id: '5d1c7a2e-0000-4000-8000-000000000001',
			error:
				'Sending the request to fal failed (HTTP 502), and fal has no request with ID 5d1c7a2e-0000-4000-8000-000000000001: it was not accepted',
		});
		expect(env.emu.jobs.size).toBe(0);
	});
});

describe("n8n's Retry On Fail does not pay twice", () => {
	it('Submit: a lost answer naming a request fal does not have is not returned again; the retry submits anew', async () => {
		lostAnswerNaming('5d1c7a2e-0000-4000-8000-000000000002', 1);
		const result = await onePicture({
			parameters: { operation: 'submit' },
			nodeSettings: RETRY,
		});
		expect(result.error).toBeUndefined();
		expect(submits()).toHaveLength(2);
		expect(result.items[0].json.request_id).toBe([...env.emu.jobs.keys()][0]);
	});

	it('submits each item once: 3 jobs at fal for 3 items, the retry picks the first two up', async () => {
		env.emu.configure({ latencyMs: 1000 });
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items: threeItemsOneFailingOnce(),
			parameters: { prompt: '={{ $json.prompt }}', options: { concurrency: 3 } },
			nodeSettings: RETRY,
		});
		env.emu.configure({ latencyMs: 0 });
		expect(result.error).toBeUndefined();
		expect(result.items.map((item) => item.json.prompt)).toEqual(['first', 'second', 'third']);
		// First try: 3 submits (the third refused). Retry: only the third is submitted again.
		expect(submits()).toHaveLength(4);
		expect(env.emu.jobs.size).toBe(3);
		// The picked-up requests were not cancelled while the node waited for its retry.
		expect(env.emu.requests.filter((r) => r.kind === 'cancel')).toHaveLength(0);
		const ids = result.items.map((item) => item.json.request_id);
		expect(new Set(ids).size).toBe(3);
	});

	it('without Retry On Fail, a failing item still cancels the others at fal', async () => {
		env.emu.configure({ latencyMs: 2000 });
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items: threeItemsOneFailingOnce(),
			parameters: { prompt: '={{ $json.prompt }}', options: { concurrency: 3 } },
		});
		env.emu.configure({ latencyMs: 0 });
		expect(result.error?.message).toMatch(/^fal rejected the request/);
		expect(env.emu.requests.filter((r) => r.kind === 'cancel').length).toBeGreaterThanOrEqual(1);
	});

	it('Submit returns the same request again on a retry, without a second submit', async () => {
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items: threeItemsOneFailingOnce(),
			parameters: { operation: 'submit', prompt: '={{ $json.prompt }}' },
			nodeSettings: RETRY,
		});
		expect(result.error).toBeUndefined();
		expect(result.items).toHaveLength(3);
		expect(submits()).toHaveLength(4);
		expect(env.emu.jobs.size).toBe(3);
	});

	it('a new execution is a new run: the same inputs are submitted again', async () => {
		const run = () =>
			onePicture({
				nodeSettings: RETRY,
			});
		expect((await run()).error).toBeUndefined();
		expect((await run()).error).toBeUndefined();
		expect(env.emu.jobs.size).toBe(2);
	});
});

describe('each run of the node is its own', () => {
	it('Loop Over Items over two identical items: 2 runs, 2 submits, 2 request ids', async () => {
		const { fillRuns, errors } = await runFillInLoop({
			proxyUrl: env.emu.proxyUrl,
			items: [pictureItem(env.pictures), pictureItem(env.pictures)],
			parameters: { options: { outputMode: 'url' } },
		});
		expect(errors).toEqual([undefined, undefined]);
		expect(fillRuns).toHaveLength(2);
		expect(submits()).toHaveLength(2);
		const ids = fillRuns.map((items) => items[0].json.request_id);
		expect(new Set(ids).size).toBe(2);
		expect(env.emu.jobs.size).toBe(2);
	});

	it('a loop after a lost, unnamed submit tries again in its next run (Retry On Fail in a run does not)', async () => {
		env.emu.fail({ kind: 'submit', acceptThenFail: true, reset: true });
		const { fillRuns, errors } = await runFillInLoop({
			proxyUrl: env.emu.proxyUrl,
			items: [pictureItem(env.pictures), pictureItem(env.pictures)],
			parameters: { options: { outputMode: 'url' } },
			continueOnFail: true,
			nodeSettings: RETRY,
		});
		expect(errors).toEqual([undefined, undefined]);
		// Run 1: the lost submit, and its retry refuses to send it again. Run 2: a new submit.
		expect(fillRuns[0][0].json.error).toMatch(
			/^An earlier try of this item sent its request to fal/,
		);
		expect(fillRuns[1][0].json.request_id).toEqual(expect.any(String));
		expect(fillRuns[1][0].json.error).toBeUndefined();
		expect(submits()).toHaveLength(2);
	});
});
