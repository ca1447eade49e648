/** Width and height in pixels. */
export interface Size {
	width: number;
	height: number;
}

/**
 * A rectangle to repaint. With unit 'percent' every value is a percentage (0–100) of
 * the image's width (left, width) or height (top, height).
 */
export interface Rectangle {
	left: number;
	top: number;
	width: number;
	height: number;
	unit: 'px' | 'percent';
}

export interface MaskOptions {
	/** Swap black and white after thresholding (and before growing). Default false. */
	invert?: boolean;
	/** What to do when the mask's size differs from the image's. Default 'none' (an error). */
	fit?: 'none' | 'stretch';
	/**
	 * 0–255, default DEFAULTS.maskThreshold (helpers/spec.ts). File masks: luminance ≥ threshold is white (repaint).
	 * Alpha: alpha < threshold is white (repaint). Not used by rectangles.
	 */
	threshold?: number;
	/** Grow the white part by this many pixels in every direction (square kernel). Default 0. */
	grow?: number;
}

export type MaskSpec =
	/** A PNG, JPEG or WebP mask: may be grey, coloured, anti-aliased or of another size. */
	| { kind: 'file'; bytes: Buffer }
	/** Derive the mask from a PNG or WebP's alpha channel: transparent is repainted. */
	| { kind: 'alpha'; image: Buffer }
	/** Repaint these rectangles; no mask file needed. */
	| { kind: 'rectangles'; rectangles: Rectangle[] };

export interface PreparedMask {
	/** 8-bit greyscale PNG of exactly `size`: 255 = repaint, 0 = keep, nothing in between. */
	png: Buffer;
	size: Size;
	/** How many pixels are white (repainted); equals width × height when everything is. */
	whitePixels: number;
}
