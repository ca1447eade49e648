/**
 * Builds the n8n workflow JSON the e2e tests import: stock n8n nodes around the fill
 * node, with the parameter names of the pinned n8n 2.41 (see the node sources in the
 * cached install, node_modules/n8n-nodes-base/dist/nodes/).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const FILL_NODE_TYPE = 'n8n-nodes-fal-flux-fill.fluxProFill';

export interface WorkflowNode {
	id: string;
	name: string;
	type: string;
	typeVersion: number;
	position: [number, number];
	parameters: Record<string, unknown>;
	credentials?: Record<string, { id: string; name: string }>;
	onError?: 'stopWorkflow' | 'continueRegularOutput' | 'continueErrorOutput';
	webhookId?: string;
}

export interface WorkflowJson {
	id: string;
	name: string;
	active: boolean;
	nodes: WorkflowNode[];
	connections: Record<
		string,
		{ main: Array<Array<{ node: string; type: 'main'; index: number }>> }
	>;
	settings: Record<string, unknown>;
	pinData: Record<string, never>;
}

/**
 * A connection `from` → `to`, into input `input` of `to` (Merge has two), from output
 * `output` of `from` (Loop Over Items has two: LOOP_OUTPUT).
 */
export type Edge = [from: string, to: string, input?: number, output?: number];

/** Workflow ids: n8n accepts any id up to 21 characters; these are readable in logs. */
export function workflow(
	id: string,
	name: string,
	nodes: WorkflowNode[],
	edges: Edge[],
): WorkflowJson {
	if (id.length > 21) throw new Error(`Workflow id ${id} is longer than n8n's 21 characters`);
	nodes.forEach((node, index) => (node.position = [index * 240, 200]));
	const connections: WorkflowJson['connections'] = {};
	for (const [from, to, input = 0, output = 0] of edges) {
		for (const name of [from, to]) {
			if (!nodes.some((node) => node.name === name))
				throw new Error(`Edge names unknown node "${name}"`);
		}
		const { main } = (connections[from] ??= { main: [] });
		while (main.length <= output) main.push([]);
		main[output].push({ node: to, type: 'main', index: input });
	}
	return {
		id,
		name,
		active: false,
		nodes,
		connections,
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
}

function node(
	name: string,
	type: string,
	typeVersion: number,
	parameters: Record<string, unknown>,
): WorkflowNode {
	return { id: randomUUID(), name, type, typeVersion, position: [0, 0], parameters };
}

export function manualTrigger(name = 'Start'): WorkflowNode {
	return node(name, 'n8n-nodes-base.manualTrigger', 1, {});
}

export function scheduleTrigger(name: string, everySeconds: number): WorkflowNode {
	return node(name, 'n8n-nodes-base.scheduleTrigger', 1.2, {
		rule: { interval: [{ field: 'seconds', secondsInterval: everySeconds }] },
	});
}

/**
 * A POST webhook. By default it answers with the binary field `data` of the last node's
 * first item (the first generated image), i.e. the caller waits for the whole run;
 * `respond: 'onReceived'` answers at once ("Workflow was started") and runs on.
 */
export function webhookTrigger(
	name: string,
	path: string,
	respond: 'lastNode' | 'onReceived' = 'lastNode',
): WorkflowNode {
	const parameters =
		respond === 'lastNode'
			? {
					responseMode: 'lastNode',
					responseData: 'firstEntryBinary',
					responseBinaryPropertyName: 'data',
				}
			: { responseMode: 'onReceived' };
	return {
		...node(name, 'n8n-nodes-base.webhook', 2.1, {
			httpMethod: 'POST',
			path,
			...parameters,
			options: {},
		}),
		webhookId: randomUUID(),
	};
}

/**
 * Wait v1.1 "Resume: On Webhook Call" (POST, answered at once), no time limit: the
 * execution is saved as `waiting` until something POSTs to `$execution.resumeUrl`. It
 * then outputs the call as one item: `{ headers, params, query, body, webhookUrl, executionMode }`.
 */
export function waitForWebhook(name: string): WorkflowNode {
	return {
		...node(name, 'n8n-nodes-base.wait', 1.1, {
			resume: 'webhook',
			httpMethod: 'POST',
			responseMode: 'onReceived',
			options: {},
		}),
		webhookId: randomUUID(),
	};
}

/** Read/Write Files from Disk, read: one file into binary field `field`. */
function readFile(name: string, file: string, field: string): WorkflowNode {
	return node(name, 'n8n-nodes-base.readWriteFile', 1.1, {
		fileSelector: file,
		options: { dataPropertyName: field },
	});
}

/** Read/Write Files from Disk, write: binary field `data` to `fileName` (an expression). */
export function writeFile(name: string, fileName: string): WorkflowNode {
	return node(name, 'n8n-nodes-base.readWriteFile', 1.1, {
		operation: 'write',
		fileName,
		dataPropertyName: 'data',
		options: {},
	});
}

/** Merge v3.2 "combine by position": item i of input 1 + item i of input 2, binary fields too. */
function mergeByPosition(name: string): WorkflowNode {
	return node(name, 'n8n-nodes-base.merge', 3.2, {
		mode: 'combine',
		combineBy: 'combineByPosition',
		options: {},
	});
}

/** n8n's Code node, running `jsCode` once for all items. */
export function code(name: string, jsCode: string): WorkflowNode {
	return node(name, 'n8n-nodes-base.code', 2, { jsCode });
}

export function noOp(name: string): WorkflowNode {
	return node(name, 'n8n-nodes-base.noOp', 1, {});
}

/**
 * The outputs of Loop Over Items (splitInBatches v3, `outputNames: ['done', 'loop']` in
 * n8n-nodes-base/dist/nodes/SplitInBatches/v3): each batch leaves by `loop`, and once the
 * input is used up every item that came back leaves by `done`.
 */
const LOOP_OUTPUT = { done: 0, loop: 1 } as const;

/** Loop Over Items (n8n-nodes-base.splitInBatches v3), `batchSize` items per turn. */
function loopOverItems(name: string, batchSize = 1): WorkflowNode {
	return node(name, 'n8n-nodes-base.splitInBatches', 3, { batchSize, options: {} });
}

export interface FillOptions {
	credential: { id: string; name: string };
	prompt?: string;
	numImages?: number;
	outputFormat?: 'png' | 'jpeg';
	seed?: number;
	/** The node setting "On Error: Continue" (continueRegularOutput). */
	continueOnError?: boolean;
	/** The node setting "Retry On Fail", with this many tries and no wait between them. */
	retryTries?: number;
	/** Options Finetune ID and Finetune Strength: fal's fill-finetuned endpoint. */
	finetune?: { id: string; strength: number };
}

/** The node under test, reading image and mask from binary fields `data` and `mask`. */
export function fluxFill(name: string, options: FillOptions): WorkflowNode {
	const fill = node(name, FILL_NODE_TYPE, 1, {
		operation: 'fill',
		prompt: options.prompt ?? 'a red kite in a clear sky',
		imageSource: 'binary',
		imageBinaryProperty: 'data',
		maskSource: 'binary',
		maskBinaryProperty: 'mask',
		options: {
			numImages: options.numImages ?? 1,
			outputFormat: options.outputFormat ?? 'png',
			...(options.seed !== undefined ? { seed: options.seed } : {}),
			...(options.finetune
				? { finetuneId: options.finetune.id, finetuneStrength: options.finetune.strength }
				: {}),
		},
	});
	fill.credentials = { falApi: options.credential };
	if (options.continueOnError) fill.onError = 'continueRegularOutput';
	if (options.retryTries)
		Object.assign(fill, { retryOnFail: true, maxTries: options.retryTries, waitBetweenTries: 0 });
	return fill;
}

/**
 * `trigger` → Read/Write Files from Disk reads image and mask → Merge "Image + mask" makes
 * one item of them (binary fields `data` and `mask`).
 */
function readImageAndMask(
	trigger: WorkflowNode,
	files: { image: string; mask: string },
): { nodes: WorkflowNode[]; edges: Edge[] } {
	return {
		nodes: [
			trigger,
			readFile('Read image', files.image, 'data'),
			readFile('Read mask', files.mask, 'mask'),
			mergeByPosition('Image + mask'),
		],
		edges: [
			[trigger.name, 'Read image'],
			[trigger.name, 'Read mask'],
			['Read image', 'Image + mask', 0],
			['Read mask', 'Image + mask', 1],
		],
	};
}

/**
 * The chain the issue describes, after any trigger: read image and mask from disk,
 * combine them into one item with a stock node, fill, then `next` (usually writeFile).
 */
export function fillChain(
	trigger: WorkflowNode,
	files: { image: string; mask: string },
	fill: FillOptions,
	next: WorkflowNode,
): { nodes: WorkflowNode[]; edges: Edge[] } {
	const { nodes, edges } = readImageAndMask(trigger, files);
	nodes.push(fluxFill('FLUX.1 Fill', fill), next);
	edges.push(['Image + mask', 'FLUX.1 Fill'], ['FLUX.1 Fill', next.name]);
	return { nodes, edges };
}

/**
 * Manual trigger → read image and mask → Merge → a Code node makes `copies` identical
 * items of the one → Loop Over Items (batch size 1) → FLUX.1 Fill → back into the loop;
 * once all went round, the loop's `done` output goes to "Done" (No Operation).
 */
export function fillInLoop(
	id: string,
	name: string,
	fill: FillOptions,
	files: { image: string; mask: string },
	copies = 2,
): WorkflowJson {
	const { nodes, edges } = readImageAndMask(manualTrigger(), files);
	nodes.push(
		code(
			'Identical items',
			`return Array.from({ length: ${copies} }, () => ({ json: {}, binary: $input.first().binary }));`,
		),
		loopOverItems('Loop Over Items'),
		fluxFill('FLUX.1 Fill', fill),
		noOp('Done'),
	);
	edges.push(
		['Image + mask', 'Identical items'],
		['Identical items', 'Loop Over Items'],
		['Loop Over Items', 'FLUX.1 Fill', 0, LOOP_OUTPUT.loop],
		['FLUX.1 Fill', 'Loop Over Items'],
		['Loop Over Items', 'Done', 0, LOOP_OUTPUT.done],
	);
	return workflow(id, name, nodes, edges);
}

/**
 * Operation Submit: uploads image and mask (binary fields `data` and `mask`), queues the
 * request at fal and returns its id at once; fal POSTs to `webhookUrl` when it ends.
 */
export function fluxSubmit(
	name: string,
	options: FillOptions & { webhookUrl: string },
): WorkflowNode {
	const submit = fluxFill(name, options);
	submit.parameters.operation = 'submit';
	(submit.parameters.options as Record<string, unknown>).webhookUrl = options.webhookUrl;
	return submit;
}

/** Operation Get Result: the images of request `requestId` (an expression), as Fill outputs them. */
export function fluxGetResult(
	name: string,
	options: { credential: { id: string; name: string }; requestId: string },
): WorkflowNode {
	const getResult = node(name, FILL_NODE_TYPE, 1, {
		operation: 'getResult',
		requestId: options.requestId,
		options: {},
	});
	getResult.credentials = { falApi: options.credential };
	return getResult;
}

/**
 * The CLI workflows the suite and the version matrix both run, on `files` (image, mask,
 * a mask of the wrong size): the chained fill writing `chained-<n>.png` into `outputDir`,
 * the same with the wrong mask (fails), and with "On Error: Continue" (an error item).
 */
export function cliWorkflows(
	credential: { id: string; name: string },
	files: { image: string; mask: string; wrongMask: string },
	outputDir: string,
) {
	const fill: FillOptions = {
		credential,
		prompt: 'a hot-air balloon',
		numImages: 2,
		outputFormat: 'png',
		seed: 42,
	};
	const wrong = { image: files.image, mask: files.wrongMask };
	return {
		fill,
		chained: fillChain(
			manualTrigger(),
			{ image: files.image, mask: files.mask },
			fill,
			writeFile(
				'Write images',
				`=${outputDir}/chained-{{ $json.image_index + 1 }}.{{ $binary.data.fileExtension }}`,
			),
		),
		failing: fillChain(manualTrigger(), wrong, fill, noOp('Next node')),
		continuing: fillChain(
			manualTrigger(),
			wrong,
			{ ...fill, continueOnError: true },
			noOp('Next node'),
		),
	};
}

/**
 * Manual trigger → read image and mask → Merge → Submit → Get Result (Request ID left at
 * its default, `{{ $json.request_id }}` of the Submit item) → write the image to
 * `fileName` (an expression).
 */
export function submitThenGetResult(
	id: string,
	name: string,
	credential: { id: string; name: string },
	files: { image: string; mask: string },
	fileName: string,
): WorkflowJson {
	const submit = fluxFill('Submit', { credential, numImages: 1, seed: 7 });
	submit.parameters.operation = 'submit';
	const getResult = fluxGetResult('Get result', { credential, requestId: '' });
	delete getResult.parameters.requestId;
	const { nodes, edges } = readImageAndMask(manualTrigger(), files);
	nodes.push(submit, getResult, writeFile('Write image', fileName));
	edges.push(['Image + mask', 'Submit'], ['Submit', 'Get result'], ['Get result', 'Write image']);
	return workflow(id, name, nodes, edges);
}

/**
 * The fill node with a mask source that needs no mask file (`parameters` give
 * `maskSource` and its settings), on the image in binary field `data`.
 */
function maskSourceFill(
	credential: { id: string; name: string },
	parameters: Record<string, unknown>,
): WorkflowNode {
	const fill = node('FLUX.1 Fill', FILL_NODE_TYPE, 1, {
		operation: 'fill',
		prompt: 'an orange sunset',
		imageSource: 'binary',
		imageBinaryProperty: 'data',
		...parameters,
	});
	fill.credentials = { falApi: credential };
	return fill;
}

/**
 * Manual trigger → read `photo` → `fill` → write each image to
 * `<outputDir>/<prefix>-<n>.<extension>`.
 */
function photoFillWorkflow(
	id: string,
	name: string,
	photo: string,
	fill: WorkflowNode,
	outputDir: string,
	prefix: string,
): WorkflowJson {
	return workflow(
		id,
		name,
		[
			manualTrigger(),
			readFile('Read photo', photo, 'data'),
			fill,
			writeFile(
				'Write images',
				`=${outputDir}/${prefix}-{{ $json.image_index + 1 }}.{{ $binary.data.fileExtension }}`,
			),
		],
		[
			['Start', 'Read photo'],
			['Read photo', fill.name],
			[fill.name, 'Write images'],
		],
	);
}

/**
 * Describe It: the mask is what fal's segmentation finds for "the sky" (no grow), 2
 * images and the mask returned; writes `sky-1.png` and `sky-2.png` into `outputDir`.
 */
export function describeItWorkflow(
	id: string,
	name: string,
	credential: { id: string; name: string },
	photo: string,
	outputDir: string,
): WorkflowJson {
	const fill = maskSourceFill(credential, {
		maskSource: 'text',
		maskPrompt: 'the sky',
		options: { numImages: 2, outputFormat: 'png', growMask: 0, returnMask: true },
	});
	return photoFillWorkflow(id, name, photo, fill, outputDir, 'sky');
}

/**
 * Expand Canvas: the photo widened to 16:9, centred, 2 px of overlap (see EXPANDED_16_9 in
 * images.ts); writes `wide-1.png` into `outputDir`.
 */
export function expandCanvasWorkflow(
	id: string,
	name: string,
	credential: { id: string; name: string },
	photo: string,
	outputDir: string,
): WorkflowJson {
	const fill = maskSourceFill(credential, {
		maskSource: 'expand',
		expandBy: 'aspectRatio',
		expandAspectRatio: '16:9',
		expandAnchor: 'center',
		expandOverlap: 2,
		options: { outputFormat: 'png' },
	});
	return photoFillWorkflow(id, name, photo, fill, outputDir, 'wide');
}

/** Where examples/get-results-by-id.workflow.json writes what it recovers. */
const RECOVERED_DIR = '/tmp/n8n-fal-fill-demo/recovered';

/**
 * The README's recovery recipe, `examples/get-results-by-id.workflow.json`, as an operator
 * fills it in: `pasted` (request IDs or whole log lines) in its Request IDs node, their fal
 * credential on Get Result, and `outputDir` (inside N8N_RESTRICT_FILE_ACCESS_TO) instead of
 * its folder under /tmp. It writes `fill-<request id>-<n>.<extension>`.
 */
export function getResultsByIdExample(
	pasted: string,
	credential: { id: string; name: string },
	outputDir: string,
): WorkflowJson {
	const file = path.join(__dirname, '../../../examples/get-results-by-id.workflow.json');
	const example = JSON.parse(fs.readFileSync(file, 'utf8')) as WorkflowJson;
	const named = (name: string) => {
		const found = example.nodes.find((candidate) => candidate.name === name);
		if (!found) throw new Error(`${file} has no node "${name}"`);
		return found;
	};
	const ids = named('Request IDs').parameters as {
		assignments: { assignments: Array<{ name: string; value: string }> };
	};
	ids.assignments.assignments[0].value = pasted;
	named('Get Result').credentials = { falApi: credential };
	const write = named('Write images').parameters;
	const fileName = String(write.fileName);
	if (!fileName.includes(RECOVERED_DIR))
		throw new Error(`${file}: Write images no longer writes into ${RECOVERED_DIR}`);
	write.fileName = fileName.replace(RECOVERED_DIR, outputDir);
	return example;
}
