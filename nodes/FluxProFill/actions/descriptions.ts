/* eslint-disable n8n-nodes-base/node-param-default-missing --
 * The rule wants literal defaults; ours come from common/constants.ts, the one source of defaults. */
import type { INodeProperties } from 'n8n-workflow';

import {
	DEFAULTS,
	EXPAND_ANCHORS,
	EXPAND_ASPECT_RATIOS,
	LABELS,
	LIMITS,
	q,
	RETURNED_MASK_FIELD,
} from '../common/constants';

/*
 * Parameters that more than one operation shows. Each operation picks what it needs
 * and shows it for itself with n8n's `updateDisplayOptions`; names, labels, defaults
 * and ranges all come from common/constants.ts.
 */

/** A number parameter's range, from LIMITS; whole numbers unless `numberPrecision` says. */
const within = ({ min, max }: { min: number; max: number }, numberPrecision = 0) => ({
	minValue: min,
	maxValue: max,
	numberPrecision,
});

/** The two sources Image Source and Mask Source share: a binary field, or a link. */
const fromBinary = (description: string) => ({
	name: LABELS.sourceBinary,
	value: 'binary',
	description,
});
const fromUrl = (what: 'image' | 'mask') => ({
	name: LABELS.sourceUrl,
	value: 'url',
	description: `A public http(s) link to the ${what}, or a data: URI`,
});

/** A number of a rectangle to repaint, in its unit. */
const rectangleNumber = (displayName: string, value: number, description: string) => ({
	displayName,
	name: displayName.toLowerCase(),
	type: 'number' as const,
	default: value,
	description,
});

/** Expand Canvas by pixels or percent: each side, and what its percent is of. */
const SIDES = [
	['expandTop', 'Top', 'height'],
	['expandRight', 'Right', 'width'],
	['expandBottom', 'Bottom', 'height'],
	['expandLeft', 'Left', 'width'],
] as const;

/** The panel's words for the anchors. */
const ANCHOR_NAMES: Record<(typeof EXPAND_ANCHORS)[number], string> = {
	center: 'Center',
	top: 'Top',
	bottom: 'Bottom',
	left: 'Left',
	right: 'Right',
	topLeft: 'Top Left',
	topRight: 'Top Right',
	bottomLeft: 'Bottom Left',
	bottomRight: 'Bottom Right',
};

/**
 * Every input parameter of Fill and Submit: what to paint, where the picture to repaint and
 * its mask come from, and the mask sources' own parameters.
 */
export const fillInputProperties: INodeProperties[] = [
	{
		displayName: LABELS.prompt,
		name: 'prompt',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. a red vintage bicycle leaning against the wall',
		typeOptions: { rows: 3 },
		description: 'What to paint into the masked (white) part of the image',
	},
	{
		displayName: LABELS.imageSource,
		name: 'imageSource',
		type: 'options',
		noDataExpression: true,
		options: [
			fromBinary(
				'An image file produced by an earlier node (Read Files, HTTP Request, Google Drive, …)',
			),
			fromUrl('image'),
		],
		default: 'binary',
	},
	{
		displayName: LABELS.imageBinaryProperty,
		name: 'imageBinaryProperty',
		type: 'string',
		required: true,
		default: DEFAULTS.imageBinaryProperty,
		displayOptions: { show: { imageSource: ['binary'] } },
		hint: 'The name of the input binary field that holds the image (PNG, JPEG or WebP)',
		description: 'Binary field of each input item that holds the image to repaint',
	},
	{
		displayName: LABELS.imageUrl,
		name: 'imageUrl',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'https://example.com/photo.jpg',
		displayOptions: { show: { imageSource: ['url'] } },
		description:
			'Link to the image to repaint. fal must be able to download it. Must have the same width and height as the mask.',
	},
	{
		displayName: LABELS.maskSource,
		name: 'maskSource',
		type: 'options',
		noDataExpression: true,
		options: [
			fromBinary('A mask image produced by an earlier node'),
			{
				name: LABELS.sourceAlpha,
				value: 'alpha',
				description:
					'Repaint the transparent part of the image itself (a PNG or WebP with a hole erased); no mask file needed',
			},
			{
				name: LABELS.sourceText,
				value: 'text',
				description:
					'Say what to repaint in words ("the sky"); fal finds it in the image and makes the mask ($0.005 more per image and words)',
			},
			{
				name: LABELS.sourceExpand,
				value: 'expand',
				description:
					'Outpainting: make the canvas larger (to an aspect ratio, or by pixels or percent) and paint the new part',
			},
			{
				name: LABELS.sourceRectangles,
				value: 'rectangles',
				description:
					'Repaint one or more rectangles, in pixels or percent of the image; no mask file needed',
			},
			fromUrl('mask'),
		],
		default: 'binary',
	},
	{
		displayName: LABELS.maskRectangles,
		name: 'maskRectangles',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add rectangle',
		default: {},
		displayOptions: { show: { maskSource: ['rectangles'] } },
		description: 'Areas of the image to repaint; together they form the mask',
		options: [
			{
				displayName: 'Rectangle',
				name: 'rectangle',
				// Unit first, then position, then size: the order people measure in (not alphabetical).
				values: [
					{
						displayName: 'Unit',
						name: 'unit',
						type: 'options',
						options: [
							{ name: 'Percent of the Image', value: 'percent' },
							{ name: 'Pixels', value: 'px' },
						],
						default: 'percent',
					},
					rectangleNumber('Left', 25, 'Distance from the left edge of the image'),
					rectangleNumber('Top', 25, 'Distance from the top edge of the image'),
					rectangleNumber('Width', 50, 'Width of the rectangle'),
					rectangleNumber('Height', 50, 'Height of the rectangle'),
				],
			},
		],
	},
	{
		displayName: LABELS.maskBinaryProperty,
		name: 'maskBinaryProperty',
		type: 'string',
		required: true,
		default: DEFAULTS.maskBinaryProperty,
		displayOptions: { show: { maskSource: ['binary'] } },
		hint: 'White pixels are repainted, black pixels are kept. Same width and height as the image.',
		description: 'Binary field of each input item that holds the black-and-white mask',
	},
	{
		displayName: LABELS.maskUrl,
		name: 'maskUrl',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'https://example.com/mask.png',
		displayOptions: { show: { maskSource: ['url'] } },
		description:
			'Link to the black-and-white mask: white is repainted, black is kept. Must have the same width and height as the image.',
	},
	// Describe It: the words fal's segmentation looks for.
	{
		displayName: LABELS.maskPrompt,
		name: 'maskPrompt',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. the sky',
		displayOptions: { show: { maskSource: ['text'] } },
		hint: 'A few words naming what to repaint. fal-ai/evf-sam finds it and makes the mask.',
		description:
			'What in the image to repaint, in a few words. "Prompt" then says what to paint there.',
	},
	{
		displayName: `${LABELS.maskNegativePrompt} (Optional)`,
		name: 'maskNegativePrompt',
		type: 'string',
		default: '',
		placeholder: 'e.g. the tree',
		displayOptions: { show: { maskSource: ['text'] } },
		description:
			'Something the words above might also catch that must stay as it is. Counted as a second segmentation.',
	},
	// Expand Canvas: how much larger, and where the original sits.
	{
		displayName: LABELS.expandBy,
		name: 'expandBy',
		type: 'options',
		options: [
			{
				name: 'Aspect Ratio',
				value: 'aspectRatio',
				description: 'Grow the canvas to a shape, such as 16:9 for a banner',
			},
			{ name: 'Pixels', value: 'pixels', description: 'Add this many pixels on each side' },
			{
				name: 'Percent',
				value: 'percent',
				description: "Add a percentage of the image's width or height on each side",
			},
		],
		default: DEFAULTS.expandBy,
		displayOptions: { show: { maskSource: ['expand'] } },
	},
	{
		displayName: LABELS.expandAspectRatio,
		name: 'expandAspectRatio',
		type: 'options',
		options: EXPAND_ASPECT_RATIOS.map((ratio) => ({ name: ratio, value: ratio })),
		default: DEFAULTS.expandAspectRatio,
		displayOptions: { show: { maskSource: ['expand'], expandBy: ['aspectRatio'] } },
		description:
			'The shape of the new canvas. The image only grows, never cropped. An expression may give any ratio, such as 2:1 or 1.91.',
	},
	{
		displayName: LABELS.expandAnchor,
		name: 'expandAnchor',
		type: 'options',
		options: EXPAND_ANCHORS.map((anchor) => ({
			name: ANCHOR_NAMES[anchor],
			value: anchor,
		})),
		default: DEFAULTS.expandAnchor,
		displayOptions: { show: { maskSource: ['expand'], expandBy: ['aspectRatio'] } },
		description: 'Where the original image sits on the new canvas',
	},
	...SIDES.map(([name, side, across]): INodeProperties => ({
		displayName: `Add at ${side}`,
		name,
		type: 'number',
		default: 0,
		typeOptions: { minValue: 0 },
		displayOptions: { show: { maskSource: ['expand'], expandBy: ['pixels', 'percent'] } },
		description: `How much to add at the ${side.toLowerCase()}: pixels, or percent of the image's ${across}`,
	})),
	{
		displayName: LABELS.expandOverlap,
		name: 'expandOverlap',
		type: 'number',
		default: DEFAULTS.expandOverlap,
		typeOptions: within(LIMITS.expandOverlap),
		displayOptions: { show: { maskSource: ['expand'] } },
		description:
			'Pixels of the original, along each side that grows, that may be repainted so the seam blends in. 0 keeps the original untouched.',
	},
];

/**
 * Image Transparency and Rectangles make the mask from the image file itself; with an
 * image URL the node has no file. Said in the panel, before anyone runs it.
 */
export const maskNeedsImageFileNotice: INodeProperties = {
	displayName: `${q(LABELS.sourceAlpha)}, ${q(LABELS.sourceRectangles)} and ${q(LABELS.sourceExpand)} work on the image file, so they need ${q(LABELS.imageSource)} set to ${q(LABELS.sourceBinary)}`,
	name: 'maskNeedsImageFileNotice',
	type: 'notice',
	default: '',
	displayOptions: { show: { imageSource: ['url'], maskSource: ['alpha', 'rectangles', 'expand'] } },
};

/** The Request ID that Submit returned (Get Status, Get Result, Cancel). */
export const requestIdProperty: INodeProperties = {
	displayName: LABELS.requestId,
	name: 'requestId',
	type: 'string',
	required: true,
	default: DEFAULTS.requestId,
	placeholder: 'e.g. 764cabcf-b745-4b3e-ae38-1200304cf45b',
	description:
		'The fal request ID that Submit (or Fill) returned in request_id. A Describe It segmentation_request_id belongs to another fal app and is not accepted here. By default taken from the incoming item.',
};

/**
 * The `options` collection of an operation, in the order given: related options
 * together, most used first, instead of n8n's alphabetical default.
 */
export const optionsCollection = (options: INodeProperties[]): INodeProperties => ({
	displayName: LABELS.options,
	name: 'options',
	type: 'collection',
	placeholder: 'Add option',
	default: {},
	options,
});

/** Mask sources whose pixels the node prepares itself (a URL mask is fal's to fetch). */
const PREPARED_MASK_SOURCES = ['binary', 'alpha', 'rectangles', 'text', 'expand'];
/** Sources whose mask the options below change (Expand Canvas makes an exact one). */
const ADJUSTABLE_MASK_SOURCES = ['binary', 'alpha', 'rectangles', 'text'];

/** What fal generates: the endpoint's own optional inputs (Fill, Submit). */
export const generationOptions: INodeProperties[] = [
	{
		displayName: LABELS.numImages,
		name: 'numImages',
		type: 'number',
		default: DEFAULTS.numImages,
		typeOptions: within(LIMITS.numImages),
		description: `How many variations to generate (${LIMITS.numImages.min}–${LIMITS.numImages.max}). Each becomes its own output item, and each is billed.`,
	},
	{
		displayName: LABELS.seed,
		name: 'seed',
		type: 'number',
		default: 0,
		typeOptions: within(LIMITS.seed),
		hint: 'Remove this option for a random seed. The seed used is in the output.',
		description: 'Same seed, prompt and inputs give the same image',
	},
	{
		displayName: LABELS.outputFormat,
		name: 'outputFormat',
		type: 'options',
		options: [
			{ name: 'JPEG', value: 'jpeg', description: 'Smaller files' },
			{ name: 'PNG', value: 'png', description: 'Lossless; the kept part stays exactly as it was' },
		],
		default: DEFAULTS.outputFormat,
		description: 'File format of the generated images',
	},
	{
		displayName: LABELS.safetyTolerance,
		name: 'safetyTolerance',
		type: 'options',
		// Strict to permissive, as fal counts them.
		options: [
			{ name: '1 (Most Strict)', value: '1' },
			{ name: '2 (Default)', value: '2' },
			{ name: '3', value: '3' },
			{ name: '4', value: '4' },
			{ name: '5', value: '5' },
			{ name: '6 (Most Permissive)', value: '6' },
		],
		default: DEFAULTS.safetyTolerance,
		description: 'How strictly fal filters the generated images',
	},
	{
		displayName: LABELS.enhancePrompt,
		name: 'enhancePrompt',
		type: 'boolean',
		default: false,
		description: 'Whether fal should rewrite the prompt into a more detailed one before generating',
	},
	{
		displayName: LABELS.syncMode,
		name: 'syncMode',
		type: 'boolean',
		default: false,
		description:
			'Whether fal should return the images inline as data URIs instead of links. The images are then not kept in your fal request history.',
	},
	{
		displayName: LABELS.finetuneId,
		name: 'finetuneId',
		type: 'string',
		default: '',
		placeholder: 'e.g. 6f1c2d3e-4b5a-4c6d-8e7f-901a2b3c4d5e',
		description:
			"The ID of your own FLUX.1 [pro] finetune (a product, a character, a style) to paint with: fal's fill-finetuned endpoint, at its price",
	},
	{
		displayName: LABELS.finetuneStrength,
		name: 'finetuneStrength',
		type: 'number',
		default: DEFAULTS.finetuneStrength,
		typeOptions: within(LIMITS.finetuneStrength, 1),
		description: `How strongly the finetune shapes what is painted: ${LIMITS.finetuneStrength.min} not at all, 1 its full influence, above that stronger still, up to ${LIMITS.finetuneStrength.max}; ${DEFAULTS.finetuneStrength} by default, as the model's maker sets it. Used with ${q(LABELS.finetuneId)} only.`,
	},
];

/** Fill and Submit: a cap on what one execution of the node may spend. */
const maxCostOption: INodeProperties = {
	displayName: LABELS.maxCostUsd,
	name: 'maxCostUsd',
	type: 'number',
	default: '',
	placeholder: 'e.g. 5',
	typeOptions: { minValue: LIMITS.maxCostUsd.min, numberPrecision: 2 },
	description:
		"Stop before paying when this node's estimated fal cost in the execution would pass this amount: its loops and an AI agent's calls count together. Empty means no cap. Read from the first item.",
};

/** How the node turns the mask source into fal's mask; shown only for sources they act on. */
export const maskOptions: INodeProperties[] = [
	{
		displayName: LABELS.maskThreshold,
		name: 'maskThreshold',
		type: 'number',
		default: DEFAULTS.maskThreshold,
		typeOptions: within(LIMITS.maskThreshold),
		displayOptions: { show: { '/maskSource': ['binary', 'alpha'] } },
		description: `Grey and coloured masks become pure black and white: pixels at least this bright are repainted. For ${q(LABELS.sourceAlpha)}: pixels less opaque than this are repainted.`,
	},
	{
		displayName: LABELS.invertMask,
		name: 'invertMask',
		type: 'boolean',
		default: false,
		displayOptions: { show: { '/maskSource': ADJUSTABLE_MASK_SOURCES } },
		description:
			'Whether to swap the mask: repaint what it marks as kept, keep what it marks for repainting',
	},
	{
		displayName: LABELS.growMask,
		name: 'growMask',
		type: 'number',
		default: DEFAULTS.growMask,
		typeOptions: within(LIMITS.growMask),
		displayOptions: { show: { '/maskSource': ADJUSTABLE_MASK_SOURCES } },
		description: `Widen the repainted area by this many pixels on every side, which gives the model room to blend the new content in. ${q(LABELS.sourceText)} grows by ${DEFAULTS.textMaskGrow} unless set.`,
	},
	{
		displayName: LABELS.fitMask,
		name: 'fitMask',
		type: 'boolean',
		default: false,
		displayOptions: { show: { '/maskSource': ['binary'] } },
		description:
			'Whether to stretch a mask of another size to the image. Off by default, because a mask of the wrong size is usually the wrong mask.',
	},
];

/** Fill only: hand the prepared mask on with the images. */
export const returnMaskOption: INodeProperties = {
	displayName: LABELS.returnMask,
	name: 'returnMask',
	type: 'boolean',
	default: false,
	displayOptions: { show: { '/maskSource': PREPARED_MASK_SOURCES } },
	description: `Whether to add the mask that was sent to fal to each output item, in binary field "${RETURNED_MASK_FIELD}", to see exactly what was repainted`,
};

/** How fal's images come back (Fill, Get Result). */
export const resultOptions: INodeProperties[] = [
	{
		displayName: LABELS.outputMode,
		name: 'outputMode',
		type: 'options',
		options: [
			{
				name: 'Binary File',
				value: 'binary',
				description: 'Download each image into the item, for storage, e-mail or messaging nodes',
			},
			{
				name: 'URL Only',
				value: 'url',
				description:
					"Return fal's links and the JSON without downloading. With sync mode the link is a data: URI holding the whole image.",
			},
		],
		default: DEFAULTS.outputMode,
		description: 'Whether to download the images or only return their links',
	},
	{
		displayName: LABELS.outputBinaryProperty,
		name: 'outputBinaryProperty',
		type: 'string',
		default: DEFAULTS.outputBinaryProperty,
		displayOptions: { hide: { outputMode: ['url'] } },
		description: 'Binary field of each output item that receives the generated image',
	},
	{
		displayName: LABELS.dropNsfw,
		name: 'dropNsfw',
		type: 'boolean',
		default: false,
		description:
			'Whether to leave out images that fal flags as NSFW. When off, flagged images are returned with has_nsfw_concept set to true. If every image of an item is flagged, the item fails.',
	},
];

/** Node-level: how many items run at once, read from the first item. */
export const concurrencyOption = (description: string): INodeProperties => ({
	displayName: LABELS.concurrency,
	name: 'concurrency',
	type: 'number',
	default: DEFAULTS.concurrency,
	typeOptions: within(LIMITS.concurrency),
	description,
});

/** Concurrency as Fill and Submit describe it: how many requests are at fal at once. */
export const requestConcurrencyOption = concurrencyOption(
	"How many items are sent to fal at once. fal runs 2 requests at once on a new account and up to 40 as you buy credits; requests beyond your limit just wait in fal's queue. Read from the first item.",
);

export const timeoutOption = (description: string): INodeProperties => ({
	displayName: LABELS.timeout,
	name: 'timeout',
	type: 'number',
	default: DEFAULTS.timeoutSeconds,
	typeOptions: within(LIMITS.timeoutSeconds),
	description,
});

/**
 * The parameters of an operation that sends a fill request (Fill, Submit): the inputs,
 * then one options collection — what to generate, how the mask is prepared, then the
 * operation's own options (what comes back, how it runs).
 */
export function fillRequestProperties(ownOptions: INodeProperties[]): INodeProperties[] {
	return [
		...fillInputProperties,
		maskNeedsImageFileNotice,
		optionsCollection([...generationOptions, ...maskOptions, ...ownOptions, maxCostOption]),
	];
}
