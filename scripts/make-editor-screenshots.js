#!/usr/bin/env node
// @ts-check
// `npm run screenshots`: regenerates the README's pictures of n8n's editor in
// docs/images/editor/ — fill-panel.png, credential-wrong-key.png, fill-output.png — by
// running the browser test (test/e2e/editor.e2e.test.ts) with FAL_FILL_SCREENSHOTS=1.
// It needs what the e2e suite needs (docs/e2e-notes.md) and Debian's Chromium
// (apt-get install chromium); everything runs offline against the fal emulator.
// Build first (`npm run screenshots` does): the test installs the packed dist/.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const REPO_DIR = path.resolve(__dirname, '..');
const OUT_DIR = path.join(REPO_DIR, 'docs', 'images', 'editor');
const PICTURES = [
	'fill-panel.png',
	'describe-it-panel.png',
	'expand-canvas-panel.png',
	'credential-wrong-key.png',
	'fill-output.png',
];

function main() {
	const started = Date.now();
	const before = new Map(PICTURES.map((name) => [name, mtime(path.join(OUT_DIR, name))]));
	const child = spawn(
		process.execPath,
		[
			path.join(REPO_DIR, 'node_modules', 'jest', 'bin', 'jest.js'),
			'--config',
			'jest.e2e.config.js',
			'test/e2e/editor.e2e.test.ts',
		],
		{ cwd: REPO_DIR, env: { ...process.env, FAL_FILL_SCREENSHOTS: '1' }, stdio: 'inherit' },
	);
	// A signal meant for this script reaches jest too; jest's own handlers stop n8n and
	// Chromium (and the suite's reaper catches anything left).
	for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
		process.on(signal, () => child.kill(signal));
	}
	child.once('error', (error) => {
		console.error(`Could not run jest: ${error.message}`);
		process.exitCode = 1;
	});
	child.once('close', (code, signal) => {
		const updated = PICTURES.filter(
			(name) => mtime(path.join(OUT_DIR, name)) > (before.get(name) ?? 0),
		);
		const stale = PICTURES.filter((name) => !updated.includes(name));
		console.log(`\nScreenshots in ${path.relative(REPO_DIR, OUT_DIR)}/ (1440×900):`);
		for (const name of PICTURES) {
			const file = path.join(OUT_DIR, name);
			const state = updated.includes(name)
				? `updated, ${fs.statSync(file).size} bytes`
				: fs.existsSync(file)
					? 'NOT updated (left as it was)'
					: 'missing';
			console.log(`  ${name}: ${state}`);
		}
		const seconds = ((Date.now() - started) / 1000).toFixed(0);
		if (code !== 0 || stale.length > 0) {
			console.error(
				`\nThe editor test ${signal ? `was stopped (${signal})` : `failed (exit code ${code})`} after ${seconds} s; ` +
					'Each picture is taken when the test reaches its screen, before the test checks what it shows: ' +
					'look at the ones marked updated, and at the test output (logs in .e2e-work/e2e/editor/logs/).',
			);
			process.exitCode = code || 1;
			return;
		}
		console.log(`\nDone in ${seconds} s. Look at them before committing.`);
	});
}

/** @param {string} file */
function mtime(file) {
	try {
		return fs.statSync(file).mtimeMs;
	} catch {
		return 0;
	}
}

main();
