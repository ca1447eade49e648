import {
	NodeApiError,
	NodeOperationError,
	type IExecuteFunctions,
	type INode,
	type INodeExecutionData,
} from 'n8n-workflow';

import {
	cancelSummary,
	fal as words,
	InputProblem,
} from '../../../nodes/FluxProFill/common/messages';
import { Stop, type Execution } from '../../../nodes/FluxProFill/helpers/execution';
import {
	runItems,
	toNodeError,
	type ItemRunner,
	type RunContext,
} from '../../../nodes/FluxProFill/helpers/pipeline';
import { describeFalError, networkFailure } from '../../../nodes/FluxProFill/transport/errors';
import { settled } from '../kit';
import { fetchFailed, httpError } from '../transport/fakeFal';

const KEY = 'key-id:key-secret-0123456789';
const SECRETS = [KEY, 'key-secret-0123456789'];
const ID = '764cabcf-b745-4b3e-ae38-1200304cf45b';
const NODE = {
	id: 'node-1',
	name: 'FLUX.1 Fill',
	type: 'x',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
} as INode;

function setUp(count: number, { continueOnFail = false, cancel = new AbortController() } = {}) {
	const ctx = {
		continueOnFail: () => continueOnFail,
		getInputData: () => Array.from({ length: count }, (_, i) => ({ json: { i } })),
		getNode: () => NODE,
	} as unknown as IExecuteFunctions;
	const exec = { stop: new Stop(cancel.signal), secrets: SECRETS } as unknown as Execution;
	return { ctx, exec, cancel };
}

/** A runner from two functions; `log` records what happened, in order. */
function runner(
	run: (itemIndex: number, context: RunContext) => Promise<INodeExecutionData[]>,
	check: (itemIndex: number) => Promise<unknown> = async (i) => i,
) {
	const log: string[] = [];
	const items: ItemRunner<unknown> = {
		check: async (i) => {
			log.push(`check ${i}`);
			return await check(i);
		},
		run: async (i, _checked, context) => {
			log.push(`run ${i}`);
			return await run(i, context);
		},
	};
	return { items, log };
}
/** Resolves when the signal fires (at once if it has). */
const stopped = (signal: AbortSignal) =>
	new Promise<void>((resolve) =>
		signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve()),
	);
const output = (i: number, json: Record<string, unknown> = {}) => [
	{ json: { out: i, ...json }, pairedItem: { item: i } },
];

describe('runItems', () => {
	it('checks every item before it runs any, and keeps the input order', async () => {
		const { ctx, exec } = setUp(3);
		const { items, log } = runner(async (i) => {
			await new Promise((resolve) => setTimeout(resolve, (3 - i) * 5));
			return output(i);
		});
		const result = await runItems(ctx, exec, items, 3);
		expect(log.slice(0, 3)).toEqual(['check 0', 'check 1', 'check 2']);
		expect(result.items.map((item) => item.json.out)).toEqual([0, 1, 2]);
		expect(result.ledgers).toHaveLength(3);
	});

	it('fails the node on bad input before anything runs', async () => {
		const { ctx, exec } = setUp(3);
		const { items, log } = runner(
			async (i) => output(i),
			async (i) => {
				if (i === 1) throw new InputProblem('The prompt is empty', 'Describe what to paint.');
				return i;
			},
		);
		const error = await settled(runItems(ctx, exec, items, 2));
		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error).toMatchObject({ message: 'The prompt is empty', context: { itemIndex: 1 } });
		expect(log.filter((entry) => entry.startsWith('run'))).toEqual([]);
	});

	it('with continueOnFail, a failed item becomes one error item in its place; the rest run', async () => {
		const { ctx, exec } = setUp(3, { continueOnFail: true });
		const { items } = runner(
			async (i) => {
				if (i === 2) throw httpError(422, { body: { detail: 'bad mask' }, requestId: ID });
				return output(i);
			},
			async (i) => {
				if (i === 0) throw new InputProblem('The prompt is empty', 'Describe what to paint.');
				return i;
			},
		);
		const { items: out } = await runItems(ctx, exec, items, 2);
		expect(out).toHaveLength(3);
		expect(out[0]).toMatchObject({
			json: { error: 'The prompt is empty', description: 'Describe what to paint.' },
			pairedItem: { item: 0 },
		});
		expect(out[1].json.out).toBe(1);
		expect(out[2]).toMatchObject({
			json: { http_code: '422', request_id: ID },
			pairedItem: { item: 2 },
		});
	});

	it("an error item carries the cost of what its item paid for, from the item's ledger", async () => {
		const { ctx, exec } = setUp(1, { continueOnFail: true });
		const { items } = runner(async (_i, { ledger }) => {
			ledger.paidFill(ID, 0.1);
			throw httpError(500);
		});
		const [item] = (await runItems(ctx, exec, items, 1)).items;
		expect(item.json).toMatchObject({ request_id: ID, estimated_cost_usd: 0.1 });
	});

	it('without continueOnFail, the first failure stops the other items and fails the node', async () => {
		const { ctx, exec } = setUp(3);
		const aborted: boolean[] = [];
		const { items } = runner(async (i, { stopSignal }) => {
			if (i === 0) throw httpError(401, { body: { detail: 'No user found' } });
			await stopped(stopSignal);
			aborted.push(stopSignal.aborted);
			throw new Error('stopped');
		});
		const error = await settled(runItems(ctx, exec, items, 3));
		expect(error).toBeInstanceOf(NodeApiError);
		expect((error as NodeApiError).message).toBe(
			describeFalError(httpError(401, { body: { detail: 'No user found' } })).message,
		);
		expect(aborted).toEqual([true, true]);
		expect(exec.stop.failedFast).toBe(true);
	});

	it('holds at most `concurrency` items at fal at once', async () => {
		const { ctx, exec } = setUp(6);
		let atFal = 0;
		let most = 0;
		const { items } = runner(async (i, context) => {
			await context.atFal(async () => {
				most = Math.max(most, ++atFal);
				await new Promise((resolve) => setTimeout(resolve, 2));
				atFal--;
			});
			return output(i);
		});
		await runItems(ctx, exec, items, 2);
		expect(most).toBe(2);
	});

	it('an item still waiting for its turn when the execution is cancelled does not start', async () => {
		const cancel = new AbortController();
		const { ctx, exec } = setUp(3, { cancel });
		const started: number[] = [];
		const { items } = runner(async (i, context) => {
			await context.atFal(async () => {
				started.push(i);
				cancel.abort();
				await stopped(context.stopSignal);
				throw new Error('stopped');
			});
			return output(i);
		});
		await settled(runItems(ctx, exec, items, 1));
		expect(started).toEqual([0]);
	});

	it('when the execution is cancelled, says which requests fal did not confirm cancelling', async () => {
		const cancel = new AbortController();
		const { ctx, exec } = setUp(3, { cancel });
		const { items } = runner(async (i, { ledger, stopSignal }) => {
			// Item 2's submit lost its answer before fal named the request: it may run all the same.
			ledger.paidFill(i < 2 ? `${ID.slice(0, -1)}${i}` : undefined, 0.05);
			if (i === 2) cancel.abort();
			await stopped(stopSignal);
			throw new Error('stopped');
		});
		const error = await settled(runItems(ctx, exec, items, 3));
		expect(error).toBeInstanceOf(NodeOperationError);
		expect((error as Error).message).toMatch(/canceled/);
		expect((error as NodeOperationError).description).toBe(
			cancelSummary([`${ID.slice(0, -1)}0`, `${ID.slice(0, -1)}1`, undefined], 3),
		);
		expect((error as NodeOperationError).description).toContain(
			'the answer to its submit was lost',
		);
	});

	it("removes the key from fal's answers copied into the items", async () => {
		const { ctx, exec } = setUp(1);
		const { items } = runner(async () => [
			{ json: { echoed: `Authorization: Key ${KEY}`, [KEY]: 'as a name' } },
		]);
		const [item] = (await runItems(ctx, exec, items, 1)).items;
		expect(JSON.stringify(item.json)).not.toContain('key-secret');
	});
});

describe('toNodeError', () => {
	it('makes bad input a NodeOperationError with its description and item', () => {
		const error = toNodeError(NODE, new InputProblem('bad', 'fix it'), 4, []);
		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error).toMatchObject({
			message: 'bad',
			description: 'fix it',
			context: { itemIndex: 4 },
		});
	});

	it("makes fal's answers a NodeApiError in fal's terms, with the status and the request id", () => {
		const failure = httpError(503, {
			body: { detail: 'No runner', error_type: 'runner_unavailable' },
		});
		const error = toNodeError(NODE, failure, 0, [], ID) as NodeApiError;
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toBe(describeFalError(failure, ID).message);
		expect(error.httpCode).toBe('503');
		expect(error.description).toContain(ID);
	});

	it("keeps n8n's generic sentence for messages that name a network code out", () => {
		const failure = networkFailure(fetchFailed('EWEIRD', 'connect ECONNREFUSED 10.0.0.1:443'));
		const error = toNodeError(NODE, failure, 0, []);
		expect(error.message).toBe(describeFalError(failure).message);
		expect(error.message).toContain('ECONNREFUSED');
	});

	it('does not blame fal for an error of n8n or of an expression', () => {
		const error = toNodeError(
			NODE,
			new TypeError("Cannot read properties of undefined (reading 'x')"),
			1,
			[],
		);
		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error.description).toBe(words.notFromFal());
	});

	it('redacts the key from every text, also of errors that are already n8n errors', () => {
		const apiError = toNodeError(
			NODE,
			httpError(401, { body: { detail: `bad key ${KEY}` } }),
			0,
			SECRETS,
		);
		expect(`${apiError.message} ${apiError.description}`).not.toContain('key-secret');
		const own = new NodeOperationError(NODE, `failed with ${KEY}`, { description: KEY });
		const cleaned = toNodeError(NODE, own, 2, SECRETS);
		expect(cleaned).toBe(own);
		expect(`${cleaned.message} ${cleaned.description}`).not.toContain('key-secret');
		expect(cleaned.context.itemIndex).toBe(2);
	});
});

it('an item waiting for a slot does not start once an earlier item failed and the node stops', async () => {
	const ctx = {
		continueOnFail: () => false,
		getInputData: () => [{ json: {} }, { json: {} }],
		getNode: () => NODE,
	} as unknown as IExecuteFunctions;
	const exec = {
		stop: new Stop(new AbortController().signal),
		secrets: [],
	} as unknown as Execution;
	const started: number[] = [];
	const runner: ItemRunner<unknown> = {
		check: async () => undefined,
		run: async (itemIndex, _checked, { atFal }) => {
			await atFal(async () => {
				started.push(itemIndex);
				// Item 0: fal refuses it (a locked account); the node stops on it.
				if (itemIndex === 0) throw httpError(403, { body: { detail: 'User is locked' } });
			});
			return [{ json: {} }];
		},
	};
	await expect(runItems(ctx, exec, runner, 1)).rejects.toThrow();
	// Item 1 waited for item 0's slot; the node stops on item 0's failure, so item 1 must not
	// start its uploads and submit.
	expect(started).toEqual([0]);
});
