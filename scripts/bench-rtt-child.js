#!/usr/bin/env node
// The client side of `npm run bench`'s round-trip section, in a process whose network
// environment is set at its start, as an n8n process's is: `https_proxy` (the lab's
// forward proxy, whose tunnels to fal's host names cross the delay relay) and
// NODE_EXTRA_CA_CERTS (the lab's root, read only when a process starts). It runs the
// node in n8n's engine with a credential without Proxy URL, or a plain @fal-ai/client
// script whose fetch is undici's with EnvHttpProxyAgent (what Node's fetch does with
// NODE_USE_ENV_PROXY=1). Started by scripts/lib/bench-rtt.js; talks over IPC:
//   {type: 'upload', count} → {type: 'urls', urls: [{imageUrl, maskUrl}]}
//   {type: 'run', scenario} → {type: 'done', ms}
//   {type: 'close'}
'use strict';

require('./lib/register-ts');
const { createFalClient } = require('@fal-ai/client');
const { EnvHttpProxyAgent, fetch: undiciFetch } = require('undici');
const { makeMask, makeTestImage } = require('../test/emulator');
const { cleanupN8nHarness } = require('../test/helpers/n8nHarness');
const { KEY, fill, binaryItems, plainClient } = require('./lib/bench-run');

const SIZE = 512;

/**
 * @typedef {object} Scenario
 * @property {'node' | 'client'} who
 * @property {number} items
 * @property {number} concurrency the node's Concurrency option
 * @property {'binary' | 'url'} source binary image and mask in and images out, or URLs in and out
 * @property {'streaming' | 'polling'} [mode] the plain client's subscribe mode
 * @property {Array<{ imageUrl: string, maskUrl: string }>} [urls] for source 'url'
 */

/** A fetch for the plain client: a fresh connection pool, closed after the run. */
function envProxyFetch() {
	const dispatcher = new EnvHttpProxyAgent();
	/** @type {typeof fetch} */
	const fetchImpl = (input, init) =>
		/** @type {any} */ (undiciFetch)(input, { ...init, dispatcher });
	return { fetch: fetchImpl, close: () => dispatcher.close() };
}

/** Distinct images and masks, one pair per item. @param {number} count */
async function makePairs(count) {
	return await Promise.all(
		Array.from({ length: count }, async (_, index) => ({
			image: await makeTestImage({ width: SIZE, height: SIZE, format: 'png', seed: 1 + index }),
			mask: await makeMask({
				width: SIZE,
				height: SIZE,
				rect: { left: 64 + 16 * index, top: 128, width: 256, height: 256 },
			}),
		})),
	);
}

/**
 * @param {Scenario} scenario
 * @param {Array<{ image: Buffer, mask: Buffer }>} pairs
 */
async function run(scenario, pairs) {
	const mine = pairs.slice(0, scenario.items);
	if (scenario.who === 'client') {
		const net = envProxyFetch();
		try {
			return await plainClient({
				config: { fetch: net.fetch },
				fetch: net.fetch,
				pairs: mine,
				mode: scenario.mode ?? 'polling',
			});
		} finally {
			await net.close();
		}
	}
	if (scenario.source === 'url') {
		const urls = scenario.urls ?? [];
		const { ms } = await fill({
			proxyUrl: '',
			items: urls.slice(0, scenario.items).map((url, index) => ({
				json: { prompt: `item ${index}`, ...url },
			})),
			concurrency: scenario.concurrency,
			options: { outputMode: 'url' },
			extra: {
				imageSource: 'url',
				imageUrl: '={{ $json.imageUrl }}',
				maskSource: 'url',
				maskUrl: '={{ $json.maskUrl }}',
			},
		});
		return ms;
	}
	const { ms } = await fill({
		proxyUrl: '',
		items: binaryItems(mine),
		concurrency: scenario.concurrency,
	});
	return ms;
}

/** The URL items' inputs, put in fal's storage as a user's earlier step would. */
/** @param {Array<{ image: Buffer, mask: Buffer }>} pairs */
async function upload(pairs) {
	const net = envProxyFetch();
	try {
		const fal = createFalClient({ credentials: KEY, fetch: net.fetch });
		const blob = (/** @type {Buffer} */ bytes) => new Blob([bytes], { type: 'image/png' });
		return await Promise.all(
			pairs.map(async ({ image, mask }) => ({
				imageUrl: await fal.storage.upload(blob(image)),
				maskUrl: await fal.storage.upload(blob(mask)),
			})),
		);
	} finally {
		await net.close();
	}
}

async function main() {
	const pairs = await makePairs(Number(process.argv[2] ?? 8));
	const send = (/** @type {object} */ message) => process.send?.(message);
	process.on('message', async (/** @type {any} */ message) => {
		try {
			if (message.type === 'upload')
				send({ type: 'urls', urls: await upload(pairs.slice(0, message.count)) });
			if (message.type === 'run') send({ type: 'done', ms: await run(message.scenario, pairs) });
			if (message.type === 'close') {
				cleanupN8nHarness();
				process.exit(0);
			}
		} catch (error) {
			send({ type: 'failed', message: String(/** @type {Error} */ (error)?.stack ?? error) });
		}
	});
	send({ type: 'ready' });
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
