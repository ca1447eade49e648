/** Pictures made and read pixel by pixel, for the mask and canvas tests. */
import sharp from 'sharp';

import type { Size } from '../../../nodes/FluxProFill/pictures/masks';

export type Predicate = (x: number, y: number) => boolean;

/** A picture whose pixel (x, y) is `pixel(x, y)`, with `channels` values. */
export async function picture(
	width: number,
	height: number,
	channels: 1 | 2 | 3 | 4,
	pixel: (x: number, y: number) => number[],
	format: 'png' | 'jpeg' | 'webp' | 'gif' = 'png',
): Promise<Buffer> {
	const raw = Buffer.alloc(width * height * channels);
	for (let y = 0; y < height; y++)
		for (let x = 0; x < width; x++) raw.set(pixel(x, y), (y * width + x) * channels);
	let image = sharp(raw, { raw: { width, height, channels } });
	if (channels <= 2) image = image.toColourspace('b-w');
	if (format === 'webp') return await image.webp({ lossless: true }).toBuffer();
	if (format === 'jpeg') return await image.jpeg({ quality: 95 }).toBuffer();
	return await image.toFormat(format).toBuffer();
}

/** A one-channel PNG: white where `white`, black elsewhere. */
export const bw = (width: number, height: number, white: Predicate) =>
	picture(width, height, 1, (x, y) => [white(x, y) ? 255 : 0]);

export const inside =
	(x0: number, y0: number, x1: number, y1: number): Predicate =>
	(x, y) =>
		x >= x0 && x < x1 && y >= y0 && y < y1;

/**
 * Checks that `png` is a lossless 8-bit one-channel black-and-white PNG of `size` whose
 * white pixels are exactly those of `white`; on failure shows both as text.
 */
export async function expectMask(png: Buffer, size: Size, white: Predicate): Promise<void> {
	expect(await sharp(png).metadata()).toMatchObject({
		format: 'png',
		width: size.width,
		height: size.height,
		channels: 1,
		depth: 'uchar',
		hasAlpha: false,
	});
	const data = await sharp(png).toColourspace('b-w').raw().toBuffer();
	expect(data).toHaveLength(size.width * size.height);
	const rows: string[] = [];
	let wrong = 0;
	for (let y = 0; y < size.height; y++) {
		let expected = '';
		let actual = '';
		for (let x = 0; x < size.width; x++) {
			const value = data[y * size.width + x];
			const want = white(x, y);
			if (value !== (want ? 255 : 0)) wrong++;
			expected += want ? '#' : '.';
			actual += value === 255 ? '#' : value === 0 ? '.' : '?';
		}
		rows.push(`${expected}   ${actual}`);
	}
	if (wrong > 0)
		throw new Error(`${wrong} pixels differ (expected | actual, ? = grey):\n${rows.join('\n')}`);
}
