#!/usr/bin/env node
// One benchmark measurement in a fresh process: the node fills N large items in n8n's
// engine (filesystem binary mode), and we report the process's peak RSS growth.
// Usage (from scripts/bench.js): node scripts/bench-memory.js '<json options>'
'use strict';

require('./lib/register-ts');
const fs = require('node:fs');

const { runNode, prepareBinary } = require('../test/helpers/n8nHarness');
const { FluxProFill } = require('../nodes/FluxProFill/FluxProFill.node.ts');

async function main() {
	const { proxyUrl, apiKey, imagePath, maskPath, items, concurrency } = JSON.parse(
		process.argv[2] ?? '{}',
	);
	const image = fs.readFileSync(imagePath);
	const mask = fs.readFileSync(maskPath);
	const inputItems = Array.from({ length: items }, (_, index) => ({
		json: { index },
		binary: {
			data: prepareBinary(image, 'image.png', 'image/png'),
			mask: prepareBinary(mask, 'mask.png', 'image/png'),
		},
	}));
	global.gc?.();
	const before = process.memoryUsage().rss;
	const started = Date.now();
	const result = await runNode({
		nodeType: new FluxProFill(),
		typeName: 'n8n-nodes-fal-flux-fill.fluxProFill',
		parameters: {
			operation: 'fill',
			prompt: 'a large picture',
			options: { outputFormat: 'png', concurrency },
		},
		credentials: { falApi: { apiKey, proxyUrl } },
		inputItems,
		binaryMode: 'filesystem',
	});
	const wallMs = Date.now() - started;
	if (result.error) throw result.error;
	const peakRss = process.resourceUsage().maxRSS * 1024;
	const outputBytes = (await result.binary(result.items[0])).length;
	process.stdout.write(
		JSON.stringify({
			before,
			peakRss,
			growth: peakRss - before,
			imageBytes: image.length,
			maskBytes: mask.length,
			outputBytes,
			items: result.items.length,
			wallMs,
		}),
	);
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
