/**
 * One n8n installation for a test: a user folder with this package installed as a
 * community package (from the packed tarball, as n8n installs it), its environment, its
 * CLI, and its long-running processes (`n8n start`, `n8n worker`).
 */
import fs from 'node:fs';
import path from 'node:path';

import {
	executeWorkflow,
	freePort,
	importCredentials,
	importWorkflows,
	installCommunityPackage,
	n8nCommand,
	n8nEnv,
	PACKAGE_NAME,
	publishWorkflow,
} from '../../../scripts/lib/n8n';
import type { N8nInstall } from './context';
import { N8nDatabase } from './database';
import { GiveUp, startProcess, tail, waitFor, type ManagedProcess } from './processes';

export interface InstanceOptions {
	install: N8nInstall;
	tarball: string;
	/** Folder of this instance: user folder, logs. */
	dir: string;
	/** The only folder the Read/Write Files from Disk node may touch (N8N_RESTRICT_FILE_ACCESS_TO). */
	filesDir?: string;
	/** Extra environment (queue mode, shared database, …), for the CLI and the servers alike. */
	env?: Record<string, string>;
}

export interface FalCredential {
	id: string;
	name: string;
	apiKey: string;
	proxyUrl: string;
}

/** A running `n8n start` or `n8n worker`. */
export interface N8nServer {
	process: ManagedProcess;
	/** http://127.0.0.1:<N8N_PORT> for a main; the health server for a worker. */
	baseUrl: string;
}

export class N8nInstance {
	readonly userFolder: string;
	readonly env: NodeJS.ProcessEnv;
	readonly db: N8nDatabase;

	private constructor(
		readonly install: N8nInstall,
		readonly dir: string,
		env: NodeJS.ProcessEnv,
	) {
		this.userFolder = path.join(dir, 'n8n-home');
		this.env = env;
		const sqliteFile = env.DB_SQLITE_DATABASE;
		this.db = new N8nDatabase(
			install,
			sqliteFile && path.isAbsolute(sqliteFile)
				? sqliteFile
				: path.join(this.userFolder, '.n8n', 'database.sqlite'),
		);
	}

	/** Creates the user folder and installs the packed package into its `nodes/` folder. */
	static create(options: InstanceOptions): N8nInstance {
		const userFolder = path.join(options.dir, 'n8n-home');
		fs.mkdirSync(userFolder, { recursive: true });
		const packageDir = installCommunityPackage(userFolder, options.tarball);
		// Where n8n 2.41 looks for community packages (and puts the ones it installs itself).
		const expected = path.join(userFolder, '.n8n', 'nodes', 'node_modules', PACKAGE_NAME);
		const manifest = JSON.parse(fs.readFileSync(path.join(expected, 'package.json'), 'utf8')) as {
			name: string;
		};
		if (packageDir !== expected || manifest.name !== PACKAGE_NAME) {
			throw new Error(`The package was installed into ${packageDir}, expected ${expected}`);
		}
		const env = n8nEnv(userFolder, {
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			// Shut down fast when the test stops the process (default: 30 s).
			N8N_GRACEFUL_SHUTDOWN_TIMEOUT: '5',
			GENERIC_TIMEZONE: 'UTC',
			// Its background task downloads n8n's MCP server catalogue from api.n8n.io and logs
			// an error where that is unreachable (CI sandboxes); the suite needs no internet.
			N8N_DISABLED_MODULES: 'mcp-registry',
			...(options.filesDir ? { N8N_RESTRICT_FILE_ACCESS_TO: options.filesDir } : {}),
			...options.env,
		});
		return new N8nInstance(options.install, options.dir, env);
	}

	/** `n8n import:credentials` of fal credentials (n8n encrypts them with the instance's key). */
	async importFalCredentials(credentials: FalCredential[]): Promise<void> {
		await importCredentials(
			this.install,
			this.env,
			this.dir,
			credentials.map(({ id, name, apiKey, proxyUrl }) => ({
				id,
				name,
				type: 'falApi',
				data: { apiKey, proxyUrl },
			})),
		);
	}

	async importWorkflows(workflows: Array<{ id: string }>): Promise<void> {
		await importWorkflows(this.install, this.env, this.dir, workflows);
	}

	/** Publishes (activates) a workflow, and checks n8n recorded it. */
	async publish(workflowId: string): Promise<void> {
		await publishWorkflow(this.install, this.env, workflowId);
		if (!(await this.db.activeVersionId(workflowId)))
			throw new Error(`publish:workflow did not activate ${workflowId}`);
	}

	/**
	 * `n8n execute --id`: runs a workflow once in a fresh n8n process, with `extraEnv` on top
	 * of the instance's environment (proxy variables, NODE_EXTRA_CA_CERTS, …).
	 */
	async execute(workflowId: string, extraEnv: Record<string, string> = {}) {
		return await executeWorkflow(this.install, { ...this.env, ...extraEnv }, workflowId);
	}

	/**
	 * `n8n start`, resolved once the REST API answers and start-up (with workflow activation) is done.
	 * `port`: listen there instead of on a free port (when the URL must be known before, e.g. WEBHOOK_URL).
	 */
	async start(extraEnv: Record<string, string> = {}, port?: number): Promise<N8nServer> {
		port ??= await freePort();
		const proc = await this.spawn('main', ['start'], { ...extraEnv, N8N_PORT: String(port) });
		const baseUrl = `http://127.0.0.1:${port}`;
		await waitFor(
			`n8n start on port ${port} to be ready`,
			async () => {
				if (proc.hasExited()) throw new ExitedEarly(proc);
				// "Editor is now accessible" is printed at the end of start-up. Published workflows
				// are activated in the background (N8N_USE_WORKFLOW_PUBLICATION_SERVICE, on by
				// default in 2.41), possibly later: see webhookRegistered().
				if (!/Editor is now accessible via/.test(proc.output())) return false;
				const response = await fetch(`${baseUrl}/healthz/readiness`);
				return response.ok;
			},
			{ timeoutMs: 90_000, intervalMs: 500, detail: () => tail(proc) },
		);
		return { process: proc, baseUrl };
	}

	/**
	 * Resolves once n8n has registered a production webhook of a published workflow. n8n 2.41
	 * activates published workflows in the background (its workflow publication service),
	 * after "Editor is now accessible" and the readiness check: a call before that answers
	 * 404 and is logged at level error.
	 */
	async webhookRegistered(
		server: N8nServer,
		workflowId: string,
		webhookPath: string,
		method = 'POST',
	): Promise<void> {
		await waitFor(
			`n8n to register the webhook ${method} /webhook/${webhookPath}`,
			async () => {
				if (server.process.hasExited())
					throw new GiveUp(`${server.process.name} exited\n${tail(server.process)}`);
				const rows = await this.db.webhooks(workflowId);
				return rows.some((row) => row.webhookPath === webhookPath && row.method === method);
			},
			{ timeoutMs: 30_000, intervalMs: 300, detail: () => tail(server.process) },
		);
	}

	/**
	 * `n8n worker` with its health server, resolved once it takes jobs. `role` names its log
	 * (`logs/<role>.log`): a worker started after another one keeps the first one's log.
	 */
	async startWorker(extraEnv: Record<string, string> = {}, role = 'worker'): Promise<N8nServer> {
		const port = await freePort();
		const proc = await this.spawn(role, ['worker', '--concurrency=5'], {
			QUEUE_HEALTH_CHECK_ACTIVE: 'true',
			QUEUE_HEALTH_CHECK_PORT: String(port),
			N8N_WORKER_SERVER_ADDRESS: '127.0.0.1',
			...extraEnv,
		});
		const baseUrl = `http://127.0.0.1:${port}`;
		await waitFor(
			`n8n worker (health port ${port}) to be ready`,
			async () => {
				if (proc.hasExited()) throw new ExitedEarly(proc);
				if (!/n8n worker is now ready/.test(proc.output())) return false;
				const response = await fetch(`${baseUrl}/healthz/readiness`);
				return response.ok;
			},
			{ timeoutMs: 90_000, intervalMs: 500, detail: () => tail(proc) },
		);
		return { process: proc, baseUrl };
	}

	private async spawn(
		role: string,
		args: string[],
		extraEnv: Record<string, string>,
	): Promise<ManagedProcess> {
		const env = {
			...this.env,
			// Each n8n process brings its own task broker; give each its own port.
			N8N_RUNNERS_BROKER_PORT: String(await freePort()),
			...extraEnv,
		};
		const spec = n8nCommand(this.install, env, args);
		return startProcess(`n8n ${role} (${path.basename(this.dir)})`, spec.command, spec.args, {
			env: spec.env,
			logFile: path.join(this.dir, 'logs', `${role}.log`),
		});
	}
}

class ExitedEarly extends GiveUp {
	constructor(proc: ManagedProcess) {
		super(`${proc.name} exited during start-up\n${tail(proc)}`);
	}
}

/**
 * An `n8n execute` run succeeded. Compared as one object, so that a failure shows n8n's
 * error message next to `ok`.
 */
export function expectRunSucceeded(result: Awaited<ReturnType<N8nInstance['execute']>>): void {
	expect({ ok: result.ok, error: result.run?.data?.resultData?.error?.message }).toEqual({
		ok: true,
		error: undefined,
	});
}

/**
 * Problems n8n logged: lines at level error (JSON log format), and stack traces or
 * uncaught errors printed outside the logger.
 */
export function loggedErrors(proc: ManagedProcess): string[] {
	return proc
		.output()
		.split('\n')
		.filter((line) => {
			const trimmed = line.trim();
			if (trimmed.startsWith('{')) {
				try {
					const entry = JSON.parse(trimmed) as { level?: string };
					return entry.level === 'error';
				} catch {
					return false;
				}
			}
			return /^(\w*Error\b|Uncaught|Unhandled|\s*at .+:\d+:\d+\)?$)/.test(line);
		});
}
