/**
 * Queue mode: an n8n main and one `n8n worker` sharing a Redis (started here) and a
 * database, binary data kept in the database. A Webhook node receives image and mask
 * as multipart upload on the main; the execution is queued, the worker runs the fill
 * node, and the webhook answers its caller with the first generated image.
 *
 * The worker has its own user folder with its own install of the package, as on a
 * separate machine: only the database, Redis and the encryption key are shared. That is
 * what the README asks of queue-mode users (install on every worker, same key).
 */
import { nodeOutput } from './helpers/database';
import { fetchFalFile, jobsOf, sha256 } from './helpers/fal';
import { useN8nSuite } from './helpers/fixture';
import { compareWithInput, IMAGE_SIZE, postImageAndMask } from './helpers/images';
import { loggedErrors, type N8nServer } from './helpers/n8nInstance';
import { leftoverProcesses, stopProcess, tail, waitFor } from './helpers/processes';
import { fluxFill, webhookTrigger, workflow } from './helpers/workflows';

const WEBHOOK_WORKFLOW = 'falE2eQueueWebhook01';
const WEBHOOK_PATH = 'fal-fill-e2e';
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
	await main.importWorkflows([
		workflow(
			WEBHOOK_WORKFLOW,
			'e2e: webhook fill (queue mode)',
			[trigger, fill],
			[['Webhook', 'FLUX.1 Fill']],
		),
	]);
	await main.publish(WEBHOOK_WORKFLOW);

	mainServer = await main.start(); // runs the migrations the worker relies on: start it first
	workerServer = await suite.worker.startWorker();
	// n8n activates published workflows in the background: a call before would get a 404 (logged as an error).
	await main.webhookRegistered(mainServer, WEBHOOK_WORKFLOW, WEBHOOK_PATH);
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

	test('worker, main and Redis stop, and leave no process behind', async () => {
		await stopProcess(workerServer.process);
		await stopProcess(mainServer.process);
		await suite.redis.stop();
		expect(leftoverProcesses()).toEqual([]);
	});
});
