import { DEFAULTS } from '../common/constants';
import { masks as words, pictures as pictureWords } from '../common/messages';
import { dilateSquare } from './dilate';
import { loadSharp, readImageInfo, type Sharp } from './picture';

export interface Size {
	width: number;
	height: number;
}

/** A rectangle to repaint; with unit 'percent' its values are of the image's width or height. */
export interface Rectangle {
	left: number;
	top: number;
	width: number;
	height: number;
	unit: 'px' | 'percent';
}

export interface MaskOptions {
	/** Swap black and white after thresholding (and before growing). */
	invert: boolean;
	/** Stretch a mask of another size to the image instead of refusing it. */
	fit: boolean;
	/** Mask files: luminance ≥ threshold is repainted. Alpha: alpha < threshold is repainted. */
	threshold: number;
	/** Grow the white part by this many pixels in every direction (square kernel). */
	grow: number;
}

export type MaskSpec =
	/** A PNG, JPEG or WebP mask: may be grey, coloured, anti-aliased or of another size. */
	| { kind: 'file'; bytes: Buffer }
	/** The mask fal's segmentation found (Describe It): stretched to the image if it differs. */
	| { kind: 'segmentation'; bytes: Buffer; words: string; negative?: string }
	/** The transparent part of a PNG or WebP image. */
	| { kind: 'alpha'; image: Buffer }
	| { kind: 'rectangles'; rectangles: Rectangle[] };

/**
 * The mask fal gets, whatever the source: exactly the image's size as shown (EXIF
 * orientation applied, as to the image), white (255) = repaint, black (0) = keep, nothing
 * in between, as a lossless PNG. Decode one channel → threshold → invert → grow → encode.
 * An all-black result is an InputProblem: fal would charge for returning the same picture.
 */
export async function prepareMask(
	spec: MaskSpec,
	size: Size,
	options: MaskOptions,
): Promise<Buffer> {
	const sharp = await loadSharp();
	let plane: Buffer;
	let stats: Stats;
	if (spec.kind === 'rectangles') {
		plane = rasterise(spec.rectangles, size);
		stats = binarise(plane, (value) => value === 255, options.invert);
	} else if (spec.kind === 'alpha') {
		plane = await decode(sharp, spec.image, size, options.fit, 'alpha');
		stats = binarise(plane, (value) => value < options.threshold, options.invert);
	} else {
		plane = await decode(
			sharp,
			spec.bytes,
			size,
			options.fit || spec.kind === 'segmentation',
			'luminance',
		);
		if (spec.kind === 'segmentation' && !plane.some((value) => value >= DEFAULTS.maskThreshold))
			throw words.nothingFound(spec.words, spec.negative);
		stats = binarise(plane, (value) => value >= options.threshold, options.invert);
	}
	if (stats.white === 0)
		throw words.nothingToRepaint(spec.kind === 'segmentation' ? 'file' : spec.kind, stats, options);
	if (options.grow > 0 && stats.white < plane.length)
		dilateSquare(plane, size.width, size.height, options.grow);
	return await encodePng(sharp, plane, size);
}

/** Lossless 8-bit greyscale PNG of a one-byte-per-pixel plane. */
export async function encodePng(sharp: Sharp, plane: Buffer, size: Size): Promise<Buffer> {
	return await sharp(plane, { raw: { ...size, channels: 1 } })
		.toColourspace('b-w')
		.png({ compressionLevel: 6 })
		.toBuffer();
}

/**
 * One channel, one byte per pixel, at the image's size: the luminance of a mask file
 * (transparent parts flattened onto black, i.e. kept), or the alpha channel of an image.
 */
async function decode(
	sharp: Sharp,
	bytes: Buffer,
	image: Size,
	fit: boolean,
	channel: 'luminance' | 'alpha',
) {
	const header = readImageInfo(bytes);
	const what = channel === 'alpha' ? 'image' : 'mask';
	if (!header.ok) throw pictureWords.undecodable(what, header.reason);
	try {
		let pipeline = sharp(bytes).autoOrient();
		const metadata = await pipeline.metadata();
		if (channel === 'alpha' && !metadata.hasAlpha)
			throw pictureWords.noAlpha({ png: 'PNG', jpeg: 'JPEG', webp: 'WebP' }[header.info.format]);
		const found = header.info;
		if (found.width !== image.width || found.height !== image.height) {
			if (!fit) throw pictureWords.sizesDiffer(found, image, channel === 'alpha');
		}
		if (channel === 'alpha') pipeline = pipeline.extractChannel('alpha');
		else
			pipeline = (
				metadata.hasAlpha ? pipeline.flatten({ background: '#000000' }) : pipeline
			).greyscale();
		// Nearest neighbour keeps a black-and-white mask black and white; thresholding follows.
		if (found.width !== image.width || found.height !== image.height)
			pipeline = pipeline.resize({ ...image, fit: 'fill', kernel: 'nearest' });
		const { data, info } = await pipeline
			.raw({ depth: 'uchar' })
			.toBuffer({ resolveWithObject: true });
		if (info.channels !== 1 || info.width !== image.width || info.height !== image.height)
			throw new Error(
				`Mask preparation produced ${info.width}×${info.height}×${info.channels} pixels`,
			);
		return data;
	} catch (error) {
		if (error instanceof Error && error.name === 'InputProblem') throw error;
		throw pictureWords.undecodable(what, error instanceof Error ? error.message : String(error));
	}
}

interface Stats {
	white: number;
	/** Lowest and highest value before binarising, for the messages. */
	min: number;
	max: number;
}

/** Makes the plane 0/255 in place through a 256-entry table: `repaint` (swapped by invert) is white. */
function binarise(plane: Uint8Array, repaint: (value: number) => boolean, invert: boolean): Stats {
	const table = new Uint8Array(256);
	for (let value = 0; value < 256; value++) table[value] = repaint(value) !== invert ? 255 : 0;
	let white = 0;
	let min = 255;
	let max = 0;
	for (let i = 0; i < plane.length; i++) {
		const value = plane[i];
		if (value < min) min = value;
		if (value > max) max = value;
		plane[i] = table[value];
		white += table[value] & 1;
	}
	return { white, min, max };
}

/**
 * One byte per pixel, 255 inside any rectangle. Edges (not widths) are rounded, so
 * rectangles that touch in percent touch in pixels; one narrower than a pixel covers one.
 * A rectangle entirely outside the image is refused; parts outside are cut off.
 */
function rasterise(rectangles: Rectangle[], image: Size): Buffer {
	if (rectangles.length === 0) throw words.noRectangles();
	const plane = Buffer.alloc(image.width * image.height);
	rectangles.forEach((rectangle, index) => {
		const { left, top, width, height, unit } = rectangle;
		const sx = unit === 'percent' ? image.width / 100 : 1;
		const sy = unit === 'percent' ? image.height / 100 : 1;
		const [x0, x1] = edges(left * sx, (left + width) * sx);
		const [y0, y1] = edges(top * sy, (top + height) * sy);
		if (x1 <= 0 || y1 <= 0 || x0 >= image.width || y0 >= image.height) {
			const u = unit === 'percent' ? '%' : ' px';
			const described = `left ${left}${u}, top ${top}${u}, width ${width}${u}, height ${height}${u}`;
			throw words.rectangleOutside(index + 1, described, image);
		}
		for (let y = Math.max(0, y0); y < Math.min(image.height, y1); y++)
			plane.fill(
				255,
				y * image.width + Math.max(0, x0),
				y * image.width + Math.min(image.width, x1),
			);
	});
	return plane;
}

function edges(start: number, end: number): [number, number] {
	const from = Math.round(start);
	return [from, Math.max(Math.round(end), from + 1)];
}
