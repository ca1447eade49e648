// @ts-check
/** Test pictures and pixel access, for tests that check what the emulator painted. */
'use strict';

const sharp = require('sharp');

/**
 * A deterministic, non-uniform picture (gradients plus a checkerboard), so a repainted
 * region is obvious and an untouched one can be compared byte for byte.
 * @param {{ width: number, height: number, format?: 'png'|'jpeg'|'webp', seed?: number }} options
 * @returns {Promise<Buffer>}
 */
async function makeTestImage({ width, height, format = 'png', seed = 0 }) {
	const data = Buffer.alloc(width * height * 3);
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const i = (y * width + x) * 3;
			data[i] = (Math.round((x * 255) / Math.max(1, width - 1)) + seed * 37) % 256;
			data[i + 1] = (Math.round((y * 255) / Math.max(1, height - 1)) + seed * 91) % 256;
			data[i + 2] = ((x >> 3) ^ (y >> 3)) & 1 ? 200 - (seed % 50) : 40 + (seed % 50);
		}
	}
	const image = sharp(data, { raw: { width, height, channels: 3 } });
	if (format === 'jpeg') return image.jpeg({ quality: 95 }).toBuffer();
	if (format === 'webp') return image.webp({ lossless: true }).toBuffer();
	return image.png().toBuffer();
}

/**
 * A mask: black everywhere (kept), white inside `rect` (repainted).
 * @param {{ width: number, height: number, rect: { left: number, top: number, width: number, height: number }, format?: 'png'|'jpeg' }} options
 * @returns {Promise<Buffer>}
 */
async function makeMask({ width, height, rect, format = 'png' }) {
	const data = Buffer.alloc(width * height * 3);
	const right = Math.min(width, rect.left + rect.width);
	const bottom = Math.min(height, rect.top + rect.height);
	for (let y = Math.max(0, rect.top); y < bottom; y++) {
		data.fill(255, (y * width + Math.max(0, rect.left)) * 3, (y * width + right) * 3);
	}
	const image = sharp(data, { raw: { width, height, channels: 3 } });
	return format === 'jpeg' ? image.jpeg({ quality: 100 }).toBuffer() : image.png().toBuffer();
}

/**
 * A picture of flat colours, for segmentation tests: `background` everywhere, then each region's
 * rect painted with its colour (later regions over earlier ones). Lossless unless `format` is jpeg.
 * @param {{ width: number, height: number, background?: [number, number, number], regions?: { rect: { left: number, top: number, width: number, height: number }, colour: [number, number, number] }[], format?: 'png'|'jpeg'|'webp' }} options
 * @returns {Promise<Buffer>}
 */
async function makeColourImage({
	width,
	height,
	background = [0, 0, 0],
	regions = [],
	format = 'png',
}) {
	const data = Buffer.alloc(width * height * 3);
	for (let pixel = 0; pixel < width * height; pixel++) data.set(background, pixel * 3);
	for (const { rect, colour } of regions) {
		const right = Math.min(width, rect.left + rect.width);
		const bottom = Math.min(height, rect.top + rect.height);
		for (let y = Math.max(0, rect.top); y < bottom; y++) {
			for (let x = Math.max(0, rect.left); x < right; x++) data.set(colour, (y * width + x) * 3);
		}
	}
	const image = sharp(data, { raw: { width, height, channels: 3 } });
	if (format === 'jpeg') return image.jpeg({ quality: 95 }).toBuffer();
	if (format === 'webp') return image.webp({ lossless: true }).toBuffer();
	return image.png().toBuffer();
}

/**
 * Decodes any supported image to 8-bit RGB raw pixels (alpha dropped).
 * @param {Buffer} buffer
 * @returns {Promise<{ width: number, height: number, channels: number, data: Buffer }>}
 */
async function readPixels(buffer) {
	const { data, info } = await sharp(buffer)
		.removeAlpha()
		.toColourspace('srgb')
		.raw({ depth: 'uchar' })
		.toBuffer({ resolveWithObject: true });
	return { width: info.width, height: info.height, channels: info.channels, data };
}

module.exports = { makeTestImage, makeMask, makeColourImage, readPixels };
