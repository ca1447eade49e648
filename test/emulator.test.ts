/**
 * The fal emulator, driven through the real `@fal-ai/client` (and raw HTTP where the
 * client would hide what is being checked). Everything runs on 127.0.0.1. Each test pins
 * a behaviour that the node's own tests (test/integration, test/unit, test/e2e) or the
 * benchmarks (scripts/bench*.js) rely on, and nothing else.
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
const FILL_URL = `${QUEUE}/v1/fill`;
const W = 64;
const H = 48;
const RECT: Rect = { left: 16, top: 8, width: 24, height: 20 };

let emu: Emulator;
let side: http.Server;
let sideUrl: string;
let image: Buffer;
let mask: Buffer;
let scene: Buffer;
/** What the side server's /hook received. */
const hooks: Array<{ userAgent?: string; body: Json }> = [];

/** A loopback server standing in for the rest of the internet: image hosting and webhook receivers. */
function startSideServer(): Promise<http.Server> {
	const files: Record<string, () => Buffer> = {
		'/image.png': () => image,
		'/mask.png': () => mask,
		'/scene.png': () => scene,
	};
	const server = http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			const file = files[req.url ?? ''];
			if (file) return void res.writeHead(200, { 'content-type': 'image/png' }).end(file());
			if (req.url === '/hook' && req.method === 'POST') {
				const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
				hooks.push({ userAgent: req.headers['user-agent'], body });
				return void res.writeHead(200).end();
			}
			// A receiver that refuses the call, as n8n does when the execution is still running.
			if (req.url === '/busy' && req.method === 'POST') return void res.writeHead(409).end();
			res.writeHead(404).end();
		});
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** A Blob the client uploads by itself (a Node Buffer would be sent as JSON). */
function blob(bytes: Buffer): Blob {
	return new Blob([new Uint8Array(bytes)], { type: 'image/png' });
}

const dataUri = (bytes: Buffer) => `data:image/png;base64,${bytes.toString('base64')}`;

function client(key: string = KEY, proxyUrl = emu.proxyUrl) {
	return createFalClient({ credentials: key, proxyUrl: { url: proxyUrl, when: 'always' } });
}

/** A fill input the client uploads first (Blobs). */
function baseInput(extra: Record<string, unknown> = {}): Record<string, unknown> {
	return { prompt: 'a red balloon', image_url: blob(image), mask_url: blob(mask), ...extra };
}

/** A fill input as plain JSON (image and mask inline, as the node sends small pictures). */
function inlineInput(extra: Record<string, unknown> = {}): Record<string, unknown> {
	return { prompt: 'a red balloon', image_url: dataUri(image), mask_url: dataUri(mask), ...extra };
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

/** Runs a call expected to fail validation and returns `err.body.detail`. */
async function detailOf(call: Promise<unknown>): Promise<Json[]> {
	const error = await rejectionOf(call);
	expect(error).toBeInstanceOf(ValidationError);
	expect(error.status).toBe(422);
	return error.body.detail;
}

/** A raw call through the emulator's /proxy, as the client makes it. */
function proxied(method: string, target: string, options: { body?: unknown } = {}) {
	return fetch(emu.proxyUrl, {
		method,
		headers: {
			'x-fal-target-url': target,
			'content-type': 'application/json',
			authorization: `Key ${KEY}`,
		},
		body: options.body === undefined ? undefined : JSON.stringify(options.body),
	});
}

/** A raw call to the emulator's own address with another Host, as the proxy lab's TLS front passes it on. */
function asHost(
	url: string,
	host: string,
	method: string,
	body?: unknown,
): Promise<{ status: number; json: Json }> {
	return new Promise((resolve, reject) => {
		const request = http.request(
			url,
			{
				method,
				headers: { host, authorization: `Key ${KEY}`, 'content-type': 'application/json' },
			},
			(response) => {
				const chunks: Buffer[] = [];
				response.on('data', (c: Buffer) => chunks.push(c));
				response.on('end', () =>
					resolve({
						status: response.statusCode ?? 0,
						json: JSON.parse(Buffer.concat(chunks).toString('utf8')),
					}),
				);
			},
		);
		request.on('error', reject);
		request.end(body === undefined ? undefined : JSON.stringify(body));
	});
}

async function download(url: string): Promise<Buffer> {
	const response = await fetch(url);
	expect(response.status).toBe(200);
	return Buffer.from(await response.arrayBuffer());
}

/** A submitted fill job that has finished. */
async function finishedJob(): Promise<string> {
	const { request_id } = (await (
		await proxied('POST', FILL_URL, { body: inlineInput() })
	).json()) as Json;
	await waitFor(() => emu.jobs.get(request_id)?.status === 'COMPLETED');
	return request_id;
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

/**
 * Holds the next job IN_QUEUE (concurrency 0) and lets it run on the first status update
 * the client gets, so that the client sees every change of the job without any waiting.
 */
function releasedOnFirstUpdate() {
	emu.configure({ concurrency: 0 });
	const statuses: string[] = [];
	return {
		statuses,
		push: (update: Json) => {
			if (statuses.length === 0) emu.configure({ concurrency: Infinity });
			statuses.push(update.status);
		},
	};
}

/** A png fill of `image` with `mask`: the white part repainted, the rest byte for byte. */
async function expectFilled(output: Buffer) {
	const { changedInside, maxDiffOutside } = await compare(image, output, RECT);
	expect(changedInside).toBeGreaterThan(0.9);
	expect(maxDiffOutside).toBe(0);
}

/** The output JSON of one png image from baseInput(), with this seed, on this origin. */
function pngOutput(seed: number, origin = emu.url) {
	return {
		images: [
			{
				url: expect.stringMatching(new RegExp(`^${origin}/files/\\w+\\.png$`)),
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
	it('uploads a Blob (initiate through the proxy, then PUT), records it, and serves it back from the CDN', async () => {
		const url = await client().storage.upload(blob(image));
		expect(url.startsWith(`${emu.url}/files/`)).toBe(true);

		const response = await fetch(url);
		expect(response.headers.get('content-type')).toBe('image/png');
		expect(Buffer.from(await response.arrayBuffer()).equals(image)).toBe(true);

		expect(emu.uploads).toEqual([
			expect.objectContaining({ fileUrl: url, bytes: image.length, sha256: sha(image) }),
		]);
		expect(emu.requests.map((r) => r.kind)).toEqual(['initiate', 'upload', 'file']);
		expect(emu.requests[0]).toMatchObject({
			method: 'POST',
			target: 'https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3',
			auth: 'valid',
		});
	});

	it("reached under fal's host names with publicUrl set: hands out URLs on that origin and reads them from its own store", async () => {
		const own = await startFalEmulator({ validKeys: [KEY], publicUrl: 'https://v3.fal.media' });
		try {
			const initiate = await asHost(
				`${own.url}/storage/upload/initiate?storage_type=fal-cdn-v3`,
				'rest.fal.ai',
				'POST',
				{ content_type: 'image/png', file_name: 'photo.png' },
			);
			expect(initiate.status).toBe(200);
			const { upload_url, file_url } = initiate.json;
			expect([upload_url, file_url]).toEqual([
				expect.stringMatching(/^https:\/\/v3\.fal\.media\/upload\//),
				expect.stringMatching(/^https:\/\/v3\.fal\.media\/files\//),
			]);
			const local = (url: string) => `${own.url}${new URL(url).pathname}`;
			const put = await fetch(local(upload_url), { method: 'PUT', body: new Uint8Array(image) });
			expect(put.status).toBe(200);

			// The uploaded image, named by its public URL, is read from the store (this machine cannot reach that host).
			const submitted = await asHost(
				`${own.url}/fal-ai/flux-pro/v1/fill`,
				'queue.fal.run',
				'POST',
				{
					prompt: 'a red balloon',
					image_url: file_url,
					mask_url: dataUri(mask),
					output_format: 'png',
					seed: 3,
				},
			);
			const id = submitted.json.request_id;
			await waitFor(() => own.jobs.get(id)?.status === 'COMPLETED');
			const result = await asHost(
				`${own.url}/fal-ai/flux-pro/requests/${id}`,
				'queue.fal.run',
				'GET',
			);
			expect(result).toEqual({ status: 200, json: pngOutput(3, 'https://v3.fal.media') });
			await expectFilled(await download(local(result.json.images[0].url)));
			expect(own.requests.map((r) => [r.kind, r.target])).toEqual([
				['initiate', 'https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3'],
				['upload', new URL(upload_url).pathname],
				['submit', 'https://queue.fal.run/fal-ai/flux-pro/v1/fill'],
				['result', `${QUEUE}/requests/${id}`],
				['file', new URL(result.json.images[0].url).pathname],
			]);
		} finally {
			await own.close();
		}
	});
});

describe('fill', () => {
	it('status stream: repaints exactly the white part of the mask (png: the rest byte for byte) and answers fal’s output JSON', async () => {
		const updates = releasedOnFirstUpdate();
		const result = await fill(baseInput({ output_format: 'png', seed: 42 }), {
			mode: 'streaming',
			onQueueUpdate: updates.push,
		});
		const data = result.data as Json;
		expect(result.requestId).toMatch(/^[0-9a-f-]{36}$/);
		expect(data).toEqual(pngOutput(42));
		await expectFilled(await download(data.images[0].url));

		// An event per change (log lines included); the stream ends after COMPLETED.
		expect([...new Set(updates.statuses)]).toEqual(['IN_QUEUE', 'IN_PROGRESS', 'COMPLETED']);
		expect(updates.statuses.at(-1)).toBe('COMPLETED');
		expect(emu.requestsFor(FILL_ENDPOINT).map((r) => r.kind)).toEqual([
			'submit',
			'stream',
			'result',
		]);
		expect(emu.jobs.get(result.requestId)).toMatchObject({
			endpoint: FILL_ENDPOINT,
			status: 'COMPLETED',
			cancelled: false,
			input: expect.objectContaining({ prompt: 'a red balloon', seed: 42 }),
			result: data,
		});
	});

	it('polling: status answers 202 until the job is done, then 200; jpeg by default', async () => {
		const result = await fill(baseInput(), { onQueueUpdate: releasedOnFirstUpdate().push });
		const statuses = emu.requests.filter((r) => r.kind === 'status').map((r) => r.status);
		expect(statuses.length).toBeGreaterThan(1);
		expect(statuses.slice(0, -1).every((status) => status === 202)).toBe(true);
		expect(statuses.at(-1)).toBe(200);

		const data = result.data as Json;
		expect(data.images[0]).toMatchObject({ content_type: 'image/jpeg', width: W, height: H });
		const bytes = await download(data.images[0].url);
		expect(bytes.subarray(0, 2).toString('hex')).toBe('ffd8');
		const { changedInside, meanDiffOutside } = await compare(image, bytes, RECT);
		expect(changedInside).toBeGreaterThan(0.8);
		expect(meanDiffOutside).toBeLessThan(8); // jpeg: close, not exact
	});

	it('num_images 4 gives four different images; sync_mode gives them as data URIs', async () => {
		const four = (await fill(inlineInput({ num_images: 4, output_format: 'png', seed: 1 })))
			.data as Json;
		expect(four.images).toHaveLength(4);
		expect(four.has_nsfw_concepts).toEqual([false, false, false, false]);
		const hashes = await Promise.all(
			four.images.map(async (img: Json) => sha(await download(img.url))),
		);
		expect(new Set(hashes).size).toBe(4);

		const inline = (await fill(inlineInput({ num_images: 2, sync_mode: true }))).data as Json;
		expect(inline.images).toHaveLength(2);
		for (const img of inline.images) {
			expect(img.url).toMatch(/^data:image\/jpeg;base64,/);
			const pixels = await readPixels(Buffer.from(img.url.split(',')[1], 'base64'));
			expect([pixels.width, pixels.height]).toEqual([W, H]);
		}
	});

	it('echoes the seed, and draws one when none is given', async () => {
		const seedOf = async (extra: Record<string, unknown>) =>
			((await fill(inlineInput({ sync_mode: true, ...extra }))).data as Json).seed;
		expect(await seedOf({ seed: 7 })).toBe(7);
		expect(Number.isInteger(await seedOf({}))).toBe(true);
	});

	it('"nsfw-test" in the prompt flags every image, "nsfw-test:N" only image N', async () => {
		const flags = async (prompt: string) =>
			((await fill(inlineInput({ prompt, num_images: 2, sync_mode: true }))).data as Json)
				.has_nsfw_concepts;
		expect(await flags('nsfw-test please')).toEqual([true, true]);
		expect(await flags('nsfw-test:1')).toEqual([false, true]);
	});

	it('loads image_url and mask_url from other hosts and data: URIs', async () => {
		const data = (
			await fill({
				prompt: 'x',
				image_url: `${sideUrl}/image.png`,
				mask_url: dataUri(mask),
				output_format: 'png',
			})
		).data as Json;
		await expectFilled(await download(data.images[0].url));
	});

	it('validates when the job runs: the submit is accepted, the result call answers 422 (an image it cannot load, the content policy)', async () => {
		const { request_id } = await client().queue.submit(ENDPOINT, {
			input: inlineInput({ image_url: `${sideUrl}/missing.png` }),
		});
		await waitFor(() => emu.jobs.get(request_id)?.status === 'COMPLETED');
		const unloadable = await detailOf(client().queue.result(ENDPOINT, { requestId: request_id }));
		expect(unloadable).toEqual([
			expect.objectContaining({ loc: ['body', 'image_url'], type: 'image_load_error' }),
		]);
		expect(await detailOf(fill(inlineInput({ prompt: 'policy-violation-test' })))).toEqual([
			expect.objectContaining({ loc: ['body', 'prompt'], type: 'content_policy_violation' }),
		]);
	});
});

describe('keys', () => {
	it('answers 401 for an unknown key and 403 for a locked one, and records what each key was', async () => {
		const wrong = await rejectionOf(client(WRONG_KEY).storage.upload(blob(image)));
		expect(wrong).toBeInstanceOf(ApiError);
		expect(wrong.status).toBe(401);
		expect(wrong.body).toEqual({ detail: 'No user found for Key ID and Secret' });

		const locked = await rejectionOf(
			client(LOCKED_KEY).queue.submit(ENDPOINT, { input: inlineInput() }),
		);
		expect(locked.status).toBe(403);
		expect(locked.body.detail).toMatch(/^User is locked\. Reason: Exhausted balance/);

		expect(emu.requests.map((r) => [r.kind, r.auth])).toEqual([
			['initiate', 'invalid'],
			['submit', 'locked'],
		]);
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

describe('queue', () => {
	it('keeps jobs IN_QUEUE beyond the concurrency, cancels a queued one, starts the rest when the concurrency rises', async () => {
		emu.configure({ concurrency: 0 });
		const fal = client();
		const first = await fal.queue.submit(ENDPOINT, { input: inlineInput() });
		const second = await fal.queue.submit(ENDPOINT, { input: inlineInput() });
		expect(first).toMatchObject({
			status: 'IN_QUEUE',
			queue_position: 0,
			status_url: `${QUEUE}/requests/${first.request_id}/status`,
			response_url: `${QUEUE}/requests/${first.request_id}`,
			cancel_url: `${QUEUE}/requests/${first.request_id}/cancel`,
		});
		const statusOf = (id: string) =>
			fal.queue.status(ENDPOINT, { requestId: id, logs: false }) as Promise<Json>;
		expect(await statusOf(second.request_id)).toMatchObject({
			status: 'IN_QUEUE',
			queue_position: 1,
		});

		const cancel = (id: string) => proxied('PUT', `${QUEUE}/requests/${id}/cancel`);
		const queued = await cancel(first.request_id);
		expect(queued.status).toBe(202);
		expect(await queued.json()).toEqual({ status: 'CANCELLATION_REQUESTED' });
		expect(emu.jobs.get(first.request_id)).toMatchObject({ status: 'CANCELLED', cancelled: true });
		expect(await statusOf(second.request_id)).toMatchObject({ queue_position: 0 });

		emu.configure({ concurrency: 1 });
		await fal.queue.subscribeToStatus(ENDPOINT, { requestId: second.request_id, pollInterval: 10 });
		expect(emu.jobs.get(second.request_id)?.status).toBe('COMPLETED');
		const done = await cancel(second.request_id);
		expect(done.status).toBe(400);
		expect(await done.json()).toEqual({ status: 'ALREADY_COMPLETED' });

		for (const suffix of ['', '/status', '/cancel']) {
			const unknown = await proxied(
				suffix === '/cancel' ? 'PUT' : 'GET',
				`${QUEUE}/requests/nope${suffix}`,
			);
			expect(unknown.status).toBe(404);
		}
	});

	it('cancels a running job (IN_PROGRESS): 202, and it never completes', async () => {
		emu.configure({ latencyMs: 10_000 });
		const { request_id } = await client().queue.submit(ENDPOINT, { input: inlineInput() });
		await waitFor(() => emu.jobs.get(request_id)?.status === 'IN_PROGRESS');
		const cancel = await proxied('PUT', `${QUEUE}/requests/${request_id}/cancel`);
		expect(cancel.status).toBe(202);
		expect(await cancel.json()).toEqual({ status: 'CANCELLATION_REQUESTED' });
		const job = emu.jobs.get(request_id)!;
		expect(job).toMatchObject({ status: 'CANCELLED', cancelled: true });
		expect(job.completedAt).toBeUndefined();
	});
});

describe('webhooks', () => {
	it("POSTs fal's OK payload to fal_webhook when a job ends, and records each delivery with the answer it got", async () => {
		const ok = await client().queue.submit(ENDPOINT, {
			input: inlineInput(),
			webhookUrl: `${sideUrl}/hook`,
		});
		const refused = await client().queue.submit(ENDPOINT, {
			input: inlineInput(),
			webhookUrl: `${sideUrl}/busy`,
		});
		expect(emu.requests.filter((r) => r.kind === 'submit').map((r) => r.query)).toEqual([
			{ fal_webhook: `${sideUrl}/hook` },
			{ fal_webhook: `${sideUrl}/busy` },
		]);
		await waitFor(() => emu.webhooks.length === 2 && emu.webhooks.every((w) => w.status));

		expect(hooks).toEqual([
			{
				userAgent: 'fal-webhook-emulator',
				body: {
					request_id: ok.request_id,
					gateway_request_id: ok.request_id,
					status: 'OK',
					payload: emu.jobs.get(ok.request_id)!.result,
				},
			},
		]);
		const delivery = (id: string) => emu.webhooks.find((w) => w.requestId === id);
		expect(delivery(ok.request_id)).toMatchObject({
			url: `${sideUrl}/hook`,
			payload: hooks[0].body,
			status: 200,
		});
		expect(delivery(ok.request_id)?.error).toBeUndefined();
		expect(delivery(refused.request_id)).toMatchObject({
			url: `${sideUrl}/busy`,
			status: 409,
			error: 'HTTP 409',
		});
	});
});

describe('fault rules', () => {
	it('a rule answers instead (status, headers, JSON body) for `times` matching requests, 1 by default, and counts its hits', async () => {
		const limited = emu.fail({
			kind: 'submit',
			status: 429,
			headers: { 'retry-after': '1' },
			body: { detail: 'Too many requests' },
		});
		const refused = await proxied('POST', FILL_URL, { body: inlineInput() });
		expect(refused.status).toBe(429);
		expect(refused.headers.get('retry-after')).toBe('1');
		expect(refused.headers.get('content-type')).toBe('application/json');
		expect(await refused.json()).toEqual({ detail: 'Too many requests' });
		expect(emu.jobs.size).toBe(0); // a refused submit makes no job
		expect((await proxied('POST', FILL_URL, { body: inlineInput() })).status).toBe(200);
		expect(limited).toMatchObject({ times: 1, hits: 1 });

		const down = emu.fail({ kind: 'status', status: 503, times: Infinity });
		const id = [...emu.jobs.keys()][0];
		for (let i = 0; i < 3; i++)
			expect((await proxied('GET', `${QUEUE}/requests/${id}/status`)).status).toBe(503);
		expect(down.hits).toBe(3);
	});

	it('its body can be text, HTML or bytes with their content type; a 200 body is taken as the output', async () => {
		emu.fail({ kind: 'result', status: 200, body: { images: [], seed: 1 } });
		expect((await fill(inlineInput())).data).toEqual({ images: [], seed: 1 });

		const id = await finishedJob();
		emu.fail({ kind: 'result', status: 502, contentType: 'text/html', body: '<html>Bad</html>' });
		const html = await proxied('GET', `${QUEUE}/requests/${id}`);
		expect([html.status, html.headers.get('content-type'), await html.text()]).toEqual([
			502,
			'text/html',
			'<html>Bad</html>',
		]);
		emu.fail({ kind: 'result', status: 500, body: 'plain words' });
		const text = await proxied('GET', `${QUEUE}/requests/${id}`);
		expect([text.status, await text.text()]).toEqual([500, 'plain words']);
		expect(text.headers.get('content-type')).toMatch(/^text\/plain/);

		const url = emu.jobs.get(id)!.result.images[0].url;
		emu.fail({ kind: 'file', status: 200, contentType: 'image/png', body: image.subarray(0, 200) });
		const cut = await fetch(url);
		expect(cut.headers.get('content-type')).toBe('image/png');
		expect(Buffer.from(await cut.arrayBuffer()).equals(image.subarray(0, 200))).toBe(true);
	});

	it('`match` limits a rule to the requests whose record it accepts; the first live rule wins', async () => {
		emu.fail({
			kind: 'submit',
			status: 422,
			body: { detail: 'again' },
			match: (r) => JSON.stringify(r.body).includes('third'),
		});
		const submit = (prompt: string) =>
			proxied('POST', FILL_URL, { body: inlineInput({ prompt }) }).then((r) => r.status);
		expect([await submit('second'), await submit('third')]).toEqual([200, 422]);

		const id = await finishedJob();
		emu.fail({ kind: 'result', status: 500, times: 1 });
		emu.fail({ kind: 'result', status: 503, times: 1 });
		const result = () => proxied('GET', `${QUEUE}/requests/${id}`).then((r) => r.status);
		expect([await result(), await result(), await result()]).toEqual([500, 503, 200]);
	});

	it('`delayMs` alone delays the normal answer', async () => {
		const id = await finishedJob();
		emu.fail({ kind: 'status', delayMs: 100 });
		const started = Date.now();
		const status = await proxied('GET', `${QUEUE}/requests/${id}/status`);
		expect(Date.now() - started).toBeGreaterThanOrEqual(95);
		expect(status.status).toBe(200);
		expect(((await status.json()) as Json).status).toBe('COMPLETED');
	});

	it('`reset` destroys the connection; `cutAfterBytes` breaks it after the head and part of the body', async () => {
		const url = await client().storage.upload(blob(image));
		emu.fail({ kind: 'file', reset: true });
		await expect(fetch(url)).rejects.toThrow(/fetch failed/);
		expect((await download(url)).equals(image)).toBe(true);

		emu.fail({
			kind: 'file',
			status: 200,
			contentType: 'image/png',
			body: image,
			cutAfterBytes: 100,
		});
		const cut = await fetch(url);
		expect(cut.status).toBe(200);
		expect(cut.headers.get('content-length')).toBe(String(image.length));
		await expect(cut.arrayBuffer()).rejects.toThrow();
	});

	it('`dropAfterEvents` breaks a status stream instead of ending it', async () => {
		const id = await finishedJob();
		const stream = () =>
			proxied('GET', `${QUEUE}/requests/${id}/status/stream`).then((r) => r.text());
		expect(await stream()).toMatch(/^data: \{"status":"COMPLETED"/);
		emu.fail({ kind: 'stream', dropAfterEvents: 0 });
		await expect(stream()).rejects.toThrow();
		emu.fail({ kind: 'stream', dropAfterEvents: 1 });
		await expect(stream()).rejects.toThrow();
	});

	it('`acceptThenFail` makes the job, then answers the fault naming it, or resets; `acceptThenDelayMs` makes it and answers later', async () => {
		emu.fail({ kind: 'submit', acceptThenFail: true, status: 504, body: { detail: 'Timeout' } });
		const named = await proxied('POST', FILL_URL, { body: inlineInput() });
		expect(named.status).toBe(504);
		expect(emu.jobs.has(named.headers.get('x-fal-request-id')!)).toBe(true);

		emu.fail({ kind: 'submit', acceptThenFail: true, reset: true });
		await expect(proxied('POST', FILL_URL, { body: inlineInput() })).rejects.toThrow(
			/fetch failed/,
		);
		expect(emu.jobs.size).toBe(2);

		emu.fail({ kind: 'submit', acceptThenDelayMs: 100 });
		const answer = await proxied('POST', FILL_URL, { body: inlineInput() });
		const job = [...emu.jobs.values()][2];
		expect(Date.now() - job.submittedAt).toBeGreaterThanOrEqual(95); // the job came first
		expect(answer.status).toBe(200);
		expect(((await answer.json()) as Json).request_id).toBe(job.id);
	});

	it('kind "other" is any call with no route, such as an unknown app: 404, or the rule’s answer', async () => {
		const unknown = await proxied('POST', 'https://queue.fal.run/acme/made-up-model/v2', {
			body: {},
		});
		expect(unknown.status).toBe(404);
		expect(await unknown.json()).toEqual({ detail: 'Not Found' });
		emu.fail({ kind: 'other', status: 502 });
		const faulted = await proxied('GET', 'https://queue.fal.run/acme/made-up-model/requests/x');
		expect(faulted.status).toBe(502);
		expect(emu.requests.map((r) => r.kind)).toEqual(['other', 'other']);
	});
});

describe('lifecycle', () => {
	it('reset() forgets requests, jobs, uploads, webhooks and fault rules', async () => {
		await client().queue.submit(ENDPOINT, { input: baseInput(), webhookUrl: `${sideUrl}/hook` });
		await waitFor(() => emu.webhooks[0]?.status === 200);
		emu.fail({ kind: 'submit', status: 500, times: Infinity });
		emu.reset();
		expect([emu.requests, [...emu.jobs.keys()], emu.uploads, emu.webhooks]).toEqual([
			[],
			[],
			[],
			[],
		]);
		expect((await proxied('POST', FILL_URL, { body: inlineInput() })).status).toBe(200);
	});

	it('close() ends open status streams and resolves', async () => {
		const local = await startFalEmulator({ concurrency: 0 });
		const fal = client(KEY, local.proxyUrl);
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
	// A blue sky (rows 0–14) over green grass (rows 15–29), with a yellow sun and a patch of
	// haze (blue within 48 on every channel) and one of dusk (60 off blue on red: no colour).
	const SUN: Rect = { left: 4, top: 3, width: 5, height: 4 };
	const HAZE: Rect = { left: 20, top: 2, width: 3, height: 3 };
	const DUSK: Rect = { left: 30, top: 2, width: 3, height: 3 };
	const inRect = (r: Rect, x: number, y: number) =>
		x >= r.left && x < r.left + r.width && y >= r.top && y < r.top + r.height;
	type Where = (x: number, y: number) => boolean;
	const sky: Where = (x, y) => y < 15 && !inRect(SUN, x, y) && !inRect(DUSK, x, y);
	const grassOrSun: Where = (x, y) => y >= 15 || inRect(SUN, x, y);
	const nowhere: Where = () => false;

	const segment = (input: Record<string, unknown>, options: Record<string, unknown> = {}) =>
		client().subscribe(SEGMENT, { input, pollInterval: 10, ...options });
	const sceneInput = (extra: Record<string, unknown> = {}) => ({
		image_url: blob(scene),
		...extra,
	});

	/** Pixels where the grey mask is not 255 where `white`, else 0; [] when it is exact. */
	async function maskErrors(url: string, white: Where) {
		const pixels = await readPixels(await download(url));
		expect([pixels.width, pixels.height]).toEqual([SW, SH]);
		const errors: string[] = [];
		for (let y = 0; y < SH; y++) {
			for (let x = 0; x < SW; x++) {
				const i = (y * SW + x) * pixels.channels;
				const got = [0, 1, 2].map((c) => pixels.data[i + c]).join();
				const want = Array(3)
					.fill(white(x, y) ? 255 : 0)
					.join();
				if (got !== want) errors.push(`(${x},${y}) ${got} instead of ${want}`);
			}
		}
		return errors.length > 5 ? [...errors.slice(0, 5), `… ${errors.length} in all`] : errors;
	}

	beforeAll(async () => {
		scene = await makeColourImage({
			width: SW,
			height: SH,
			background: [0, 0, 255],
			regions: [
				{ rect: { left: 0, top: 15, width: SW, height: 15 }, colour: [0, 255, 0] },
				{ rect: SUN, colour: [255, 255, 0] },
				{ rect: HAZE, colour: [40, 30, 210] },
				{ rect: DUSK, colour: [60, 0, 255] },
			],
		});
	});

	it('status stream: "the sky" is white exactly where the image is blue, a PNG on the CDN; records and jobs of its own', async () => {
		const result = await segment(sceneInput({ prompt: 'the sky' }), { mode: 'streaming' });
		const data = result.data as Json;
		expect(data).toEqual({
			image: {
				url: expect.stringMatching(new RegExp(`^${emu.url}/files/\\w+\\.png$`)),
				content_type: 'image/png',
				file_name: expect.any(String),
				file_size: expect.any(Number),
			},
		});
		expect(await maskErrors(data.image.url, sky)).toEqual([]);

		expect(emu.requestsFor(SEGMENT_ENDPOINT).map((r) => [r.kind, r.target])).toEqual([
			['submit', SEG_QUEUE],
			[
				'stream',
				expect.stringContaining(`${SEG_QUEUE}/requests/${result.requestId}/status/stream`),
			],
			['result', `${SEG_QUEUE}/requests/${result.requestId}`],
		]);
		expect(emu.requestsFor(FILL_ENDPOINT)).toEqual([]);
		expect(emu.jobs.size).toBe(0); // emu.jobs stays fill-only
		expect(emu.jobsFor(SEGMENT_ENDPOINT).get(result.requestId)).toMatchObject({
			endpoint: SEGMENT_ENDPOINT,
			status: 'COMPLETED',
			input: { prompt: 'the sky', image_url: expect.stringMatching(`^${emu.url}/files/`) },
		});
	});

	it('several colour words make a union, negative_prompt takes its colours out, no colour named is a 200 with an all-black mask', async () => {
		const maskOf = async (input: Record<string, unknown>) =>
			((await segment(input)).data as Json).image.url as string;
		const union = await maskOf({
			prompt: 'green grass and the sun',
			image_url: `${sideUrl}/scene.png`,
		});
		expect(await maskErrors(union, grassOrSun)).toEqual([]);
		const kept = await maskOf({
			prompt: 'sky and trees',
			negative_prompt: 'the green',
			image_url: dataUri(scene),
		});
		expect(await maskErrors(kept, sky)).toEqual([]);
		const nothing = await maskOf(sceneInput({ prompt: 'Cat in the middle of the image' }));
		expect(await maskErrors(nothing, nowhere)).toEqual([]);
	});

	it('cancel, and fault rules with `endpoint`, apply to segmentation calls only', async () => {
		emu.configure({ concurrency: 0 });
		const fal = client();
		const queued = await fal.queue.submit(SEGMENT, { input: sceneInput({ prompt: 'sky' }) });
		await fal.queue.cancel(SEGMENT, { requestId: queued.request_id });
		expect(emu.jobsFor(SEGMENT_ENDPOINT).get(queued.request_id)).toMatchObject({
			status: 'CANCELLED',
			cancelled: true,
		});
		expect(emu.requestsFor(SEGMENT_ENDPOINT).find((r) => r.kind === 'cancel')).toMatchObject({
			target: `${SEG_QUEUE}/requests/${queued.request_id}/cancel`,
			status: 202,
		});

		emu.configure({ concurrency: Infinity });
		const rule = emu.fail({
			kind: 'result',
			endpoint: SEGMENT_ENDPOINT,
			times: Infinity,
			status: 500,
			body: { detail: 'Segmentation broke' },
		});
		expect(((await fill(inlineInput())).data as Json).images).toHaveLength(1);
		const broken = await rejectionOf(segment(sceneInput({ prompt: 'sky' })));
		expect(broken).toBeInstanceOf(ApiError);
		expect(broken.status).toBe(500);
		expect(rule.hits).toBe(1);
	});
});

describe('fal-ai/flux-pro/v1/fill-finetuned (the fill with a FLUX.1 [pro] finetune)', () => {
	// A plain string for the client, like ENDPOINT; FINETUNED_ENDPOINT keeps its literal type for the emulator API.
	const FINETUNED: string = FINETUNED_ENDPOINT;
	const [FT] = DEFAULT_FINETUNE_IDS;

	const finetuned = (input: Record<string, unknown>, options: Record<string, unknown> = {}) =>
		client().subscribe(FINETUNED, { input, pollInterval: 10, ...options });
	const ftInput = (extra: Record<string, unknown> = {}) =>
		inlineInput({ finetune_id: FT, finetune_strength: 1, ...extra });
	const imageOf = async (result: { data: unknown }) =>
		await download((result.data as Json).images[0].url);

	it("status stream: the fill's output; submitted at its own path, the rest under fal-ai/flux-pro/requests; records and jobs of its own", async () => {
		const result = await finetuned(ftInput({ output_format: 'png', seed: 5 }), {
			mode: 'streaming',
		});
		expect(result.data).toEqual(pngOutput(5));
		const id = result.requestId;
		expect(emu.requestsFor(FINETUNED_ENDPOINT).map((r) => [r.kind, r.target])).toEqual([
			['submit', `${QUEUE}/v1/fill-finetuned`],
			['stream', expect.stringContaining(`${QUEUE}/requests/${id}/status/stream`)],
			['result', `${QUEUE}/requests/${id}`],
		]);
		expect(emu.requestsFor(FILL_ENDPOINT)).toEqual([]);
		expect(emu.jobs.size).toBe(0); // emu.jobs stays fill-only
		expect(emu.jobsFor(FINETUNED_ENDPOINT).get(id)).toMatchObject({
			endpoint: FINETUNED_ENDPOINT,
			status: 'COMPLETED',
			input: expect.objectContaining({ finetune_id: FT, finetune_strength: 1 }),
		});
	});

	it("tints the repainted part: strength 2 paints the finetune's colour, strength 0 gives the plain fill's bytes", async () => {
		const input = { output_format: 'png', seed: 11 };
		const plain = await imageOf(await fill(inlineInput(input)));
		const full = await readPixels(
			await imageOf(await finetuned(ftInput({ ...input, finetune_strength: 2 }))),
		);
		const source = await readPixels(image);
		const wrong: string[] = [];
		for (let y = 0; y < H; y++) {
			for (let x = 0; x < W; x++) {
				const at = (p: typeof full) => [0, 1, 2].map((c) => p.data[(y * W + x) * p.channels + c]);
				const inside =
					x >= RECT.left &&
					x < RECT.left + RECT.width &&
					y >= RECT.top &&
					y < RECT.top + RECT.height;
				const want = inside ? finetuneColour(FT) : at(source);
				if (at(full).join() !== want.join()) wrong.push(`(${x},${y})`);
			}
		}
		expect(wrong).toEqual([]);
		const none = await imageOf(await finetuned(ftInput({ ...input, finetune_strength: 0 })));
		expect(sha(none)).toBe(sha(plain));
	});

	it('an unknown finetune id is a 422 on finetune_id from the result call', async () => {
		const unknown = '00000000-0000-4000-8000-000000000000';
		expect(await detailOf(finetuned(ftInput({ finetune_id: unknown })))).toEqual([
			{
				loc: ['body', 'finetune_id'],
				msg: 'Finetune not found or not ready',
				type: 'value_error',
				input: unknown,
			},
		]);
	});

	it("its ids use the fill's status/result/cancel URLs; those calls are recorded, and matched by rules, for fill-finetuned", async () => {
		const fal = client();
		const fillJob = await fal.queue.submit(ENDPOINT, { input: inlineInput() });
		const ftJob = await fal.queue.submit(FINETUNED, { input: ftInput() });
		await waitFor(() =>
			[
				emu.jobs.get(fillJob.request_id),
				emu.jobsFor(FINETUNED_ENDPOINT).get(ftJob.request_id),
			].every((job) => job?.status === 'COMPLETED'),
		);
		expect(ftJob.status_url).toBe(`${QUEUE}/requests/${ftJob.request_id}/status`);
		const rule = emu.fail({
			kind: 'result',
			endpoint: FINETUNED_ENDPOINT,
			times: Infinity,
			status: 500,
		});
		expect(
			((await fal.queue.result(ENDPOINT, { requestId: fillJob.request_id })).data as Json).images,
		).toHaveLength(1);
		const broken = await rejectionOf(fal.queue.result(FINETUNED, { requestId: ftJob.request_id }));
		expect(broken).toBeInstanceOf(ApiError);
		expect(broken.status).toBe(500);
		expect(rule.hits).toBe(1);
		const cancel = await proxied('PUT', `${QUEUE}/requests/${ftJob.request_id}/cancel`);
		expect(await cancel.json()).toEqual({ status: 'ALREADY_COMPLETED' });
		const callsFor = (id: string) =>
			emu.requests
				.filter((r) => r.requestId === id && r.kind !== 'submit')
				.map((r) => [r.kind, r.endpoint]);
		expect(callsFor(fillJob.request_id)).toEqual([['result', FILL_ENDPOINT]]);
		expect(callsFor(ftJob.request_id)).toEqual([
			['result', FINETUNED_ENDPOINT],
			['cancel', FINETUNED_ENDPOINT],
		]);
	});
});
