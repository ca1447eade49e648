import sharp from 'sharp';

import { readImageInfo } from '../../nodes/FluxProFill/images/imageInfo';

const picture = (format: 'png' | 'jpeg' | 'webp' | 'gif', width = 40, height = 30) =>
	sharp({ create: { width, height, channels: 3, background: '#3366cc' } })
		.toFormat(format)
		.toBuffer();

describe('readImageInfo', () => {
	it.each([
		['png', 'image/png'],
		['jpeg', 'image/jpeg'],
		['webp', 'image/webp'],
	] as const)('reads format and size of a %s from its header', async (format, mimeType) => {
		const result = readImageInfo(await picture(format, 123, 45));
		expect(result).toEqual({ ok: true, info: { format, mimeType, width: 123, height: 45 } });
	});

	it('reads the size from the first bytes only', async () => {
		const png = await picture('png', 640, 480);
		expect(readImageInfo(png.subarray(0, 64))).toMatchObject({
			ok: true,
			info: { width: 640, height: 480 },
		});
	});

	it('names formats fal does not take', async () => {
		expect(readImageInfo(await picture('gif'))).toEqual({
			ok: false,
			reason: 'it is a GIF file, not PNG, JPEG or WebP',
		});
	});

	it('rejects empty and non-image files', () => {
		expect(readImageInfo(Buffer.alloc(0))).toEqual({
			ok: false,
			reason: 'the file is empty (0 bytes)',
		});
		expect(readImageInfo(Buffer.from('hello, this is text')).ok).toBe(false);
	});
});
