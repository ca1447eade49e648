import type { Metadata } from 'sharp';

import { InputProblem } from '../errors/InputProblem';
import { describeSize, readImageInfo, type ImageInfo } from '../images/imageInfo';
import { LABELS, q } from '../helpers/spec';
import { loadSharp, type SharpFactory } from './loadSharp';
import type { Size } from './types';

/** Which file a message is about. */
type What = 'mask' | 'image';

const FORMAT_NAMES: Record<ImageInfo['format'], string> = {
	png: 'PNG',
	jpeg: 'JPEG',
	webp: 'WebP',
};

/**
 * The mask file's luminance, one byte per pixel, at the image's size. Transparent parts
 * count as black (kept): the file is flattened onto black first. Colour becomes grey
 * with libvips' sRGB → B_W conversion.
 */
export async function decodeLuminance(
	bytes: Buffer,
	image: Size,
	fit: 'none' | 'stretch',
): Promise<Buffer> {
	const sharp = await loadSharp();
	const { metadata } = await open(sharp, bytes, 'mask');
	const resize = resizeFor('mask', metadata, image, fit);
	let pipeline = sharp(bytes);
	if (metadata.hasAlpha) pipeline = pipeline.flatten({ background: '#000000' });
	pipeline = pipeline.greyscale();
	if (resize) pipeline = pipeline.resize(resize);
	return toPlane(pipeline, image, 'mask');
}

/** The alpha channel of a PNG or WebP, one byte per pixel (0 transparent), at the image's size. */
export async function decodeAlpha(
	bytes: Buffer,
	image: Size,
	fit: 'none' | 'stretch',
): Promise<Buffer> {
	const sharp = await loadSharp();
	const { info, metadata } = await open(sharp, bytes, 'image');
	if (!metadata.hasAlpha) {
		const format = FORMAT_NAMES[info.format];
		throw new InputProblem(
			info.format === 'jpeg'
				? 'The image has no alpha channel: it is a JPEG, and JPEG cannot store transparency'
				: `The image has no alpha channel: it is a ${format} without transparency`,
			`${q(LABELS.maskSource)} ${q(LABELS.sourceAlpha)} repaints the transparent part of a PNG or WebP image: erase the part to repaint in an image editor and save as PNG or WebP. Or set ${q(LABELS.maskSource)} to ${q(LABELS.sourceBinary)} with a black-and-white mask, or to ${q(LABELS.sourceRectangles)}.`,
		);
	}
	const resize = resizeFor('image', metadata, image, fit);
	// sharp converts to sRGB before extracting, so grey+alpha and palette PNGs are RGBA by
	// then and 'alpha' (band 3) is right for all; a numeric index of the file's bands is not.
	let pipeline = sharp(bytes).extractChannel('alpha');
	if (resize) pipeline = pipeline.resize(resize);
	return toPlane(pipeline, image, 'image');
}

/** Header check (no SVG, GIF or other formats reach the decoder), then sharp's metadata. */
async function open(
	sharp: SharpFactory,
	bytes: Buffer,
	what: What,
): Promise<{ info: ImageInfo; metadata: Metadata }> {
	const header = readImageInfo(bytes);
	if (!header.ok) {
		throw new InputProblem(
			`The ${what} cannot be used: ${header.reason}`,
			`Masks are read from PNG, JPEG and WebP files. Check that the binary field holds the ${what} file and that the file is not damaged.`,
		);
	}
	try {
		return { info: header.info, metadata: await sharp(bytes).metadata() };
	} catch (error) {
		throw undecodable(what, error);
	}
}

/** The resize to apply, or undefined when the sizes already match. */
function resizeFor(what: What, metadata: Metadata, image: Size, fit: 'none' | 'stretch') {
	const size = { width: metadata.width ?? 0, height: metadata.height ?? 0 };
	if (size.width === image.width && size.height === image.height) return undefined;
	if (fit === 'none') {
		const subject = what === 'mask' ? 'The mask' : 'The image with the transparency';
		throw new InputProblem(
			`${subject} is ${describeSize(size)} pixels but the image is ${describeSize(image)}`,
			`fal needs a mask of exactly the image's width and height. Turn on ${q(LABELS.fitMask)} to stretch the mask to the image's size, or export the mask from the same canvas as the image.`,
		);
	}
	// Nearest neighbour: a black-and-white mask stays black and white, each pixel of the
	// image takes the mask pixel at the same relative position; thresholding follows.
	return { width: image.width, height: image.height, fit: 'fill', kernel: 'nearest' } as const;
}

async function toPlane(
	pipeline: ReturnType<SharpFactory>,
	image: Size,
	what: What,
): Promise<Buffer> {
	let result: { data: Buffer; info: { width: number; height: number; channels: number } };
	try {
		result = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
	} catch (error) {
		throw undecodable(what, error);
	}
	const { data, info } = result;
	if (info.channels !== 1 || info.width !== image.width || info.height !== image.height) {
		throw new Error(
			`Mask preparation produced ${info.width}×${info.height}×${info.channels} pixels instead of ${describeSize(image)}×1`,
		);
	}
	return data;
}

function undecodable(what: What, error: unknown): InputProblem {
	const reason = error instanceof Error ? error.message : String(error);
	return new InputProblem(
		`The ${what} file cannot be decoded: ${reason}`,
		`The file may be damaged or cut short. Open it in an image viewer to check, and save it again as PNG, JPEG or WebP.`,
	);
}
