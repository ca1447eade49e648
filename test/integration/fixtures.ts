/**
 * Shared set-up for integration tests: the fal emulator, the node under test run in
 * n8n's engine with a falApi credential pointing at the emulator, and test pictures.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { IDataObject, INodeExecutionData, INodeParameters } from 'n8n-workflow';
import sharp from 'sharp';

import { FalApi } from '../../credentials/FalApi.credentials';
import { FluxProFill } from '../../nodes/FluxProFill/FluxProFill.node';
import {
	startFalEmulator,
	makeMask,
	makeTestImage,
	readPixels,
	type FalEmulator,
} from '../emulator';
import {
	createLoopNodeType,
	createSourceNodeType,
	LOOP_NODE_TYPE,
	prepareBinary,
	runNode,
	runWorkflow,
	SOURCE_NODE_TYPE,
	type BinaryMode,
	type RunNodeOptions,
} from '../helpers/n8nHarness';
import { waitFor as poll } from '../helpers/waitFor';

export const KEY = 'int-test-key-id:int-test-key-secret-0123456789';
export const LOCKED_KEY = 'locked-key-id:locked-secret-0123456789';
export const NODE_TYPE = 'n8n-nodes-fal-flux-fill.fluxProFill';

export { makeMask, makeTestImage, readPixels };

export async function startEmulator(
	options: Parameters<typeof startFalEmulator>[0] = {},
): Promise<FalEmulator> {
	return await startFalEmulator({ validKeys: [KEY], lockedKeys: [LOCKED_KEY], ...options });
}

export interface Pictures {
	image: Buffer;
	mask: Buffer;
	width: number;
	height: number;
	rect: { left: number; top: number; width: number; height: number };
}

/**
 * One emulator and the standard test pictures for a test file, started before its
 * tests, reset (faults, records, latency, concurrency) before each, closed after.
 */
export function useEmulator(): { readonly emu: FalEmulator; readonly pictures: Pictures } {
	const state = {} as { emu: FalEmulator; pictures: Pictures };
	beforeAll(async () => {
		state.emu = await startEmulator();
		state.pictures = await makePictures();
	});
	afterAll(async () => await state.emu?.close());
	beforeEach(() => {
		state.emu.reset();
		state.emu.configure({ latencyMs: 0, concurrency: Infinity });
	});
	return state;
}

/** A plain HTTP server on 127.0.0.1 serving the given files by path, for URL inputs. */
export function serveFiles(files: () => Record<string, Buffer>): { readonly base: string } {
	const state = { base: '' };
	let server: Server;
	beforeAll(async () => {
		server = createServer((req, res) => {
			const body = files()[req.url ?? ''];
			if (!body) return void res.writeHead(404).end();
			res.writeHead(200, { 'content-type': 'image/png' }).end(body);
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		state.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(async () => await new Promise((resolve) => server.close(resolve)));
	return state;
}

export async function makePictures(width = 64, height = 48, seed = 1): Promise<Pictures> {
	const rect = {
		left: Math.round(width / 4),
		top: Math.round(height / 4),
		width: Math.round(width / 2),
		height: Math.round(height / 2),
	};
	return {
		image: await makeTestImage({ width, height, format: 'png', seed }),
		mask: await makeMask({ width, height, rect, format: 'png' }),
		width,
		height,
		rect,
	};
}

/**
 * Pictures whose image is too large to go to fal inline (over 1 MiB of noise, as a photo
 * is): the node uploads it through fal's storage. The mask is small, and goes inline.
 */
export async function makeUploadedPictures(width = 720, height = 540): Promise<Pictures> {
	const noise = Buffer.alloc(width * height * 3);
	for (let i = 0, state = 7; i < noise.length; i++) {
		state = (Math.imul(state, 1103515245) + 12345) >>> 0;
		noise[i] = state >>> 24;
	}
	const image = await sharp(noise, { raw: { width, height, channels: 3 } })
		.png()
		.toBuffer();
	const pictures = await makePictures(width, height);
	return { ...pictures, image };
}

/** An input item carrying image and mask in the binary fields the node reads by default. */
export function pictureItem(pictures: Pictures, json: IDataObject = {}): INodeExecutionData {
	return {
		json,
		binary: {
			data: prepareBinary(pictures.image, 'photo.png', 'image/png'),
			mask: prepareBinary(pictures.mask, 'mask.png', 'image/png'),
		},
	};
}

export interface FillRun {
	parameters?: INodeParameters;
	items: INodeExecutionData[];
	apiKey?: string;
	proxyUrl: string;
	binaryMode?: BinaryMode;
	continueOnFail?: boolean;
	abortSignal?: AbortSignal;
	nodeSettings?: RunNodeOptions['nodeSettings'];
}

/** Runs the fill node once, in n8n's WorkflowExecute, after a source node that emits `items`. */
export async function runFill(run: FillRun) {
	return await runNode({
		nodeType: new FluxProFill(),
		typeName: NODE_TYPE,
		parameters: { operation: 'fill', prompt: 'a red bicycle', ...run.parameters },
		credentials: { falApi: { apiKey: run.apiKey ?? KEY, proxyUrl: run.proxyUrl } },
		credentialTypes: [new FalApi()],
		inputItems: run.items,
		binaryMode: run.binaryMode,
		continueOnFail: run.continueOnFail,
		abortSignal: run.abortSignal,
		nodeSettings: run.nodeSettings,
	});
}

/**
 * Runs the fill node inside a loop, as n8n's Loop Over Items with batch size 1 does: the
 * node runs once per input item, each run a new run index. Returns each run's output.
 */
export async function runFillInLoop(run: FillRun & { nodeName?: string }) {
	const fill = run.nodeName ?? 'FLUX.1 Fill';
	const node = (name: string, type: string, extra = {}) => ({
		id: name,
		name,
		type,
		typeVersion: 1,
		position: [0, 0] as [number, number],
		parameters: {},
		...extra,
	});
	const result = await runWorkflow(
		{
			nodes: [
				node('Input Items', SOURCE_NODE_TYPE),
				node('Loop Over Items', LOOP_NODE_TYPE),
				node(fill, NODE_TYPE, {
					parameters: { operation: 'fill', prompt: 'a red bicycle', ...run.parameters },
					credentials: { falApi: { id: 'falApi-id', name: 'falApi' } },
					...(run.continueOnFail ? { onError: 'continueRegularOutput' } : {}),
					...run.nodeSettings,
				}),
			],
			connections: {
				'Input Items': { main: [[{ node: 'Loop Over Items', type: 'main', index: 0 }]] },
				'Loop Over Items': { main: [[{ node: fill, type: 'main', index: 0 }], []] },
				[fill]: { main: [[{ node: 'Loop Over Items', type: 'main', index: 0 }]] },
			},
		},
		{
			[SOURCE_NODE_TYPE]: createSourceNodeType(run.items),
			[LOOP_NODE_TYPE]: createLoopNodeType(),
			[NODE_TYPE]: new FluxProFill(),
		},
		{ falApi: { apiKey: run.apiKey ?? KEY, proxyUrl: run.proxyUrl } },
		{ credentialTypes: [new FalApi()], binaryMode: run.binaryMode },
	);
	const runs = result.data.resultData.runData[fill] ?? [];
	return {
		run: result,
		fillRuns: runs.map((task) => task.data?.main?.[0] ?? []),
		errors: runs.map((task) => task.error),
	};
}

/** Pixels of `rect` in an RGB raw buffer differ/equal between two decoded images. */
export function countChangedPixels(
	a: { data: Buffer; width: number; channels: number },
	b: { data: Buffer; channels: number },
	area: (x: number, y: number) => boolean,
	height: number,
): { inside: number; changed: number } {
	let inside = 0;
	let changed = 0;
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < a.width; x++) {
			if (!area(x, y)) continue;
			inside++;
			const ia = (y * a.width + x) * a.channels;
			const ib = (y * a.width + x) * b.channels;
			if (
				a.data[ia] !== b.data[ib] ||
				a.data[ia + 1] !== b.data[ib + 1] ||
				a.data[ia + 2] !== b.data[ib + 2]
			)
				changed++;
		}
	}
	return { inside, changed };
}

/** Polls `predicate` every 10 ms until it holds; throws after `timeoutMs` (5 s by default). */
export const waitFor: (predicate: () => boolean, timeoutMs?: number) => Promise<void> = poll;

/**
 * Shorthands over one file's `useEmulator()`, shared by the operation and fault suites:
 * `fill` runs Fill (on one picture item unless given items), `run` runs any operation,
 * `count` is how many requests of one kind the emulator recorded.
 */
export function shorthands(env: { readonly emu: FalEmulator; readonly pictures: Pictures }) {
	return {
		fill: (parameters: INodeParameters = {}, items = [pictureItem(env.pictures)]) =>
			runFill({ proxyUrl: env.emu.proxyUrl, items, parameters }),
		run: (operation: string, items: INodeExecutionData[], parameters: INodeParameters = {}) =>
			runFill({ proxyUrl: env.emu.proxyUrl, items, parameters: { operation, ...parameters } }),
		count: (kind: string) => env.emu.requests.filter((r) => r.kind === kind).length,
	};
}

/** Submit's output items as the next node gets them: their JSON (request_id and the URLs). */
export const fromSubmit = (items: INodeExecutionData[]) =>
	items.map((item) => ({ json: item.json }));

/** The input item an error names (n8n's `context.itemIndex`). */
export const itemIndexOf = (error: unknown) =>
	(error as { context?: { itemIndex?: number } }).context?.itemIndex;
