#!/usr/bin/env node
// @ts-check
// `npm run demo`: runs the example workflows (examples/*.workflow.json) in a real n8n with this
// package installed as a community package. Without FAL_KEY it talks to the embedded
// fal emulator (free, offline); with FAL_KEY it calls fal.ai and is billed.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const {
	REPO_DIR,
	ensureN8n,
	executeWorkflow,
	importCredentials,
	importWorkflow,
	installCommunityPackage,
	n8nEnv,
	packPackage,
} = require('./lib/n8n');
const { startReaper, exitOnSignals } = require('./lib/reaper');

const DEFAULT_DEMO_DIR = '/tmp/n8n-fal-fill-demo';
const demoDir = path.resolve(process.env.FAL_FILL_DEMO_DIR || DEFAULT_DEMO_DIR);
const workDir = path.join(REPO_DIR, '.e2e-work', 'demo');

/** The example workflows the demo runs, and the node whose output it reports. */
const DEMOS = [
	{
		file: 'flux-fill-demo.workflow.json',
		id: 'falFillDemo01',
		node: 'FLUX.1 Fill',
		title: 'repaint part of a picture',
	},
	{
		file: 'replace-the-sky.workflow.json',
		id: 'falFillSky01',
		node: 'Replace the sky',
		title: 'replace the sky (Describe It)',
	},
];

async function main() {
	// Ctrl-C or a SIGTERM ends the n8n processes this demo starts, not only the demo.
	startReaper();
	exitOnSignals();
	prepareDemoDir();
	const fal = await connectToFal();
	try {
		console.log('Preparing n8n (the first run installs n8n into a cache, a few minutes)…');
		const install = await ensureN8n();
		fs.rmSync(workDir, { recursive: true, force: true });
		fs.mkdirSync(workDir, { recursive: true });
		const userFolder = path.join(workDir, 'n8n-home');
		installCommunityPackage(userFolder, packPackage(workDir));
		const env = n8nEnv(userFolder, {
			N8N_RESTRICT_FILE_ACCESS_TO: demoDir,
			N8N_LOG_LEVEL: 'info',
		});

		await importCredentials(install, env, workDir, [
			{ id: 'falDemoCredential', name: 'fal account', type: 'falApi', data: fal.credential },
		]);
		for (const demo of DEMOS) await importWorkflow(install, env, workDir, loadWorkflow(demo));

		for (const demo of DEMOS) {
			console.log(`Running "${demo.title}" against ${fal.label}…`);
			const result = await executeWorkflow(install, env, demo.id);
			const fillRun = result.run?.data?.resultData?.runData?.[demo.node]?.[0];
			if (!result.ok || !fillRun || fillRun.error) {
				const error = result.run?.data?.resultData?.error ?? fillRun?.error;
				throw new Error(
					`The workflow "${demo.title}" failed: ${error?.message ?? 'see n8n output'}${error?.description ? `\n${error.description}` : ''}\n${(result.stdout + result.stderr).slice(-3000)}`,
				);
			}
			console.log(`  FLUX.1 Fill made ${fillRun.data.main[0].length} image(s).`);
		}
		const written = fs
			.readdirSync(path.join(demoDir, 'output'))
			.map((file) => path.join(demoDir, 'output', file));
		console.log('\nDone. The workflows wrote:');
		for (const file of written) console.log(`  ${file}  (${fs.statSync(file).size} bytes)`);
		console.log(
			`\nInputs: ${path.join(demoDir, 'image.png')} with ${path.join(demoDir, 'mask.png')} (white = repainted), and ${path.join(demoDir, 'sky.png')} whose sky Describe It finds from the words "the sky".`,
		);
	} finally {
		await fal.close();
	}
}

function prepareDemoDir() {
	fs.mkdirSync(path.join(demoDir, 'output'), { recursive: true });
	for (const file of fs.readdirSync(path.join(demoDir, 'output')))
		fs.rmSync(path.join(demoDir, 'output', file));
	for (const file of ['image.png', 'mask.png', 'sky.png']) {
		fs.copyFileSync(path.join(REPO_DIR, 'examples', file), path.join(demoDir, file));
	}
}

/**
 * An example workflow, with its paths moved when FAL_FILL_DEMO_DIR is set.
 * @param {{ file: string }} demo
 */
function loadWorkflow(demo) {
	const text = fs.readFileSync(path.join(REPO_DIR, 'examples', demo.file), 'utf8');
	return JSON.parse(text.split(DEFAULT_DEMO_DIR).join(demoDir));
}

async function connectToFal() {
	const key = process.env.FAL_KEY;
	if (key) {
		return {
			label: 'fal.ai (FAL_KEY is set: this run is billed)',
			credential: { apiKey: key, proxyUrl: '' },
			close: async () => {},
		};
	}
	const { startFalEmulator } = require('../test/emulator');
	const demoKey = 'demo-key-id:demo-key-secret';
	const emulator = await startFalEmulator({ validKeys: [demoKey], latencyMs: 300 });
	return {
		label: `the embedded fal emulator at ${emulator.url} (set FAL_KEY to use fal.ai)`,
		credential: { apiKey: demoKey, proxyUrl: emulator.proxyUrl },
		close: () => emulator.close(),
	};
}

main().catch((error) => {
	console.error(`\nDemo failed: ${error instanceof Error ? error.message : error}`);
	process.exitCode = 1;
});
