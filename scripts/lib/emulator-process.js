// @ts-check
'use strict';

const { fork } = require('node:child_process');
const path = require('node:path');

/**
 * Starts the emulator in a child process.
 * @param {object} options startFalEmulator options
 */
async function startEmulatorProcess(options) {
	const child = fork(path.join(__dirname, 'emulator-child.js'), [JSON.stringify(options)], {
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
	});
	/** @type {(type: string) => Promise<any>} */
	const next = (type) =>
		new Promise((resolve, reject) => {
			const onMessage = (/** @type {any} */ message) => {
				if (message.type !== type) return;
				child.off('message', onMessage);
				child.off('exit', onExit);
				resolve(message);
			};
			const onExit = (/** @type {number} */ code) =>
				reject(new Error(`emulator process exited with code ${code}`));
			child.on('message', onMessage);
			child.once('exit', onExit);
		});
	const ready = await next('ready');
	/** @type {(message: object, reply?: string) => Promise<any>} */
	const request = (message, reply = 'ok') => {
		const answer = next(reply);
		child.send(message);
		return answer;
	};
	return {
		url: /** @type {string} */ (ready.url),
		proxyUrl: /** @type {string} */ (ready.proxyUrl),
		configure: (/** @type {object} */ patch) => request({ type: 'configure', patch }),
		reset: () => request({ type: 'reset' }),
		stats: () => request({ type: 'stats' }, 'stats'),
		close: async () => {
			if (child.exitCode !== null) return;
			const exited = new Promise((resolve) => child.once('exit', resolve));
			child.send({ type: 'close' });
			await exited;
		},
	};
}

module.exports = { startEmulatorProcess };
