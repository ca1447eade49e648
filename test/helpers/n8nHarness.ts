/**
 * Runs n8n nodes inside n8n's own workflow engine (n8n-core's WorkflowExecute)
 * for tests: real ExecuteContext and helpers, real expressions, real
 * continueOnFail/pairedItem handling, real BinaryDataService in both modes.
 *
 *   const { items, error, binary } = await runNode({ nodeType: new MyNode(), parameters, inputItems });
 *
 * Runs share one DI container per test file, so run them one at a time (await
 * each) — not concurrently with Promise.all.
 */
import { Container } from '@n8n/di';
import { BinaryDataService } from 'n8n-core';
import type {
	ExecutionError,
	IBinaryData,
	ICredentialType,
	INode,
	INodeExecutionData,
	INodeParameters,
	INodeType,
	IRun,
	IRunData,
	IVersionedNodeType,
} from 'n8n-workflow';
import { NodeHelpers, UnexpectedError } from 'n8n-workflow';

import type { BinaryMode } from './n8nHarness/binaryData';
import { type CredentialsByType, HarnessCredentialsHelper } from './n8nHarness/credentials';
import {
	executeWorkflow,
	type WorkflowDefinition,
	type WorkflowRunOptions,
} from './n8nHarness/engine';
import { removeInstanceFolder } from './n8nHarness/instance';
import { latestVersionOf, type NodeTypeMap } from './n8nHarness/nodeTypes';
import { createSourceNodeType, SOURCE_NODE_NAME, SOURCE_NODE_TYPE } from './n8nHarness/sourceNode';
import { ThrownErrorRecorder } from './n8nHarness/thrownErrors';

export type { BinaryMode, CredentialsByType, NodeTypeMap, WorkflowDefinition, WorkflowRunOptions };
export { prepareBinary, createSourceNodeType, SOURCE_NODE_TYPE } from './n8nHarness/sourceNode';
export { createLoopNodeType, LOOP_NODE_TYPE } from './n8nHarness/loopNode';

export interface RunNodeOptions {
	/** The node under test (an instance). */
	nodeType: INodeType | IVersionedNodeType;
	/** Full type name, e.g. 'n8n-nodes-fal-flux-fill.fluxProFill'; default `n8n-nodes-test.<description.name>`. */
	typeName?: string;
	/** Default: the latest version the node type declares. */
	typeVersion?: number;
	/** Default: the node's `defaults.name`. Expressions like `$('<name>')` refer to it. */
	nodeName?: string;
	/** Node parameters; `={{ ... }}` expressions are resolved by n8n's engine per item. */
	parameters: INodeParameters;
	/** By credential type name, e.g. `{ falApi: { apiKey, proxyUrl } }`; served through `this.getCredentials`. */
	credentials?: CredentialsByType;
	/** Credential type instances whose `authenticate` `httpRequestWithAuthentication` should apply. */
	credentialTypes?: ICredentialType[];
	/** Input items; put binaries in with `prepareBinary(buffer, fileName, mimeType)`. */
	inputItems: INodeExecutionData[];
	/** n8n's in-memory mode (`default`) or its disk mode (`filesystem`, service mode `filesystem-v2`). */
	binaryMode?: BinaryMode;
	/** Node setting "On Error: Continue" (`onError: 'continueRegularOutput'`). */
	continueOnFail?: boolean;
	/** Aborting it cancels the execution, i.e. fires the node's `this.getExecutionCancelSignal()`. */
	abortSignal?: AbortSignal;
	/** Node settings such as Retry On Fail: `{ retryOnFail: true, maxTries: 2, waitBetweenTries: 1 }`. */
	nodeSettings?: Pick<INode, 'retryOnFail' | 'maxTries' | 'waitBetweenTries' | 'onError'>;
}

export interface NodeRunResult {
	/** The node's first output (what most nodes return). */
	items: INodeExecutionData[];
	/** Every output of the node, by output index. */
	outputs: INodeExecutionData[][];
	/**
	 * The node's error when it failed: the instance it threw (so `instanceof
	 * NodeOperationError` / `NodeApiError` work), provided it is the error n8n
	 * recorded; otherwise n8n's record itself.
	 */
	error?: ExecutionError;
	/** n8n's own record of the error (a plain-object copy in 2.41): `runData[node][0].error ?? resultData.error`. */
	recordedError?: ExecutionError;
	/** Reads a binary property of an output item back through the run's BinaryDataService. */
	binary(item: INodeExecutionData, property?: string): Promise<Buffer>;
	runData: IRunData;
	/** The whole execution result (status, resultData, ...). */
	run: IRun;
}

const DEFAULT_PACKAGE = 'n8n-nodes-test';

function nodeUnderTest(o: RunNodeOptions, typeName: string): INode {
	const typeVersion = o.typeVersion ?? latestVersionOf(o.nodeType);
	const { description } = NodeHelpers.getVersionedNodeType(o.nodeType, typeVersion);
	return {
		id: 'node-under-test',
		name: o.nodeName ?? description.defaults.name ?? description.displayName,
		type: typeName,
		typeVersion,
		position: [200, 0],
		parameters: o.parameters,
		credentials: HarnessCredentialsHelper.nodeCredentialsFor(o.credentials ?? {}),
		...(o.continueOnFail && { onError: 'continueRegularOutput' as const }),
		...o.nodeSettings,
	};
}

/** Source node -> node under test, connected on main output 0 / input 0. */
function singleNodeWorkflow(node: INode): WorkflowDefinition {
	const source: INode = {
		id: 'input-items',
		name: SOURCE_NODE_NAME,
		type: SOURCE_NODE_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
	};
	return {
		nodes: [source, node],
		connections: { [SOURCE_NODE_NAME]: { main: [[{ node: node.name, type: 'main', index: 0 }]] } },
	};
}

async function readBinaryWith(
	service: BinaryDataService,
	item: INodeExecutionData,
	property: string,
): Promise<Buffer> {
	const binary: IBinaryData | undefined = item.binary?.[property];
	if (!binary) throw new UnexpectedError(`n8n harness: item has no binary property "${property}"`);
	return await service.getAsBuffer(binary);
}

/** Runs one node on the given items inside a real n8n execution. */
export async function runNode(o: RunNodeOptions): Promise<NodeRunResult> {
	const typeName = o.typeName ?? `${DEFAULT_PACKAGE}.${o.nodeType.description.name}`;
	const node = nodeUnderTest(o, typeName);
	// Register the already version-resolved class so its `execute` can be watched.
	const errors = new ThrownErrorRecorder();
	const nodeType = errors.watch(NodeHelpers.getVersionedNodeType(o.nodeType, node.typeVersion));
	const { run, binaryDataService } = await executeWorkflow(
		singleNodeWorkflow(node),
		{ [SOURCE_NODE_TYPE]: createSourceNodeType(o.inputItems), [typeName]: nodeType },
		o,
	);
	const { runData } = run.data.resultData;
	const task = runData[node.name]?.[0];
	const outputs = (task?.data?.main ?? []).map((output) => output ?? []);
	const recordedError = task?.error ?? run.data.resultData.error;
	return {
		items: outputs[0] ?? [],
		outputs,
		error: errors.original(recordedError),
		recordedError,
		binary: async (item, property = 'data') =>
			await readBinaryWith(binaryDataService, item, property),
		runData,
		run,
	};
}

/**
 * Runs a whole workflow (nodes + connections, as in an exported workflow JSON).
 * `nodeTypes` maps every `node.type` used to its instance; `createSourceNodeType`
 * and `SOURCE_NODE_TYPE` give you a start node that emits fixed items.
 */
export async function runWorkflow(
	workflow: WorkflowDefinition,
	nodeTypes: NodeTypeMap,
	credentials: CredentialsByType = {},
	options: Omit<WorkflowRunOptions, 'credentials'> = {},
): Promise<IRun> {
	const { run } = await executeWorkflow(workflow, nodeTypes, { ...options, credentials });
	return run;
}

/**
 * Reads a binary property back through the BinaryDataService of the most recent
 * run (use right after `runWorkflow`; `runNode` results have their own `binary`).
 */
export async function readBinary(item: INodeExecutionData, property = 'data'): Promise<Buffer> {
	return await readBinaryWith(Container.get(BinaryDataService), item, property);
}

/** Deletes the temporary n8n user folder and all binary files of this test file's runs. */
export function cleanupN8nHarness(): void {
	removeInstanceFolder();
}

// Clean up automatically when imported from a Jest test file (like n8n's NodeTestHarness does).
if (typeof afterAll === 'function') afterAll(cleanupN8nHarness);
