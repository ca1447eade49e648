// @ts-check
/**
 * fal's request queue: jobs (of every endpoint: the concurrency is the account's, as on fal)
 * wait IN_QUEUE while the account's concurrency is used up,
 * run IN_PROGRESS for `latencyMs` (doing the work meanwhile), then become COMPLETED. Status changes
 * are pushed to subscribers (SSE streams) synchronously, the moment they happen.
 */
'use strict';

const crypto = require('node:crypto');
const { FILL, ENDPOINTS, endpointSpec } = require('./endpoints');

/**
 * @callback RunModel
 * @param {import('./types').Job} job
 * @param {(message: string) => void} log
 * @returns {Promise<import('./types').Outcome>}
 */

/**
 * @callback OnEnded called once per job when it completes or is cancelled (webhooks)
 * @param {import('./types').Job} job
 * @param {import('./types').Outcome} outcome what its result call answers
 * @returns {void}
 */

/**
 * @typedef {object} Runtime per-job machinery kept out of the public job object
 * @property {Set<NodeJS.Timeout>} timers
 * @property {Set<(job: import('./types').Job) => void>} listeners
 * @property {(() => void)[]} waiters
 */

/**
 * @param {string} id
 * @param {import('./types').EndpointId} [endpoint]
 */
function urlsFor(id, endpoint = FILL) {
	const app = `https://queue.fal.run/${endpointSpec(endpoint).app}`;
	return {
		response_url: `${app}/requests/${id}`,
		status_url: `${app}/requests/${id}/status`,
		cancel_url: `${app}/requests/${id}/cancel`,
	};
}

/**
 * @param {string} message
 * @param {import('./types').LogLine['level']} [level]
 * @returns {import('./types').LogLine}
 */
function logLine(message, level = 'INFO') {
	return { message, level, source: 'USER', timestamp: new Date().toISOString() };
}

class JobQueue {
	/**
	 * @param {{ config: import('./types').EmulatorConfig, runModel: RunModel, onEnded: OnEnded }} deps
	 */
	constructor(deps) {
		this.config = deps.config;
		this.runModel = deps.runModel;
		this.onEnded = deps.onEnded;
		/** @type {Map<string, import('./types').Job>} every job, of every endpoint */
		this.jobs = new Map();
		/** @type {Map<import('./types').EndpointId, Map<string, import('./types').Job>>} the same jobs by endpoint (live maps, never replaced) */
		this.byEndpoint = new Map(ENDPOINTS.map((spec) => [spec.id, new Map()]));
		/** @type {import('./types').Job[]} FIFO of jobs waiting IN_QUEUE */
		this.waiting = [];
		/** @type {Set<string>} ids of jobs IN_PROGRESS */
		this.running = new Set();
		/** @type {Map<string, Runtime>} */
		this.runtime = new Map();
		this.closed = false;
	}

	/**
	 * Accepts a job. Nothing is validated here: fal reports input errors from the result call.
	 * @param {{ input: unknown, inputError?: string, mode: 'queue'|'sync', webhookUrl?: string, endpoint?: import('./types').EndpointId }} request
	 *   endpoint: default fal-ai/flux-pro/v1/fill
	 * @returns {{ job: import('./types').Job, answer: Record<string, unknown> }}
	 */
	submit(request) {
		const id = crypto.randomUUID();
		const endpoint = request.endpoint ?? FILL;
		/** @type {import('./types').Job} */
		const job = {
			id,
			endpoint,
			mode: request.mode,
			input: request.input,
			status: 'IN_QUEUE',
			cancelled: false,
			submittedAt: Date.now(),
			webhookUrl: request.webhookUrl,
			logs: [],
		};
		if (request.inputError !== undefined) job.inputError = request.inputError;
		this.jobs.set(id, job);
		this.jobsFor(endpoint).set(id, job);
		this.runtime.set(id, { timers: new Set(), listeners: new Set(), waiters: [] });
		this.waiting.push(job);
		const answer = {
			status: 'IN_QUEUE',
			request_id: id,
			...urlsFor(id, endpoint),
			queue_position: this.waiting.length - 1,
		};
		this.pump();
		return { job, answer };
	}

	/**
	 * The live map of one endpoint's jobs (request_id → job).
	 * @param {import('./types').EndpointId} endpoint
	 * @returns {Map<string, import('./types').Job>}
	 */
	jobsFor(endpoint) {
		const jobs = this.byEndpoint.get(endpoint);
		if (!jobs) throw new TypeError(`unknown endpoint ${endpoint}`);
		return jobs;
	}

	/**
	 * Looks a job up by id; with `endpoint`, only among that endpoint's jobs.
	 * @param {string} id
	 * @param {import('./types').EndpointId} [endpoint]
	 * @returns {import('./types').Job | undefined}
	 */
	find(id, endpoint) {
		const job = this.jobs.get(id);
		return job && (endpoint === undefined || job.endpoint === endpoint) ? job : undefined;
	}

	/** Starts waiting jobs while the concurrency allows. */
	pump() {
		let started = false;
		while (!this.closed && this.waiting.length > 0 && this.running.size < this.config.concurrency) {
			const job = /** @type {import('./types').Job} */ (this.waiting.shift());
			this.start(job);
			started = true;
		}
		if (started) this.waiting.forEach((job) => this.emit(job)); // their queue_position moved
	}

	/** @param {import('./types').Job} job */
	start(job) {
		job.status = 'IN_PROGRESS';
		job.startedAt = Date.now();
		this.running.add(job.id);
		const spec = endpointSpec(job.endpoint);
		job.logs.push(logLine(spec.startLog)); // one event for both changes
		this.emit(job);
		const latency = Math.max(0, this.config.latencyMs);
		if (latency > 0) this.later(job, latency / 2, () => this.log(job, spec.workLog));
		// Like a real runner, the work happens inside the latency: a job takes `latencyMs`
		// (or its work's time, if longer), not the two added up.
		const elapsed = new Promise((resolve) => this.later(job, latency, () => resolve(undefined)));
		void Promise.all([this.work(job), elapsed]).then(([outcome]) => {
			// A cancel or a reset while the work ran wins: the job never completes.
			if (job.cancelled || this.closed || this.jobs.get(job.id) !== job) return;
			this.finish(job, outcome);
		});
	}

	/**
	 * @param {import('./types').Job} job
	 * @returns {Promise<import('./types').Outcome>}
	 */
	async work(job) {
		try {
			return await this.runModel(job, (message) => this.log(job, message));
		} catch (error) {
			const message = error instanceof Error ? error.message : String(error);
			return {
				status: 500,
				body: { detail: `Internal error: ${message}`, error_type: 'internal_error' },
			};
		}
	}

	/**
	 * @param {import('./types').Job} job
	 * @param {import('./types').Outcome} outcome
	 */
	finish(job, outcome) {
		if (outcome.status === 200) this.log(job, 'Request completed');
		else this.log(job, `Request failed with status ${outcome.status}`, 'ERROR');
		job.completedAt = Date.now();
		job.metrics = { inference_time: (job.completedAt - (job.startedAt ?? job.completedAt)) / 1000 };
		if (outcome.status === 200) job.result = outcome.body;
		else job.error = outcome;
		job.status = 'COMPLETED';
		this.running.delete(job.id);
		this.emit(job);
		this.settle(job);
		this.onEnded(job, outcome);
		this.pump();
	}

	/**
	 * `PUT .../requests/{id}/cancel`.
	 * @param {string} id
	 * @param {{ silent?: boolean }} [options] silent: no webhook (used by reset)
	 * @returns {import('./types').Outcome}
	 */
	cancel(id, options = {}) {
		const job = this.jobs.get(id);
		if (!job) return { status: 404, body: { detail: 'Request not found' } };
		if (job.status === 'COMPLETED') return { status: 400, body: { status: 'ALREADY_COMPLETED' } };
		if (job.cancelled) return { status: 202, body: { status: 'CANCELLATION_REQUESTED' } };
		job.cancelled = true;
		job.cancelledAt = Date.now();
		const queueIndex = this.waiting.indexOf(job);
		if (queueIndex >= 0) this.waiting.splice(queueIndex, 1);
		this.running.delete(job.id);
		job.status = 'CANCELLED';
		this.clearTimers(job);
		this.emit(job);
		this.settle(job);
		if (queueIndex >= 0) this.waiting.slice(queueIndex).forEach((other) => this.emit(other));
		if (!options.silent) this.onEnded(job, this.resultOf(job));
		this.pump();
		return { status: 202, body: { status: 'CANCELLATION_REQUESTED' } };
	}

	/**
	 * What `GET .../requests/{id}` answers.
	 * @param {import('./types').Job | undefined} job
	 * @returns {import('./types').Outcome}
	 */
	resultOf(job) {
		if (!job) return { status: 404, body: { detail: 'Request not found' } };
		if (job.cancelled) return { status: 400, body: { detail: 'Request was cancelled' } };
		if (job.status !== 'COMPLETED')
			return { status: 400, body: { detail: 'Request is still in progress' } };
		if (job.error) return job.error;
		return { status: 200, body: job.result };
	}

	/**
	 * The status JSON. A cancelled job reports COMPLETED so that pollers stop and read the
	 * result, which says it was cancelled.
	 * @param {import('./types').Job} job
	 * @param {boolean} withLogs logs=1
	 * @param {number} [fromLog] first log line to include (SSE sends only new lines)
	 */
	statusOf(job, withLogs, fromLog = 0) {
		const base = { request_id: job.id, ...urlsFor(job.id, job.endpoint) };
		if (job.status === 'IN_QUEUE') {
			return {
				status: 'IN_QUEUE',
				...base,
				queue_position: Math.max(0, this.waiting.indexOf(job)),
			};
		}
		const logs = withLogs ? job.logs.slice(fromLog) : null;
		if (job.status === 'IN_PROGRESS') return { status: 'IN_PROGRESS', ...base, logs };
		return { status: 'COMPLETED', ...base, logs, metrics: job.metrics ?? {} };
	}

	/** @param {import('./types').Job} job 200 once done, 202 before */
	statusCodeOf(job) {
		return job.status === 'COMPLETED' || job.status === 'CANCELLED' ? 200 : 202;
	}

	/** @param {import('./types').Job} job */
	isDone(job) {
		return job.status === 'COMPLETED' || job.status === 'CANCELLED';
	}

	/**
	 * Calls `listener` on every change of the job. Returns the unsubscribe function.
	 * @param {import('./types').Job} job
	 * @param {(job: import('./types').Job) => void} listener
	 */
	subscribe(job, listener) {
		const runtime = this.runtime.get(job.id);
		runtime?.listeners.add(listener);
		return () => void runtime?.listeners.delete(listener);
	}

	/**
	 * Resolves when the job completes or is cancelled (or the emulator closes).
	 * @param {import('./types').Job} job
	 * @returns {Promise<void>}
	 */
	whenDone(job) {
		const runtime = this.runtime.get(job.id);
		if (!runtime || this.isDone(job) || this.closed) return Promise.resolve();
		return new Promise((resolve) => runtime.waiters.push(resolve));
	}

	/**
	 * @param {import('./types').Job} job
	 * @param {string} message
	 * @param {import('./types').LogLine['level']} [level]
	 */
	log(job, message, level = 'INFO') {
		if (this.isDone(job)) return;
		job.logs.push(logLine(message, level));
		this.emit(job);
	}

	/** @param {import('./types').Job} job */
	emit(job) {
		const runtime = this.runtime.get(job.id);
		if (!runtime) return;
		for (const listener of [...runtime.listeners]) {
			try {
				listener(job);
			} catch {
				// a broken subscriber must not stop the job
			}
		}
	}

	/** @param {import('./types').Job} job */
	settle(job) {
		const runtime = this.runtime.get(job.id);
		if (!runtime) return;
		runtime.waiters.splice(0).forEach((resolve) => resolve());
	}

	/**
	 * @param {import('./types').Job} job
	 * @param {number} ms
	 * @param {() => void} fn
	 */
	later(job, ms, fn) {
		const runtime = this.runtime.get(job.id);
		if (!runtime) return;
		const timer = setTimeout(() => {
			runtime.timers.delete(timer);
			fn();
		}, ms);
		runtime.timers.add(timer);
	}

	/** @param {import('./types').Job} job */
	clearTimers(job) {
		const runtime = this.runtime.get(job.id);
		if (!runtime) return;
		runtime.timers.forEach((timer) => clearTimeout(timer));
		runtime.timers.clear();
	}

	/** Cancels unfinished jobs without webhooks and forgets all jobs. */
	reset() {
		this.waiting.length = 0; // so that cancelling the running ones starts nothing new
		for (const job of [...this.jobs.values()]) {
			if (!this.isDone(job)) this.cancel(job.id, { silent: true });
		}
		this.jobs.clear();
		this.byEndpoint.forEach((jobs) => jobs.clear());
		this.runtime.clear();
		this.waiting.length = 0;
		this.running.clear();
	}

	/** Stops every timer and releases every waiter. */
	close() {
		this.closed = true;
		for (const [id, runtime] of this.runtime) {
			runtime.timers.forEach((timer) => clearTimeout(timer));
			runtime.timers.clear();
			runtime.listeners.clear();
			const job = this.jobs.get(id);
			if (job) this.settle(job);
		}
	}
}

module.exports = { JobQueue };
