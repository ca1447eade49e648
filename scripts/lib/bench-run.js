// What `npm run bench` runs, in its own process or in a child: the node filling items
// in n8n's engine, and the same work done by a plain @fal-ai/client script.
// Needs ./register-ts loaded first (the node and the harness are TypeScript).
'use strict';

const { createFalClient } = require('@fal-ai/client');
const { runNode, prepareBinary } = require('../../test/helpers/n8nHarness');
const { FluxProFill } = require('../../nodes/FluxProFill/FluxProFill.node.ts');

const KEY = 'bench-key-id:bench-key-secret';
const FILL_ENDPOINT = 'fal-ai/flux-pro/v1/fill';

/**
 * The node fills `items` (Fill operation, prompt from `$json.prompt` unless `extra` says
 * otherwise). The credential's Proxy URL is `proxyUrl`: the emulator's fal proxy, or ''
 * for fal's own host names. `binaryMode`: n8n's, in memory by default.
 * @param {{ proxyUrl: string, items: any[], concurrency: number, options?: object, extra?: object, binaryMode?: 'default' | 'filesystem' }} o
 * @returns {Promise<{ ms: number, items: any[], binary: (item: any) => Promise<Buffer> }>}
 */
async function fill(o) {
	const { proxyUrl, items, concurrency, options = {}, extra = {}, binaryMode } = o;
	const started = performance.now();
	const result = await runNode({
		nodeType: new FluxProFill(),
		typeName: 'n8n-nodes-fal-flux-fill.fluxProFill',
		parameters: {
			operation: 'fill',
			prompt: '={{ $json.prompt }}',
			...extra,
			options: { concurrency, ...options },
		},
		credentials: { falApi: { apiKey: KEY, proxyUrl } },
		inputItems: items,
		binaryMode,
	});
	if (result.error) throw result.error;
	return { ms: performance.now() - started, items: result.items, binary: result.binary };
}

/**
 * Input items with image and mask in the binary fields the node reads by default.
 * @param {Array<{ image: Uint8Array, mask: Uint8Array }>} pairs
 */
function binaryItems(pairs) {
	return pairs.map(({ image, mask }, index) => ({
		json: { prompt: `item ${index}` },
		binary: {
			data: prepareBinary(/** @type {Buffer} */ (image), 'image.png', 'image/png'),
			mask: prepareBinary(/** @type {Buffer} */ (mask), 'mask.png', 'image/png'),
		},
	}));
}

/**
 * A hand-written script doing the node's work for each pair, all at once: upload image
 * and mask, `subscribe` (the status stream, or the client's default polling), download
 * the image. One client for the whole run, as a script has.
 * @param {{ config: object, pairs: Array<{ image: Uint8Array, mask: Uint8Array }>, mode: 'streaming' | 'polling', fetch?: typeof fetch }} o
 * `config`: createFalClient's, apart from the key; `fetch` also downloads the images
 * @returns {Promise<number>} milliseconds
 */
async function plainClient({ config, pairs, mode, fetch: fetchImpl = fetch }) {
	const fal = createFalClient({ credentials: KEY, ...config });
	const started = performance.now();
	await Promise.all(
		pairs.map(async ({ image, mask }, index) => {
			const [imageUrl, maskUrl] = await Promise.all([
				fal.storage.upload(new Blob([image], { type: 'image/png' })),
				fal.storage.upload(new Blob([mask], { type: 'image/png' })),
			]);
			const { data } = await fal.subscribe(FILL_ENDPOINT, {
				input: { prompt: `item ${index}`, image_url: imageUrl, mask_url: maskUrl },
				...(mode === 'streaming' ? { mode: 'streaming' } : {}),
			});
			const bytes = await (await fetchImpl(data.images[0].url)).arrayBuffer();
			if (bytes.byteLength === 0) throw new Error('empty image');
		}),
	);
	return performance.now() - started;
}

module.exports = { KEY, fill, binaryItems, plainClient };
