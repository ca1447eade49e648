// @ts-check
// Runs the fal emulator in its own process, so that what a benchmark measures in the
// node's process (time, memory) is the node's and not the emulator's image work.
// Talks over the IPC channel: {type: 'configure' | 'reset' | 'stats' | 'close'}.
'use strict';

const { startFalEmulator } = require('../../test/emulator');

async function main() {
	const options = JSON.parse(process.argv[2] ?? '{}');
	const emu = await startFalEmulator(options);
	const send = (/** @type {object} */ message) => process.send?.(message);
	process.on('message', async (/** @type {any} */ message) => {
		if (message.type === 'configure') emu.configure(message.patch);
		if (message.type === 'reset') emu.reset();
		if (message.type === 'stats') {
			send({
				type: 'stats',
				uploads: emu.uploads.map((u) => ({ bytes: u.bytes, sha256: u.sha256 })),
				jobs: emu.jobs.size,
				// What the fill jobs got as their mask: one prepared mask for many items is one value.
				masks: [...new Set([...emu.jobs.values()].map((job) => String(job.input?.mask_url)))].map(
					(url) => ({ inline: url.startsWith('data:'), bytes: url.length }),
				),
				segmentations: emu.jobsFor('fal-ai/evf-sam').size,
				requests: emu.requests.map((r) => ({ kind: r.kind, endpoint: r.endpoint, at: r.at })),
			});
			return;
		}
		if (message.type === 'close') {
			await emu.close();
			process.exit(0);
		}
		send({ type: 'ok' });
	});
	send({ type: 'ready', url: emu.url, proxyUrl: emu.proxyUrl });
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
