/**
 * Queue mode: an n8n main and one `n8n worker` sharing a Redis (started here) and a
 * database, binary data kept in the database. A Webhook node receives image and mask
 * as multipart upload on the main; the execution is queued, the worker runs the fill
 * node, and the webhook answers its caller with the first generated image.
 *
 * The worker has its own user folder with its own install of the package, as on a
 * separate machine: only the database, Redis and the encryption key are shared. That is
 * what the README asks of queue-mode users (install on every worker, same key).
 *
 * Then a worker crash: SIGKILL to the worker while fal runs a long job, and the README's
 * recovery recipe (examples/get-results-by-id.workflow.json) fed with the worker's log
 * lines downloads the image that was paid for, without paying again.
 */
import fs from 'node:fs';
import path from 'node:path';

import { nodeOutput } from './helpers/database';
import { fetchFalFile, jobsOf, sha256 } from './helpers/fal';
import { useN8nSuite } from './helpers/fixture';
import { compareWithInput, IMAGE_SIZE, postImageAndMask } from './helpers/images';
import { expectRunSucceeded, loggedErrors, type N8nServer } from './helpers/n8nInstance';
import { killProcess, leftoverProcesses, stopProcess, tail, waitFor } from './helpers/processes';
import { processesInGroup } from './helpers/processRegistry';
import { fluxFill, getResultsByIdExample, webhookTrigger, workflow } from './helpers/workflows';

const WEBHOOK_WORKFLOW = 'falE2eQueueWebhook01';
const WEBHOOK_PATH = 'fal-fill-e2e';
/** Answers "Workflow was started" at once; the worker then fills, slowly (CRASH_JOB_MS at fal). */
const CRASH_WORKFLOW = 'falE2eQueueCrash01';
const CRASH_PATH = 'fal-fill-e2e-slow';
const CRASH_JOB_MS = 8_000;
const CREDENTIAL = { id: 'falE2eQueueCred01', name: 'fal (emulator)' };

const suite = useN8nSuite('queue-mode', {
	queueMode: true,
	env: { N8N_LOG_FORMAT: 'json' },
	credentials: [CREDENTIAL],
	resetBetweenTests: false,
});
let mainServer: N8nServer;
let workerServer: N8nServer;

beforeAll(async () => {
	const main = suite.n8n;
	const trigger = webhookTrigger('Webhook', WEBHOOK_PATH);
	const fill = fluxFill('FLUX.1 Fill', {
		credential: CREDENTIAL,
		numImages: 2,
		outputFormat: 'png',
		seed: 7,
	});
	const slowFill = fluxFill('FLUX.1 Fill', { credential: CREDENTIAL, numImages: 1, seed: 11 });
	await main.importWorkflows([
		workflow(
			WEBHOOK_WORKFLOW,
			'e2e: webhook fill (queue mode)',
			[trigger, fill],
			[['Webhook', 'FLUX.1 Fill']],
		),
		workflow(
			CRASH_WORKFLOW,
			'e2e: slow fill, its worker killed (queue mode)',
			[webhookTrigger('Webhook', CRASH_PATH, 'onReceived'), slowFill],
			[['Webhook', 'FLUX.1 Fill']],
		),
	]);
	await main.publish(WEBHOOK_WORKFLOW);
	await main.publish(CRASH_WORKFLOW);

	mainServer = await main.start(); // runs the migrations the worker relies on: start it first
	workerServer = await suite.worker.startWorker();
	// n8n activates published workflows in the background: a call before would get a 404 (logged as an error).
	await main.webhookRegistered(mainServer, WEBHOOK_WORKFLOW, WEBHOOK_PATH);
	await main.webhookRegistered(mainServer, CRASH_WORKFLOW, CRASH_PATH);
}, 240_000);

/** POSTs image and mask as multipart form fields `data` and `mask` (the Webhook node's binary fields). */
async function callWebhook(): Promise<Response> {
	// The Webhook node answers with the filled image, so the call lasts the whole execution.
	return await postImageAndMask(
		`${mainServer.baseUrl}/webhook/${WEBHOOK_PATH}`,
		suite.fixtures,
		90_000,
	);
}

describe('queue mode: main + worker + Redis, webhook-triggered', () => {
	let executionId: number;
	let answer: Buffer;

	test('the webhook caller gets the filled image', async () => {
		// n8n answers 404 until the webhook is registered; a 404 starts no execution, so retrying is safe.
		const response = await waitFor(
			'the webhook to answer',
			async () => {
				const attempt = await callWebhook();
				return attempt.status === 404 ? undefined : attempt;
			},
			{ timeoutMs: 30_000, intervalMs: 1_000, detail: () => tail(mainServer.process) },
		);
		answer = Buffer.from(await response.arrayBuffer());
		expect({ status: response.status, type: response.headers.get('content-type') }).toEqual({
			status: 200,
			type: expect.stringMatching(/^image\/png/),
		});

		const comparison = await compareWithInput(answer, suite.fixtures.imageBytes);
		expect(comparison).toMatchObject({ format: 'png', ...IMAGE_SIZE, changedOutsideMask: 0 });
		expect(comparison.changedInsideMask).toBeGreaterThan(0.5);

		// Byte for byte fal's first image of the one request made.
		const jobs = jobsOf(suite.emulator);
		expect(jobs).toHaveLength(1);
		expect(jobs[0].input).toMatchObject({ num_images: 2, seed: 7 });
		expect(sha256(answer)).toBe(sha256(await fetchFalFile(jobs[0].result.images[0].url)));
	});

	test('the main queued the execution and the worker ran it', async () => {
		const executions = await suite.n8n.db.executions(WEBHOOK_WORKFLOW);
		expect(executions).toHaveLength(1);
		expect(executions[0]).toMatchObject({ mode: 'webhook', status: 'success', finished: 1 });
		executionId = executions[0].id;

		expect(mainServer.process.output()).toMatch(new RegExp(`Enqueued execution ${executionId}\\b`));
		expect(workerServer.process.output()).toMatch(
			new RegExp(`Worker started execution ${executionId}\\b`),
		);
		expect(workerServer.process.output()).toMatch(
			new RegExp(`Worker finished execution ${executionId}\\b`),
		);
		expect(mainServer.process.output()).not.toMatch(/Worker started execution/);
	});

	test('the run data and the binary data are in the database', async () => {
		const run = await suite.n8n.db.runData(executionId);
		const received = nodeOutput(run, 'Webhook');
		expect(Object.keys(received[0].binary ?? {}).sort()).toEqual(['data', 'mask']);
		const filled = nodeOutput(run, 'FLUX.1 Fill');
		expect(filled.map((item) => item.json.image_index)).toEqual([0, 1]);

		// Every binary of the run is a reference into the database ("database:<file id>"), and
		// the rows are there: the upload the main received (n8n files it under "temp") and
		// the images the worker made (filed under the execution).
		const references = {
			received: [received[0].binary?.data?.id, received[0].binary?.mask?.id],
			made: filled.map((item) => item.binary?.data?.id),
		};
		for (const id of [...references.received, ...references.made])
			expect(id).toMatch(/^database:[0-9a-f-]{36}$/);
		const fileId = (id: string | undefined) => String(id).slice('database:'.length);
		const receivedRows = await suite.n8n.db.binaryFiles(references.received.map(fileId));
		expect(receivedRows.map((row) => row.fileSize).sort((a, b) => a - b)).toEqual(
			[suite.fixtures.maskBytes.length, suite.fixtures.imageBytes.length].sort((a, b) => a - b),
		);
		const made = await suite.n8n.db.binaryFiles(references.made.map(fileId));
		expect(made).toHaveLength(2);
		for (const row of made)
			expect(row).toMatchObject({
				sourceType: 'execution',
				sourceId: String(executionId),
				mimeType: 'image/png',
			});
		expect(made.find((row) => row.fileId === fileId(references.made[0]))?.fileSize).toBe(
			answer.length,
		);
	});

	test('no errors in the logs of main and worker', () => {
		expect(loggedErrors(mainServer.process)).toEqual([]);
		expect(loggedErrors(workerServer.process)).toEqual([]);
	});
});

describe('a worker killed mid-run: the fal request it paid for is recovered from its log', () => {
	/** What `grep 'fal accepted request' worker.log` prints, as the README tells operators to run it. */
	let logLines: string[];
	let crashedExecution: number;

	beforeAll(() => {
		// From here on fal knows only this run's request: the first test's request stands for
		// one fal no longer keeps (it keeps results for a limited time).
		suite.emulator.reset();
		suite.emulator.configure({ latencyMs: CRASH_JOB_MS });
	});
	afterAll(() => suite.emulator.configure({ latencyMs: 150 }));

	test('the worker logs the request fal accepted; SIGKILL ends it while fal runs the job', async () => {
		const worker = workerServer.process;
		const response = await postImageAndMask(
			`${mainServer.baseUrl}/webhook/${CRASH_PATH}`,
			suite.fixtures,
		);
		expect(response.status).toBe(200); // "Workflow was started": the worker runs it
		[{ id: crashedExecution }] = await suite.n8n.db.executions(CRASH_WORKFLOW);
		const job = await waitFor('fal to receive the submit', () => jobsOf(suite.emulator)[0], {
			timeoutMs: 60_000,
			intervalMs: 100,
			detail: () => tail(worker),
		});
		const accepted = new RegExp(`fal accepted request .* in execution ${crashedExecution}\\b`);
		await waitFor(
			'the worker to log the request fal accepted',
			() => accepted.test(fs.readFileSync(worker.logFile, 'utf8')),
			{ timeoutMs: 15_000, intervalMs: 100, detail: () => tail(worker) },
		);
		const statusAtKill = job.status;
		const exit = await killProcess(worker);

		expect(statusAtKill).toBe('IN_PROGRESS'); // the worker died while fal ran the job
		expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
		expect(processesInGroup(worker.pid)).toEqual([]); // its task runner went with it
		const [execution] = await suite.n8n.db.executions(CRASH_WORKFLOW);
		expect(execution.status).not.toBe('success');
		expect(worker.output()).toMatch(new RegExp(`Worker started execution ${crashedExecution}\\b`));
		expect(worker.output()).not.toMatch(
			new RegExp(`Worker finished execution ${crashedExecution}\\b`),
		);
		// What the operator has afterwards: the dead worker's log file.
		logLines = fs
			.readFileSync(worker.logFile, 'utf8')
			.split('\n')
			.filter((line) => line.includes('fal accepted request'));
	});

	test('the log names each request, the node, the item and the execution, at level info', async () => {
		const [job] = jobsOf(suite.emulator);
		const [first] = await suite.n8n.db.executions(WEBHOOK_WORKFLOW);
		// One line per request the worker had fal accept: the first test's and the crashed run's,
		// in N8N_LOG_FORMAT=json here.
		const entries = logLines.map((line) => JSON.parse(line) as unknown);
		expect(entries).toEqual([
			expect.objectContaining({
				level: 'info',
				metadata: expect.objectContaining({ executionId: String(first.id) }),
			}),
			expect.objectContaining({
				level: 'info',
				message: `fal accepted request ${job.id} (fal-ai/flux-pro/v1/fill) for item 0 of node "FLUX.1 Fill" in execution ${crashedExecution}`,
				metadata: expect.objectContaining({
					requestId: job.id,
					endpoint: 'fal-ai/flux-pro/v1/fill',
					itemIndex: 0,
					nodeName: 'FLUX.1 Fill',
					executionId: String(crashedExecution),
				}),
			}),
		]);
	});

	test("the recovery workflow, given the log lines as they are, writes the crashed run's image without paying again", async () => {
		// A worker comes back (as after a deploy): its start-up recovery marks the execution
		// crashed, and n8n does not run it again.
		workerServer = await suite.worker.startWorker({}, 'worker-restarted');
		await waitFor(
			'n8n to mark the execution crashed',
			async () => (await suite.n8n.db.executions(CRASH_WORKFLOW))[0].status === 'crashed',
			{ timeoutMs: 30_000, intervalMs: 500, detail: () => tail(workerServer.process) },
		);
		// The README's recipe: import the example, paste the log lines, pick the credential, run
		// it (on the main's install, where the editor's Execute runs it; `n8n execute` falls
		// back to regular mode).
		const recovery = getResultsByIdExample(logLines.join('\n'), CREDENTIAL, suite.outputDir);
		await suite.n8n.importWorkflows([recovery]);
		expectRunSucceeded(await suite.n8n.execute(recovery.id));

		const [job] = jobsOf(suite.emulator);
		const [execution] = await suite.n8n.db.executions(recovery.id);
		const run = await suite.n8n.db.runData(execution.id);
		const ids = nodeOutput(run, 'One item per ID').map((item) => item.json.request_id);
		expect(ids).toHaveLength(2);
		expect(ids[1]).toBe(job.id);
		// The request fal no longer has is reported, not fatal.
		expect(nodeOutput(run, 'Not recovered').map((item) => item.json)).toEqual([
			expect.objectContaining({ request_id: ids[0], http_code: '404' }),
		]);
		const file = path.join(suite.outputDir, `fill-${job.id}-1.png`);
		expect(nodeOutput(run, 'Write images').map((item) => item.json)).toEqual([
			expect.objectContaining({ request_id: job.id, image_index: 0, seed: 11, fileName: file }),
		]);
		expect(fs.readdirSync(suite.outputDir)).toEqual([path.basename(file)]);

		// The file is the image fal made for the crashed run, byte for byte.
		const bytes = fs.readFileSync(file);
		expect(sha256(bytes)).toBe(sha256(await fetchFalFile(job.result.images[0].url)));
		const comparison = await compareWithInput(bytes, suite.fixtures.imageBytes);
		expect(comparison).toMatchObject({ format: 'png', ...IMAGE_SIZE, changedOutsideMask: 0 });

		// Paid once: the crashed run's one submit; the recovery only read results.
		const submits = suite.emulator.requests.filter((request) => request.kind === 'submit');
		expect(submits).toHaveLength(1);
		expect(suite.emulator.jobs.size).toBe(1);
		expect(workerServer.process.output()).not.toMatch(
			new RegExp(`Worker started execution ${crashedExecution}\\b`),
		);
	});
});

describe('the end', () => {
	test('worker, main and Redis stop, and leave no process behind', async () => {
		await stopProcess(workerServer.process);
		await stopProcess(mainServer.process);
		await suite.redis.stop();
		expect(leftoverProcesses()).toEqual([]);
	});
});
