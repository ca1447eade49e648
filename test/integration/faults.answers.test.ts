/**
 * What fal answers, and what the user is told: fal's errors (401, 403, 422, 500 until the
 * timeout, content policy) in the node's words with the request id and never the key;
 * continueOnFail and the error output; fal's answers checked like user input (no images,
 * bad links, request ids, cut, extra or redirected images, undocumented fields) and read
 * within bounds.
 */
import { NodeApiError } from 'n8n-workflow';

import {
	KEY,
	LOCKED_KEY,
	itemIndexOf,
	pictureItem,
	runFill,
	serveFiles,
	shorthands,
	useEmulator,
} from './fixtures';

const env = useEmulator();
const { count, fill } = shorthands(env);

function expectNoKeyIn(value: unknown) {
	const text =
		JSON.stringify(value) +
		String((value as Error)?.message) +
		String((value as { description?: string })?.description);
	expect(text).not.toContain(KEY);
	expect(text).not.toContain(KEY.split(':')[1]);
}

describe("fal's answers", () => {
	it('401: says the key was not accepted, without showing it', async () => {
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			apiKey: 'wrong-id:wrong-secret-value',
			items: [pictureItem(env.pictures)],
		});
		expect(result.error).toBeInstanceOf(NodeApiError);
		expect(result.error?.message).toBe('fal did not accept the API key');
		expect((result.error as NodeApiError).httpCode).toBe('401');
		expect((result.error as NodeApiError).description).toContain(
			'No user found for Key ID and Secret',
		);
		expect(JSON.stringify(result.error)).not.toContain('wrong-secret-value');
	});

	it('403 exhausted balance: says the account is out of credit and links billing', async () => {
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			apiKey: LOCKED_KEY,
			items: [pictureItem(env.pictures)],
		});
		expect(result.error?.message).toBe(
			'Your fal account cannot run requests: it is out of credit or locked',
		);
		expect((result.error as NodeApiError).description).toContain(
			'https://fal.ai/dashboard/billing',
		);
	});

	it("422: shows fal's field and reason, the request id, and the item", async () => {
		env.emu.fail({
			kind: 'result',
			status: 422,
			body: {
				detail: [{ loc: ['body', 'prompt'], msg: 'Prompt is too long', type: 'value_error' }],
			},
		});
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items: [pictureItem(env.pictures)],
		});
		const error = result.error as NodeApiError;
		expect(error).toBeInstanceOf(NodeApiError);
		expect(error.message).toBe(
			'fal rejected the request: prompt: Prompt is too long (value_error)',
		);
		expect(error.httpCode).toBe('422');
		const requestId = env.emu.requests.find((r) => r.kind === 'submit')?.requestId as string;
		expect(error.description).toContain(requestId);
		expect(itemIndexOf(error)).toBe(0);
		expectNoKeyIn(error);
	});

	it("500 on every result call: retried until the item's timeout, then fal's detail and the request id", async () => {
		const rule = env.emu.fail({
			kind: 'result',
			times: Infinity,
			status: 500,
			body: { detail: 'Internal error', error_type: 'internal_error' },
			headers: { 'x-fal-error-type': 'internal_error', 'retry-after': '0' },
		});
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items: [pictureItem(env.pictures)],
			parameters: { options: { timeout: 3 } },
		});
		const error = result.error as NodeApiError;
		expect(error.message).toMatch(
			/^fal did not finish within 3 s \(fal request ID [0-9a-f-]{36}\)$/,
		);
		expect(error.description).toContain(
			'The last answer while waiting: fal had a server error (HTTP 500) (internal_error): Internal error.',
		);
		// fal had finished: the cancel says so, and the user is told the images are still there.
		expect(error.description).toContain('fal had already finished the request');
		expect(rule.hits).toBeGreaterThan(4);
		expect(env.emu.requests.filter((r) => r.kind === 'submit')).toHaveLength(1);
	});

	it('content policy: says so plainly', async () => {
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items: [pictureItem(env.pictures)],
			parameters: { prompt: 'policy-violation-test' },
		});
		expect(result.error?.message).toBe('fal refused this request under its content policy');
	});
});

describe('continueOnFail', () => {
	it('turns each failed item into one error item and goes on, in input order', async () => {
		const bad = pictureItem(env.pictures);
		delete bad.binary!.mask;
		const items = [
			pictureItem(env.pictures, { p: 'zero' }),
			bad,
			pictureItem(env.pictures, { p: 'two' }),
		];
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items,
			continueOnFail: true,
			parameters: { prompt: '={{ $json.p ?? "x" }}' },
		});
		expect(result.error).toBeUndefined();
		expect(result.items.map((i) => [i.pairedItem, i.json.error ?? i.json.prompt])).toEqual([
			[{ item: 0 }, 'zero'],
			[{ item: 1 }, 'The item has no binary field "mask" for the mask'],
			[{ item: 2 }, 'two'],
		]);
		expect(result.items[1].json.description).toContain('"data"');
		expect(result.items[1].binary).toBeUndefined();
	});

	it('turns a fal error into an error item with the request id', async () => {
		env.emu.fail({ kind: 'result', status: 422, body: { detail: 'Bad mask' } });
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items: [pictureItem(env.pictures), pictureItem(env.pictures)],
			continueOnFail: true,
			parameters: { options: { concurrency: 1 } },
		});
		expect(result.items).toHaveLength(2);
		expect(result.items[0].json).toMatchObject({
			error: 'fal rejected the request: Bad mask',
			http_code: '422',
			request_id: expect.any(String),
		});
		expect(result.items[1].json.error).toBeUndefined();
		expectNoKeyIn(result.items);
	});

	it('with "Continue (using error output)" a failed item leaves by the error output, its request and cost in details', async () => {
		env.emu.fail({ kind: 'result', status: 422, body: { detail: 'Bad mask' } });
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items: [pictureItem(env.pictures, { n: 0 }), pictureItem(env.pictures, { n: 1 })],
			nodeSettings: { onError: 'continueErrorOutput' },
			parameters: { options: { concurrency: 1, outputMode: 'url' } },
		});
		expect(result.error).toBeUndefined();
		const [success, failed] = result.outputs;
		expect(success).toHaveLength(1);
		expect(failed).toHaveLength(1);
		expect(failed[0].json).toMatchObject({
			n: 0,
			error: 'fal rejected the request: Bad mask',
			message: expect.stringContaining('Request ID'),
			details: { http_code: '422', request_id: expect.any(String), estimated_cost_usd: 0 },
		});
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
