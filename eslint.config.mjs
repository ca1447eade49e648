// ESLint 9 flat config: n8n's own community, credential and node rules for the package
// (eslint-plugin-n8n-nodes-base and @n8n/eslint-plugin-community-nodes, the latter in its
// config for packages not meant for n8n Cloud), the node's layer map, and typescript-eslint's
// recommended rules for the tests and scripts, with the TypeScript parser for .ts and the
// JSON parser the plugins expect for package.json. Formatting is Prettier's
// (`npm run format`); `npm run lint` checks both, then runs knip.
import js from '@eslint/js';
import { n8nCommunityNodesPlugin } from '@n8n/eslint-plugin-community-nodes';
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const relaxedForTests = {
	// Tests and scripts reach into objects whose types the libraries leave open.
	'@typescript-eslint/no-explicit-any': 'off',
	'@typescript-eslint/no-non-null-assertion': 'off',
	'@typescript-eslint/no-require-imports': 'off',
	'@typescript-eslint/no-unused-vars': [
		'error',
		{ argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
	],
};

// What n8n loads: the package's manifest, its credential and its node.
const packageFiles = ['package.json', 'credentials/**/*.ts', 'nodes/**/*.ts'];

// n8n's current rules, in the config for packages that are not for n8n Cloud: Cloud takes
// no package with runtime dependencies, and this one needs four (see switchedOff below).
const communityNodes = n8nCommunityNodesPlugin.configs.recommendedWithoutN8nCloudSupport;

/**
 * The node's layer map (folders under nodes/FluxProFill/), each layer importing only the
 * layers below it:
 *
 *   FluxProFill.node.ts → actions/ → helpers/ → transport/ | pictures/ → common/
 *                       → methods/ → transport/, common/
 *
 * transport/ and pictures/ do not import each other; common/ imports nothing of the node.
 * For every layer: the folders its files may reach with a relative import (its own
 * included). Any other relative import that leaves the layer's folder fails, at any depth
 * inside it: a folder below the layer, a folder outside the map, the .node.ts file.
 */
const layers = {
	actions: ['actions', 'helpers', 'transport', 'pictures', 'common'],
	helpers: ['helpers', 'transport', 'pictures', 'common'],
	methods: ['methods', 'transport', 'common'],
	transport: ['transport', 'common'],
	pictures: ['pictures', 'common'],
	common: ['common'],
};
const layerMap =
	'FluxProFill.node.ts → actions/ → helpers/ → transport/ | pictures/ → common/; methods/ → transport/, common/';

function layerRules(layer, allowed, maxDepth = 4) {
	const reach = allowed.map((folder) => `${folder}/`).join(', ');
	return Array.from({ length: maxDepth + 1 }, (_, depth) => ({
		// A file `depth` folders below nodes/FluxProFill/<layer>/ …
		files: [`nodes/FluxProFill/${layer}/${'*/'.repeat(depth)}*.ts`],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						{
							// … leaves nodes/FluxProFill/<layer>/ with `depth + 1` steps up; what
							// follows must be one of the allowed folders.
							regex: `^(?:\\.\\./){${depth}}\\.\\.(?:$|/(?!(?:${allowed.join('|')})(?:/|$)))`,
							message: `nodes/FluxProFill/${layer}/ may import only ${reach} (layer map: ${layerMap}). Move what both need down a layer, or pass it in.`,
						},
					],
				},
			],
		},
	}));
}

/**
 * Every rule switched off for this package, in this one place, with the reason.
 */
const switchedOff = [
	{
		files: ['package.json'],
		rules: {
			// The design card needs @fal-ai/client (fal's queue, storage and streaming protocol),
			// sharp (masks, Expand Canvas, integrity checks), image-size (reading dimensions
			// without decoding) and p-limit (one concurrency limit per execution) at run time.
			// n8n Cloud takes no package with runtime dependencies: this package is for
			// self-hosted n8n, which installs them with the package.
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
			// The one override only lets npm install @n8n/eslint-plugin-community-nodes beside
			// the project's ESLint: the plugin pins its peer to exactly eslint 9.29.0, and the
			// project lints with 9.39. It concerns a devDependency and, like every override, is
			// ignored when n8n installs the package, so it changes nothing a user gets.
			'@n8n/community-nodes/no-overrides-field': 'off',
			// The package is published by its contributors, who keep no shared mailbox; n8n
			// wants the e-mail for its verification programme, which a package with runtime
			// dependencies cannot join. Issues go to the repository instead.
			'@n8n/community-nodes/valid-author': 'off',
		},
	},
	{
		files: ['credentials/**/*.ts', 'nodes/**/*.ts'],
		rules: {
			// The fal icon is a filled tile with its own dark background and a white mark, so
			// it reads on both of n8n's themes; a dark variant would be the same file, which
			// icon-validation rejects.
			'@n8n/community-nodes/icon-prefer-themed-variants': 'off',
		},
	},
	{
		files: ['credentials/**/*.ts'],
		rules: {
			// This rule wants the doc slug of n8n's own docs site; a community credential
			// links to its vendor's docs by full URL (n8n's node starter turns it off too).
			'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
		},
	},
	{
		files: ['nodes/FluxProFill/*/**/*.ts'],
		rules: {
			// Failures become NodeApiError / NodeOperationError in one place, toNodeError, where
			// the item loop and the router catch them: that is where the item index, fal's
			// wording and the redaction of the key are added. The layers below throw and
			// rethrow their own errors (FalError, InputProblem, the abort reason) on purpose:
			// retries, cancellation and that conversion tell failures apart by them, and have
			// no INode to build an n8n error with. The rule stays on for the .node.ts file.
			'@n8n/community-nodes/require-node-api-error': 'off',
		},
	},
	{
		files: ['nodes/FluxProFill/methods/**/*.ts'],
		rules: {
			// The credential test's context offers only helpers.request (ICredentialTestFunctions
			// has no httpRequest), the rule's suggested replacement, in n8n-workflow 2.x.
			'@n8n/community-nodes/no-deprecated-workflow-functions': 'off',
		},
	},
];

export default [
	{
		ignores: [
			'dist/**',
			'node_modules/**',
			'examples/**',
			'.e2e-work/**',
			'bench-results/**',
			'coverage/**',
		],
	},
	{
		files: ['**/package.json'],
		// typescript-eslint parses JSON into the ObjectExpression nodes these rules visit.
		languageOptions: { parser: tseslint.parser },
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: { ...n8nNodesBase.configs.community.rules },
	},
	{
		files: ['credentials/**/*.ts'],
		languageOptions: { parser: tseslint.parser },
		plugins: { 'n8n-nodes-base': n8nNodesBase },
		rules: { ...n8nNodesBase.configs.credentials.rules },
	},
	{
		files: ['nodes/**/*.ts'],
		languageOptions: { parser: tseslint.parser },
		plugins: { 'n8n-nodes-base': n8nNodesBase, '@typescript-eslint': tseslint.plugin },
		rules: {
			...n8nNodesBase.configs.nodes.rules,
			'@typescript-eslint/no-unused-vars': 'error',
		},
	},
	{ ...communityNodes, files: packageFiles },
	...Object.entries(layers).flatMap(([layer, allowed]) => layerRules(layer, allowed)),
	...switchedOff,
	...[js.configs.recommended, ...tseslint.configs.recommended].map((config) => ({
		...config,
		files: ['test/**/*.{ts,js}', 'scripts/**/*.js', '*.js', '*.mjs'],
	})),
	{
		files: ['test/**/*.{ts,js}', 'scripts/**/*.js', '*.js', '*.mjs'],
		languageOptions: { globals: { ...globals.node, ...globals.jest } },
		rules: relaxedForTests,
	},
];
