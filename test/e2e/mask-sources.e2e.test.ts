/**
 * The mask sources that need no mask file, in a real n8n (`n8n execute --id`):
 * - Describe It: Read photo → FLUX.1 Fill ("the sky", 2 images, Return Mask) → Write;
 * - Expand Canvas: Read photo → FLUX.1 Fill (to 16:9, centred) → Write.
 * Asserted on the files written, n8n's saved executions and the fal emulator (whose
 * segmentation finds the colour the words name: "sky" is blue).
 */
import fs from 'node:fs';
import path from 'node:path';

import { SEGMENT_ENDPOINT } from '../emulator';
import { nodeOutput } from './helpers/database';
import { jobsOf } from './helpers/fal';
import { useN8nSuite } from './helpers/fixture';
import { changedRows, expectExpandedFile, SKY_ROW_INDEXES } from './helpers/images';
import { expectRunSucceeded } from './helpers/n8nInstance';
import { describeItWorkflow, expandCanvasWorkflow } from './helpers/workflows';

const DESCRIBE = 'falE2eDescribeIt01';
const EXPAND = 'falE2eExpandCanvas1';
const CREDENTIAL = { id: 'falE2eMaskSrcCred1', name: 'fal (emulator)' };

const suite = useN8nSuite('mask-sources', { photo: true, credentials: [CREDENTIAL] });

beforeAll(async () => {
	const { file } = suite.photo;
	await suite.n8n.importWorkflows([
		describeItWorkflow(DESCRIBE, 'e2e: describe it', CREDENTIAL, file, suite.outputDir),
		expandCanvasWorkflow(EXPAND, 'e2e: expand canvas', CREDENTIAL, file, suite.outputDir),
	]);
}, 120_000);

test('Describe It: "the sky" is segmented once, and only the sky is repainted in both images', async () => {
	const result = await suite.n8n.execute(DESCRIBE);
	expectRunSucceeded(result);
	const [execution] = await suite.n8n.db.executions(DESCRIBE);
	const filled = nodeOutput(await suite.n8n.db.runData(execution.id), 'FLUX.1 Fill');
	expect(filled).toHaveLength(2);

	const segmentations = [...suite.emulator.jobsFor(SEGMENT_ENDPOINT).values()];
	expect(segmentations).toHaveLength(1);
	expect(segmentations[0].input).toMatchObject({ prompt: 'the sky', mask_only: true });
	expect(jobsOf(suite.emulator)).toHaveLength(1);
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

	const files = [1, 2].map((n) => path.join(suite.outputDir, `sky-${n}.png`));
	for (const file of files) {
		expect(await changedRows(fs.readFileSync(file), suite.photo.bytes)).toEqual(SKY_ROW_INDEXES);
	}
});

test('Expand Canvas: the photo becomes 16:9, its middle untouched, the sides painted', async () => {
	const result = await suite.n8n.execute(EXPAND);
	expectRunSucceeded(result);
	const [execution] = await suite.n8n.db.executions(EXPAND);
	const [filled] = nodeOutput(await suite.n8n.db.runData(execution.id), 'FLUX.1 Fill');
	// 48 high at 16:9 is 85 wide (85.33): 21 added, 10 left and 11 right.
	expect(filled.json).toMatchObject({ width: 85, height: 48, estimated_cost_usd: 0.05 });
	expect(suite.emulator.jobsFor(SEGMENT_ENDPOINT).size).toBe(0);

	// Inside the overlap (2 px each side) the original is exactly as it was; the new sides
	// were painted, not left as the copy of the photo's edge column they were padded with.
	await expectExpandedFile(path.join(suite.outputDir, 'wide-1.png'), suite.photo.bytes);
});
