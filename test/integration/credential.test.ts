/**
 * The falApi credential's Test button: its test request, with `$credentials`
 * expressions resolved by n8n's expression engine and the key applied by its
 * `authenticate` block, sent through n8n-core's HTTP helper to the emulator.
 * (The same check inside a real n8n is in the end-to-end suite.)
 */
import {
	Workflow,
	type ICredentialDataDecryptedObject,
	type IDataObject,
	type IExecuteFunctions,
	type IHttpRequestOptions,
	type INode,
	type INodeType,
} from 'n8n-workflow';

import { FalApi, FAL_CREDENTIAL_TEST_URL } from '../../credentials/FalApi.credentials';
import type { FalEmulator } from '../emulator';
import { runNode } from '../helpers/n8nHarness';
import { KEY, LOCKED_KEY, startEmulator } from './fixtures';

const falApi = new FalApi();
let emu: FalEmulator;

beforeAll(async () => (emu = await startEmulator()));
afterAll(async () => await emu.close());
beforeEach(() => emu.reset());

/** Resolves every `={{ … }}` string of the test request with `$credentials`, as n8n does. */
function resolveTestRequest(credentials: ICredentialDataDecryptedObject): IHttpRequestOptions {
	const node: INode = {
		id: '1',
		name: 'Credential test',
		type: 'test',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
	};
	const workflow = new Workflow({
		nodes: [node],
		connections: {},
		active: false,
		nodeTypes: {
			getByName: () => requester,
			getByNameAndVersion: () => requester,
			getKnownTypes: () => ({}),
		},
	});
	return workflow.expression.getSimpleParameterValue(
		node,
		falApi.test.request as unknown as string,
		'internal',
		{ $credentials: credentials },
	) as unknown as IHttpRequestOptions;
}

/** A node that sends a request with the falApi credential applied, and reports the status. */
const requester: INodeType = {
	description: {
		displayName: 'Requester',
		name: 'requester',
		group: ['transform'],
		version: 1,
		description: 'Sends one authenticated request',
		defaults: { name: 'Requester' },
		inputs: ['main'],
		outputs: ['main'],
		credentials: [{ name: 'falApi', required: true }],
		properties: [{ displayName: 'Request', name: 'request', type: 'json', default: '{}' }],
	},
	async execute(this: IExecuteFunctions) {
		const request = JSON.parse(
			this.getNodeParameter('request', 0) as string,
		) as IHttpRequestOptions;
		const response = (await this.helpers.httpRequestWithAuthentication.call(this, 'falApi', {
			...request,
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
		})) as { statusCode: number; body: IDataObject };
		return [[{ json: { statusCode: response.statusCode, body: response.body } }]];
	},
};

async function testCredential(credentials: ICredentialDataDecryptedObject) {
	const request = resolveTestRequest(credentials);
	const result = await runNode({
		nodeType: requester,
		parameters: { request: JSON.stringify(request) },
		credentials: { falApi: credentials },
		credentialTypes: [falApi],
		inputItems: [{ json: {} }],
	});
	expect(result.error).toBeUndefined();
	return { request, ...(result.items[0].json as { statusCode: number; body: IDataObject }) };
}

describe('falApi credential test', () => {
	it('goes through the proxy with the original URL in x-fal-target-url, and passes with a good key', async () => {
		const { request, statusCode, body } = await testCredential({
			apiKey: KEY,
			proxyUrl: emu.proxyUrl,
		});
		expect(request.url).toBe(emu.proxyUrl);
		expect(request.headers?.['x-fal-target-url']).toBe(FAL_CREDENTIAL_TEST_URL);
		expect(statusCode).toBe(200);
		expect(body).toHaveProperty('upload_url');
		const seen = emu.requests.filter((r) => r.kind === 'initiate');
		expect(seen).toHaveLength(1);
		expect(seen[0].auth).toBe('valid');
	});

	it('fails with a wrong key and with a locked account', async () => {
		expect((await testCredential({ apiKey: 'nope:nope', proxyUrl: emu.proxyUrl })).statusCode).toBe(
			401,
		);
		expect((await testCredential({ apiKey: LOCKED_KEY, proxyUrl: emu.proxyUrl })).statusCode).toBe(
			403,
		);
	});

	it('targets fal directly, without the proxy header, when no proxy is set', () => {
		const request = resolveTestRequest({ apiKey: KEY, proxyUrl: '' });
		expect(request.url).toBe(FAL_CREDENTIAL_TEST_URL);
		expect(request.headers?.['x-fal-target-url']).toBeFalsy();
		expect(request.method).toBe('POST');
	});

	it('never runs a model: the test only opens a storage upload', () => {
		expect(FAL_CREDENTIAL_TEST_URL).toBe(
			'https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3',
		);
		expect(emu.requests.some((r) => r.kind === 'submit' || r.kind === 'sync')).toBe(false);
	});
});
