// @ts-check
/**
 * The fal endpoints the emulator speaks, and the URL paths fal routes them under:
 * submit and sync on the endpoint id, status/result/cancel on `/<owner>/<app>/requests/<id>…`
 * (owner/app only, as the client and fal's `status_url` use them). Adding an endpoint means an
 * entry here, a model function in index.js and nothing in server.js.
 *
 * Endpoints of one app share its request URLs (fill and fill-finetuned both live under
 * `/fal-ai/flux-pro/requests/<id>`): the URL names the app, the job names the endpoint.
 */
'use strict';

const FILL = /** @type {const} */ ('fal-ai/flux-pro/v1/fill');
const SEGMENT = /** @type {const} */ ('fal-ai/evf-sam');
const FINETUNED = /** @type {const} */ ('fal-ai/flux-pro/v1/fill-finetuned');

/**
 * @typedef {object} EndpointSpec
 * @property {import('./types').EndpointId} id
 * @property {string} app `owner/app`: the part of the id fal's request URLs use
 * @property {string} startLog the runner's first log line
 * @property {string} workLog the log line half way through `latencyMs`
 */

/** @type {readonly EndpointSpec[]} */
const ENDPOINTS = Object.freeze([
	{
		id: FILL,
		app: 'fal-ai/flux-pro',
		startLog: 'Starting FLUX.1 [pro] Fill',
		workLog: 'Inpainting the masked region',
	},
	{
		id: SEGMENT,
		app: 'fal-ai/evf-sam',
		startLog: 'Starting EVF-SAM2',
		workLog: 'Segmenting the prompted region',
	},
	{
		id: FINETUNED,
		app: 'fal-ai/flux-pro',
		startLog: 'Starting FLUX.1 [pro] Fill Fine-tuned',
		workLog: 'Inpainting the masked region with the finetune',
	},
]);

/** @type {ReadonlySet<string>} */
const ENDPOINT_IDS = new Set(ENDPOINTS.map((endpoint) => endpoint.id));

/**
 * @param {import('./types').EndpointId} id
 * @returns {EndpointSpec}
 */
function endpointSpec(id) {
	const spec = ENDPOINTS.find((endpoint) => endpoint.id === id);
	if (!spec) throw new TypeError(`unknown endpoint ${id}`);
	return spec;
}

/**
 * Which endpoint a queue.fal.run / fal.run path addresses.
 * @param {string} path URL pathname without trailing slash
 * @returns {{ endpoint: import('./types').EndpointId, app?: string, requestId?: string, suffix?: string } | undefined}
 *   no requestId: the endpoint itself (submit / sync). With a requestId: `app` is the app the URL names and
 *   `endpoint` the app's first endpoint in the table, which stands until the job is found (the job's own
 *   endpoint is the request's); suffix: '', '/status', '/status/stream' or '/cancel'
 */
function matchEndpointPath(path) {
	const exact = ENDPOINTS.find((spec) => path === `/${spec.id}`);
	if (exact) return { endpoint: exact.id };
	for (const spec of ENDPOINTS) {
		const prefix = `/${spec.app}/requests/`;
		if (!path.startsWith(prefix)) continue;
		const match = /^([^/]+)(\/status|\/status\/stream|\/cancel)?$/.exec(path.slice(prefix.length));
		if (match)
			return {
				endpoint: spec.id,
				app: spec.app,
				requestId: decodeURIComponent(match[1]),
				suffix: match[2] ?? '',
			};
	}
	return undefined;
}

module.exports = {
	FILL,
	SEGMENT,
	FINETUNED,
	ENDPOINTS,
	ENDPOINT_IDS,
	endpointSpec,
	matchEndpointPath,
};
