/**
 * The webhook round trip in a real n8n (`n8n start`): a Webhook node receives image and
 * mask as a multipart upload, the fill node's Submit queues the request at fal with
 * `$execution.resumeUrl` as fal's webhook, a Wait node ("On Webhook Call") parks the
 * execution in the database, fal (the emulator) POSTs to the resume URL when the job
 * ends, n8n resumes the execution, Get Result downloads the image and Read/Write Files
 * writes it.
 *
 * The emulator must reach n8n's resume URL, so n8n gets N8N_WEBHOOK_URL=http://127.0.0.1:<port>/
 * (n8n's default, http://localhost:<port>/, may resolve to ::1 where n8n does not listen).
 */
import fs from 'node:fs';
import path from 'node:path';

import { freePort } from '../../scripts/lib/n8n';
import { nodeOutput, type RunData } from './helpers/database';
import { fetchFalFile, jobsOf, sha256 } from './helpers/fal';
import { useN8nSuite } from './helpers/fixture';
import { compareWithInput, IMAGE_SIZE, postImageAndMask } from './helpers/images';
import { loggedErrors, type N8nServer } from './helpers/n8nInstance';
import { leftoverProcesses, stopProcess, tail, waitFor } from './helpers/processes';
import {
	fluxGetResult,
	fluxSubmit,
	waitForWebhook,
	webhookTrigger,
	workflow,
	writeFile,
} from './helpers/workflows';

const WORKFLOW_ID = 'falE2eWebhookWait01';
const WEBHOOK_PATH = 'fal-fill-e2e-wait';
const CREDENTIAL = { id: 'falE2eWaitCred01', name: 'fal (emulator)' };
/** How long each fal job runs: long enough for n8n to park the execution before fal calls back. */
const FAL_LATENCY_MS = 1_500;

const suite = useN8nSuite('webhook-wait', {
	latencyMs: FAL_LATENCY_MS,
	env: { N8N_LOG_FORMAT: 'json' },
	credentials: [CREDENTIAL],
	resetBetweenTests: false,
});
let server: N8nServer;
let port: number;

beforeAll(async () => {
	const { n8n, outputDir } = suite;
	port = await freePort();
	// The base of $execution.resumeUrl: a loopback URL the emulator can call. (n8n 2.41 still
	// reads WEBHOOK_URL too, but logs it as deprecated in favour of N8N_WEBHOOK_URL.)
	n8n.env.N8N_WEBHOOK_URL = `http://127.0.0.1:${port}/`;
	const nodes = [
		webhookTrigger('Upload', WEBHOOK_PATH, 'onReceived'),
		fluxSubmit('Submit to fal', {
			credential: CREDENTIAL,
			numImages: 1,
			outputFormat: 'png',
			seed: 11,
			webhookUrl: '={{ $execution.resumeUrl }}',
		}),
		waitForWebhook('Wait for fal'),
		// The Wait node outputs the resuming call; fal's POST body is under `body`.
		fluxGetResult('Get result', {
			credential: CREDENTIAL,
			requestId: '={{ $json.body.request_id }}',
		}),
		writeFile(
			'Write image',
			`=${outputDir}/waited-{{ $execution.id }}-{{ $json.image_index + 1 }}.png`,
		),
	];
	await n8n.importWorkflows([
		workflow(WORKFLOW_ID, 'e2e: submit, wait for fal webhook, get result', nodes, [
			['Upload', 'Submit to fal'],
			['Submit to fal', 'Wait for fal'],
			['Wait for fal', 'Get result'],
			['Get result', 'Write image'],
		]),
	]);
	await n8n.publish(WORKFLOW_ID);
	server = await n8n.start({}, port);
	await n8n.webhookRegistered(server, WORKFLOW_ID, WEBHOOK_PATH);
}, 180_000);

/** POSTs image and mask as multipart form fields `data` and `mask` (the Webhook node's binary fields). */
async function upload(): Promise<Response> {
	return await postImageAndMask(`${server.baseUrl}/webhook/${WEBHOOK_PATH}`, suite.fixtures);
}

interface ExecutionState {
	id: number;
	status: string;
	finished: number;
	waitTill: string | null;
}

async function executionStates(): Promise<ExecutionState[]> {
	return await suite.n8n.db.query<ExecutionState>(
		'SELECT id, status, finished, waitTill FROM execution_entity WHERE workflowId = ? ORDER BY id',
		[WORKFLOW_ID],
	);
}

/** Polls the database until execution `id` reaches a final status; answers that row. */
async function finalState(id: number): Promise<ExecutionState> {
	return await waitFor(
		`execution ${id} to finish`,
		async () =>
			(await executionStates()).find(
				(row) => row.id === id && !['new', 'running', 'waiting'].includes(row.status),
			),
		{ timeoutMs: 60_000, intervalMs: 500, detail: () => tail(server.process) },
	);
}

/** The resume URL n8n 2.41 builds: <WEBHOOK_URL>webhook-waiting/<execution id>?signature=<token>. */
function resumeUrlPattern(executionId: number): RegExp {
	return new RegExp(
		`^http://127\\.0\\.0\\.1:${port}/webhook-waiting/${executionId}\\?signature=[^&]+$`,
	);
}

describe('submit → Wait (On Webhook Call) → fal webhook → getResult, under n8n start', () => {
	let executionId: number;
	let requestId: string;
	let resumeUrl: string;
	let raceExecutionId: number | undefined;

	test('the upload starts an execution that submits to fal and then waits in the database', async () => {
		// fal keeps the job IN_QUEUE (no free slot) until the test has seen the execution wait.
		suite.emulator.configure({ concurrency: 0 });
		const response = await upload();
		expect(response.status).toBe(200);
		expect(await response.json()).toEqual({ message: 'Workflow was started' });

		const waiting = await waitFor(
			'the execution to be waiting',
			async () => (await executionStates()).find((row) => row.status === 'waiting'),
			{ timeoutMs: 30_000, intervalMs: 300, detail: () => tail(server.process) },
		);
		executionId = waiting.id;
		expect(waiting).toMatchObject({ finished: 0 });
		// No time limit on the Wait node: n8n parks it "forever" (WAIT_INDEFINITELY, 3000-01-01).
		expect(String(waiting.waitTill)).toMatch(/^3000-01-01/);

		const run = await suite.n8n.db.runData(executionId);
		expect(run.resultData.lastNodeExecuted).toBe('Wait for fal');
		const [submitted] = nodeOutput(run, 'Submit to fal');
		requestId = String(submitted.json.request_id);
		resumeUrl = String(submitted.json.webhook_url);
		expect(submitted.json).toMatchObject({
			request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
			status: 'IN_QUEUE',
			num_images: 1,
			estimated_cost_usd: 0.05,
		});
		expect(submitted.binary).toBeUndefined();
		expect(resumeUrl).toMatch(resumeUrlPattern(executionId));
		expect(run.resultData.runData['Get result']).toBeUndefined();

		// fal got exactly that URL as ?fal_webhook= (the signature survived the query-in-query).
		const submits = suite.emulator.requests.filter((request) => request.kind === 'submit');
		expect(submits).toHaveLength(1);
		expect(submits[0].query.fal_webhook).toBe(resumeUrl);
		expect(suite.emulator.jobs.get(requestId)?.status).toBe('IN_QUEUE');
		expect(suite.emulator.webhooks).toEqual([]);

		// The signature is what lets a caller resume: without it n8n refuses, and the execution keeps waiting.
		const unsigned = await fetch(resumeUrl.slice(0, resumeUrl.indexOf('?')), {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ request_id: requestId, status: 'OK' }),
			signal: AbortSignal.timeout(15_000),
		});
		expect(unsigned.status).toBe(401);
		expect((await executionStates()).find((row) => row.id === executionId)?.status).toBe('waiting');
	});

	test("fal's webhook to the resume URL resumes the execution, which finishes successfully", async () => {
		const released = Date.now();
		suite.emulator.configure({ concurrency: Infinity }); // the job runs now, FAL_LATENCY_MS long
		const done = await finalState(executionId);
		expect(done).toMatchObject({ status: 'success', finished: 1 });
		expect(Date.now() - released).toBeGreaterThanOrEqual(FAL_LATENCY_MS);

		// One delivery, to n8n's resume URL, accepted (the Wait node answers 200 on receipt).
		const delivered = await waitFor(
			'the webhook delivery to be settled',
			() =>
				suite.emulator.webhooks.length > 0 &&
				suite.emulator.webhooks.every((hook) => hook.status ?? hook.error)
					? suite.emulator.webhooks
					: undefined,
			{ timeoutMs: 10_000 },
		);
		expect(delivered).toHaveLength(1);
		expect(delivered[0]).toMatchObject({
			url: resumeUrl,
			requestId,
			status: 200,
			payload: { request_id: requestId, gateway_request_id: requestId, status: 'OK' },
		});
		expect(delivered[0].error).toBeUndefined();
		expect(jobsOf(suite.emulator).map((job) => [job.id, job.status])).toEqual([
			[requestId, 'COMPLETED'],
		]);
	});

	test("the Wait node hands on fal's POST; getResult returns the image of the submitted request", async () => {
		const run: RunData = await suite.n8n.db.runData(executionId);
		const [resumed] = nodeOutput(run, 'Wait for fal');
		expect(resumed.json).toMatchObject({
			body: {
				request_id: requestId,
				status: 'OK',
				payload: { images: [expect.objectContaining({ content_type: 'image/png' })] },
			},
			headers: expect.objectContaining({ 'user-agent': 'fal-webhook-emulator' }),
			query: { signature: expect.any(String) },
		});

		const results = nodeOutput(run, 'Get result');
		expect(results).toHaveLength(1);
		expect(results[0].json).toMatchObject({
			request_id: requestId,
			image_index: 0,
			width: IMAGE_SIZE.width,
			height: IMAGE_SIZE.height,
			seed: 11,
			estimated_cost_usd: 0.05,
		});
		expect(results[0].binary?.data).toMatchObject({ mimeType: 'image/png' });
		// Get result fetched the finished request, it did not submit another.
		expect(suite.emulator.requests.filter((request) => request.kind === 'submit')).toHaveLength(1);
		expect(
			suite.emulator.requests.some(
				(request) => request.kind === 'result' && request.requestId === requestId,
			),
		).toBe(true);
	});

	test('the written file is the filled input, byte-identical to what fal served', async () => {
		const run = await suite.n8n.db.runData(executionId);
		const written = nodeOutput(run, 'Write image').map((item) => String(item.json.fileName));
		expect(written).toEqual([path.join(suite.outputDir, `waited-${executionId}-1.png`)]);
		const bytes = fs.readFileSync(written[0]);
		const comparison = await compareWithInput(bytes, suite.fixtures.imageBytes);
		expect(comparison).toMatchObject({ format: 'png', ...IMAGE_SIZE, changedOutsideMask: 0 });
		expect(comparison.changedInsideMask).toBeGreaterThan(0.5);
		const job = suite.emulator.jobs.get(requestId);
		expect(sha256(bytes)).toBe(sha256(await fetchFalFile(job?.result.images[0].url)));
	});

	test('without holding fal back, its 1.5 s are enough: the next upload waits and resumes on its own', async () => {
		suite.emulator.reset();
		const before = (await executionStates()).map((row) => row.id);
		const response = await upload();
		expect(response.status).toBe(200);
		const next = await waitFor(
			'a second execution',
			async () => (await executionStates()).find((row) => !before.includes(row.id)),
			{ timeoutMs: 30_000, intervalMs: 300 },
		);
		const done = await finalState(next.id);
		expect(done).toMatchObject({ status: 'success', finished: 1 });
		const run = await suite.n8n.db.runData(next.id);
		const [submitted] = nodeOutput(run, 'Submit to fal');
		expect(String(submitted.json.webhook_url)).toMatch(resumeUrlPattern(next.id));
		expect(suite.emulator.webhooks).toEqual([
			expect.objectContaining({ url: submitted.json.webhook_url, status: 200 }),
		]);
		expect(nodeOutput(run, 'Get result')[0].json.request_id).toBe(submitted.json.request_id);
		expect(fs.existsSync(path.join(suite.outputDir, `waited-${next.id}-1.png`))).toBe(true);
	});

	// fal calls back as soon as the job ends. If that is before n8n has parked the execution
	// (the Wait node has not run yet), n8n refuses the call: 409 "The execution is running
	// already". The execution then waits until the same call comes again (fal's redelivery).
	test('a callback that beats the Wait node is refused with 409; delivered again, it resumes the execution', async () => {
		suite.emulator.reset();
		suite.emulator.configure({ latencyMs: 0 });
		// fal has the job at once, but answers the submit 2 s later: the job ends and fal calls
		// back while the Submit node still waits for its answer, i.e. the execution is running.
		suite.emulator.fail({ kind: 'submit', acceptThenDelayMs: 2_000 });
		try {
			const before = (await executionStates()).map((row) => row.id);
			expect((await upload()).status).toBe(200);
			const [refused] = await waitFor(
				'the early callback to be answered',
				() => (suite.emulator.webhooks[0]?.status ? suite.emulator.webhooks : undefined),
				{ timeoutMs: 15_000 },
			);
			expect(refused).toMatchObject({ status: 409, error: 'HTTP 409' });

			const parked = await waitFor(
				'the execution to be waiting anyway',
				async () =>
					(await executionStates()).find(
						(row) => !before.includes(row.id) && row.status === 'waiting',
					),
				{ timeoutMs: 30_000, intervalMs: 300, detail: () => tail(server.process) },
			);
			raceExecutionId = parked.id;
			expect(refused.url).toMatch(resumeUrlPattern(parked.id));
			expect(suite.emulator.jobs.get(refused.requestId)?.status).toBe('COMPLETED');

			// What fal's retry would send: the same body to the same URL.
			const again = await fetch(refused.url, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify(refused.payload),
				signal: AbortSignal.timeout(15_000),
			});
			expect(again.status).toBe(200);
			expect(await finalState(parked.id)).toMatchObject({ status: 'success', finished: 1 });
			const run = await suite.n8n.db.runData(parked.id);
			expect(nodeOutput(run, 'Get result')[0].json.request_id).toBe(refused.requestId);
			expect(fs.existsSync(path.join(suite.outputDir, `waited-${parked.id}-1.png`))).toBe(true);
		} finally {
			suite.emulator.clearFaults();
			suite.emulator.configure({ latencyMs: FAL_LATENCY_MS });
		}
	});

	test('no errors in the log but the refused early callback', () => {
		const early = (line: string) =>
			line.includes(`The execution \\"${raceExecutionId}\\" is running already`);
		const errors = loggedErrors(server.process);
		// n8n logs each refused call twice ("Error in handling webhook request …", "409 …").
		expect(errors.filter(early)).toHaveLength(2);
		expect(errors.filter((line) => !early(line))).toEqual([]);
	});

	test('stops cleanly and leaves no process behind', async () => {
		await stopProcess(server.process);
		expect(leftoverProcesses()).toEqual([]);
	});
});
