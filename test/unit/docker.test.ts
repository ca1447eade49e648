/**
 * docker/: the Dockerfile and the queue-mode docker-compose.yml. No Docker engine runs in
 * the tests: they check that the files parse, that they agree with each other and with
 * package.json, and they run the image's install script with a fake npm and node in a
 * temporary folder. They run no real npm, so npm_config_ignore_scripts does not apply.
 */
import { execFileSync } from 'node:child_process';
import {
	chmodSync,
	existsSync,
	mkdirSync,
	mkdtempSync,
	readFileSync,
	rmSync,
	writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { parse } from 'yaml';

const root = resolve(__dirname, '../..');
const dockerDir = join(root, 'docker');
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
	name: string;
	devDependencies: Record<string, string>;
};

// Dockerfile

interface Instruction {
	keyword: string;
	args: string;
	line: number;
}

/** Splits a Dockerfile into instructions: comments dropped, continuation lines joined. */
function parseDockerfile(text: string): Instruction[] {
	const instructions: Instruction[] = [];
	let pending: { text: string; line: number } | undefined;
	text.split('\n').forEach((raw, index) => {
		const trimmed = raw.trim();
		// Comment lines are dropped, also inside a continued instruction (Docker does too).
		if (trimmed.startsWith('#')) return;
		if (!pending && trimmed === '') return;
		const continued = /\\\s*$/.test(raw);
		const part = continued ? raw.replace(/\\\s*$/, '') : raw;
		pending = pending ? { ...pending, text: pending.text + part } : { text: part, line: index + 1 };
		if (continued) return;
		const match = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(pending.text);
		if (!match) throw new Error(`line ${pending.line}: not an instruction: ${pending.text}`);
		instructions.push({
			keyword: match[1].toUpperCase(),
			args: match[2].trim(),
			line: pending.line,
		});
		pending = undefined;
	});
	if (pending) throw new Error(`line ${pending.line}: the last instruction ends with "\\"`);
	return instructions;
}

const dockerfilePath = join(dockerDir, 'Dockerfile');
const dockerfile = parseDockerfile(readFileSync(dockerfilePath, 'utf8'));
const [installRun, ...otherInstalls] = dockerfile.filter(
	(instruction) => instruction.keyword === 'RUN' && /\bnpm install\b/.test(instruction.args),
);

/** A RUN's shell command without its --mount/--network/--security flags. */
const shellOf = (run: Instruction) => run.args.replace(/^(--[a-z]+=\S+\s+)+/, '');

/** Runs the install RUN's shell command with `npm` and `node` faked, in a temporary home. */
function runInstall(spec: string) {
	const sandbox = mkdtempSync(join(tmpdir(), 'fal-fill-docker-'));
	try {
		const home = join(sandbox, 'home', 'node');
		const context = join(sandbox, 'build-context');
		const bin = join(sandbox, 'bin');
		const log = join(sandbox, 'calls.log');
		for (const dir of [home, context, bin]) mkdirSync(dir, { recursive: true });
		// npm records its arguments; `npm install` puts a package of version 9.8.7 in place.
		writeFileSync(
			join(bin, 'npm'),
			`#!/bin/sh\necho "npm $*" >> "${log}"\nif [ "$1" = install ]; then mkdir -p node_modules/${packageJson.name}; echo '{"version":"9.8.7"}' > node_modules/${packageJson.name}/package.json; fi\n`,
		);
		// node -p prints the version the script asks for; node -e (the sharp check) succeeds.
		writeFileSync(
			join(bin, 'node'),
			`#!/bin/sh\necho "node $1" >> "${log}"\nif [ "$1" = -p ]; then echo 9.8.7; fi\n`,
		);
		for (const tool of ['npm', 'node']) chmodSync(join(bin, tool), 0o755);
		// The image's own paths, moved into the temporary folder: nothing outside it is touched.
		const shell = shellOf(installRun)
			.split('/tmp/build-context')
			.join(context)
			.split('/home/node')
			.join(home);
		const absolute = [...shell.matchAll(/(?:^|[\s"'=])(\/[^\s"';]+)/g)].map((match) => match[1]);
		expect(absolute.filter((path) => !path.startsWith(sandbox))).toEqual([]);
		execFileSync('/bin/sh', ['-c', shell], {
			cwd: sandbox,
			env: { PATH: `${bin}:/usr/bin:/bin`, FAL_FILL_PACKAGE: spec, HOME: home },
			stdio: 'pipe',
		});
		const nodes = join(home, '.n8n', 'nodes');
		return {
			calls: readFileSync(log, 'utf8').trim().split('\n'),
			context,
			nodes,
			manifest: JSON.parse(readFileSync(join(nodes, 'package.json'), 'utf8')) as unknown,
		};
	} finally {
		rmSync(sandbox, { recursive: true, force: true });
	}
}

describe('docker/Dockerfile', () => {
	it('parses into instructions, one of which installs with npm', () => {
		expect(dockerfile.length).toBeGreaterThan(0);
		expect(installRun).toBeDefined();
		expect(otherInstalls).toHaveLength(0);
	});

	it('builds on the n8n minor the package is tested against', () => {
		const from = dockerfile.find((instruction) => instruction.keyword === 'FROM')!;
		const tag = /:(\d+)\.(\d+)\.\d+$/.exec(from.args);
		const tested = /(\d+)\.(\d+)\.\d+/.exec(packageJson.devDependencies['n8n-workflow'])!;
		expect(tag && `${tag[1]}.${tag[2]}`).toBe(`${tested[1]}.${tested[2]}`);
	});

	it('installs this package unless told otherwise', () => {
		const arg = dockerfile.find(
			(instruction) =>
				instruction.keyword === 'ARG' && instruction.args.startsWith('FAL_FILL_PACKAGE='),
		);
		expect(arg?.args).toBe(`FAL_FILL_PACKAGE=${packageJson.name}`);
	});

	it('has an install command that /bin/sh parses', () => {
		// -n: read the commands, run none.
		expect(() => execFileSync('/bin/sh', ['-n', '-c', shellOf(installRun)])).not.toThrow();
	});

	it("installs a registry spec into n8n's nodes folder without install scripts or peers, pinned to its version", () => {
		const { calls, manifest } = runInstall(packageJson.name);
		const install = calls.find((call) => call.startsWith('npm install'))!;
		expect(install.split(' ')).toEqual(
			expect.arrayContaining(['--ignore-scripts', '--legacy-peer-deps', packageJson.name]),
		);
		expect(calls).toContain(`npm pkg set dependencies.${packageJson.name}=9.8.7`);
		// The sharp check runs last, after the package is in place.
		expect(calls.at(-1)).toBe('node -e');
		expect(manifest).toMatchObject({ private: true });
	});

	it('installs an `npm pack` tarball from the build context', () => {
		const tarball = `${packageJson.name}-9.8.7.tgz`;
		const { calls, context } = runInstall(tarball);
		const install = calls.find((call) => call.startsWith('npm install'))!;
		expect(install.split(' ')).toContain(join(context, tarball));
	});
});

// docker-compose.yml

interface Service {
	image?: string;
	build?: string | { context?: string; dockerfile?: string; args?: unknown };
	command?: string | string[];
	environment?: Record<string, unknown> | string[];
	volumes?: Array<string | { source?: string; target?: string }>;
	depends_on?: string[] | Record<string, { condition?: string }>;
}

interface Compose {
	services: Record<string, Service>;
	volumes?: Record<string, unknown>;
}

// merge: the n8n main and worker share their settings through a YAML merge key (<<).
const compose = parse(readFileSync(join(dockerDir, 'docker-compose.yml'), 'utf8'), {
	merge: true,
}) as Compose;
const services = compose.services ?? {};

function environmentOf(service: Service): Record<string, string> {
	const environment = service.environment ?? {};
	const entries = Array.isArray(environment)
		? environment.map((entry) => {
				const at = entry.indexOf('=');
				return at < 0 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
			})
		: Object.entries(environment).map(([key, value]) => [key, String(value)]);
	return Object.fromEntries(entries);
}

const commandOf = (service: Service) =>
	Array.isArray(service.command) ? service.command.join(' ') : (service.command ?? '');
const isWorker = (service: Service) => /^worker\b/.test(commandOf(service));
const buildsFromDockerfile = (service: Service) => service.build !== undefined;

const n8nServices = Object.entries(services).filter(([, service]) => buildsFromDockerfile(service));
const mains = n8nServices.filter(([, service]) => !isWorker(service));
const workers = n8nServices.filter(([, service]) => isWorker(service));

/** Where n8n loads community packages from, in its image. */
const N8N_NODES_FOLDER = '/home/node/.n8n/nodes';

describe('docker/docker-compose.yml', () => {
	it('runs one n8n main and at least one worker, all built from docker/Dockerfile', () => {
		expect(mains).toHaveLength(1);
		expect(workers.length).toBeGreaterThanOrEqual(1);
		for (const [name, service] of n8nServices) {
			const build = typeof service.build === 'string' ? { context: service.build } : service.build!;
			const dockerfileOf = resolve(
				dockerDir,
				build.context ?? '.',
				build.dockerfile ?? 'Dockerfile',
			);
			expect({ name, dockerfile: dockerfileOf }).toEqual({ name, dockerfile: dockerfilePath });
			expect(existsSync(dockerfileOf)).toBe(true);
		}
	});

	it('gives the main and every worker the same settings: one key, one database, one queue', () => {
		const [main, ...others] = n8nServices.map(([, service]) => environmentOf(service));
		for (const environment of others) expect(environment).toEqual(main);
		// Workers take executions only in queue mode, from the Redis the file runs.
		expect(main.EXECUTIONS_MODE).toBe('queue');
		expect(Object.keys(services)).toContain(main.QUEUE_BULL_REDIS_HOST);
		expect(Object.keys(services)).toContain(main.DB_POSTGRESDB_HOST);
		// Binary data must be where every container reads it, not in one container's files.
		expect(main.N8N_DEFAULT_BINARY_DATA_MODE ?? 'filesystem').not.toBe('filesystem');
		// The key comes from the environment, and compose refuses to start without it.
		expect(main.N8N_ENCRYPTION_KEY).toMatch(/^\$\{N8N_ENCRYPTION_KEY:\?[^}]*\}$/);
	});

	it('gives n8n the database settings postgres is started with', () => {
		const postgres = environmentOf(services[environmentOf(mains[0][1]).DB_POSTGRESDB_HOST]);
		for (const [, service] of n8nServices) {
			const environment = environmentOf(service);
			expect(environment.DB_POSTGRESDB_DATABASE).toBe(postgres.POSTGRES_DB);
			expect(environment.DB_POSTGRESDB_USER).toBe(postgres.POSTGRES_USER);
			expect(environment.DB_POSTGRESDB_PASSWORD).toBe(postgres.POSTGRES_PASSWORD);
		}
	});

	it('refers only to services and volumes it defines', () => {
		for (const [name, service] of Object.entries(services)) {
			const dependencies = Array.isArray(service.depends_on)
				? service.depends_on
				: Object.keys(service.depends_on ?? {});
			for (const dependency of dependencies)
				expect({ name, dependency, defined: dependency in services }).toEqual({
					name,
					dependency,
					defined: true,
				});
			for (const volume of service.volumes ?? []) {
				const source = typeof volume === 'string' ? volume.split(':')[0] : volume.source;
				if (!source || /^[./~]/.test(source)) continue; // a bind mount, not a named volume
				expect(Object.keys(compose.volumes ?? {})).toContain(source);
			}
		}
	});

	it("mounts no volume over n8n's nodes folder or a folder above it, which would hide the node", () => {
		const covering = (target: string) => {
			const folder = target.replace(/\/+$/, '');
			return N8N_NODES_FOLDER === folder || N8N_NODES_FOLDER.startsWith(`${folder}/`);
		};
		for (const [name, service] of n8nServices)
			for (const volume of service.volumes ?? []) {
				const target = (typeof volume === 'string' ? volume.split(':')[1] : volume.target) ?? '';
				expect({ name, target, covering: covering(target) }).toEqual({
					name,
					target,
					covering: false,
				});
			}
	});
});
