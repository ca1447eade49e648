import { Readable } from 'node:stream';
import { inspect } from 'node:util';

import type { IHttpRequestOptions } from 'n8n-workflow';

import { networkCodeOf } from '../../../nodes/FluxProFill/transport/errors';
import { fetchThroughN8n } from '../../../nodes/FluxProFill/transport/n8nFetch';
import { settled } from '../kit';

const URL_ = 'https://queue.fal.run/fal-ai/flux-pro/v1/fill';

/** n8n's httpRequest, answering `answer` and recording the options it was given. */
function helper(answer: () => unknown = () => streamed(200, 'ok')) {
	const options: IHttpRequestOptions[] = [];
	const httpRequest = async (given: IHttpRequestOptions) => {
		options.push(given);
		return await answer();
	};
	return { options, fetch: fetchThroughN8n(httpRequest) };
}

const streamed = (
	statusCode: number,
	body: string,
	headers: Record<string, string | string[]> = {},
) => ({ body: Readable.from([Buffer.from(body)]), headers, statusCode, statusMessage: 'OK' });

describe('fetchThroughN8n', () => {
	it("sends through n8n's helper: method, URL, headers and body, the answer streamed", async () => {
		const { options, fetch } = helper();
		const response = await fetch(URL_, {
			method: 'post',
			headers: { authorization: 'Key abc', 'content-type': 'application/json' },
			body: JSON.stringify({ prompt: 'a cat' }),
		});
		expect(options[0]).toMatchObject({
			method: 'POST',
			url: URL_,
			headers: { authorization: 'Key abc', 'content-type': 'application/json' },
			body: '{"prompt":"a cat"}',
			encoding: 'stream',
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			json: false,
		});
		expect(options[0]).not.toHaveProperty('disableFollowRedirect');
		expect(await response.text()).toBe('ok');
	});

	it('sends Blobs and byte arrays as bytes', async () => {
		const { options, fetch } = helper();
		await fetch(URL_, { method: 'PUT', body: new Blob([Buffer.from('png!')]) });
		await fetch(URL_, { method: 'PUT', body: new Uint8Array([1, 2, 3]) });
		expect(options.map((o) => Buffer.from(o.body as Buffer))).toEqual([
			Buffer.from('png!'),
			Buffer.from([1, 2, 3]),
		]);
	});

	it('gives HTTP error statuses as answers, with all their headers', async () => {
		const { fetch } = helper(() =>
			streamed(503, '{"detail":"busy"}', { 'retry-after': '2', 'set-cookie': ['a=1', 'b=2'] }),
		);
		const response = await fetch(URL_);
		expect(response.status).toBe(503);
		expect(response.headers.get('retry-after')).toBe('2');
		expect(response.headers.get('set-cookie')).toBe('a=1, b=2');
		expect(await response.json()).toEqual({ detail: 'busy' });
	});

	it('leaves redirects to n8n, unless the caller follows them itself', async () => {
		const { options, fetch } = helper(() => streamed(302, '', { location: 'https://cdn/x' }));
		const response = await fetch(URL_, { redirect: 'manual' });
		expect(options[0]).toMatchObject({ disableFollowRedirect: true });
		expect(response.headers.get('location')).toBe('https://cdn/x');
	});

	it('gives no body for statuses that have none, and for HEAD', async () => {
		const { fetch } = helper(() => streamed(204, ''));
		expect((await fetch(URL_)).body).toBeNull();
		const head = helper(() => streamed(200, 'ignored'));
		expect((await head.fetch(URL_, { method: 'HEAD' })).body).toBeNull();
	});

	it("fails like fetch on a network error, keeping its code but not the request's headers (the key)", async () => {
		const raw = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), {
			code: 'ECONNREFUSED',
			config: { headers: { authorization: 'Key secret-key' } },
		});
		const { fetch } = helper(() => {
			throw raw;
		});
		const error = (await settled(
			fetch(URL_, { headers: { authorization: 'Key secret-key' } }),
		)) as TypeError;
		expect(error).toBeInstanceOf(TypeError);
		expect(error.message).toBe('fetch failed');
		expect(networkCodeOf(error)).toBe('ECONNREFUSED');
		expect((error.cause as Error).message).toBe(raw.message);
		expect(inspect(error, { depth: 10, showHidden: true })).not.toContain('secret-key');
	});

	it("stops with the signal's reason: before sending, and while the answer streams", async () => {
		const before = new AbortController();
		before.abort(new DOMException('stopped', 'AbortError'));
		const { options, fetch } = helper();
		expect(await settled(fetch(URL_, { signal: before.signal }))).toBe(before.signal.reason);
		expect(options).toHaveLength(0);

		const during = new AbortController();
		const endless = new Readable({ read() {} });
		const streaming = helper(() => ({ body: endless, headers: {}, statusCode: 200 }));
		const response = await streaming.fetch(URL_, { signal: during.signal });
		expect(streaming.options[0].abortSignal).toBe(during.signal);
		const reading = settled(response.text());
		during.abort(new DOMException('stopped', 'AbortError'));
		expect(await reading).toBe(during.signal.reason);
		expect(endless.destroyed).toBe(true);
	});

	it("passes the signal's reason when n8n's helper fails because of the stop", async () => {
		const stop = new AbortController();
		const { fetch } = helper(() => {
			stop.abort(new DOMException('stopped', 'TimeoutError'));
			throw new Error('aborted');
		});
		expect(await settled(fetch(URL_, { signal: stop.signal }))).toBe(stop.signal.reason);
	});
});
