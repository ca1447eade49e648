import { InputProblem } from '../errors/InputProblem';
import { DEFAULTS, LABELS, q } from '../helpers/spec';
import type { Picture } from '../images/pictures';
import { expandCanvas, planExpansion, type ExpansionPlan } from './expandCanvas';
import { loadSharp } from './loadSharp';
import {
	bytesOf,
	needsImageFile,
	pngPicture,
	sha256,
	sizeOfMaskFile,
	type MaskSource,
} from './maskPreparer';
import { prepareMask } from './prepareMask';
import type { MaskOptions, MaskSpec } from './types';

/** Expand Canvas: the padded image and its mask, together. */
export interface ExpandedPictures {
	image: Picture;
	mask: Picture;
	plan: ExpansionPlan;
}

/**
 * The Describe It and Expand Canvas steps. Items with the same picture and settings
 * share one result: masks for the execution, as MaskPreparer keeps them; padded images
 * while they are being made.
 */
export class CanvasPreparer {
	private readonly expanded = new Map<string, Promise<ExpandedPictures>>();
	private readonly segmented = new Map<string, Promise<Buffer>>();

	/** The new canvas worked out and checked, without touching pixels: cheap enough for the check pass. */
	plan(source: Extract<MaskSource, { kind: 'expand' }>, image: Picture): ExpansionPlan {
		if (image.kind !== 'bytes') throw needsImageFile(LABELS.sourceExpand);
		return planExpansion(image.info, source.sizing, source.overlap);
	}

	/**
	 * The image on its larger canvas and the mask of the new part. The plan, with its
	 * size limits, is checked first: before anything is uploaded or paid for.
	 */
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
			// Shared only while it is being made: a padded photo is megabytes, and keeping one
			// per item for the whole execution would hold every item's in memory.
			const forget = () => this.expanded.delete(key);
			result.then(forget, forget);
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
