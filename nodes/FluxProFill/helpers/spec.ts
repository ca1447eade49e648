/**
 * The one source of every fal fact, default, limit and label the node uses. Parameter
 * descriptions, validation and error messages all read them from here, so a change
 * is made once.
 */

/** fal endpoint this package wraps. */
export const FAL_FILL_ENDPOINT = 'fal-ai/flux-pro/v1/fill';

/** fal request ids are UUIDs; anything with other characters would change the URL it is put in. */
export const FAL_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/;

/** Opening a storage upload: needs a valid key, costs nothing. The credential test calls it. */
export const FAL_STORAGE_INITIATE_URL =
	'https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3';

export const FAL_BILLING_URL = 'https://fal.ai/dashboard/billing';
export const FAL_KEYS_URL = 'https://fal.ai/dashboard/keys';

/** fal's published price for FLUX.1 [pro] Fill: $0.05 per megapixel, rounded up, per image. */
export const PRICE_PER_MEGAPIXEL_USD = 0.05;

export const OUTPUT_FORMATS = ['jpeg', 'png'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const SAFETY_TOLERANCES = ['1', '2', '3', '4', '5', '6'] as const;
export type SafetyTolerance = (typeof SAFETY_TOLERANCES)[number];

/** `binary`: download every image into the item. `url`: links and JSON only, nothing downloaded. */
export const OUTPUT_MODES = ['binary', 'url'] as const;
export type OutputMode = (typeof OUTPUT_MODES)[number];

/** Ranges of the numeric parameters, inclusive. */
export const LIMITS = {
	numImages: { min: 1, max: 4 },
	/** fal's seed is a 32-bit unsigned integer; larger values are rejected or wrapped. */
	seed: { min: 0, max: 4_294_967_295 },
	maskThreshold: { min: 0, max: 255 },
	growMask: { min: 0, max: 4096 },
	/** A day: longer is not a wait but a hang, and timers past 2^31 ms fire at once. */
	timeoutSeconds: { min: 1, max: 86_400 },
	concurrency: { min: 1, max: 100 },
} as const;

export const DEFAULTS = {
	imageBinaryProperty: 'data',
	maskBinaryProperty: 'mask',
	outputBinaryProperty: 'data',
	numImages: 1,
	outputFormat: 'jpeg' as OutputFormat,
	safetyTolerance: '2' as SafetyTolerance,
	outputMode: 'binary' as OutputMode,
	/** 128 suits nearly every mask: mid-grey and anti-aliased edges split evenly. */
	maskThreshold: 128,
	growMask: 0,
	/** The wait for one item, from upload to the last image downloaded. */
	timeoutSeconds: 600,
	/** A new fal account runs 2 requests at once; more only wait in fal's queue. */
	concurrency: 2,
	requestId: '={{ $json.request_id }}',
} as const;

/** Binary field of the output items that gets the mask sent to fal, when asked for. */
export const RETURNED_MASK_FIELD = 'mask';

/** fal's text-prompted segmentation (Describe It): the mask of what the words name. */
export const FAL_SEGMENT_ENDPOINT = 'fal-ai/evf-sam';

/** fal's published price for fal-ai/evf-sam, per request (docs/evf-sam.md). */
export const SEGMENT_PRICE_USD = 0.005;

/** Describe It: a few pixels of margin let the model blend the repainted edge. */
export const TEXT_MASK_GROW_DEFAULT = 8;

// Expand Canvas (outpainting): choices, limits, defaults and labels.

/** Where the original sits in the new canvas when growing to an aspect ratio. */
export const EXPAND_ANCHORS = [
	'center',
	'top',
	'bottom',
	'left',
	'right',
	'topLeft',
	'topRight',
	'bottomLeft',
	'bottomRight',
] as const;
export type Anchor = (typeof EXPAND_ANCHORS)[number];

/** Offered in the panel; any "W:H", "W/H" or decimal ratio typed in works too. */
export const EXPAND_ASPECT_RATIOS = [
	'16:9',
	'3:2',
	'4:3',
	'1:1',
	'3:4',
	'2:3',
	'9:16',
	'21:9',
] as const;

export const EXPAND_MODES = ['pixels', 'percent', 'aspectRatio'] as const;
export type ExpandMode = (typeof EXPAND_MODES)[number];

export const EXPAND_LIMITS = {
	/** 400% a side makes a canvas 9× the original's width: far past where the model keeps context. */
	percent: { min: 0, max: 400 },
	/** A seam to blend, not a region to repaint: for more, draw a mask. */
	overlap: { min: 0, max: 256 },
} as const;

export const EXPAND_DEFAULTS = {
	mode: 'aspectRatio' as ExpandMode,
	aspectRatio: '16:9',
	anchor: 'center' as Anchor,
	/** Enough for the model to blend the seam without redrawing much of the original. */
	overlap: 16,
} as const;

/** Display names of the Expand Canvas parameters, as error messages quote them. */
export const EXPAND_LABELS = {
	mode: 'Expand By',
	pixels: 'Add at Top / Right / Bottom / Left',
	percent: 'Add at Top / Right / Bottom / Left',
	aspectRatio: 'Aspect Ratio',
	anchor: 'Position of the Original',
	overlap: 'Overlap (Pixels)',
} as const;

/** Display names of the parameters, as the panel shows them and as error messages quote them. */
export const LABELS = {
	operation: 'Operation',
	apiKey: 'API Key',
	proxyUrl: 'Proxy URL',
	prompt: 'Prompt',
	imageSource: 'Image Source',
	imageBinaryProperty: 'Input Binary Field',
	imageUrl: 'Image URL',
	maskSource: 'Mask Source',
	maskBinaryProperty: 'Mask Binary Field',
	maskUrl: 'Mask URL',
	maskRectangles: 'Rectangles to Repaint',
	sourceBinary: 'Binary Field',
	sourceUrl: 'URL',
	sourceAlpha: 'Image Transparency',
	sourceRectangles: 'Rectangles',
	sourceText: 'Describe It',
	sourceExpand: 'Expand Canvas',
	maskPrompt: 'What to Repaint',
	maskNegativePrompt: 'What to Keep',
	expandSide: 'Add at',
	requestId: 'Request ID',
	options: 'Options',
	concurrency: 'Concurrency',
	dropNsfw: 'Drop NSFW Images',
	enhancePrompt: 'Enhance Prompt',
	fitMask: 'Fit Mask to Image',
	growMask: 'Grow Mask (Pixels)',
	invertMask: 'Invert Mask',
	maskThreshold: 'Mask Threshold',
	numImages: 'Number of Images',
	outputMode: 'Output',
	outputBinaryProperty: 'Output Binary Field',
	outputFormat: 'Output Format',
	syncMode: 'Return Data URI (Sync Mode)',
	returnMask: 'Return Mask',
	safetyTolerance: 'Safety Tolerance',
	seed: 'Seed',
	timeout: 'Timeout (Seconds)',
	webhookUrl: 'Webhook URL',
	logs: 'Include Logs',
} as const;

/** `"Name"`, as the node's messages quote parameters. */
export const q = (label: string): string => `"${label}"`;
