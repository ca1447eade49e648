import { InputProblem } from '../errors/InputProblem';
import {
	EXPAND_ANCHORS,
	EXPAND_DEFAULTS,
	EXPAND_LABELS,
	EXPAND_LIMITS,
	type Anchor,
} from '../helpers/spec';
import { q } from '../helpers/spec';
import { describeSize } from '../images/imageInfo';
import { MAX_INPUT_PIXELS, MAX_INPUT_SIDE } from '../images/pictures';
import { encodePng } from './encode';
import { loadSharp } from './loadSharp';
import type { Size } from './types';

export interface Sides {
	top: number;
	right: number;
	bottom: number;
	left: number;
}

export type ExpandSizing =
	| ({ mode: 'pixels' } & Sides)
	/** Of the original's width (left, right) or height (top, bottom). */
	| ({ mode: 'percent' } & Sides)
	/** Grow (never crop) to the smallest canvas of this ratio that holds the original. */
	| { mode: 'aspectRatio'; ratio: string; anchor: Anchor };

export interface ExpansionPlan {
	original: Size;
	canvas: Size;
	/** Where the original's top-left corner goes in the canvas. */
	offset: { left: number; top: number };
	/** Whole pixels added on each side. */
	added: Sides;
	/** The overlap asked for, validated (before clamping). */
	overlap: number;
	/**
	 * Pixels of the original repainted along each side: 0 where the side did not grow,
	 * else `overlap` clamped as `clampOverlap` says.
	 */
	overlapBySide: Sides;
}

export interface ExpandedCanvas {
	/** Opaque 8-bit sRGB PNG of `size`, the original at the plan's offset. */
	image: Buffer;
	/** 8-bit greyscale PNG of `size`: 255 = repaint (added area and overlap), 0 = keep. */
	mask: Buffer;
	size: Size;
	whitePixels: number;
}

const SIDES = ['top', 'right', 'bottom', 'left'] as const;
type Side = (typeof SIDES)[number];

/**
 * The new canvas, where the original goes in it and what the mask covers. Pure
 * arithmetic, so the node can refuse a too large canvas before anything is uploaded
 * or paid for.
 */
export function planExpansion(
	original: Size,
	sizing: ExpandSizing,
	overlap: number,
): ExpansionPlan {
	const size = checkedSize(original);
	const checkedOverlap = checkOverlap(overlap);
	const added = addedPixels(size, sizing);
	const canvas = {
		width: size.width + added.left + added.right,
		height: size.height + added.top + added.bottom,
	};
	checkCanvas(size, canvas);
	const overlapBySide = {} as Sides;
	for (const side of SIDES) {
		overlapBySide[side] = added[side] > 0 ? clampOverlap(checkedOverlap, size, side) : 0;
	}
	return {
		original: size,
		canvas,
		offset: { left: added.left, top: added.top },
		added,
		overlap: checkedOverlap,
		overlapBySide,
	};
}

/**
 * At most ⌊(side − 1) / 2⌋ pixels of the original per side, the original's width for
 * left and right, its height for top and bottom. So the bands of opposite sides never
 * meet and at least one row and column of the original stay unmasked: the model
 * always keeps something to continue from, even when all four sides grow.
 */
function clampOverlap(overlap: number, original: Size, side: Side): number {
	return Math.min(overlap, Math.floor((original[across(side)] - 1) / 2));
}

function addedPixels(original: Size, sizing: ExpandSizing): Sides {
	switch (sizing.mode) {
		case 'pixels':
		case 'percent':
			return bySides(original, sizing);
		case 'aspectRatio':
			return byAspectRatio(original, sizing.ratio, sizing.anchor);
		default:
			throw new Error(
				`Unknown expansion mode ${JSON.stringify((sizing as { mode?: unknown }).mode)}`,
			);
	}
}

function bySides(original: Size, sizing: Extract<ExpandSizing, { mode: 'pixels' | 'percent' }>) {
	const percent = sizing.mode === 'percent';
	const label = percent ? EXPAND_LABELS.percent : EXPAND_LABELS.pixels;
	const added = {} as Sides;
	for (const side of SIDES) {
		const value: unknown = sizing[side];
		if (typeof value !== 'number' || !Number.isFinite(value)) {
			throw new InputProblem(
				`No valid number of ${percent ? 'percent' : 'pixels'} to add at the ${side}: ${JSON.stringify(value) ?? 'undefined'}`,
				`Give each side under ${q(label)} as a number, 0 for a side that should not grow.`,
			);
		}
		if (value < 0) {
			throw new InputProblem(
				`Cannot add ${value}${percent ? '%' : ' pixels'} at the ${side}: the canvas only grows`,
				`Give 0 or more under ${q(label)}. To cut the image, crop it first (for example with the "Edit Image" node).`,
			);
		}
		if (percent && value > EXPAND_LIMITS.percent.max) {
			throw new InputProblem(
				`Cannot add ${value}% at the ${side}: at most ${EXPAND_LIMITS.percent.max}% a side`,
				`Percentages are of the original's ${across(side)}. Further out, the model has too little of the picture to go on; expand in several steps instead.`,
			);
		}
		added[side] = Math.round(percent ? (value * original[across(side)]) / 100 : value);
	}
	if (SIDES.every((side) => added[side] === 0)) {
		throw new InputProblem(
			`Expanding by ${describeSides(sizing, percent ? '%' : ' px')} would add nothing to the ${describeSize(original)} image`,
			`Give at least one side under ${q(label)} a value that adds a whole pixel or more${percent ? ` (percent of the ${describeSize(original)} image's width or height)` : ''}.`,
		);
	}
	return added;
}

function across(side: Side): 'width' | 'height' {
	return side === 'left' || side === 'right' ? 'width' : 'height';
}

function describeSides(sides: Sides, unit: string): string {
	return SIDES.map((side) => `${side} ${sides[side]}${unit}`).join(', ');
}

/**
 * Only one axis grows: the other keeps the original's length. Lengths are rounded to the
 * nearest pixel, so a ratio given as a rounded decimal ("1.778") lands on the same size
 * as "16:9".
 */
function byAspectRatio(original: Size, text: string, anchor: Anchor): Sides {
	const ratio = parseAspectRatio(text);
	if (!EXPAND_ANCHORS.includes(anchor)) {
		throw new InputProblem(
			`Unknown position of the original: ${JSON.stringify(anchor) ?? 'undefined'}`,
			`${q(EXPAND_LABELS.anchor)} must be one of ${EXPAND_ANCHORS.map((a) => `"${a}"`).join(', ')}.`,
		);
	}
	const { width, height } = original;
	const wider = Math.round(height * ratio);
	const taller = Math.round(width / ratio);
	const extraWidth = width / height < ratio ? wider - width : 0;
	const extraHeight = width / height > ratio ? taller - height : 0;
	if (extraWidth <= 0 && extraHeight <= 0) {
		throw new InputProblem(
			`The image is already ${String(text).trim()} (${describeSize(original)} pixels), so there is nothing to add`,
			`Choose another ${q(EXPAND_LABELS.aspectRatio)}, or set ${q(EXPAND_LABELS.mode)} to pixels or percent.`,
		);
	}
	const [left, right] = split(extraWidth, horizontal(anchor));
	const [top, bottom] = split(extraHeight, vertical(anchor));
	return { top, right, bottom, left };
}

type Place = 'start' | 'middle' | 'end';

function horizontal(anchor: Anchor): Place {
	if (anchor === 'left' || anchor === 'topLeft' || anchor === 'bottomLeft') return 'start';
	if (anchor === 'right' || anchor === 'topRight' || anchor === 'bottomRight') return 'end';
	return 'middle';
}

function vertical(anchor: Anchor): Place {
	if (anchor === 'top' || anchor === 'topLeft' || anchor === 'topRight') return 'start';
	if (anchor === 'bottom' || anchor === 'bottomLeft' || anchor === 'bottomRight') return 'end';
	return 'middle';
}

/** [before, after] the original. Centred, an odd pixel goes after (right or bottom). */
function split(extra: number, place: Place): [number, number] {
	if (extra <= 0) return [0, 0];
	if (place === 'start') return [0, extra];
	if (place === 'end') return [extra, 0];
	const before = Math.floor(extra / 2);
	return [before, extra - before];
}

const NUMBER = String.raw`(\d+(?:\.\d*)?|\.\d+)`;
const RATIO = new RegExp(String.raw`^${NUMBER}(?:\s*[:/x×]\s*${NUMBER})?$`, 'i');

/** Width ÷ height from "16:9", "16/9", "16x9" or "1.778". */
export function parseAspectRatio(text: string): number {
	const trimmed = String(text ?? '').trim();
	const match = RATIO.exec(trimmed);
	const ratio = match ? Number(match[1]) / Number(match[2] ?? 1) : NaN;
	if (!Number.isFinite(ratio) || ratio <= 0) {
		throw new InputProblem(
			`${q(EXPAND_LABELS.aspectRatio)} "${trimmed}" is not an aspect ratio`,
			`Write it as width:height with positive numbers, for example "16:9" or "2.39:1", or as one number, width ÷ height (for example "1.5").`,
		);
	}
	return ratio;
}

function checkOverlap(overlap: number): number {
	const { max } = EXPAND_LIMITS.overlap;
	if (!Number.isInteger(overlap) || overlap < 0 || overlap > max) {
		throw new InputProblem(
			`${q(EXPAND_LABELS.overlap)} is ${JSON.stringify(overlap) ?? 'undefined'}, not a whole number from 0 to ${max}`,
			`The overlap is how many pixels of the original, along each side that grows, are repainted so the new part blends in. ${EXPAND_DEFAULTS.overlap} suits most pictures; 0 keeps the original untouched.`,
		);
	}
	return overlap;
}

/** The same limits as an input image: the expanded one is what fal gets. */
function checkCanvas(original: Size, canvas: Size): void {
	const pixels = canvas.width * canvas.height;
	if (
		canvas.width <= MAX_INPUT_SIDE &&
		canvas.height <= MAX_INPUT_SIDE &&
		pixels <= MAX_INPUT_PIXELS
	) {
		return;
	}
	throw new InputProblem(
		`Expanding the ${describeSize(original)} image would make it ${describeSize(canvas)} pixels (${megapixels(pixels)} megapixels), more than the ${MAX_INPUT_SIDE} pixels a side and ${MAX_INPUT_PIXELS / 1_000_000} megapixels fal accepts`,
		`Add less, or scale the image down first (for example with the "Edit Image" node) and expand the smaller one.`,
	);
}

/** Rounded up, so a canvas just over the limit never reads as exactly the limit. */
function megapixels(pixels: number): string {
	return String(Math.ceil(pixels / 10_000) / 100);
}

function checkedSize({ width, height }: Size): Size {
	if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
		throw new Error(
			`planExpansion needs the image's size in whole pixels, got ${String(width)}×${String(height)}`,
		);
	}
	return { width, height };
}

/** "1024×576 → 1366×768 (+171 left, +171 right)", for the node's output and messages. */
export function describeExpansion(plan: ExpansionPlan): string {
	const grown = (['left', 'right', 'top', 'bottom'] as const)
		.filter((side) => plan.added[side] > 0)
		.map((side) => `+${plan.added[side]} ${side}`);
	return `${describeSize(plan.original)} → ${describeSize(plan.canvas)} (${grown.join(', ')})`;
}

/**
 * The expanded image and its mask, as fal gets them.
 *
 * The new area repeats the original's edge pixels outward ('copy'): FLUX Fill still
 * sees the colours and light at each edge under the mask, where a flat fill would
 * pull the new part towards that colour.
 *
 * Transparency is flattened onto white first: fal's model takes RGB, and a transparent
 * pixel's colour is whatever the editor left there (often black), which dropping the
 * alpha channel would show. An opaque image is not changed by it.
 */
export async function expandCanvas(image: Buffer, plan: ExpansionPlan): Promise<ExpandedCanvas> {
	const sharp = await loadSharp();
	const { canvas, added, original } = plan;
	let result: { data: Buffer; info: { width: number; height: number; channels: number } };
	let stored: { width?: number; height?: number };
	try {
		stored = await sharp(image).metadata();
		result = await sharp(image)
			.flatten({ background: '#ffffff' })
			.extend({ ...added, extendWith: 'copy' })
			// sRGB, 8 bits: grey, 16-bit and CMYK inputs all reach fal as plain RGB.
			.toColourspace('srgb')
			.png({ compressionLevel: 6 })
			.toBuffer({ resolveWithObject: true });
	} catch (error) {
		const reason = error instanceof Error ? error.message : String(error);
		throw new InputProblem(
			`The image cannot be expanded: ${reason}`,
			'The file may be damaged or cut short. Open it in an image viewer to check, and save it again as PNG, JPEG or WebP.',
		);
	}
	// Planned from another file's size, the offset and mask would not line up: a bug.
	if (stored.width !== original.width || stored.height !== original.height) {
		throw new Error(
			`The image is ${String(stored.width)}×${String(stored.height)} pixels but the expansion was planned for ${describeSize(original)}`,
		);
	}
	const { info } = result;
	if (info.width !== canvas.width || info.height !== canvas.height || info.channels !== 3) {
		throw new Error(
			`Expanding the canvas produced ${info.width}×${info.height}×${info.channels} pixels instead of ${describeSize(canvas)}×3`,
		);
	}
	const { plane, whitePixels } = maskPlane(plan);
	return { image: result.data, mask: await encodePng(plane, canvas), size: canvas, whitePixels };
}

/** White everywhere except the part of the original outside the overlap bands. */
function maskPlane(plan: ExpansionPlan): { plane: Buffer; whitePixels: number } {
	const { canvas, offset, original, overlapBySide: band } = plan;
	const x0 = offset.left + band.left;
	const x1 = offset.left + original.width - band.right;
	const y0 = offset.top + band.top;
	const y1 = offset.top + original.height - band.bottom;
	const plane = Buffer.alloc(canvas.width * canvas.height, 255);
	for (let y = y0; y < y1; y++) plane.fill(0, y * canvas.width + x0, y * canvas.width + x1);
	return { plane, whitePixels: plane.length - (x1 - x0) * (y1 - y0) };
}
