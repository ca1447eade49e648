// ESLint 9 flat config: n8n's own community, credential and node rules for the package,
// typescript-eslint's recommended rules for the tests and scripts, with the TypeScript
// parser for .ts and the JSON parser the plugin expects for package.json. Formatting is
// Prettier's (`npm run format`); `npm run lint` checks both.
import js from '@eslint/js';
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
		rules: {
			...n8nNodesBase.configs.credentials.rules,
			// This rule wants the doc slug of n8n's own docs site; a community credential
			// links to its vendor's docs by full URL (n8n's node starter turns it off too).
			'n8n-nodes-base/cred-class-field-documentation-url-miscased': 'off',
		},
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
