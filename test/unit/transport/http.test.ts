import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { keepAliveHttp } from '../../../nodes/FluxProFill/transport/http';

/** A local server that answers by path and counts the connections it was given. */
function serve(answer: (req: IncomingMessage, res: ServerResponse) => void) {
	const state = { base: '', connections: 0, requests: [] as IncomingMessage[] };
	let server: Server;
	beforeAll(async () => {
		server = createServer((req, res) => {
			state.requests.push(req);
			answer(req, res);
		});
		server.on('connection', () => state.connections++);
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		state.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	beforeEach(() => {
		state.connections = 0;
		state.requests.length = 0;
	});
	afterAll(async () => {
		server.closeAllConnections();
		await new Promise((resolve) => server.close(resolve));
	});
	return state;
}

const server = serve((req, res) => {
	if (req.url === '/moved') return void res.writeHead(302, { location: '/here' }).end();
	// The same server under another name: another origin.
	if (req.url === '/elsewhere')
		return void res
			.writeHead(307, { location: `http://localhost:${req.socket.localPort}/there` })
			.end();
	if (req.url === '/see-other') return void res.writeHead(303, { location: '/here' }).end();
	if (req.url === '/slow') return void setTimeout(() => res.end('late'), 5_000);
	let body = '';
	req.on('data', (chunk) => (body += chunk));
	req.on('end', () =>
		res.writeHead(200, { 'content-type': 'text/plain' }).end(`${req.method} ${req.url} ${body}`),
	);
});

describe('keepAliveHttp', () => {
	const saved = { ...process.env };
	beforeEach(() => {
		for (const name of [
			'HTTP_PROXY',
			'http_proxy',
			'ALL_PROXY',
			'all_proxy',
			'NO_PROXY',
			'no_proxy',
		])
			delete process.env[name];
	});
	afterEach(() => (process.env = { ...saved }));

	it('carries many requests on one connection, and closes it with the execution', async () => {
		const http = keepAliveHttp();
		for (let i = 0; i < 3; i++)
			expect(await (await http.fetch(`${server.base}/a${i}`)).text()).toBe(`GET /a${i} `);
		expect(server.connections).toBe(1);
		http.close();
		await http.fetch(`${server.base}/again`).then((response) => response.text());
		expect(server.connections).toBe(2);
		http.close();
	});

	it('sends a body and its headers, and gives the answer as fetch does', async () => {
		const http = keepAliveHttp();
		const response = await http.fetch(`${server.base}/post`, {
			method: 'POST',
			body: JSON.stringify({ a: 1 }),
			headers: { 'x-test': 'yes' },
		});
		expect([response.status, response.headers.get('content-type'), await response.text()]).toEqual([
			200,
			'text/plain',
			'POST /post {"a":1}',
		]);
		expect(server.requests[0].headers['x-test']).toBe('yes');
		http.close();
	});

	it('follows a redirect like fetch, or leaves it to the caller with redirect: manual', async () => {
		const http = keepAliveHttp();
		expect(await (await http.fetch(`${server.base}/moved`)).text()).toBe('GET /here ');
		const manual = await http.fetch(`${server.base}/moved`, { redirect: 'manual' });
		expect([manual.status, manual.headers.get('location')]).toEqual([302, '/here']);
		http.close();
	});

	it('keeps the key from another origin a redirect leads to, and follows a 303 with a GET', async () => {
		const http = keepAliveHttp();
		const key = { authorization: 'Key id:secret', 'x-fal-target-url': 'https://queue.fal.run/x' };
		expect(await (await http.fetch(`${server.base}/moved`, { headers: key })).text()).toBe(
			'GET /here ',
		);
		// Same origin: the key goes along.
		expect(server.requests[1].headers.authorization).toBe(key.authorization);
		await (
			await http.fetch(`${server.base}/elsewhere`, { method: 'PUT', headers: key, body: 'x' })
		).text();
		const there = server.requests[3];
		expect([there.url, there.method, there.headers.host]).toEqual([
			'/there',
			'PUT',
			`localhost:${new URL(server.base).port}`,
		]);
		expect(there.headers.authorization).toBeUndefined();
		expect(there.headers['x-fal-target-url']).toBeUndefined();
		const seeOther = await http.fetch(`${server.base}/see-other`, {
			method: 'POST',
			headers: { ...key, 'content-type': 'application/json' },
			body: '{"a":1}',
		});
		expect(await seeOther.text()).toBe('GET /here ');
		http.close();
	});

	it("goes through n8n's proxy variables: HTTP_PROXY for http, and straight past it with NO_PROXY", async () => {
		const proxied: string[] = [];
		const proxy = createServer((req, res) => {
			proxied.push(req.url ?? '');
			res.end('from the proxy');
		});
		await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
		process.env.http_proxy = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
		const http = keepAliveHttp();
		expect(await (await http.fetch(`${server.base}/x`)).text()).toBe('from the proxy');
		expect(proxied).toEqual([`${server.base}/x`]);
		process.env.no_proxy = '127.0.0.1';
		expect(await (await http.fetch(`${server.base}/y`)).text()).toBe('GET /y ');
		http.close();
		proxy.closeAllConnections();
		await new Promise((resolve) => proxy.close(resolve));
	});

	it("stops with the signal's reason, and names a network failure without the request", async () => {
		const http = keepAliveHttp();
		const stop = new AbortController();
		const slow = http.fetch(`${server.base}/slow`, { signal: stop.signal });
		stop.abort(new Error('stopped'));
		await expect(slow).rejects.toThrow('stopped');
		const refused = await http
			.fetch('http://127.0.0.1:1/', { headers: { authorization: 'Key secret' } })
			.catch((e: unknown) => e);
		expect(refused).toMatchObject({
			name: 'TypeError',
			message: 'fetch failed',
			cause: { code: 'ECONNREFUSED' },
		});
		expect(JSON.stringify(refused, Object.getOwnPropertyNames(refused))).not.toContain('secret');
		http.close();
	});
});
