/**
 * Input pictures for the workflows and the checks on what they wrote: format, size,
 * and which pixels changed (the mask's black part must come back untouched).
 */
import fs from 'node:fs';
import path from 'node:path';

import sharp from 'sharp';

import { makeColourImage, makeMask, makeTestImage, readPixels } from '../../emulator';

export const IMAGE_SIZE = { width: 96, height: 64 };
/** The white (repainted) part of the mask. */
const MASK_RECT = { left: 24, top: 16, width: 40, height: 24 };
/** A mask that does not match the image: the node must refuse it before calling fal. */
export const WRONG_MASK_SIZE = { width: 48, height: 32 };

export interface Fixtures {
	image: string;
	mask: string;
	wrongMask: string;
	imageBytes: Buffer;
	maskBytes: Buffer;
	/** An empty folder beside the inputs, for what the workflows write. */
	outputDir: string;
}

/** Writes image.png, mask.png and wrong-mask.png into `dir`, and makes `dir`/output. */
export async function writeFixtures(dir: string): Promise<Fixtures> {
	fs.mkdirSync(dir, { recursive: true });
	const imageBytes = await makeTestImage({ ...IMAGE_SIZE, format: 'png', seed: 3 });
	const maskBytes = await makeMask({ ...IMAGE_SIZE, rect: MASK_RECT });
	const wrongMaskBytes = await makeMask({
		...WRONG_MASK_SIZE,
		rect: { left: 8, top: 8, width: 16, height: 16 },
	});
	const fixtures = {
		image: path.join(dir, 'image.png'),
		mask: path.join(dir, 'mask.png'),
		wrongMask: path.join(dir, 'wrong-mask.png'),
		imageBytes,
		maskBytes,
		outputDir: path.join(dir, 'output'),
	};
	fs.mkdirSync(fixtures.outputDir, { recursive: true });
	fs.writeFileSync(fixtures.image, imageBytes);
	fs.writeFileSync(fixtures.mask, maskBytes);
	fs.writeFileSync(fixtures.wrongMask, wrongMaskBytes);
	return fixtures;
}

export interface Comparison {
	format: string | undefined;
	width: number | undefined;
	height: number | undefined;
	/** Pixels outside the mask's white part that differ from the input (must be 0 for PNG). */
	changedOutsideMask: number;
	/** Share of the pixels inside the white part that differ from the input (repainted). */
	changedInsideMask: number;
}

/** Compares an output picture with the input, pixel by pixel, split by the mask. */
export async function compareWithInput(
	output: Buffer,
	input: Buffer,
	rect = MASK_RECT,
): Promise<Comparison> {
	const meta = await sharp(output).metadata();
	const out = await readPixels(output);
	const src = await readPixels(input);
	if (out.width !== src.width || out.height !== src.height) {
		return {
			format: meta.format,
			width: meta.width,
			height: meta.height,
			changedOutsideMask: NaN,
			changedInsideMask: NaN,
		};
	}
	let changedOutside = 0;
	let changedInside = 0;
	let inside = 0;
	for (let y = 0; y < src.height; y++) {
		for (let x = 0; x < src.width; x++) {
			const offset = (y * src.width + x) * src.channels;
			const differs = !out.data
				.subarray(offset, offset + src.channels)
				.equals(src.data.subarray(offset, offset + src.channels));
			const inMask =
				x >= rect.left && x < rect.left + rect.width && y >= rect.top && y < rect.top + rect.height;
			if (inMask) {
				inside++;
				if (differs) changedInside++;
			} else if (differs) {
				changedOutside++;
			}
		}
	}
	return {
		format: meta.format,
		width: meta.width,
		height: meta.height,
		changedOutsideMask: changedOutside,
		changedInsideMask: changedInside / inside,
	};
}

/** The distinct colours (RGB, as `[r, g, b]`) of an output picture inside the mask's white part. */
export async function coloursInsideMask(
	output: Buffer,
	rect = MASK_RECT,
): Promise<Array<[number, number, number]>> {
	const { width, channels, data } = await readPixels(output);
	const seen = new Map<string, [number, number, number]>();
	for (let y = rect.top; y < rect.top + rect.height; y++) {
		for (let x = rect.left; x < rect.left + rect.width; x++) {
			const i = (y * width + x) * channels;
			const rgb: [number, number, number] = [data[i], data[i + 1], data[i + 2]];
			seen.set(rgb.join(), rgb);
		}
	}
	return [...seen.values()];
}

/**
 * Pixels of a mask that disagree with "white exactly inside `rect`": 0 when the mask fal
 * received repaints the same region as ours (however the node re-encoded it).
 */
export async function maskMismatches(mask: Buffer, rect = MASK_RECT): Promise<number> {
	const { width, height, channels, data } = await readPixels(mask);
	let mismatches = 0;
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const white = data[(y * width + x) * channels] > 127;
			const inRect =
				x >= rect.left && x < rect.left + rect.width && y >= rect.top && y < rect.top + rect.height;
			if (white !== inRect) mismatches++;
		}
	}
	return mismatches;
}

/** POSTs image and mask to a Webhook node as multipart fields `data` and `mask` (its binary fields). */
export async function postImageAndMask(
	url: string,
	fixtures: Fixtures,
	timeoutMs = 30_000,
): Promise<Response> {
	const form = new FormData();
	form.append(
		'data',
		new Blob([new Uint8Array(fixtures.imageBytes)], { type: 'image/png' }),
		'image.png',
	);
	form.append(
		'mask',
		new Blob([new Uint8Array(fixtures.maskBytes)], { type: 'image/png' }),
		'mask.png',
	);
	return await fetch(url, { method: 'POST', body: form, signal: AbortSignal.timeout(timeoutMs) });
}

/**
 * The photo of the mask sources that need no mask file (Describe It, Expand Canvas): a
 * blue sky (the top SKY_ROWS rows) over green grass, with a red house on the grass. The
 * emulator's segmentation finds the colour the words name: "the sky" is the blue rows.
 */
const PHOTO_SIZE = { width: 64, height: 48 };
const SKY_ROWS = 20;

/** Writes photo.png into `dir`. */
export async function writePhoto(dir: string): Promise<{ file: string; bytes: Buffer }> {
	fs.mkdirSync(dir, { recursive: true });
	const { width, height } = PHOTO_SIZE;
	const bytes = await makeColourImage({
		width,
		height,
		background: [30, 190, 40],
		regions: [
			{ rect: { left: 0, top: 0, width, height: SKY_ROWS }, colour: [10, 30, 230] },
			{ rect: { left: 8, top: 26, width: 12, height: 12 }, colour: [200, 60, 40] },
		],
	});
	const file = path.join(dir, 'photo.png');
	fs.writeFileSync(file, bytes);
	return { file, bytes };
}

/** The sky's rows, 0 … SKY_ROWS - 1: what Describe It "the sky" may change, and all it may. */
export const SKY_ROW_INDEXES = Array.from({ length: SKY_ROWS }, (_, y) => y);

/** Rows of `png` (RGB) that differ from `reference` anywhere, by index. */
export async function changedRows(png: Buffer, reference: Buffer, offsetX = 0): Promise<number[]> {
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

/**
 * The photo expanded to 16:9, centred, with an overlap of 2 px (expandCanvasWorkflow):
 * 48 high at 16:9 is 85 wide (85.33), 21 columns added, 10 left and 11 right.
 */
export const EXPANDED_16_9 = { width: 85, height: 48, left: 10, overlap: 2 };

/**
 * Checks an Expand Canvas result against the photo: its size; how many pixels of the
 * photo, inside the overlap, differ from it (must be 0); and whether the new sides were
 * painted, i.e. are not the copy of the photo's edge column they were padded with.
 */
async function expandedComparison(wide: Buffer, photo: Buffer, layout = EXPANDED_16_9) {
	const pixels = await readPixels(wide);
	const original = await readPixels(photo);
	let changedInside = 0;
	for (let y = 0; y < original.height; y++) {
		for (let x = layout.overlap; x < original.width - layout.overlap; x++) {
			const i = (y * pixels.width + x + layout.left) * pixels.channels;
			const j = (y * original.width + x) * original.channels;
			if (pixels.data[i] !== original.data[j] || pixels.data[i + 1] !== original.data[j + 1])
				changedInside++;
		}
	}
	const at = (image: typeof pixels, x: number, y: number) => [
		...image.data.subarray(
			(y * image.width + x) * image.channels,
			(y * image.width + x) * image.channels + 3,
		),
	];
	const y = 30;
	return {
		width: pixels.width,
		height: pixels.height,
		changedInside,
		leftPainted: JSON.stringify(at(pixels, 0, y)) !== JSON.stringify(at(original, 0, y)),
		rightPainted:
			JSON.stringify(at(pixels, pixels.width - 1, y)) !==
			JSON.stringify(at(original, original.width - 1, y)),
	};
}

/** The Expand Canvas workflow's file: 16:9, the photo untouched inside the overlap, both new sides painted. */
export async function expectExpandedFile(file: string, photo: Buffer): Promise<void> {
	expect(await expandedComparison(fs.readFileSync(file), photo)).toEqual({
		width: EXPANDED_16_9.width,
		height: EXPANDED_16_9.height,
		changedInside: 0,
		leftPainted: true,
		rightPainted: true,
	});
}
