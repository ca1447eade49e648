#!/usr/bin/env node
// `npm run bench`: the node against the fal emulator (in its own process, with
// fal-like latency and a per-account concurrency cap), measured side by side with the
// ideal and with a plain @fal-ai/client script: on loopback (sections 1–6), then with
// fal's host names behind a delay relay at a real round-trip time (section 7,
// scripts/lib/bench-rtt.js). Prints a table and writes bench-results/bench.json.
//
// BENCH_QUICK=1 one run of each measurement (development)
// BENCH_ONLY=rtt | loopback one part only
// BENCH_RTT_MS=0,100 the round-trip times of section 7 (comma-separated ms)
// BENCH_RTT_REPEATS, BENCH_RTT_LATENCY_MS section 7's repeats (3) and fal job time (3000)
// BENCH_LATENCY_MS, BENCH_CAP, BENCH_BATCH, BENCH_REPEATS the loopback sections' settings
'use strict';

require('./lib/register-ts');
const { execFileSync } = require('node:child_process');
const { createHash, randomBytes } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const sharp = require('sharp');
const { startEmulatorProcess } = require('./lib/emulator-process');
const { startReaper } = require('./lib/reaper');
const { makeColourImage, makeTestImage, makeMask } = require('../test/emulator');
const { cleanupN8nHarness, prepareBinary } = require('../test/helpers/n8nHarness');
const { KEY, fill, binaryItems, plainClient } = require('./lib/bench-run');
const { measureRoundTrips, roundTripRows } = require('./lib/bench-rtt');

const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 1000);
const CAP = Number(process.env.BENCH_CAP ?? 8);
const BATCH = Number(process.env.BENCH_BATCH ?? 32);
// BENCH_QUICK=1: one run of each measurement, for development.
const QUICK = process.env.BENCH_QUICK === '1';
const REPEATS = Number(process.env.BENCH_REPEATS ?? (QUICK ? 1 : 5));
// BENCH_ONLY=rtt: the round-trip section only; BENCH_ONLY=loopback: everything else.
const ONLY = process.env.BENCH_ONLY ?? '';
// The round-trip section: at these round-trip times (comma-separated milliseconds), each
// measurement repeated BENCH_RTT_REPEATS times, fal jobs taking BENCH_RTT_LATENCY_MS.
const RTTS = (process.env.BENCH_RTT_MS ?? '0,100').split(',').map(Number);
const RTT_REPEATS = Number(process.env.BENCH_RTT_REPEATS ?? (QUICK ? 1 : 3));
const RTT_LATENCY_MS = Number(process.env.BENCH_RTT_LATENCY_MS ?? 3000);
const OUT_DIR = path.join(__dirname, '..', 'bench-results');

/** @param {Uint8Array<ArrayBuffer>} image @param {Uint8Array<ArrayBuffer>} mask @param {number} count */
function itemsOf(image, mask, count, images = undefined) {
	return binaryItems(
		Array.from({ length: count }, (_, index) => ({ image: images ? images[index] : image, mask })),
	);
}

/** The floor: what a hand-written script needs for one item (upload both, subscribe, download). */
/** @param {string} proxyUrl @param {Uint8Array<ArrayBuffer>} image @param {Uint8Array<ArrayBuffer>} mask @param {'streaming' | 'polling'} mode */
async function direct(proxyUrl, image, mask, mode) {
	return await plainClient({
		config: { proxyUrl: { url: proxyUrl, when: 'always' } },
		pairs: [{ image, mask }],
		mode,
	});
}

const median = (/** @type {number[]} */ values) =>
	[...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mb = (/** @type {number} */ bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const sha = (/** @type {Buffer} */ buffer) => createHash('sha256').update(buffer).digest('hex');

/**
 * Sections 1–6, on loopback: batch, one item, mask reuse, Describe It, memory, masks.
 * @param {any[][]} rows @param {Record<string, any>} results
 */
async function loopbackSections(rows, results) {
	const emu = await startEmulatorProcess({
		validKeys: [KEY],
		latencyMs: LATENCY_MS,
		concurrency: CAP,
	});
	Object.assign(results, { latencyMs: LATENCY_MS, cap: CAP, batch: BATCH });
	try {
		const image = await makeTestImage({ width: 512, height: 512, format: 'png', seed: 1 });
		const mask = await makeMask({
			width: 512,
			height: 512,
			rect: { left: 128, top: 128, width: 256, height: 256 },
		});

		// 1. Batch: concurrency vs the ideal and vs one at a time.
		const ideal = Math.ceil(BATCH / CAP) * LATENCY_MS;
		const concurrent = await fill({
			proxyUrl: emu.proxyUrl,
			items: itemsOf(image, mask, BATCH),
			concurrency: CAP,
		});
		const sequential = await fill({
			proxyUrl: emu.proxyUrl,
			items: itemsOf(image, mask, BATCH),
			concurrency: 1,
		});
		results.batch = {
			idealMs: ideal,
			concurrentMs: concurrent.ms,
			sequentialMs: sequential.ms,
			ratioToIdeal: concurrent.ms / ideal,
		};
		rows.push([
			`batch of ${BATCH}, ${LATENCY_MS} ms, cap ${CAP}: concurrency ${CAP}`,
			`${(concurrent.ms / 1000).toFixed(2)} s`,
			`${(concurrent.ms / ideal).toFixed(3)} × ideal ${(ideal / 1000).toFixed(1)} s`,
			'≤ 1.15',
		]);
		rows.push([
			`same batch, one at a time`,
			`${(sequential.ms / 1000).toFixed(2)} s`,
			`${(sequential.ms / concurrent.ms).toFixed(1)} × slower`,
			'',
		]);

		// 2. One item: the node vs a plain client script doing the same work.
		const nodeTimes = [];
		const streamTimes = [];
		const pollTimes = [];
		for (let i = 0; i < REPEATS; i++) {
			nodeTimes.push(
				(await fill({ proxyUrl: emu.proxyUrl, items: itemsOf(image, mask, 1), concurrency: 1 })).ms,
			);
			streamTimes.push(await direct(emu.proxyUrl, image, mask, 'streaming'));
			pollTimes.push(await direct(emu.proxyUrl, image, mask, 'polling'));
		}
		const nodeMs = median(nodeTimes);
		const floorMs = median(streamTimes);
		results.oneItem = {
			nodeMs,
			directStreamingMs: floorMs,
			directPollingMs: median(pollTimes),
			ratio: nodeMs / floorMs,
			overheadMs: nodeMs - floorMs,
			repeats: REPEATS,
		};
		rows.push([
			`one item: node (median of ${REPEATS})`,
			`${nodeMs.toFixed(0)} ms`,
			`${(nodeMs / floorMs).toFixed(3)} × direct client (${(nodeMs - floorMs).toFixed(0)} ms over)`,
			'≤ 1.05 (+50 ms)',
		]);
		rows.push([
			`one item: direct @fal-ai/client, streaming status`,
			`${floorMs.toFixed(0)} ms`,
			'the floor',
			'',
		]);
		rows.push([
			`one item: direct @fal-ai/client, default polling`,
			`${median(pollTimes).toFixed(0)} ms`,
			'fal.subscribe as documented',
			'',
		]);

		// 3. One mask for 32 items with 32 different images: prepared once, the same mask for all.
		await emu.configure({ latencyMs: 0 });
		await emu.reset();
		const images = await Promise.all(
			Array.from({ length: BATCH }, (_, i) =>
				makeTestImage({ width: 512, height: 512, format: 'png', seed: 100 + i }),
			),
		);
		await fill({
			proxyUrl: emu.proxyUrl,
			items: itemsOf(image, mask, BATCH, images),
			concurrency: CAP,
		});
		const { uploads, masks: sentMasks } = await emu.stats();
		// Small masks go inline in the submit; a large one is uploaded once. Either way the
		// jobs get one mask, and the images are told apart from it by elimination.
		const imageShas = new Set(images.map(sha));
		const maskUploads = uploads.filter((u) => !imageShas.has(u.sha256));
		results.maskReuse = {
			distinctMasks: sentMasks.length,
			inline: sentMasks.every((m) => m.inline),
			maskUploads: maskUploads.length,
			totalUploads: uploads.length,
		};
		rows.push([
			`one mask, ${BATCH} images: masks fal got`,
			`${sentMasks.length}`,
			`${sentMasks.every((m) => m.inline) ? 'inline in each submit' : 'uploaded'}, ${maskUploads.length} mask upload(s)`,
			'1',
		]);

		// 4. Describe It: 8 items (two photos, alternating) × 2 images at Concurrency 4. Each
		// photo is segmented once; the first wave waits for a segmentation, then its fill,
		// the second wave only for its fill.
		await emu.configure({ latencyMs: LATENCY_MS });
		await emu.reset();
		const describeItems = 8;
		const describeConcurrency = 4;
		const photos = await Promise.all(
			[
				[0, 0, 255],
				[20, 30, 230],
			].map((sky) =>
				makeColourImage({
					width: 512,
					height: 512,
					background: [40, 200, 40],
					regions: [{ rect: { left: 0, top: 0, width: 512, height: 200 }, colour: sky }],
				}),
			),
		);
		const described = await fill({
			proxyUrl: emu.proxyUrl,
			items: Array.from({ length: describeItems }, (_, index) => ({
				json: { prompt: `sunset ${index}` },
				binary: { data: prepareBinary(photos[index % 2], 'photo.png', 'image/png') },
			})),
			concurrency: describeConcurrency,
			options: { numImages: 2 },
			extra: { maskSource: 'text', maskPrompt: 'the sky' },
		});
		const describeStats = await emu.stats();
		const describeIdeal = LATENCY_MS + Math.ceil(describeItems / describeConcurrency) * LATENCY_MS;
		results.describeIt = {
			items: describeItems,
			imagesPerItem: 2,
			concurrency: describeConcurrency,
			segmentations: describeStats.segmentations,
			fills: describeStats.jobs,
			outputItems: described.items.length,
			idealMs: describeIdeal,
			ms: described.ms,
			ratioToIdeal: described.ms / describeIdeal,
		};
		rows.push([
			`Describe It: ${describeItems} items (2 photos) × 2 images, concurrency ${describeConcurrency}`,
			`${(described.ms / 1000).toFixed(2)} s`,
			`${(described.ms / describeIdeal).toFixed(3)} × ideal ${(describeIdeal / 1000).toFixed(1)} s (1 segmentation + ${Math.ceil(describeItems / describeConcurrency)} fill waves)`,
			'≤ 1.15',
		]);
		rows.push([
			'Describe It: fal requests',
			`${describeStats.segmentations} segmentations, ${describeStats.jobs} fills`,
			`${described.items.length} images`,
			'2 segmentations',
		]);
		await emu.configure({ latencyMs: 0 });

		// 5. Memory: 16 items of a 4 MP PNG image and mask, in a fresh process.
		const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fal-bench-'));
		// Noise does not compress: a PNG as heavy as a 4 MP photo (a gradient would be 0.5 MiB).
		const bigImage = await sharp(randomBytes(2048 * 2048 * 3), {
			raw: { width: 2048, height: 2048, channels: 3 },
		})
			.png()
			.toBuffer();
		const bigMask = await makeMask({
			width: 2048,
			height: 2048,
			rect: { left: 512, top: 512, width: 1024, height: 1024 },
		});
		fs.writeFileSync(path.join(tmp, 'image.png'), bigImage);
		fs.writeFileSync(path.join(tmp, 'mask.png'), bigMask);
		const memoryConcurrency = 4;
		const out = execFileSync(
			process.execPath,
			[
				'--expose-gc',
				path.join(__dirname, 'bench-memory.js'),
				JSON.stringify({
					proxyUrl: emu.proxyUrl,
					imagePath: path.join(tmp, 'image.png'),
					maskPath: path.join(tmp, 'mask.png'),
					items: 16,
					concurrency: memoryConcurrency,
				}),
			],
			{ encoding: 'utf8', maxBuffer: 10 * 1024 * 1024 },
		);
		fs.rmSync(tmp, { recursive: true, force: true });
		const memory = JSON.parse(out);
		const perItem = memory.imageBytes + memory.maskBytes + memory.outputBytes;
		const inFlight = memoryConcurrency * perItem;
		results.memory = {
			...memory,
			concurrency: memoryConcurrency,
			bytesInFlight: inFlight,
			bytesInvolved: 16 * perItem,
			ratioToInFlight: memory.growth / inFlight,
		};
		rows.push([
			`16 × 4 MP PNG (${mb(memory.imageBytes)} image + ${mb(memory.maskBytes)} mask → ${mb(memory.outputBytes)} out), concurrency ${memoryConcurrency}: peak RSS growth`,
			mb(memory.growth),
			`${(memory.growth / inFlight).toFixed(2)} × ${mb(inFlight)} in flight; ${(memory.growth / (16 * perItem)).toFixed(2)} × all ${mb(16 * perItem)}`,
			'≤ 3 × in flight',
		]);

		// 6. Mask preparation for a 4 MP image (issue: masks without an image editor).
		const masks = JSON.parse(
			execFileSync(process.execPath, ['--expose-gc', path.join(__dirname, 'bench-mask.js')], {
				encoding: 'utf8',
			}),
		);
		results.maskPreparation = masks;
		for (const [source, m] of Object.entries(masks)) {
			rows.push([
				`prepare a 4 MP mask from ${source} (threshold, grow 8, PNG)`,
				`${m.medianMs.toFixed(0)} ms`,
				`peak RSS +${mb(m.rssGrowth)}`,
				'',
			]);
		}
	} finally {
		await emu.close();
		cleanupN8nHarness();
	}
}

async function main() {
	// The emulators, the clients of the round-trip section and the memory/mask benchmarks
	// run as child processes: none outlives a Ctrl-C.
	startReaper();
	/** @type {any[][]} */
	const rows = [];
	/** @type {Record<string, any>} */
	const results = { node: process.version, cpus: os.cpus().length, quick: QUICK };
	if (ONLY !== 'rtt') await loopbackSections(rows, results);
	if (ONLY !== 'loopback') {
		// 7. Round trips: fal across an ocean, through the delay relay.
		results.roundTrips = await measureRoundTrips({
			rtts: RTTS,
			repeats: RTT_REPEATS,
			latencyMs: RTT_LATENCY_MS,
			cap: CAP,
			key: KEY,
		});
		rows.push(...roundTripRows(results.roundTrips));
	}

	fs.mkdirSync(OUT_DIR, { recursive: true });
	fs.writeFileSync(path.join(OUT_DIR, 'bench.json'), JSON.stringify(results, null, 2));
	const widths = [0, 1, 2, 3].map((col) =>
		Math.max(...rows.map((row) => String(row[col]).length), 6),
	);
	const line = (row) =>
		`| ${row.map((cell, col) => String(cell).padEnd(widths[col])).join(' | ')} |`;
	console.log(line(['measurement', 'value', 'compared', 'target']));
	console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
	for (const row of rows) console.log(line(row));
	console.log(`\nwritten: ${path.join(OUT_DIR, 'bench.json')}`);
}

main().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
