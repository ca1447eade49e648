// @ts-check
/**
 * A company network in a box, on 127.0.0.1, for testing n8n's proxy settings without
 * internet:
 *
 * - a throwaway certificate authority, and a certificate signed by it for fal's host
 *   names, written to `caFile` for NODE_EXTRA_CA_CERTS (as an administrator would add
 *   the company's root);
 * - a TLS front that answers as fal's hosts with that certificate and passes every
 *   request on to the fal emulator, Host header and all (the emulator routes by it);
 * - a forward proxy, `proxyUrl`, that records every request: `CONNECT host:443` tunnels
 *   for fal's host names go to the TLS front (the proxy "resolves" them there), plain
 *   HTTP proxying is allowed to 127.0.0.1 only, and anything else is refused and
 *   recorded as refused, so a test can assert that nothing went anywhere else;
 * - with `rttMs`, a delay relay (test/helpers/delayRelay.js) between the proxy and the
 *   TLS front: fal across an ocean, every tunnel paying the round trips of its TCP and
 *   TLS handshakes and of each request (`npm run bench`).
 */
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const forge = require('node-forge');
const { startDelayRelay } = require('./delayRelay');

/**
 * n8n's network variables: a test that sets some must first clear all of them, so that
 * nothing is inherited from the shell that runs it.
 */
const NETWORK_VARIABLES = [
	'HTTP_PROXY',
	'HTTPS_PROXY',
	'ALL_PROXY',
	'NO_PROXY',
	'http_proxy',
	'https_proxy',
	'all_proxy',
	'no_proxy',
	'NODE_EXTRA_CA_CERTS',
	'N8N_OUTBOUND_PROXY_MODE',
];

/** fal's API, storage and CDN host names. */
const FAL_HOST = /(^|\.)fal\.(run|ai|media)$/;
/** The names the certificate is made for. */
const FAL_NAMES = [
	'fal.run',
	'*.fal.run',
	'fal.ai',
	'*.fal.ai',
	'*.alpha.fal.ai',
	'fal.media',
	'*.fal.media',
];

/**
 * @typedef {object} ProxyRecord
 * @property {'connect' | 'http'} via a CONNECT tunnel, or a plain HTTP request with an absolute URL
 * @property {string} target 'host:port' for CONNECT, the URL for plain HTTP
 * @property {string} method
 * @property {boolean} refused the proxy would not take it anywhere
 * @property {number} at
 */

/**
 * @typedef {object} ProxyLab
 * @property {string} proxyUrl 'http://127.0.0.1:PORT'
 * @property {string} caFile PEM of the throwaway root, for NODE_EXTRA_CA_CERTS
 * @property {string} deadProxyUrl a proxy URL nothing listens on
 * @property {ProxyRecord[]} records every request the proxy received
 * @property {number} frontRequests requests that reached the emulator through the TLS front
 * @property {Array<{ requests: number }>} frontConnections the TLS connections the front accepted since the
 *   last reset, in order, with the requests each carried
 * @property {import('./delayRelay').DelayRelay | undefined} relay the delay relay, when started with `rttMs`
 * @property {() => void} reset clears the records and counts
 * @property {() => Promise<void>} close
 */

/**
 * @param {{ emulatorUrl: string, rttMs?: number, keepAliveMs?: number }} options
 *   `emulatorUrl`: the emulator's own http://127.0.0.1:PORT; `rttMs` puts a delay relay
 *   in front of the TLS front; `keepAliveMs`: how long the front keeps an idle connection
 *   open (Node's default, 5 s, unless given)
 * @returns {Promise<ProxyLab>}
 */
async function startProxyLab({ emulatorUrl, rttMs, keepAliveMs }) {
	const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'fal-proxy-lab-'));
	const { caPem, certPem, keyPem } = makeCertificates();
	const caFile = path.join(folder, 'company-root-ca.pem');
	fs.writeFileSync(caFile, caPem);
	const emulator = new URL(emulatorUrl);

	/** @type {ProxyRecord[]} */
	const records = [];
	const lab = {
		frontRequests: 0,
		frontConnections: /** @type {Array<{ requests: number }>} */ ([]),
	};
	/** @type {WeakMap<object, { requests: number }>} */
	const connectionOf = new WeakMap();
	/** @type {Set<import('node:stream').Duplex>} */
	const sockets = new Set();
	/** @param {import('node:stream').Duplex} socket */
	const track = (socket) => {
		sockets.add(socket);
		socket.once('close', () => sockets.delete(socket));
	};

	// With the root in the chain, as re-signing proxies send it: an untrusted root then reads
	// "self-signed certificate in certificate chain", the message users meet.
	const front = https.createServer({ key: keyPem, cert: certPem + caPem }, (req, res) => {
		lab.frontRequests++;
		const connection = connectionOf.get(req.socket);
		if (connection) connection.requests++;
		forward(req, res, { hostname: emulator.hostname, port: Number(emulator.port) }, req.url ?? '/');
	});
	if (keepAliveMs !== undefined) front.keepAliveTimeout = keepAliveMs;
	front.on('connection', track);
	front.on('secureConnection', (socket) => {
		const connection = { requests: 0 };
		connectionOf.set(socket, connection);
		lab.frontConnections.push(connection);
	});
	front.on('tlsClientError', () => undefined);
	await listen(front);
	let tunnelPort = /** @type {net.AddressInfo} */ (front.address()).port;
	const relay =
		rttMs === undefined
			? undefined
			: await startDelayRelay({ upstream: { host: '127.0.0.1', port: tunnelPort }, rttMs });
	if (relay) tunnelPort = relay.port;

	const proxy = http.createServer((req, res) => {
		/** @type {ProxyRecord} */
		const record = {
			via: 'http',
			target: req.url ?? '',
			method: req.method ?? 'GET',
			refused: false,
			at: Date.now(),
		};
		records.push(record);
		let target;
		try {
			target = new URL(req.url ?? '');
		} catch {
			target = undefined;
		}
		if (!target || target.protocol !== 'http:' || target.hostname !== '127.0.0.1') {
			record.refused = true;
			return void res
				.writeHead(502, { 'content-type': 'text/plain' })
				.end('proxy lab: not allowed');
		}
		forward(
			req,
			res,
			{ hostname: '127.0.0.1', port: Number(target.port || 80) },
			`${target.pathname}${target.search}`,
		);
	});
	proxy.on('connection', track);
	proxy.on('connect', (req, /** @type {net.Socket} */ clientSocket, head) => {
		track(clientSocket);
		const target = req.url ?? '';
		const [host, port] = target.split(':');
		/** @type {ProxyRecord} */
		const record = { via: 'connect', target, method: 'CONNECT', refused: false, at: Date.now() };
		records.push(record);
		if (!FAL_HOST.test(host ?? '') || port !== '443') {
			record.refused = true;
			return void clientSocket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
		}
		const upstream = net.connect(tunnelPort, '127.0.0.1', () => {
			clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
			if (head.length) upstream.write(head);
			upstream.pipe(clientSocket);
			clientSocket.pipe(upstream);
		});
		track(upstream);
		upstream.on('error', () => clientSocket.destroy());
		clientSocket.on('error', () => upstream.destroy());
	});
	await listen(proxy);
	const proxyPort = /** @type {net.AddressInfo} */ (proxy.address()).port;

	const dead = net.createServer();
	await listen(dead);
	const deadPort = /** @type {net.AddressInfo} */ (dead.address()).port;
	await new Promise((resolve) => dead.close(resolve));

	return {
		proxyUrl: `http://127.0.0.1:${proxyPort}`,
		caFile,
		deadProxyUrl: `http://127.0.0.1:${deadPort}`,
		records,
		get frontRequests() {
			return lab.frontRequests;
		},
		get frontConnections() {
			return lab.frontConnections;
		},
		relay,
		reset() {
			records.length = 0;
			lab.frontRequests = 0;
			lab.frontConnections = [];
			relay?.reset();
		},
		async close() {
			await relay?.close();
			for (const socket of sockets) socket.destroy();
			await Promise.all(
				[front, proxy].map((server) => new Promise((resolve) => server.close(resolve))),
			);
			fs.rmSync(folder, { recursive: true, force: true });
		},
	};
}

/**
 * Passes a request on, keeping its Host header (the emulator routes fal host names by it).
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 * @param {{ hostname: string, port: number }} to
 * @param {string} requestPath
 */
function forward(req, res, to, requestPath) {
	const headers = withoutHopByHop(req.headers);
	const upstream = http.request(
		// A connection per request: a pooled one could carry a request after "Connection: close".
		{
			hostname: to.hostname,
			port: to.port,
			method: req.method,
			path: requestPath,
			headers,
			agent: false,
		},
		(answer) => {
			// The upstream connection is closed after each answer; the client's need not be.
			res.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers));
			answer.pipe(res);
		},
	);
	upstream.on('error', () => res.destroy());
	res.on('close', () => upstream.destroy());
	req.pipe(upstream);
}

/**
 * Hop-by-hop headers describe one connection, not the next one.
 * @param {http.IncomingHttpHeaders} headers
 */
function withoutHopByHop(headers) {
	const copy = { ...headers };
	for (const name of ['connection', 'proxy-connection', 'keep-alive', 'proxy-authorization'])
		delete copy[name];
	return copy;
}

/** @param {net.Server} server */
function listen(server) {
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
}

/** A root CA and a certificate for fal's host names signed by it (keys from Node's crypto: fast). */
function makeCertificates() {
	const caKeys = keyPair();
	const ca = forge.pki.createCertificate();
	ca.publicKey = caKeys.publicKey;
	ca.serialNumber = serial();
	ca.validity.notBefore = new Date(Date.now() - 60_000);
	ca.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
	const caName = [{ name: 'commonName', value: 'Proxy Lab Company Root CA (test only)' }];
	ca.setSubject(caName);
	ca.setIssuer(caName);
	ca.setExtensions([
		{ name: 'basicConstraints', cA: true, critical: true },
		{ name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
		{ name: 'subjectKeyIdentifier' },
	]);
	ca.sign(caKeys.privateKey, forge.md.sha256.create());

	const leafKeys = keyPair();
	const leaf = forge.pki.createCertificate();
	leaf.publicKey = leafKeys.publicKey;
	leaf.serialNumber = serial();
	leaf.validity.notBefore = new Date(Date.now() - 60_000);
	leaf.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
	leaf.setSubject([{ name: 'commonName', value: 'fal.run' }]);
	leaf.setIssuer(caName);
	leaf.setExtensions([
		{ name: 'basicConstraints', cA: false },
		{ name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
		{ name: 'extKeyUsage', serverAuth: true },
		{ name: 'subjectAltName', altNames: FAL_NAMES.map((value) => ({ type: 2, value })) },
		{ name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
	]);
	leaf.sign(caKeys.privateKey, forge.md.sha256.create());

	return {
		caPem: forge.pki.certificateToPem(ca),
		certPem: forge.pki.certificateToPem(leaf),
		keyPem: forge.pki.privateKeyToPem(leafKeys.privateKey),
	};
}

function keyPair() {
	const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', {
		modulusLength: 2048,
		publicKeyEncoding: { type: 'spki', format: 'pem' },
		privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
	});
	return {
		privateKey: forge.pki.privateKeyFromPem(privateKey),
		publicKey: forge.pki.publicKeyFromPem(publicKey),
	};
}

function serial() {
	// Positive: a leading zero nibble keeps DER from reading it as negative.
	return `0${crypto.randomBytes(15).toString('hex')}`;
}

module.exports = { startProxyLab, FAL_HOST, NETWORK_VARIABLES };
