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
 * One pass through a 256-entry table, with a histogram for the counts.
 */
export function binarise(plane: Uint8Array, rule: Rule, threshold: number, invert: boolean): BinariseStats {
	const table = new Uint8Array(256);
	for (let value = 0; value < 256; value++) {
		const repaint = rule === 'luminance' ? value >= threshold : value < threshold;
		table[value] = repaint !== invert ? 255 : 0;
	}
	const histogram = new Float64Array(256);
	const length = plane.length;
	for (let i = 0; i < length; i++) {
		const value = plane[i];
		histogram[value]++;
		plane[i] = table[value];
	}
	let white = 0;
	let min = -1;
	let max = -1;
	for (let value = 0; value < 256; value++) {
		if (histogram[value] === 0) continue;
		if (min < 0) min = value;
		max = value;
		if (table[value] === 255) white += histogram[value];
	}
	return { white, min, max };
}
