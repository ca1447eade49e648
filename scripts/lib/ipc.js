// @ts-check
'use strict';

/**
 * Request and answer over a child process's IPC channel: messages are `{ type, ... }`;
 * a `{ type: 'failed', message }` from the child, or its exit, rejects what waits.
 * @param {import('node:child_process').ChildProcess} child
 */
function ipcPeer(child) {
	/** @type {(type: string) => Promise<any>} */
	const next = (type) =>
		new Promise((resolve, reject) => {
			const done = () => {
				child.off('message', onMessage);
				child.off('exit', onExit);
			};
			const onMessage = (/** @type {any} */ message) => {
				if (message.type === 'failed') {
					done();
					reject(new Error(`child process failed: ${message.message}`));
				}
				if (message.type !== type) return;
				done();
				resolve(message);
			};
			const onExit = (/** @type {number} */ code) => {
				done();
				reject(new Error(`child process exited with code ${code}`));
			};
			child.on('message', onMessage);
			child.once('exit', onExit);
		});
	/** @type {(message: object, reply?: string) => Promise<any>} */
	const request = (message, reply = 'ok') => {
		const answer = next(reply);
		child.send(message);
		return answer;
	};
	/** Asks the child to close and waits for it to exit. */
	const close = async () => {
		if (child.exitCode !== null) return;
		const exited = new Promise((resolve) => child.once('exit', resolve));
		child.send({ type: 'close' });
		await exited;
	};
	return { next, request, close };
}

module.exports = { ipcPeer };
