// ESLint 9 flat config: n8n's own community, credential and node rules, with the
// TypeScript parser for .ts and the JSON parser the plugin expects for package.json.
import n8nNodesBase from 'eslint-plugin-n8n-nodes-base';
import tseslint from 'typescript-eslint';

export default [
	{ ignores: ['dist/**', 'node_modules/**', 'test/**', 'scripts/**', 'examples/**'] },
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
];
