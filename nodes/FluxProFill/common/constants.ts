/**
 * The one source of every fal fact, default, limit and label the node uses. A leaf: it
 * imports nothing of the node.
 */

export const FILL_ENDPOINT = 'fal-ai/flux-pro/v1/fill';
/** The fill with the user's own FLUX.1 [pro] finetune (docs/flux-pro-fill-finetuned.md). */
export const FINETUNED_ENDPOINT = 'fal-ai/flux-pro/v1/fill-finetuned';
/** fal's text-prompted segmentation (Describe It): the mask of what the words name. */
export const SEGMENT_ENDPOINT = 'fal-ai/evf-sam';

/** fal request ids are UUIDs; anything with other characters would change the URL it is put in. */
export const FAL_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/;
export const FAL_QUEUE_URL = 'https://queue.fal.run';
/** Opening a storage upload: needs a valid key, costs nothing. The credential test calls it. */
export const FAL_STORAGE_INITIATE_URL =
	'https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3';
export const FAL_BILLING_URL = 'https://fal.ai/dashboard/billing';
export const FAL_KEYS_URL = 'https://fal.ai/dashboard/keys';
export const FAL_REQUESTS_URL = 'https://fal.ai/dashboard/requests';

/** fal's published prices: FLUX.1 [pro] Fill per megapixel (rounded up) per image; evf-sam per request. */
export const PRICE_PER_MEGAPIXEL_USD = 0.05;
/** fill-finetuned per megapixel (rounded up) per image: third-party price tables only, see docs. */
export const FINETUNED_PRICE_PER_MEGAPIXEL_USD = 0.06;
export const SEGMENT_PRICE_USD = 0.005;

export const OUTPUT_FORMATS = ['jpeg', 'png'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export const SAFETY_TOLERANCES = ['1', '2', '3', '4', '5', '6'] as const;
export type SafetyTolerance = (typeof SAFETY_TOLERANCES)[number];
/** `binary`: download every image into the item. `url`: links and JSON only. */
export const OUTPUT_MODES = ['binary', 'url'] as const;
export type OutputMode = (typeof OUTPUT_MODES)[number];

/** Ranges of the numeric parameters, inclusive. */
export const LIMITS = {
	numImages: { min: 1, max: 4 },
	/** fal's seed is a 32-bit unsigned integer. */
	seed: { min: 0, max: 4_294_967_295 },
	maskThreshold: { min: 0, max: 255 },
	growMask: { min: 0, max: 4096 },
	/** A day: longer is not a wait but a hang, and timers past 2^31 ms fire at once. */
	timeoutSeconds: { min: 1, max: 86_400 },
	concurrency: { min: 1, max: 100 },
	/** fal's range for finetune_strength. */
	finetuneStrength: { min: 0, max: 2 },
	maxCostUsd: { min: 0, max: 1_000_000 },
	/** 400% a side makes a canvas 9× the original's width: far past where the model keeps context. */
	expandPercent: { min: 0, max: 400 },
	/** A seam to blend, not a region to repaint: for more, draw a mask. */
	expandOverlap: { min: 0, max: 256 },
	/** Beyond these fal rejects an image anyway; a header claiming more is a bomb or a corrupt file. */
	imageSide: 16_384,
	imagePixels: 40_000_000,
} as const;

export const DEFAULTS = {
	imageBinaryProperty: 'data',
	maskBinaryProperty: 'mask',
	outputBinaryProperty: 'data',
	numImages: 1,
	outputFormat: 'jpeg' as OutputFormat,
	safetyTolerance: '2' as SafetyTolerance,
	outputMode: 'binary' as OutputMode,
	/** Mid-grey and anti-aliased edges split evenly. */
	maskThreshold: 128,
	growMask: 0,
	/** Describe It: a few pixels of margin let the model blend the repainted edge. */
	textMaskGrow: 8,
	timeoutSeconds: 600,
	/** A new fal account runs 2 requests at once; more only wait in fal's queue. */
	concurrency: 2,
	requestId: '={{ $json.request_id }}',
	/** fal sets none (the field is required); BFL, whose model it is, defaults to 1.1. */
	finetuneStrength: 1.1,
	expandBy: 'aspectRatio' as ExpandMode,
	expandAspectRatio: '16:9',
	expandAnchor: 'center' as Anchor,
	/** Enough for the model to blend the seam without redrawing much of the original. */
	expandOverlap: 16,
} as const;

/** Binary field of the output items that gets the mask sent to fal, when asked for. */
export const RETURNED_MASK_FIELD = 'mask';

export const EXPAND_MODES = ['aspectRatio', 'pixels', 'percent'] as const;
export type ExpandMode = (typeof EXPAND_MODES)[number];
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
export const EXPAND_ASPECT_RATIOS = ['16:9', '3:2', '4:3', '1:1', '3:4', '2:3', '9:16', '21:9'];

/** How long calls may take, and how often they are tried. */
export const TIMING = {
	/** The submit is never cut by a stop (fal could accept it unseen); this bounds a hanging one. */
	submitCallMs: 60_000,
	/** Submit waits for uploads and the submit only, not for the generation. */
	uploadAndSubmitMs: 120_000,
	/** Status and cancel answer at once, unlike a result. */
	quickCallMs: 60_000,
	cancelCallMs: 10_000,
	/** Where a request is, asked right before a cancel: short, the cancel must not wait. */
	cancelStatusMs: 3_000,
	downloadCallMs: 120_000,
	/** A storage call (an upload of up to 64 MiB): the client gives it no limit of its own. */
	uploadCallMs: 300_000,
	/** The most of a linked image read to learn its size, for Max Cost per Run. */
	probeMs: 30_000,
	/** Attempts of a call that is not retried until the deadline (submit, upload, download). */
	attempts: 4,
	downloadAttempts: 2,
	baseDelayMs: 250,
	maxDelayMs: 8_000,
	/** A reconnecting status stream backs off to at most this: completion is seen within it. */
	maxStreamDelayMs: 1_000,
	/** How long the end of a stream that reported COMPLETED is waited for (its connection is kept). */
	streamDrainMs: 1_000,
	/** A stream silent this long is reopened (which brings the current status at once). */
	streamIdleMs: 15_000,
	/** The longest Retry-After waited for; longer answers fail the call instead. */
	maxRetryAfterMs: 30_000,
	/** n8n retries a node within seconds or minutes; a day covers any wait between tries. */
	memoryKeepMs: 24 * 60 * 60 * 1000,
} as const;

/** Size caps of everything read from fal or a proxy: an answer is not trusted to be small. */
export const CAPS = {
	/** Status, submit, upload and error answers are a few hundred bytes. */
	jsonBytes: 1024 * 1024,
	/** A result in sync mode holds up to 4 images as data URIs. */
	resultBytes: 128 * 1024 * 1024,
	/** One server-sent event of the status stream. */
	eventBytes: 64 * 1024,
	/** Pictures up to this go to fal inline, as data URIs in the submit; larger ones are uploaded. */
	inlineBytes: 1024 * 1024,
	/** The start of a linked image that is read for its width and height (Max Cost per Run). */
	probeBytes: 256 * 1024,
	/** A generated image is a few MB. */
	imageBytes: 64 * 1024 * 1024,
	/** fal's detail text in a message; the whole detail kept with an error, at most. */
	detailInMessage: 300,
	detailKept: 2_000,
	promptChars: 10_000,
	listed: 16,
	/** Entries kept by the process-wide maps (ids and sums, a few hundred bytes each). */
	memoryEntries: 100_000,
	redirects: 3,
} as const;

/** Display names of the parameters, as the panel shows them and as messages quote them. */
export const LABELS = {
	operation: 'Operation',
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
	expandBy: 'Expand By',
	expandSides: 'Add at Top / Right / Bottom / Left',
	expandAspectRatio: 'Aspect Ratio',
	expandAnchor: 'Position of the Original',
	expandOverlap: 'Overlap (Pixels)',
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
	finetuneId: 'Finetune ID',
	finetuneStrength: 'Finetune Strength',
	maxCostUsd: 'Max Cost per Run (USD)',
	logs: 'Include Logs',
} as const;

/** `"Name"`, as the node's messages quote parameters. */
export const q = (label: string): string => `"${label}"`;
