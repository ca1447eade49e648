/**
 * Proves the n8n harness (test/helpers/n8nHarness.ts) runs a node with n8n's
 * real engine: binary round trips in both binary-data modes, per-item
 * expressions, continueOnFail, error surfacing, credentials and cancellation.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type {
	ICredentialType,
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import {
	createSourceNodeType,
	prepareBinary,
	readBinary,
	runNode,
	runWorkflow,
	SOURCE_NODE_TYPE,
	type BinaryMode,
} from './helpers/n8nHarness';

/** Credential type whose generic `authenticate` puts the key in a header. */
class TestApi implements ICredentialType {
	name = 'testApi';
	displayName = 'Test API';
	properties: ICredentialType['properties'] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
		},
	];
	authenticate: ICredentialType['authenticate'] = {
		type: 'generic',
		properties: { headers: { 'X-Api-Key': '={{$credentials.apiKey}}' } },
	};
}

interface ProbeEvents {
	started?: () => void;
	cancelSignalFired?: () => void;
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
		{ displayName: 'Call URL', name: 'callUrl', type: 'string', default: '' },
		{ displayName: 'Wait For Cancel', name: 'waitForCancel', type: 'boolean', default: false },
	],
};

/**
 * Test-only node: prefixes the input binary with the (expression) `prompt`,
 * outputs it as a new binary, optionally reads credentials / calls an API /
 * fails on one item / waits for cancellation. A factory rather than a class
 * because n8n calls `execute` with its ExecuteContext as `this`, so the events
 * have to come in through the closure.
 */
function harnessProbe(events: ProbeEvents = {}): INodeType {
	return {
		description: probeDescription,
		async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
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
	const url = ctx.getNodeParameter('callUrl', i) as string;
	if (url)
		json.response = await ctx.helpers.httpRequestWithAuthentication.call(ctx, 'testApi', {
			url,
			json: true,
		});
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
	it('round-trips bytes through getBinaryDataBuffer and prepareBinaryData', async () => {
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
		if (binaryMode === 'filesystem') {
			expect(stored.id).toMatch(/^filesystem-v2:workflows\/.+\/binary_data\//);
			expect(stored.data).toBe('filesystem-v2');
		} else {
			expect(stored.id).toBeUndefined();
			expect(Buffer.from(stored.data, 'base64')).toEqual(await binary(items[0], 'result'));
		}
		expect(stored).toMatchObject({ fileName: 'result.bin', mimeType: 'application/octet-stream' });
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

	it('without continueOnFail, surfaces the NodeOperationError with its itemIndex', async () => {
		const { items, error, recordedError, run } = await runNode({
			nodeType: harnessProbe(),
			parameters: { prompt: 'p', failOnItem: 1 },
			inputItems: [imageItem('a', png), imageItem('b', png)],
		});

		expect(error).toBeInstanceOf(NodeOperationError);
		expect(error?.message).toBe('Refusing item 1');
		expect(error?.description).toBe('probe failure');
		expect(error?.context.itemIndex).toBe(1);
		expect(error).toMatchObject({ node: { name: 'Harness Probe' } });
		// n8n's own record is a plain copy with the same fields (not an instance).
		expect(recordedError).not.toBeInstanceOf(NodeOperationError);
		expect(recordedError).toMatchObject({
			message: 'Refusing item 1',
			description: 'probe failure',
		});
		expect(run.status).toBe('error');
		expect(run.data.resultData.lastNodeExecuted).toBe('Harness Probe');
		expect(items).toEqual([]);
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

	describe('httpRequestWithAuthentication', () => {
		let server: Server;
		let seenHeaders: IncomingHttpHeaders | undefined;
		beforeAll(async () => {
			server = createServer((req, res) => {
				seenHeaders = req.headers;
				res.setHeader('content-type', 'application/json');
				res.end(JSON.stringify({ ok: true }));
			});
			await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		});
		afterAll(async () => await new Promise((resolve) => server.close(resolve)));

		it("applies the credential type's generic authenticate", async () => {
			const { port } = server.address() as AddressInfo;
			const { items, error } = await runNode({
				nodeType: harnessProbe(),
				parameters: { callUrl: `http://127.0.0.1:${port}/ping` },
				credentials: { testApi: { apiKey: 'secret-456' } },
				credentialTypes: [new TestApi()],
				inputItems: [imageItem('a', png)],
			});

			expect(error).toBeUndefined();
			expect(items[0].json.response).toEqual({ ok: true });
			expect(seenHeaders?.['x-api-key']).toBe('secret-456');
		});
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
	it('runs a multi-node workflow where a later node reads an earlier one via pairedItem', async () => {
		const bytes = randomBytes(32);
		const nodes = [
			{
				id: '1',
				name: 'Source',
				type: SOURCE_NODE_TYPE,
				typeVersion: 1,
				position: [0, 0] as [number, number],
				parameters: {},
			},
			{
				id: '2',
				name: 'First',
				type: PROBE_TYPE,
				typeVersion: 1,
				position: [200, 0] as [number, number],
				parameters: { prompt: '={{ $json.prompt }}' },
			},
			{
				id: '3',
				name: 'Second',
				type: PROBE_TYPE,
				typeVersion: 1,
				position: [400, 0] as [number, number],
				parameters: { prompt: "={{ $('Source').item.json.prompt }}!", binaryProperty: 'result' },
			},
		];
		const connections = {
			Source: { main: [[{ node: 'First', type: 'main' as const, index: 0 }]] },
			First: { main: [[{ node: 'Second', type: 'main' as const, index: 0 }]] },
		};

		const run = await runWorkflow(
			{ nodes, connections },
			{
				[SOURCE_NODE_TYPE]: createSourceNodeType([imageItem('q', bytes)]),
				[PROBE_TYPE]: harnessProbe(),
			},
			{},
			{ binaryMode: 'filesystem' },
		);

		expect(run.status).toBe('success');
		const [item] = run.data.resultData.runData.Second[0].data!.main[0]!;
		expect(item.json.prompt).toBe('q!');
		expect(await readBinary(item, 'result')).toEqual(Buffer.concat([Buffer.from('q!:q:'), bytes]));
	});
});
