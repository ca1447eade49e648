// @ts-check
/** Webhook delivery, best effort: one POST, failures are recorded, never thrown. */
'use strict';

/**
 * The body fal POSTs to `fal_webhook` when a request ends.
 * @param {import('./types').Job} job
 * @param {import('./types').Outcome} outcome what the result call answers
 */
function webhookPayload(job, outcome) {
	const base = { request_id: job.id, gateway_request_id: job.id };
	if (outcome.status === 200) return { ...base, status: 'OK', payload: outcome.body };
	const error = job.cancelled ? 'Request was cancelled' : `Invalid status code: ${outcome.status}`;
	return { ...base, status: 'ERROR', error, payload: outcome.body };
}

/**
 * @param {string} url
 * @param {unknown} payload
 * @param {{ signal: AbortSignal, timeoutMs: number }} options
 * @returns {Promise<{ status?: number, error?: string }>}
 */
async function postWebhook(url, payload, options) {
	try {
		const response = await fetch(url, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'user-agent': 'fal-webhook-emulator' },
			body: JSON.stringify(payload),
			signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]),
		});
		await response.body?.cancel().catch(() => undefined);
		return response.ok
			? { status: response.status }
			: { status: response.status, error: `HTTP ${response.status}` };
	} catch (error) {
		const cause =
			error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
		return { error: `${error instanceof Error ? error.message : String(error)}${cause}` };
	}
}

module.exports = { webhookPayload, postWebhook };
