/**
 * The falApi credential's Test button: the node's `falApiCredentialTest` method, as n8n
 * calls it for the credential dialog, against the emulator over real HTTP (through the
 * credential's proxy URL). The same check inside a real n8n is in the end-to-end suite.
 */
import net from 'node:net';

import { CredentialTestContext } from 'n8n-core';
import type { ICredentialsDecrypted, IWorkflowExecuteAdditionalData } from 'n8n-workflow';

import { FluxProFill } from '../../nodes/FluxProFill/FluxProFill.node';
import { falApiCredentialTest } from '../../nodes/FluxProFill/methods/credentialTest';
import type { FalEmulator } from '../emulator';
import { KEY, LOCKED_KEY, startEmulator } from './fixtures';

let emu: FalEmulator;

beforeAll(async () => (emu = await startEmulator()));
afterAll(async () => await emu.close());
beforeEach(() => emu.reset());

// n8n's own context for credential tests, so the request goes through n8n's request helper.
const context = new CredentialTestContext({} as IWorkflowExecuteAdditionalData);

async function testCredential(data: { apiKey: string; proxyUrl: string }) {
	const credential: ICredentialsDecrypted = { id: '1', name: 'fal', type: 'falApi', data };
	return await falApiCredentialTest.call(context, credential);
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as net.AddressInfo;
	await new Promise((resolve) => server.close(resolve));
	return port;
}

describe('falApi credential test', () => {
	it('is the node method that n8n calls for the credential', () => {
		const node = new FluxProFill();
		expect(node.description.credentials).toEqual([
			expect.objectContaining({ name: 'falApi', testedBy: 'falApiCredentialTest' }),
		]);
		expect(node.methods.credentialTest.falApiCredentialTest).toBe(falApiCredentialTest);
	});

	it('passes with a good key, with one free upload-initiate call through the proxy', async () => {
		expect(await testCredential({ apiKey: KEY, proxyUrl: emu.proxyUrl })).toEqual({
			status: 'OK',
			message: 'Connection tested successfully',
		});
		const seen = emu.requests.filter((r) => r.kind === 'initiate');
		expect(seen).toHaveLength(1);
		expect(seen[0].auth).toBe('valid');
		expect(emu.requests.some((r) => r.kind === 'submit' || r.kind === 'sync')).toBe(false);
	});

	it("says a wrong key in the node's words, and never shows the key", async () => {
		const result = await testCredential({
			apiKey: 'wrong-id:wrong-secret-value',
			proxyUrl: emu.proxyUrl,
		});
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(
			/^fal did not accept the API key\. Check the fal credential: the key must be the full "key_id:key_secret"/,
		);
		expect(result.message).not.toContain('wrong-secret-value');
	});

	it('says a locked or out-of-credit account, with where to top it up', async () => {
		const result = await testCredential({ apiKey: LOCKED_KEY, proxyUrl: emu.proxyUrl });
		expect(result.status).toBe('Error');
		expect(result.message).toContain(
			'Your fal account cannot run requests: it is out of credit or locked',
		);
		expect(result.message).toContain('https://fal.ai/dashboard/billing');
	});

	it('says which proxy is unreachable', async () => {
		const port = await closedPort();
		const result = await testCredential({
			apiKey: KEY,
			proxyUrl: `http://127.0.0.1:${port}/proxy`,
		});
		expect(result.status).toBe('Error');
		expect(result.message).toBe(
			`Could not reach the proxy at http://127.0.0.1:${port}: the connection was refused. Check that the proxy is running and reachable from n8n, or empty "Proxy URL" to call fal directly.`,
		);
	});

	it('refuses a proxy URL with a user and password, without repeating them', async () => {
		const result = await testCredential({
			apiKey: KEY,
			proxyUrl: `${emu.proxyUrl.replace('http://', 'http://user:pa55word@')}`,
		});
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(
			/^The credential's "Proxy URL" contains a user name and password, which the node cannot send\./,
		);
		expect(result.message).not.toContain('pa55word');
		expect(emu.requests).toHaveLength(0);
	});

	it('says fal is unreachable when there is no proxy and no way to fal (this machine has no internet)', async () => {
		const result = await testCredential({ apiKey: KEY, proxyUrl: '' });
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(/^Could not reach fal: /);
		expect(result.message).toContain('can reach fal.ai over HTTPS');
	});

	it('asks for a key when there is none', async () => {
		expect(await testCredential({ apiKey: '  ', proxyUrl: emu.proxyUrl })).toEqual({
			status: 'Error',
			message: 'Enter your fal API key: the whole key_id:key_secret',
		});
		expect(emu.requests).toHaveLength(0);
	});
});
