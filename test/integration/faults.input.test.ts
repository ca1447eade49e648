/**
 * Bad input gets a clear error before anything is paid for: every item is checked before
 * the first is sent (empty prompt, missing binary fields, files that are not, or not
 * whole, PNG/JPEG/WebP images, sizes, parameters out of range), and parameters from
 * expressions mean what they say.
 */
import { NodeOperationError } from 'n8n-workflow';
import sharp from 'sharp';

import { prepareBinary } from '../helpers/n8nHarness';
import {
	itemIndexOf,
	makePictures,
	pictureItem,
	runFill,
	shorthands,
	useEmulator,
} from './fixtures';

const env = useEmulator();
const { count, fill } = shorthands(env);

const paidCalls = () =>
	env.emu.requests.filter((r) => r.kind === 'submit' || r.kind === 'initiate');

describe('input checks before anything is paid for', () => {
	async function failingItem(item: ReturnType<typeof pictureItem>, parameters = {}) {
		const good = pictureItem(env.pictures);
		const result = await runFill({ proxyUrl: env.emu.proxyUrl, items: [good, item], parameters });
		expect(result.error).toBeInstanceOf(NodeOperationError);
		expect(itemIndexOf(result.error)).toBe(1);
		// The good item 0 was not sent either: all items are checked first.
		expect(paidCalls()).toHaveLength(0);
		return result.error as NodeOperationError;
	}

	it('rejects an empty prompt', async () => {
		const error = await failingItem(pictureItem(env.pictures, { prompt: '  ' }), {
			prompt: '={{ $json.prompt ?? "fine" }}',
		});
		expect(error.message).toBe('The prompt is empty');
		expect(error.description).toContain('Prompt');
	});

	it('names the binary fields the item has when the mask field is missing', async () => {
		const item = pictureItem(env.pictures);
		item.binary = { data: item.binary!.data, other: item.binary!.mask };
		const error = await failingItem(item);
		expect(error.message).toBe('The item has no binary field "mask" for the mask');
		expect(error.description).toContain('"data", "other"');
	});

	it('says so when the item has no binary data at all', async () => {
		const error = await failingItem({ json: {} });
		expect(error.message).toBe('The item has no binary field "data" for the image');
		expect(error.description).toContain('no binary data at all');
	});

	it('rejects a file that is not an image', async () => {
		const item = pictureItem(env.pictures);
		item.binary!.data = prepareBinary(
			Buffer.from('just some text, not a picture'),
			'notes.txt',
			'text/plain',
		);
		const error = await failingItem(item);
		expect(error.message).toMatch(
			/^The image in binary field "data" \(notes\.txt\) cannot be used/,
		);
		expect(error.description).toContain('PNG, JPEG and WebP');
	});

	it('rejects a GIF by name', async () => {
		const item = pictureItem(env.pictures);
		const gif = await sharp(env.pictures.mask).gif().toBuffer();
		item.binary!.mask = prepareBinary(gif, 'mask.gif', 'image/gif');
		const error = await failingItem(item);
		expect(error.message).toContain('it is a GIF file, not PNG, JPEG or WebP');
	});

	it('gives both sizes when image and mask differ', async () => {
		const other = await makePictures(80, 48);
		const item = pictureItem(env.pictures);
		item.binary!.mask = prepareBinary(other.mask, 'mask.png', 'image/png');
		const error = await failingItem(item);
		expect(error.message).toBe('The mask is 80×48 pixels but the image is 64×48');
		expect(error.description).toContain("exactly the image's width and height");
		expect(error.description).toContain('Fit Mask to Image');
	});

	it('reports an expression error as what it is, not as a fal problem', async () => {
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items: [pictureItem(env.pictures)],
			parameters: { prompt: '={{ $("Nonexistent").item.json.x }}' },
		});
		expect(result.error?.constructor.name).toBe('NodeOperationError');
		expect(result.error?.message).not.toMatch(/fal/);
		expect(paidCalls()).toHaveLength(0);
	});

	it('rejects num_images out of range from an expression', async () => {
		const error = await failingItem(pictureItem(env.pictures, { n: 9 }), {
			options: { numImages: '={{ $json.n ?? 1 }}' },
		});
		expect(error.message).toContain('"Number of Images" is 9');
	});
});

describe('bad input gets a clear error before money is spent', () => {
	const withImage = (bytes: Buffer, fileName = 'photo.png', mimeType = 'image/png') => {
		const item = pictureItem(env.pictures);
		item.binary!.data = prepareBinary(bytes, fileName, mimeType);
		return item;
	};
	const expectInputError = async (
		items: ReturnType<typeof pictureItem>[],
		message: RegExp | string,
		parameters = {},
	) => {
		const result = await fill(parameters, items);
		expect(result.error?.constructor.name).toBe('NodeOperationError');
		if (typeof message === 'string') expect(result.error?.message).toBe(message);
		else expect(result.error?.message).toMatch(message);
		expect(count('initiate') + count('submit')).toBe(0);
	};

	it('a truncated PNG', async () => {
		await expectInputError(
			[withImage(env.pictures.image.subarray(0, env.pictures.image.length - 40))],
			/cannot be used: the file is cut off/,
		);
	});

	it('a PNG with a corrupted chunk', async () => {
		const corrupt = Buffer.from(env.pictures.image);
		corrupt[corrupt.length - 30] ^= 0xff;
		await expectInputError([withImage(corrupt)], /fails its checksum/);
	});

	it('a truncated JPEG', async () => {
		const jpeg = await sharp(env.pictures.image).jpeg().toBuffer();
		await expectInputError(
			[withImage(jpeg.subarray(0, jpeg.length - 100), 'photo.jpg', 'image/jpeg')],
			/no JPEG end marker/,
		);
	});

	it('a file that only claims to be a PNG', async () => {
		const fake = Buffer.concat([
			Buffer.from([0x89, 0x50, 0x4e, 0x47]),
			Buffer.from('this is not really a png at all'),
		]);
		await expectInputError(
			[withImage(fake)],
			/^The image in binary field "data" \(photo\.png\) cannot be used/,
		);
	});

	it('a zero-byte file', async () => {
		await expectInputError([withImage(Buffer.alloc(0))], /the file is empty \(0 bytes\)/);
	});

	it('enormous dimensions in the header', async () => {
		const huge = Buffer.from(env.pictures.image);
		huge.writeUInt32BE(100_000, 16);
		huge.writeUInt32BE(100_000, 20);
		await expectInputError(
			[withImage(huge)],
			'The image in binary field "data" is 100000×100000 pixels, too large to send',
		);
	});

	it('a mask that is not an image', async () => {
		const item = pictureItem(env.pictures);
		item.binary!.mask = prepareBinary(
			Buffer.from('%PDF-1.4 not an image'),
			'mask.pdf',
			'application/pdf',
		);
		await expectInputError([item], /^The mask in binary field "mask" \(mask\.pdf\) cannot be used/);
	});

	it.each([
		[
			'a seed that is not a number',
			{ options: { seed: '={{ "abc" }}' } },
			/The seed abc is not a whole number/,
		],
		['a negative seed', { options: { seed: -5 } }, /The seed -5/],
		[
			'num_images as text that is not a number',
			{ options: { numImages: '={{ "lots" }}' } },
			/"Number of Images" is lots/,
		],
		['a whitespace prompt', { prompt: '   ' }, 'The prompt is empty'],
		[
			'an image URL that is not http(s)',
			{ imageSource: 'url', imageUrl: 'file:///etc/passwd' },
			/uses file:\/\/, which fal cannot download/,
		],
	])('%s', async (_name, parameters, message) => {
		await expectInputError([pictureItem(env.pictures)], message, parameters);
	});
});

describe('parameters from expressions mean what they say', () => {
	it('uses a prompt that is a number as text', async () => {
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items: [pictureItem(env.pictures, { year: 1984 })],
			parameters: { prompt: '={{ $json.year }}' },
		});
		expect(result.error).toBeUndefined();
		expect([...env.emu.jobs.values()][0].input.prompt).toBe('1984');
	});

	it('takes a timeout with decimals, rounded to the millisecond', async () => {
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items: [pictureItem(env.pictures)],
			parameters: { options: { timeout: '={{ 12.3456 }}' } },
		});
		expect(result.error).toBeUndefined();
		expect(result.items).toHaveLength(1);
	});

	it.each([0, -3, 'abc', 2.5, 101])(
		'refuses Concurrency %p before anything is sent, naming it and the range',
		async (value) => {
			const result = await runFill({
				proxyUrl: env.emu.proxyUrl,
				items: [pictureItem(env.pictures)],
				parameters: { options: { concurrency: value } },
				continueOnFail: true,
			});
			expect(result.error).toBeInstanceOf(NodeOperationError);
			expect(result.error?.message).toBe(`"Concurrency" is ${value}`);
			expect((result.error as NodeOperationError).description).toBe(
				'Enter a whole number from 1 to 100.',
			);
			expect(env.emu.requests).toHaveLength(0);
		},
	);
});
