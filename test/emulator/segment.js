// @ts-check
/**
 * The fal-ai/evf-sam endpoint (EVF-SAM2, text-prompted segmentation): validate the input,
 * load the image, compute the mask by the colour rule of segment-mask.js, store the PNG in the
 * CDN and answer `{ image: { url, content_type, file_name, file_size } }` (or the 422).
 */
'use strict';

const sharp = require('sharp');
const { jsonInvalid } = require('./validate');
const { validateSegmentInput } = require('./segment-validate');
const { imageTooLarge, loadImageField, unprocessable } = require('./model');
const { decodeImage } = require('./generate');
const { segmentMask, overlayMask } = require('./segment-mask');

/**
 * Runs the endpoint on a submitted body.
 * @param {unknown} body the request JSON
 * @param {string | undefined} inputError set when the body was not JSON
 * @param {import('./model').ModelContext} ctx
 * @returns {Promise<import('./types').Outcome>}
 */
async function runSegment(body, inputError, ctx) {
	if (inputError !== undefined) return unprocessable(jsonInvalid(inputError));
	const validated = validateSegmentInput(body);
	if ('detail' in validated) return unprocessable(validated.detail);
	const input = validated.input;

	const image = await loadImageField('image_url', input.image_url, ctx);
	if ('error' in image) return unprocessable([image.error]);
	const tooLarge = imageTooLarge(image, ctx.config.maxImagePixels);
	if (tooLarge) return tooLarge;
	ctx.log(`Loaded image ${image.width}x${image.height}`);

	const raw = await decodeImage(image.bytes);
	const { mask, colours, negativeColours } = segmentMask(raw, input);
	const without = negativeColours.length > 0 ? ` without ${negativeColours.join(', ')}` : '';
	ctx.log(
		colours.length > 0
			? `Segmented ${colours.join(', ')}${without}`
			: 'Nothing in the prompt was found in the image',
	);

	// mask_only (the default): the mask as an 8-bit grey PNG; else the image with the mask laid over it.
	const shown = input.mask_only
		? { data: Buffer.from(mask), width: raw.width, height: raw.height, channels: 1 }
		: overlayMask(raw, mask);
	const channels = /** @type {1|3|4} */ (shown.channels);
	const pipeline = sharp(shown.data, {
		raw: { width: shown.width, height: shown.height, channels },
	});
	const bytes = await (channels === 1 ? pipeline.toColourspace('b-w') : pipeline).png().toBuffer();
	const url = ctx.storage.putGenerated(bytes, 'image/png', 'png');
	return {
		status: 200,
		body: {
			image: {
				url,
				content_type: 'image/png',
				file_name: decodeURIComponent(new URL(url).pathname.split('/').pop() ?? 'mask.png'),
				file_size: bytes.length,
			},
		},
	};
}

module.exports = { runSegment };
