/**
 * The per-test-file "n8n instance": a temporary n8n user folder that n8n-core's
 * DI singletons (InstanceSettings, StorageConfig, BinaryDataConfig) are built
 * from, plus one fresh sub-directory per execution for binary-data storage.
 *
 * Jest gives every test file its own module registry (so its own `Container`)
 * and its own copy of `process.env`, so this state never leaks between files.
 */
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

let instanceRoot: string | undefined;
let runCounter = 0;

/**
 * Points n8n at a throw-away user folder before any DI singleton reads it.
 * InstanceSettings writes `<N8N_USER_FOLDER>/.n8n/config` (encryption key) when
 * first constructed; without this it would write into the developer's ~/.n8n.
 * Also silences n8n's logger (its ErrorReporter logs every node error) unless
 * the developer asked for a level, e.g. `N8N_LOG_LEVEL=debug npx jest`.
 */
function ensureInstanceFolder(): string {
	if (instanceRoot === undefined) {
		instanceRoot = mkdtempSync(path.join(tmpdir(), 'n8n-harness-'));
		process.env.N8N_USER_FOLDER = instanceRoot;
		process.env.N8N_LOG_LEVEL ??= 'silent';
	}
	return instanceRoot;
}

/** A new, empty storage directory and a unique execution id for one run. */
export function allocateRun(): { executionId: string; storagePath: string } {
	const root = ensureInstanceFolder();
	runCounter += 1;
	const executionId = String(runCounter);
	const storagePath = path.join(root, 'runs', `run-${executionId}`);
	mkdirSync(storagePath, { recursive: true });
	return { executionId, storagePath };
}

/** Removes the user folder and every run's storage (binary files included). */
export function removeInstanceFolder(): void {
	if (instanceRoot === undefined) return;
	rmSync(instanceRoot, { recursive: true, force: true });
	instanceRoot = undefined;
}
