// @ts-check
// Lets plain Node scripts (the benchmark) `require` the TypeScript test harness and
// node sources, compiled on the fly by the project's own TypeScript (type checking is
// the job of `npm run typecheck`, not of this hook).
'use strict';

const fs = require('node:fs');
const ts = require('typescript');

const compilerOptions = {
	module: ts.ModuleKind.CommonJS,
	target: ts.ScriptTarget.ES2022,
	esModuleInterop: true,
	sourceMap: false,
	inlineSourceMap: true,
};

require.extensions['.ts'] = (
	/** @type {NodeJS.Module} */ module,
	/** @type {string} */ filename,
) => {
	const source = fs.readFileSync(filename, 'utf8');
	const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
	/** @type {any} */ (module)._compile(outputText, filename);
};
