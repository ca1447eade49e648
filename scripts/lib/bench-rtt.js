// @ts-check
// `npm run bench`'s round-trip section: the node and a plain @fal-ai/client script as
// they reach fal over the internet, at a given round-trip time.
//
//   client process (bench-rtt-child.js: https_proxy, NODE_EXTRA_CA_CERTS set at start)
//     → forward proxy (CONNECT queue.fal.run:443 …)          ┐ test/helpers/proxyLab.js,
//     → delay relay (RTT/2 each way, handshakes included)     │ in this process
//     → TLS front answering as *.fal.run, *.fal.ai, *.fal.media ┘
//     → fal emulator (its own process; publicUrl https://v3.fal.media)
//
// The front counts the TLS connections opened and the requests each carried.
'use strict';

const { fork } = require('node:child_process');
const path = require('node:path');

const { NETWORK_VARIABLES, startProxyLab } = require('../../test/helpers/proxyLab');
const { startEmulatorProcess } = require('./emulator-process');
const { ipcPeer } = require('./ipc');

const FAL_CDN = 'https://v3.fal.media';
const ITEMS = 8;

/**
 * @typedef {import('../bench-rtt-child').Scenario & { name: string }} Scenario
 */

/** @type {Scenario[]} */
const SCENARIOS = [
	{ name: 'node, 1 binary item', who: 'node', items: 1, concurrency: 1, source: 'binary' },
	{
		name: `node, ${ITEMS} binary items, Concurrency ${ITEMS}`,
		who: 'node',
		items: ITEMS,
		concurrency: ITEMS,
		source: 'binary',
	},
	{
		name: `node, ${ITEMS} URL items (URL Only output), Concurrency ${ITEMS}`,
		who: 'node',
		items: ITEMS,
		concurrency: ITEMS,
		source: 'url',
	},
	...[1, ITEMS].flatMap((items) =>
		/** @type {const} */ (['streaming', 'polling']).map((mode) => ({
			name: `plain client, ${items} binary item${items > 1 ? 's' : ''}, ${mode === 'streaming' ? 'status stream' : 'default polling'}`,
			who: /** @type {const} */ ('client'),
			items,
			concurrency: items,
			source: /** @type {const} */ ('binary'),
			mode,
		})),
	),
];

/**
 * What no client can beat: the fal job waves, and the round trips it needs on connections
 * already open (5 with binary in and out: storage initiate, upload, submit, result,
 * download; 2 with URLs: submit, result). Transfer time is 0 here: the relay does not
 * limit bandwidth, and a 512 × 512 PNG crosses loopback in well under a millisecond.
 * @param {Scenario} scenario @param {number} rttMs @param {number} latencyMs @param {number} cap
 */
function floorMs(scenario, rttMs, latencyMs, cap) {
	const waves = Math.ceil(scenario.items / Math.min(scenario.concurrency, cap));
	return waves * latencyMs + (scenario.source === 'url' ? 2 : 5) * rttMs;
}

const sorted = (/** @type {number[]} */ values) => [...values].sort((a, b) => a - b);
const median = (/** @type {number[]} */ values) =>
	/** @type {number} */ (sorted(values)[Math.floor(values.length / 2)]);

/**
 * @param {{ rtts: number[], repeats: number, latencyMs: number, cap: number, key: string }} o
 */
async function measureRoundTrips({ rtts, repeats, latencyMs, cap, key }) {
	const emu = await startEmulatorProcess({
		validKeys: [key],
		latencyMs,
		concurrency: cap,
		publicUrl: FAL_CDN,
	});
	// An edge keeps idle connections open for long; Node's 5 s (announced in Keep-Alive,
	// which undici shortens by 2 s) would close every connection idle during a 3 s job.
	const lab = await startProxyLab({ emulatorUrl: emu.url, rttMs: 0, keepAliveMs: 60_000 });
	const relay = /** @type {import('../../test/helpers/delayRelay').DelayRelay} */ (lab.relay);
	/** @type {NodeJS.ProcessEnv} */
	const env = { ...process.env };
	for (const name of NETWORK_VARIABLES) delete env[name];
	Object.assign(env, { https_proxy: lab.proxyUrl, NODE_EXTRA_CA_CERTS: lab.caFile });
	const child = fork(path.join(__dirname, '..', 'bench-rtt-child.js'), [String(ITEMS)], {
		env,
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
	});
	const peer = ipcPeer(child);
	/** @type {Record<string, any>} */
	const byRtt = {};
	try {
		await peer.next('ready');

		/** One run: a clean emulator, the inputs of URL items uploaded, then measured. */
		const once = async (/** @type {Scenario} */ scenario) => {
			await emu.reset();
			const urls =
				scenario.source === 'url'
					? (await peer.request({ type: 'upload', count: scenario.items }, 'urls')).urls
					: undefined;
			const before = (await emu.stats()).requests.length;
			lab.reset();
			const { ms } = await peer.request({ type: 'run', scenario: { ...scenario, urls } }, 'done');
			const connections = lab.frontConnections.map((connection) => connection.requests);
			const requests = connections.reduce((sum, n) => sum + n, 0);
			const seen = (await emu.stats()).requests.slice(before);
			const emulatorRequests = seen.length;
			/** @type {Record<string, number>} fal calls by kind: initiate, upload, submit, stream, status, result, file */
			const kinds = {};
			for (const { kind } of seen) kinds[kind] = (kinds[kind] ?? 0) + 1;
			if (requests !== emulatorRequests || lab.records.some((record) => record.refused))
				throw new Error(
					`${scenario.name}: ${emulatorRequests} requests at the emulator, ${requests} through the lab`,
				);
			return {
				ms,
				connections: connections.length,
				requests,
				tcpConnections: relay.connections,
				kinds,
			};
		};

		// Warm-up, not measured: the first run compiles and loads what later runs reuse.
		relay.rttMs = 0;
		for (const scenario of SCENARIOS.filter((s) => s.items === 1)) await once(scenario);

		for (const rttMs of rtts) {
			relay.rttMs = rttMs;
			/** @type {Map<Scenario, Array<Awaited<ReturnType<typeof once>>>>} */
			const runs = new Map(SCENARIOS.map((scenario) => [scenario, []]));
			// Repeats interleaved, so that what else the machine does is spread over all.
			for (let i = 0; i < repeats; i++)
				for (const scenario of SCENARIOS) runs.get(scenario)?.push(await once(scenario));
			byRtt[rttMs] = SCENARIOS.map((scenario) => {
				const all = runs.get(scenario) ?? [];
				const times = sorted(all.map((run) => run.ms));
				const floor = floorMs(scenario, rttMs, latencyMs, cap);
				const ms = median(times);
				const connections = median(all.map((run) => run.connections));
				const requests = median(all.map((run) => run.requests));
				return {
					name: scenario.name,
					who: scenario.who,
					items: scenario.items,
					concurrency: scenario.concurrency,
					source: scenario.source,
					...(scenario.mode ? { mode: scenario.mode } : {}),
					floorMs: floor,
					ms,
					msRange: [times[0], times[times.length - 1]],
					ratioToFloor: ms / floor,
					ratioRange: [
						/** @type {number} */ (times[0]) / floor,
						/** @type {number} */ (times[times.length - 1]) / floor,
					],
					connectionsPerItem: connections / scenario.items,
					requestsPerItem: requests / scenario.items,
					requestsPerConnection: requests / connections,
					requestKinds: all[all.length - 1]?.kinds,
					runs: all,
				};
			});
		}
	} finally {
		await peer.close();
		await lab.close();
		await emu.close();
	}
	return { latencyMs, cap, repeats, items: ITEMS, byRtt };
}

/**
 * Table rows for bench.js's summary.
 * @param {Awaited<ReturnType<typeof measureRoundTrips>>} results
 */
function roundTripRows(results) {
	const seconds = (/** @type {number} */ ms) => `${(ms / 1000).toFixed(2)}`;
	return Object.entries(results.byRtt).flatMap(([rtt, scenarios]) =>
		/** @type {any[]} */ (scenarios).map((s) => [
			`RTT ${rtt} ms, L ${results.latencyMs / 1000} s: ${s.name}`,
			`${seconds(s.ms)} s (${seconds(s.msRange[0])}–${seconds(s.msRange[1])})`,
			`${s.ratioToFloor.toFixed(2)} × floor ${seconds(s.floorMs)} s; ${s.connectionsPerItem.toFixed(1)} connections/item, ${s.requestsPerConnection.toFixed(2)} requests/connection`,
			'',
		]),
	);
}

module.exports = { measureRoundTrips, roundTripRows };
