/**
 * An active workflow with a Schedule Trigger, run by `n8n start` on its own: every few
 * seconds it reads image and mask, fills, and writes the result under a name holding
 * the execution id. Asserted on the executions n8n saved, the files of each, and a log
 * free of errors.
 */
import fs from 'node:fs';
import path from 'node:path';

import { nodeOutput, type ExecutionRow } from './helpers/database';
import { useN8nSuite } from './helpers/fixture';
import { compareWithInput, IMAGE_SIZE } from './helpers/images';
import { loggedErrors, type N8nServer } from './helpers/n8nInstance';
import { leftoverProcesses, stopProcess, tail, waitFor } from './helpers/processes';
import { fillChain, scheduleTrigger, workflow, writeFile } from './helpers/workflows';

const SCHEDULED = 'falE2eScheduled01';
const CREDENTIAL = { id: 'falE2eSchedCred01', name: 'fal (emulator)' };
const EVERY_SECONDS = 3;

const suite = useN8nSuite('scheduled', {
	// JSON log lines carry their level: "no errors in the log" is then a precise check.
	env: { N8N_LOG_FORMAT: 'json' },
	credentials: [CREDENTIAL],
	resetBetweenTests: false,
});
let server: N8nServer;

beforeAll(async () => {
	const { fixtures, outputDir, n8n } = suite;
	const chain = fillChain(
		scheduleTrigger('Every few seconds', EVERY_SECONDS),
		{ image: fixtures.image, mask: fixtures.mask },
		{ credential: CREDENTIAL, numImages: 2, outputFormat: 'png' },
		writeFile(
			'Write images',
			`=${outputDir}/run-{{ $execution.id }}-{{ $json.image_index + 1 }}.png`,
		),
	);
	await n8n.importWorkflows([workflow(SCHEDULED, 'e2e: scheduled fill', chain.nodes, chain.edges)]);
	// n8n 2.x activates published workflows when it starts; imports arrive unpublished.
	await n8n.publish(SCHEDULED);
	server = await n8n.start();
}, 180_000);

describe('scheduled workflow under n8n start', () => {
	let executions: ExecutionRow[];

	test('the schedule fires: at least two successful executions', async () => {
		executions = await waitFor(
			'two finished scheduled executions',
			async () => {
				const rows = await suite.n8n.db.executions(SCHEDULED);
				const done = rows.filter((row) => row.status !== 'running' && row.status !== 'new');
				return done.length >= 2 ? done : undefined;
			},
			{ timeoutMs: 60_000, intervalMs: 1_000, detail: () => tail(server.process) },
		);
		for (const execution of executions)
			expect(execution).toMatchObject({ mode: 'trigger', status: 'success', finished: 1 });
	});

	test('each execution made its own fal request and wrote its own two files: the filled input', async () => {
		expect(executions.length).toBeGreaterThanOrEqual(2);
		const seen = new Set<string>();
		const requestIds = new Set<unknown>();
		for (const execution of executions) {
			const run = await suite.n8n.db.runData(execution.id);
			const requestId = nodeOutput(run, 'FLUX.1 Fill')[0]?.json.request_id;
			requestIds.add(requestId);
			expect(suite.emulator.jobs.get(String(requestId))?.status).toBe('COMPLETED');
			const written = nodeOutput(run, 'Write images').map((item) => String(item.json.fileName));
			expect(written).toEqual(
				[1, 2].map((index) => path.join(suite.outputDir, `run-${execution.id}-${index}.png`)),
			);
			for (const file of written) {
				seen.add(file);
				const comparison = await compareWithInput(fs.readFileSync(file), suite.fixtures.imageBytes);
				expect(comparison).toMatchObject({ format: 'png', ...IMAGE_SIZE, changedOutsideMask: 0 });
				expect(comparison.changedInsideMask).toBeGreaterThan(0.5);
			}
		}
		expect(seen.size).toBe(executions.length * 2);
		expect(requestIds.size).toBe(executions.length);
	});

	test('no errors in the log', () => {
		expect(loggedErrors(server.process)).toEqual([]);
	});

	test('stops cleanly and leaves no process behind', async () => {
		await stopProcess(server.process);
		expect(leftoverProcesses()).toEqual([]);
		expect(loggedErrors(server.process)).toEqual([]); // shutting down logs no error either
	});
});
