// @ts-check
/**
 * Fetches the bytes behind image_url / mask_url as fal's runner would: its own CDN,
 * `data:` URIs, or any HTTP(S) URL (tests serve some on other loopback servers).
 */
'use strict';

/**
 * @typedef {object} SourceContext
 * @property {string} baseUrl the emulator's origin; /files/ URLs on it are read from the store
 * @property {(pathname: string) => { bytes: Buffer } | undefined} getFile
 * @property {number} timeoutMs
 * @property {AbortSignal} signal aborted when the emulator closes
 */

/**
 * @param {string} url
 * @param {SourceContext} ctx
 * @returns {Promise<Buffer>} rejects with an Error saying why
 */
async function loadSource(url, ctx) {
	if (url.startsWith('data:')) return decodeDataUri(url);
	/** @type {URL} */
	let parsed;
	try {
		parsed = new URL(url);
	} catch {
		throw new Error('not a valid URL');
	}
	if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
		throw new Error(`unsupported URL scheme ${parsed.protocol}`);
	}
	if (parsed.origin === ctx.baseUrl && parsed.pathname.startsWith('/files/')) {
		const file = ctx.getFile(parsed.pathname);
		if (!file) throw new Error('HTTP 404 from the file store');
		return file.bytes;
	}
	const response = await fetch(parsed, {
		signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(ctx.timeoutMs)]),
		redirect: 'follow',
	});
	if (!response.ok) {
		await response.body?.cancel().catch(() => undefined);
		throw new Error(`HTTP ${response.status}`);
	}
	return Buffer.from(await response.arrayBuffer());
}

/**
 * @param {string} uri `data:[<type>][;base64],<data>`
 * @returns {Buffer}
 */
function decodeDataUri(uri) {
	const comma = uri.indexOf(',');
	if (comma < 0) throw new Error('malformed data URI');
	const meta = uri.slice(5, comma);
	const payload = uri.slice(comma + 1);
	return /;base64$/i.test(meta)
		? Buffer.from(payload, 'base64')
		: Buffer.from(decodeURIComponent(payload), 'latin1');
}

/**
 * A short form of a URL for messages (data URIs can be megabytes long).
 * @param {string} url
 */
function describeUrl(url) {
	if (url.startsWith('data:')) return `${url.slice(0, Math.min(url.indexOf(',') + 1 || 30, 40))}…`;
	return url.length > 200 ? `${url.slice(0, 200)}…` : url;
}

module.exports = { loadSource, describeUrl };
