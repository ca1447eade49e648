/**
 * Runs once before the e2e files: installs the pinned n8n on Node 24 into the cache
 * (minutes on a cold cache, instant after), packs this package, and checks that Redis
 * is there. Any failure here fails the whole run loudly: an e2e suite that skips itself
 * when n8n cannot be installed would report green without having tested anything.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { ensureN8n, packPackage, REPO_DIR } from '../../scripts/lib/n8n';
import { startReaper } from '../../scripts/lib/reaper';
import { E2E_ROOT, STATE_FILE, type SuiteState } from './helpers/context';
import { installCleanupHandlers, killRegisteredGroups } from './helpers/processRegistry';
import { findRedisServer } from './helpers/redis';

export default async function globalSetup(): Promise<void> {
	const started = Date.now();
	// However jest ends (Ctrl-C, SIGTERM, a crash, SIGKILL), nothing the suite started outlives it.
	startReaper();
	const built = path.join(REPO_DIR, 'dist', 'nodes', 'FluxProFill', 'FluxProFill.node.js');
	if (!fs.existsSync(built)) {
		throw new Error(
			`${built} is missing: build first ("npm run test:e2e" runs "npm run build" before jest)`,
		);
	}

	let install: SuiteState['install'];
	try {
		install = await ensureN8n();
	} catch (error) {
		throw new Error(
			`Could not install n8n for the e2e suite (scripts/ensure-n8n.sh): ${error instanceof Error ? error.message : String(error)}`,
		);
	}
	const version = execFileSync(install.nodeBin, ['--version'], { encoding: 'utf8' }).trim();
	if (!version.startsWith('v24.'))
		throw new Error(`The cached n8n runs on Node ${version}, expected Node 24`);

	const redisServer = findRedisServer();

	// A previous run killed hard (SIGKILL, OOM) could not clean up: do it now.
	const stale = killRegisteredGroups();
	if (stale.length)
		process.stderr.write(`\n[e2e] killed processes left by a previous run: ${stale.join('; ')}\n`);
	// From here on, Ctrl-C or a crash of jest still stops every n8n and Redis the tests start.
	installCleanupHandlers();

	fs.rmSync(E2E_ROOT, { recursive: true, force: true });
	fs.mkdirSync(E2E_ROOT, { recursive: true });
	const tarball = packPackage(path.join(E2E_ROOT, 'package'));

	const state: SuiteState = { install, tarball, redisServer };
	fs.writeFileSync(STATE_FILE, JSON.stringify(state, null, 2));
	process.stderr.write(
		`\n[e2e] n8n at ${install.dir} (Node ${version}), package ${path.basename(tarball)}, ${redisServer}; ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
	);
}
