/**
 * n8n's proxy and certificate settings in a real n8n 2.41.1, with the packed package
 * installed as a community package and a credential as a user has it (no Proxy URL):
 * - `n8n execute` with `https_proxy` (lower case, winning over an `HTTPS_PROXY` that
 *   points nowhere) and NODE_EXTRA_CA_CERTS: Read → Merge → Fill (2 images) → Write;
 * - `HTTPS_PROXY` alone: Submit → Get Result → Write;
 * - the credential's Proxy URL (fal's server proxy, on 127.0.0.1) listed in NO_PROXY:
 *   the proxy never sees 127.0.0.1, the CDN still goes through it;
 * - the credential's Test button in `n8n start` through the proxy: OK with the company
 *   root, and an answer that names NODE_EXTRA_CA_CERTS without it.
 *
 * The company network is test/helpers/proxyLab.js: a recording forward proxy that takes
 * fal's host names (CONNECT …:443) to a TLS front with a certificate from a throwaway
 * root CA, in front of the fal emulator; anything else is refused and recorded as such.
 * The emulator hands out fal's CDN origin (https://v3.fal.media) for its files. This
 * machine has no internet and no DNS for fal's names: a request that skipped the proxy
 * fails, so a passing run means every fal request took it.
 */
import fs from 'node:fs';
import path from 'node:path';

import { nodeOutput } from './helpers/database';
import { falCredential, inlinePictures, jobsOf, sha256 } from './helpers/fal';
import { useN8nSuite } from './helpers/fixture';
import { compareWithInput, IMAGE_SIZE, maskMismatches } from './helpers/images';
import { expectRunSucceeded } from './helpers/n8nInstance';
import { leftoverProcesses, stopAllProcesses, stopProcess } from './helpers/processes';
import {
	cdnFile,
	proxiedCredential,
	proxyTargets,
	throughLabEnv,
	throughTheFront,
	tunnelProblems,
} from './helpers/proxy';
import { N8nRestClient } from './helpers/rest';
import {
	cliWorkflows,
	fillChain,
	manualTrigger,
	submitThenGetResult,
	workflow,
	writeFile,
} from './helpers/workflows';

const FAL_UPLOAD_INITIATE = 'https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3';
const FILL = 'falProxyFill01';
const SUBMIT_GET = 'falProxySubmitGet01';
const VIA_SERVER_PROXY = 'falProxyServerPx01';
/** As a user has it: the key, no Proxy URL. */
const CREDENTIAL = { id: 'falProxyCred01', name: 'fal (no Proxy URL)' };
/** With fal's server proxy (the emulator's /proxy on 127.0.0.1) as its Proxy URL. */
const SERVER_PROXY_CREDENTIAL = { id: 'falProxyCredSrv01', name: "fal via fal's server proxy" };

// The emulator that matters here is `suite.behindProxy` (fal's host names, behind the lab).
const suite = useN8nSuite('proxy', {
	proxyLab: true,
	env: { N8N_LOG_FORMAT: 'json' },
	credentials: ({ behindProxy }) => [
		proxiedCredential(CREDENTIAL.id, CREDENTIAL.name),
		falCredential(behindProxy, SERVER_PROXY_CREDENTIAL.id, SERVER_PROXY_CREDENTIAL.name),
	],
});

beforeAll(async () => {
	const { fixtures, outputDir } = suite;
	const { fill, chained } = cliWorkflows(CREDENTIAL, fixtures, outputDir);
	const viaServerProxy = fillChain(
		manualTrigger(),
		fixtures,
		{ ...fill, credential: SERVER_PROXY_CREDENTIAL, numImages: 1 },
		writeFile('Write images', `=${outputDir}/server-proxy-{{ $json.image_index + 1 }}.png`),
	);
	await suite.n8n.importWorkflows([
		workflow(FILL, 'proxy: chained fill', chained.nodes, chained.edges),
		submitThenGetResult(
			SUBMIT_GET,
			'proxy: submit, then get result',
			CREDENTIAL,
			fixtures,
			`=${outputDir}/submitted-{{ $json.image_index + 1 }}.png`,
		),
		workflow(
			VIA_SERVER_PROXY,
			"proxy: fal's server proxy",
			viaServerProxy.nodes,
			viaServerProxy.edges,
		),
	]);
}, 120_000);

/**
 * Everything the proxy received was a CONNECT to one of fal's host names on port 443, and
 * it refused nothing. This covers n8n's own outbound calls too, from the process's start:
 * with the suite's settings (scripts/lib/n8n.js: N8N_DIAGNOSTICS_ENABLED,
 * N8N_VERSION_NOTIFICATIONS_ENABLED, N8N_TEMPLATES_ENABLED, N8N_PERSONALIZATION_ENABLED all
 * false; N8nInstance: N8N_DISABLED_MODULES=mcp-registry) n8n 2.41.1 makes none (watched for
 * 45 s after start). With n8n's defaults for those (telemetry still off), `n8n start` sends
 * one within seconds: its mcp-registry module fetches
 * https://api.n8n.io/api/mcp-servers, through the proxy (CONNECT api.n8n.io:443, refused
 * here, logged by n8n at level error). No host is filtered out of this check.
 */
function expectOnlyFalTunnels(): void {
	expect(tunnelProblems(suite.lab)).toEqual({ refused: [], notFal: [] });
}

describe("n8n's proxy variables, credential without Proxy URL (n8n execute)", () => {
	test('Fill (2 images) and Write Files: every fal request through the proxy named by https_proxy, which wins over HTTPS_PROXY, trusting the root in NODE_EXTRA_CA_CERTS', async () => {
		// Upper case points at a port nothing listens on: n8n reads the lower-case one first.
		const result = await suite.n8n.execute(FILL, throughLabEnv(suite.lab));
		const counts = throughTheFront(suite.lab, suite.behindProxy);
		expectRunSucceeded(result);

		// The company network: all of the emulator's requests came through the front, in
		// tunnels to fal's API and CDN names, and nothing else went through the proxy. No
		// storage (rest.fal.ai): pictures up to 1 MiB go inline, in the submit.
		expect(counts.emulatorRequests).toBeGreaterThan(0);
		expect(counts.frontRequests).toBe(counts.emulatorRequests);
		expectOnlyFalTunnels();
		// For docs/proxy-design.md: the node keeps its connections (here: tunnels) alive.
		process.stderr.write(
			`\n[proxy] Fill, 2 images: ${counts.emulatorRequests} fal requests in ${suite.lab.records.length} CONNECT tunnels\n`,
		);
		expect(proxyTargets(suite.lab)).toEqual([
			'connect queue.fal.run:443',
			'connect v3.fal.media:443',
		]);
		const kinds = new Set<string>(suite.behindProxy.requests.map((request) => request.kind));
		for (const kind of ['submit', 'result', 'file'])
			expect({ kind, seen: kinds.has(kind) }).toEqual({ kind, seen: true });
		for (const kind of ['initiate', 'upload'])
			expect({ kind, seen: kinds.has(kind) }).toEqual({ kind, seen: false });
		expect(kinds.has('status') || kinds.has('stream')).toBe(true);
		// Under fal's own names, with the key.
		expect(
			suite.behindProxy.requests
				.filter((request) => request.kind === 'submit')
				.map((request) => request.auth),
		).toEqual(['valid']);
		expect(
			new Set(
				suite.behindProxy.requests.map((request) =>
					String(request.headers.host).replace(/:\d+$/, ''),
				),
			),
		).toEqual(new Set(['v3.fal.media', 'queue.fal.run']));

		// What n8n recorded and wrote.
		const [execution] = await suite.n8n.db.executions(FILL);
		expect(execution).toMatchObject({ mode: 'cli', status: 'success' });
		const run = await suite.n8n.db.runData(execution.id);
		const filled = nodeOutput(run, 'FLUX.1 Fill');
		expect(filled).toHaveLength(2);
		filled.forEach((item) =>
			expect(item.json).toMatchObject({
				url: expect.stringMatching(/^https:\/\/v3\.fal\.media\/files\//),
				content_type: 'image/png',
				...IMAGE_SIZE,
				seed: 42,
			}),
		);
		const jobs = jobsOf(suite.behindProxy);
		expect(jobs).toHaveLength(1);
		expect(jobs[0].input).toMatchObject({ num_images: 2, output_format: 'png', seed: 42 });
		expect(jobs[0].id).toBe(filled[0].json.request_id);

		const files = nodeOutput(run, 'Write images').map((item) => String(item.json.fileName));
		expect(files).toEqual([
			path.join(suite.outputDir, 'chained-1.png'),
			path.join(suite.outputDir, 'chained-2.png'),
		]);
		const contents = files.map((file) => fs.readFileSync(file));
		for (const [index, bytes] of contents.entries()) {
			const comparison = await compareWithInput(bytes, suite.fixtures.imageBytes);
			expect(comparison).toMatchObject({
				format: 'png',
				...IMAGE_SIZE,
				changedOutsideMask: 0,
			});
			expect(comparison.changedInsideMask).toBeGreaterThan(0.5);
			expect(sha256(bytes)).toBe(sha256(await cdnFile(suite.behindProxy, filled[index].json.url)));
		}
		expect(sha256(contents[0])).not.toBe(sha256(contents[1]));
		// The pictures arrived whole through the tunnel, inline in the submit: the image byte
		// for byte, the mask's region.
		expect(suite.behindProxy.uploads).toEqual([]);
		const sent = inlinePictures(jobs[0].input);
		expect(sha256(sent.image)).toBe(sha256(suite.fixtures.imageBytes));
		expect(await maskMismatches(sent.mask)).toBe(0);
	});

	test('Submit → Get Result → Write Files with HTTPS_PROXY alone', async () => {
		const result = await suite.n8n.execute(SUBMIT_GET, {
			HTTPS_PROXY: suite.lab.proxyUrl,
			NODE_EXTRA_CA_CERTS: suite.lab.caFile,
		});
		const counts = throughTheFront(suite.lab, suite.behindProxy);
		expectRunSucceeded(result);
		expect(counts.emulatorRequests).toBeGreaterThan(0);
		expect(counts.frontRequests).toBe(counts.emulatorRequests);
		expectOnlyFalTunnels();

		const run = await suite.n8n.db.runData((await suite.n8n.db.executions(SUBMIT_GET))[0].id);
		const [submitted] = nodeOutput(run, 'Submit');
		const results = nodeOutput(run, 'Get result');
		expect(results).toHaveLength(1);
		expect(results[0].json).toMatchObject({ request_id: submitted.json.request_id, ...IMAGE_SIZE });
		expect(jobsOf(suite.behindProxy).map((job) => job.id)).toEqual([submitted.json.request_id]);
		expect(suite.behindProxy.requests.filter((request) => request.kind === 'submit')).toHaveLength(
			1,
		);

		const file = path.join(suite.outputDir, 'submitted-1.png');
		expect(nodeOutput(run, 'Write image').map((item) => item.json.fileName)).toEqual([file]);
		const bytes = fs.readFileSync(file);
		expect(await compareWithInput(bytes, suite.fixtures.imageBytes)).toMatchObject({
			format: 'png',
			...IMAGE_SIZE,
			changedOutsideMask: 0,
		});
		expect(sha256(bytes)).toBe(sha256(await cdnFile(suite.behindProxy, results[0].json.url)));
	});
});

describe("the credential's Proxy URL (fal's server proxy) with n8n's proxy variables", () => {
	test('NO_PROXY=127.0.0.1: the server proxy on 127.0.0.1 is reached directly, the CDN still through the proxy', async () => {
		const serverProxy = suite.behindProxy.proxyUrl; // http://127.0.0.1:PORT/proxy
		expect(new URL(serverProxy).hostname).toBe('127.0.0.1');
		const result = await suite.n8n.execute(VIA_SERVER_PROXY, {
			HTTP_PROXY: suite.lab.proxyUrl,
			HTTPS_PROXY: suite.lab.proxyUrl,
			NO_PROXY: '127.0.0.1',
			NODE_EXTRA_CA_CERTS: suite.lab.caFile,
		});
		const counts = throughTheFront(suite.lab, suite.behindProxy);
		expectRunSucceeded(result);

		// The proxy saw no 127.0.0.1 traffic, only tunnels to fal's names (the downloads).
		expect(suite.lab.records.filter((record) => record.target.includes('127.0.0.1'))).toEqual([]);
		expectOnlyFalTunnels();
		expect(proxyTargets(suite.lab)).toContain('connect v3.fal.media:443');
		// Every emulator request came either straight to the server proxy (fal's API calls,
		// addressed with x-fal-target-url) or through the proxy and the TLS front (the CDN).
		const direct = suite.behindProxy.requests.filter((request) =>
			String(request.headers.host).startsWith('127.0.0.1:'),
		);
		expect(direct.length + counts.frontRequests).toBe(counts.emulatorRequests);
		expect(direct.map((request) => request.kind)).toContain('submit');
		expect(direct.every((request) => request.target.startsWith('https://'))).toBe(true);
		expect(direct.map((request) => request.kind)).not.toContain('file');
		expect(counts.frontRequests).toBeGreaterThan(0);

		const [execution] = await suite.n8n.db.executions(VIA_SERVER_PROXY);
		const run = await suite.n8n.db.runData(execution.id);
		const [filled] = nodeOutput(run, 'FLUX.1 Fill');
		const file = path.join(suite.outputDir, 'server-proxy-1.png');
		expect(nodeOutput(run, 'Write images').map((item) => item.json.fileName)).toEqual([file]);
		const bytes = fs.readFileSync(file);
		expect(await compareWithInput(bytes, suite.fixtures.imageBytes)).toMatchObject({
			format: 'png',
			...IMAGE_SIZE,
			changedOutsideMask: 0,
		});
		expect(sha256(bytes)).toBe(sha256(await cdnFile(suite.behindProxy, filled.json.url)));
	});
});

describe("the credential's Test button in a running n8n (n8n start), through the proxy", () => {
	test('with the company root in NODE_EXTRA_CA_CERTS, a good key passes', async () => {
		const server = await suite.n8n.start({
			https_proxy: suite.lab.proxyUrl,
			NODE_EXTRA_CA_CERTS: suite.lab.caFile,
		});
		try {
			const rest = new N8nRestClient(server.baseUrl);
			await rest.setUpOwnerAndLogIn();
			await expect(rest.testCredential(CREDENTIAL)).resolves.toEqual({
				status: 'OK',
				message: 'Connection tested successfully',
			});
			expect(
				suite.behindProxy.requests.map(({ method, target, auth }) => ({ method, target, auth })),
			).toEqual([{ method: 'POST', target: FAL_UPLOAD_INITIATE, auth: 'valid' }]);
			expect(suite.lab.frontRequests).toBe(suite.behindProxy.requests.length);
			// From n8n's start on: only the test's tunnel, nothing of n8n's own.
			expectOnlyFalTunnels();
			expect(proxyTargets(suite.lab)).toEqual(['connect rest.fal.ai:443']);
		} finally {
			await stopProcess(server.process);
		}
	});

	test('without it, the test fails and says to set NODE_EXTRA_CA_CERTS, nothing reaches fal', async () => {
		const server = await suite.n8n.start({ https_proxy: suite.lab.proxyUrl });
		try {
			const rest = new N8nRestClient(server.baseUrl);
			await rest.logIn();
			const result = await rest.testCredential(CREDENTIAL);
			expect(result.status).toBe('Error');
			expect(result.message).toMatch(
				/^Could not reach fal: the HTTPS certificate was not trusted \(self-signed certificate in certificate chain\)/,
			);
			expect(result.message).toContain('NODE_EXTRA_CA_CERTS');
			expect(suite.behindProxy.requests).toEqual([]);
			expect(suite.lab.frontRequests).toBe(0);
			expectOnlyFalTunnels();
			expect(proxyTargets(suite.lab)).toEqual(['connect rest.fal.ai:443']);
		} finally {
			await stopProcess(server.process);
		}
	});

	test('leaves no process behind', async () => {
		await stopAllProcesses();
		expect(leftoverProcesses()).toEqual([]);
	});
});
