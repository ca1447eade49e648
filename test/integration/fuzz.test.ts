/**
 * Fuzz: a few hundred random items (valid and invalid parameters and files) run
 * against the emulator with random injected faults. Whatever happens, the node's
 * invariants hold: no unhandled rejection, no hang, every input item accounted for
 * in order, no request sent twice after fal accepted it, and the key never shown.
 * Seeded, so a failure names a seed that reproduces it (FUZZ_SEED=…).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { IDataObject, INodeExecutionData, INodeParameters } from 'n8n-workflow';
import sharp from 'sharp';

import type { FalEmulator } from '../emulator';
import { prepareBinary } from '../helpers/n8nHarness';
import {
	KEY,
	makePictures,
	runFill,
	runFillInLoop,
	startEmulator,
	type Pictures,
} from './fixtures';

const RUNS = 250;
const SEED = Number(process.env.FUZZ_SEED ?? 20261124);
const SECRET = KEY.split(':')[1];

/** mulberry32: small, seedable, good enough to pick cases. */
function random(seed: number) {
	let state = seed >>> 0;
	const next = () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
	const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)];
	return { next, pick, chance: (p: number) => next() < p };
}

let emu: FalEmulator;
let small: Pictures;
let other: Pictures;
let gif: Buffer;
/** The small picture as a phone stores a portrait: turned, with EXIF orientation 6. */
let rotated: Buffer;
/** A server with one real image, for answers that list more images than asked. */
let extraImages = '';
let imageServer: Server;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
	process.on('unhandledRejection', onUnhandled);
	emu = await startEmulator();
	small = await makePictures(48, 32, 3);
	other = await makePictures(40, 32, 4);
	gif = await sharp(small.image).gif().toBuffer();
	rotated = await sharp(small.image).rotate(270).jpeg().withMetadata({ orientation: 6 }).toBuffer();
	imageServer = createServer((_req, res) =>
		res.writeHead(200, { 'content-type': 'image/png' }).end(small.image),
	);
	await new Promise<void>((resolve) => imageServer.listen(0, '127.0.0.1', resolve));
	extraImages = `http://127.0.0.1:${(imageServer.address() as AddressInfo).port}`;
});
afterAll(async () => {
	process.off('unhandledRejection', onUnhandled);
	await emu.close();
	await new Promise((resolve) => imageServer.close(resolve));
});

type Rng = ReturnType<typeof random>;

/** One input item: usually fine, sometimes broken in one of many ways. */
function randomItem(rng: Rng, index: number): { item: INodeExecutionData; valid: boolean } {
	const image = prepareBinary(small.image, 'photo.png', 'image/png');
	const mask = prepareBinary(small.mask, 'mask.png', 'image/png');
	const json: IDataObject = {
		prompt: rng.pick([
			'a cat',
			'ünïcødé 🎨 prompt',
			'x'.repeat(500),
			'nsfw-test',
			'policy-violation-test',
		]),
		n: index,
	};
	const defect = rng.chance(0.3)
		? rng.pick([
				'no mask',
				'no binary',
				'text file',
				'gif',
				'other size',
				'truncated',
				'empty',
				'empty prompt',
			] as const)
		: undefined;
	const binary: Record<string, typeof image> = { data: image, mask };
	// A phone photo stored sideways is as good as the upright one: its mask is drawn as shown.
	if (!defect && rng.chance(0.15))
		binary.data = prepareBinary(rotated, 'IMG_0001.jpg', 'image/jpeg');
	switch (defect) {
		case 'no mask':
			delete binary.mask;
			break;
		case 'no binary':
			return { item: { json }, valid: false };
		case 'text file':
			binary.data = prepareBinary(Buffer.from('hello'), 'a.txt', 'text/plain');
			break;
		case 'gif':
			binary.mask = prepareBinary(gif, 'm.gif', 'image/gif');
			break;
		case 'other size':
			binary.mask = prepareBinary(other.mask, 'm.png', 'image/png');
			break;
		case 'truncated':
			binary.data = prepareBinary(
				small.image.subarray(0, small.image.length / 2),
				'p.png',
				'image/png',
			);
			break;
		case 'empty':
			binary.mask = prepareBinary(Buffer.alloc(0), 'm.png', 'image/png');
			break;
		case 'empty prompt':
			json.prompt = rng.pick(['', '   ', '\n']);
			break;
	}
	return { item: { json, binary }, valid: defect === undefined };
}

/** Options as expressions could produce them: mostly right, sometimes wrong or of the wrong type. */
function randomOptions(rng: Rng): IDataObject {
	const either = <T>(valid: readonly T[], invalid: readonly T[]) =>
		rng.chance(0.85) ? rng.pick(valid) : rng.pick(invalid);
	const options: IDataObject = {};
	if (rng.chance(0.5)) options.numImages = either([1, 2, 3, 4, '3'], [0, 5, 2.5, 'many']);
	if (rng.chance(0.4)) options.seed = either([0, 42, 4294967295, '17'], [-1, 1.5, 'abc']);
	if (rng.chance(0.4)) options.outputFormat = either(['jpeg', 'png'], ['gif']);
	if (rng.chance(0.3)) options.safetyTolerance = either(['1', '6', 3], ['7']);
	if (rng.chance(0.3)) options.syncMode = rng.pick([true, false]);
	if (rng.chance(0.2)) options.enhancePrompt = either<boolean | string>([true, false], ['maybe']);
	if (rng.chance(0.2)) options.dropNsfw = true;
	// A spending cap that some runs pass: the items that fit go, the rest never reach fal.
	if (rng.chance(0.3)) options.maxCostUsd = rng.pick([0, 0.05, 0.1, 0.2]);
	options.concurrency = rng.pick([1, 2, 4]);
	options.timeout = rng.pick([5, 10]);
	return options;
}

/** At most one fault per run; Retry-After 0 keeps retries quick. */
function randomFault(rng: Rng) {
	if (!rng.chance(0.45)) return undefined;
	if (rng.chance(0.3)) {
		// The answers of issue 13: streams that are not SSE or are cut, cut downloads, too many images.
		return rng.pick([
			{
				kind: 'stream',
				status: 200,
				contentType: 'application/json',
				body: { status: 'IN_QUEUE' },
				times: Infinity,
			},
			{
				kind: 'stream',
				status: 200,
				contentType: 'text/plain',
				body: 'garbage',
				cutAfterBytes: 3,
				times: Infinity,
			},
			{
				kind: 'stream',
				status: 200,
				contentType: 'text/event-stream',
				body: 'data: {"st',
				cutAfterBytes: 8,
				times: 2,
			},
			{
				kind: 'file',
				status: 200,
				contentType: 'image/png',
				body: small.image.subarray(0, 100),
				times: rng.pick([1, Infinity]),
			},
			{
				kind: 'result',
				status: 200,
				body: {
					images: Array.from({ length: rng.pick([3, 50]) }, () => ({
						url: `${extraImages}/x.png`,
					})),
					seed: 1,
					has_nsfw_concepts: [],
					timings: {},
				},
				times: Infinity,
			},
			// Answers far larger than fal sends: each a clear error, never memory.
			{
				kind: 'stream',
				status: 200,
				contentType: 'text/event-stream',
				body: `data: ${'x'.repeat(100_000)}`,
				times: Infinity,
			},
			{ kind: 'result', status: 422, body: { detail: 'y'.repeat(2_000_000) }, times: 1 },
			{ kind: 'submit', status: 200, body: { request_id: 'z'.repeat(2_000_000) }, times: 1 },
		] as const);
	}
	const kind = rng.pick([
		'submit',
		'stream',
		'status',
		'result',
		'initiate',
		'upload',
		'file',
	] as const);
	const shape = rng.pick(['status', 'reset', 'drop', 'acceptThenFail'] as const);
	const times = rng.pick([1, 2, Infinity]);
	if (shape === 'drop' && kind === 'stream')
		return { kind, dropAfterEvents: rng.pick([0, 1]), times };
	// A submit fal accepted whose answer is lost: named by fal (504 with its id) or not (reset).
	if (shape === 'acceptThenFail' && kind === 'submit')
		return rng.chance(0.5)
			? { kind, acceptThenFail: true, status: 504, times: 1 }
			: { kind, acceptThenFail: true, reset: true, times: 1 };
	if (shape === 'reset') return { kind, reset: true, times };
	return {
		kind,
		status: rng.pick([429, 500, 502, 503, 504]),
		times,
		headers: { 'retry-after': '0' },
		body: { detail: 'fuzz fault' },
	};
}

it(`keeps its invariants over ${RUNS} random runs (seed ${SEED})`, async () => {
	const rng = random(SEED);
	let items = 0;
	let successes = 0;
	let errorItems = 0;
	for (let run = 0; run < RUNS; run++) {
		emu.reset();
		const count = 1 + Math.floor(rng.next() * 3);
		const inputs = Array.from({ length: count }, (_, index) => randomItem(rng, index));
		const fault = randomFault(rng);
		if (fault) emu.fail(fault);
		const continueOnFail = rng.chance(0.6);
		// n8n's Retry On Fail re-runs the node: still at most one fal job per item.
		const retry = !continueOnFail && rng.chance(0.4);
		const label = `run ${run} (seed ${SEED}), fault ${JSON.stringify(fault)}, continueOnFail ${continueOnFail}, retry ${retry}`;
		const started = Date.now();
		const options = randomOptions(rng);
		const run_ = {
			proxyUrl: emu.proxyUrl,
			items: inputs.map((input) => input.item),
			continueOnFail,
			parameters: { prompt: '={{ $json.prompt }}', options: options as INodeParameters },
			...(retry ? { nodeSettings: { retryOnFail: true, maxTries: 2, waitBetweenTries: 1 } } : {}),
		};
		items += count;
		// Never a paid call past the cap: the fills at fal (all small: $0.05 an image) fit in it.
		const withinCap = () => {
			if (typeof options.maxCostUsd !== 'number') return true;
			const images = [...emu.jobs.values()].reduce(
				(sum, job) => sum + Number((job.input as { num_images?: unknown })?.num_images ?? 1),
				0,
			);
			return images * 0.05 <= options.maxCostUsd + 1e-9;
		};
		// Sometimes in Loop Over Items: one run of the node per item, each its own.
		if (continueOnFail && rng.chance(0.15)) {
			const looped = await runFillInLoop(run_);
			expect({ label, runs: looped.fillRuns.length }).toEqual({ label, runs: count });
			expect({ label, jobs: emu.jobs.size <= count }).toEqual({ label, jobs: true });
			expect({ label, withinCap: withinCap() }).toEqual({ label, withinCap: true });
			continue;
		}
		const result = await runFill(run_);

		// No hang: bounded by the item timeout (twice with a retry) and the retry policy.
		expect({ label, ms: Date.now() - started < 25_000 }).toEqual({ label, ms: true });
		// Every input item accounted for, in input order.
		const paired = result.items.map((item) => (item.pairedItem as { item: number }).item);
		expect({ label, sorted: [...paired].sort((a, b) => a - b) }).toEqual({ label, sorted: paired });
		if (continueOnFail) {
			expect({ label, error: result.error }).toEqual({ label, error: undefined });
			for (let index = 0; index < count; index++) {
				const mine = result.items.filter(
					(item) => (item.pairedItem as { item: number }).item === index,
				);
				const errors = mine.filter((item) => item.json.error !== undefined);
				const ok =
					mine.length >= 1 && (errors.length === 0 || (errors.length === 1 && mine.length === 1));
				expect({ label, index, ok }).toEqual({ label, index, ok: true });
				if (errors.length) errorItems++;
				else successes++;
				if (!inputs[index].valid)
					expect({ label, index, invalidFailed: errors.length === 1 }).toEqual({
						label,
						index,
						invalidFailed: true,
					});
			}
		} else if (result.error) {
			const itemIndex = (result.error as { context?: { itemIndex?: number } }).context?.itemIndex;
			expect({
				label,
				inRange: typeof itemIndex === 'number' && itemIndex >= 0 && itemIndex < count,
			}).toEqual({ label, inRange: true });
		} else {
			expect({ label, all: new Set(paired).size }).toEqual({ label, all: count });
			successes += count;
		}
		// Never more fal jobs than items, whatever the faults and n8n's retries: nothing submitted twice.
		expect({ label, jobs: emu.jobs.size <= count }).toEqual({ label, jobs: true });
		expect({ label, withinCap: withinCap() }).toEqual({ label, withinCap: true });
		const seen =
			JSON.stringify(result.items) +
			JSON.stringify(result.run) +
			JSON.stringify(emu.requests) +
			String(result.error?.message);
		expect({ label, leaked: seen.includes(SECRET) }).toEqual({ label, leaked: false });
	}
	expect(unhandled).toEqual([]);
	// The generator must reach both outcomes, or the invariants were tested on nothing.
	expect(successes).toBeGreaterThan(items / 5);
	expect(errorItems).toBeGreaterThan(items / 10);
}, 240_000);
