/**
 * The fal emulator, driven through the real `@fal-ai/client` (and raw fetch where the
 * client would hide what is being checked). Everything runs on 127.0.0.1.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, ValidationError, createFalClient } from '@fal-ai/client';
import {
	DEFAULT_FINETUNE_IDS,
	FILL_ENDPOINT,
	FINETUNED_ENDPOINT,
	SEGMENT_ENDPOINT,
	finetuneColour,
	makeColourImage,
	makeMask,
	makeTestImage,
	readPixels,
	startFalEmulator,
} from './emulator';
import { PALETTE, TOLERANCE, coloursIn } from './emulator/segment-mask';
import { waitFor } from './helpers/waitFor';

type Emulator = Awaited<ReturnType<typeof startFalEmulator>>;
type Rect = { left: number; top: number; width: number; height: number };
type Json = any;

const KEY = 'test-key-id:test-key-secret';
const LOCKED_KEY = 'locked-key-id:locked-key-secret';
const WRONG_KEY = 'wrong-key-id:wrong-key-secret';
// A plain string, so that deliberately invalid inputs are not rejected by the client's types.
const ENDPOINT: string = 'fal-ai/flux-pro/v1/fill';
const QUEUE = 'https://queue.fal.run/fal-ai/flux-pro';
const W = 64;
const H = 48;
const RECT: Rect = { left: 16, top: 8, width: 24, height: 20 };

let emu: Emulator;
let side: http.Server;
let sideUrl: string;
let image: Buffer;
let mask: Buffer;
let scene: Buffer;
const hooks: Json[] = [];

/** A loopback server standing in for the rest of the internet: image hosting and webhook receivers. */
function startSideServer(): Promise<http.Server> {
	const server = http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			if (req.url === '/image.png')
				return void res.writeHead(200, { 'content-type': 'image/png' }).end(image);
			if (req.url === '/mask.png')
				return void res.writeHead(200, { 'content-type': 'image/png' }).end(mask);
			if (req.url === '/scene.png')
				return void res.writeHead(200, { 'content-type': 'image/png' }).end(scene);
			if (req.url === '/text')
				return void res.writeHead(200, { 'content-type': 'text/plain' }).end('not an image');
			if (req.url === '/hook' && req.method === 'POST') {
				hooks.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
				return void res.writeHead(200).end();
			}
			res.writeHead(404).end();
		});
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** A Blob the client uploads by itself (a Node Buffer would be sent as JSON). */
function blob(bytes: Buffer, type: string): Blob {
	return new Blob([new Uint8Array(bytes)], { type });
}

function client(key: string | undefined = KEY) {
	return createFalClient({ credentials: key, proxyUrl: { url: emu.proxyUrl, when: 'always' } });
}

function baseInput(extra: Record<string, unknown> = {}): Record<string, unknown> {
	return {
		prompt: 'a red balloon',
		image_url: blob(image, 'image/png'),
		mask_url: blob(mask, 'image/png'),
		...extra,
	};
}

function fill(input: Record<string, unknown>, options: Record<string, unknown> = {}) {
	return client().subscribe(ENDPOINT, { input, pollInterval: 10, ...options });
}

async function rejectionOf(promise: Promise<unknown>): Promise<Json> {
	try {
		await promise;
	} catch (error) {
		return error;
	}
	throw new Error('expected a rejection');
}

/** Runs a fill expected to fail validation and returns `err.body.detail`. */
async function detailOf(input: Record<string, unknown>): Promise<Json[]> {
	const error = await rejectionOf(fill(input));
	expect(error).toBeInstanceOf(ValidationError);
	expect(error.status).toBe(422);
	return error.body.detail;
}

function proxied(
	method: string,
	target: string,
	options: { key?: string | null; body?: unknown } = {},
) {
	const key = options.key === undefined ? KEY : options.key;
	return fetch(emu.proxyUrl, {
		method,
		headers: {
			'x-fal-target-url': target,
			'content-type': 'application/json',
			...(key ? { authorization: `Key ${key}` } : {}),
		},
		body: options.body === undefined ? undefined : JSON.stringify(options.body),
	});
}

async function download(url: string): Promise<Buffer> {
	const response = await fetch(url);
	expect(response.status).toBe(200);
	return Buffer.from(await response.arrayBuffer());
}

/** Share of changed pixels inside the rect; largest and mean difference outside it. */
async function compare(input: Buffer, output: Buffer, rect: Rect) {
	const a = await readPixels(input);
	const b = await readPixels(output);
	expect([b.width, b.height]).toEqual([a.width, a.height]);
	let inside = 0;
	let changedInside = 0;
	let maxDiffOutside = 0;
	let sumDiffOutside = 0;
	let outside = 0;
	for (let y = 0; y < a.height; y++) {
		for (let x = 0; x < a.width; x++) {
			const i = (y * a.width + x) * a.channels;
			const diff = Math.max(...[0, 1, 2].map((c) => Math.abs(a.data[i + c] - b.data[i + c])));
			const within =
				x >= rect.left && x < rect.left + rect.width && y >= rect.top && y < rect.top + rect.height;
			if (within) {
				inside++;
				if (diff > 8) changedInside++;
			} else {
				maxDiffOutside = Math.max(maxDiffOutside, diff);
				sumDiffOutside += diff;
				outside++;
			}
		}
	}
	return {
		changedInside: changedInside / inside,
		maxDiffOutside,
		meanDiffOutside: sumDiffOutside / outside,
	};
}

/** The output JSON of one png image from baseInput(), with this seed. */
function pngOutput(seed: number) {
	return {
		images: [
			{
				url: expect.stringMatching(new RegExp(`^${emu.url}/files/\\w+\\.png$`)),
				width: W,
				height: H,
				content_type: 'image/png',
			},
		],
		timings: { inference: expect.any(Number) },
		seed,
		has_nsfw_concepts: [false],
		prompt: 'a red balloon',
	};
}

/** The sync call was recorded for `endpoint` on fal.run and answered 200, and its job is a sync job. */
function expectSyncRun(
	endpoint: typeof SEGMENT_ENDPOINT | typeof FINETUNED_ENDPOINT,
	requestId: string,
) {
	expect(emu.requests.find((r) => r.kind === 'sync')).toMatchObject({
		endpoint,
		target: `https://fal.run/${endpoint}`,
		requestId,
		status: 200,
	});
	expect(emu.jobsFor(endpoint).get(requestId)).toMatchObject({ mode: 'sync' });
}

const sha = (bytes: Buffer) => crypto.createHash('sha256').update(bytes).digest('hex');

beforeAll(async () => {
	image = await makeTestImage({ width: W, height: H, format: 'png' });
	mask = await makeMask({ width: W, height: H, rect: RECT, format: 'png' });
	emu = await startFalEmulator({ validKeys: [KEY], lockedKeys: [LOCKED_KEY], latencyMs: 0 });
	side = await startSideServer();
	sideUrl = `http://127.0.0.1:${(side.address() as AddressInfo).port}`;
});

afterEach(() => {
	emu.reset();
	emu.configure({ latencyMs: 0, concurrency: Infinity });
	hooks.length = 0;
});

afterAll(async () => {
	await emu.close();
	await new Promise((r) => side.close(r));
});

describe('storage and CDN', () => {
	it('uploads a Blob: initiate through the proxy, PUT to upload_url, served back by the CDN', async () => {
		const url = await client().storage.upload(blob(image, 'image/png'));
		expect(url.startsWith(`${emu.url}/files/`)).toBe(true);

		const response = await fetch(url);
		expect(response.headers.get('content-type')).toBe('image/png');
		expect(Buffer.from(await response.arrayBuffer()).equals(image)).toBe(true);

		expect(emu.uploads).toEqual([
			{
				fileUrl: url,
				contentType: 'image/png',
				fileName: expect.stringMatching(/\.png$/),
				bytes: image.length,
				sha256: sha(image),
			},
		]);
		expect(emu.requests.map((r) => r.kind)).toEqual(['initiate', 'upload', 'file']);
		const [initiate, upload] = emu.requests;
		expect(initiate.target).toBe(
			'https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3',
		);
		expect(initiate.query).toEqual({ storage_type: 'fal-cdn-v3' });
		expect(initiate.body).toEqual({ content_type: 'image/png', file_name: expect.any(String) });
		expect(initiate.auth).toBe('valid');
		expect(upload.body).toEqual({ bytes: image.length, sha256: sha(image) });
		expect(upload.auth).toBe('missing'); // the client sends no key to the upload URL
	});

	it('supports multipart uploads (initiate-multipart, part PUTs, complete)', async () => {
		const initiate = await proxied(
			'POST',
			'https://rest.fal.ai/storage/upload/initiate-multipart?storage_type=fal-cdn-v3',
			{
				body: { content_type: 'application/octet-stream', file_name: 'big.bin' },
			},
		);
		const { upload_url, file_url } = (await initiate.json()) as Json;
		const parts = [Buffer.alloc(1000, 1), Buffer.alloc(500, 2)];
		const answers: Json[] = [];
		for (const [i, part] of parts.entries()) {
			const r = await fetch(`${upload_url}/${i + 1}`, { method: 'PUT', body: part });
			answers.push(await r.json());
		}
		expect(answers.map((a) => a.partNumber)).toEqual([1, 2]);
		const complete = await fetch(`${upload_url}/complete`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ parts: answers }),
		});
		expect(complete.status).toBe(200);
		expect((await download(file_url)).equals(Buffer.concat(parts))).toBe(true);
	});

	it('answers 404 for unknown files and routes, 400 without x-fal-target-url', async () => {
		expect((await fetch(`${emu.url}/files/nope/x.png`)).status).toBe(404);
		const other = await proxied('GET', 'https://queue.fal.run/fal-ai/other-app/requests/x');
		expect(other.status).toBe(404);
		expect(other.headers.get('content-type')).toBe('application/json');
		expect(await other.json()).toEqual({ detail: 'Not Found' });
		expect((await fetch(emu.proxyUrl, { method: 'POST' })).status).toBe(400);
		expect(emu.requests.map((r) => r.kind)).toEqual(['file', 'other', 'other']);
	});
});

describe('fill through the queue', () => {
	it('polling: repaints the white part, keeps the black part byte for byte (png), same size', async () => {
		emu.configure({ latencyMs: 60 });
		const updates: Json[] = [];
		const result = await fill(baseInput({ output_format: 'png', seed: 42 }), {
			logs: true,
			onQueueUpdate: (u: Json) => updates.push(u),
		});
		const data = result.data as Json;
		expect(result.requestId).toMatch(/^[0-9a-f-]{36}$/);
		expect(data).toEqual(pngOutput(42));
		const { changedInside, maxDiffOutside } = await compare(
			image,
			await download(data.images[0].url),
			RECT,
		);
		expect(changedInside).toBeGreaterThan(0.9);
		expect(maxDiffOutside).toBe(0);

		expect(updates.some((u) => u.status === 'IN_PROGRESS' && u.logs.length > 0)).toBe(true);
		expect(updates[updates.length - 1]).toMatchObject({
			status: 'COMPLETED',
			metrics: { inference_time: expect.any(Number) },
		});
		const statuses = emu.requests.filter((r) => r.kind === 'status');
		expect(statuses[0].query).toEqual({ logs: '1' });
		expect(statuses.map((r) => r.status).slice(-1)).toEqual([200]);
		expect(statuses.slice(0, -1).every((r) => r.status === 202)).toBe(true);
		const job = emu.jobs.get(result.requestId)!;
		expect(job).toMatchObject({
			status: 'COMPLETED',
			cancelled: false,
			input: expect.objectContaining({ seed: 42 }),
		});
		expect(job.input.image_url).toMatch(new RegExp(`^${emu.url}/files/`)); // the Blob was uploaded first
	});

	it('streaming: one SSE event per change, the client ends on COMPLETED; jpeg by default', async () => {
		emu.configure({ latencyMs: 60 });
		const updates: Json[] = [];
		const started = Date.now();
		const result = await fill(baseInput(), {
			mode: 'streaming',
			logs: true,
			onQueueUpdate: (u: Json) => updates.push(u),
		});
		expect(Date.now() - started).toBeLessThan(1500);
		const data = result.data as Json;
		expect(data.images[0]).toMatchObject({ content_type: 'image/jpeg', width: W, height: H });
		expect(data.images[0].url).toMatch(/\.jpeg$/);
		const bytes = await download(data.images[0].url);
		expect(bytes.subarray(0, 2).toString('hex')).toBe('ffd8');
		const { changedInside, meanDiffOutside } = await compare(image, bytes, RECT);
		expect(changedInside).toBeGreaterThan(0.8);
		expect(meanDiffOutside).toBeLessThan(8); // jpeg: close, not exact

		expect(updates.map((u) => u.status)).toContain('IN_PROGRESS');
		expect(updates[updates.length - 1].status).toBe('COMPLETED');
		expect(emu.requests.filter((r) => r.kind === 'stream')).toHaveLength(1);
		expect(emu.requests.filter((r) => r.kind === 'status')).toHaveLength(0);
	});

	it('num_images 4 gives four different images; sync_mode gives data URIs', async () => {
		const four = (await fill(baseInput({ num_images: 4, output_format: 'png', seed: 1 })))
			.data as Json;
		expect(four.images).toHaveLength(4);
		expect(four.has_nsfw_concepts).toEqual([false, false, false, false]);
		const hashes = await Promise.all(
			four.images.map(async (img: Json) => sha(await download(img.url))),
		);
		expect(new Set(hashes).size).toBe(4);

		const inline = (await fill(baseInput({ num_images: 2, sync_mode: true, output_format: 'png' })))
			.data as Json;
		expect(inline.images).toHaveLength(2);
		for (const img of inline.images) {
			expect(img.url).toMatch(/^data:image\/png;base64,/);
			const pixels = await readPixels(Buffer.from(img.url.split(',')[1], 'base64'));
			expect([pixels.width, pixels.height]).toEqual([W, H]);
		}
	});

	it('echoes the seed, is deterministic for (seed, prompt) and draws a seed when none is given', async () => {
		const run = async (extra: Record<string, unknown>) => {
			const data = (await fill(baseInput({ output_format: 'png', ...extra }))).data as Json;
			return { data, hash: sha(await download(data.images[0].url)) };
		};
		const a = await run({ seed: 7 });
		const b = await run({ seed: 7 });
		const c = await run({ seed: 8 });
		const d = await run({ seed: 7, prompt: 'another prompt' });
		expect(a.data.seed).toBe(7);
		expect(a.hash).toBe(b.hash);
		expect(c.hash).not.toBe(a.hash);
		expect(d.hash).not.toBe(a.hash);
		const random = await run({});
		expect(Number.isInteger(random.data.seed)).toBe(true);
		const nsfw = await run({ prompt: 'nsfw-test please', num_images: 2 });
		expect(nsfw.data.has_nsfw_concepts).toEqual([true, true]);
	});

	it('loads inputs from other hosts, data: URIs and WebP; runs synchronously on fal.run', async () => {
		const webp = await makeTestImage({ width: W, height: H, format: 'webp', seed: 3 });
		const viaUrls = (
			await fill({
				prompt: 'x',
				image_url: `${sideUrl}/image.png`,
				mask_url: `data:image/png;base64,${mask.toString('base64')}`,
			})
		).data as Json;
		expect(viaUrls.images[0]).toMatchObject({ width: W, height: H });

		const sync = await client().run(ENDPOINT, {
			input: {
				prompt: 'x',
				image_url: blob(webp, 'image/webp'),
				mask_url: `${sideUrl}/mask.png`,
				output_format: 'png',
			},
		});
		const data = sync.data as Json;
		expect(sync.requestId).toBe(emu.requests.find((r) => r.kind === 'sync')!.requestId);
		const { maxDiffOutside } = await compare(webp, await download(data.images[0].url), RECT);
		expect(maxDiffOutside).toBe(0);
	});
});

describe('validation errors surface from the result call as 422', () => {
	it('accepts the submit, completes the job, then answers 422 with every missing field', async () => {
		const { request_id } = await client().queue.submit(ENDPOINT, { input: { num_images: 2 } });
		await waitFor(() => emu.jobs.get(request_id)?.status === 'COMPLETED');
		const status = await client().queue.status(ENDPOINT, { requestId: request_id, logs: false });
		expect(status.status).toBe('COMPLETED');
		const error = await rejectionOf(client().queue.result(ENDPOINT, { requestId: request_id }));
		expect(error).toBeInstanceOf(ValidationError);
		expect(error.body.detail).toEqual([
			{ loc: ['body', 'prompt'], msg: 'Field required', type: 'missing' },
			{ loc: ['body', 'image_url'], msg: 'Field required', type: 'missing' },
			{ loc: ['body', 'mask_url'], msg: 'Field required', type: 'missing' },
		]);
		expect(error.requestId).toBe(request_id);
	});

	it('reports enum, range and type errors like pydantic, all in one answer', async () => {
		expect(await detailOf(baseInput({ output_format: 'gif' }))).toEqual([
			expect.objectContaining({
				loc: ['body', 'output_format'],
				type: 'enum',
				msg: "Input should be 'jpeg' or 'png'",
			}),
		]);
		expect(await detailOf(baseInput({ safety_tolerance: 2 }))).toEqual([
			expect.objectContaining({
				loc: ['body', 'safety_tolerance'],
				type: 'enum',
				msg: "Input should be '1', '2', '3', '4', '5' or '6'",
			}),
		]);
		expect((await detailOf(baseInput({ num_images: 0 })))[0]).toMatchObject({
			type: 'greater_than_equal',
			msg: 'Input should be greater than or equal to 1',
		});
		expect((await detailOf(baseInput({ num_images: 5 })))[0]).toMatchObject({
			type: 'less_than_equal',
			msg: 'Input should be less than or equal to 4',
		});
		const detail = await detailOf(
			baseInput({ prompt: 5, seed: { n: 1 }, sync_mode: [], num_images: 1.5 }),
		);
		expect(detail.map((d) => [d.loc[1], d.type])).toEqual([
			['prompt', 'string_type'],
			['seed', 'int_type'],
			['sync_mode', 'bool_type'],
			['num_images', 'int_from_float'],
		]);
	});

	it('reports images that cannot be loaded, mismatched sizes and policy violations', async () => {
		const unloadable = await detailOf({
			prompt: 'x',
			image_url: `${sideUrl}/missing.png`,
			mask_url: `${sideUrl}/text`,
		});
		expect(unloadable).toEqual([
			expect.objectContaining({
				loc: ['body', 'image_url'],
				type: 'image_load_error',
				msg: expect.stringMatching(/could not load image/i),
			}),
			expect.objectContaining({ loc: ['body', 'mask_url'], type: 'image_load_error' }),
		]);
		const smallMask = await makeMask({
			width: 32,
			height: 32,
			rect: { left: 0, top: 0, width: 8, height: 8 },
		});
		expect(await detailOf(baseInput({ mask_url: blob(smallMask, 'image/png') }))).toEqual([
			{
				loc: ['body', 'mask_url'],
				msg: `Mask dimensions (32x32) must match image dimensions (${W}x${H})`,
				type: 'value_error',
			},
		]);
		expect((await detailOf(baseInput({ prompt: 'policy-violation-test' })))[0]).toMatchObject({
			loc: ['body', 'prompt'],
			type: 'content_policy_violation',
		});
	});
});

describe('authentication', () => {
	it('answers 401 for an unknown key and 403 for a locked one, on every API call', async () => {
		const wrong = await rejectionOf(
			createFalClient({
				credentials: WRONG_KEY,
				proxyUrl: { url: emu.proxyUrl, when: 'always' },
			}).storage.upload(blob(image, 'image/png')),
		);
		expect(wrong).toBeInstanceOf(ApiError);
		expect(wrong.status).toBe(401);
		expect(wrong.body).toEqual({ detail: 'No user found for Key ID and Secret' });

		const locked = await rejectionOf(
			client(LOCKED_KEY).queue.submit(ENDPOINT, { input: { prompt: 'x' } }),
		);
		expect(locked.status).toBe(403);
		expect(locked.body.detail).toMatch(/^User is locked\. Reason: Exhausted balance/);

		const missing = await proxied('GET', `${QUEUE}/requests/abc/status`, { key: null });
		expect(missing.status).toBe(401);
		expect(emu.requests.map((r) => r.auth)).toEqual(['invalid', 'locked', 'missing']);
		expect(emu.jobs.size).toBe(0);
	});

	it('never records keys or Authorization headers', async () => {
		await fill(baseInput());
		await rejectionOf(client(WRONG_KEY).queue.submit(ENDPOINT, { input: { prompt: 'x' } }));
		await rejectionOf(client(LOCKED_KEY).queue.submit(ENDPOINT, { input: { prompt: 'x' } }));
		const recorded = JSON.stringify(emu.requests);
		for (const secret of [KEY, WRONG_KEY, LOCKED_KEY, 'test-key-secret'])
			expect(recorded).not.toContain(secret);
		expect(emu.requests.every((r) => !('authorization' in r.headers))).toBe(true);
	});
});

describe('queue behaviour', () => {
	it('keeps jobs IN_QUEUE beyond the concurrency, cancels a queued job, then runs the rest', async () => {
		emu.configure({ concurrency: 0 });
		const fal = client();
		const first = await fal.queue.submit(ENDPOINT, { input: baseInput() });
		const second = await fal.queue.submit(ENDPOINT, { input: baseInput() });
		expect(first).toMatchObject({
			status: 'IN_QUEUE',
			queue_position: 0,
			status_url: `${QUEUE}/requests/${first.request_id}/status`,
		});
		expect(
			(await fal.queue.status(ENDPOINT, { requestId: second.request_id, logs: false })) as Json,
		).toMatchObject({
			status: 'IN_QUEUE',
			queue_position: 1,
		});

		await fal.queue.cancel(ENDPOINT, { requestId: first.request_id });
		const cancelled = await rejectionOf(
			fal.queue.result(ENDPOINT, { requestId: first.request_id }),
		);
		expect(cancelled.status).toBe(400);
		expect(cancelled.body).toEqual({ detail: 'Request was cancelled' });
		expect(
			(await fal.queue.status(ENDPOINT, { requestId: second.request_id, logs: false })) as Json,
		).toMatchObject({ queue_position: 0 });
		const early = await rejectionOf(fal.queue.result(ENDPOINT, { requestId: second.request_id }));
		expect(early.body).toEqual({ detail: 'Request is still in progress' });

		emu.configure({ concurrency: 1 });
		await fal.queue.subscribeToStatus(ENDPOINT, { requestId: second.request_id, pollInterval: 10 });
		const cancelledJob = emu.jobs.get(first.request_id)!;
		expect(cancelledJob).toMatchObject({ cancelled: true, status: 'CANCELLED' });
		expect(cancelledJob.completedAt ?? cancelledJob.result).toBeUndefined();
		expect(emu.jobs.get(second.request_id)).toMatchObject({ status: 'COMPLETED' });

		const done = await rejectionOf(fal.queue.cancel(ENDPOINT, { requestId: second.request_id }));
		expect(done.status).toBe(400);
		expect(done.body).toEqual({ status: 'ALREADY_COMPLETED' });
		expect(
			(await rejectionOf(fal.queue.result(ENDPOINT, { requestId: 'no-such-id' }))).status,
		).toBe(404);
	});

	it("stops a running job when the client's subscribe timeout cancels it", async () => {
		emu.configure({ latencyMs: 5000 });
		const error = await rejectionOf(fill(baseInput(), { timeout: 150 }));
		expect(error.message).toMatch(/timed out/);
		await waitFor(() => emu.requests.some((r) => r.kind === 'cancel' && r.status === 202));
		const [job] = [...emu.jobs.values()];
		expect(job.cancelled).toBe(true);
		expect(job.completedAt).toBeUndefined();
	});
});

describe('webhooks', () => {
	it('POSTs OK with the output, and ERROR with the detail of a failed run', async () => {
		const ok = await client().queue.submit(ENDPOINT, {
			input: baseInput(),
			webhookUrl: `${sideUrl}/hook`,
		});
		const bad = await client().queue.submit(ENDPOINT, {
			input: { prompt: 'x' },
			webhookUrl: `${sideUrl}/hook`,
		});
		expect(emu.requests.find((r) => r.kind === 'submit')!.query).toEqual({
			fal_webhook: `${sideUrl}/hook`,
		});
		await waitFor(() => hooks.length === 2);
		const byId = Object.fromEntries(hooks.map((h) => [h.request_id, h]));
		expect(byId[ok.request_id]).toMatchObject({
			gateway_request_id: ok.request_id,
			status: 'OK',
			payload: { images: [expect.objectContaining({ width: W })] },
		});
		expect(byId[bad.request_id]).toMatchObject({
			status: 'ERROR',
			error: expect.any(String),
			payload: { detail: expect.arrayContaining([expect.objectContaining({ type: 'missing' })]) },
		});
		await waitFor(() => emu.webhooks.every((w) => w.status === 200));
	});

	it('records a webhook that cannot be delivered and carries on', async () => {
		await client().queue.submit(ENDPOINT, {
			input: baseInput(),
			webhookUrl: 'http://127.0.0.1:1/hook',
		});
		await waitFor(() => emu.webhooks.length === 1 && emu.webhooks[0].error !== undefined);
		expect(emu.webhooks[0].error).toMatch(/fetch failed/);
	});
});

describe('fault injection', () => {
	it('a 500 on result is an ApiError 500 (not retried by the client)', async () => {
		const rule = emu.fail({
			kind: 'result',
			status: 500,
			body: { detail: 'Internal error', error_type: 'internal_error' },
			headers: { 'x-fal-error-type': 'internal_error' },
		});
		const error = await rejectionOf(fill(baseInput()));
		expect(error).toBeInstanceOf(ApiError);
		expect(error.status).toBe(500);
		expect(error.body).toEqual({ detail: 'Internal error', error_type: 'internal_error' });
		expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
		expect(rule.hits).toBe(1);
		expect(emu.requests.filter((r) => r.kind === 'result')).toHaveLength(1);
	});

	it('a 502 HTML page once on a sync run is retried by the client, which then succeeds', async () => {
		emu.fail({
			kind: 'sync',
			status: 502,
			contentType: 'text/html',
			body: '<html>Bad gateway</html>',
		});
		const result = await client().run(ENDPOINT, { input: baseInput() });
		expect((result.data as Json).images).toHaveLength(1);
		expect(emu.requests.filter((r) => r.kind === 'sync').map((r) => r.status)).toEqual([502, 200]);
	});

	it('feeds custom result bodies, delays answers and matches requests', async () => {
		emu.fail({ kind: 'result', status: 200, body: { images: [], seed: 1 } });
		expect((await fill(baseInput())).data).toEqual({ images: [], seed: 1 });

		const { request_id } = await client().queue.submit(ENDPOINT, { input: baseInput() });
		emu.fail({ kind: 'status', delayMs: 150, match: (r) => r.requestId === request_id });
		emu.fail({ kind: 'status', status: 503, match: (r) => r.requestId === 'other' });
		const started = Date.now();
		const status = await client().queue.status(ENDPOINT, { requestId: request_id, logs: false });
		expect(Date.now() - started).toBeGreaterThanOrEqual(140);
		expect(status.status).toBe('COMPLETED');
	});

	it('refuses a submit (no job), or accepts it and still answers an error', async () => {
		emu.fail({
			kind: 'submit',
			status: 429,
			headers: { 'retry-after': '1' },
			body: { detail: 'Too many requests' },
		});
		const refused = await proxied('POST', 'https://queue.fal.run/fal-ai/flux-pro/v1/fill', {
			body: { prompt: 'x' },
		});
		expect(refused.status).toBe(429);
		expect(refused.headers.get('retry-after')).toBe('1');
		expect(await refused.json()).toEqual({ detail: 'Too many requests' });
		expect(emu.jobs.size).toBe(0);

		emu.fail({ kind: 'submit', status: 504, acceptThenFail: true });
		const ambiguous = await proxied('POST', 'https://queue.fal.run/fal-ai/flux-pro/v1/fill', {
			body: { prompt: 'x' },
		});
		expect(ambiguous.status).toBe(504);
		const id = ambiguous.headers.get('x-fal-request-id')!;
		expect(emu.jobs.has(id)).toBe(true);
		await waitFor(() => emu.jobs.get(id)!.status === 'COMPLETED');
	});

	it('resets a CDN download and drops a status stream mid-way', async () => {
		const url = await client().storage.upload(blob(image, 'image/png'));
		emu.fail({ kind: 'file', reset: true });
		await expect(fetch(url)).rejects.toThrow(/fetch failed/);
		expect((await download(url)).equals(image)).toBe(true); // times: 1

		emu.configure({ latencyMs: 300 });
		emu.fail({ kind: 'stream', dropAfterEvents: 1 });
		const dropped = await rejectionOf(fill(baseInput(), { mode: 'streaming' }));
		expect(dropped).toBeInstanceOf(ApiError);
		expect(emu.requests.filter((r) => r.kind === 'stream')).toHaveLength(1);
	});

	it('rejects malformed rules', () => {
		expect(() => emu.fail({ kind: 'nope' as never })).toThrow(TypeError);
		expect(() => emu.fail({ kind: 'result', dropAfterEvents: 1 })).toThrow(TypeError);
	});
});

describe('lifecycle', () => {
	it('close() ends open status streams and resolves', async () => {
		const local = await startFalEmulator({ concurrency: 0 });
		const fal = createFalClient({
			credentials: KEY,
			proxyUrl: { url: local.proxyUrl, when: 'always' },
		});
		const { request_id } = await fal.queue.submit(ENDPOINT, { input: { prompt: 'x' } });
		const stream = await fal.queue.streamStatus(ENDPOINT, { requestId: request_id, logs: false });
		const first = new Promise((resolve) => stream.on('data', resolve));
		expect(await first).toMatchObject({ status: 'IN_QUEUE', queue_position: 0 });
		await local.close();
		await stream.done().catch(() => undefined);
	});
});

describe('fal-ai/evf-sam (segmentation by colour words)', () => {
	// A plain string for the client, like ENDPOINT; SEGMENT_ENDPOINT keeps its literal type for the emulator API.
	const SEGMENT: string = SEGMENT_ENDPOINT;
	const SEG_QUEUE = 'https://queue.fal.run/fal-ai/evf-sam';
	const SW = 40;
	const SH = 30;
	const BLUE: [number, number, number] = [0, 0, 255];
	const GREEN: [number, number, number] = [0, 255, 0];
	// A blue sky (rows 0–14) over green grass (rows 15–29), with a yellow sun and a patch of haze
	// (blue within the tolerance) and one of dusk (blue off by 60 on red: no colour) in the sky,
	// and snow (near white) in the grass.
	const SUN: Rect = { left: 4, top: 3, width: 5, height: 4 };
	const HAZE: Rect = { left: 20, top: 2, width: 3, height: 3 };
	const DUSK: Rect = { left: 30, top: 2, width: 3, height: 3 };
	const SNOW: Rect = { left: 10, top: 20, width: 6, height: 3 };
	const inRect = (r: Rect, x: number, y: number) =>
		x >= r.left && x < r.left + r.width && y >= r.top && y < r.top + r.height;
	type Where = (x: number, y: number) => boolean;
	const sky: Where = (x, y) => y < 15 && !inRect(SUN, x, y) && !inRect(DUSK, x, y);
	const grass: Where = (x, y) => y >= 15 && !inRect(SNOW, x, y);
	const sun: Where = (x, y) => inRect(SUN, x, y);
	const nowhere: Where = () => false;

	const segment = (input: Record<string, unknown>, options: Record<string, unknown> = {}) =>
		client().subscribe(SEGMENT, { input, pollInterval: 10, ...options });
	const sceneInput = (extra: Record<string, unknown> = {}) => ({
		image_url: blob(scene, 'image/png'),
		...extra,
	});

	/** The mask's value per pixel (it is grey: R = G = B). */
	async function maskValues(url: string) {
		const pixels = await readPixels(await download(url));
		const values: number[] = [];
		for (let i = 0; i < pixels.width * pixels.height; i++) {
			const [r, g, b] = [0, 1, 2].map((c) => pixels.data[i * pixels.channels + c]);
			expect([g, b]).toEqual([r, r]);
			values.push(r);
		}
		return { width: pixels.width, height: pixels.height, values };
	}

	/** Pixels where the mask is not `expected` (255 where `white`, else 0); [] when it is exact. */
	async function maskErrors(url: string, white: Where | ((x: number, y: number) => number)) {
		const { width, height, values } = await maskValues(url);
		expect([width, height]).toEqual([SW, SH]);
		const errors: string[] = [];
		for (let y = 0; y < height; y++) {
			for (let x = 0; x < width; x++) {
				const want = white(x, y);
				const expected = typeof want === 'number' ? want : want ? 255 : 0;
				const got = values[y * width + x];
				if (got !== expected) errors.push(`(${x},${y}) ${got} instead of ${expected}`);
			}
		}
		return errors.length > 5 ? [...errors.slice(0, 5), `… ${errors.length} in all`] : errors;
	}

	async function segmentDetail(input: Record<string, unknown>): Promise<Json[]> {
		const error = await rejectionOf(segment(input));
		expect(error).toBeInstanceOf(ValidationError);
		expect(error.status).toBe(422);
		return error.body.detail;
	}

	beforeAll(async () => {
		scene = await makeColourImage({
			width: SW,
			height: SH,
			background: BLUE,
			regions: [
				{ rect: { left: 0, top: 15, width: SW, height: 15 }, colour: GREEN },
				{ rect: SUN, colour: [255, 255, 0] },
				{ rect: HAZE, colour: [40, 30, 210] },
				{ rect: DUSK, colour: [60, 0, 255] },
				{ rect: SNOW, colour: [250, 250, 250] },
			],
		});
	});

	it('the rule: words name colours, whose palette cubes do not overlap', () => {
		expect(coloursIn('The SKY over green-trees, the Sun; gray clouds')).toEqual([
			'blue',
			'green',
			'yellow',
			'grey',
			'white',
		]);
		expect(coloursIn('Cat in the middle of the image')).toEqual([]);
		const names = Object.keys(PALETTE);
		for (const a of names)
			for (const b of names.filter((n) => n > a))
				expect({
					a,
					b,
					apart: [0, 1, 2].some((c) => Math.abs(PALETTE[a][c] - PALETTE[b][c]) > 2 * TOLERANCE),
				}).toEqual({ a, b, apart: true });
	});

	it('queue, polling: "the sky" masks exactly the blue pixels; a PNG File in the CDN; separate records', async () => {
		emu.configure({ latencyMs: 40 });
		const updates: Json[] = [];
		const result = await segment(sceneInput({ prompt: 'the sky' }), {
			logs: true,
			onQueueUpdate: (u: Json) => updates.push(u),
		});
		const data = result.data as Json;
		expect(data).toEqual({
			image: {
				url: expect.stringMatching(new RegExp(`^${emu.url}/files/\\w+\\.png$`)),
				content_type: 'image/png',
				file_name: expect.stringMatching(/^\w+\.png$/),
				file_size: expect.any(Number),
			},
		});
		expect(data.image.url.endsWith(`/${data.image.file_name}`)).toBe(true);
		const response = await fetch(data.image.url);
		expect(response.headers.get('content-type')).toBe('image/png');
		const bytes = Buffer.from(await response.arrayBuffer());
		expect(bytes.length).toBe(data.image.file_size);
		expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
		expect(bytes[25]).toBe(0); // IHDR colour type 0: an 8-bit grey PNG
		expect(await maskErrors(data.image.url, sky)).toEqual([]);

		const logs = updates.flatMap((u) => u.logs ?? []).map((l: Json) => l.message);
		expect(logs).toEqual(
			expect.arrayContaining(['Starting EVF-SAM2', `Loaded image ${SW}x${SH}`, 'Segmented blue']),
		);
		// Records and jobs say which endpoint they are for; emu.jobs stays fill-only.
		expect(emu.jobs.size).toBe(0);
		expect([...emu.jobsFor(SEGMENT_ENDPOINT).keys()]).toEqual([result.requestId]);
		expect(emu.allJobs.get(result.requestId)).toMatchObject({
			endpoint: 'fal-ai/evf-sam',
			mode: 'queue',
			status: 'COMPLETED',
			input: { prompt: 'the sky', image_url: expect.stringMatching(`^${emu.url}/files/`) },
		});
		const calls = emu.requestsFor(SEGMENT_ENDPOINT);
		expect(calls.every((r) => r.endpoint === SEGMENT_ENDPOINT)).toBe(true);
		expect(calls.map((r) => r.kind)).toEqual([
			'submit',
			...calls.slice(1, -1).map(() => 'status'),
			'result',
		]);
		expect(calls[0].target).toBe(SEG_QUEUE);
		expect(calls[1].target).toBe(`${SEG_QUEUE}/requests/${result.requestId}/status?logs=1`);
		expect(emu.requestsFor(FILL_ENDPOINT)).toEqual([]);
		const storage = emu.requests.filter((r) => r.kind === 'initiate' || r.kind === 'upload');
		expect(storage).toHaveLength(2);
		expect(storage.every((r) => r.endpoint === undefined)).toBe(true);
	});

	it('streaming and sync: several colour words make a union; images from data: URIs and other hosts', async () => {
		const streamed = await segment(
			{ prompt: 'green grass and the sun', image_url: `${sideUrl}/scene.png` },
			{ mode: 'streaming' },
		);
		const union: Where = (x, y) => grass(x, y) || sun(x, y);
		expect(await maskErrors((streamed.data as Json).image.url, union)).toEqual([]);
		expect(emu.requestsFor(SEGMENT_ENDPOINT).map((r) => r.kind)).toEqual([
			'submit',
			'stream',
			'result',
		]);

		const sync = await client().run(SEGMENT, {
			input: {
				prompt: 'Sun, grass',
				image_url: `data:image/png;base64,${scene.toString('base64')}`,
			},
		});
		expectSyncRun(SEGMENT_ENDPOINT, sync.requestId);
		expect(await maskErrors((sync.data as Json).image.url, union)).toEqual([]);
	});

	it('negative_prompt removes its colours; revert, expand, fill_holes and blur shape the mask', async () => {
		const run = async (input: Record<string, unknown>, picture = scene) =>
			((await segment({ image_url: blob(picture, 'image/png'), ...input })).data as Json).image
				.url as string;
		expect(
			await maskErrors(await run({ prompt: 'sky and trees', negative_prompt: 'the green' }), sky),
		).toEqual([]);
		expect(
			await maskErrors(
				await run({ prompt: 'sky, grass, snow', negative_prompt: 'no snow', expand_mask: 0 }),
				(x, y) => sky(x, y) || grass(x, y),
			),
		).toEqual([]);
		expect(await maskErrors(await run({ prompt: 'sky', negative_prompt: null }), sky)).toEqual([]);
		expect(
			await maskErrors(await run({ prompt: 'sky', revert_mask: true }), (x, y) => !sky(x, y)),
		).toEqual([]);
		const grown: Rect = {
			left: SUN.left - 2,
			top: SUN.top - 2,
			width: SUN.width + 4,
			height: SUN.height + 4,
		};
		expect(
			await maskErrors(await run({ prompt: 'sun', expand_mask: '2' }), (x, y) =>
				inRect(grown, x, y),
			),
		).toEqual([]);
		// expand first, then invert
		expect(
			await maskErrors(
				await run({ prompt: 'sun', expand_mask: 2, revert_mask: 'true' }),
				(x, y) => !inRect(grown, x, y),
			),
		).toEqual([]);
		// the sun and the dusk patch are holes in the sky; filled, the sky is the whole top half
		expect(
			await maskErrors(await run({ prompt: 'sky', fill_holes: true }), (_x, y) => y < 15),
		).toEqual([]);

		// blur: a box of 3 (2 is rounded up to 3) across the sky/grass edge of a plain picture
		const plain = await makeColourImage({
			width: SW,
			height: SH,
			background: BLUE,
			regions: [{ rect: { left: 0, top: 15, width: SW, height: 15 }, colour: GREEN }],
		});
		const edge = (_x: number, y: number) => (y <= 13 ? 255 : y === 14 ? 170 : y === 15 ? 85 : 0);
		expect(await maskErrors(await run({ prompt: 'sky', blur_mask: 3 }, plain), edge)).toEqual([]);
		expect(await maskErrors(await run({ prompt: 'sky', blur_mask: 2 }, plain), edge)).toEqual([]);
		expect(
			await maskErrors(
				await run({ prompt: 'sky', blur_mask: 3, revert_mask: true }, plain),
				(x, y) => 255 - edge(x, y),
			),
		).toEqual([]);
	});

	it('a prompt naming no colour finds nothing: 200 with an all-black mask', async () => {
		const result = await segment(sceneInput({ prompt: 'Cat in the middle of the image' }), {
			logs: true,
		});
		expect(await maskErrors((result.data as Json).image.url, nowhere)).toEqual([]);
		const empty = await segment(
			sceneInput({ prompt: '', use_grounding_dino: true, semantic_type: true }),
		);
		expect(await maskErrors((empty.data as Json).image.url, nowhere)).toEqual([]);
		const job = emu.jobsFor(SEGMENT_ENDPOINT).get(result.requestId)!;
		expect(job.logs.map((l) => l.message)).toContain(
			'Nothing in the prompt was found in the image',
		);
	});

	it('its mask feeds the fill endpoint, and a grey mask can be segmented again', async () => {
		const maskUrl = ((await segment(sceneInput({ prompt: 'sky' }))).data as Json).image.url;
		const filled = (
			await fill({
				prompt: 'a starry sky',
				image_url: blob(scene, 'image/png'),
				mask_url: maskUrl,
				output_format: 'png',
			})
		).data as Json;
		const { changedInside, maxDiffOutside } = await compare(
			scene,
			await download(filled.images[0].url),
			{ left: 0, top: 15, width: SW, height: SH - 15 }, // the grass: "outside" is the sky
		);
		expect(changedInside).toBe(0); // the grass is kept
		expect(maxDiffOutside).toBeGreaterThan(0); // the sky was repainted
		const again = await segment({ prompt: 'white', image_url: maskUrl });
		expect(await maskErrors((again.data as Json).image.url, sky)).toEqual([]);
		expect(emu.jobs.size).toBe(1);
		expect(emu.jobsFor(SEGMENT_ENDPOINT).size).toBe(2);
	});

	it('mask_only: false gives the image with the mask laid over it in red', async () => {
		const result = await segment(sceneInput({ prompt: 'sky', mask_only: false }));
		const data = result.data as Json;
		expect(data.image.content_type).toBe('image/png');
		const pixels = await readPixels(await download(data.image.url));
		expect([pixels.width, pixels.height]).toEqual([SW, SH]);
		const at = (x: number, y: number) =>
			[0, 1, 2].map((c) => pixels.data[(y * SW + x) * pixels.channels + c]);
		expect(at(0, 0)).toEqual([128, 0, 128]); // blue, half way to red
		expect(at(HAZE.left, HAZE.top)).toEqual([148, 15, 105]); // (40,30,210) half way to red
		expect(at(SUN.left, SUN.top)).toEqual([255, 255, 0]); // not in the mask: unchanged
		expect(at(0, 20)).toEqual([0, 255, 0]);
	});

	describe('validation errors come from the result call as 422', () => {
		it('reports both missing required fields, in schema order', async () => {
			const { request_id, status_url } = await client().queue.submit(SEGMENT, { input: {} });
			expect(status_url).toBe(`${SEG_QUEUE}/requests/${request_id}/status`);
			await waitFor(() => emu.jobsFor(SEGMENT_ENDPOINT).get(request_id)?.status === 'COMPLETED');
			const error = await rejectionOf(client().queue.result(SEGMENT, { requestId: request_id }));
			expect(error).toBeInstanceOf(ValidationError);
			expect(error.body.detail).toEqual([
				{ loc: ['body', 'prompt'], msg: 'Field required', type: 'missing' },
				{ loc: ['body', 'image_url'], msg: 'Field required', type: 'missing' },
			]);
		});

		it('reports wrong types and out-of-range expand_mask / blur_mask like pydantic', async () => {
			const types = await segmentDetail({
				prompt: 5,
				image_url: blob(scene, 'image/png'),
				fill_holes: 'maybe',
				expand_mask: 'x',
				mask_only: [],
				blur_mask: 1.5,
				negative_prompt: 3,
			});
			expect(types.map((d) => [d.loc[1], d.type])).toEqual([
				['prompt', 'string_type'],
				['fill_holes', 'bool_parsing'],
				['expand_mask', 'int_parsing'],
				['mask_only', 'bool_type'],
				['blur_mask', 'int_from_float'],
				['negative_prompt', 'string_type'],
			]);
			expect(
				await segmentDetail(sceneInput({ prompt: 'sky', expand_mask: 21, blur_mask: -1 })),
			).toEqual([
				{
					loc: ['body', 'expand_mask'],
					msg: 'Input should be less than or equal to 20',
					type: 'less_than_equal',
					input: 21,
					ctx: { le: 20 },
				},
				{
					loc: ['body', 'blur_mask'],
					msg: 'Input should be greater than or equal to 0',
					type: 'greater_than_equal',
					input: -1,
					ctx: { ge: 0 },
				},
			]);
			expect((await segmentDetail(sceneInput({ prompt: 'sky', blur_mask: 51 })))[0]).toMatchObject({
				loc: ['body', 'blur_mask'],
				type: 'less_than_equal',
			});
		});

		it('reports images that cannot be loaded', async () => {
			for (const url of [
				`${sideUrl}/missing.png`,
				`${sideUrl}/text`,
				`${emu.url}/files/nope.png`,
			]) {
				expect(await segmentDetail({ prompt: 'sky', image_url: url })).toEqual([
					expect.objectContaining({
						loc: ['body', 'image_url'],
						type: 'image_load_error',
						msg: expect.stringMatching(/could not load image/i),
					}),
				]);
			}
		});
	});

	it('shares auth, the account concurrency, cancel and webhooks with the fill endpoint', async () => {
		const wrong = await rejectionOf(
			client(WRONG_KEY).queue.submit(SEGMENT, { input: { prompt: 'x' } }),
		);
		expect(wrong.status).toBe(401);
		const locked = await rejectionOf(client(LOCKED_KEY).run(SEGMENT, { input: { prompt: 'x' } }));
		expect(locked.status).toBe(403);
		expect(emu.allJobs.size).toBe(0);

		emu.configure({ concurrency: 0 });
		const fal = client();
		const fillJob = await fal.queue.submit(ENDPOINT, { input: baseInput() });
		const segJob = await fal.queue.submit(SEGMENT, {
			input: sceneInput({ prompt: 'sky' }),
			webhookUrl: `${sideUrl}/hook`,
		});
		const cancelled = await fal.queue.submit(SEGMENT, { input: sceneInput({ prompt: 'sky' }) });
		expect(segJob).toMatchObject({ status: 'IN_QUEUE', queue_position: 1 });
		const submits = emu.requestsFor(SEGMENT_ENDPOINT).filter((r) => r.kind === 'submit');
		expect(submits.map((r) => r.status)).toEqual([401, 200, 200]);
		expect(submits[1].query).toEqual({
			fal_webhook: `${sideUrl}/hook`,
		});
		// A request id is found only under its own app.
		expect((await proxied('GET', `${QUEUE}/requests/${segJob.request_id}/status`)).status).toBe(
			404,
		);
		expect((await proxied('GET', `${SEG_QUEUE}/requests/${fillJob.request_id}`)).status).toBe(404);
		expect((await proxied('PUT', `${QUEUE}/requests/${segJob.request_id}/cancel`)).status).toBe(
			404,
		);

		await fal.queue.cancel(SEGMENT, { requestId: cancelled.request_id });
		expect(emu.jobsFor(SEGMENT_ENDPOINT).get(cancelled.request_id)).toMatchObject({
			status: 'CANCELLED',
			cancelled: true,
		});
		emu.configure({ concurrency: 1 });
		await fal.queue.subscribeToStatus(SEGMENT, { requestId: segJob.request_id, pollInterval: 10 });
		expect(emu.jobs.get(fillJob.request_id)).toMatchObject({
			status: 'COMPLETED',
			endpoint: ENDPOINT,
		});
		expect([...emu.jobs.values()].map((j) => j.endpoint)).toEqual([FILL_ENDPOINT]);
		expect(emu.jobsFor(SEGMENT_ENDPOINT).size).toBe(2);
		expect(emu.allJobs.size).toBe(3);

		await waitFor(() => hooks.length === 1 && emu.webhooks[0]?.status === 200);
		expect(hooks[0]).toMatchObject({
			request_id: segJob.request_id,
			status: 'OK',
			payload: { image: expect.objectContaining({ content_type: 'image/png' }) },
		});
		expect(emu.webhooks[0].endpoint).toBe(SEGMENT_ENDPOINT);
	});

	it('fault rules with `endpoint` hit segmentation calls only', async () => {
		const rule = emu.fail({
			kind: 'result',
			endpoint: SEGMENT_ENDPOINT,
			times: Infinity,
			status: 500,
			body: { detail: 'Segmentation broke', error_type: 'internal_error' },
		});
		emu.fail({
			kind: 'submit',
			endpoint: SEGMENT_ENDPOINT,
			status: 400,
			body: { detail: 'Refused' },
		});
		const refused = await rejectionOf(segment(sceneInput({ prompt: 'sky' })));
		expect(refused.status).toBe(400);
		expect(emu.jobsFor(SEGMENT_ENDPOINT).size).toBe(0);

		const filled = await fill(baseInput());
		expect((filled.data as Json).images).toHaveLength(1);
		const broken = await rejectionOf(segment(sceneInput({ prompt: 'sky' })));
		expect(broken).toBeInstanceOf(ApiError);
		expect(broken.status).toBe(500);
		expect(broken.body).toEqual({ detail: 'Segmentation broke', error_type: 'internal_error' });
		expect(rule.hits).toBe(1);
		expect(
			emu
				.requestsFor(FILL_ENDPOINT)
				.filter((r) => r.kind === 'result')
				.map((r) => r.status),
		).toEqual([200]);

		emu.configure({ latencyMs: 300 });
		emu.fail({ kind: 'stream', endpoint: SEGMENT_ENDPOINT, dropAfterEvents: 1 });
		const dropped = await rejectionOf(
			segment(sceneInput({ prompt: 'sky' }), { mode: 'streaming' }),
		);
		expect(dropped).toBeInstanceOf(ApiError);

		expect(() => emu.fail({ kind: 'result', endpoint: 'fal-ai/nope' as never })).toThrow(TypeError);
		expect(() => emu.fail({ kind: 'upload', endpoint: SEGMENT_ENDPOINT })).toThrow(TypeError);
	});
});

describe('fal-ai/flux-pro/v1/fill-finetuned (the fill with a FLUX.1 [pro] finetune)', () => {
	// A plain string for the client, like ENDPOINT; FINETUNED_ENDPOINT keeps its literal type for the emulator API.
	const FINETUNED: string = FINETUNED_ENDPOINT;
	const [FT, OTHER_FT] = DEFAULT_FINETUNE_IDS;
	const UNKNOWN_FT = '00000000-0000-4000-8000-000000000000';

	const finetuned = (input: Record<string, unknown>, options: Record<string, unknown> = {}) =>
		client().subscribe(FINETUNED, { input, pollInterval: 10, ...options });
	const ftInput = (extra: Record<string, unknown> = {}) =>
		baseInput({ finetune_id: FT, finetune_strength: 1, ...extra });

	async function finetunedDetail(input: Record<string, unknown>): Promise<Json[]> {
		const error = await rejectionOf(finetuned(input));
		expect(error).toBeInstanceOf(ValidationError);
		expect(error.status).toBe(422);
		return error.body.detail;
	}

	/** The first output image's raw pixels. */
	async function pixelsOf(result: { data: unknown }) {
		return readPixels(await download((result.data as Json).images[0].url));
	}

	/** Pixels inside RECT that are not `expected(plain, x, y)` (plain: the fill's pixel there), and changes outside. */
	async function effectErrors(
		result: { data: unknown },
		plainResult: { data: unknown },
		expected: (plain: number[]) => number[],
	) {
		const got = await pixelsOf(result);
		const plain = await pixelsOf(plainResult);
		const input = await readPixels(image);
		const errors: string[] = [];
		for (let y = 0; y < H; y++) {
			for (let x = 0; x < W; x++) {
				const at = (p: typeof got) => [0, 1, 2].map((c) => p.data[(y * W + x) * p.channels + c]);
				const inside =
					x >= RECT.left &&
					x < RECT.left + RECT.width &&
					y >= RECT.top &&
					y < RECT.top + RECT.height;
				const want = inside ? expected(at(plain)) : at(input);
				if (at(got).join() !== want.join())
					errors.push(`(${x},${y}) ${at(got)} instead of ${want}`);
			}
		}
		return errors.length > 5 ? [...errors.slice(0, 5), `… ${errors.length} in all`] : errors;
	}

	it("queue, polling: the fill's output, request URLs under fal-ai/flux-pro, records and jobs of its own", async () => {
		emu.configure({ latencyMs: 40 });
		const updates: Json[] = [];
		const result = await finetuned(ftInput({ output_format: 'png', seed: 5 }), {
			logs: true,
			onQueueUpdate: (u: Json) => updates.push(u),
		});
		expect(result.data).toEqual(pngOutput(5));
		const logs = updates.flatMap((u) => u.logs ?? []).map((l: Json) => l.message);
		expect(logs).toEqual(
			expect.arrayContaining([
				'Starting FLUX.1 [pro] Fill Fine-tuned',
				`Loaded finetune ${FT} at strength 1`,
			]),
		);

		const calls = emu.requestsFor(FINETUNED_ENDPOINT);
		expect(calls.map((r) => r.kind)).toEqual([
			'submit',
			...calls.slice(1, -1).map(() => 'status'),
			'result',
		]);
		expect(calls[0].target).toBe('https://queue.fal.run/fal-ai/flux-pro/v1/fill-finetuned');
		expect(calls[1].target).toBe(`${QUEUE}/requests/${result.requestId}/status?logs=1`);
		expect(calls.at(-1)!.target).toBe(`${QUEUE}/requests/${result.requestId}`);
		expect(emu.requestsFor(FILL_ENDPOINT)).toEqual([]);
		expect(emu.jobs.size).toBe(0); // emu.jobs stays fill-only
		expect(emu.jobsFor(FINETUNED_ENDPOINT).get(result.requestId)).toMatchObject({
			endpoint: FINETUNED_ENDPOINT,
			mode: 'queue',
			status: 'COMPLETED',
			input: expect.objectContaining({ finetune_id: FT, finetune_strength: 1 }),
		});
	});

	it("fill and fill-finetuned ids share the app's URLs; each call is recorded for its job's endpoint", async () => {
		emu.configure({ concurrency: 0 });
		const fal = client();
		const fillJob = await fal.queue.submit(ENDPOINT, { input: baseInput() });
		const ftJob = await fal.queue.submit(FINETUNED, { input: ftInput() });
		const cancelled = await fal.queue.submit(FINETUNED, { input: ftInput() });
		expect(ftJob).toMatchObject({
			status: 'IN_QUEUE',
			queue_position: 1, // one account queue for every endpoint
			status_url: `${QUEUE}/requests/${ftJob.request_id}/status`,
			response_url: `${QUEUE}/requests/${ftJob.request_id}`,
			cancel_url: `${QUEUE}/requests/${ftJob.request_id}/cancel`,
		});
		expect((await proxied('GET', `${QUEUE}/requests/${ftJob.request_id}/status`)).status).toBe(202);
		expect((await proxied('GET', `${QUEUE}/requests/${fillJob.request_id}/status`)).status).toBe(
			202,
		);
		// Found only under its own app; the …/v1/fill-finetuned/requests/<id> form is not a route.
		const SEG_QUEUE = 'https://queue.fal.run/fal-ai/evf-sam';
		expect((await proxied('GET', `${SEG_QUEUE}/requests/${ftJob.request_id}`)).status).toBe(404);
		expect(
			(
				await proxied(
					'GET',
					`https://queue.fal.run/${FINETUNED}/requests/${ftJob.request_id}/status`,
				)
			).status,
		).toBe(404);

		await fal.queue.cancel(FINETUNED, { requestId: cancelled.request_id });
		expect(emu.jobsFor(FINETUNED_ENDPOINT).get(cancelled.request_id)).toMatchObject({
			status: 'CANCELLED',
			cancelled: true,
		});
		emu.configure({ concurrency: 1 });
		await fal.queue.subscribeToStatus(FINETUNED, {
			requestId: ftJob.request_id,
			pollInterval: 10,
		});
		await fal.queue.result(FINETUNED, { requestId: ftJob.request_id });
		await fal.queue.result(ENDPOINT, { requestId: fillJob.request_id });

		const forJob = (id: string) =>
			emu.requests.filter((r) => r.requestId === id && r.target.startsWith(`${QUEUE}/requests/`));
		expect(forJob(ftJob.request_id).map((r) => r.kind)).toEqual(
			expect.arrayContaining(['status', 'result']),
		);
		expect(forJob(ftJob.request_id).every((r) => r.endpoint === FINETUNED_ENDPOINT)).toBe(true);
		expect(forJob(fillJob.request_id).every((r) => r.endpoint === FILL_ENDPOINT)).toBe(true);
		expect(emu.requestsFor(FINETUNED_ENDPOINT).find((r) => r.kind === 'cancel')?.requestId).toBe(
			cancelled.request_id,
		);
		expect([...emu.jobs.keys()]).toEqual([fillJob.request_id]);
		expect([...emu.jobsFor(FINETUNED_ENDPOINT).keys()]).toEqual([
			ftJob.request_id,
			cancelled.request_id,
		]);
		expect(emu.allJobs.size).toBe(3);
	});

	it("the visible effect: repainted pixels move towards the finetune's colour by strength / 2", async () => {
		const input = { output_format: 'png', seed: 11 };
		const plain = await fill(baseInput(input));
		const full = await finetuned(ftInput({ ...input, finetune_strength: 2 }));
		expect(await effectErrors(full, plain, () => finetuneColour(FT))).toEqual([]);
		const half = await finetuned(ftInput({ ...input, finetune_strength: 1 }));
		const towards = (colour: number[]) => (p: number[]) =>
			p.map((v, c) => Math.round(v + (colour[c] - v) * 0.5));
		expect(await effectErrors(half, plain, towards(finetuneColour(FT)))).toEqual([]);
		const other = await finetuned(ftInput({ ...input, finetune_id: OTHER_FT }));
		expect(await effectErrors(other, plain, towards(finetuneColour(OTHER_FT)))).toEqual([]);
		expect(finetuneColour(OTHER_FT)).not.toEqual(finetuneColour(FT));
		// Strength 0 is no influence: the plain fill's bytes. The same input: the same bytes.
		const none = await finetuned(ftInput({ ...input, finetune_strength: 0 }));
		const again = await finetuned(ftInput({ ...input, finetune_strength: 1 }));
		const hash = async (r: { data: unknown }) =>
			sha(await download((r.data as Json).images[0].url));
		expect(await hash(none)).toBe(await hash(plain));
		expect(await hash(again)).toBe(await hash(half));
		expect(await hash(half)).not.toBe(await hash(plain));
	});

	it('streaming and sync on fal.run/fal-ai/flux-pro/v1/fill-finetuned', async () => {
		const streamed = await finetuned(ftInput({ finetune_strength: 2 }), { mode: 'streaming' });
		expect((streamed.data as Json).images[0]).toMatchObject({ content_type: 'image/jpeg' });
		expect(emu.requestsFor(FINETUNED_ENDPOINT).map((r) => r.kind)).toEqual([
			'submit',
			'stream',
			'result',
		]);
		const sync = await client().run(FINETUNED, {
			input: ftInput({ output_format: 'png', finetune_strength: '2' }),
		});
		expectSyncRun(FINETUNED_ENDPOINT, sync.requestId);
		const pixels = await pixelsOf(sync);
		const i = ((RECT.top + 1) * W + RECT.left + 1) * pixels.channels;
		expect([...pixels.data.subarray(i, i + 3)]).toEqual(finetuneColour(FT));
	});

	describe('validation errors come from the result call as 422', () => {
		it('reports missing fields, finetune_id and finetune_strength (required, no default) last', async () => {
			const { request_id } = await client().queue.submit(FINETUNED, { input: {} });
			await waitFor(() => emu.jobsFor(FINETUNED_ENDPOINT).get(request_id)?.status === 'COMPLETED');
			const error = await rejectionOf(client().queue.result(FINETUNED, { requestId: request_id }));
			expect(error).toBeInstanceOf(ValidationError);
			expect(error.body.detail).toEqual(
				['prompt', 'image_url', 'mask_url', 'finetune_id', 'finetune_strength'].map((field) => ({
					loc: ['body', field],
					msg: 'Field required',
					type: 'missing',
				})),
			);
			expect((await finetunedDetail(baseInput({ finetune_id: FT }))).map((d) => d.loc)).toEqual([
				['body', 'finetune_strength'],
			]);
		});

		it("reports finetune_strength outside 0–2 and wrong types like pydantic, after the fill's errors", async () => {
			expect(await finetunedDetail(ftInput({ finetune_strength: -0.5 }))).toEqual([
				{
					loc: ['body', 'finetune_strength'],
					msg: 'Input should be greater than or equal to 0',
					type: 'greater_than_equal',
					input: -0.5,
					ctx: { ge: 0 },
				},
			]);
			expect(await finetunedDetail(ftInput({ finetune_strength: 2.01 }))).toEqual([
				{
					loc: ['body', 'finetune_strength'],
					msg: 'Input should be less than or equal to 2',
					type: 'less_than_equal',
					input: 2.01,
					ctx: { le: 2 },
				},
			]);
			const detail = await finetunedDetail(
				ftInput({ num_images: 5, finetune_id: 7, finetune_strength: 'strong' }),
			);
			expect(detail.map((d) => [d.loc[1], d.type])).toEqual([
				['num_images', 'less_than_equal'],
				['finetune_id', 'string_type'],
				['finetune_strength', 'float_parsing'],
			]);
			expect(
				(await finetunedDetail(ftInput({ finetune_id: null, finetune_strength: true }))).map(
					(d) => [d.loc[1], d.type],
				),
			).toEqual([
				['finetune_id', 'string_type'],
				['finetune_strength', 'float_type'],
			]);
		});
	});

	it('an unknown finetune id: 422 on finetune_id from the result call, the webhook and the sync call', async () => {
		const { request_id } = await client().queue.submit(FINETUNED, {
			input: ftInput({ finetune_id: UNKNOWN_FT }),
			webhookUrl: `${sideUrl}/hook`,
		});
		await waitFor(() => emu.jobsFor(FINETUNED_ENDPOINT).get(request_id)?.status === 'COMPLETED');
		const error = await rejectionOf(client().queue.result(FINETUNED, { requestId: request_id }));
		const unknown = {
			loc: ['body', 'finetune_id'],
			msg: 'Finetune not found or not ready',
			type: 'value_error',
			input: UNKNOWN_FT,
		};
		expect(error).toBeInstanceOf(ValidationError);
		expect(error.body.detail).toEqual([unknown]);
		await waitFor(() => hooks.length === 1);
		expect(hooks[0]).toMatchObject({ status: 'ERROR', payload: { detail: [unknown] } });
		expect(emu.webhooks[0].endpoint).toBe(FINETUNED_ENDPOINT);

		const sync = await rejectionOf(
			client().run(FINETUNED, { input: ftInput({ finetune_id: '' }) }),
		);
		expect(sync.status).toBe(422);
		expect(sync.body.detail).toEqual([{ ...unknown, input: '' }]);

		emu.finetunes.add(UNKNOWN_FT); // declared while running
		expect((await finetuned(ftInput({ finetune_id: UNKNOWN_FT }))).data).toMatchObject({
			images: [expect.objectContaining({ width: W })],
		});
		emu.finetunes.delete(UNKNOWN_FT);

		const own = await startFalEmulator({ finetunes: ['ft-mine'] });
		try {
			const ownClient = createFalClient({
				credentials: KEY,
				proxyUrl: { url: own.proxyUrl, when: 'always' },
			});
			const run = (finetune_id: string) =>
				ownClient.run(FINETUNED, { input: ftInput({ finetune_id }) });
			expect(((await run('ft-mine')).data as Json).images).toHaveLength(1);
			expect((await rejectionOf(run(FT))).body.detail).toEqual([{ ...unknown, input: FT }]);
		} finally {
			await own.close();
		}
	});

	it('fault rules with `endpoint` tell fill and fill-finetuned calls apart on the same URLs', async () => {
		const rule = emu.fail({
			kind: 'result',
			endpoint: FINETUNED_ENDPOINT,
			times: Infinity,
			status: 500,
			body: { detail: 'Finetune runner broke' },
		});
		emu.fail({ kind: 'status', endpoint: FILL_ENDPOINT, times: Infinity, status: 503 });
		const broken = await rejectionOf(finetuned(ftInput()));
		expect(broken).toBeInstanceOf(ApiError);
		expect(broken.status).toBe(500);
		expect(broken.body).toEqual({ detail: 'Finetune runner broke' });
		expect(rule.hits).toBe(1);

		emu.clearFaults();
		emu.fail({ kind: 'result', endpoint: FILL_ENDPOINT, times: Infinity, status: 500 });
		expect(((await finetuned(ftInput())).data as Json).images).toHaveLength(1);
		expect((await rejectionOf(fill(baseInput()))).status).toBe(500);

		emu.clearFaults();
		emu.fail({ kind: 'submit', endpoint: FINETUNED_ENDPOINT, status: 400, body: { detail: 'No' } });
		expect((await rejectionOf(finetuned(ftInput()))).status).toBe(400);
		expect(emu.jobsFor(FINETUNED_ENDPOINT).size).toBe(2); // the refused submit made no job
		emu.fail({ kind: 'sync', endpoint: FINETUNED_ENDPOINT, status: 400, body: { detail: 'No' } });
		expect((await rejectionOf(client().run(FINETUNED, { input: ftInput() }))).status).toBe(400);
		expect(
			((await client().run(ENDPOINT, { input: baseInput() })).data as Json).images,
		).toHaveLength(1);
	});
});
