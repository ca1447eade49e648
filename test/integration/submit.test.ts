/**
 * The submit operation: it returns fal's request id at once, and getResult later returns
 * the same items as Fill (Submit → Get Status → Get Result → Cancel in one test); the
 * webhook round trip, in which fal calls the Webhook URL when done and Get Result takes
 * the request id from its payload, as after a Wait node.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { IDataObject } from 'n8n-workflow';

import { fromSubmit, pictureItem, shorthands, useEmulator, waitFor } from './fixtures';

const env = useEmulator();
const { run } = shorthands(env);

describe('submit, then getStatus / getResult / cancel', () => {
	it('submit returns the request id at once and getResult returns the same items as fill', async () => {
		env.emu.configure({ latencyMs: 300 });
		const submitted = await run('submit', [pictureItem(env.pictures)], {
			options: { numImages: 2, outputFormat: 'png', seed: 3 },
		});
		expect(submitted.error).toBeUndefined();
		const [item] = submitted.items;
		expect(item.json).toMatchObject({
			request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
			status: 'IN_QUEUE',
			status_url: expect.stringContaining('/requests/'),
			response_url: expect.stringContaining('/requests/'),
			cancel_url: expect.stringContaining('/cancel'),
			webhook_url: null,
			num_images: 2,
			estimated_cost_usd: 0.1,
		});
		expect(item.binary).toBeUndefined();
		expect(env.emu.jobs.get(item.json.request_id as string)?.status).not.toBe('COMPLETED');

		// Request ID defaults to {{ $json.request_id }} of the incoming item.
		const status = await run('getStatus', fromSubmit(submitted.items), { options: { logs: true } });
		expect(status.items[0].json).toMatchObject({
			request_id: item.json.request_id,
			status: expect.stringMatching(/IN_QUEUE|IN_PROGRESS|COMPLETED/),
		});

		const result = await run('getResult', fromSubmit(submitted.items));
		expect(result.error).toBeUndefined();
		expect(result.items.map((i) => [i.json.request_id, i.json.image_index, i.json.seed])).toEqual([
			[item.json.request_id, 0, 3],
			[item.json.request_id, 1, 3],
		]);
		expect(result.items[0].binary?.data.mimeType).toBe('image/png');

		const done = await run('getStatus', fromSubmit(submitted.items));
		expect(done.items[0].json).toMatchObject({ status: 'COMPLETED', done: true });
		const cancelled = await run('cancel', fromSubmit(submitted.items));
		expect(cancelled.items[0].json).toEqual({
			request_id: item.json.request_id,
			status: 'ALREADY_COMPLETED',
		});
	});
});

describe('webhook round trip', () => {
	let server: Server;
	let hookUrl: string;
	const received: IDataObject[] = [];
	beforeAll(async () => {
		server = createServer((req, res) => {
			let body = '';
			req.on('data', (chunk) => (body += chunk));
			req.on('end', () => {
				received.push(JSON.parse(body) as IDataObject);
				res.writeHead(200).end('ok');
			});
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook/resume-123`;
	});
	afterAll(async () => await new Promise((resolve) => server.close(resolve)));

	it('passes the webhook to fal, fal calls it when done, and getResult takes the id from its payload', async () => {
		const submitted = await run('submit', [pictureItem(env.pictures)], {
			options: { webhookUrl: hookUrl },
		});
		expect(submitted.items[0].json.webhook_url).toBe(hookUrl);
		expect(env.emu.requests.find((r) => r.kind === 'submit')?.query).toMatchObject({
			fal_webhook: hookUrl,
		});
		await waitFor(() => received.length === 1);
		expect(received[0]).toMatchObject({
			request_id: submitted.items[0].json.request_id,
			status: 'OK',
		});
		// What a Wait node resumed by the webhook hands on: fal's payload as the item's JSON.
		const result = await run('getResult', [{ json: received[0] }]);
		expect(result.error).toBeUndefined();
		expect(result.items).toHaveLength(1);
		expect(result.items[0].binary?.data).toBeDefined();
	});

	it('rejects a webhook URL that is not http(s)', async () => {
		const result = await run('submit', [pictureItem(env.pictures)], {
			options: { webhookUrl: 'ftp://hooks.example/x' },
		});
		expect(result.error?.message).toContain('"Webhook URL" uses ftp://');
	});
});
