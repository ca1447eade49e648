/**
 * The set-up every e2e file shares, in one place: the work folder, the input pictures, the
 * fal emulator (and the proxy lab), an n8n user folder with the packed package installed
 * (and a worker beside it in queue mode), the fal credentials, and the clean-up.
 *
 *   const suite = useN8nSuite('cli-workflows', { credentials: [CREDENTIAL] });
 *   beforeAll(async () => { await suite.n8n.importWorkflows([…]); });
 *   test('…', async () => { expect(jobsOf(suite.emulator)) … });
 *
 * Call it at the top of a file (or of a `describe`): it registers
 *   beforeAll  suite state → fresh `.e2e-work/e2e/<name>/` → pictures → emulator (+ proxy
 *              lab) → (Redis) → N8nInstance (+ worker) → `n8n import:credentials`;
 *   beforeEach the emulators' and the lab's `reset()` (unless `resetBetweenTests: false`);
 *   afterAll   stopAllProcesses(), then the lab and the emulators are closed.
 * jest runs hooks in the order they were registered, so a file's own `beforeAll` (workflows,
 * `n8n start`, …) comes after this one, and its own `afterAll` after the clean-up.
 */
import fs from 'node:fs';
import path from 'node:path';

import type { FalEmulator } from '../../emulator';
import { freshDir, suiteState, type N8nInstall } from './context';
import { falCredential, startFal } from './fal';
import { writeFixtures, writePhoto, type Fixtures } from './images';
import { N8nInstance, type FalCredential } from './n8nInstance';
import { stopAllProcesses } from './processes';
import { clearNetworkVariables, startFalBehindProxy, type ProxyLab } from './proxy';
import { startRedis, type RedisServer } from './redis';
import { envFor } from './versions';

/** A credential to import with the emulator's Proxy URL; the key is the good one unless given. */
interface CredentialRef {
	id: string;
	name: string;
	apiKey?: string;
}

export interface N8nSuiteOptions {
	/** How long each emulated fal job runs (startFal's default: 150 ms). */
	latencyMs?: number;
	/**
	 * The falApi credentials to import into n8n: refs, sent to `emulator.proxyUrl`; or, for
	 * other Proxy URLs (or none), a function that builds them once the servers run.
	 */
	credentials?: CredentialRef[] | ((suite: N8nSuite) => FalCredential[]);
	/** Extra environment for every n8n process of the file (CLI and servers alike). */
	env?: Record<string, string>;
	/** The only folder n8n's file nodes may touch (N8N_RESTRICT_FILE_ACCESS_TO); default `<dir>/files`. */
	filesDir?: string;
	/** Write image.png, mask.png and wrong-mask.png into `filesDir` (`suite.fixtures`); default true. */
	fixtures?: boolean;
	/** Also write photo.png, the blue-sky photo of Describe It and Expand Canvas (`suite.photo`). */
	photo?: boolean;
	/**
	 * Also start the proxy lab (test/helpers/proxyLab.js) in front of a second emulator that
	 * answers as fal's host names (`suite.lab`, `suite.behindProxy`), and clear every proxy and
	 * certificate variable from n8n's environment: the tests set what each run needs.
	 */
	proxyLab?: boolean;
	/**
	 * Queue mode: a Redis of its own, `suite.n8n` the main (in `<dir>/main`) and `suite.worker`
	 * (in `<dir>/worker`, its own install of the package) sharing its database, binary data
	 * in the database and one encryption key. Nothing is started: the file starts main and worker.
	 */
	queueMode?: boolean;
	/**
	 * `reset()` the emulators and the lab before each test (default true). Off for files
	 * whose tests build on what fal saw in the tests before.
	 */
	resetBetweenTests?: boolean;
	/** Another n8n than the suite's pinned one (the compat matrix); default the global setup's. */
	install?: () => Promise<N8nInstall>;
	/** Deadline of the set-up; default the config's `testTimeout`. */
	timeoutMs?: number;
}

/** What the set-up made. Reading a part it did not make (yet) throws, saying why. */
export interface N8nSuite {
	readonly install: N8nInstall;
	/** `.e2e-work/e2e/<name>/`: user folders and logs. */
	readonly dir: string;
	readonly filesDir: string;
	/** `<filesDir>/output`, empty: for what the workflows write. */
	readonly outputDir: string;
	readonly fixtures: Fixtures;
	readonly photo: { file: string; bytes: Buffer };
	/** The emulator, on 127.0.0.1, that `credentials` refs point at. */
	readonly emulator: FalEmulator;
	/** With `proxyLab`: the emulator as fal's own hosts, reached only through the lab. */
	readonly behindProxy: FalEmulator;
	readonly lab: ProxyLab;
	/** The n8n (in queue mode: the main). */
	readonly n8n: N8nInstance;
	readonly worker: N8nInstance;
	readonly redis: RedisServer;
}

type Parts = { -readonly [K in keyof N8nSuite]?: N8nSuite[K] };

const OPTIONAL_PARTS: Partial<Record<keyof N8nSuite, string>> = {
	fixtures: 'it was set up with fixtures: false',
	photo: 'it was set up without photo: true',
	behindProxy: 'it was set up without proxyLab: true',
	lab: 'it was set up without proxyLab: true',
	worker: 'it was set up without queueMode: true',
	redis: 'it was set up without queueMode: true',
};

const PART_NAMES: Array<keyof N8nSuite> = [
	'install',
	'dir',
	'filesDir',
	'outputDir',
	'fixtures',
	'photo',
	'emulator',
	'behindProxy',
	'lab',
	'n8n',
	'worker',
	'redis',
];

export function useN8nSuite(name: string, options: N8nSuiteOptions = {}): N8nSuite {
	const parts: Parts = {};
	let setUp = false;
	const suite = {} as N8nSuite;
	for (const part of PART_NAMES) {
		Object.defineProperty(suite, part, {
			enumerable: true,
			get() {
				const value = parts[part];
				if (value !== undefined) return value;
				const why = (setUp && OPTIONAL_PARTS[part]) || 'its set-up failed or has not run yet';
				throw new Error(`useN8nSuite('${name}') has no ${part}: ${why}`);
			},
		});
	}

	beforeAll(async () => {
		const state = suiteState();
		const install = options.install ? await options.install() : state.install;
		parts.install = install;
		const dir = (parts.dir = freshDir(name));
		const filesDir = (parts.filesDir = options.filesDir ?? path.join(dir, 'files'));
		parts.outputDir = path.join(filesDir, 'output');
		fs.mkdirSync(parts.outputDir, { recursive: true });
		if (options.fixtures !== false) parts.fixtures = await writeFixtures(filesDir);
		if (options.photo) parts.photo = await writePhoto(filesDir);

		parts.emulator = await startFal({ latencyMs: options.latencyMs });
		if (options.proxyLab) {
			const { emu, lab } = await startFalBehindProxy();
			parts.behindProxy = emu;
			parts.lab = lab;
		}

		const env = { ...envFor(install), ...options.env };
		if (options.queueMode) {
			const redis = (parts.redis = await startRedis(state.redisServer, dir));
			Object.assign(env, {
				EXECUTIONS_MODE: 'queue',
				QUEUE_BULL_REDIS_HOST: redis.host,
				QUEUE_BULL_REDIS_PORT: String(redis.port),
				// Main stores the webhook's upload, the worker reads it and stores its images:
				// both must see the same binary data, so it goes into the shared database.
				N8N_DEFAULT_BINARY_DATA_MODE: 'database',
				// Every instance must decrypt the credentials the main stored.
				N8N_ENCRYPTION_KEY: `fal-fill-e2e-${name}-shared-key`,
			});
		}
		const instance = (subDir: string, extraEnv: Record<string, string> = {}) =>
			N8nInstance.create({
				install,
				tarball: state.tarball,
				dir: path.join(dir, subDir),
				filesDir,
				env: { ...env, ...extraEnv },
			});
		const n8n = (parts.n8n = instance(options.queueMode ? 'main' : ''));
		// SQLite is the shared database here (n8n warns that queue mode wants PostgreSQL;
		// for one main and one worker on one machine it works).
		if (options.queueMode) parts.worker = instance('worker', { DB_SQLITE_DATABASE: n8n.db.file });
		if (options.proxyLab) clearNetworkVariables(n8n);

		const credentials =
			typeof options.credentials === 'function'
				? options.credentials(suite)
				: (options.credentials ?? []).map(({ id, name: label, apiKey }) =>
						falCredential(suite.emulator, id, label, apiKey),
					);
		if (credentials.length > 0) await n8n.importFalCredentials(credentials);
		setUp = true;
	}, options.timeoutMs);

	if (options.resetBetweenTests !== false) {
		beforeEach(() => {
			parts.emulator?.reset();
			parts.behindProxy?.reset();
			parts.lab?.reset();
		});
	}

	afterAll(async () => {
		try {
			await stopAllProcesses();
		} finally {
			await parts.lab?.close();
			await parts.behindProxy?.close();
			await parts.emulator?.close();
		}
	});

	return suite;
}
