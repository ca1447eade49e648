// @ts-check
/**
 * The emulator's stand-in for FLUX.1 [pro] Fill: keeps the black part of the mask exactly
 * and paints the white part with a picture derived from (seed, prompt, image index).
 * Same inputs → same bytes; any change in seed, prompt or index → different pixels.
 */
'use strict';

const crypto = require('node:crypto');
const sharp = require('sharp');

/** @typedef {{ data: Buffer, width: number, height: number, channels: number }} RawImage */

/**
 * Decodes an image to 8-bit sRGB raw pixels, keeping an alpha channel if it has one.
 * @param {Buffer} bytes
 * @returns {Promise<RawImage>}
 */
async function decodeImage(bytes) {
	const { data, info } = await sharp(bytes)
		.toColourspace('srgb')
		.raw({ depth: 'uchar' })
		.toBuffer({ resolveWithObject: true });
	return { data, width: info.width, height: info.height, channels: info.channels };
}

/**
 * Decodes a mask to one byte per pixel: 1 = repaint (luminance > 127), 0 = keep.
 * Transparent parts count as black (kept).
 * @param {Buffer} bytes
 * @returns {Promise<{ bits: Uint8Array, width: number, height: number }>}
 */
async function decodeMask(bytes) {
	const { data, info } = await sharp(bytes)
		.flatten({ background: '#000000' })
		.greyscale()
		.raw({ depth: 'uchar' })
		.toBuffer({ resolveWithObject: true });
	const bits = new Uint8Array(info.width * info.height);
	for (let i = 0; i < bits.length; i++) bits[i] = data[i * info.channels] > 127 ? 1 : 0;
	return { bits, width: info.width, height: info.height };
}

/**
 * The fill picture's parameters, from a hash of what must make outputs differ.
 * @param {number} seed
 * @param {string} prompt
 * @param {number} index
 */
function paletteFor(seed, prompt, index) {
	const h = crypto.createHash('sha256').update(`${seed}\u0000${prompt}\u0000${index}`).digest();
	return {
		from: [h[0], h[1], h[2]],
		to: [h[3], h[4], h[5]],
		direction: h[6] % 3, // 0 horizontal, 1 vertical, 2 diagonal
		stripe: 6 + (h[7] % 20), // stripe period in pixels
		stripeAxis: h[8] & 1,
	};
}

/**
 * Repaints the masked pixels of a copy of the image.
 * @param {RawImage} image
 * @param {Uint8Array} mask one byte per pixel, 1 = repaint
 * @param {{ seed: number, prompt: string, index: number }} key
 * @returns {Buffer} raw pixels, same layout as the image
 */
function repaint(image, mask, key) {
	const { width, height, channels } = image;
	const out = Buffer.from(image.data);
	const p = paletteFor(key.seed, key.prompt, key.index);
	const colourChannels = channels >= 3 ? 3 : 1;
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const pixel = y * width + x;
			if (!mask[pixel]) continue;
			const t =
				p.direction === 0
					? x / Math.max(1, width - 1)
					: p.direction === 1
						? y / Math.max(1, height - 1)
						: (x + y) / Math.max(1, width + height - 2);
			const along = p.stripeAxis ? x : y;
			const shade = Math.floor(along / p.stripe) % 2 === 0 ? 1 : 0.8;
			const offset = pixel * channels;
			for (let c = 0; c < colourChannels; c++) {
				out[offset + c] = Math.round((p.from[c] + (p.to[c] - p.from[c]) * t) * shade);
			}
			if (channels === 2 || channels === 4) out[offset + channels - 1] = 255; // painted pixels are opaque
		}
	}
	return out;
}

/**
 * Moves every masked pixel towards `colour` by `weight` (0: unchanged, 1: the colour), rounded;
 * grey images move towards the colour's luma (Rec. 601). Alpha is left as it is.
 * @param {Buffer} pixels raw pixels in the image's layout, changed in place
 * @param {{ width: number, height: number, channels: number }} image
 * @param {Uint8Array} mask one byte per pixel, 1 = repainted
 * @param {[number, number, number]} colour
 * @param {number} weight 0–1
 */
function tint(pixels, image, mask, colour, weight) {
	const { width, height, channels } = image;
	const target =
		channels >= 3
			? colour
			: [Math.round(0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2])];
	for (let pixel = 0; pixel < width * height; pixel++) {
		if (!mask[pixel]) continue;
		const offset = pixel * channels;
		for (let c = 0; c < target.length; c++) {
			const value = pixels[offset + c];
			pixels[offset + c] = Math.round(value + (target[c] - value) * weight);
		}
	}
}

/**
 * @param {Buffer} raw
 * @param {{ width: number, height: number, channels: number }} info
 * @param {'jpeg'|'png'} format
 * @returns {Promise<Buffer>}
 */
function encode(raw, info, format) {
	const channels = /** @type {1|2|3|4} */ (info.channels);
	const pipeline = sharp(raw, { raw: { width: info.width, height: info.height, channels } });
	if (format === 'png') return pipeline.png().toBuffer();
	// 4:4:4 keeps the kept region close to the input, so tests can compare it with a small tolerance.
	return pipeline
		.flatten({ background: '#ffffff' })
		.jpeg({ quality: 90, chromaSubsampling: '4:4:4' })
		.toBuffer();
}

module.exports = { decodeImage, decodeMask, repaint, tint, encode };
