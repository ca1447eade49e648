/**
 * Runs a workflow with n8n-core's own `WorkflowExecute`, i.e. the real
 * ExecuteContext, helpers, expression resolution, error/continueOnFail
 * handling and pairedItem bookkeeping — only the CLI's database-backed parts
 * (credential storage, execution persistence) are replaced.
 */
import type { BinaryDataService } from 'n8n-core';
import { ExecutionLifecycleHooks, ExternalSecretsProxy, WorkflowExecute } from 'n8n-core';
import type {
	ICredentialType,
	IConnections,
	INode,
	IPinData,
	IRun,
	IWorkflowBase,
	IWorkflowExecuteAdditionalData,
	IWorkflowSettings,
} from 'n8n-workflow';
import { UnexpectedError, Workflow } from 'n8n-workflow';

import { type BinaryMode, installBinaryDataService } from './binaryData';
import { type CredentialsByType, HarnessCredentialsHelper } from './credentials';
import { allocateRun } from './instance';
import { HarnessNodeTypes, type NodeTypeMap } from './nodeTypes';

/** The parts of a workflow JSON the engine needs. */
export interface WorkflowDefinition {
	nodes: INode[];
	connections: IConnections;
	id?: string;
	name?: string;
	settings?: IWorkflowSettings;
	pinData?: IPinData;
}

export interface WorkflowRunOptions {
	/** Decrypted credential data by credential type name. */
	credentials?: CredentialsByType;
	/** Credential type instances, needed for `httpRequestWithAuthentication` to apply their `authenticate`. */
	credentialTypes?: ICredentialType[];
	/** n8n's binary-data mode for this run; default `'default'` (in memory). */
	binaryMode?: BinaryMode;
	/** Aborting it cancels the execution, which fires the nodes' `getExecutionCancelSignal()`. */
	abortSignal?: AbortSignal;
	/** Name of the node to start from; default: the first node without a main input connection. */
	startNode?: string;
}

export interface WorkflowRun {
	run: IRun;
	/** The BinaryDataService the run stored its binaries with (reads must go through it). */
	binaryDataService: BinaryDataService;
}

const HARNESS_URL = 'http://localhost:5678';

function notSupported(feature: string): () => never {
	return () => {
		throw new UnexpectedError(`n8n harness: ${feature} is not supported in node tests`);
	};
}

/**
 * What n8n's CLI `WorkflowExecuteAdditionalData.getBase()` provides, minus the
 * server features (sub-workflows, task runners, AI events) a node test does not
 * reach; those throw so a test that does reach them fails loudly.
 */
function buildAdditionalData(
	executionId: string,
	workflowId: string,
	credentialsHelper: HarnessCredentialsHelper,
	hooks: ExecutionLifecycleHooks,
): IWorkflowExecuteAdditionalData {
	return {
		executionId,
		workflowId,
		hooks,
		credentialsHelper,
		externalSecretsProxy: new ExternalSecretsProxy(),
		currentNodeExecutionIndex: 0,
		variables: {},
		restApiUrl: `${HARNESS_URL}/rest`,
		instanceBaseUrl: HARNESS_URL,
		formBaseUrl: `${HARNESS_URL}/form`,
		formWaitingBaseUrl: `${HARNESS_URL}/form-waiting`,
		formTestBaseUrl: `${HARNESS_URL}/form-test`,
		webhookBaseUrl: `${HARNESS_URL}/webhook`,
		webhookWaitingBaseUrl: `${HARNESS_URL}/webhook-waiting`,
		webhookTestBaseUrl: `${HARNESS_URL}/webhook-test`,
		mcpBaseUrl: `${HARNESS_URL}/mcp`,
		mcpTestBaseUrl: `${HARNESS_URL}/mcp-test`,
		executeWorkflow: notSupported('executeWorkflow (sub-workflows)'),
		getRunExecutionData: notSupported('getRunExecutionData'),
		getRuntimeCredential: notSupported('getRuntimeCredential'),
		startRunnerTask: notSupported('startRunnerTask (Code node task runner)'),
		logAiEvent: () => {},
	};
}

/** Defaults every workflow saved by a current n8n editor has. */
function buildWorkflow(definition: WorkflowDefinition, nodeTypes: NodeTypeMap): Workflow {
	return new Workflow({
		id: definition.id ?? 'harness-workflow',
		name: definition.name ?? 'n8n harness',
		nodes: definition.nodes,
		connections: definition.connections,
		active: false,
		nodeTypes: new HarnessNodeTypes(nodeTypes),
		settings: { executionOrder: 'v1', ...definition.settings },
		pinData: definition.pinData,
	});
}

/** The lifecycle hooks object WorkflowExecute requires (it asserts it exists). */
function buildHooks(executionId: string, workflow: Workflow): ExecutionLifecycleHooks {
	const workflowData: IWorkflowBase = {
		id: workflow.id,
		name: workflow.name ?? '',
		active: false,
		isArchived: false,
		activeVersionId: null,
		createdAt: new Date(),
		updatedAt: new Date(),
		nodes: Object.values(workflow.nodes),
		connections: workflow.connectionsBySourceNode,
		settings: workflow.settings,
	};
	return new ExecutionLifecycleHooks('manual', executionId, workflowData);
}

function findStartNode(workflow: Workflow, name?: string): INode {
	const node = name
		? workflow.getNode(name)
		: Object.values(workflow.nodes).find(
				(candidate) => !workflow.connectionsByDestinationNode[candidate.name]?.main,
			);
	if (!node)
		throw new UnexpectedError(
			`n8n harness: start node ${name ?? '(none without inputs)'} not found`,
		);
	return node;
}

/**
 * `WorkflowExecute.run()` returns a PCancelable; its `cancel()` is n8n's stop
 * button: it aborts the AbortController whose signal every ExecuteContext hands
 * out as `getExecutionCancelSignal()`, and the run then resolves (not rejects)
 * with status `canceled`. So the test's signal is bridged to `cancel()`.
 */
function cancelOnAbort(signal: AbortSignal | undefined, cancel: () => void): () => void {
	if (!signal) return () => {};
	if (signal.aborted) {
		cancel();
		return () => {};
	}
	signal.addEventListener('abort', cancel, { once: true });
	return () => signal.removeEventListener('abort', cancel);
}

export async function executeWorkflow(
	definition: WorkflowDefinition,
	nodeTypes: NodeTypeMap,
	options: WorkflowRunOptions = {},
): Promise<WorkflowRun> {
	const { executionId, storagePath } = allocateRun();
	const binaryDataService = await installBinaryDataService(
		options.binaryMode ?? 'default',
		storagePath,
	);
	const workflow = buildWorkflow(definition, nodeTypes);
	const credentialsHelper = new HarnessCredentialsHelper(
		options.credentials,
		options.credentialTypes,
	);
	const additionalData = buildAdditionalData(
		executionId,
		workflow.id,
		credentialsHelper,
		buildHooks(executionId, workflow),
	);

	const execution = new WorkflowExecute(additionalData, 'manual').run({
		workflow,
		startNode: findStartNode(workflow, options.startNode),
	});
	const stopForwarding = cancelOnAbort(options.abortSignal, () => execution.cancel());
	try {
		return { run: await execution, binaryDataService };
	} finally {
		stopForwarding();
	}
}
