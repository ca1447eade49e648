/**
 * Names of the node's parameters as users see them, quoted in error messages.
 * One place to change when the node's display names change.
 */
export const LABELS = {
	maskSource: 'Mask Source',
	sourceBinary: 'Binary Field',
	sourceAlpha: 'Image Transparency',
	sourceRectangles: 'Rectangles',
	invert: 'Invert Mask',
	fit: 'Fit Mask to Image',
	threshold: 'Mask Threshold',
	grow: 'Grow Mask (Px)',
} as const;

/** `"Name"`, as the other messages of the node quote parameters. */
export const q = (label: string): string => `"${label}"`;
