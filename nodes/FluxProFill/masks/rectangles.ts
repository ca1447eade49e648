import { InputProblem } from '../errors/InputProblem';
import { describeSize } from '../images/imageInfo';
import { LABELS, q } from '../helpers/spec';
import type { Rectangle, Size } from './types';

/** A rectangle in whole pixels, clamped to the image: columns x0…x1-1, rows y0…y1-1. */
export interface PixelBox {
	x0: number;
	y0: number;
	x1: number;
	y1: number;
}

const FIELDS = ['left', 'top', 'width', 'height'] as const;

/**
 * Validates the rectangles and converts them to pixel boxes inside the image.
 * Edges (not widths) are rounded, so rectangles that touch in percent touch in pixels,
 * with neither gap nor overlap; a rectangle narrower than a pixel still covers one.
 */
export function toPixelBoxes(rectangles: readonly Rectangle[], image: Size): PixelBox[] {
	if (!Array.isArray(rectangles) || rectangles.length === 0) {
		throw new InputProblem(
			'No rectangles to repaint were given',
			`Add at least one rectangle under ${q(LABELS.maskRectangles)} (left, top, width and height, in pixels or percent of the image), or choose another ${q(LABELS.maskSource)}.`,
		);
	}
	return rectangles.map((rectangle, index) => toPixelBox(rectangle, index + 1, image));
}

function toPixelBox(rectangle: Rectangle, number: number, image: Size): PixelBox {
	const name = `Rectangle ${number}`;
	const { unit } = rectangle;
	if (unit !== 'px' && unit !== 'percent') {
		throw new InputProblem(
			`${name} has unit "${String(unit)}"`,
			'The unit of a rectangle must be "px" (pixels) or "percent" (of the image\'s width and height).',
		);
	}
	for (const field of FIELDS) {
		const value: unknown = rectangle[field];
		if (typeof value !== 'number' || !Number.isFinite(value)) {
			throw new InputProblem(
				`${name} has no valid ${field}: ${JSON.stringify(value) ?? 'undefined'}`,
				`Give the ${field} of ${name.toLowerCase()} as a number of ${unitName(unit)}.`,
			);
		}
		if (unit === 'percent' && (value < 0 || value > 100)) {
			throw new InputProblem(
				`${name} has ${field} ${value}%, outside 0–100%`,
				`Percentages are of the image's ${field === 'left' || field === 'width' ? 'width' : 'height'}, so they go from 0 to 100. To give pixels, set the unit to "px".`,
			);
		}
	}
	const { left, top, width, height } = rectangle;
	if (width <= 0 || height <= 0) {
		throw new InputProblem(
			`${name} has ${width <= 0 ? `width ${width}` : `height ${height}`}, so it covers nothing`,
			`Width and height of a rectangle must be more than 0 ${unitName(unit)}.`,
		);
	}
	const sx = unit === 'percent' ? image.width / 100 : 1;
	const sy = unit === 'percent' ? image.height / 100 : 1;
	const [x0, x1] = edges(left * sx, (left + width) * sx);
	const [y0, y1] = edges(top * sy, (top + height) * sy);
	if (x1 <= 0 || y1 <= 0 || x0 >= image.width || y0 >= image.height) {
		throw new InputProblem(
			`${name} (${describe(rectangle)}) lies outside the ${describeSize(image)} image`,
			`Left and top are measured from the image's top-left corner; a rectangle must overlap the image (parts outside it are cut off).`,
		);
	}
	return {
		x0: Math.max(0, x0),
		y0: Math.max(0, y0),
		x1: Math.min(image.width, x1),
		y1: Math.min(image.height, y1),
	};
}

function edges(start: number, end: number): [number, number] {
	const from = Math.round(start);
	return [from, Math.max(Math.round(end), from + 1)];
}

function unitName(unit: Rectangle['unit']): string {
	return unit === 'percent' ? 'percent' : 'pixels';
}

function describe({ left, top, width, height, unit }: Rectangle): string {
	const u = unit === 'percent' ? '%' : ' px';
	return `left ${left}${u}, top ${top}${u}, width ${width}${u}, height ${height}${u}`;
}

/** One byte per pixel, 255 inside any of the boxes (their union), 0 elsewhere. */
export function rasteriseBoxes(boxes: readonly PixelBox[], image: Size): Buffer {
	const plane = Buffer.alloc(image.width * image.height);
	for (const { x0, y0, x1, y1 } of boxes) {
		for (let y = y0; y < y1; y++) plane.fill(255, y * image.width + x0, y * image.width + x1);
	}
	return plane;
}
