// @ts-check
/**
 * HTTP routing. API calls arrive the way `@fal-ai/client` sends them through a proxy:
 * `METHOD /proxy` with the real fal URL in `x-fal-target-url`. Upload PUTs and CDN reads
 * arrive directly (`/upload/...`, `/files/...`), as the client sends them to the URLs the
 * emulator handed out. Every request is recorded (without its Authorization header).
 */
'use strict';

const { readBody, sha256, sendJson, send, parseJson } = require('./http-util');
const { classifyAuth, authFailure } = require('./auth');
const { answersInstead, sendFault } = require('./faults');
const { serveStatusStream } = require('./stream');
const { matchEndpointPath, endpointSpec } = require('./endpoints');

const FAL_HOST = /(\.|^)fal\.(run|ai)$/;

/**
 * @typedef {object} Route
 * @property {import('./types').RequestKind} kind
 * @property {string} name which handler answers
 * @property {string} [requestId]
 * @property {import('./types').EndpointId} [endpoint] the fal endpoint a queue/sync route is for
 * @property {string} [app] `owner/app` a request URL (status, stream, result, cancel) names
 * @property {string} [token] upload token
 * @property {number} [part] multipart part number
 */

/**
 * @typedef {object} ServerDeps
 * @property {import('./types').EmulatorConfig} config
 * @property {{ validKeys: Set<string>, lockedKeys: Set<string> }} keys
 * @property {import('./types').RecordedRequest[]} requests
 * @property {import('./queue').JobQueue} queue
 * @property {import('./storage').Storage} storage
 * @property {import('./faults').FaultBook} faults
 * @property {() => string} baseUrl
 */

/**
 * @param {string} method
 * @param {string} name
 * @param {string[]} allowed
 * @param {import('./types').RequestKind} kind
 * @param {string} [requestId]
 * @returns {Route}
 */
function guard(method, name, allowed, kind, requestId) {
	if (!allowed.includes(method)) return { kind: 'other', name: 'method-not-allowed', requestId };
	return { kind, name, requestId };
}

/**
 * Maps a fal URL (x-fal-target-url) to a route.
 * @param {string} method
 * @param {URL} target
 * @returns {Route}
 */
function routeFal(method, target) {
	const path = target.pathname.replace(/\/+$/, '') || '/';
	if (target.hostname === 'rest.fal.ai' || target.hostname === 'rest.alpha.fal.ai') {
		if (path === '/storage/upload/initiate') return guard(method, 'initiate', ['POST'], 'initiate');
		if (path === '/storage/upload/initiate-multipart')
			return guard(method, 'initiate-multipart', ['POST'], 'initiate');
	}
	// The endpoint table (endpoints.js): which paths exist, and for which endpoint.
	const hit = /^(queue\.)?fal\.run$/.test(target.hostname) ? matchEndpointPath(path) : undefined;
	if (hit && target.hostname === 'queue.fal.run') {
		const { endpoint, app, requestId: id, suffix } = hit;
		if (id === undefined) return { ...guard(method, 'submit', ['POST'], 'submit'), endpoint };
		if (!suffix) return { ...guard(method, 'result', ['GET'], 'result', id), endpoint, app };
		if (suffix === '/status')
			return { ...guard(method, 'status', ['GET'], 'status', id), endpoint, app };
		if (suffix === '/status/stream')
			return { ...guard(method, 'stream', ['GET'], 'stream', id), endpoint, app };
		return { ...guard(method, 'cancel', ['PUT'], 'cancel', id), endpoint, app };
	}
	if (hit && hit.requestId === undefined)
		return { ...guard(method, 'sync', ['POST'], 'sync'), endpoint: hit.endpoint };
	return { kind: 'other', name: 'not-found' };
}

/**
 * Maps a direct request (upload URLs, CDN) to a route.
 * @param {string} method
 * @param {URL} url
 * @returns {Route}
 */
function routeDirect(method, url) {
	const upload = /^\/upload\/([^/]+)(?:\/(\d+|complete))?\/?$/.exec(url.pathname);
	if (upload) {
		const [, token, suffix] = upload;
		if (suffix === 'complete')
			return { ...guard(method, 'upload-complete', ['POST'], 'upload'), token };
		return {
			...guard(method, 'upload', ['PUT'], 'upload'),
			token,
			part: suffix ? Number(suffix) : undefined,
		};
	}
	if (url.pathname.startsWith('/files/')) return guard(method, 'file', ['GET', 'HEAD'], 'file');
	return { kind: 'other', name: 'not-found' };
}

/**
 * What goes into the record's `body`: JSON as parsed, anything else as size and hash.
 * @param {Buffer} bytes
 * @param {import('./types').RequestKind} kind
 */
function summarizeBody(bytes, kind) {
	if (bytes.length === 0) return undefined;
	if (kind !== 'upload' || bytes[0] === 0x7b /* { */) {
		const parsed = parseJson(bytes);
		if ('value' in parsed) return parsed.value;
	}
	return { bytes: bytes.length, sha256: sha256(bytes) };
}

/**
 * @param {import('node:http').IncomingHttpHeaders} headers
 * @returns {Record<string, string | string[] | undefined>} without credentials
 */
function safeHeaders(headers) {
	/** @type {Record<string, string | string[] | undefined>} */
	const copy = {};
	for (const [name, value] of Object.entries(headers)) {
		const lower = name.toLowerCase();
		if (lower === 'authorization' || lower === 'proxy-authorization') continue;
		copy[lower] = value;
	}
	return copy;
}

/**
 * @param {string | undefined} id
 * @returns {Record<string, string>}
 */
const idHeader = (id) => (id ? { 'x-fal-request-id': id } : {});

/**
 * @param {ServerDeps} deps
 * @returns {{ handler: import('node:http').RequestListener, stop: () => void }}
 */
function createHandler(deps) {
	/** @type {Set<NodeJS.Timeout>} */
	const delays = new Set();
	/** @param {number} ms */
	const delay = (ms) =>
		new Promise((resolve) => {
			const timer = setTimeout(() => {
				delays.delete(timer);
				resolve(undefined);
			}, ms);
			delays.add(timer);
		});

	/**
	 * @param {import('node:http').IncomingMessage} req
	 * @param {import('node:http').ServerResponse} res
	 */
	async function handle(req, res) {
		const method = (req.method ?? 'GET').toUpperCase();
		const url = new URL(req.url ?? '/', deps.baseUrl());
		// Reached under fal's own host name (through a TLS front, as behind a company proxy):
		// the request is for that fal URL, just as if it had come through /proxy.
		const hostName = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
		const asFalHost = FAL_HOST.test(hostName);
		const proxied = asFalHost || url.pathname.replace(/\/+$/, '') === '/proxy';
		const targetHeader = asFalHost
			? `https://${hostName}${req.url ?? '/'}`
			: req.headers['x-fal-target-url'];
		const targetText = Array.isArray(targetHeader) ? targetHeader[0] : targetHeader;

		/** @type {Route} */
		let route;
		/** @type {URL | undefined} */
		let target;
		if (proxied) {
			try {
				target = targetText ? new URL(targetText) : undefined;
			} catch {
				target = undefined;
			}
			if (!targetText) route = { kind: 'other', name: 'missing-target' };
			else if (!target || !FAL_HOST.test(target.hostname))
				route = { kind: 'other', name: 'bad-target' };
			else route = routeFal(method, target);
		} else {
			route = routeDirect(method, url);
		}
		// Endpoints of one app share its request URLs (fill and fill-finetuned): the job found
		// under the app says which endpoint the call is for. An id not found keeps the app's first.
		if (route.requestId && route.app) {
			const job = deps.queue.find(route.requestId);
			if (job && endpointSpec(job.endpoint).app === route.app) route.endpoint = job.endpoint;
		}

		/** @type {import('./types').RecordedRequest} */
		const record = {
			method,
			target: proxied ? (targetText ?? url.pathname) : `${url.pathname}${url.search}`,
			kind: route.kind,
			query: Object.fromEntries((target ?? url).searchParams),
			headers: safeHeaders(req.headers),
			body: undefined,
			auth: classifyAuth(req.headers.authorization, deps.keys),
			at: Date.now(),
		};
		if (route.requestId) record.requestId = route.requestId;
		if (route.endpoint) record.endpoint = route.endpoint;
		deps.requests.push(record);
		res.on('finish', () => {
			record.status = res.statusCode;
		});

		const bytes = await readBody(req);
		record.body = summarizeBody(bytes, route.kind);

		if (route.name === 'missing-target')
			return sendJson(res, 400, { detail: 'Missing the x-fal-target-url header' });
		if (route.name === 'bad-target')
			return sendJson(res, 412, { detail: 'Invalid x-fal-target-url header' });

		// fal's gateway checks the key on every API call; storage PUTs and the CDN need none.
		if (proxied) {
			const refused = authFailure(record.auth);
			if (refused) return sendJson(res, refused.status, refused.body);
		}

		const fault = deps.faults.take(record);
		if (fault?.delayMs) await delay(fault.delayMs);
		if (fault && route.name === 'submit' && fault.acceptThenFail) {
			const { job } = submit(bytes, target, 'queue');
			record.requestId = job.id;
			if (fault.reset) return void req.socket.destroy();
			return sendFault(
				{
					status: 504,
					body: { detail: 'Gateway timeout', error_type: 'request_timeout' },
					...fault,
				},
				res,
				idHeader(job.id),
			);
		}
		if (fault && route.name === 'submit' && fault.acceptThenDelayMs !== undefined) {
			// The slow-answer case: fal has the job while the client still waits for its id.
			const { job, answer } = submit(bytes, target, 'queue');
			record.requestId = job.id;
			await delay(fault.acceptThenDelayMs);
			return sendJson(res, 200, answer, idHeader(job.id));
		}
		if (fault?.reset) return void req.socket.destroy();
		if (fault && answersInstead(fault)) return sendFault(fault, res, idHeader(route.requestId));

		return dispatch(route, req, res, bytes, target, url, record, fault);
	}

	/**
	 * @param {Buffer} bytes
	 * @param {URL | undefined} target
	 * @param {'queue'|'sync'} mode
	 */
	function submit(bytes, target, mode) {
		/** @type {{ input: unknown, inputError?: string }} */
		let parsed = { input: undefined };
		if (bytes.length > 0) {
			const json = parseJson(bytes);
			parsed =
				'error' in json ? { input: undefined, inputError: json.error } : { input: json.value };
		}
		const webhookUrl =
			mode === 'queue' ? (target?.searchParams.get('fal_webhook') ?? undefined) : undefined;
		const endpoint = target ? routeFal('POST', target).endpoint : undefined;
		return deps.queue.submit({ ...parsed, mode, webhookUrl, endpoint });
	}

	/**
	 * @param {Route} route
	 * @param {import('node:http').IncomingMessage} req
	 * @param {import('node:http').ServerResponse} res
	 * @param {Buffer} bytes
	 * @param {URL | undefined} target
	 * @param {URL} url
	 * @param {import('./types').RecordedRequest} record
	 * @param {import('./types').FaultRule | undefined} fault
	 */
	async function dispatch(route, req, res, bytes, target, url, record, fault) {
		const { queue, storage } = deps;
		// A request id is only found under its own endpoint's app (404 under another one).
		const job = route.requestId ? queue.find(route.requestId, route.endpoint) : undefined;
		const notFound = { detail: 'Request not found' };
		const withLogs = ['1', 'true'].includes((target?.searchParams.get('logs') ?? '').toLowerCase());

		switch (route.name) {
			case 'initiate':
			case 'initiate-multipart': {
				const outcome = storage.initiate(record.body, route.name === 'initiate-multipart');
				return sendJson(res, outcome.status, outcome.body);
			}
			case 'submit': {
				const { job: created, answer } = submit(bytes, target, 'queue');
				record.requestId = created.id;
				return sendJson(res, 200, answer, idHeader(created.id));
			}
			case 'sync': {
				const { job: created } = submit(bytes, target, 'sync');
				record.requestId = created.id;
				await queue.whenDone(created);
				const outcome = queue.resultOf(created);
				return sendJson(res, outcome.status, outcome.body, idHeader(created.id));
			}
			case 'status':
				if (!job) return sendJson(res, 404, notFound);
				return sendJson(
					res,
					queue.statusCodeOf(job),
					queue.statusOf(job, withLogs),
					idHeader(job.id),
				);
			case 'stream':
				if (!job) return sendJson(res, 404, notFound);
				return serveStatusStream(res, job, queue, {
					withLogs,
					dropAfterEvents: fault?.dropAfterEvents,
				});
			case 'result': {
				const outcome = queue.resultOf(job);
				return sendJson(res, outcome.status, outcome.body, idHeader(job?.id));
			}
			case 'cancel': {
				const outcome = queue.cancel(job?.id ?? '');
				return sendJson(res, outcome.status, outcome.body, idHeader(job?.id));
			}
			case 'upload': {
				const outcome = storage.put(route.token ?? '', route.part, bytes);
				if (outcome.body === undefined) return send(res, outcome.status, Buffer.alloc(0), {});
				return sendJson(res, outcome.status, outcome.body);
			}
			case 'upload-complete': {
				const outcome = storage.complete(route.token ?? '', record.body);
				return sendJson(res, outcome.status, outcome.body);
			}
			case 'file': {
				const file = storage.get(url.pathname);
				if (!file) return sendJson(res, 404, { detail: 'Not Found' });
				return send(
					res,
					200,
					file.bytes,
					{
						'content-type': file.contentType,
						'cache-control': 'public, max-age=3600',
					},
					req.method === 'HEAD',
				);
			}
			case 'method-not-allowed':
				return sendJson(res, 405, { detail: 'Method Not Allowed' });
			default:
				return sendJson(res, 404, { detail: 'Not Found' });
		}
	}

	return {
		handler: (req, res) => {
			handle(req, res).catch((error) => {
				// An emulator bug must surface as a loud 500, not a hung test.
				const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
				if (!res.headersSent)
					sendJson(res, 500, {
						detail: `fal emulator error: ${message}`,
						error_type: 'internal_error',
					});
				else res.destroy();
			});
		},
		stop: () => {
			delays.forEach((timer) => clearTimeout(timer));
			delays.clear();
		},
	};
}

module.exports = { createHandler };
