/**
 * docker/: the Dockerfile and the queue-mode docker-compose.yml. No Docker engine runs in
 * the tests; they check the files' syntax, paths and the settings the setup relies on.
 * They run no npm, so npm_config_ignore_scripts does not apply here.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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

const KNOWN_INSTRUCTIONS = new Set([
	'ADD',
	'ARG',
	'CMD',
	'COPY',
	'ENTRYPOINT',
	'ENV',
	'EXPOSE',
	'FROM',
	'HEALTHCHECK',
	'LABEL',
	'ONBUILD',
	'RUN',
	'SHELL',
	'STOPSIGNAL',
	'USER',
	'VOLUME',
	'WORKDIR',
]);

const dockerfilePath = join(dockerDir, 'Dockerfile');
const dockerfile = parseDockerfile(readFileSync(dockerfilePath, 'utf8'));
const [installRun, ...otherInstalls] = dockerfile.filter(
	(instruction) => instruction.keyword === 'RUN' && /\bnpm install\b/.test(instruction.args),
);

/** A RUN's shell command without its --mount/--network/--security flags. */
const shellOf = (run: Instruction) => run.args.replace(/^(--[a-z]+=\S+\s+)+/, '');

describe('docker/Dockerfile', () => {
	it('consists of known instructions, one FROM', () => {
		expect(dockerfile.length).toBeGreaterThan(0);
		for (const instruction of dockerfile) {
			expect(KNOWN_INSTRUCTIONS).toContain(instruction.keyword);
		}
		expect(dockerfile.filter((instruction) => instruction.keyword === 'FROM')).toHaveLength(1);
	});

	it("extends n8n's official image, pinned to the n8n minor the package is tested against", () => {
		const from = dockerfile.find((instruction) => instruction.keyword === 'FROM')!;
		const match = /^docker\.n8n\.io\/n8nio\/n8n:(\d+)\.(\d+)\.(\d+)$/.exec(from.args);
		expect(match).not.toBeNull();
		const tested = /(\d+)\.(\d+)\.\d+/.exec(packageJson.devDependencies['n8n-workflow'])!;
		expect(`${match![1]}.${match![2]}`).toBe(`${tested[1]}.${tested[2]}`);
	});

	it('installs the package into /home/node/.n8n/nodes with --ignore-scripts, as user node', () => {
		expect(installRun).toBeDefined();
		expect(otherInstalls).toHaveLength(0);
		const shell = shellOf(installRun);
		expect(shell).toContain('mkdir -p /home/node/.n8n/nodes');
		expect(shell).toMatch(/\bcd \/home\/node\/\.n8n\/nodes\b/);
		expect(shell.indexOf('mkdir -p /home/node/.n8n/nodes')).toBeLessThan(
			shell.indexOf('npm install'),
		);
		const npmInstall = /npm install ([^;&|]*)/.exec(shell)![1];
		expect(npmInstall).toContain('--ignore-scripts');
		// Without this npm >= 7 also installs the peer dependency n8n-workflow (a second copy).
		expect(npmInstall).toMatch(/--legacy-peer-deps|--omit=peer/);

		const userBefore = dockerfile
			.filter((instruction) => instruction.keyword === 'USER' && instruction.line < installRun.line)
			.pop();
		expect(userBefore?.args).toBe('node');
	});

	it('installs this package by default', () => {
		const arg = dockerfile.find(
			(instruction) =>
				instruction.keyword === 'ARG' && instruction.args.startsWith('FAL_FILL_PACKAGE='),
		);
		expect(arg?.args).toBe(`FAL_FILL_PACKAGE=${packageJson.name}`);
		expect(shellOf(installRun)).toContain('"$spec"');
		expect(shellOf(installRun)).toContain(`node_modules/${packageJson.name}`);
	});

	it('has a RUN command that /bin/sh parses', () => {
		// -n: read the commands, run none.
		expect(() => execFileSync('/bin/sh', ['-n', '-c', shellOf(installRun)])).not.toThrow();
	});

	it("ends as user node and keeps n8n's entrypoint", () => {
		const users = dockerfile.filter((instruction) => instruction.keyword === 'USER');
		expect(users.length).toBeGreaterThan(0);
		expect(users[users.length - 1].args).toBe('node');
		expect(users[users.length - 1].line).toBeGreaterThan(installRun.line);
		expect(dockerfile.map((instruction) => instruction.keyword)).not.toContain('ENTRYPOINT');
		expect(dockerfile.map((instruction) => instruction.keyword)).not.toContain('CMD');
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

describe('docker/docker-compose.yml', () => {
	it('has redis, postgres, one n8n main and at least one worker', () => {
		expect(Object.keys(services)).toEqual(expect.arrayContaining(['redis', 'postgres']));
		expect(mains.map(([name]) => name)).toEqual(['n8n']);
		expect(workers.length).toBeGreaterThanOrEqual(1);
		expect(services.redis.image).toMatch(/^redis:/);
		expect(services.postgres.image).toMatch(/^postgres:16\b/);
	});

	it('builds the main and the workers from docker/Dockerfile', () => {
		for (const [name, service] of n8nServices) {
			const build = typeof service.build === 'string' ? { context: service.build } : service.build!;
			const dockerfilePathOf = resolve(
				dockerDir,
				build.context ?? '.',
				build.dockerfile ?? 'Dockerfile',
			);
			expect({ name, dockerfile: dockerfilePathOf }).toEqual({ name, dockerfile: dockerfilePath });
			expect(existsSync(dockerfilePathOf)).toBe(true);
		}
	});

	it('runs the main and the workers in queue mode on redis, with one encryption key', () => {
		const environments = n8nServices.map(([, service]) => environmentOf(service));
		for (const environment of environments) {
			expect(environment).toMatchObject({
				EXECUTIONS_MODE: 'queue',
				QUEUE_BULL_REDIS_HOST: 'redis',
				N8N_DEFAULT_BINARY_DATA_MODE: 'database',
				N8N_DIAGNOSTICS_ENABLED: 'false',
				DB_TYPE: 'postgresdb',
				DB_POSTGRESDB_HOST: 'postgres',
			});
			// From the environment (docker/.env), required: no key baked into the file.
			expect(environment.N8N_ENCRYPTION_KEY).toMatch(/^\$\{N8N_ENCRYPTION_KEY:\?[^}]*\}$/);
		}
		const keys = new Set(environments.map((environment) => environment.N8N_ENCRYPTION_KEY));
		expect(keys.size).toBe(1);
	});

	it('gives the database settings postgres is started with', () => {
		const postgres = environmentOf(services.postgres);
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
			for (const dependency of dependencies) {
				expect({ name, dependency, defined: dependency in services }).toEqual({
					name,
					dependency,
					defined: true,
				});
			}
			for (const volume of service.volumes ?? []) {
				const source = typeof volume === 'string' ? volume.split(':')[0] : volume.source;
				if (!source || /^[./~]/.test(source)) continue; // a bind mount, not a named volume
				expect(Object.keys(compose.volumes ?? {})).toContain(source);
			}
		}
	});

	it('does not mount a volume over the nodes folder the image installs into', () => {
		for (const [, service] of n8nServices) {
			for (const volume of service.volumes ?? []) {
				const target = typeof volume === 'string' ? volume.split(':')[1] : volume.target;
				expect(['/home/node', '/home/node/.n8n', '/home/node/.n8n/nodes']).not.toContain(
					target?.replace(/\/+$/, ''),
				);
			}
		}
	});
});
