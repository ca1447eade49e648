/** fal endpoint this package wraps. */
export const FAL_ENDPOINT_ID = 'fal-ai/flux-pro/v1/fill';

export const OUTPUT_FORMATS = ['jpeg', 'png'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const SAFETY_TOLERANCES = ['1', '2', '3', '4', '5', '6'] as const;
export type SafetyTolerance = (typeof SAFETY_TOLERANCES)[number];

export const MIN_IMAGES = 1;
export const MAX_IMAGES = 4;

/** fal's seed is a 32-bit unsigned integer; larger values are rejected or wrapped. */
export const MAX_SEED = 4_294_967_295;

export const OUTPUT_MIME_TYPES: Record<OutputFormat, string> = {
	jpeg: 'image/jpeg',
	png: 'image/png',
};

export const FAL_BILLING_URL = 'https://fal.ai/dashboard/billing';
export const FAL_KEYS_URL = 'https://fal.ai/dashboard/keys';

/** A new fal account runs 2 requests at once; more only wait in fal's queue. */
export const DEFAULT_CONCURRENCY = 2;
