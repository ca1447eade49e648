/**
 * Unattended runs: transient faults at every step are survived with bounded retries,
 * a submit fal may have accepted is never sent twice, bad answers and bad input get
 * clear per-item errors.
 */
import sharp from 'sharp';

import { Deadline } from '../../nodes/FluxProFill/transport/deadline';
import { createFal } from '../../nodes/FluxProFill/transport/falClient';
import { getStatus, submit } from '../../nodes/FluxProFill/transport/queue';
import { prepareBinary } from '../helpers/n8nHarness';
import {
	KEY,
	makeUploadedPictures,
	pictureItem,
	runFill,
	serveFiles,
	useEmulator,
} from './fixtures';

const env = useEmulator();

const count = (kind: string) => env.emu.requests.filter((r) => r.kind === kind).length;
const fill = (parameters = {}, items = [pictureItem(env.pictures)]) =>
	runFill({ proxyUrl: env.emu.proxyUrl, items, parameters });

describe('transient faults are survived', () => {
	it.each([
		[
			'a 429 with Retry-After on submit',
			{
				kind: 'submit',
				status: 429,
				body: { detail: 'Too many requests' },
				headers: { 'retry-after': '1' },
			},
		],
		[
			'two 503s on submit',
			{ kind: 'submit', status: 503, times: 2, body: { detail: 'No runner' } },
		],
		['a 502 on opening the status stream', { kind: 'stream', status: 502, body: 'bad gateway' }],
		['a status stream that drops', { kind: 'stream', dropAfterEvents: 1, times: 2 }],
		['a 500 on the result', { kind: 'result', status: 500, body: { detail: 'Internal error' } }],
		['a reset connection on the result', { kind: 'result', reset: true }],
		[
			'a 504 on the result',
			{ kind: 'result', status: 504, body: { detail: 'timeout', error_type: 'request_timeout' } },
		],
		['a 500 on storage initiate', { kind: 'initiate', status: 500, body: { detail: 'oops' } }],
		['a failed upload PUT', { kind: 'upload', status: 503, body: 'unavailable' }],
		['an image download that fails once', { kind: 'file', reset: true }],
	] as const)('%s', async (_name, rule) => {
		const started = Date.now();
		const applied = env.emu.fail({ ...rule });
		// Storage is only used for pictures too large to go inline.
		const uploads = rule.kind === 'initiate' || rule.kind === 'upload';
		const items = [pictureItem(uploads ? await makeUploadedPictures() : env.pictures)];
		const result = await fill({ options: { numImages: 1 } }, items);
		expect(result.error).toBeUndefined();
		expect(result.items).toHaveLength(1);
		expect(applied.hits).toBeGreaterThan(0);
		// Exactly one job at fal: a rejected submit created none, an accepted one was not repeated.
		expect(env.emu.jobs.size).toBe(1);
		if (rule.kind === 'submit' && 'headers' in rule)
			expect(Date.now() - started).toBeGreaterThanOrEqual(950);
	});

	it('notices completion by polling, within about a second, when the stream keeps dropping', async () => {
		env.emu.configure({ latencyMs: 300 });
		env.emu.fail({ kind: 'stream', dropAfterEvents: 0, times: Infinity });
		const started = Date.now();
		const result = await fill();
		env.emu.configure({ latencyMs: 0 });
		expect(result.error).toBeUndefined();
		expect(count('status')).toBeGreaterThanOrEqual(1);
		expect(Date.now() - started).toBeLessThan(2500);
	});
});

describe('a submit fal may have accepted is never sent again', () => {
	it('a gateway timeout after accepting, with the request named by fal: it is followed, one job, the images come', async () => {
		env.emu.fail({
			kind: 'submit',
			acceptThenFail: true,
			status: 504,
			body: { detail: 'Gateway timeout' },
		});
		const result = await fill();
		expect(result.error).toBeUndefined();
		expect(count('submit')).toBe(1);
		expect(env.emu.jobs.size).toBe(1);
		expect(result.items[0].json.request_id).toBe([...env.emu.jobs.keys()][0]);
	});

	it.each([
		[
			'without Retry On Fail',
			undefined,
			/^Sending the request to fal failed \(the connection was reset\), and fal may have accepted it anyway/,
		],
		[
			'with Retry On Fail: the retry does not send it either',
			{ retryOnFail: true, maxTries: 3, waitBetweenTries: 0 },
			/^An earlier try of this item sent its request to fal/,
		],
	] as const)(
		'a reset connection after accepting, unnamed: %s',
		async (_name, nodeSettings, message) => {
			env.emu.fail({ kind: 'submit', acceptThenFail: true, reset: true });
			const result = await runFill({
				proxyUrl: env.emu.proxyUrl,
				items: [pictureItem(env.pictures)],
				nodeSettings,
			});
			expect(count('submit')).toBe(1);
			expect(env.emu.jobs.size).toBe(1);
			expect(result.error?.message).toMatch(message);
			expect((result.error as { description?: string }).description).toContain('not charged twice');
		},
	);
});

describe('retries are bounded', () => {
	it('gives up on a submit that keeps answering 429, after 4 attempts', async () => {
		const rule = env.emu.fail({
			kind: 'submit',
			status: 429,
			times: Infinity,
			headers: { 'retry-after': '0' },
			body: { detail: 'Too many requests' },
		});
		const result = await fill();
		expect(rule.hits).toBe(4);
		expect(result.error?.message).toBe('fal is rate-limiting this account: Too many requests');
		expect(env.emu.jobs.size).toBe(0);
	});

	it('does not wait for a Retry-After longer than 30 s', async () => {
		const started = Date.now();
		env.emu.fail({
			kind: 'submit',
			status: 429,
			times: Infinity,
			headers: { 'retry-after': '3600' },
			body: { detail: 'Slow down' },
		});
		const result = await fill();
		expect(Date.now() - started).toBeLessThan(3000);
		expect(result.error?.message).toContain('rate-limiting');
	});

	it('reports a download that fails twice', async () => {
		env.emu.fail({ kind: 'file', reset: true, times: Infinity });
		const result = await fill();
		expect(result.error?.message).toMatch(/^Could not download the generated image from fal/);
	});

	it('shows the text of a non-JSON error page', async () => {
		env.emu.fail({
			kind: 'result',
			status: 502,
			times: Infinity,
			contentType: 'text/html',
			body: '<html>Bad gateway</html>',
			headers: { 'retry-after': '0' },
		});
		const result = await fill({ options: { timeout: 2 } });
		expect((result.error as { description?: string }).description).toContain(
			'fal had a server error (HTTP 502): <html>Bad gateway</html>',
		);
	});
});

describe('bad answers from fal', () => {
	const answer = (body: object) => env.emu.fail({ kind: 'result', status: 200, body });

	it('a result with no images', async () => {
		answer({ images: [], seed: 1, has_nsfw_concepts: [], prompt: 'x', timings: {} });
		expect((await fill()).error?.message).toBe('fal finished the request but returned no images');
	});

	it('fewer images than asked: returns them and says so', async () => {
		const url = `data:image/png;base64,${env.pictures.image.toString('base64')}`;
		answer({
			images: [{ url, width: 64, height: 48, content_type: 'image/png' }],
			seed: 1,
			has_nsfw_concepts: [false],
			prompt: 'x',
			timings: {},
		});
		const result = await fill({ options: { numImages: 3 } });
		expect(result.error).toBeUndefined();
		expect(result.items).toHaveLength(1);
		expect(result.items[0].json.warning).toBe('fal returned 1 of the 3 images asked for');
	});

	it('an image link that is neither http(s) nor data:', async () => {
		answer({
			images: [{ url: 'ftp://evil.example/x.png' }],
			seed: 1,
			has_nsfw_concepts: [false],
			prompt: 'x',
			timings: {},
		});
		expect((await fill()).error?.message).toBe(
			'fal returned an image link that is neither http(s) nor a data URI: ftp://evil.example/x.png',
		);
	});

	it('an image entry without a link', async () => {
		answer({
			images: [{ width: 3 }],
			seed: 1,
			has_nsfw_concepts: [false],
			prompt: 'x',
			timings: {},
		});
		expect((await fill()).error?.message).toBe("fal's answer lists image 1 without a link");
	});

	it('a "data URI" that is not an image', async () => {
		answer({
			images: [{ url: `data:image/png;base64,${Buffer.from('not an image').toString('base64')}` }],
			seed: 1,
			has_nsfw_concepts: [false],
			prompt: 'x',
			timings: {},
		});
		expect((await fill()).error?.message).toMatch(
			/^The image from fal cannot be used: it is not an image/,
		);
	});
});

describe('NSFW flags', () => {
	it('marks flagged images', async () => {
		const result = await fill({ prompt: 'nsfw-test', options: { numImages: 2 } });
		expect(result.items.map((i) => i.json.has_nsfw_concept)).toEqual([true, true]);
	});

	it('drops them when asked, and fails the item when nothing is left', async () => {
		const result = await fill({ prompt: 'nsfw-test', options: { dropNsfw: true } });
		expect(result.error?.message).toBe(
			'fal flagged all 1 generated image as NSFW, and "Drop NSFW Images" is on',
		);
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

describe('the retry policy is stated where each call is made, whatever the endpoint', () => {
	it('sends a submit to another, made-up endpoint once, and retries a read until its deadline', async () => {
		const fal = createFal({ apiKey: KEY, proxyUrl: env.emu.proxyUrl }, fetch);
		// The emulator knows no such endpoint; every call to it answers 502, as a gateway would.
		env.emu.fail({ kind: 'other', status: 502, body: { detail: 'bad gateway' }, times: Infinity });
		const deadline = new Deadline(new AbortController().signal, 10_000);
		const error = await submit(fal, 'acme/made-up-model/v2', { prompt: 'x' }, { deadline }).catch(
			(e: unknown) => e,
		);
		expect(error).toMatchObject({ fields: { status: 502, maybeAccepted: true } });
		expect(count('other')).toBe(1);
		// A read of the same endpoint is not paid work: it is retried until its signal ends.
		const status = getStatus(
			fal,
			'acme/made-up-model/v2',
			'abc-123',
			false,
			AbortSignal.timeout(1_500),
		);
		await expect(status).rejects.toMatchObject({ fields: { status: 502 } });
		expect(count('other')).toBeGreaterThanOrEqual(4);
	});
});

describe('a paid job is never abandoned while its item has time', () => {
	const unhandled: unknown[] = [];
	const onUnhandled = (reason: unknown) => unhandled.push(reason);
	beforeAll(() => process.on('unhandledRejection', onUnhandled));
	afterAll(() => process.off('unhandledRejection', onUnhandled));
	beforeEach(() => (unhandled.length = 0));
	afterEach(async () => {
		// Rejections surface a tick late: give them the chance, then insist there were none.
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(unhandled).toEqual([]);
	});

	it('rides out 3 s of 5xx on the status stream and status while fal generates, without cancelling', async () => {
		env.emu.configure({ latencyMs: 4000 });
		const outageUntil = Date.now() + 3000;
		const during = () => Date.now() < outageUntil;
		env.emu.fail({
			kind: 'stream',
			status: 503,
			times: Infinity,
			match: during,
			body: { detail: 'down' },
		});
		env.emu.fail({
			kind: 'status',
			status: 502,
			times: Infinity,
			match: during,
			body: 'bad gateway',
		});
		const result = await fill();
		env.emu.configure({ latencyMs: 0 });
		expect(result.error).toBeUndefined();
		expect(result.items).toHaveLength(1);
		expect(count('submit')).toBe(1);
		expect(count('cancel')).toBe(0);
	}, 20_000);

	it.each([
		[
			'JSON that is cut midway',
			{ contentType: 'application/json', body: { status: 'IN_PROGRESS' }, cutAfterBytes: 5 },
		],
		[
			'plain text that is cut midway',
			{ contentType: 'text/plain', body: 'not a stream at all', cutAfterBytes: 3 },
		],
		[
			'a whole JSON answer instead of a stream',
			{ contentType: 'application/json', body: { status: 'IN_PROGRESS' } },
		],
		[
			'an event stream cut inside an event',
			{ contentType: 'text/event-stream', body: 'data: {"status":"IN_PR', cutAfterBytes: 10 },
		],
	])(
		'notices completion within about a second of fal when the status stream is %s',
		async (_name, shape) => {
			env.emu.configure({ latencyMs: 500 });
			env.emu.fail({ kind: 'stream', status: 200, times: Infinity, ...shape });
			const started = Date.now();
			const result = await fill();
			env.emu.configure({ latencyMs: 0 });
			expect(result.error).toBeUndefined();
			// 500 ms of generation, then at most about a second to notice it.
			expect(Date.now() - started).toBeLessThan(2300);
		},
	);

	it('says the request may still be running when fal does not confirm the cancel', async () => {
		env.emu.configure({ latencyMs: 5000 });
		env.emu.fail({
			kind: 'cancel',
			status: 500,
			times: Infinity,
			body: { detail: 'cancel broke' },
		});
		const result = await fill({ options: { timeout: 1 } });
		env.emu.configure({ latencyMs: 0 });
		const error = result.error as { message: string; description?: string };
		expect(error.message).toMatch(
			/^fal did not finish within 1 s \(fal request ID [0-9a-f-]{36}\)$/,
		);
		expect(error.description).toContain(
			'fal did not confirm the cancel, so the request may still be running',
		);
		expect(error.description).not.toContain('was cancelled at fal');
		expect(count('cancel')).toBeGreaterThanOrEqual(1);
	}, 15_000);

	it('says "cancelled at fal" when fal confirmed it', async () => {
		env.emu.configure({ latencyMs: 5000 });
		const result = await fill({ options: { timeout: 1 } });
		env.emu.configure({ latencyMs: 0 });
		expect((result.error as { description?: string }).description).toContain(
			'The request was cancelled at fal.',
		);
	}, 15_000);
});

describe("fal's request ids are checked before they go into a URL", () => {
	it.each([
		[
			'an HTML page with 200',
			{ contentType: 'text/html', body: '<html>welcome to the proxy</html>' },
		],
		['a path in the id', { body: { request_id: '../../x?y=', status: 'IN_QUEUE' } }],
		['no id at all', { body: { status: 'IN_QUEUE' } }],
	])(
		'a submit answered with %s fails as "not understood", and nothing else is called',
		async (_name, shape) => {
			env.emu.fail({ kind: 'submit', status: 200, ...shape });
			const result = await fill();
			expect(result.error?.message).toBe(
				"fal's answer to the request was not understood: it holds no valid request ID",
			);
			expect((result.error as { description?: string }).description).toContain('not charged twice');
			expect(
				env.emu.requests.filter((r) => ['status', 'stream', 'result', 'other'].includes(r.kind)),
			).toHaveLength(0);
		},
	);
});

describe("fal's answers are checked like user input", () => {
	const files = serveFiles(() => ({ '/moved.png': env.pictures.image }));

	it('downloads a cut image once more, and succeeds when the second copy is whole', async () => {
		env.emu.fail({
			kind: 'file',
			status: 200,
			contentType: 'image/png',
			body: env.pictures.image.subarray(0, 200),
		});
		const result = await fill();
		expect(result.error).toBeUndefined();
		expect(result.items).toHaveLength(1);
		expect(count('file')).toBe(2);
	});

	it('fails the item with a clear message when every copy is cut', async () => {
		env.emu.fail({
			kind: 'file',
			status: 200,
			times: Infinity,
			contentType: 'image/png',
			body: env.pictures.image.subarray(0, 200),
		});
		const result = await fill();
		expect(result.error?.message).toMatch(
			/^The image from fal cannot be used: the file is cut off/,
		);
		expect((result.error as { description?: string }).description).toContain('downloaded twice');
	});

	it.each([
		['3 images for 1', 3],
		['1000 images for 1', 1000],
	])(
		'keeps the number asked for when fal returns more (%s), with a warning',
		async (_name, returned) => {
			env.emu.fail({
				kind: 'result',
				status: 200,
				body: {
					images: Array.from({ length: returned }, (_, i) => ({
						url: `https://v3.fal.media/files/x-${i}.png`,
						width: 64,
						height: 48,
						content_type: 'image/png',
					})),
					seed: 1,
					has_nsfw_concepts: Array.from({ length: returned }, () => false),
					prompt: 'x',
					timings: {},
				},
			});
			const result = await fill({ options: { outputMode: 'url' } });
			expect(result.error).toBeUndefined();
			expect(result.items).toHaveLength(1);
			expect(result.items[0].json.warning).toBe(
				`fal returned ${returned} images for the 1 asked for; the ${returned - 1} extra were left out`,
			);
			expect((result.items[0].json.has_nsfw_concepts as unknown[]).length).toBeLessThanOrEqual(16);
		},
	);

	it('keeps only what fal documents in the JSON, bounded', async () => {
		env.emu.fail({
			kind: 'result',
			status: 200,
			body: {
				images: [
					{
						url: 'https://v3.fal.media/files/a.png',
						width: 64,
						height: 48,
						content_type: 'image/png',
					},
				],
				seed: 1,
				has_nsfw_concepts: [false],
				prompt: 'p'.repeat(50_000),
				timings: { inference: 1.5, huge: 'x'.repeat(10_000), nested: { a: 1 } },
				junk: 'y'.repeat(100_000),
			},
		});
		const result = await fill({ options: { outputMode: 'url' } });
		const json = result.items[0].json;
		expect(json).not.toHaveProperty('junk');
		expect((json.prompt as string).length).toBe(10_000);
		expect(json.timings).toEqual({ inference: 1.5 });
	});

	it('follows a redirect of the image link to another http(s) server', async () => {
		env.emu.fail({
			kind: 'file',
			status: 302,
			body: '',
			headers: { location: `${files.base}/moved.png` },
		});
		const result = await fill();
		expect(result.error).toBeUndefined();
		expect(result.items).toHaveLength(1);
		expect(count('file')).toBe(1);
	});

	it('refuses redirects to other schemes and endless redirects', async () => {
		env.emu.fail({
			kind: 'file',
			status: 302,
			body: '',
			times: 1,
			headers: { location: 'ftp://example.com/x.png' },
		});
		const ftp = await fill();
		expect(ftp.error?.message).toBe("fal's image link redirects to a ftp: address");
		env.emu.reset();
		env.emu.fail({
			kind: 'file',
			status: 302,
			body: '',
			times: Infinity,
			headers: { location: '/files/again.png' },
		});
		const loop = await fill();
		expect(loop.error?.message).toBe("fal's image link redirects more than 3 times");
		expect(count('file')).toBe(4);
	});
});

describe("fal's answers are read within bounds, and a bound that is hit is a clear error", () => {
	it('a status stream whose one event never ends', async () => {
		env.emu.fail({
			kind: 'stream',
			status: 200,
			contentType: 'text/event-stream',
			body: `data: {"status":"IN_PROGRESS","logs":"${'x'.repeat(200_000)}`,
			times: Infinity,
		});
		const result = await fill();
		expect(result.error?.message).toBe(
			"fal's answer to the status stream is larger than 64 KiB, which the node does not read",
		);
	});

	it('a status "stream" that is one huge JSON answer', async () => {
		env.emu.fail({
			kind: 'stream',
			body: { status: 'IN_PROGRESS', padding: 'x'.repeat(2_000_000) },
			status: 200,
			times: Infinity,
		});
		const result = await fill();
		expect(result.error?.message).toMatch(
			/^fal's answer to \/fal-ai\/flux-pro\/requests\/[^ ]+\/status\/stream is larger than 1 MiB/,
		);
	});

	it("a 422 with megabytes of detail: fal's words shortened in the message, a few KB kept", async () => {
		env.emu.fail({
			kind: 'result',
			status: 422,
			body: { detail: `bad input ${'y'.repeat(300_000)}` },
		});
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items: [pictureItem(env.pictures)],
			continueOnFail: true,
		});
		const json = result.items[0].json;
		expect(json.error).toMatch(/^fal rejected the request: bad input y+…$/);
		expect(String(json.error).length).toBeLessThan(400);
		expect(JSON.stringify(result.run).length).toBeLessThan(60_000);
	});

	it('an error answer of 4 MB of text: read up to 1 MiB, shown shortened', async () => {
		env.emu.fail({
			kind: 'result',
			status: 500,
			body: 'z'.repeat(4_000_000),
			contentType: 'text/plain',
			times: 1,
		});
		env.emu.fail({
			kind: 'result',
			status: 422,
			body: 'z'.repeat(4_000_000),
			contentType: 'text/plain',
		});
		const result = await fill();
		expect(result.error?.message).toMatch(/^fal rejected the request: z+…$/);
	});
});
