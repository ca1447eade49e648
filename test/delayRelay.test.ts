/**
 * The delay relay (test/helpers/delayRelay.js) that `npm run bench` puts between the
 * proxy lab's forward proxy and its TLS front: a new connection pays the TCP handshake's
 * round trip before its first bytes cross, every byte crosses in half a round trip each
 * way, in order, and ends are passed on after the data before them.
 * Lower bounds are exact (the relay never delivers early); upper bounds leave room for a
 * busy machine.
 */
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

import { startDelayRelay, type DelayRelay } from './helpers/delayRelay';

const RTT = 100;

let echo: Server;
let relay: DelayRelay;

beforeAll(async () => {
	// Echoes every chunk; ends when the client ends.
	echo = createServer((socket) => socket.pipe(socket));
	echo.listen(0, '127.0.0.1');
	await once(echo, 'listening');
	const { port } = echo.address() as AddressInfo;
	relay = await startDelayRelay({ upstream: { host: '127.0.0.1', port }, rttMs: RTT });
});
afterAll(async () => {
	await relay.close();
	await new Promise((resolve) => echo.close(resolve));
});

async function open(): Promise<Socket> {
	const socket = connect(relay.port, '127.0.0.1');
	await once(socket, 'connect');
	return socket;
}

async function roundTrip(socket: Socket, text: string): Promise<number> {
	const started = performance.now();
	const answer = once(socket, 'data');
	socket.write(text);
	const [chunk] = (await answer) as [Buffer];
	expect(chunk.toString()).toBe(text);
	return performance.now() - started;
}

it('charges a new connection the handshake round trip, then one round trip per exchange', async () => {
	relay.rttMs = RTT;
	relay.reset();
	// The handshake's round trip starts with the connect, not after it: timed from there.
	const connecting = performance.now();
	const socket = await open();
	await roundTrip(socket, 'hello');
	const first = performance.now() - connecting;
	const second = await roundTrip(socket, 'again');
	socket.destroy();
	expect(first).toBeGreaterThanOrEqual(2 * RTT - 2);
	expect(first).toBeLessThan(2 * RTT + 150);
	expect(second).toBeGreaterThanOrEqual(RTT - 2);
	expect(second).toBeLessThan(RTT + 150);
	expect(relay.connections).toBe(1);
});

it('keeps the order of many chunks and passes the end on after them', async () => {
	relay.rttMs = 20;
	const socket = await open();
	const received: Buffer[] = [];
	socket.on('data', (chunk: Buffer) => received.push(chunk));
	const sent = Array.from({ length: 200 }, (_, i) => `${i};`).join('');
	for (const part of sent.match(/.{1,7}/g) ?? []) socket.write(part);
	socket.end();
	await once(socket, 'end');
	expect(Buffer.concat(received).toString()).toBe(sent);
	socket.destroy();
});

it('passes bytes straight through at RTT 0', async () => {
	relay.rttMs = 0;
	const socket = await open();
	expect(await roundTrip(socket, 'quick')).toBeLessThan(100);
	socket.destroy();
});
