// @ts-check
'use strict';

const { fork } = require('node:child_process');
const path = require('node:path');
const { ipcPeer } = require('./ipc');

/**
 * Starts the emulator in a child process.
 * @param {object} options startFalEmulator options
 */
async function startEmulatorProcess(options) {
	const child = fork(path.join(__dirname, 'emulator-child.js'), [JSON.stringify(options)], {
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
	});
	const { next, request, close } = ipcPeer(child);
	const ready = await next('ready');
	return {
		url: /** @type {string} */ (ready.url),
		proxyUrl: /** @type {string} */ (ready.proxyUrl),
		configure: (/** @type {object} */ patch) => request({ type: 'configure', patch }),
		reset: () => request({ type: 'reset' }),
		stats: () => request({ type: 'stats' }, 'stats'),
		close,
	};
}

module.exports = { startEmulatorProcess };
