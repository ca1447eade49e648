/**
 * The proxy lab (test/helpers/proxyLab.js) as the e2e tests use it: the fal emulator
 * under fal's own host names, reached only through a recording forward proxy and a TLS
 * front whose certificate comes from a throwaway root CA. This machine has no internet
 * and no DNS for fal's names, so a request that skipped the proxy fails.
 * proxy.e2e.test.ts (n8n 2.41.1) and compat.e2e.test.ts (the other n8n versions) share it.
 */
import type { FalEmulator } from '../../emulator';
import { FAL_HOST, NETWORK_VARIABLES, startProxyLab, type ProxyLab } from '../../helpers/proxyLab';
import { fetchFalFile, GOOD_KEY, startFal } from './fal';
import type { FalCredential, N8nInstance } from './n8nInstance';

export type { ProxyLab };

/** fal's CDN origin: the emulator hands out upload and file URLs under it. */
const FAL_CDN = 'https://v3.fal.media';

/** The emulator as fal's hosts, and the lab in front of it. */
export async function startFalBehindProxy(): Promise<{ emu: FalEmulator; lab: ProxyLab }> {
	const emu = await startFal({ publicUrl: FAL_CDN });
	const lab = await startProxyLab({ emulatorUrl: emu.url });
	return { emu, lab };
}

/** A credential as a user behind a company proxy has it: the key, no Proxy URL. */
export function proxiedCredential(id: string, name: string): FalCredential {
	return { id, name, apiKey: GOOD_KEY, proxyUrl: '' };
}

/**
 * Clears every proxy and certificate variable from an instance's environment, so that
 * nothing is inherited from the shell: the tests set what each run needs.
 */
export function clearNetworkVariables(n8n: N8nInstance): void {
	for (const name of NETWORK_VARIABLES) delete n8n.env[name];
}

/**
 * The run's environment for "every fal request through the lab": the lab proxy in
 * `https_proxy`, an upper-case `HTTPS_PROXY` pointing at a port nothing listens on (n8n
 * reads the lower-case one first), and the lab's root in NODE_EXTRA_CA_CERTS.
 */
export function throughLabEnv(lab: ProxyLab): Record<string, string> {
	return {
		https_proxy: lab.proxyUrl,
		HTTPS_PROXY: lab.deadProxyUrl,
		NODE_EXTRA_CA_CERTS: lab.caFile,
	};
}

/** A file of fal's CDN (the emulator), fetched by the test itself, not through the lab. */
export async function cdnFile(emu: FalEmulator, url: unknown): Promise<Buffer> {
	return await fetchFalFile(String(url).replace(FAL_CDN, emu.url));
}

/** Tunnel targets ("connect host:port") and plain-HTTP URLs ("http URL") the proxy received. */
export function proxyTargets(lab: ProxyLab): string[] {
	return [...new Set(lab.records.map((record) => `${record.via} ${record.target}`))].sort();
}

/**
 * What the proxy received that was not a CONNECT to one of fal's host names on port 443,
 * and what it refused: both must be empty. This covers n8n's own outbound calls too, from
 * the process's start (with the suite's settings, scripts/lib/n8n.js and N8nInstance, n8n
 * makes none; see proxy.e2e.test.ts). No host is filtered out of this check.
 */
export function tunnelProblems(lab: ProxyLab) {
	return {
		refused: lab.records.filter((record) => record.refused),
		notFal: lab.records.filter((record) => {
			const [host, port] = record.target.split(':');
			return record.via !== 'connect' || !FAL_HOST.test(host) || port !== '443';
		}),
	};
}

/**
 * What the emulator saw and what arrived through the proxy and the TLS front: equal when
 * every request took the proxy. Take it right after the run, before the test fetches files
 * from the emulator itself.
 */
export function throughTheFront(lab: ProxyLab, emu: FalEmulator) {
	return { frontRequests: lab.frontRequests, emulatorRequests: emu.requests.length };
}
