import { InputProblem } from '../errors/InputProblem';
import { LABELS, q } from '../helpers/spec';
import type { BinariseStats } from './binarise';
import type { ResolvedOptions } from './options';
import type { MaskSpec } from './types';

const CHARGED = 'fal would still charge for returning the same picture.';

/** The error for a mask that came out all black, worded for its source and options. */
export function nothingToRepaint(
	kind: MaskSpec['kind'],
	stats: BinariseStats,
	options: ResolvedOptions,
): InputProblem {
	const { threshold, invert } = options;
	const t = `${q(LABELS.maskThreshold)} (${threshold})`;
	if (kind === 'rectangles') {
		return new InputProblem(
			`The rectangles cover the whole image, and with ${q(LABELS.invertMask)} on only the part outside them is repainted: nothing would be repainted`,
			`Turn off ${q(LABELS.invertMask)} to repaint the rectangles, or make them smaller. ${CHARGED}`,
		);
	}
	if (kind === 'alpha') {
		if (invert) {
			return new InputProblem(
				`No pixel of the image is opaque enough to be repainted: with ${q(LABELS.invertMask)} on, pixels with alpha at or above ${t} are repainted, and the highest alpha is ${stats.max}`,
				`Turn off ${q(LABELS.invertMask)} to repaint the transparent part, or lower ${q(LABELS.maskThreshold)} to ${stats.max} or less. ${CHARGED}`,
			);
		}
		if (stats.min === 255) {
			return new InputProblem(
				'The image has an alpha channel but is fully opaque, so nothing would be repainted',
				`With ${q(LABELS.maskSource)} ${q(LABELS.sourceAlpha)}, the transparent part of the image is repainted. Erase the part to repaint in an image editor and save as PNG or WebP, or set ${q(LABELS.maskSource)} to ${q(LABELS.sourceBinary)} or ${q(LABELS.sourceRectangles)}. ${CHARGED}`,
			);
		}
		return new InputProblem(
			`No pixel of the image is transparent enough to be repainted: pixels with alpha below ${t} are repainted, and the lowest alpha is ${stats.min}`,
			`Raise ${q(LABELS.maskThreshold)} above ${stats.min} to repaint the most transparent pixels, or erase the part to repaint completely. ${CHARGED}`,
		);
	}
	if (invert) {
		return new InputProblem(
			`The mask is all black after ${q(LABELS.invertMask)}: every pixel of the mask file is white (at or above ${t}), so nothing would be repainted`,
			`Turn off ${q(LABELS.invertMask)} if the mask marks the part to repaint in white, or raise ${q(LABELS.maskThreshold)} above ${stats.min}. ${CHARGED}`,
		);
	}
	if (stats.max === 0) {
		return new InputProblem(
			'The mask is entirely black, so nothing would be repainted',
			`White marks the part to repaint, black the part to keep. Paint the part to repaint in white, or, if your mask marks it in black, turn on ${q(LABELS.invertMask)}. ${CHARGED}`,
		);
	}
	return new InputProblem(
		`The mask is all black after ${t}: its brightest pixel is ${stats.max}, so nothing would be repainted`,
		`White marks the part to repaint. Lower ${q(LABELS.maskThreshold)} to ${stats.max} or less to count the grey part as white, or, if your mask marks the part to repaint in black, turn on ${q(LABELS.invertMask)}. ${CHARGED}`,
	);
}
