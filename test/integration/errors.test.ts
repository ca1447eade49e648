/**
 * What goes wrong, and how the user is told: input checks before any paid call,
 * fal's own answers (401/403/422/500), continueOnFail, cancellation and timeouts.
 */
import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import sharp from 'sharp';

import { prepareBinary } from '../helpers/n8nHarness';
import {
	KEY,
	LOCKED_KEY,
	makePictures,
	pictureItem,
	runFill,
	useEmulator,
	waitFor,
} from './fixtures';

const env = useEmulator();

const paidCalls = () =>
	env.emu.requests.filter((r) => r.kind === 'submit' || r.kind === 'initiate');
const itemIndexOf = (error: unknown) =>
	(error as { context?: { itemIndex?: number } }).context?.itemIndex;

function expectNoKeyIn(value: unknown) {
	const text =
		JSON.stringify(value) +
		String((value as Error)?.message) +
		String((value as { description?: string })?.description);
	expect(text).not.toContain(KEY);
	expect(text).not.toContain(KEY.split(':')[1]);
}

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

describe('time and cancellation', () => {
	it('cancels the fal request when the execution is cancelled', async () => {
		env.emu.configure({ latencyMs: 10_000 });
		const controller = new AbortController();
		const started = Date.now();
		const run = runFill({
			proxyUrl: env.emu.proxyUrl,
			items: [pictureItem(env.pictures)],
			abortSignal: controller.signal,
		});
		await waitFor(() => env.emu.requests.some((r) => r.kind === 'submit'));
		controller.abort();
		const result = await run;
		expect(result.run.status).toBe('canceled');
		expect(Date.now() - started).toBeLessThan(5_000);
		await waitFor(() => env.emu.requests.some((r) => r.kind === 'cancel'));
		const job = [...env.emu.jobs.values()][0];
		expect(job.cancelled).toBe(true);
	});

	it('cancels a request that fal accepted while the execution was being cancelled', async () => {
		env.emu.configure({ latencyMs: 10_000 });
		env.emu.fail({ kind: 'submit', acceptThenDelayMs: 400 });
		const controller = new AbortController();
		const run = runFill({
			proxyUrl: env.emu.proxyUrl,
			items: [pictureItem(env.pictures)],
			abortSignal: controller.signal,
		});
		await waitFor(() => env.emu.jobs.size === 1);
		controller.abort();
		const result = await run;
		expect(result.run.status).toBe('canceled');
		const [job] = [...env.emu.jobs.values()];
		await waitFor(() => job.cancelled === true);
		expect(env.emu.requests.filter((r) => r.kind === 'submit')).toHaveLength(1);
	});

	it('times out an item, cancels it at fal and names the request id', async () => {
		env.emu.configure({ latencyMs: 10_000 });
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items: [pictureItem(env.pictures)],
			parameters: { options: { timeout: 1 } },
		});
		const requestId = env.emu.requests.find((r) => r.kind === 'submit')?.requestId as string;
		expect(result.error?.message).toBe(
			`fal did not finish within 1 s (fal request ID ${requestId})`,
		);
		expect(env.emu.requests.some((r) => r.kind === 'cancel' && r.requestId === requestId)).toBe(
			true,
		);
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

describe('error items carry the fal request id whenever fal gave one', () => {
	it("a submit answered 502 with fal's x-fal-request-id is followed; fal has no such request, so the item says it was not accepted", async () => {
		env.emu.fail({
			kind: 'submit',
			status: 502,
			body: { detail: 'bad gateway' },
			headers: { 'x-fal-request-id': '5d1c7a2e-0000-4000-8000-000000000001' },
		});
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items: [pictureItem(env.pictures)],
			continueOnFail: true,
		});
		expect(result.items).toHaveLength(1);
		expect(result.items[0].json).toMatchObject({
			request_id: '5d1c7a2e-0000-4000-8000-000000000001',
			error:
				'Sending the request to fal failed (HTTP 502), and fal has no request with ID 5d1c7a2e-0000-4000-8000-000000000001: it was not accepted',
		});
		expect(env.emu.jobs.size).toBe(0);
	});
});
