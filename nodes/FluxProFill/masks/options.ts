import { InputProblem } from '../errors/InputProblem';
import { LABELS, q } from './labels';
import type { MaskOptions } from './types';

export interface ResolvedOptions {
	invert: boolean;
	fit: 'none' | 'stretch';
	threshold: number;
	grow: number;
}

export const DEFAULT_THRESHOLD = 128;

/** Fills in defaults and rejects values an expression may have produced. */
export function resolveOptions(options: MaskOptions): ResolvedOptions {
	const threshold = options.threshold ?? DEFAULT_THRESHOLD;
	if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < 0 || threshold > 255) {
		throw new InputProblem(
			`${q(LABELS.threshold)} is ${String(threshold)}, but it must be a number from 0 to 255`,
			`${q(LABELS.threshold)} is the grey level (0 black, 255 white) at which a mask pixel counts as white; 128 suits nearly every mask.`,
		);
	}
	const grow = options.grow ?? 0;
	if (typeof grow !== 'number' || !Number.isInteger(grow) || grow < 0) {
		throw new InputProblem(
			`${q(LABELS.grow)} is ${String(grow)}, but it must be a whole number of pixels, 0 or more`,
			`${q(LABELS.grow)} widens the repainted (white) part of the mask by that many pixels on every side; 0 leaves it as it is.`,
		);
	}
	const fit = options.fit ?? 'none';
	if (fit !== 'none' && fit !== 'stretch') {
		throw new InputProblem(
			`${q(LABELS.fit)} is "${String(fit)}", but it must be "none" or "stretch"`,
			'Choose one of the options of the parameter instead of an expression, or make the expression give "none" or "stretch".',
		);
	}
	return { invert: options.invert === true, fit, threshold, grow };
}
