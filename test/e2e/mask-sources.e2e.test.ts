/**
 * The mask sources that need no mask file, in a real n8n (`n8n execute --id`):
 * - Describe It: Read photo → FLUX.1 Fill ("the sky", 2 images, Return Mask) → Write;
 * - Expand Canvas: Read photo → FLUX.1 Fill (to 16:9, centred) → Write.
 * Asserted on the files written, n8n's saved executions and the fal emulator (whose
 * segmentation finds the colour the words name: "sky" is blue).
 */
import fs from 'node:fs';
import path from 'node:path';

import { makeColourImage, readPixels, SEGMENT_ENDPOINT, type FalEmulator } from '../emulator';
import { freshDir, suiteState } from './helpers/context';
import { nodeOutput } from './helpers/database';
import { falCredential, jobsOf, startFal } from './helpers/fal';
import { N8nInstance } from './helpers/n8nInstance';
import {
	FILL_NODE_TYPE,
	manualTrigger,
	readFile,
	workflow,
	writeFile,
	type WorkflowNode,
} from './helpers/workflows';

const DESCRIBE = 'falE2eDescribeIt01';
const EXPAND = 'falE2eExpandCanvas1';
const CREDENTIAL = { id: 'falE2eMaskSrcCred1', name: 'fal (emulator)' };
const WIDTH = 64;
const HEIGHT = 48;
const SKY_ROWS = 20;

let emulator: FalEmulator;
let n8n: N8nInstance;
let photo: Buffer;
let outputDir: string;

function fill(parameters: Record<string, unknown>): WorkflowNode {
	return {
		id: `fill-${String(parameters.maskSource)}`,
		name: 'FLUX.1 Fill',
		type: FILL_NODE_TYPE,
		typeVersion: 1,
		position: [480, 200],
		parameters: {
			operation: 'fill',
			prompt: 'an orange sunset',
			imageSource: 'binary',
			imageBinaryProperty: 'data',
			...parameters,
		},
		credentials: { falApi: CREDENTIAL },
	};
}

beforeAll(async () => {
	const { install, tarball } = suiteState();
	const dir = freshDir('mask-sources');
	const filesDir = path.join(dir, 'files');
	outputDir = path.join(filesDir, 'output');
	fs.mkdirSync(outputDir, { recursive: true });
	// A blue sky over green grass, with a red house on the grass.
	photo = await makeColourImage({
		width: WIDTH,
		height: HEIGHT,
		background: [30, 190, 40],
		regions: [
			{ rect: { left: 0, top: 0, width: WIDTH, height: SKY_ROWS }, colour: [10, 30, 230] },
			{ rect: { left: 8, top: 26, width: 12, height: 12 }, colour: [200, 60, 40] },
		],
	});
	const photoFile = path.join(filesDir, 'photo.png');
	fs.writeFileSync(photoFile, photo);

	emulator = await startFal();
	n8n = N8nInstance.create({ install, tarball, dir, filesDir });
	await n8n.importFalCredentials([falCredential(emulator, CREDENTIAL.id, CREDENTIAL.name)]);
	const chain = (id: string, name: string, fillNode: WorkflowNode, output: string) =>
		workflow(
			id,
			name,
			[
				manualTrigger(),
				readFile('Read photo', photoFile, 'data'),
				fillNode,
				writeFile(
					'Write images',
					`=${outputDir}/${output}-{{ $json.image_index + 1 }}.{{ $binary.data.fileExtension }}`,
				),
			],
			[
				['Start', 'Read photo'],
				['Read photo', 'FLUX.1 Fill'],
				['FLUX.1 Fill', 'Write images'],
			],
		);
	await n8n.importWorkflows([
		chain(
			DESCRIBE,
			'e2e: describe it',
			fill({
				maskSource: 'text',
				maskPrompt: 'the sky',
				options: { numImages: 2, outputFormat: 'png', growMask: 0, returnMask: true },
			}),
			'sky',
		),
		chain(
			EXPAND,
			'e2e: expand canvas',
			fill({
				maskSource: 'expand',
				expandBy: 'aspectRatio',
				expandAspectRatio: '16:9',
				expandAnchor: 'center',
				expandOverlap: 2,
				options: { outputFormat: 'png' },
			}),
			'wide',
		),
	]);
}, 120_000);

afterAll(async () => {
	await emulator?.close();
});

beforeEach(() => emulator.reset());

/** Rows of `png` (RGB) that differ from `reference` anywhere, by index. */
async function changedRows(png: Buffer, reference: Buffer, offsetX = 0): Promise<number[]> {
	const a = await readPixels(png);
	const b = await readPixels(reference);
	const rows: number[] = [];
	for (let y = 0; y < b.height; y++) {
		for (let x = 0; x < b.width; x++) {
			const i = (y * a.width + x + offsetX) * a.channels;
			const j = (y * b.width + x) * b.channels;
			if (
				a.data[i] !== b.data[j] ||
				a.data[i + 1] !== b.data[j + 1] ||
				a.data[i + 2] !== b.data[j + 2]
			) {
				rows.push(y);
				break;
			}
		}
	}
	return rows;
}

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
		const rows = await changedRows(fs.readFileSync(file), photo);
		expect(rows).toEqual(Array.from({ length: SKY_ROWS }, (_, y) => y));
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

	const wide = fs.readFileSync(path.join(outputDir, 'wide-1.png'));
	const pixels = await readPixels(wide);
	expect([pixels.width, pixels.height]).toEqual([85, 48]);
	// Inside the overlap (2 px each side) the original is exactly as it was.
	const original = await readPixels(photo);
	let changed = 0;
	for (let y = 0; y < HEIGHT; y++) {
		for (let x = 2; x < WIDTH - 2; x++) {
			const i = (y * pixels.width + x + 10) * pixels.channels;
			const j = (y * WIDTH + x) * original.channels;
			if (pixels.data[i] !== original.data[j] || pixels.data[i + 1] !== original.data[j + 1])
				changed++;
		}
	}
	expect(changed).toBe(0);
	// The new sides were painted: not the copy of the photo's edge column they were padded with.
	const at = (image: typeof pixels, x: number, y: number) => [
		...image.data.subarray(
			(y * image.width + x) * image.channels,
			(y * image.width + x) * image.channels + 3,
		),
	];
	expect(at(pixels, 0, 30)).not.toEqual(at(original, 0, 30));
	expect(at(pixels, 84, 30)).not.toEqual(at(original, WIDTH - 1, 30));
});
