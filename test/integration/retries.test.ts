/**
 * n8n's "Retry On Fail" re-runs the whole node, every item, in the same execution. An
 * item whose request fal had accepted must not be paid for again: the retry picks that
 * request up (its status and result) instead of submitting. A new execution is a new run.
 */
import { pictureItem, runFill, runFillInLoop, useEmulator } from './fixtures';

const env = useEmulator();

const submits = () => env.emu.requests.filter((r) => r.kind === 'submit');
const RETRY = { retryOnFail: true, maxTries: 2, waitBetweenTries: 0 };

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

describe("n8n's Retry On Fail does not pay twice", () => {
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
			runFill({
				proxyUrl: env.emu.proxyUrl,
				items: [pictureItem(env.pictures)],
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
