import { createHash } from 'node:crypto';

import { InputProblem } from '../errors/InputProblem';
import { LABELS, q } from '../helpers/spec';
import { readImageInfo } from '../images/imageInfo';
import {
	readBinaryPicture,
	type BinaryReader,
	type Picture,
	type PictureSource,
} from '../images/pictures';
import type { ExpandSizing } from './expandCanvas';
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
		source: Exclude<MaskSource, { kind: 'text' | 'expand' }>,
		image: Picture,
		reader: BinaryReader,
		options: MaskOptions,
	): Promise<Picture> {
		// fal fetches a mask URL itself; the node never sees its bytes.
		if (source.kind === 'url') return source;
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
		return pngPicture(await png, size, 'mask.png');
	}
}

/** A PNG the node made, as a picture for fal. */
export function pngPicture(bytes: Buffer, size: Size, fileName: string): Picture {
	return {
		kind: 'bytes',
		bytes,
		info: { format: 'png', mimeType: 'image/png', width: size.width, height: size.height },
		fileName,
	};
}

/** With an image given by URL the mask keeps its own size (fal checks that it matches). */
export function sizeOfMaskFile(spec: MaskSpec): { width: number; height: number } {
	const info = spec.kind === 'file' ? readImageInfo(spec.bytes) : undefined;
	if (info?.ok) return { width: info.info.width, height: info.info.height };
	throw needsImageFile();
}

export function bytesOf(image: Picture, source?: string): Buffer {
	if (image.kind !== 'bytes') throw needsImageFile(source);
	return image.bytes;
}

export function sha256(bytes: Buffer): string {
	return createHash('sha256').update(bytes).digest('hex');
}

export function needsImageFile(source?: string): InputProblem {
	return new InputProblem(
		source
			? `${q(LABELS.maskSource)} ${q(source)} needs the image as a binary field`
			: 'A mask made from the image needs the image as a binary field',
		`Set ${q(LABELS.imageSource)} to ${q(LABELS.sourceBinary)}, or give the mask as a file or URL.`,
	);
}
