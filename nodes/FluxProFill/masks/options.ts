import { InputProblem } from '../errors/InputProblem';
import { DEFAULTS, LABELS, LIMITS, q } from '../helpers/spec';
import type { MaskOptions } from './types';

export interface ResolvedOptions {
	invert: boolean;
	fit: 'none' | 'stretch';
	threshold: number;
	grow: number;
}

/**
 * Fills in defaults and rejects what an expression may have produced. The node checks
 * these values with the same limits before; this guard is for the library's other
 * callers (scripts, tests), and says the same.
 */
export function resolveOptions(options: MaskOptions): ResolvedOptions {
	const threshold = options.threshold ?? DEFAULTS.maskThreshold;
	const { min, max } = LIMITS.maskThreshold;
	if (
		typeof threshold !== 'number' ||
		!Number.isFinite(threshold) ||
		threshold < min ||
		threshold > max
	) {
		throw new InputProblem(
			`${q(LABELS.maskThreshold)} is ${String(threshold)}, but it must be a number from ${min} to ${max}`,
			`${q(LABELS.maskThreshold)} is the grey level (${min} black, ${max} white) at which a mask pixel counts as white; ${DEFAULTS.maskThreshold} suits nearly every mask.`,
		);
	}
	const grow = options.grow ?? DEFAULTS.growMask;
	if (typeof grow !== 'number' || !Number.isInteger(grow) || grow < LIMITS.growMask.min) {
		throw new InputProblem(
			`${q(LABELS.growMask)} is ${String(grow)}, but it must be a whole number of pixels, ${LIMITS.growMask.min} or more`,
			`${q(LABELS.growMask)} widens the repainted (white) part of the mask by that many pixels on every side; 0 leaves it as it is.`,
		);
	}
	const fit = options.fit ?? 'none';
	if (fit !== 'none' && fit !== 'stretch') {
		throw new InputProblem(
			`${q(LABELS.fitMask)} is "${String(fit)}", but it must be "none" or "stretch"`,
			'Choose one of the options of the parameter instead of an expression, or make the expression give "none" or "stretch".',
		);
	}
	return { invert: options.invert === true, fit, threshold, grow };
}
