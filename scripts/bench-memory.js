#!/usr/bin/env node
// One benchmark measurement in a fresh process: the node fills N large items in n8n's
// engine (filesystem binary mode), and we report the process's peak RSS growth.
// Usage (from scripts/bench.js): node scripts/bench-memory.js '<json options>'
'use strict';

require('./lib/register-ts');
const fs = require('node:fs');

const { prepareBinary } = require('../test/helpers/n8nHarness');
const { fill } = require('./lib/bench-run');

async function main() {
	const { proxyUrl, imagePath, maskPath, items, concurrency } = JSON.parse(process.argv[2] ?? '{}');
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
	const result = await fill({
		proxyUrl,
		items: inputItems,
		concurrency,
		options: { outputFormat: 'png' },
		extra: { prompt: 'a large picture' },
		binaryMode: 'filesystem',
	});
	const wallMs = result.ms;
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
