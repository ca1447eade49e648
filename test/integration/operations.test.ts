/**
 * Beyond one blocking call: submit / getStatus / getResult / cancel, the webhook round
 * trip, URL-only output, the cost estimate and its execution hint, and tool mode as
 * n8n's AI-agent wrapper runs it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { IDataObject, INodeExecutionData, INodeParameters } from 'n8n-workflow';

import { makePictures, pictureItem, runFill, serveFiles, useEmulator, waitFor } from './fixtures';

const env = useEmulator();

const run = (
	operation: string,
	items: INodeExecutionData[],
	parameters: INodeParameters = {},
	extra = {},
) =>
	runFill({
		proxyUrl: env.emu.proxyUrl,
		items,
		parameters: { operation, ...parameters },
		...extra,
	});
const fromSubmit = (items: INodeExecutionData[]) => items.map((item) => ({ json: item.json }));

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

	it('cancels a queued request', async () => {
		env.emu.configure({ concurrency: 0 });
		const submitted = await run('submit', [pictureItem(env.pictures)]);
		const requestId = submitted.items[0].json.request_id as string;
		const status = await run('getStatus', fromSubmit(submitted.items));
		expect(status.items[0].json).toMatchObject({ status: 'IN_QUEUE', queue_position: 0 });
		const cancelled = await run('cancel', fromSubmit(submitted.items));
		expect(cancelled.items[0].json).toEqual({
			request_id: requestId,
			status: 'CANCELLATION_REQUESTED',
		});
		expect(env.emu.jobs.get(requestId)?.cancelled).toBe(true);
	});

	it('getResult of an unknown id says so clearly', async () => {
		const result = await run('getResult', [
			{ json: { request_id: '00000000-0000-4000-8000-000000000000' } },
		]);
		expect(result.error?.message).toBe(
			'fal has no request with ID 00000000-0000-4000-8000-000000000000',
		);
		expect((result.error as { description?: string }).description).toContain(
			'key that submitted it',
		);
	});

	it('rejects a request id that is missing or would change the URL', async () => {
		const empty = await run('getStatus', [{ json: {} }]);
		expect(empty.error?.message).toBe('The request ID is empty');
		const bad = await run('cancel', [{ json: { request_id: '../../other' } }]);
		expect(bad.error?.message).toBe('"../../other" is not a fal request ID');
		expect(env.emu.requests.filter((r) => r.kind !== 'other')).toHaveLength(0);
	});

	it('getResult only stops waiting at its timeout: it does not cancel the request', async () => {
		env.emu.configure({ latencyMs: 5_000 });
		const submitted = await run('submit', [pictureItem(env.pictures)]);
		const result = await run('getResult', fromSubmit(submitted.items), { options: { timeout: 1 } });
		expect(result.error?.message).toMatch(/^fal did not finish within 1 s \(fal request ID/);
		expect((result.error as { description?: string }).description).toContain(
			'it was not cancelled',
		);
		expect(env.emu.requests.some((r) => r.kind === 'cancel')).toBe(false);
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

describe('URL-only output and cost', () => {
	it('returns links and JSON without downloading anything', async () => {
		const result = await run('fill', [pictureItem(env.pictures)], {
			options: { outputMode: 'url', numImages: 2 },
		});
		expect(result.items).toHaveLength(2);
		for (const item of result.items) {
			expect(item.binary).toBeUndefined();
			expect(item.json.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\//);
			expect(item.json).toMatchObject({
				width: env.pictures.width,
				height: env.pictures.height,
				content_type: 'image/jpeg',
			});
		}
		expect(env.emu.requests.filter((r) => r.kind === 'file')).toHaveLength(0);
	});

	it('with sync mode the URL is the whole image as a data URI', async () => {
		const result = await run('fill', [pictureItem(env.pictures)], {
			options: { outputMode: 'url', syncMode: true },
		});
		const url = result.items[0].json.url as string;
		expect(url).toMatch(/^data:image\/jpeg;base64,\/9j\//);
	});

	it("puts each image's share of the cost on its item (summing gives the run's cost), its request's total beside it, and the run total in an execution hint", async () => {
		const big = await makePictures(1200, 1000);
		const items = [pictureItem(big), pictureItem(env.pictures)];
		const result = await run('fill', items, { options: { numImages: 2, outputMode: 'url' } });
		// 1.2 MP rounds up to 2 MP: 2 × $0.05 per image; 0.003 MP rounds up to 1 MP: 1 × $0.05 per image.
		expect(result.items.map((i) => i.json.estimated_cost_usd)).toEqual([0.1, 0.1, 0.05, 0.05]);
		expect(result.items.map((i) => i.json.request_estimated_cost_usd)).toEqual([
			0.2, 0.2, 0.1, 0.1,
		]);
		const summed = result.items.reduce((sum, i) => sum + (i.json.estimated_cost_usd as number), 0);
		expect(summed).toBeCloseTo(0.3, 10);
		const hints = result.runData['FLUX.1 Fill']?.[0]?.hints ?? [];
		expect(hints.map((h) => h.message)).toEqual([
			expect.stringMatching(/^Estimated fal cost of this run: \$0\.30 for 2 requests/),
		]);
	});
});

describe('as an AI agent tool', () => {
	const TOOL_TYPE = 'n8n-nodes-fal-flux-fill.fluxProFillTool';
	const files = serveFiles(() => ({
		'/image.png': env.pictures.image,
		'/mask.png': env.pictures.mask,
	}));

	const toolParameters: INodeParameters = {
		prompt: "={{ $fromAI('prompt', 'What to paint into the white part of the mask') }}",
		imageSource: 'url',
		imageUrl: "={{ $fromAI('image_url', 'Public link to the image') }}",
		maskSource: 'url',
		maskUrl: "={{ $fromAI('mask_url', 'Public link to the black-and-white mask') }}",
		options: { syncMode: true },
	};

	/** As n8n's tool wrapper does: the agent's arguments are the only input item, JSON only. */
	async function invokeAsTool(args: IDataObject, parameters = toolParameters) {
		const { runNode } = await import('../helpers/n8nHarness');
		const { FluxProFill } = await import('../../nodes/FluxProFill/FluxProFill.node');
		const { KEY } = await import('./fixtures');
		const result = await runNode({
			nodeType: new FluxProFill(),
			typeName: TOOL_TYPE,
			parameters: { operation: 'fill', ...parameters },
			credentials: { falApi: { apiKey: KEY, proxyUrl: env.emu.proxyUrl } },
			inputItems: [{ json: args }],
		});
		// The wrapper hands the agent `items.flatMap(item => item.json)`, serialised.
		return { result, response: JSON.stringify(result.items.map((item) => item.json)) };
	}

	it('cannot spend past Max Cost per Run: the linked image is costed before anything is sent', async () => {
		const { result } = await invokeAsTool(
			{
				prompt: 'a red door',
				image_url: `${files.base}/image.png`,
				mask_url: `${files.base}/mask.png`,
			},
			{ ...toolParameters, options: { maxCostUsd: 0.01 } },
		);
		expect(result.error?.message).toMatch(
			/^The estimated fal cost of this run, \$0\.05 for 1 item/,
		);
		expect(env.emu.requests).toHaveLength(0);
	});

	it('takes URLs from the agent and answers with links and JSON, never binary or data URIs', async () => {
		const { result, response } = await invokeAsTool({
			prompt: 'a red door',
			image_url: `${files.base}/image.png`,
			mask_url: `${files.base}/mask.png`,
		});
		expect(result.error).toBeUndefined();
		expect(result.items.every((item) => item.binary === undefined)).toBe(true);
		const parsed = JSON.parse(response) as IDataObject[];
		expect(parsed[0]).toMatchObject({
			prompt: 'a red door',
			url: expect.stringMatching(/^http:\/\/127\.0\.0\.1/),
		});
		// Sync mode would put megabytes of base64 into the agent's context: it is off in tool mode.
		expect(env.emu.requests.find((r) => r.kind === 'submit')?.body).toMatchObject({
			sync_mode: false,
		});
		expect(response.length).toBeLessThan(2_000);
	});

	it('explains that binary sources cannot be used by an agent', async () => {
		const { result } = await invokeAsTool({ prompt: 'x' }, { prompt: "={{ $fromAI('prompt') }}" });
		expect(result.error?.message).toBe("As an AI agent's tool this node needs the image as a URL");
	});
});
