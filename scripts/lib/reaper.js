// @ts-check
'use strict';

const { spawn } = require('node:child_process');
const path = require('node:path');

let started = false;

/**
 * Makes sure that whatever this process starts does not outlive it: a detached watcher
 * (reaper-child.js) ends all of its descendants, and the process groups they lead,
 * within a few seconds of this process ending for any reason — Ctrl-C, SIGTERM from
 * `timeout` or CI, a crash, even SIGKILL, where no handler of ours could run.
 * Call once, early; later calls do nothing.
 */
function startReaper() {
	if (started || process.platform !== 'linux') return;
	started = true;
	const child = spawn(
		process.execPath,
		[path.join(__dirname, 'reaper-child.js'), String(process.pid)],
		{
			detached: true,
			stdio: 'ignore',
		},
	);
	child.unref();
}

/**
 * Exits on SIGINT/SIGTERM/SIGHUP with the conventional status (the reaper then ends the
 * children). Without this a script blocked in a promise would still exit by default,
 * but an installed handler elsewhere (jest's, n8n-core's) could keep it alive.
 */
function exitOnSignals() {
	for (const [signal, code] of /** @type {const} */ ([
		['SIGINT', 130],
		['SIGTERM', 143],
		['SIGHUP', 129],
	])) {
		process.once(signal, () => {
			process.stderr.write(`\nStopped (${signal}); ending the processes this run started…\n`);
			process.exit(code);
		});
	}
}

module.exports = { startReaper, exitOnSignals };
