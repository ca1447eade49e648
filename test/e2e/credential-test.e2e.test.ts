/**
 * The credential's "Test" button in a real n8n: the editor's calls, made through n8n's
 * REST API as a logged-in owner, against the fal emulator (via the credential's proxy
 * URL). n8n evaluates the credential type's `test` request itself, so this checks the
 * expressions in it, the proxy header and the auth header as n8n really sends them.
 */
import { GOOD_KEY, LOCKED_KEY, WRONG_KEY } from './helpers/fal';
import { useN8nSuite } from './helpers/fixture';
import type { N8nServer } from './helpers/n8nInstance';
import { leftoverProcesses, stopProcess } from './helpers/processes';
import { N8nRestClient, type NodeTypeEntry } from './helpers/rest';

const FAL_UPLOAD_INITIATE = 'https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3';
const GOOD = { id: 'falE2eCredGood01', name: 'fal: good key', apiKey: GOOD_KEY };
const WRONG = { id: 'falE2eCredWrong01', name: 'fal: wrong key', apiKey: WRONG_KEY };
const LOCKED = { id: 'falE2eCredLocked01', name: 'fal: locked account', apiKey: LOCKED_KEY };

const suite = useN8nSuite('credential-test', {
	latencyMs: 0,
	env: { N8N_LOG_FORMAT: 'json' },
	credentials: [GOOD, WRONG, LOCKED],
});
let server: N8nServer;
let rest: N8nRestClient;

beforeAll(async () => {
	server = await suite.n8n.start();
	rest = new N8nRestClient(server.baseUrl);
	await rest.setUpOwnerAndLogIn();
}, 180_000);

/** The calls the test made to fal, as the emulator saw them. */
function testCalls() {
	return suite.emulator.requests.map((request) => ({
		method: request.method,
		target: request.target,
		auth: request.auth,
	}));
}

test('n8n loaded the community package: the editor lists the node and the credential type', async () => {
	// The node and credential catalogues the editor downloads after logging in.
	const nodeTypes = await rest.request<NodeTypeEntry[]>('GET', '/types/nodes.json');
	const fill = nodeTypes.filter((type) => type.name === 'n8n-nodes-fal-flux-fill.fluxProFill');
	expect(fill).toHaveLength(1);
	expect(fill[0]).toMatchObject({
		version: 1,
		credentials: [expect.objectContaining({ name: 'falApi' })],
	});
	// usableAsTool: n8n 2.41 derives the AI-agent tool variant for community nodes too (no
	// environment variable needed): no main input, one ai_tool output, a "Description" field for the LLM.
	const tool = nodeTypes.filter((type) => type.name === 'n8n-nodes-fal-flux-fill.fluxProFillTool');
	expect(tool).toHaveLength(1);
	expect(tool[0]).toMatchObject({
		displayName: `${fill[0].displayName} Tool`,
		version: 1,
		inputs: [],
		outputs: ['ai_tool'],
		credentials: [expect.objectContaining({ name: 'falApi' })],
	});
	expect(tool[0].properties?.map((property) => property.name)).toEqual(
		expect.arrayContaining(['toolDescription', 'operation', 'prompt']),
	);
	// The credential is tested by the node's method (testedBy), in the node's own words;
	// without an `authenticate` block n8n offers no "Custom API Call" past the Proxy URL.
	expect(fill[0].credentials).toEqual([
		expect.objectContaining({ name: 'falApi', testedBy: 'falApiCredentialTest' }),
	]);
	const operation = (
		fill[0].properties as Array<{ name: string; options?: Array<{ value: string }> }>
	)?.find((property) => property.name === 'operation');
	expect(operation?.options?.map((option) => option.value)).toEqual([
		'fill',
		'submit',
		'getResult',
		'getStatus',
		'cancel',
	]);
	const credentialTypes = await rest.request<Array<{ name: string; displayName: string }>>(
		'GET',
		'/types/credentials.json',
	);
	expect(credentialTypes.find((type) => type.name === 'falApi')?.displayName).toMatch(/fal/i);
});

describe('credential Test button (POST /rest/credentials/test)', () => {
	test("the imported credentials are the owner's, with the API key redacted", async () => {
		const stored = await rest.call<{ type: string; data: Record<string, unknown> }>(
			'GET',
			`/rest/credentials/${GOOD.id}?includeData=true`,
		);
		expect(stored.type).toBe('falApi');
		expect(stored.data.proxyUrl).toBe(suite.emulator.proxyUrl);
		expect(stored.data.apiKey).not.toBe(GOOD_KEY); // n8n never sends the secret back to the browser
	});

	test('a good key passes, with one free upload-initiate call through the proxy', async () => {
		await expect(rest.testCredential(GOOD)).resolves.toMatchObject({ status: 'OK' });
		expect(testCalls()).toEqual([{ method: 'POST', target: FAL_UPLOAD_INITIATE, auth: 'valid' }]);
		expect(suite.emulator.jobs.size).toBe(0); // nothing billable
	});

	test("a wrong key fails, in the node's words", async () => {
		const result = await rest.testCredential(WRONG);
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(/^fal did not accept the API key\. Check the fal credential/);
		expect(new Set(testCalls().map((call) => JSON.stringify(call)))).toEqual(
			new Set([JSON.stringify({ method: 'POST', target: FAL_UPLOAD_INITIATE, auth: 'invalid' })]),
		);
	});

	test('a locked fal account fails', async () => {
		const result = await rest.testCredential(LOCKED);
		expect(result.status).toBe('Error');
		expect(result.message).toContain(
			'Your fal account cannot run requests: it is out of credit or locked',
		);
		expect(testCalls()).toEqual([{ method: 'POST', target: FAL_UPLOAD_INITIATE, auth: 'locked' }]);
	});

	test('a key typed into the dialog (not saved yet) is the one tested', async () => {
		await expect(rest.testCredential(GOOD, { apiKey: WRONG_KEY })).resolves.toMatchObject({
			status: 'Error',
		});
		expect(new Set(testCalls().map((call) => call.auth))).toEqual(new Set(['invalid']));
		suite.emulator.reset();
		await expect(rest.testCredential(WRONG, { apiKey: GOOD_KEY })).resolves.toMatchObject({
			status: 'OK',
		});
		expect(testCalls().map((call) => call.auth)).toEqual(['valid']);
	});

	// n8n itself logs each failed credential test at level error, so the log is not checked here.
	test('leaves no process behind', async () => {
		await stopProcess(server.process);
		expect(leftoverProcesses()).toEqual([]);
	});
});
