// @ts-check
/**
 * The fal-ai/flux-pro/v1/fill endpoint itself: validate the input, load image and mask,
 * check them, generate `num_images` outputs and build the output JSON (or the 422).
 * fill-finetuned runs the same with its own validation, check and retouch (finetune.js).
 */
'use strict';

const crypto = require('node:crypto');
const sharp = require('sharp');
const { validateFillInput, jsonInvalid } = require('./validate');
const { loadSource, describeUrl } = require('./image-source');
const { decodeImage, decodeMask, repaint, encode } = require('./generate');

/**
 * @typedef {object} ModelContext
 * @property {import('./storage').Storage} storage
 * @property {string} baseUrl
 * @property {import('./types').EmulatorConfig} config
 * @property {AbortSignal} signal
 * @property {number} startedAt when processing began (for timings.inference)
 * @property {(message: string) => void} log adds a runner log line
 * @property {ReadonlySet<string>} finetunes the finetune ids that exist (fill-finetuned)
 */

/**
 * What an endpoint taking the fill's input and more (fill-finetuned) changes in the fill's run.
 * @typedef {import('./validate').FillInput & Record<string, unknown>} FillShapedInput
 * @typedef {object} FillVariant
 * @property {(body: unknown) => ({ ok: true, input: FillShapedInput } | { ok: false, detail: import('./validate').FieldError[] })} validate
 * @property {(input: FillShapedInput) => import('./types').Outcome | undefined} [check]
 *   runs after validation, before the images load; an answer ends the run with it
 * @property {(pixels: Buffer, image: import('./generate').RawImage, mask: Uint8Array, input: FillShapedInput) => void} [retouch]
 *   changes each generated picture (raw pixels, the image's layout) in place
 */

const CONTENT_TYPES = { jpeg: 'image/jpeg', png: 'image/png' };

/**
 * @param {import('./validate').FieldError[]} detail
 * @returns {import('./types').Outcome}
 */
const unprocessable = (detail) => ({ status: 422, body: { detail } });

/**
 * Loads one input image; answers the field error fal would give when it cannot.
 * @param {'image_url'|'mask_url'} field
 * @param {string} url
 * @param {ModelContext} ctx
 * @returns {Promise<{ bytes: Buffer, width: number, height: number } | { error: import('./validate').FieldError }>}
 */
async function loadImageField(field, url, ctx) {
	/** @param {string} why */
	const fail = (why) => ({
		error: {
			loc: ['body', field],
			msg: `Could not load image from ${field} (${describeUrl(url)}): ${why}`,
			type: 'image_load_error',
		},
	});
	/** @type {Buffer} */
	let bytes;
	try {
		bytes = await loadSource(url, {
			baseUrl: ctx.baseUrl,
			getFile: (p) => ctx.storage.get(p),
			timeoutMs: ctx.config.fetchTimeoutMs,
			signal: ctx.signal,
		});
	} catch (error) {
		return fail(error instanceof Error ? error.message : String(error));
	}
	try {
		const meta = await sharp(bytes).metadata();
		if (!meta.width || !meta.height) return fail('the file is not an image');
		return { bytes, width: meta.width, height: meta.height };
	} catch {
		return fail('the file is not a supported image (PNG, JPEG, WebP, ...)');
	}
}

/**
 * Runs the endpoint on a submitted body.
 * @param {unknown} body the request JSON
 * @param {string | undefined} inputError set when the body was not JSON
 * @param {ModelContext} ctx
 * @returns {Promise<import('./types').Outcome>}
 */
function runFill(body, inputError, ctx) {
	return runFillWith(body, inputError, ctx, { validate: validateFillInput });
}

/**
 * The fill's run, with what a variant of it changes.
 * @param {unknown} body
 * @param {string | undefined} inputError
 * @param {ModelContext} ctx
 * @param {FillVariant} variant
 * @returns {Promise<import('./types').Outcome>}
 */
async function runFillWith(body, inputError, ctx, variant) {
	if (inputError !== undefined) return unprocessable(jsonInvalid(inputError));
	const validated = variant.validate(body);
	if ('detail' in validated) return unprocessable(validated.detail);
	const input = validated.input;
	const refused = variant.check?.(input);
	if (refused) return refused;

	if (/\bpolicy-violation-test\b/.test(input.prompt)) {
		return unprocessable([
			{
				loc: ['body', 'prompt'],
				msg: 'The content could not be processed because it contained material flagged by a content checker.',
				type: 'content_policy_violation',
			},
		]);
	}

	const [image, mask] = await Promise.all([
		loadImageField('image_url', input.image_url, ctx),
		loadImageField('mask_url', input.mask_url, ctx),
	]);
	/** @type {import('./validate').FieldError[]} */
	const loadErrors = [];
	if ('error' in image) loadErrors.push(image.error);
	if ('error' in mask) loadErrors.push(mask.error);
	if ('error' in image || 'error' in mask) return unprocessable(loadErrors);

	const tooLarge = imageTooLarge(image, ctx.config.maxImagePixels);
	if (tooLarge) return tooLarge;
	if (image.width !== mask.width || image.height !== mask.height) {
		return unprocessable([
			{
				loc: ['body', 'mask_url'],
				msg: `Mask dimensions (${mask.width}x${mask.height}) must match image dimensions (${image.width}x${image.height})`,
				type: 'value_error',
			},
		]);
	}
	ctx.log(`Loaded image ${image.width}x${image.height} and mask`);

	const seed = input.seed ?? crypto.randomInt(0, 2 ** 32);
	const [raw, maskBits] = await Promise.all([decodeImage(image.bytes), decodeMask(mask.bytes)]);
	const contentType = CONTENT_TYPES[input.output_format];
	const images = [];
	for (let index = 0; index < input.num_images; index++) {
		const pixels = repaint(raw, maskBits.bits, { seed, prompt: input.prompt, index });
		variant.retouch?.(pixels, raw, maskBits.bits, input);
		const bytes = await encode(pixels, raw, input.output_format);
		const url = input.sync_mode
			? `data:${contentType};base64,${bytes.toString('base64')}`
			: ctx.storage.putGenerated(bytes, contentType, input.output_format);
		images.push({ url, width: raw.width, height: raw.height, content_type: contentType });
		ctx.log(`Generated image ${index + 1}/${input.num_images}`);
	}
	// "nsfw-test" flags every image; "nsfw-test:1" only image 1 (0-based), as fal flags each image.
	const nsfw = /\bnsfw-test(?::(\d+))?\b/.exec(input.prompt);
	return {
		status: 200,
		body: {
			images,
			timings: { inference: (Date.now() - ctx.startedAt) / 1000 },
			seed,
			has_nsfw_concepts: images.map(
				(_, i) => !!nsfw && (nsfw[1] === undefined || Number(nsfw[1]) === i),
			),
			prompt: input.prompt,
		},
	};
}

// loadImageField and unprocessable are shared with the segmentation endpoint (segment.js),
// runFillWith with fill-finetuned (finetune.js).
/**
 * fal's 422 for an input image with more pixels than it takes; undefined when it fits.
 * @param {{ width: number, height: number }} image
 * @param {number} maxPixels
 */
function imageTooLarge(image, maxPixels) {
	if (image.width * image.height <= maxPixels) return undefined;
	return unprocessable([
		{
			loc: ['body', 'image_url'],
			msg: `Image dimensions (${image.width}x${image.height}) exceed the maximum of ${maxPixels} pixels`,
			type: 'image_too_large',
			ctx: { max_pixels: maxPixels },
		},
	]);
}

module.exports = { runFill, runFillWith, loadImageField, unprocessable, imageTooLarge };
