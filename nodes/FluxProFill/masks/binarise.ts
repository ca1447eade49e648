/** Which pixel values are repainted before inverting: bright ones, or transparent ones. */
export type Rule = 'luminance' | 'alpha';

export interface BinariseStats {
	/** Pixels that are now 255. */
	white: number;
	/** Lowest and highest value before binarising, for error messages. */
	min: number;
	max: number;
}

/**
 * Turns a one-byte-per-pixel plane into 0/255 in place: with rule 'luminance' a value
 * ≥ threshold becomes 255, with 'alpha' a value < threshold does; invert swaps the two.
 * One pass through a 256-entry table.
 */
export function binarise(
	plane: Uint8Array,
	rule: Rule,
	threshold: number,
	invert: boolean,
): BinariseStats {
	const table = new Uint8Array(256);
	for (let value = 0; value < 256; value++) {
		const repaint = rule === 'luminance' ? value >= threshold : value < threshold;
		table[value] = repaint !== invert ? 255 : 0;
	}
	let white = 0;
	let min = 255;
	let max = 0;
	const length = plane.length;
	for (let i = 0; i < length; i++) {
		const value = plane[i];
		if (value < min) min = value;
		if (value > max) max = value;
		const out = table[value];
		plane[i] = out;
		white += out & 1; // out is 0 or 255
	}
	return { white, min, max };
}
