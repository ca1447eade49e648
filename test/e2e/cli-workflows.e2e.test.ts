/**
 * The packed package in a real n8n, run with the CLI (`n8n execute --id`):
 * - chained: Read/Write Files from Disk → Merge → FLUX.1 Fill (2 images) → Write Files;
 * - failure: a mask of the wrong size fails the run with the node's own message, and
 *   with "On Error: Continue" the error item reaches the next node instead;
 * - Retry On Fail picks up what fal accepted; Loop Over Items over identical items pays each turn.
 * Asserted on n8n's saved executions (SQLite), the files written, and the fal emulator.
 */
import fs from 'node:fs';
import path from 'node:path';

import { nodeOutput } from './helpers/database';
import { fetchFalFile, inlinePictures, jobsOf, sha256 } from './helpers/fal';
import { useN8nSuite } from './helpers/fixture';
import { compareWithInput, IMAGE_SIZE, maskMismatches, WRONG_MASK_SIZE } from './helpers/images';
import { expectRunSucceeded } from './helpers/n8nInstance';
import {
	cliWorkflows,
	code,
	fillChain,
	fillInLoop,
	manualTrigger,
	noOp,
	workflow,
} from './helpers/workflows';

const CHAINED = 'falE2eChained01';
const FAILING = 'falE2eWrongMask01';
const CONTINUING = 'falE2eWrongMaskCont1';
const RETRYING = 'falE2eRetryOnFail01';
const LOOPING = 'falE2eLoopIdentical01';
const CREDENTIAL = { id: 'falE2eCliCred01', name: 'fal (emulator)' };
const WRONG_SIZE_MESSAGE = `The mask is ${WRONG_MASK_SIZE.width}×${WRONG_MASK_SIZE.height} pixels but the image is ${IMAGE_SIZE.width}×${IMAGE_SIZE.height}`;

const suite = useN8nSuite('cli-workflows', { credentials: [CREDENTIAL] });

beforeAll(async () => {
	const { fixtures, outputDir } = suite;
	const { fill, chained, failing, continuing } = cliWorkflows(CREDENTIAL, fixtures, outputDir);
	// Three items from one image and mask; the fill node has Retry On Fail (2 tries).
	const retrying = fillChain(
		manualTrigger(),
		{ image: fixtures.image, mask: fixtures.mask },
		{ ...fill, numImages: 1, prompt: '={{ $json.prompt }}', retryTries: 2 },
		noOp('Next node'),
	);
	const threeItems = code(
		'Three prompts',
		"return ['first', 'second', 'third'].map((prompt) => ({ json: { prompt }, binary: $input.first().binary }));",
	);
	retrying.nodes.splice(4, 0, threeItems);
	retrying.edges.splice(4, 1, ['Image + mask', 'Three prompts'], ['Three prompts', 'FLUX.1 Fill']);
	await suite.n8n.importWorkflows([
		workflow(RETRYING, 'e2e: retry on fail', retrying.nodes, retrying.edges),
		fillInLoop(LOOPING, 'e2e: loop over identical items', { ...fill, numImages: 1 }, fixtures),
		workflow(CHAINED, 'e2e: chained fill', chained.nodes, chained.edges),
		workflow(FAILING, 'e2e: wrong mask size', failing.nodes, failing.edges),
		workflow(CONTINUING, 'e2e: wrong mask size, continue', continuing.nodes, continuing.edges),
	]);
}, 120_000);

test('chained: read image and mask, combine them, fill 2 images, write both files', async () => {
	const result = await suite.n8n.execute(CHAINED);
	expectRunSucceeded(result);

	// What n8n recorded.
	const executions = await suite.n8n.db.executions(CHAINED);
	expect(executions).toHaveLength(1);
	expect(executions[0]).toMatchObject({ mode: 'cli', status: 'success', finished: 1 });
	const run = await suite.n8n.db.runData(executions[0].id);

	const merged = nodeOutput(run, 'Image + mask'); // the stock Merge node made one item of two
	expect(merged).toHaveLength(1);
	expect(Object.keys(merged[0].binary ?? {}).sort()).toEqual(['data', 'mask']);

	const filled = nodeOutput(run, 'FLUX.1 Fill');
	expect(filled).toHaveLength(2);
	const requestId = filled[0].json.request_id;
	filled.forEach((item, index) => {
		expect(item.json).toMatchObject({
			request_id: requestId,
			image_index: index,
			content_type: 'image/png',
			width: IMAGE_SIZE.width,
			height: IMAGE_SIZE.height,
			seed: 42,
			prompt: 'a hot-air balloon',
			has_nsfw_concept: false,
		});
		expect(Object.keys(item.json)).toEqual(
			expect.arrayContaining(['url', 'has_nsfw_concepts', 'timings']),
		);
		expect(item.binary?.data).toMatchObject({
			mimeType: 'image/png',
			fileName: expect.stringMatching(/\.png$/),
		});
	});

	const written = nodeOutput(run, 'Write images');
	const files = written.map((item) => String(item.json.fileName));
	expect(files).toEqual([
		path.join(suite.outputDir, 'chained-1.png'),
		path.join(suite.outputDir, 'chained-2.png'),
	]);

	// What fal was asked: one request for the one item, as configured, with the right key.
	const jobs = jobsOf(suite.emulator);
	expect(jobs).toHaveLength(1);
	expect(jobs[0].id).toBe(requestId);
	expect(jobs[0].input).toMatchObject({
		num_images: 2,
		output_format: 'png',
		seed: 42,
		prompt: 'a hot-air balloon',
	});
	expect(
		suite.emulator.requests
			.filter((request) => request.kind === 'submit')
			.map((request) => request.auth),
	).toEqual(['valid']);
	// The node sent the image exactly as Read/Write Files from Disk read it, and a mask (the
	// node may re-encode it) that repaints exactly our white rectangle: inline, in the submit
	// (pictures up to 1 MiB are not uploaded).
	expect(suite.emulator.uploads).toEqual([]);
	const sent = inlinePictures(jobs[0].input);
	expect(sha256(sent.image)).toBe(sha256(suite.fixtures.imageBytes));
	expect(await maskMismatches(sent.mask)).toBe(0);

	// The files: the input's size and format, untouched outside the mask, repainted inside.
	const contents = files.map((file) => fs.readFileSync(file));
	for (const [index, bytes] of contents.entries()) {
		const comparison = await compareWithInput(bytes, suite.fixtures.imageBytes);
		expect(comparison).toMatchObject({
			format: 'png',
			width: IMAGE_SIZE.width,
			height: IMAGE_SIZE.height,
			changedOutsideMask: 0,
		});
		expect(comparison.changedInsideMask).toBeGreaterThan(0.5);
		// Byte for byte the image fal served for this index.
		expect(sha256(bytes)).toBe(sha256(await fetchFalFile(String(filled[index].json.url))));
	}
	expect(sha256(contents[0])).not.toBe(sha256(contents[1]));
});

describe('failure: a mask of the wrong size', () => {
	test("fails the execution with the node's own message, before any fal call", async () => {
		const result = await suite.n8n.execute(FAILING);
		expect(result.ok).toBe(false);
		expect(result.run?.data?.resultData?.error).toMatchObject({
			message: WRONG_SIZE_MESSAGE,
			name: 'NodeOperationError',
		});

		const executions = await suite.n8n.db.executions(FAILING);
		expect(executions).toHaveLength(1);
		expect(executions[0]).toMatchObject({ mode: 'cli', status: 'error' });
		const run = await suite.n8n.db.runData(executions[0].id);
		expect(run.resultData.lastNodeExecuted).toBe('FLUX.1 Fill');
		expect(run.resultData.error).toMatchObject({
			message: WRONG_SIZE_MESSAGE,
			node: { name: 'FLUX.1 Fill' },
		});
		expect(run.resultData.runData['FLUX.1 Fill'][0].error?.message).toBe(WRONG_SIZE_MESSAGE);
		expect(run.resultData.runData['Next node']).toBeUndefined();

		expect(suite.emulator.requests).toEqual([]); // refused before uploading or paying anything
	});

	test('with "On Error: Continue" the error item reaches the next node and the run succeeds', async () => {
		const result = await suite.n8n.execute(CONTINUING);
		expectRunSucceeded(result);

		const executions = await suite.n8n.db.executions(CONTINUING);
		expect(executions).toHaveLength(1);
		expect(executions[0]).toMatchObject({ status: 'success' });
		const run = await suite.n8n.db.runData(executions[0].id);
		const next = nodeOutput(run, 'Next node');
		expect(next).toHaveLength(1);
		expect(next[0].json).toMatchObject({ error: WRONG_SIZE_MESSAGE });
		expect(next[0].binary).toBeUndefined();
		expect(suite.emulator.requests).toEqual([]);
	});
});

test("n8n's Retry On Fail pays once: a failure of one item does not submit the others again", async () => {
	// fal refuses the third item once (422, nothing accepted); n8n then runs the node again.
	suite.emulator.fail({
		kind: 'submit',
		status: 422,
		times: 1,
		body: { detail: [{ loc: ['body', 'prompt'], msg: 'try again', type: 'value_error' }] },
		match: (request) => JSON.stringify(request.body ?? '').includes('third'),
	});
	suite.emulator.configure({ latencyMs: 1000 });
	const result = await suite.n8n.execute(RETRYING);
	suite.emulator.configure({ latencyMs: 150 });
	expectRunSucceeded(result);
	const [execution] = await suite.n8n.db.executions(RETRYING);
	const filled = nodeOutput(await suite.n8n.db.runData(execution.id), 'FLUX.1 Fill');
	expect(filled.map((item) => item.json.prompt)).toEqual(['first', 'second', 'third']);
	// 3 accepted requests for 3 items: the retry picked the first two up instead of paying again.
	expect(suite.emulator.requests.filter((request) => request.kind === 'submit')).toHaveLength(4);
	expect(suite.emulator.jobs.size).toBe(3);
	expect(suite.emulator.requests.filter((request) => request.kind === 'cancel')).toHaveLength(0);
});

test('Loop Over Items over two identical items: each turn is a run of its own and pays for its image', async () => {
	const result = await suite.n8n.execute(LOOPING);
	expectRunSucceeded(result);
	const [execution] = await suite.n8n.db.executions(LOOPING);
	const run = await suite.n8n.db.runData(execution.id);

	// n8n ran the fill node once per turn of the loop, one item each time.
	expect(run.resultData.runData['Loop Over Items']).toHaveLength(3); // 2 turns + "done"
	expect(run.resultData.runData['FLUX.1 Fill']).toHaveLength(2);
	const turns = [0, 1].map((runIndex) => nodeOutput(run, 'FLUX.1 Fill', runIndex));
	for (const items of turns) expect(items).toHaveLength(1);
	const requestIds = turns.map((items) => items[0].json.request_id);
	expect(new Set(requestIds).size).toBe(2);
	// What left the loop: both images, in turn order.
	expect(nodeOutput(run, 'Done').map((item) => item.json.request_id)).toEqual(requestIds);

	// fal: two submits of the same request, two jobs, the ones n8n recorded.
	const submits = suite.emulator.requests.filter((request) => request.kind === 'submit');
	expect(submits).toHaveLength(2);
	const jobs = jobsOf(suite.emulator);
	expect(jobs.map((job) => job.id)).toEqual(requestIds);
	expect(jobs[1].input).toMatchObject({
		...jobs[0].input,
		image_url: expect.any(String),
		mask_url: expect.any(String),
	});
	expect(suite.emulator.requests.filter((request) => request.kind === 'cancel')).toHaveLength(0);
});
