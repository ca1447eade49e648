// @ts-check
/**
 * fal emulator: a real HTTP server on loopback that speaks fal's queue, storage and CDN
 * protocol for fal-ai/flux-pro/v1/fill, fal-ai/flux-pro/v1/fill-finetuned and fal-ai/evf-sam,
 * so that tests never reach fal.ai.
 *
 *   const { startFalEmulator } = require('./test/emulator');
 *   const emu = await startFalEmulator({ validKeys: ['id:secret'] });
 *   createFalClient({ credentials: 'id:secret', proxyUrl: { url: emu.proxyUrl, when: 'always' } });
 */
'use strict';

const http = require('node:http');
const { Storage } = require('./storage');
const { JobQueue } = require('./queue');
const { FaultBook } = require('./faults');
const { createHandler } = require('./server');
const { runFill } = require('./model');
const { runSegment } = require('./segment');
const { runFillFinetuned, finetuneColour, DEFAULT_FINETUNE_IDS } = require('./finetune');
const { FILL, SEGMENT, FINETUNED } = require('./endpoints');
const { webhookPayload, postWebhook } = require('./webhook');
const { makeTestImage, makeMask, makeColourImage, readPixels } = require('./images');

const DEFAULT_KEY = 'test-key-id:test-key-secret';

/**
 * @typedef {object} EmulatorOptions
 * @property {string[]} [validKeys] keys accepted in `Authorization: Key <key>` (default: ['test-key-id:test-key-secret'])
 * @property {string[]} [lockedKeys] keys answered 403 "User is locked"
 * @property {number} [latencyMs] processing time of each job once it starts (default 0)
 * @property {number} [concurrency] jobs IN_PROGRESS at once; the rest wait IN_QUEUE (default Infinity)
 * @property {number} [fetchTimeoutMs] timeout for loading image_url / mask_url from other hosts (default 5000)
 * @property {number} [maxImagePixels] bigger inputs answer 422 image_too_large (default 25 000 000)
 * @property {number} [webhookTimeoutMs] (default 5000)
 * @property {string[]} [finetunes] the FLUX.1 [pro] finetune ids fill-finetuned knows; others answer 422
 *   on finetune_id (default: DEFAULT_FINETUNE_IDS)
 * @property {string} [publicUrl] origin of the upload and file URLs handed out, e.g. 'https://v3.fal.media'
 *   when a test reaches the emulator under fal's host names (default: the emulator's own `url`)
 * @property {string} [host] (default '127.0.0.1')
 * @property {number} [port] (default 0: a free port)
 */

/**
 * @typedef {object} FalEmulator
 * @property {string} url 'http://127.0.0.1:PORT'
 * @property {string} publicUrl origin of the upload and file URLs it hands out (`url` unless set)
 * @property {string} proxyUrl `${url}/proxy`: the client's `proxyUrl`
 * @property {import('./types').RecordedRequest[]} requests in arrival order
 * @property {Map<string, import('./types').Job>} jobs request_id → job, fill jobs only (fal-ai/flux-pro/v1/fill)
 * @property {Map<string, import('./types').Job>} allJobs request_id → job, every endpoint's jobs
 * @property {(endpoint: import('./types').EndpointId) => Map<string, import('./types').Job>} jobsFor
 *   request_id → job of one endpoint (a live map; `jobsFor('fal-ai/flux-pro/v1/fill') === jobs`)
 * @property {(endpoint: import('./types').EndpointId) => import('./types').RecordedRequest[]} requestsFor
 *   the recorded queue/sync calls for one endpoint (a new array each call; `requests` has them all)
 * @property {import('./types').Upload[]} uploads
 * @property {import('./types').WebhookDelivery[]} webhooks webhook POSTs made (status or error filled in when done)
 * @property {Set<string>} finetunes the finetune ids fill-finetuned knows (live: add or delete while it runs;
 *   `reset()` leaves it alone)
 * @property {Readonly<import('./types').EmulatorConfig>} config
 * @property {http.Server} server
 * @property {(patch: Partial<import('./types').EmulatorConfig>) => void} configure
 * @property {(rule: import('./types').FaultRule) => import('./types').FaultRule} fail
 * @property {() => void} clearFaults
 * @property {() => void} reset clears requests, jobs, uploads and stored files, webhooks, faults
 * @property {() => Promise<void>} close
 */

/**
 * Starts the emulator and resolves once it listens.
 * @param {EmulatorOptions} [options]
 * @returns {Promise<FalEmulator>}
 */
async function startFalEmulator(options = {}) {
	/** @type {import('./types').EmulatorConfig} */
	const config = {
		latencyMs: options.latencyMs ?? 0,
		concurrency: options.concurrency ?? Infinity,
		fetchTimeoutMs: options.fetchTimeoutMs ?? 5000,
		maxImagePixels: options.maxImagePixels ?? 25_000_000,
	};
	const keys = {
		validKeys: new Set(options.validKeys ?? [DEFAULT_KEY]),
		lockedKeys: new Set(options.lockedKeys ?? []),
	};
	const host = options.host ?? '127.0.0.1';
	const webhookTimeoutMs = options.webhookTimeoutMs ?? 5000;
	let baseUrl = '';
	const lifetime = new AbortController(); // aborts outgoing fetches on close

	/** @type {import('./types').RecordedRequest[]} */
	const requests = [];
	/** @type {import('./types').WebhookDelivery[]} */
	const webhooks = [];
	const storage = new Storage(() => baseUrl);
	const faults = new FaultBook();
	const finetunes = new Set(options.finetunes ?? DEFAULT_FINETUNE_IDS);
	const models = { [FILL]: runFill, [SEGMENT]: runSegment, [FINETUNED]: runFillFinetuned };
	const queue = new JobQueue({
		config,
		runModel: (job, log) =>
			models[job.endpoint](job.input, job.inputError, {
				storage,
				baseUrl,
				config,
				signal: lifetime.signal,
				startedAt: job.startedAt ?? Date.now(),
				log,
				finetunes,
			}),
		onEnded: (job, outcome) => {
			if (!job.webhookUrl) return;
			const payload = webhookPayload(job, outcome);
			/** @type {import('./types').WebhookDelivery} */
			const delivery = {
				url: job.webhookUrl,
				requestId: job.id,
				endpoint: job.endpoint,
				payload,
				at: Date.now(),
			};
			webhooks.push(delivery);
			void postWebhook(job.webhookUrl, payload, {
				signal: lifetime.signal,
				timeoutMs: webhookTimeoutMs,
			}).then((result) => Object.assign(delivery, result));
		},
	});
	const { handler, stop } = createHandler({
		config,
		keys,
		requests,
		queue,
		storage,
		faults,
		baseUrl: () => baseUrl,
	});
	const server = http.createServer(handler);

	await new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port ?? 0, host, () => {
			server.off('error', reject);
			resolve(undefined);
		});
	});
	const address = /** @type {import('node:net').AddressInfo} */ (server.address());
	const listenUrl = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
	baseUrl = options.publicUrl?.replace(/\/+$/, '') ?? listenUrl;

	/** @type {Promise<void> | undefined} */
	let closing;

	return {
		url: listenUrl,
		publicUrl: baseUrl,
		proxyUrl: `${listenUrl}/proxy`,
		requests,
		jobs: queue.jobsFor(FILL),
		allJobs: queue.jobs,
		jobsFor: (endpoint) => queue.jobsFor(endpoint),
		requestsFor: (endpoint) => requests.filter((record) => record.endpoint === endpoint),
		uploads: storage.uploads,
		webhooks,
		finetunes,
		config,
		server,
		configure(patch) {
			for (const key of /** @type {(keyof import('./types').EmulatorConfig)[]} */ (
				Object.keys(config)
			)) {
				if (patch[key] !== undefined) config[key] = /** @type {number} */ (patch[key]);
			}
			queue.pump(); // a higher concurrency starts waiting jobs now
		},
		fail: (rule) => faults.add(rule),
		clearFaults: () => faults.clear(),
		reset() {
			requests.length = 0;
			webhooks.length = 0;
			faults.clear();
			queue.reset();
			storage.reset();
		},
		close() {
			closing ??= new Promise((resolve) => {
				lifetime.abort();
				queue.close();
				stop();
				server.close(() => resolve());
				server.closeAllConnections(); // SSE streams and keep-alive sockets too
			});
			return closing;
		},
	};
}

module.exports = {
	startFalEmulator,
	makeTestImage,
	makeMask,
	makeColourImage,
	readPixels,
	DEFAULT_KEY,
	FILL_ENDPOINT: FILL,
	SEGMENT_ENDPOINT: SEGMENT,
	FINETUNED_ENDPOINT: FINETUNED,
	DEFAULT_FINETUNE_IDS,
	finetuneColour,
};
