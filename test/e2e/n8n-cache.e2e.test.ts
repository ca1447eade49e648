/**
 * The n8n cache is checked before every use and heals itself: a cache whose sqlite3
 * binding is missing (as an older ensure-n8n.sh left it when npm's inherited
 * ignore-scripts made the native build a silent no-op) is found out, rebuilt with a
 * message that says why, and only then used — even with that npm setting inherited.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { REPO_DIR } from '../../scripts/lib/n8n';
import { suiteState } from './helpers/context';

const SCRIPT = path.join(REPO_DIR, 'scripts', 'ensure-n8n.sh');

test('a cache without its sqlite3 binding is rebuilt before use, whatever npm configuration is inherited', () => {
	const { install } = suiteState();
	const binding = path.join(
		install.dir,
		'node_modules',
		'sqlite3',
		'build',
		'Release',
		'node_sqlite3.node',
	);
	expect(fs.existsSync(binding)).toBe(true);
	fs.renameSync(binding, `${binding}.hidden`);
	try {
		// What `npm run …` hands down from this project's .npmrc.
		const env = {
			...process.env,
			npm_config_ignore_scripts: 'true',
			FAL_FILL_E2E_CACHE: path.dirname(install.dir),
		};
		const run = spawnSync('bash', [SCRIPT], { env, encoding: 'utf8', timeout: 600_000 });
		expect(run.status).toBe(0);
		expect(run.stderr).toMatch(/failed its check: n8n cannot load sqlite3/);
		expect(run.stderr).toContain('Repaired.');
		expect(run.stdout.trim()).toBe(install.dir);
		expect(fs.existsSync(binding)).toBe(true);
		expect(fs.existsSync(path.join(install.dir, '.ready'))).toBe(true);
		// n8n itself can now open its database.
		const version = execFileSync(install.nodeBin, [install.n8nEntry, '--version'], {
			encoding: 'utf8',
		});
		expect(version.trim()).toMatch(/^\d+\.\d+\.\d+/);
	} finally {
		if (!fs.existsSync(binding) && fs.existsSync(`${binding}.hidden`))
			fs.renameSync(`${binding}.hidden`, binding);
		fs.rmSync(`${binding}.hidden`, { force: true });
	}
}, 600_000);

test('a good cache is checked and used at once', () => {
	const { install } = suiteState();
	const started = Date.now();
	const run = spawnSync('bash', [SCRIPT], {
		env: { ...process.env, FAL_FILL_E2E_CACHE: path.dirname(install.dir) },
		encoding: 'utf8',
	});
	expect(run.status).toBe(0);
	expect(run.stdout.trim()).toBe(install.dir);
	expect(run.stderr).toBe('');
	expect(Date.now() - started).toBeLessThan(10_000);
});
