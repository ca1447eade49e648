/**
 * Compatibility matrix: the packed package in other real n8n versions than the pinned
 * 2.41.1 of the rest of the suite (helpers/versions.ts: the latest 1.x and a 2.x of June
 * 2026, both on Node 22). Each version is installed into its own
 * cache folder by scripts/ensure-n8n.sh (NODE_VERSION, N8N_VERSION; minutes the first
 * time, a second after), and checked for what users do with the node:
 * - the credential's Test button (REST, as the editor calls it): good key OK, wrong key Error;
 * - the chained Read → Merge → Fill → Write workflow with the CLI (`n8n execute --id`),
 *   down to the pixels of the files written;
 * - a failing item with "On Error: Continue": the error item reaches the next node;
 * - Submit → Get Result in one workflow (Get Result's default Request ID expression);
 * - a Fill behind a company proxy (the proxy lab, as in proxy.e2e.test.ts): n8n's
 *   `https_proxy` and NODE_EXTRA_CA_CERTS, a credential without Proxy URL, every fal
 *   request through the proxy;
 * - the mask sources that need no mask file: Describe It ("the sky") and Expand Canvas (16:9);
 * - the AI-agent tool variant (`fluxProFillTool`) in the editor's node catalogue;
 * - with `n8n start`: an activated Webhook → Fill workflow answers with the filled image.
 *
 * FAL_FILL_COMPAT=off skips it all; FAL_FILL_COMPAT=1.123.81 (or `<n8n>@<node>`
 * pairs) runs a part. See docs/compat-notes.md.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { ensureN8n, REPO_DIR } from '../../scripts/lib/n8n';
import { SEGMENT_ENDPOINT } from '../emulator';
import { nodeOutput, type RunData } from './helpers/database';
import {
	falCredential,
	fetchFalFile,
	inlinePictures,
	jobsOf,
	sha256,
	WRONG_KEY,
} from './helpers/fal';
import { useN8nSuite } from './helpers/fixture';
import {
	changedRows,
	compareWithInput,
	EXPANDED_16_9,
	expectExpandedFile,
	IMAGE_SIZE,
	maskMismatches,
	postImageAndMask,
	SKY_ROW_INDEXES,
	WRONG_MASK_SIZE,
} from './helpers/images';
import { expectRunSucceeded, type N8nServer } from './helpers/n8nInstance';
import { leftoverProcesses, stopAllProcesses, stopProcess } from './helpers/processes';
import {
	cdnFile,
	proxiedCredential,
	proxyTargets,
	throughLabEnv,
	throughTheFront,
	tunnelProblems,
} from './helpers/proxy';
import { N8nRestClient, type NodeTypeEntry } from './helpers/rest';
import {
	optionalNodeApis,
	selectedTargets,
	serverEnvFor,
	type CompatTarget,
} from './helpers/versions';
import {
	cliWorkflows,
	describeItWorkflow,
	expandCanvasWorkflow,
	fillChain,
	fluxFill,
	manualTrigger,
	submitThenGetResult,
	webhookTrigger,
	workflow,
	writeFile,
} from './helpers/workflows';

const CHAINED = 'falCompatChained01';
const CONTINUING = 'falCompatContinue01';
const SUBMIT_GET = 'falCompatSubmitGet01';
const WEBHOOK = 'falCompatWebhook01';
const PROXIED = 'falCompatProxied01';
const DESCRIBE = 'falCompatDescribe01';
const EXPAND = 'falCompatExpand01';
const WEBHOOK_PATH = 'fal-fill-compat';
const CREDENTIAL = { id: 'falCompatCred01', name: 'fal (emulator)' };
const WRONG = { id: 'falCompatWrong01', name: 'fal: wrong key' };
/** For the proxy lab: as a user behind a company proxy has it, the key and no Proxy URL. */
const NO_PROXY_URL = { id: 'falCompatNoPxUrl01', name: 'fal (no Proxy URL)' };
const FILL_TYPE = 'n8n-nodes-fal-flux-fill.fluxProFill';
const WRONG_SIZE_MESSAGE = `The mask is ${WRONG_MASK_SIZE.width}×${WRONG_MASK_SIZE.height} pixels but the image is ${IMAGE_SIZE.width}×${IMAGE_SIZE.height}`;
/** A cold install downloads n8n and builds sqlite3 from source: about 5 minutes on 2 CPUs. */
const INSTALL_TIMEOUT_MS = 25 * 60_000;

const targets = selectedTargets();

if (targets.length === 0) {
	// Switched off on purpose; the run says so instead of silently testing nothing.
	test('compatibility matrix switched off with FAL_FILL_COMPAT=off', () => {
		expect(process.env.FAL_FILL_COMPAT).toBe('off');
	});
}

for (const target of targets) {
	describe(`n8n ${target.n8n} on Node ${target.node} (${target.why})`, () => {
		compatChecks(target);
	});
}

function compatChecks(target: CompatTarget): void {
	let startedAt = 0;
	let readyAt = 0;

	const suite = useN8nSuite(path.join('compat', `n8n-${target.n8n}`), {
		install: async () => {
			startedAt = Date.now();
			const install = await ensureN8n({ n8nVersion: target.n8n, nodeVersion: target.node });
			const apis = Object.entries(optionalNodeApis(install))
				.map(([name, present]) => `${name} ${present ? 'yes' : 'NO'}`)
				.join(', ');
			process.stderr.write(
				`\n[compat] n8n ${target.n8n} on Node ${target.node}: ${install.dir}, ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; optional node APIs: ${apis}\n`,
			);
			return install;
		},
		photo: true,
		// `suite.behindProxy`: the emulator as fal's own hosts, reached only through the proxy
		// lab. No proxy or certificate setting from the shell; the proxy test sets its own.
		proxyLab: true,
		credentials: ({ emulator }) => [
			falCredential(emulator, CREDENTIAL.id, CREDENTIAL.name),
			falCredential(emulator, WRONG.id, WRONG.name, WRONG_KEY),
			proxiedCredential(NO_PROXY_URL.id, NO_PROXY_URL.name),
		],
		timeoutMs: INSTALL_TIMEOUT_MS,
	});

	beforeAll(async () => {
		const { fixtures, outputDir } = suite;
		const photoFile = suite.photo.file;
		const { fill, chained, continuing } = cliWorkflows(CREDENTIAL, fixtures, outputDir);
		const proxied = fillChain(
			manualTrigger(),
			fixtures,
			{ ...fill, credential: NO_PROXY_URL, numImages: 1 },
			writeFile('Write images', `=${outputDir}/proxied-{{ $json.image_index + 1 }}.png`),
		);
		await suite.n8n.importWorkflows([
			workflow(CHAINED, 'compat: chained fill', chained.nodes, chained.edges),
			workflow(CONTINUING, 'compat: wrong mask, continue', continuing.nodes, continuing.edges),
			submitThenGetResult(
				SUBMIT_GET,
				'compat: submit, then get result',
				CREDENTIAL,
				fixtures,
				`=${outputDir}/submitted-{{ $json.image_index + 1 }}.png`,
			),
			// Answers the caller with the first generated image.
			workflow(
				WEBHOOK,
				'compat: webhook fill',
				[
					webhookTrigger('Webhook', WEBHOOK_PATH),
					fluxFill('FLUX.1 Fill', { ...fill, numImages: 1 }),
				],
				[['Webhook', 'FLUX.1 Fill']],
			),
			workflow(PROXIED, 'compat: fill through a proxy', proxied.nodes, proxied.edges),
			describeItWorkflow(DESCRIBE, 'compat: describe it', CREDENTIAL, photoFile, outputDir),
			expandCanvasWorkflow(EXPAND, 'compat: expand canvas', CREDENTIAL, photoFile, outputDir),
		]);
		readyAt = Date.now();
	}, INSTALL_TIMEOUT_MS);

	// After the suite's clean-up (jest runs afterAll hooks in order).
	afterAll(() => {
		if (readyAt) {
			process.stderr.write(
				`\n[compat] n8n ${target.n8n}: checks took ${((Date.now() - readyAt) / 1000).toFixed(1)} s (${((Date.now() - startedAt) / 1000).toFixed(1)} s with install and imports)\n`,
			);
		}
	});

	test("the cached install is that n8n on that Node, and passes ensure-n8n.sh's check at once", () => {
		expect(suite.install.n8nVersion).toBe(target.n8n);
		expect(suite.install.nodeVersion).toBe(target.node);
		const nodeVersion = spawnSync(suite.install.nodeBin, ['--version'], { encoding: 'utf8' });
		expect(nodeVersion.stdout.trim()).toBe(`v${target.node}`);
		// The check (this Node loads n8n's sqlite3 binding and queries a database) passes
		// silently on a warm cache.
		const started = Date.now();
		const check = spawnSync('bash', [path.join(REPO_DIR, 'scripts', 'ensure-n8n.sh')], {
			env: {
				...process.env,
				FAL_FILL_E2E_CACHE: path.dirname(suite.install.dir),
				N8N_VERSION: target.n8n,
				NODE_VERSION: target.node,
			},
			encoding: 'utf8',
		});
		expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
		expect(check.stdout.trim()).toBe(suite.install.dir);
		expect(Date.now() - started).toBeLessThan(10_000);
		// n8n's own `engines` accepts this Node.
		const engines = (
			JSON.parse(
				fs.readFileSync(
					path.join(suite.install.dir, 'node_modules', 'n8n', 'package.json'),
					'utf8',
				),
			) as { engines: { node: string } }
		).engines.node;
		const satisfied = spawnSync(
			suite.install.nodeBin,
			[
				'-e',
				`const semver = require(require.resolve('semver', { paths: [${JSON.stringify(path.join(suite.install.dir, 'node_modules', 'n8n'))}] }));
				process.exit(semver.satisfies(process.version, ${JSON.stringify(engines)}) ? 0 : 1);`,
			],
			{ encoding: 'utf8' },
		);
		expect({ engines, satisfied: satisfied.status }).toEqual({ engines, satisfied: 0 });
	});

	test('chained: read image and mask, combine them, fill 2 images, write both files (CLI)', async () => {
		const result = await suite.n8n.execute(CHAINED);
		expectRunSucceeded(result);
		const executions = await suite.n8n.db.executions(CHAINED);
		expect(executions).toHaveLength(1);
		expect(executions[0]).toMatchObject({ mode: 'cli', status: 'success', finished: 1 });
		const run = await suite.n8n.db.runData(executions[0].id);

		const merged = nodeOutput(run, 'Image + mask');
		expect(merged).toHaveLength(1);
		expect(Object.keys(merged[0].binary ?? {}).sort()).toEqual(['data', 'mask']);

		const filled = nodeOutput(run, 'FLUX.1 Fill');
		expect(filled).toHaveLength(2);
		const requestId = filled[0].json.request_id;
		filled.forEach((item, index) => {
			expect(item.json).toMatchObject({
				request_id: requestId,
				image_index: index,
				content_type: 'image/png',
				width: IMAGE_SIZE.width,
				height: IMAGE_SIZE.height,
				seed: 42,
				prompt: 'a hot-air balloon',
				has_nsfw_concept: false,
			});
			expect(item.binary?.data).toMatchObject({
				mimeType: 'image/png',
				fileName: expect.stringMatching(/\.png$/),
			});
		});
		// The cost hint needs `this.addExecutionHints`; where n8n has none, the node skips it.
		const hints = fillHints(run);
		if (optionalNodeApis(suite.install).addExecutionHints) {
			expect(hints).toEqual([
				expect.objectContaining({ message: expect.stringMatching(/^Estimated fal cost/) }),
			]);
		} else {
			expect(hints).toEqual([]);
		}

		const files = nodeOutput(run, 'Write images').map((item) => String(item.json.fileName));
		expect(files).toEqual([
			path.join(suite.outputDir, 'chained-1.png'),
			path.join(suite.outputDir, 'chained-2.png'),
		]);

		const jobs = jobsOf(suite.emulator);
		expect(jobs).toHaveLength(1);
		expect(jobs[0].id).toBe(requestId);
		expect(jobs[0].input).toMatchObject({ num_images: 2, output_format: 'png', seed: 42 });
		expect(
			suite.emulator.requests.filter((request) => request.kind === 'submit').map((r) => r.auth),
		).toEqual(['valid']);
		// Image and mask went inline, in the submit (pictures up to 1 MiB are not uploaded).
		expect(suite.emulator.uploads).toEqual([]);
		const sent = inlinePictures(jobs[0].input);
		expect(sha256(sent.image)).toBe(sha256(suite.fixtures.imageBytes));
		expect(await maskMismatches(sent.mask)).toBe(0);

		const contents = files.map((file) => fs.readFileSync(file));
		for (const [index, bytes] of contents.entries()) {
			expect(await compareWithInput(bytes, suite.fixtures.imageBytes)).toMatchObject({
				format: 'png',
				width: IMAGE_SIZE.width,
				height: IMAGE_SIZE.height,
				changedOutsideMask: 0,
			});
			expect(sha256(bytes)).toBe(sha256(await fetchFalFile(String(filled[index].json.url))));
		}
		expect(sha256(contents[0])).not.toBe(sha256(contents[1]));
	});

	test('a failing item with "On Error: Continue" reaches the next node as an error item (CLI)', async () => {
		const result = await suite.n8n.execute(CONTINUING);
		expectRunSucceeded(result);
		const executions = await suite.n8n.db.executions(CONTINUING);
		expect(executions).toHaveLength(1);
		expect(executions[0]).toMatchObject({ status: 'success' });
		const next = nodeOutput(await suite.n8n.db.runData(executions[0].id), 'Next node');
		expect(next).toHaveLength(1);
		expect(next[0].json).toMatchObject({ error: WRONG_SIZE_MESSAGE });
		expect(next[0].binary).toBeUndefined();
		expect(suite.emulator.requests).toEqual([]); // refused before uploading anything
	});

	test('Submit, then Get Result with its default Request ID, in one workflow (CLI)', async () => {
		const result = await suite.n8n.execute(SUBMIT_GET);
		expectRunSucceeded(result);
		const executions = await suite.n8n.db.executions(SUBMIT_GET);
		expect(executions).toHaveLength(1);
		expect(executions[0]).toMatchObject({ mode: 'cli', status: 'success' });
		const run = await suite.n8n.db.runData(executions[0].id);

		const submitted = nodeOutput(run, 'Submit');
		expect(submitted).toHaveLength(1);
		const requestId = submitted[0].json.request_id;
		expect(requestId).toEqual(expect.any(String));
		expect(submitted[0].binary).toBeUndefined();

		const results = nodeOutput(run, 'Get result');
		expect(results).toHaveLength(1);
		expect(results[0].json).toMatchObject({
			request_id: requestId,
			image_index: 0,
			width: IMAGE_SIZE.width,
			height: IMAGE_SIZE.height,
		});
		// Get Result does not start paid work: no cost hint of its own.
		expect(fillHints(run, 'Get result')).toEqual([]);

		const jobs = jobsOf(suite.emulator);
		expect(jobs.map((job) => job.id)).toEqual([requestId]);
		expect(jobs[0].webhookUrl).toBeUndefined();
		expect(suite.emulator.requests.filter((request) => request.kind === 'submit')).toHaveLength(1);
		expect(suite.emulator.requests.filter((request) => request.kind === 'result')).not.toHaveLength(
			0,
		);

		const file = path.join(suite.outputDir, 'submitted-1.png');
		expect(nodeOutput(run, 'Write image').map((item) => item.json.fileName)).toEqual([file]);
		const bytes = fs.readFileSync(file);
		expect(await compareWithInput(bytes, suite.fixtures.imageBytes)).toMatchObject({
			format: 'png',
			width: IMAGE_SIZE.width,
			height: IMAGE_SIZE.height,
			changedOutsideMask: 0,
		});
		expect(sha256(bytes)).toBe(sha256(await fetchFalFile(String(results[0].json.url))));
	});

	test("Fill behind a company proxy: n8n's https_proxy and NODE_EXTRA_CA_CERTS, credential without Proxy URL (CLI)", async () => {
		const result = await suite.n8n.execute(PROXIED, throughLabEnv(suite.lab));
		const counts = throughTheFront(suite.lab, suite.behindProxy);
		expectRunSucceeded(result);
		// Every request the emulator saw came through the proxy and the TLS front, in tunnels
		// to fal's names, and nothing else (n8n's own calls included) went through the proxy.
		expect(counts.emulatorRequests).toBeGreaterThan(0);
		expect(counts.frontRequests).toBe(counts.emulatorRequests);
		expect(tunnelProblems(suite.lab)).toEqual({ refused: [], notFal: [] });
		// fal's API and CDN; no storage (rest.fal.ai): the small pictures went inline.
		expect(proxyTargets(suite.lab)).toEqual([
			'connect queue.fal.run:443',
			'connect v3.fal.media:443',
		]);
		process.stderr.write(
			`\n[compat] n8n ${target.n8n}: Fill through the proxy, ${counts.emulatorRequests} fal requests in ${suite.lab.records.length} CONNECT tunnels\n`,
		);
		expect(
			suite.behindProxy.requests
				.filter((request) => request.kind === 'submit')
				.map((request) => request.auth),
		).toEqual(['valid']);

		const executions = await suite.n8n.db.executions(PROXIED);
		expect(executions).toHaveLength(1);
		expect(executions[0]).toMatchObject({ mode: 'cli', status: 'success' });
		const run = await suite.n8n.db.runData(executions[0].id);
		const filled = nodeOutput(run, 'FLUX.1 Fill');
		expect(filled).toHaveLength(1);
		expect(filled[0].json).toMatchObject({
			url: expect.stringMatching(/^https:\/\/v3\.fal\.media\/files\//),
			content_type: 'image/png',
			...IMAGE_SIZE,
		});
		expect(jobsOf(suite.behindProxy).map((job) => job.id)).toEqual([filled[0].json.request_id]);

		const file = path.join(suite.outputDir, 'proxied-1.png');
		expect(nodeOutput(run, 'Write images').map((item) => item.json.fileName)).toEqual([file]);
		const bytes = fs.readFileSync(file);
		expect(await compareWithInput(bytes, suite.fixtures.imageBytes)).toMatchObject({
			format: 'png',
			...IMAGE_SIZE,
			changedOutsideMask: 0,
		});
		expect(sha256(bytes)).toBe(sha256(await cdnFile(suite.behindProxy, filled[0].json.url)));
	});

	test('Describe It: "the sky" is segmented once, and only the sky is repainted (CLI)', async () => {
		const result = await suite.n8n.execute(DESCRIBE);
		expectRunSucceeded(result);
		const executions = await suite.n8n.db.executions(DESCRIBE);
		expect(executions).toHaveLength(1);
		expect(executions[0]).toMatchObject({ mode: 'cli', status: 'success' });
		const filled = nodeOutput(await suite.n8n.db.runData(executions[0].id), 'FLUX.1 Fill');
		expect(filled).toHaveLength(2);

		const segmentations = [...suite.emulator.jobsFor(SEGMENT_ENDPOINT).values()];
		expect(segmentations).toHaveLength(1);
		expect(segmentations[0].input).toMatchObject({ prompt: 'the sky', mask_only: true });
		expect(jobsOf(suite.emulator)).toHaveLength(1);
		expect(filled.map((item) => item.json.segmentation_request_id)).toEqual([
			segmentations[0].id,
			segmentations[0].id,
		]);
		for (const n of [1, 2]) {
			const bytes = fs.readFileSync(path.join(suite.outputDir, `sky-${n}.png`));
			expect(await changedRows(bytes, suite.photo.bytes)).toEqual(SKY_ROW_INDEXES);
		}
	});

	test('Expand Canvas: the photo becomes 16:9, its middle untouched, the sides painted (CLI)', async () => {
		const result = await suite.n8n.execute(EXPAND);
		expectRunSucceeded(result);
		const executions = await suite.n8n.db.executions(EXPAND);
		expect(executions).toHaveLength(1);
		expect(executions[0]).toMatchObject({ mode: 'cli', status: 'success' });
		const filled = nodeOutput(await suite.n8n.db.runData(executions[0].id), 'FLUX.1 Fill');
		expect(filled.map((item) => item.json)).toEqual([
			expect.objectContaining({ width: EXPANDED_16_9.width, height: EXPANDED_16_9.height }),
		]);
		expect(suite.emulator.jobsFor(SEGMENT_ENDPOINT).size).toBe(0);
		expect(jobsOf(suite.emulator)).toHaveLength(1);

		await expectExpandedFile(path.join(suite.outputDir, 'wide-1.png'), suite.photo.bytes);
	});

	describe('n8n start', () => {
		let server: N8nServer;
		let rest: N8nRestClient;

		beforeAll(async () => {
			// Activated before the start: `publish:workflow` on n8n 2.x, `update:workflow
			// --active=true` on 1.x (scripts/lib/n8n.js chooses by the install's version).
			await suite.n8n.publish(WEBHOOK);
			server = await suite.n8n.start(serverEnvFor(suite.install));
			rest = new N8nRestClient(server.baseUrl);
			await rest.setUpOwnerAndLogIn();
			await suite.n8n.webhookRegistered(server, WEBHOOK, WEBHOOK_PATH);
		}, 180_000);

		afterAll(async () => {
			if (server) await stopProcess(server.process);
		});

		test('the editor lists the node, its credential and its AI-agent tool variant', async () => {
			const nodeTypes = await rest.request<NodeTypeEntry[]>('GET', '/types/nodes.json');
			const fill = nodeTypes.filter((type) => type.name === FILL_TYPE);
			expect(fill).toHaveLength(1);
			expect(fill[0]).toMatchObject({
				version: 1,
				credentials: [expect.objectContaining({ name: 'falApi' })],
			});
			// No N8N_COMMUNITY_PACKAGES_ALLOW_TOOL_USAGE needed: every version of the matrix
			// derives tool variants of community nodes by itself.
			const tool = nodeTypes.filter((type) => type.name === `${FILL_TYPE}Tool`);
			expect(tool).toHaveLength(1);
			expect(tool[0]).toMatchObject({
				displayName: `${fill[0].displayName} Tool`,
				inputs: [],
				outputs: ['ai_tool'],
				credentials: [expect.objectContaining({ name: 'falApi' })],
			});
			expect(tool[0].properties?.map((property) => property.name)).toEqual(
				expect.arrayContaining(['toolDescription', 'operation', 'prompt']),
			);
			const credentialTypes = await rest.request<Array<{ name: string }>>(
				'GET',
				'/types/credentials.json',
			);
			expect(credentialTypes.map((type) => type.name)).toContain('falApi');
		});

		test("the credential's Test button: a good key passes, a wrong key fails in the node's words", async () => {
			await expect(rest.testCredential(CREDENTIAL)).resolves.toMatchObject({ status: 'OK' });
			expect(suite.emulator.requests.map((request) => request.auth)).toEqual(['valid']);
			expect(suite.emulator.jobs.size).toBe(0); // nothing billable

			suite.emulator.reset();
			const wrong = await rest.testCredential(WRONG);
			expect(wrong.status).toBe('Error');
			expect(wrong.message).toMatch(/^fal did not accept the API key\. Check the fal credential/);
			expect(new Set(suite.emulator.requests.map((request) => request.auth))).toEqual(
				new Set(['invalid']),
			);
		});

		test('an activated Webhook → Fill workflow answers the caller with the filled image', async () => {
			const response = await postImageAndMask(
				`${server.baseUrl}/webhook/${WEBHOOK_PATH}`,
				suite.fixtures,
				90_000,
			);
			const answer = Buffer.from(await response.arrayBuffer());
			expect({ status: response.status, type: response.headers.get('content-type') }).toEqual({
				status: 200,
				type: expect.stringMatching(/^image\/png/),
			});
			expect(await compareWithInput(answer, suite.fixtures.imageBytes)).toMatchObject({
				format: 'png',
				...IMAGE_SIZE,
				changedOutsideMask: 0,
			});
			const jobs = jobsOf(suite.emulator);
			expect(jobs).toHaveLength(1);
			expect(sha256(answer)).toBe(sha256(await fetchFalFile(jobs[0].result.images[0].url)));
			const executions = await suite.n8n.db.executions(WEBHOOK);
			expect(executions).toHaveLength(1);
			expect(executions[0]).toMatchObject({ mode: 'webhook', status: 'success' });
		});
	});

	describe('at the end', () => {
		test('leaves no process behind', async () => {
			await stopAllProcesses();
			expect(leftoverProcesses()).toEqual([]);
		});
	});
}

/** The execution hints n8n recorded for a node's first run. */
function fillHints(run: RunData, nodeName = 'FLUX.1 Fill'): Array<{ message: string }> {
	const taskData = run.resultData.runData[nodeName]?.[0] as { hints?: Array<{ message: string }> };
	return taskData?.hints ?? [];
}
