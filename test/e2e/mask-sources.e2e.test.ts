/**
 * The mask sources that need no mask file, in a real n8n (`n8n execute --id`):
 * - Describe It: Read photo → FLUX.1 Fill ("the sky", 2 images, Return Mask) → Write;
 * - Expand Canvas: Read photo → FLUX.1 Fill (to 16:9, centred) → Write.
 * Asserted on the files written, n8n's saved executions and the fal emulator (whose
 * segmentation finds the colour the words name: "sky" is blue).
 */
import fs from 'node:fs';
import path from 'node:path';

import { SEGMENT_ENDPOINT, type FalEmulator } from '../emulator';
import { freshDir, suiteState } from './helpers/context';
import { nodeOutput } from './helpers/database';
import { falCredential, jobsOf, startFal } from './helpers/fal';
import { changedRows, expectExpandedFile, SKY_ROW_INDEXES, writePhoto } from './helpers/images';
import { N8nInstance } from './helpers/n8nInstance';
import { describeItWorkflow, expandCanvasWorkflow } from './helpers/workflows';

const DESCRIBE = 'falE2eDescribeIt01';
const EXPAND = 'falE2eExpandCanvas1';
const CREDENTIAL = { id: 'falE2eMaskSrcCred1', name: 'fal (emulator)' };

let emulator: FalEmulator;
let n8n: N8nInstance;
let photo: Buffer;
let outputDir: string;

beforeAll(async () => {
	const { install, tarball } = suiteState();
	const dir = freshDir('mask-sources');
	const filesDir = path.join(dir, 'files');
	outputDir = path.join(filesDir, 'output');
	fs.mkdirSync(outputDir, { recursive: true });
	const written = await writePhoto(filesDir);
	photo = written.bytes;

	emulator = await startFal();
	n8n = N8nInstance.create({ install, tarball, dir, filesDir });
	await n8n.importFalCredentials([falCredential(emulator, CREDENTIAL.id, CREDENTIAL.name)]);
	await n8n.importWorkflows([
		describeItWorkflow(DESCRIBE, 'e2e: describe it', CREDENTIAL, written.file, outputDir),
		expandCanvasWorkflow(EXPAND, 'e2e: expand canvas', CREDENTIAL, written.file, outputDir),
	]);
}, 120_000);

afterAll(async () => {
	await emulator?.close();
});

beforeEach(() => emulator.reset());

test('Describe It: "the sky" is segmented once, and only the sky is repainted in both images', async () => {
	const result = await n8n.execute(DESCRIBE);
	expect({ ok: result.ok, error: result.run?.data?.resultData?.error?.message }).toEqual({
		ok: true,
		error: undefined,
	});
	const [execution] = await n8n.db.executions(DESCRIBE);
	const filled = nodeOutput(await n8n.db.runData(execution.id), 'FLUX.1 Fill');
	expect(filled).toHaveLength(2);

	const segmentations = [...emulator.jobsFor(SEGMENT_ENDPOINT).values()];
	expect(segmentations).toHaveLength(1);
	expect(segmentations[0].input).toMatchObject({ prompt: 'the sky', mask_only: true });
	expect(jobsOf(emulator)).toHaveLength(1);
	expect(filled.map((item) => item.json)).toEqual([
		expect.objectContaining({
			segmentation_request_id: segmentations[0].id,
			estimated_fill_cost_usd: 0.05,
			estimated_segmentation_cost_usd: 0.0025,
			estimated_cost_usd: 0.0525,
			request_estimated_cost_usd: 0.105,
		}),
		expect.objectContaining({
			segmentation_request_id: segmentations[0].id,
			estimated_segmentation_cost_usd: 0.0025,
		}),
	]);

	const files = [1, 2].map((n) => path.join(outputDir, `sky-${n}.png`));
	for (const file of files) {
		expect(await changedRows(fs.readFileSync(file), photo)).toEqual(SKY_ROW_INDEXES);
	}
});

test('Expand Canvas: the photo becomes 16:9, its middle untouched, the sides painted', async () => {
	const result = await n8n.execute(EXPAND);
	expect({ ok: result.ok, error: result.run?.data?.resultData?.error?.message }).toEqual({
		ok: true,
		error: undefined,
	});
	const [execution] = await n8n.db.executions(EXPAND);
	const [filled] = nodeOutput(await n8n.db.runData(execution.id), 'FLUX.1 Fill');
	// 48 high at 16:9 is 85 wide (85.33): 21 added, 10 left and 11 right.
	expect(filled.json).toMatchObject({ width: 85, height: 48, estimated_cost_usd: 0.05 });
	expect(emulator.jobsFor(SEGMENT_ENDPOINT).size).toBe(0);

	// Inside the overlap (2 px each side) the original is exactly as it was; the new sides
	// were painted, not left as the copy of the photo's edge column they were padded with.
	await expectExpandedFile(path.join(outputDir, 'wide-1.png'), photo);
});
