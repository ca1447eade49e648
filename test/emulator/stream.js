// @ts-check
/**
 * `GET .../requests/{id}/status/stream`: Server-Sent Events, one `data: <status JSON>` per
 * change, the current status at once on connect, closed after COMPLETED.
 */
'use strict';

/**
 * @param {import('node:http').ServerResponse} res
 * @param {import('./types').Job} job
 * @param {import('./queue').JobQueue} queue
 * @param {{ withLogs: boolean, dropAfterEvents?: number }} options
 *   dropAfterEvents: destroy the socket after that many events (fault injection)
 */
function serveStatusStream(res, job, queue, options) {
	res.writeHead(200, {
		'content-type': 'text/event-stream; charset=utf-8',
		'cache-control': 'no-cache',
		connection: 'keep-alive',
		'x-fal-request-id': job.id,
	});
	res.flushHeaders();

	let sentLogs = 0;
	let events = 0;
	let finished = false;
	/** @type {() => void} */
	let unsubscribe = () => undefined;

	const stop = () => {
		finished = true;
		unsubscribe();
	};
	const dropIfDue = () => {
		if (options.dropAfterEvents !== undefined && events >= options.dropAfterEvents) {
			stop();
			res.destroy();
			return true;
		}
		return false;
	};
	const push = () => {
		if (finished || res.destroyed) return stop();
		// The client appends each event's logs to what it has, so every event carries only new lines.
		const status = queue.statusOf(job, options.withLogs, sentLogs);
		sentLogs = job.logs.length;
		res.write(`data: ${JSON.stringify(status)}\n\n`);
		events++;
		if (dropIfDue()) return;
		if (status.status === 'COMPLETED') {
			stop();
			res.end();
		}
	};

	res.on('close', stop);
	if (dropIfDue()) return;
	unsubscribe = queue.subscribe(job, push);
	push();
}

module.exports = { serveStatusStream };
