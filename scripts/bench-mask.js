#!/usr/bin/env node
// One benchmark measurement in a fresh process: preparing the mask of a 4 MP image
// (decode, threshold, grow 8, encode) from each source; prints time and RSS growth.
'use strict';

require('./lib/register-ts');
const sharp = require('sharp');

const { prepareMask } = require('../nodes/FluxProFill/pictures/masks');

const SIZE = { width: 2048, height: 2048 };
const OPTIONS = { grow: 8, threshold: 128, invert: false, fit: false };

async function inputs() {
	// An anti-aliased grey mask (a blurred rectangle) and an RGBA photo-sized image with a hole.
	const raw = Buffer.alloc(SIZE.width * SIZE.height);
	for (let y = 512; y < 1536; y++) raw.fill(255, y * SIZE.width + 512, y * SIZE.width + 1536);
	const file = await sharp(raw, { raw: { ...SIZE, channels: 1 } })
		.blur(4)
		.png()
		.toBuffer();
	const rgba = Buffer.alloc(SIZE.width * SIZE.height * 4, 200);
	for (let y = 512; y < 1536; y++)
		rgba.fill(0, (y * SIZE.width + 512) * 4, (y * SIZE.width + 1536) * 4);
	const alpha = await sharp(rgba, { raw: { ...SIZE, channels: 4 } })
		.png()
		.toBuffer();
	return { file, alpha };
}

async function main() {
	const { file, alpha } = await inputs();
	const cases = {
		file: { kind: 'file', bytes: file },
		alpha: { kind: 'alpha', image: alpha },
		rectangles: {
			kind: 'rectangles',
			rectangles: [{ left: 25, top: 25, width: 50, height: 50, unit: 'percent' }],
		},
	};
	const results = {};
	for (const [name, spec] of Object.entries(cases)) {
		await prepareMask(spec, SIZE, OPTIONS); // warm-up: JIT and libvips caches
		global.gc?.();
		const before = process.memoryUsage().rss;
		let peak = before;
		const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
		const times = [];
		for (let i = 0; i < 5; i++) {
			const started = performance.now();
			await prepareMask(spec, SIZE, OPTIONS);
			times.push(performance.now() - started);
			peak = Math.max(peak, process.memoryUsage().rss);
		}
		clearInterval(sampler);
		times.sort((a, b) => a - b);
		results[name] = { medianMs: times[2], rssGrowth: peak - before };
	}
	process.stdout.write(JSON.stringify(results));
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
