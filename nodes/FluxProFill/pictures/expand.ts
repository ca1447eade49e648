import type { Anchor } from '../common/constants';
import { expand as words } from '../common/messages';
import { encodePng, type Size } from './masks';
import { loadSharp, tooLargeForFal } from './picture';

export interface Sides {
	top: number;
	right: number;
	bottom: number;
	left: number;
}

/** How the canvas grows, as validated from the parameters. */
export type ExpandSizing =
	| ({ mode: 'pixels' } & Sides)
	/** Of the original's width (left, right) or height (top, bottom). */
	| ({ mode: 'percent' } & Sides)
	/** Grow (never crop) to the smallest canvas of this ratio (width ÷ height) that holds the original. */
	| { mode: 'aspectRatio'; ratio: number; text: string; anchor: Anchor };

export interface ExpansionPlan {
	original: Size;
	canvas: Size;
	/** Whole pixels added on each side; the original's top-left corner is at (left, top). */
	added: Sides;
	/** Pixels of the original repainted along each side: 0 where the side did not grow. */
	overlap: Sides;
}

const SIDES = ['top', 'right', 'bottom', 'left'] as const;
type Side = (typeof SIDES)[number];
const across = (side: Side) => (side === 'left' || side === 'right' ? 'width' : 'height');

/**
 * The new canvas, where the original goes in it and what the mask covers: arithmetic on
 * the picture as shown, cheap enough for the check pass, so a canvas fal would refuse is
 * refused before anything is uploaded or paid for.
 */
export function planExpansion(
	original: Size,
	sizing: ExpandSizing,
	overlap: number,
): ExpansionPlan {
	const added =
		sizing.mode === 'aspectRatio' ? byAspectRatio(original, sizing) : bySides(original, sizing);
	const canvas = {
		width: original.width + added.left + added.right,
		height: original.height + added.top + added.bottom,
	};
	if (tooLargeForFal(canvas)) throw words.tooLarge(original, canvas);
	// At most ⌊(side − 1) / 2⌋ of the original per side: opposite bands never meet, and a row
	// and a column of the original always stay for the model to continue from.
	const band = (side: Side) =>
		added[side] > 0 ? Math.min(overlap, Math.floor((original[across(side)] - 1) / 2)) : 0;
	return {
		original,
		canvas,
		added,
		overlap: { top: band('top'), right: band('right'), bottom: band('bottom'), left: band('left') },
	};
}

function bySides(
	original: Size,
	sizing: Extract<ExpandSizing, { mode: 'pixels' | 'percent' }>,
): Sides {
	const percent = sizing.mode === 'percent';
	const added = {} as Sides;
	for (const side of SIDES)
		added[side] = Math.round(
			percent ? (sizing[side] * original[across(side)]) / 100 : sizing[side],
		);
	if (SIDES.every((side) => added[side] === 0)) {
		const described = SIDES.map((side) => `${side} ${sizing[side]}${percent ? '%' : ' px'}`).join(
			', ',
		);
		throw words.addsNothing(described, original, percent);
	}
	return added;
}

/**
 * Only one axis grows: the other keeps the original's length. Lengths are rounded to the
 * nearest pixel, so "1.778" lands on the same size as "16:9". Centred, an odd pixel goes
 * after (right or bottom).
 */
function byAspectRatio(
	original: Size,
	{ ratio, text, anchor }: { ratio: number; text: string; anchor: Anchor },
): Sides {
	const { width, height } = original;
	const extraWidth = width / height < ratio ? Math.round(height * ratio) - width : 0;
	const extraHeight = width / height > ratio ? Math.round(width / ratio) - height : 0;
	if (extraWidth <= 0 && extraHeight <= 0) throw words.alreadyRatio(text, original);
	const place = (start: RegExp, end: RegExp, extra: number): [number, number] => {
		if (extra <= 0) return [0, 0];
		if (start.test(anchor)) return [0, extra];
		if (end.test(anchor)) return [extra, 0];
		return [Math.floor(extra / 2), extra - Math.floor(extra / 2)];
	};
	const [left, right] = place(/^left$|Left$/, /^right$|Right$/, extraWidth);
	const [top, bottom] = place(/^top/, /^bottom/, extraHeight);
	return { top, right, bottom, left };
}

const NUMBER = String.raw`(\d+(?:\.\d*)?|\.\d+)`;
const RATIO = new RegExp(String.raw`^${NUMBER}(?:\s*[:/x×]\s*${NUMBER})?$`, 'i');

/** Width ÷ height from "16:9", "16/9", "16x9" or "1.778". */
export function parseAspectRatio(text: string): number {
	const match = RATIO.exec(text);
	const ratio = match ? Number(match[1]) / Number(match[2] ?? 1) : NaN;
	if (!Number.isFinite(ratio) || ratio <= 0) throw words.badRatio(text);
	return ratio;
}

/**
 * The image on its larger canvas and the mask of the new part plus the overlap bands.
 * The new area repeats the original's edge pixels outward: FLUX still sees the colours and
 * light at each edge under the mask, where a flat fill would pull the new part towards
 * that colour. Transparency is flattened onto white (the model takes RGB); the EXIF
 * orientation is applied, as the plan was made for the picture as shown.
 */
export async function expandCanvas(
	image: Buffer,
	plan: ExpansionPlan,
): Promise<{ image: Buffer; mask: Buffer }> {
	const sharp = await loadSharp();
	const { canvas, added, original, overlap } = plan;
	let result;
	try {
		result = await sharp(image)
			.autoOrient()
			.flatten({ background: '#ffffff' })
			.extend({ ...added, extendWith: 'copy' })
			// sRGB, 8 bits: grey, 16-bit and CMYK inputs all reach fal as plain RGB.
			.toColourspace('srgb')
			.png({ compressionLevel: 6 })
			.toBuffer({ resolveWithObject: true });
	} catch (error) {
		throw words.failed(error instanceof Error ? error.message : String(error));
	}
	const { info } = result;
	if (info.width !== canvas.width || info.height !== canvas.height || info.channels !== 3)
		throw new Error(
			`Expanding the canvas produced ${info.width}×${info.height}×${info.channels} pixels`,
		);
	// White everywhere but the part of the original inside the overlap bands.
	const plane = Buffer.alloc(canvas.width * canvas.height, 255);
	const x0 = added.left + overlap.left;
	const x1 = added.left + original.width - overlap.right;
	for (let y = added.top + overlap.top; y < added.top + original.height - overlap.bottom; y++)
		plane.fill(0, y * canvas.width + x0, y * canvas.width + x1);
	return { image: result.data, mask: await encodePng(sharp, plane, canvas) };
}
