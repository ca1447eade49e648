/**
 * Proves the n8n harness (test/helpers/n8nHarness.ts) runs a node with n8n's real
 * engine, in what the node's tests rely on: binary round trips in both binary-data
 * modes, per-item expressions and pairedItem, continueOnFail, the thrown error, node
 * settings (Retry On Fail, the error output), credentials, cancellation, and a workflow
 * with the Loop Over Items stand-in.
 */
import { randomBytes } from 'node:crypto';

import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import {
	createLoopNodeType,
	createSourceNodeType,
	LOOP_NODE_TYPE,
	prepareBinary,
	runNode,
	runWorkflow,
	SOURCE_NODE_TYPE,
	type BinaryMode,
} from './helpers/n8nHarness';

interface ProbeEvents {
	started?: () => void;
	cancelSignalFired?: () => void;
	/** Runs of the node that throw before touching any item (for Retry On Fail). */
	failingRuns?: number;
}

const probeDescription: INodeTypeDescription = {
	displayName: 'Harness Probe',
	name: 'harnessProbe',
	group: ['transform'],
	version: 1,
	description: 'Test node for the n8n harness',
	defaults: { name: 'Harness Probe' },
	inputs: [NodeConnectionTypes.Main],
	outputs: [NodeConnectionTypes.Main],
	credentials: [{ name: 'testApi', required: false }],
	properties: [
		{ displayName: 'Prompt', name: 'prompt', type: 'string', default: '' },
		{ displayName: 'Input Binary Field', name: 'binaryProperty', type: 'string', default: 'data' },
		{ displayName: 'Fail On Item', name: 'failOnItem', type: 'number', default: -1 },
		{ displayName: 'Read Credentials', name: 'readCredentials', type: 'boolean', default: false },
		{ displayName: 'Wait For Cancel', name: 'waitForCancel', type: 'boolean', default: false },
	],
};

/**
 * Test-only node: prefixes the input binary with the (expression) `prompt`,
 * outputs it as a new binary, optionally reads credentials / fails on one item /
 * fails whole runs / waits for cancellation. A factory rather than a class
 * because n8n calls `execute` with its ExecuteContext as `this`, so the events
 * have to come in through the closure.
 */
function harnessProbe(events: ProbeEvents = {}): INodeType {
	let runs = 0;
	return {
		description: probeDescription,
		async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
			if (++runs <= (events.failingRuns ?? 0)) {
				throw new NodeOperationError(this.getNode(), `Run ${runs} fails`);
			}
			if (this.getNodeParameter('waitForCancel', 0) as boolean) {
				return [[{ json: { cancelSignalFired: await waitForCancel(this, events) } }]];
			}
			const returnData: INodeExecutionData[] = [];
			const items = this.getInputData();
			for (let i = 0; i < items.length; i++) {
				try {
					returnData.push(await processItem(this, i));
				} catch (error) {
					if (!this.continueOnFail()) throw error;
					returnData.push({ json: { error: (error as Error).message }, pairedItem: { item: i } });
				}
			}
			return [returnData];
		},
	};
}

async function processItem(ctx: IExecuteFunctions, i: number): Promise<INodeExecutionData> {
	if ((ctx.getNodeParameter('failOnItem', i) as number) === i) {
		throw new NodeOperationError(ctx.getNode(), `Refusing item ${i}`, {
			itemIndex: i,
			description: 'probe failure',
		});
	}
	const prompt = ctx.getNodeParameter('prompt', i) as string;
	const property = ctx.getNodeParameter('binaryProperty', i) as string;
	ctx.helpers.assertBinaryData(i, property);
	const input = await ctx.helpers.getBinaryDataBuffer(i, property);
	const output = Buffer.concat([Buffer.from(`${prompt}:`), input]);
	const json: IDataObject = { prompt, inputBytes: input.length };
	if (ctx.getNodeParameter('readCredentials', i) as boolean) {
		json.apiKey = (await ctx.getCredentials('testApi', i)).apiKey;
	}
	return {
		json,
		binary: {
			result: await ctx.helpers.prepareBinaryData(output, 'result.bin', 'application/octet-stream'),
		},
		pairedItem: { item: i },
	};
}

/** Resolves true when n8n's cancel signal fires, false after 5 s. */
async function waitForCancel(ctx: IExecuteFunctions, events: ProbeEvents): Promise<boolean> {
	const signal = ctx.getExecutionCancelSignal();
	return await new Promise<boolean>((resolve) => {
		const timer = setTimeout(() => resolve(false), 5000);
		signal?.addEventListener('abort', () => {
			clearTimeout(timer);
			events.cancelSignalFired?.();
			resolve(true);
		});
		events.started?.();
	});
}

const PROBE_TYPE = 'n8n-nodes-test.harnessProbe';

function imageItem(prompt: string, bytes: Buffer): INodeExecutionData {
	return { json: { prompt }, binary: { data: prepareBinary(bytes, 'in.png', 'image/png') } };
}

describe.each<BinaryMode>(['default', 'filesystem'])('binary mode %s', (binaryMode) => {
	it('round-trips bytes through getBinaryDataBuffer and prepareBinaryData, stored as the mode says', async () => {
		const bytes = [randomBytes(2048), randomBytes(17)];
		const { items, error, binary } = await runNode({
			nodeType: harnessProbe(),
			parameters: { prompt: '={{ $json.prompt }}' },
			inputItems: [imageItem('a', bytes[0]), imageItem('b', bytes[1])],
			binaryMode,
		});

		expect(error).toBeUndefined();
		expect(items.map((item) => item.json)).toEqual([
			{ prompt: 'a', inputBytes: 2048 },
			{ prompt: 'b', inputBytes: 17 },
		]);
		expect(await binary(items[0], 'result')).toEqual(Buffer.concat([Buffer.from('a:'), bytes[0]]));
		expect(await binary(items[1], 'result')).toEqual(Buffer.concat([Buffer.from('b:'), bytes[1]]));
		const stored = items[0].binary!.result;
		expect(stored).toMatchObject({ fileName: 'result.bin', mimeType: 'application/octet-stream' });
		// On disk the item holds a reference to a file; in memory, the bytes themselves.
		expect(stored.id !== undefined).toBe(binaryMode === 'filesystem');
	});
});

describe('runNode', () => {
	const png = randomBytes(64);

	it('resolves expressions per item and keeps pairedItem', async () => {
		const { items } = await runNode({
			nodeType: harnessProbe(),
			parameters: { prompt: '={{ $json.prompt.toUpperCase() }}-{{ $itemIndex }}' },
			inputItems: [imageItem('x', png), imageItem('y', png), imageItem('z', png)],
		});

		expect(items.map((item) => item.json.prompt)).toEqual(['X-0', 'Y-1', 'Z-2']);
		expect(items.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
	});

	it('with continueOnFail, turns the failure into an error item paired to its input', async () => {
		const { items, error } = await runNode({
			nodeType: harnessProbe(),
			parameters: { prompt: 'p', failOnItem: 1 },
			inputItems: [imageItem('a', png), imageItem('b', png)],
			continueOnFail: true,
		});

		expect(error).toBeUndefined();
		expect(items).toHaveLength(2);
		expect(items[0].json.prompt).toBe('p');
		expect(items[1].json).toEqual({ error: 'Refusing item 1' });
		expect(items[1].pairedItem).toEqual({ item: 1 });
	});

	it('without continueOnFail, hands back the NodeOperationError instance the node threw', async () => {
		const { items, error } = await runNode({
			nodeType: harnessProbe(),
			parameters: { prompt: 'p', failOnItem: 1 },
			inputItems: [imageItem('a', png), imageItem('b', png)],
		});

		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error?.message).toBe('Refusing item 1');
		expect(error?.description).toBe('probe failure');
		expect(error?.context.itemIndex).toBe(1);
		expect(items).toEqual([]);
	});

	it('applies node settings: Retry On Fail runs the node again, the error output takes a failed item', async () => {
		const retried = await runNode({
			nodeType: harnessProbe({ failingRuns: 1 }),
			parameters: { prompt: 'p' },
			inputItems: [imageItem('a', png)],
			// 1 ms: n8n reads a wait of 0 as its default, 1 s.
			nodeSettings: { retryOnFail: true, maxTries: 2, waitBetweenTries: 1 },
		});
		expect(retried.error).toBeUndefined();
		expect(retried.items.map((item) => item.json.prompt)).toEqual(['p']);

		const { outputs, error } = await runNode({
			nodeType: harnessProbe(),
			parameters: { prompt: 'p', failOnItem: 1 },
			inputItems: [imageItem('a', png), imageItem('b', png)],
			nodeSettings: { onError: 'continueErrorOutput' },
		});
		expect(error).toBeUndefined();
		expect(outputs.map((output) => output.map((item) => item.pairedItem))).toEqual([
			[{ item: 0 }],
			[{ item: 1 }],
		]);
		expect(outputs[1][0].json).toMatchObject({ error: 'Refusing item 1' });
	});

	it('serves credentials through this.getCredentials', async () => {
		const { items, error } = await runNode({
			nodeType: harnessProbe(),
			parameters: { readCredentials: true },
			credentials: { testApi: { apiKey: 'secret-123' } },
			inputItems: [imageItem('a', png)],
		});

		expect(error).toBeUndefined();
		expect(items[0].json.apiKey).toBe('secret-123');
	});

	it('aborting the signal fires getExecutionCancelSignal inside a running node', async () => {
		const controller = new AbortController();
		const cancelSignalFired = jest.fn();
		const { items, run } = await runNode({
			// Abort from outside, while the node is suspended waiting.
			nodeType: harnessProbe({
				started: () => setTimeout(() => controller.abort(), 20),
				cancelSignalFired,
			}),
			parameters: { waitForCancel: true },
			inputItems: [{ json: {} }],
			abortSignal: controller.signal,
		});

		expect(cancelSignalFired).toHaveBeenCalledTimes(1);
		expect(items[0].json.cancelSignalFired).toBe(true);
		expect(run.status).toBe('canceled');
	});
});

describe('runWorkflow', () => {
	it('runs Loop Over Items around a node: one run of it per item, each with its own run index, then the done output', async () => {
		const at = { typeVersion: 1, position: [0, 0] as [number, number], parameters: {} };
		const run = await runWorkflow(
			{
				nodes: [
					{ ...at, id: '1', name: 'Source', type: SOURCE_NODE_TYPE },
					{ ...at, id: '2', name: 'Loop', type: LOOP_NODE_TYPE },
					{
						...at,
						id: '3',
						name: 'Probe',
						type: PROBE_TYPE,
						parameters: { prompt: '={{ $json.prompt }}', readCredentials: true },
						credentials: { testApi: { id: 'test-id', name: 'test' } },
					},
				],
				connections: {
					Source: { main: [[{ node: 'Loop', type: 'main', index: 0 }]] },
					Loop: { main: [[{ node: 'Probe', type: 'main', index: 0 }], []] },
					Probe: { main: [[{ node: 'Loop', type: 'main', index: 0 }]] },
				},
			},
			{
				[SOURCE_NODE_TYPE]: createSourceNodeType([
					imageItem('first', randomBytes(8)),
					imageItem('second', randomBytes(8)),
				]),
				[LOOP_NODE_TYPE]: createLoopNodeType(),
				[PROBE_TYPE]: harnessProbe(),
			},
			{ testApi: { apiKey: 'secret-789' } },
			{ binaryMode: 'filesystem' },
		);

		expect(run.status).toBe('success');
		const { runData } = run.data.resultData;
		const probeRuns = runData.Probe.map((task) => task.data!.main[0]!.map((item) => item.json));
		expect(probeRuns).toEqual([
			[{ prompt: 'first', inputBytes: 8, apiKey: 'secret-789' }],
			[{ prompt: 'second', inputBytes: 8, apiKey: 'secret-789' }],
		]);
		const done = runData.Loop.at(-1)!.data!.main[1]!;
		expect(done.map((item) => item.json.prompt)).toEqual(['first', 'second']);
	});
});
