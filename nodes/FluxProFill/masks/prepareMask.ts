import { binarise } from './binarise';
import { decodeAlpha, decodeLuminance } from './decode';
import { dilateSquare } from './dilate';
import { encodePng } from './encode';
import { nothingToRepaint } from './nothingToRepaint';
import { resolveOptions } from './options';
import { rasteriseBoxes, toPixelBoxes } from './rectangles';
import type { MaskOptions, MaskSpec, PreparedMask, Size } from './types';

/**
 * The mask fal gets, whatever the source: exactly the image's size, white (255) =
 * repaint, black (0) = keep, nothing in between, as a lossless PNG.
 *
 * Order: decode one channel at the image's size (stretching it first if asked) →
 * threshold → invert → grow → encode. An all-black result is an InputProblem (fal
 * would charge for returning the same picture); an all-white one is allowed
 * (repaint everything) and shows as whitePixels === width × height.
 */
export async function prepareMask(
	spec: MaskSpec,
	imageSize: Size,
	options: MaskOptions = {},
): Promise<PreparedMask> {
	const size = checkedSize(imageSize);
	const resolved = resolveOptions(options);
	let plane: Buffer;
	let stats;
	switch (spec.kind) {
		case 'rectangles':
			plane = rasteriseBoxes(toPixelBoxes(spec.rectangles, size), size);
			// The plane holds only 0 and 255: white is exactly 255.
			stats = binarise(plane, 'luminance', 255, resolved.invert);
			break;
		case 'file':
			plane = await decodeLuminance(spec.bytes, size, resolved.fit);
			stats = binarise(plane, 'luminance', resolved.threshold, resolved.invert);
			break;
		case 'alpha':
			plane = await decodeAlpha(spec.image, size, resolved.fit);
			stats = binarise(plane, 'alpha', resolved.threshold, resolved.invert);
			break;
		default:
			throw new Error(`Unknown mask source ${JSON.stringify((spec as { kind?: unknown }).kind)}`);
	}
	if (stats.white === 0) throw nothingToRepaint(spec.kind, stats, resolved);
	const whitePixels =
		resolved.grow > 0 && stats.white < plane.length
			? dilateSquare(plane, size.width, size.height, resolved.grow)
			: stats.white;
	return { png: await encodePng(plane, size), size, whitePixels };
}

function checkedSize({ width, height }: Size): Size {
	if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
		throw new Error(
			`prepareMask needs the image's size in whole pixels, got ${String(width)}×${String(height)}`,
		);
	}
	return { width, height };
}
