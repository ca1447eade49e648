// @ts-check
/**
 * fal storage (fal-cdn-v3): upload initiation, the signed-URL PUTs that follow it,
 * multipart uploads, and the CDN that serves stored and generated files.
 */
'use strict';

const crypto = require('node:crypto');
const { sha256 } = require('./http-util');

/**
 * @typedef {object} PendingUpload
 * @property {string} fileUrl
 * @property {string} path CDN path (URL pathname of fileUrl)
 * @property {string} fileName
 * @property {string} contentType
 * @property {boolean} multipart
 * @property {Map<number, {bytes: Buffer, etag: string}>} parts
 */

/** @typedef {{ bytes: Buffer, contentType: string }} StoredFile */

class Storage {
	/** @param {() => string} baseUrl the emulator's origin, known once the server listens */
	constructor(baseUrl) {
		this.baseUrl = baseUrl;
		/** @type {import('./types').Upload[]} */
		this.uploads = [];
		/** @type {Map<string, StoredFile>} CDN path → file */
		this.files = new Map();
		/** @type {Map<string, PendingUpload>} upload token → pending upload */
		this.pending = new Map();
	}

	/**
	 * `POST rest.fal.ai/storage/upload/initiate[-multipart]` → `{upload_url, file_url}`.
	 * @param {unknown} body
	 * @param {boolean} multipart
	 * @returns {import('./types').Outcome}
	 */
	initiate(body, multipart) {
		const input = /** @type {Record<string, unknown>} */ (
			body && typeof body === 'object' ? body : {}
		);
		const contentType =
			typeof input.content_type === 'string' && input.content_type
				? input.content_type
				: 'application/octet-stream';
		const fileName =
			typeof input.file_name === 'string' && input.file_name
				? input.file_name.replace(/[/\\]/g, '_')
				: `${Date.now()}.bin`;
		const token = crypto.randomUUID();
		const fileUrl = `${this.baseUrl()}/files/${crypto.randomBytes(8).toString('hex')}/${encodeURIComponent(fileName)}`;
		this.pending.set(token, {
			fileUrl,
			path: new URL(fileUrl).pathname,
			fileName,
			contentType,
			multipart,
			parts: new Map(),
		});
		return {
			status: 200,
			body: { upload_url: `${this.baseUrl()}/upload/${token}`, file_url: fileUrl },
		};
	}

	/**
	 * `PUT <upload_url>` (whole file) or `PUT <upload_url>/<partNumber>` (multipart).
	 * @param {string} token
	 * @param {number | undefined} partNumber
	 * @param {Buffer} bytes
	 * @returns {import('./types').Outcome}
	 */
	put(token, partNumber, bytes) {
		const pending = this.pending.get(token);
		if (!pending) return { status: 404, body: { detail: 'Upload URL not found or expired' } };
		if (partNumber === undefined) {
			if (pending.multipart)
				return { status: 400, body: { detail: 'Multipart upload expects part PUTs' } };
			this.store(pending, bytes);
			return { status: 200, body: undefined };
		}
		if (!pending.multipart) return { status: 400, body: { detail: 'Not a multipart upload' } };
		if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) {
			return { status: 400, body: { detail: 'Invalid part number' } };
		}
		const etag = `"${sha256(bytes).slice(0, 32)}"`;
		pending.parts.set(partNumber, { bytes, etag });
		return { status: 200, body: { partNumber, etag } };
	}

	/**
	 * `POST <upload_url>/complete {parts:[{partNumber, etag}]}` joins the parts in the listed order.
	 * @param {string} token
	 * @param {unknown} body
	 * @returns {import('./types').Outcome}
	 */
	complete(token, body) {
		const pending = this.pending.get(token);
		if (!pending || !pending.multipart)
			return { status: 404, body: { detail: 'Upload URL not found or expired' } };
		const parts = /** @type {{parts?: unknown}} */ (body ?? {}).parts;
		if (!Array.isArray(parts) || parts.length === 0)
			return { status: 400, body: { detail: 'parts is required' } };
		/** @type {Buffer[]} */
		const chunks = [];
		for (const part of parts) {
			const stored = pending.parts.get(Number(part?.partNumber));
			if (!stored || stored.etag !== part?.etag) {
				return {
					status: 400,
					body: { detail: `Unknown part or etag mismatch: ${JSON.stringify(part)}` },
				};
			}
			chunks.push(stored.bytes);
		}
		this.store(pending, Buffer.concat(chunks));
		return { status: 200, body: { file_url: pending.fileUrl } };
	}

	/**
	 * Makes the bytes servable at file_url. The upload URL stays usable (a signed URL can be
	 * PUT again until it expires); a second PUT replaces the file and is recorded again.
	 * @param {PendingUpload} pending
	 * @param {Buffer} bytes
	 */
	store(pending, bytes) {
		this.files.set(pending.path, { bytes, contentType: pending.contentType });
		this.uploads.push({
			fileUrl: pending.fileUrl,
			contentType: pending.contentType,
			fileName: pending.fileName,
			bytes: bytes.length,
			sha256: sha256(bytes),
		});
	}

	/**
	 * Stores a generated output and returns its CDN URL.
	 * @param {Buffer} bytes
	 * @param {string} contentType
	 * @param {string} extension
	 */
	putGenerated(bytes, contentType, extension) {
		const url = `${this.baseUrl()}/files/${crypto.randomUUID().replace(/-/g, '')}.${extension}`;
		this.files.set(new URL(url).pathname, { bytes, contentType });
		return url;
	}

	/**
	 * @param {string} pathname URL pathname under /files/
	 * @returns {StoredFile | undefined}
	 */
	get(pathname) {
		return this.files.get(pathname);
	}

	reset() {
		this.uploads.length = 0;
		this.files.clear();
		this.pending.clear();
	}
}

module.exports = { Storage };
