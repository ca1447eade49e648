/**
 * n8n's proxy settings apply to every request the node makes, as for n8n's own nodes.
 *
 * The company network is played by test/helpers/proxyLab.js: a recording forward proxy
 * on 127.0.0.1 that takes fal's host names to a TLS front (certificate from a throwaway
 * root CA) in front of the emulator. The node runs in n8n's engine in a child process,
 * because NODE_EXTRA_CA_CERTS is only read when a process starts — as in n8n itself.
 * This machine has no internet and no DNS for fal's names: a request that skipped the
 * proxy would fail, and one the proxy was not meant to carry is recorded as refused.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { NETWORK_VARIABLES, startProxyLab, type ProxyLab } from '../helpers/proxyLab';
import type { FalEmulator } from '../emulator';
import { startEmulator } from './fixtures';

const FAL_CDN = 'https://v3.fal.media';
const CHILD = 'test/integration/network/through-proxy.child.ts';
/** A cold child compiles the harness with ts-jest first. */
const CHILD_TIMEOUT_MS = 90_000;
jest.setTimeout(CHILD_TIMEOUT_MS);

interface Summary {
	error?: { message: string; description?: string };
	items: Array<{ json: Record<string, unknown>; binaryMime?: string }>;
}
interface ChildReport {
	credentialGood: { status: string; message: string };
	credentialWrong: { status: string; message: string };
	fill: Summary;
	submit: Summary;
	status: Summary;
	result: Summary;
	cancel: Summary;
}

let emu: FalEmulator;
let lab: ProxyLab;
let folder: string;

beforeAll(async () => {
	// The emulator hands out fal's CDN host for its files, as fal does.
	emu = await startEmulator({ publicUrl: FAL_CDN });
	lab = await startProxyLab({ emulatorUrl: emu.url });
	folder = mkdtempSync(path.join(tmpdir(), 'fal-network-'));
});
afterAll(async () => {
	await lab?.close();
	await emu?.close();
	rmSync(folder, { recursive: true, force: true });
});
beforeEach(() => {
	emu.reset();
	lab.reset();
	emu.configure({ latencyMs: 200, concurrency: Infinity });
});

/**
 * Runs the child with exactly these network variables (none inherited) and reads its
 * report. Asynchronously: the proxy and the emulator live in this process.
 */
async function runChild(
	variables: Record<string, string>,
	credentialProxyUrl = '',
): Promise<ChildReport> {
	const env: NodeJS.ProcessEnv = { ...process.env };
	for (const name of NETWORK_VARIABLES) delete env[name];
	const outFile = path.join(folder, `report-${Date.now()}.json`);
	Object.assign(env, variables, {
		PROXY_LAB_SCENARIO: JSON.stringify({ proxyUrl: credentialProxyUrl }),
		PROXY_LAB_OUT: outFile,
	});
	const child = spawn(
		process.execPath,
		[
			require.resolve('jest/bin/jest'),
			'--ci',
			'--testMatch',
			'**/network/*.child.ts',
			'--runTestsByPath',
			CHILD,
		],
		{ cwd: path.resolve(__dirname, '../..'), env, stdio: ['ignore', 'pipe', 'pipe'] },
	);
	let output = '';
	child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
	child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
	const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS - 5_000);
	const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
	clearTimeout(timer);
	if (code !== 0) throw new Error(`the child run failed (${code}):\n${output}`);
	return JSON.parse(readFileSync(outFile, 'utf8')) as ChildReport;
}

const KINDS_OF_CALL = ['initiate', 'upload', 'submit', 'result', 'cancel', 'file'] as const;

function expectAllWorked(report: ChildReport) {
	expect(report.credentialGood).toEqual({
		status: 'OK',
		message: 'Connection tested successfully',
	});
	expect(report.credentialWrong.message).toMatch(/^fal did not accept the API key/);
	for (const step of ['fill', 'submit', 'status', 'result', 'cancel'] as const) {
		expect({ step, error: report[step].error }).toEqual({ step, error: undefined });
	}
	expect(report.fill.items).toHaveLength(2);
	expect(report.fill.items.map((item) => item.binaryMime)).toEqual(['image/png', 'image/png']);
	expect(report.result.items[0].json.request_id).toBe(report.submit.items[0].json.request_id);
	const kinds = new Set<string>(emu.requests.map((request) => request.kind));
	for (const kind of KINDS_OF_CALL)
		expect({ kind, seen: kinds.has(kind) }).toEqual({ kind, seen: true });
	expect(kinds.has('status') || kinds.has('stream')).toBe(true);
}

describe("n8n's proxy variables, with no Proxy URL in the credential", () => {
	it('send every fal request through the proxy (lower-case variables win), trusting the company root from NODE_EXTRA_CA_CERTS', async () => {
		const report = await runChild({
			https_proxy: lab.proxyUrl,
			// Upper case points nowhere: n8n reads the lower-case variable first.
			HTTPS_PROXY: lab.deadProxyUrl,
			NODE_EXTRA_CA_CERTS: lab.caFile,
		});
		expectAllWorked(report);
		// Everything the emulator saw came through the proxy and the TLS front...
		expect(emu.requests.length).toBeGreaterThan(0);
		expect(lab.frontRequests).toBe(emu.requests.length);
		// ...in tunnels to fal's host names only, and nothing was sent anywhere else.
		expect(lab.records.filter((record) => record.refused)).toEqual([]);
		const targets = new Set(lab.records.map((record) => `${record.via} ${record.target}`));
		expect([...targets].sort()).toEqual(
			['connect queue.fal.run:443', 'connect rest.fal.ai:443', 'connect v3.fal.media:443'].filter(
				(target) => targets.has(target),
			),
		);
		expect(targets).toContain('connect queue.fal.run:443');
		expect(targets).toContain('connect v3.fal.media:443');
	});

	it('fail with the certificate explained when the company root is not trusted, before anything is paid for', async () => {
		const report = await runChild({ HTTPS_PROXY: lab.proxyUrl });
		expect(report.fill.error?.message).toMatch(
			/^Could not reach fal: the HTTPS certificate was not trusted \(self-signed certificate in certificate chain\)/,
		);
		expect(report.fill.error?.description).toContain('NODE_EXTRA_CA_CERTS=');
		expect(report.credentialGood.status).toBe('Error');
		expect(report.credentialGood.message).toContain('NODE_EXTRA_CA_CERTS=');
		expect(emu.requests).toEqual([]);
		expect(lab.records.length).toBeGreaterThan(0);
	});
});

describe("the credential's Proxy URL (fal's server proxy) together with n8n's proxy variables", () => {
	it('reaches the server proxy through the forward proxy', async () => {
		const serverProxy = emu.proxyUrl; // http://127.0.0.1:PORT/proxy
		const report = await runChild(
			{ HTTP_PROXY: lab.proxyUrl, HTTPS_PROXY: lab.proxyUrl, NODE_EXTRA_CA_CERTS: lab.caFile },
			serverProxy,
		);
		expectAllWorked(report);
		const viaHttp = lab.records.filter((record) => record.via === 'http');
		expect(viaHttp.length).toBeGreaterThan(0);
		expect(viaHttp.every((record) => record.target.startsWith(serverProxy))).toBe(true);
		// The CDN downloads still go to fal's CDN host, through the proxy.
		expect(lab.records.filter((record) => record.refused)).toEqual([]);
		expect(lab.records.some((record) => record.target === 'v3.fal.media:443')).toBe(true);
	});

	it('goes straight to the server proxy when NO_PROXY lists it, the rest still through the proxy', async () => {
		const report = await runChild(
			{
				HTTP_PROXY: lab.proxyUrl,
				HTTPS_PROXY: lab.proxyUrl,
				NO_PROXY: 'localhost,127.0.0.1',
				NODE_EXTRA_CA_CERTS: lab.caFile,
			},
			emu.proxyUrl,
		);
		expectAllWorked(report);
		expect(lab.records.filter((record) => record.target.includes('127.0.0.1'))).toEqual([]);
		expect(lab.records.filter((record) => record.refused)).toEqual([]);
		expect(lab.records.some((record) => record.target === 'v3.fal.media:443')).toBe(true);
	});
});
