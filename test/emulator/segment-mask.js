// @ts-check
/**
 * The emulator's stand-in for EVF-SAM2: a deterministic, colour-based "segmentation".
 *
 * The mask rule (also in README.md):
 *  1. The prompt's words name colours. Words are the runs of letters a–z of the lower-cased
 *     prompt; each word in WORD_COLOURS names one colour, every other word is ignored.
 *  2. A pixel matches a colour when each of its R, G, B channels is within TOLERANCE (48,
 *     inclusive) of that colour's value in PALETTE. Grey images count as R = G = B; alpha is
 *     ignored. The palette's cubes do not overlap, so a pixel matches at most one colour.
 *  3. The mask is white (255) where a pixel matches any colour of the prompt (union), black (0)
 *     elsewhere; pixels matching a colour named by `negative_prompt` are then made black.
 *     A prompt naming no colour gives an all-black mask ("nothing found").
 *  4. Then, in this order: `fill_holes` makes black regions that do not touch the image border
 *     (4-connected) white; `expand_mask` N makes white every pixel within N pixels (a square:
 *     max(|dx|, |dy|) <= N) of a white pixel; `blur_mask` K > 1 applies a box blur of size K
 *     (rounded up to odd; separable, edge pixels repeated, each pass rounded) in place of fal's
 *     Gaussian; `revert_mask` inverts (v → 255 - v).
 *  5. `use_grounding_dino` and `semantic_type` change nothing.
 * `mask_only: false` returns the image with the mask laid over it: each pixel moves towards
 * OVERLAY (pure red) by mask/255 × 50 %, rounded; alpha, if any, is kept.
 */
'use strict';

/** @typedef {readonly [number, number, number]} Rgb */

/** Per-channel tolerance, inclusive: |pixel - colour| <= 48 on R, G and B. */
const TOLERANCE = 48;

/** @type {Readonly<Record<string, Rgb>>} the named colours' values */
const PALETTE = Object.freeze({
	red: [255, 0, 0],
	green: [0, 255, 0],
	blue: [0, 0, 255],
	yellow: [255, 255, 0],
	cyan: [0, 255, 255],
	magenta: [255, 0, 255],
	white: [255, 255, 255],
	black: [0, 0, 0],
	orange: [255, 128, 0],
	purple: [128, 0, 128],
	grey: [128, 128, 128],
});

/** @type {Readonly<Record<string, keyof typeof PALETTE>>} word → colour */
const WORD_COLOURS = Object.freeze({
	red: 'red',
	green: 'green',
	blue: 'blue',
	yellow: 'yellow',
	cyan: 'cyan',
	magenta: 'magenta',
	white: 'white',
	black: 'black',
	orange: 'orange',
	purple: 'purple',
	grey: 'grey',
	gray: 'grey',
	sky: 'blue',
	sea: 'blue',
	water: 'blue',
	grass: 'green',
	tree: 'green',
	trees: 'green',
	leaves: 'green',
	forest: 'green',
	sun: 'yellow',
	snow: 'white',
	cloud: 'white',
	clouds: 'white',
});

/** @type {Rgb} what `mask_only: false` tints the masked part with */
const OVERLAY = [255, 0, 0];

/**
 * @typedef {object} RawImage 8-bit pixels, `channels` bytes each (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA)
 * @property {Buffer} data
 * @property {number} width
 * @property {number} height
 * @property {number} channels
 */

/**
 * The colours a text names, in order of first mention.
 * @param {string | undefined} text
 * @returns {(keyof typeof PALETTE)[]}
 */
function coloursIn(text) {
	/** @type {Set<keyof typeof PALETTE>} */
	const colours = new Set();
	for (const word of (text ?? '').toLowerCase().match(/[a-z]+/g) ?? []) {
		if (Object.hasOwn(WORD_COLOURS, word)) colours.add(WORD_COLOURS[word]);
	}
	return [...colours];
}

/**
 * One byte per pixel: 1 where the pixel matches any of the colours, else 0.
 * @param {RawImage} image
 * @param {(keyof typeof PALETTE)[]} colours
 * @returns {Uint8Array}
 */
function matchColours(image, colours) {
	const { data, width, height, channels } = image;
	const bits = new Uint8Array(width * height);
	if (colours.length === 0) return bits;
	const targets = colours.map((name) => PALETTE[name]);
	const grey = channels < 3;
	for (let pixel = 0; pixel < bits.length; pixel++) {
		const offset = pixel * channels;
		const r = data[offset];
		const g = grey ? r : data[offset + 1];
		const b = grey ? r : data[offset + 2];
		for (const [tr, tg, tb] of targets) {
			if (
				Math.abs(r - tr) <= TOLERANCE &&
				Math.abs(g - tg) <= TOLERANCE &&
				Math.abs(b - tb) <= TOLERANCE
			) {
				bits[pixel] = 1;
				break;
			}
		}
	}
	return bits;
}

/**
 * Makes black regions that do not touch the border white (4-connected flood fill from the border).
 * @param {Uint8Array} bits 0/1 per pixel, changed in place
 * @param {number} width
 * @param {number} height
 */
function fillHoles(bits, width, height) {
	const outside = new Uint8Array(bits.length);
	/** @type {number[]} */
	const stack = [];
	/** @param {number} pixel */
	const visit = (pixel) => {
		if (bits[pixel] === 0 && outside[pixel] === 0) {
			outside[pixel] = 1;
			stack.push(pixel);
		}
	};
	for (let x = 0; x < width; x++) {
		visit(x);
		visit((height - 1) * width + x);
	}
	for (let y = 0; y < height; y++) {
		visit(y * width);
		visit(y * width + width - 1);
	}
	while (stack.length > 0) {
		const pixel = /** @type {number} */ (stack.pop());
		const x = pixel % width;
		if (x > 0) visit(pixel - 1);
		if (x < width - 1) visit(pixel + 1);
		if (pixel >= width) visit(pixel - width);
		if (pixel < bits.length - width) visit(pixel + width);
	}
	for (let pixel = 0; pixel < bits.length; pixel++) if (!outside[pixel]) bits[pixel] = 1;
}

/**
 * Runs `fn` over every row, then every column, of a one-value-per-pixel image.
 * @param {Uint8Array} values
 * @param {number} width
 * @param {number} height
 * @param {(line: Uint8Array) => Uint8Array} fn maps a line to a line of the same length
 * @returns {Uint8Array}
 */
function separable(values, width, height, fn) {
	const rows = new Uint8Array(values.length);
	for (let y = 0; y < height; y++)
		rows.set(fn(values.subarray(y * width, (y + 1) * width)), y * width);
	const out = new Uint8Array(values.length);
	const column = new Uint8Array(height);
	for (let x = 0; x < width; x++) {
		for (let y = 0; y < height; y++) column[y] = rows[y * width + x];
		const done = fn(column);
		for (let y = 0; y < height; y++) out[y * width + x] = done[y];
	}
	return out;
}

/**
 * Sums of the window [i - radius, i + radius] for each i, with the line's ends repeated outwards.
 * @param {Uint8Array} line
 * @param {number} radius
 * @returns {Float64Array}
 */
function windowSums(line, radius) {
	const n = line.length;
	const prefix = new Float64Array(n + 2 * radius + 1);
	for (let i = 0; i < n + 2 * radius; i++) {
		const source = Math.min(n - 1, Math.max(0, i - radius));
		prefix[i + 1] = prefix[i] + line[source];
	}
	const sums = new Float64Array(n);
	for (let i = 0; i < n; i++) sums[i] = prefix[i + 2 * radius + 1] - prefix[i];
	return sums;
}

/**
 * Square dilation: 1 wherever a 1 lies within `radius` pixels (max(|dx|, |dy|) <= radius).
 * The image's outside counts as 0.
 * @param {Uint8Array} bits 0/1
 * @param {number} width
 * @param {number} height
 * @param {number} radius
 * @returns {Uint8Array}
 */
function dilate(bits, width, height, radius) {
	if (radius <= 0) return bits;
	return separable(bits, width, height, (line) => {
		const out = new Uint8Array(line.length);
		const prefix = new Uint32Array(line.length + 1);
		for (let i = 0; i < line.length; i++) prefix[i + 1] = prefix[i] + line[i];
		for (let i = 0; i < line.length; i++) {
			const from = Math.max(0, i - radius);
			const to = Math.min(line.length, i + radius + 1);
			out[i] = prefix[to] - prefix[from] > 0 ? 1 : 0;
		}
		return out;
	});
}

/**
 * Box blur of size `size` (rounded up to odd); sizes 0 and 1 leave the values alone.
 * @param {Uint8Array} values 0–255
 * @param {number} width
 * @param {number} height
 * @param {number} size
 * @returns {Uint8Array}
 */
function boxBlur(values, width, height, size) {
	const radius = Math.floor((size % 2 === 0 ? size + 1 : size) / 2);
	if (radius <= 0) return values;
	const span = 2 * radius + 1;
	return separable(values, width, height, (line) => {
		const sums = windowSums(line, radius);
		const out = new Uint8Array(line.length);
		for (let i = 0; i < line.length; i++) out[i] = Math.round(sums[i] / span);
		return out;
	});
}

/**
 * The mask for an image and the segmentation options, one byte (0–255) per pixel.
 * @param {RawImage} image
 * @param {{ prompt: string, negative_prompt?: string, fill_holes?: boolean, expand_mask?: number, blur_mask?: number, revert_mask?: boolean }} options
 * @returns {{ mask: Uint8Array, colours: string[], negativeColours: string[] }}
 */
function segmentMask(image, options) {
	const { width, height } = image;
	const colours = coloursIn(options.prompt);
	const negativeColours = coloursIn(options.negative_prompt);
	let bits = matchColours(image, colours);
	if (negativeColours.length > 0) {
		const removed = matchColours(image, negativeColours);
		for (let pixel = 0; pixel < bits.length; pixel++) if (removed[pixel]) bits[pixel] = 0;
	}
	if (options.fill_holes) fillHoles(bits, width, height);
	bits = dilate(bits, width, height, options.expand_mask ?? 0);
	const binary = new Uint8Array(bits.length);
	for (let pixel = 0; pixel < bits.length; pixel++) binary[pixel] = bits[pixel] ? 255 : 0;
	const mask = boxBlur(binary, width, height, options.blur_mask ?? 0);
	if (options.revert_mask) for (let pixel = 0; pixel < mask.length; pixel++) mask[pixel] ^= 255;
	return { mask, colours, negativeColours };
}

/**
 * The image with the mask laid over it (`mask_only: false`): RGB, or RGBA when it has alpha.
 * @param {RawImage} image
 * @param {Uint8Array} mask 0–255 per pixel
 * @returns {RawImage}
 */
function overlayMask(image, mask) {
	const { data, width, height, channels } = image;
	const alpha = channels === 2 || channels === 4;
	const outChannels = alpha ? 4 : 3;
	const out = Buffer.alloc(width * height * outChannels);
	for (let pixel = 0; pixel < mask.length; pixel++) {
		const from = pixel * channels;
		const to = pixel * outChannels;
		const weight = mask[pixel] / 510; // at most 50 %
		for (let c = 0; c < 3; c++) {
			const value = data[from + (channels < 3 ? 0 : c)];
			out[to + c] = Math.round(value + (OVERLAY[c] - value) * weight);
		}
		if (alpha) out[to + 3] = data[from + channels - 1];
	}
	return { data: out, width, height, channels: outChannels };
}

module.exports = { segmentMask, overlayMask };
