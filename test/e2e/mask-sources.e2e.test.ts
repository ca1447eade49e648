/**
 * The mask sources that need no mask file, and a finetune, in a real n8n (`n8n execute --id`):
 * - Describe It: Read photo → FLUX.1 Fill ("the sky", 2 images, Return Mask) → Write;
 * - Expand Canvas: Read photo → FLUX.1 Fill (to 16:9, centred) → Write;
 * - Finetune: Read image and mask → Merge → FLUX.1 Fill (Finetune ID, strength 2) → Write.
 * Asserted on the files written, n8n's saved executions and the fal emulator (whose
 * segmentation finds the colour the words name: "sky" is blue; whose finetunes tint what
 * they paint towards `finetuneColour(id)`, all the way at strength 2).
 */
import fs from 'node:fs';
import path from 'node:path';

import {
	DEFAULT_FINETUNE_IDS,
	FINETUNED_ENDPOINT,
	finetuneColour,
	SEGMENT_ENDPOINT,
} from '../emulator';
import { nodeOutput } from './helpers/database';
import { jobsOf } from './helpers/fal';
import { useN8nSuite } from './helpers/fixture';
import {
	changedRows,
	coloursInsideMask,
	compareWithInput,
	expectExpandedFile,
	IMAGE_SIZE,
	SKY_ROW_INDEXES,
} from './helpers/images';
import { expectRunSucceeded } from './helpers/n8nInstance';
import {
	describeItWorkflow,
	expandCanvasWorkflow,
	fillChain,
	manualTrigger,
	workflow,
	writeFile,
} from './helpers/workflows';

const DESCRIBE = 'falE2eDescribeIt01';
const EXPAND = 'falE2eExpandCanvas1';
const FINETUNED = 'falE2eFinetuned01';
const FINETUNE = DEFAULT_FINETUNE_IDS[1];
const CREDENTIAL = { id: 'falE2eMaskSrcCred1', name: 'fal (emulator)' };

const suite = useN8nSuite('mask-sources', { photo: true, credentials: [CREDENTIAL] });

beforeAll(async () => {
	const { file } = suite.photo;
	const finetuned = fillChain(
		manualTrigger(),
		suite.fixtures,
		{
			credential: CREDENTIAL,
			prompt: 'a red kite',
			seed: 5,
			outputFormat: 'png',
			finetune: { id: FINETUNE, strength: 2 },
		},
		writeFile('Write images', `=${suite.outputDir}/finetuned-{{ $json.image_index + 1 }}.png`),
	);
	await suite.n8n.importWorkflows([
		describeItWorkflow(DESCRIBE, 'e2e: describe it', CREDENTIAL, file, suite.outputDir),
		expandCanvasWorkflow(EXPAND, 'e2e: expand canvas', CREDENTIAL, file, suite.outputDir),
		workflow(FINETUNED, 'e2e: finetuned fill', finetuned.nodes, finetuned.edges),
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

test('Finetune: fill-finetuned gets the id and strength 2, and paints the finetune’s colour', async () => {
	const result = await suite.n8n.execute(FINETUNED);
	expectRunSucceeded(result);
	const [execution] = await suite.n8n.db.executions(FINETUNED);
	const run = await suite.n8n.db.runData(execution.id);
	const [filled] = nodeOutput(run, 'FLUX.1 Fill');

	// fal was asked once, at fill-finetuned, not at the plain fill.
	const jobs = [...suite.emulator.jobsFor(FINETUNED_ENDPOINT).values()];
	expect(jobs).toHaveLength(1);
	expect(jobsOf(suite.emulator)).toHaveLength(0);
	expect(jobs[0].id).toBe(filled.json.request_id);
	expect(jobs[0].input).toMatchObject({
		finetune_id: FINETUNE,
		finetune_strength: 2,
		prompt: 'a red kite',
		seed: 5,
		num_images: 1,
		output_format: 'png',
	});
	// 96×64 rounds up to one megapixel, at fill-finetuned's $0.06 (the plain fill's is $0.05).
	expect(filled.json).toMatchObject({
		width: IMAGE_SIZE.width,
		height: IMAGE_SIZE.height,
		estimated_cost_usd: 0.06,
		request_estimated_cost_usd: 0.06,
	});

	// Strength 2 paints the finetune's colour itself over the whole mask; the rest is the input.
	const [written] = nodeOutput(run, 'Write images');
	const file = path.join(suite.outputDir, 'finetuned-1.png');
	expect(written.json.fileName).toBe(file);
	const bytes = fs.readFileSync(file);
	expect(await coloursInsideMask(bytes)).toEqual([finetuneColour(FINETUNE)]);
	expect(await compareWithInput(bytes, suite.fixtures.imageBytes)).toMatchObject({
		format: 'png',
		width: IMAGE_SIZE.width,
		height: IMAGE_SIZE.height,
		changedOutsideMask: 0,
	});
});
