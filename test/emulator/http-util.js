// @ts-check
/** Small helpers for node:http requests and answers. */
'use strict';

const crypto = require('node:crypto');

/**
 * Reads the whole request body.
 * @param {import('node:http').IncomingMessage} req
 * @returns {Promise<Buffer>}
 */
function readBody(req) {
	return new Promise((resolve, reject) => {
		/** @type {Buffer[]} */
		const chunks = [];
		req.on('data', (chunk) => chunks.push(chunk));
		req.on('end', () => resolve(Buffer.concat(chunks)));
		req.on('error', reject);
	});
}

/**
 * @param {Buffer | Uint8Array} bytes
 * @returns {string} hex sha256
 */
function sha256(bytes) {
	return crypto.createHash('sha256').update(bytes).digest('hex');
}

/**
 * Sends a JSON answer. fal always answers JSON with this Content-Type; the client ignores
 * bodies of other types (and never sees COMPLETED without it).
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {unknown} body
 * @param {Record<string, string>} [headers]
 */
function sendJson(res, status, body, headers = {}) {
	const text = JSON.stringify(body);
	send(res, status, Buffer.from(text), { 'content-type': 'application/json', ...headers });
}

/**
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {Buffer} bytes
 * @param {Record<string, string>} headers
 * @param {boolean} [headOnly] HEAD: headers and length only
 */
function send(res, status, bytes, headers, headOnly = false) {
	if (res.headersSent || res.destroyed) return;
	res.writeHead(status, { ...headers, 'content-length': String(bytes.length) });
	res.end(headOnly ? undefined : bytes);
}

/**
 * Parses a body as JSON when it looks like JSON.
 * @param {Buffer} bytes
 * @returns {{ ok: true, value: unknown } | { ok: false, error: string }}
 */
function parseJson(bytes) {
	try {
		return { ok: true, value: JSON.parse(bytes.toString('utf8')) };
	} catch (error) {
		return { ok: false, error: error instanceof Error ? error.message : String(error) };
	}
}

module.exports = { readBody, sha256, sendJson, send, parseJson };
