import { createHash } from 'node:crypto';

import sharp from 'sharp';

import { LIMITS } from '../../../nodes/FluxProFill/common/constants';
import { InputProblem, pictures as pictureWords } from '../../../nodes/FluxProFill/common/messages';
import {
	damageOf,
	digestOf,
	pngPicture,
	readImageInfo,
	readPicture,
	upright,
	type BinaryReader,
	type ImageInfo,
	type Picture,
} from '../../../nodes/FluxProFill/pictures/picture';
import { expectProblem, problemOf, settled } from '../kit';
import { expandCanvas, planExpansion } from '../../../nodes/FluxProFill/pictures/expand';
import { prepareMask } from '../../../nodes/FluxProFill/pictures/masks';
import { forgePngSize } from './forge';

const flat = (width: number, height: number, format: 'png' | 'jpeg' | 'webp' | 'gif') =>
	sharp({ create: { width, height, channels: 3, background: '#3366cc' } })
		.toFormat(format)
		.toBuffer();

/**
 * A 64×32 picture as stored: red in the top-left quadrant, blue elsewhere, with an EXIF
 * orientation. Orientation 6 means "turn 90° clockwise to show": shown, it is 32×64 with
 * the red quadrant at the top right.
 */
const sideways = (format: 'jpeg' | 'png', orientation = 6) => {
	const raw = Buffer.alloc(64 * 32 * 3);
	for (let y = 0; y < 32; y++)
		for (let x = 0; x < 64; x++)
			raw.set(x < 32 && y < 16 ? [220, 20, 20] : [20, 20, 220], (y * 64 + x) * 3);
	return sharp(raw, { raw: { width: 64, height: 32, channels: 3 } })
		.withMetadata({ orientation })
		.toFormat(format, { quality: 95 })
		.toBuffer();
};

const asPicture = (bytes: Buffer, fileName: string): Picture => {
	const info = readImageInfo(bytes);
	if (!info.ok) throw new Error(info.reason);
	return { kind: 'bytes', bytes, info: info.info, fileName, digest: digestOf(bytes) };
};

/** A binary field reader over the given files, as n8n would give them. */
const reader = (files: Record<string, { bytes: Buffer; fileName?: string }>): BinaryReader => ({
	fields: () =>
		Object.fromEntries(Object.entries(files).map(([name, { fileName }]) => [name, { fileName }])),
	read: async (field) => files[field].bytes,
});

describe('readImageInfo', () => {
	it.each([
		['png', 'image/png'],
		['jpeg', 'image/jpeg'],
		['webp', 'image/webp'],
	] as const)('reads the format and size of a %s from its header', async (format, mimeType) => {
		expect(readImageInfo(await flat(123, 45, format))).toEqual({
			ok: true,
			info: { format, mimeType, width: 123, height: 45, orientation: 1 } satisfies ImageInfo,
		});
	});

	it('needs only the first bytes', async () => {
		const png = await flat(640, 480, 'png');
		expect(readImageInfo(png.subarray(0, 64))).toMatchObject({
			ok: true,
			info: { width: 640, height: 480 },
		});
	});

	it('gives the size as shown: EXIF orientation 6 swaps width and height', async () => {
		expect(readImageInfo(await sideways('jpeg'))).toEqual({
			ok: true,
			info: { format: 'jpeg', mimeType: 'image/jpeg', width: 32, height: 64, orientation: 6 },
		});
	});

	it.each([1, 2, 3, 4, 5, 6, 7, 8])(
		'swaps the sides for orientation %i only if it turns by 90°',
		async (orientation) => {
			// 1–4: as stored, mirrored or turned by 180°; 5–8: turned by 90°, mirrored or not.
			const turned = orientation >= 5;
			expect(readImageInfo(await sideways('jpeg', orientation))).toMatchObject({
				ok: true,
				info: { width: turned ? 32 : 64, height: turned ? 64 : 32, orientation },
			});
		},
	);

	it('refuses formats fal does not take, empty files and files that are no image', async () => {
		const gif = readImageInfo(await flat(10, 10, 'gif'));
		expect(gif.ok).toBe(false);
		expect(!gif.ok && gif.reason).toContain('GIF');
		expect(readImageInfo(Buffer.alloc(0)).ok).toBe(false);
		expect(readImageInfo(Buffer.from('hello, this is text')).ok).toBe(false);
	});
});

describe('upright', () => {
	it('turns a sideways JPEG as it is shown, and keeps it a JPEG', async () => {
		const turned = await upright(asPicture(await sideways('jpeg'), 'photo.JPG'));
		expect(turned.info).toEqual({
			format: 'jpeg',
			mimeType: 'image/jpeg',
			width: 32,
			height: 64,
			orientation: 1,
		});
		expect(turned.fileName).toBe('photo.jpg');
		const { data, info } = await sharp(turned.bytes).raw().toBuffer({ resolveWithObject: true });
		expect(info).toMatchObject({ width: 32, height: 64 });
		// No orientation is left for a viewer (or fal) to apply a second time; colour is kept
		// at full resolution.
		const metadata = await sharp(turned.bytes).metadata();
		expect(metadata.orientation ?? 1).toBe(1);
		expect(metadata.chromaSubsampling).toBe('4:4:4');
		const red = (x: number, y: number) => {
			const i = (y * 32 + x) * info.channels;
			return data[i] > 150 && data[i + 2] < 100;
		};
		// The red quadrant, stored top left, is shown top right.
		expect(red(24, 16)).toBe(true);
		expect(red(8, 16)).toBe(false);
		expect(red(24, 48)).toBe(false);
		expect(red(8, 48)).toBe(false);
		expect(turned.digest).toBe(createHash('sha256').update(turned.bytes).digest('hex'));
	});

	it('makes any other sideways picture a lossless upright PNG', async () => {
		// readImageInfo gives an orientation for JPEGs only (see test/unit/FOUND-BUGS.md);
		// here the PNG's info says what its EXIF says.
		const stored = await sideways('png');
		const picture = asPicture(stored, 'scan.webp');
		const turned = await upright({ ...picture, info: { ...picture.info, orientation: 6 } });
		expect(turned.info).toMatchObject({ format: 'png', mimeType: 'image/png', orientation: 1 });
		expect(turned.fileName).toBe('scan.png');
		const expected = await sharp(stored).autoOrient().raw().toBuffer({ resolveWithObject: true });
		const { data, info } = await sharp(turned.bytes).raw().toBuffer({ resolveWithObject: true });
		expect(info).toMatchObject({ width: 32, height: 64 });
		expect(data.equals(expected.data)).toBe(true);
	});

	it('passes an upright picture as it is', async () => {
		const picture = asPicture(await flat(20, 10, 'jpeg'), 'a.jpg');
		expect(await upright(picture)).toBe(picture);
	});
});

describe('readPicture', () => {
	it('reads a binary field into a checked picture with its digest', async () => {
		const bytes = await flat(40, 30, 'png');
		const picture = await readPicture('image', 'data', reader({ data: { bytes } }));
		expect(picture).toEqual({
			kind: 'bytes',
			bytes,
			info: { format: 'png', mimeType: 'image/png', width: 40, height: 30, orientation: 1 },
			fileName: 'image.png',
			digest: digestOf(bytes),
		});
		const named = await readPicture('mask', 'm', reader({ m: { bytes, fileName: 'mine.png' } }));
		expect(named.fileName).toBe('mine.png');
	});

	it('names the fields there are when the one asked for is missing', async () => {
		const bytes = await flat(4, 4, 'png');
		const problem = await problemOf(
			readPicture('image', 'data', reader({ photo: { bytes }, scan: { bytes } })),
		);
		expect(problem.message + problem.description).toMatch(/photo.*scan|scan.*photo/);
	});

	it('refuses a file that is not a picture fal takes, naming the file', async () => {
		const gif = await flat(4, 4, 'gif');
		const problem = await problemOf(
			readPicture('image', 'data', reader({ data: { bytes: gif, fileName: 'cat.gif' } })),
		);
		expect(problem.message).toContain('cat.gif');
	});

	it('refuses a picture larger than fal accepts, naming its size', async () => {
		const small = await flat(4, 4, 'png');
		const side = LIMITS.imageSide + 1;
		const square = Math.ceil(Math.sqrt(LIMITS.imagePixels)) + 1;
		for (const size of [
			{ width: side, height: 10 },
			{ width: 10, height: side },
			{ width: square, height: square },
		]) {
			const bytes = forgePngSize(small, size.width, size.height);
			await expectProblem(
				readPicture('image', 'data', reader({ data: { bytes } })),
				pictureWords.tooLarge('image', 'data', size),
			);
		}
	});

	it('refuses a damaged file with the reason', async () => {
		const png = await flat(40, 30, 'png');
		const cut = png.subarray(0, png.length - 20);
		const problem = await problemOf(readPicture('mask', 'mask', reader({ mask: { bytes: cut } })));
		expect(problem.message).toContain(damageOf(cut));
	});
});

describe('damageOf', () => {
	it('passes a whole picture and names what is wrong with others', async () => {
		const jpeg = await flat(40, 30, 'jpeg');
		expect(damageOf(jpeg)).toBeUndefined();
		expect(damageOf(jpeg.subarray(0, jpeg.length - 2))).toMatch(/cut off/);
		expect(damageOf(Buffer.alloc(0))).toBeDefined();
		expect(damageOf(await flat(4, 4, 'gif'))).toBeDefined();
	});
});

describe('pngPicture and digestOf', () => {
	it('describes a PNG the node made, by content', () => {
		const bytes = Buffer.from('made by the node');
		const picture = pngPicture(bytes, { width: 3, height: 2 }, 'mask.png');
		expect(picture).toMatchObject({
			kind: 'bytes',
			fileName: 'mask.png',
			info: { format: 'png', mimeType: 'image/png', width: 3, height: 2, orientation: 1 },
		});
		expect(picture.digest).toBe(digestOf(Buffer.from('made by the node')));
		expect(digestOf(Buffer.from('other'))).not.toBe(picture.digest);
	});
});

describe('loadSharp without sharp', () => {
	it('loads the module, reads headers, and names the problem only when pixels are needed', async () => {
		type PictureModule = typeof import('../../../nodes/FluxProFill/pictures/picture');
		let picture: PictureModule | undefined;
		let tries = 0;
		jest.isolateModules(() => {
			jest.doMock('sharp', () => {
				if (++tries === 1)
					throw new Error('Could not load the "sharp" module using the linux-x64 runtime\nmore');
				return jest.requireActual('sharp');
			});
			picture = jest.requireActual<PictureModule>('../../../nodes/FluxProFill/pictures/picture');
		});
		try {
			expect(picture!.readImageInfo(await flat(8, 6, 'png'))).toMatchObject({ ok: true });
			// The module's own copy of InputProblem: told by its name.
			const problem = (await settled(picture!.loadSharp())) as InputProblem;
			expect(problem.name).toBe('InputProblem');
			expect(problem.message + problem.description).toContain(process.version);
			expect(problem.message + problem.description).not.toContain('more');
			// A failure is not remembered: once sharp can be loaded, it is.
			expect(typeof (await picture!.loadSharp())).toBe('function');
		} finally {
			jest.dontMock('sharp');
		}
	});
});

/** A 64×32 RGBA picture, stored sideways: EXIF orientation 6 shows it 32×64. */
const storedTurned = (format: 'png' | 'webp') => {
	const raw = Buffer.alloc(64 * 32 * 4);
	for (let i = 0; i < 64 * 32; i++) raw.set([200, 30, 30, i % 64 < 8 ? 0 : 255], i * 4);
	return sharp(raw, { raw: { width: 64, height: 32, channels: 4 } })
		.withMetadata({ orientation: 6 })
		.toFormat(format, { lossless: true })
		.toBuffer();
};

const infoOf = (bytes: Buffer) => {
	const result = readImageInfo(bytes);
	if (!result.ok) throw new Error(result.reason);
	return result.info;
};

describe.each(['png', 'webp'] as const)('a %s with EXIF orientation 6', (format) => {
	it('is read at the size it is shown, as a JPEG is', async () => {
		expect(infoOf(await storedTurned(format))).toMatchObject({
			width: 32,
			height: 64,
			orientation: 6,
		});
	});

	it('gives its transparency as a mask of the size it is shown', async () => {
		const image = await storedTurned(format);
		const mask = await prepareMask({ kind: 'alpha', image }, infoOf(image), {
			invert: false,
			fit: false,
			threshold: 128,
			grow: 0,
		});
		expect(await sharp(mask).metadata()).toMatchObject({ width: 32, height: 64 });
	});

	it('can be expanded to the plan made from its header', async () => {
		const image = await storedTurned(format);
		const plan = planExpansion(
			infoOf(image),
			{ mode: 'pixels', top: 0, right: 8, bottom: 0, left: 0 },
			0,
		);
		await expect(expandCanvas(image, plan)).resolves.toBeDefined();
	});
});
