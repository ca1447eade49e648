import { createHash } from 'node:crypto';

import { InputProblem } from '../errors/InputProblem';
import { DEFAULTS, LABELS, q } from '../helpers/spec';
import { readImageInfo } from '../images/imageInfo';
import {
	readBinaryPicture,
	type BinaryReader,
	type Picture,
	type PictureSource,
} from '../images/pictures';
import { expandCanvas, planExpansion, type ExpandSizing, type ExpansionPlan } from './expandCanvas';
import { loadSharp } from './loadSharp';
import { prepareMask } from './prepareMask';
import type { MaskOptions, MaskSpec, Rectangle, Size } from './types';

/**
 * Where the mask comes from: a file or link, the image's own transparency, rectangles,
 * words (fal's segmentation finds them), or a larger canvas around the image.
 */
export type MaskSource =
	| PictureSource
	| { kind: 'alpha' }
	| { kind: 'rectangles'; rectangles: Rectangle[] }
	| { kind: 'text'; words: string; negative?: string }
	| { kind: 'expand'; sizing: ExpandSizing; overlap: number };

/**
 * Turns an item's mask source into the mask fal gets: exactly the image's size, pure
 * black and white, PNG. Preparing a 4 MP mask takes tens of milliseconds, so results
 * are kept for the execution: one mask for 50 items is prepared once (and, being the
 * same bytes, uploaded once).
 */
export class MaskPreparer {
	private readonly prepared = new Map<string, Promise<Buffer>>();

	async maskFor(
		source: MaskSource,
		image: Picture,
		reader: BinaryReader,
		options: MaskOptions,
	): Promise<Picture> {
		// fal fetches a mask URL itself; the node never sees its bytes.
		if (source.kind === 'url') return source;
		if (source.kind === 'text' || source.kind === 'expand') {
			throw new Error(`The ${source.kind} mask source is prepared by its own method`);
		}
		let spec: MaskSpec;
		let content: string;
		if (source.kind === 'binary') {
			const file = await readBinaryPicture('mask', source.field, reader);
			spec = { kind: 'file', bytes: file.bytes };
			content = `file:${sha256(file.bytes)}`;
		} else if (source.kind === 'alpha') {
			spec = { kind: 'alpha', image: bytesOf(image) };
			content = `alpha:${sha256(bytesOf(image))}`;
		} else {
			spec = { kind: 'rectangles', rectangles: source.rectangles };
			content = `rectangles:${JSON.stringify(source.rectangles)}`;
		}
		const size = image.kind === 'bytes' ? image.info : sizeOfMaskFile(spec);
		const key = `${content}|${size.width}x${size.height}|${JSON.stringify(options)}`;
		let png = this.prepared.get(key);
		if (!png) {
			png = prepareMask(spec, size, options).then((mask) => mask.png);
			this.prepared.set(key, png);
			png.catch(() => this.prepared.delete(key));
		}
		return {
			kind: 'bytes',
			bytes: await png,
			info: { format: 'png', mimeType: 'image/png', width: size.width, height: size.height },
			fileName: 'mask.png',
		};
	}
}

/** Expand Canvas: the padded image and its mask, together. */
export interface ExpandedPictures {
	image: Picture;
	mask: Picture;
	plan: ExpansionPlan;
}

/**
 * The Describe It and Expand Canvas steps, kept for the execution like the masks
 * above: items with the same picture and settings share one result.
 */
export class CanvasPreparer {
	private readonly expanded = new Map<string, Promise<ExpandedPictures>>();
	private readonly segmented = new Map<string, Promise<Buffer>>();

	/**
	 * The image on its larger canvas and the mask of the new part. The plan, with its
	 * size limits, is checked first: before anything is uploaded or paid for.
	 */
	/** The new canvas worked out and checked, without touching pixels: cheap enough for the check pass. */
	plan(source: Extract<MaskSource, { kind: 'expand' }>, image: Picture): ExpansionPlan {
		if (image.kind !== 'bytes') throw needsImageFile(LABELS.sourceExpand);
		return planExpansion(image.info, source.sizing, source.overlap);
	}

	async expand(
		source: Extract<MaskSource, { kind: 'expand' }>,
		image: Picture,
	): Promise<ExpandedPictures> {
		const plan = this.plan(source, image);
		const original = bytesOf(image, LABELS.sourceExpand);
		const key = `${sha256(original)}|${JSON.stringify(plan)}`;
		let result = this.expanded.get(key);
		if (!result) {
			result = expandCanvas(original, plan).then((canvas) => ({
				image: pngPicture(canvas.image, canvas.size, 'expanded.png'),
				mask: pngPicture(canvas.mask, canvas.size, 'mask.png'),
				plan,
			}));
			this.expanded.set(key, result);
			result.catch(() => this.expanded.delete(key));
		}
		return await result;
	}

	/**
	 * The mask fal's segmentation found, prepared like a mask file (threshold, invert,
	 * grow; stretched to the image if fal's differs). One that found nothing fails here,
	 * before the fill is paid for.
	 */
	async fromSegmentation(
		found: Buffer,
		image: Picture,
		source: Extract<MaskSource, { kind: 'text' }>,
		options: MaskOptions,
	): Promise<Picture> {
		const size =
			image.kind === 'bytes' ? image.info : sizeOfMaskFile({ kind: 'file', bytes: found });
		const key = `${sha256(found)}|${size.width}x${size.height}|${JSON.stringify(options)}`;
		let png = this.segmented.get(key);
		if (!png) {
			png = (async () => {
				const sharp = await loadSharp();
				const { channels } = await sharp(found).greyscale().stats();
				if ((channels[0]?.max ?? 0) < DEFAULTS.maskThreshold) throw nothingFound(source);
				const spec: MaskSpec = { kind: 'file', bytes: found };
				return (await prepareMask(spec, size, { ...options, fit: 'stretch' })).png;
			})();
			this.segmented.set(key, png);
			png.catch(() => this.segmented.delete(key));
		}
		return pngPicture(await png, size, 'mask.png');
	}
}

function nothingFound(source: Extract<MaskSource, { kind: 'text' }>): InputProblem {
	const except = source.negative ? ` (except "${source.negative}")` : '';
	return new InputProblem(
		`fal found nothing in the image matching "${source.words}"${except}: there is nothing to repaint`,
		`Describe it in other words in ${q(LABELS.maskPrompt)} — name what it looks like or a larger part of the picture — or describe what to keep and turn on ${q(LABELS.invertMask)}. The fill was not sent, so only the segmentation was charged.`,
	);
}

function pngPicture(bytes: Buffer, size: Size, fileName: string): Picture {
	return {
		kind: 'bytes',
		bytes,
		info: { format: 'png', mimeType: 'image/png', width: size.width, height: size.height },
		fileName,
	};
}

/** With an image given by URL the mask keeps its own size (fal checks that it matches). */
function sizeOfMaskFile(spec: MaskSpec): { width: number; height: number } {
	const info = spec.kind === 'file' ? readImageInfo(spec.bytes) : undefined;
	if (info?.ok) return { width: info.info.width, height: info.info.height };
	throw needsImageFile();
}

function bytesOf(image: Picture, source?: string): Buffer {
	if (image.kind !== 'bytes') throw needsImageFile(source);
	return image.bytes;
}

function sha256(bytes: Buffer): string {
	return createHash('sha256').update(bytes).digest('hex');
}

function needsImageFile(source?: string): InputProblem {
	return new InputProblem(
		source
			? `${q(LABELS.maskSource)} ${q(source)} needs the image as a binary field`
			: 'A mask made from the image needs the image as a binary field',
		`Set ${q(LABELS.imageSource)} to ${q(LABELS.sourceBinary)}, or give the mask as a file or URL.`,
	);
}
