// @ts-check
/**
 * An ocean on 127.0.0.1: a TCP relay that holds every byte for half a round-trip time in
 * each direction, so that a client on loopback pays what it would pay talking to a
 * server RTT milliseconds away — connection set-up included.
 *
 * Per connection accepted at t0 (the client's SYN leaving):
 * - the connection to the upstream is opened at t0 + RTT/2 (the SYN arriving);
 * - bytes from the client reach the upstream at max(sent, t0 + RTT) + RTT/2: the client
 *   cannot send before the SYN-ACK is back (a TCP handshake is one round trip), and its
 *   data then takes half a round trip to cross;
 * - bytes from the upstream reach the client RTT/2 after it sent them;
 * - order is kept in each direction, and an end (FIN) follows the data sent before it.
 *
 * So a TLS 1.3 handshake over it costs one more round trip, and a request on a new
 * connection three (TCP, TLS, the request) where a reused connection needs one.
 *
 * It models latency only: bandwidth is unlimited and there is no slow start, so moving
 * a large body costs a half round trip, whatever its size. At RTT 0 bytes are piped
 * through untouched.
 */
'use strict';

const net = require('node:net');

/**
 * @typedef {object} DelayRelay
 * @property {number} port where it listens on 127.0.0.1
 * @property {number} rttMs the round-trip time it plays; may be changed between connections
 * @property {number} connections TCP connections accepted so far
 * @property {() => void} reset sets `connections` back to 0
 * @property {() => Promise<void>} close
 */

/**
 * @param {{ upstream: { host: string, port: number }, rttMs?: number }} options
 * @returns {Promise<DelayRelay>}
 */
async function startDelayRelay({ upstream, rttMs = 0 }) {
	/** @type {Set<net.Socket>} */
	const sockets = new Set();
	/** @param {net.Socket} socket */
	const track = (socket) => {
		sockets.add(socket);
		socket.once('close', () => sockets.delete(socket));
	};
	const relay = {
		port: 0,
		rttMs,
		connections: 0,
		reset() {
			relay.connections = 0;
		},
		async close() {
			for (const socket of sockets) socket.destroy();
			await new Promise((resolve) => server.close(resolve));
		},
	};

	const server = net.createServer({ allowHalfOpen: true }, (client) => {
		relay.connections++;
		track(client);
		client.setNoDelay(true);
		const half = relay.rttMs / 2;
		const accepted = performance.now();
		const target = new net.Socket({ allowHalfOpen: true });
		track(target);
		// Errors end in 'close', which is passed on like an end, after the data before it.
		client.on('error', () => undefined);
		target.on('error', () => undefined);
		if (half === 0) {
			client.pipe(target);
			target.pipe(client);
			client.once('close', () => target.destroySoon());
			target.once('close', () => client.destroySoon());
			target.connect(upstream.port, upstream.host, () => target.setNoDelay(true));
			return;
		}
		// Client to server: not before the handshake's round trip, then half a round trip.
		const handshakeDone = accepted + 2 * half;
		delayed(client, target, half, () => Math.max(performance.now(), handshakeDone));
		// Server to client: half a round trip.
		delayed(target, client, half, () => performance.now());
		setTimeout(() => {
			if (client.destroyed) return void target.destroy();
			target.connect(upstream.port, upstream.host, () => target.setNoDelay(true));
		}, half);
	});
	server.on('error', () => undefined);
	await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
	relay.port = /** @type {net.AddressInfo} */ (server.address()).port;
	return relay;
}

/**
 * Copies `from` to `to`, each chunk (and the end, and the close) delivered `delayMs`
 * after `departure()` says it left, in order. A socket still connecting buffers what is
 * written to it.
 * @param {net.Socket} from
 * @param {net.Socket} to
 * @param {number} delayMs
 * @param {() => number} departure when a chunk read now counts as sent (performance.now() time)
 */
function delayed(from, to, delayMs, departure) {
	/** @typedef {Buffer | 'end' | 'close'} Piece */
	/** @type {Array<{ due: number, piece: Piece }>} */
	const queue = [];
	/** @type {NodeJS.Timeout | undefined} */
	let timer;
	const deliver = () => {
		timer = undefined;
		const now = performance.now();
		for (let next = queue[0]; next && next.due <= now + 0.5; next = queue[0]) {
			queue.shift();
			if (to.destroyed) return;
			if (next.piece === 'end') to.end();
			else if (next.piece === 'close') to.destroySoon();
			else to.write(next.piece);
		}
		schedule();
	};
	const schedule = () => {
		const head = queue[0];
		if (timer || !head) return;
		timer = setTimeout(deliver, Math.max(0, head.due - performance.now()));
	};
	const push = (/** @type {Piece} */ piece) => {
		queue.push({ due: departure() + delayMs, piece });
		schedule();
	};
	from.on('data', (chunk) => push(chunk));
	from.once('end', () => push('end'));
	from.once('close', () => push('close'));
}

module.exports = { startDelayRelay };
