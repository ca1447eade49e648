/**
 * Stopping stops everything: Ctrl-C (SIGINT) or SIGTERM to `npm run demo`, `npm run
 * bench` or the e2e run itself ends every process it started (n8n CLI and servers, the
 * emulator process, the task runner) within a few seconds. The signal goes to the
 * script's own process only, as `timeout` or CI sends it: the children run in process
 * groups of their own, so nothing but the script's own clean-up can reach them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { REPO_DIR } from '../../scripts/lib/n8n';
import { E2E_ROOT, freshDir } from './helpers/context';
import { delay, waitFor } from './helpers/processes';

interface Proc {
	pid: number;
	start: string;
	cmdline: string;
}

function readProc(pid: number): { ppid: number; start: string; state: string } | undefined {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		return { state: fields[0], ppid: Number(fields[1]), start: fields[19] };
	} catch {
		return undefined;
	}
}

function cmdline(pid: number): string {
	try {
		return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
	} catch {
		return '';
	}
}

/** Every live descendant of `root`, with its start time so a reused pid is not mistaken for it. */
function descendants(root: number): Proc[] {
	const parents = new Map<number, number>();
	for (const entry of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		const stat = readProc(Number(entry));
		if (stat && stat.state !== 'Z') parents.set(Number(entry), stat.ppid);
	}
	const found: Proc[] = [];
	const queue = [root];
	while (queue.length > 0) {
		const parent = queue.pop()!;
		for (const [pid, ppid] of parents) {
			if (ppid !== parent) continue;
			const stat = readProc(pid);
			if (!stat) continue;
			found.push({ pid, start: stat.start, cmdline: cmdline(pid) });
			queue.push(pid);
		}
	}
	return found;
}

function stillAlive(procs: Proc[]): Proc[] {
	return procs.filter((proc) => {
		const stat = readProc(proc.pid);
		return stat !== undefined && stat.start === proc.start && stat.state !== 'Z';
	});
}

/**
 * Starts `args` with Node, waits until one of its descendants matches `ready` (and keeps
 * a list of all it started meanwhile), sends `signal` to the script's process alone, and
 * asserts that the script and every process it started are gone within `withinMs`.
 */
async function signalMidRun(
	args: string[],
	env: NodeJS.ProcessEnv,
	ready: (proc: Proc) => boolean,
	signal: NodeJS.Signals,
	withinMs = 8_000,
): Promise<{ seen: Proc[]; output: string }> {
	// Detached: the signal must come from this test, not from a terminal's process group.
	const child: ChildProcess = spawn(process.execPath, args, {
		cwd: REPO_DIR,
		env,
		detached: true,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let output = '';
	child.stdout!.on('data', (chunk) => (output += chunk));
	child.stderr!.on('data', (chunk) => (output += chunk));
	const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
	const seen = new Map<number, Proc>();
	try {
		await waitFor(
			`${args.join(' ')} to start its children`,
			() => {
				for (const proc of descendants(child.pid!)) seen.set(proc.pid, proc);
				if (child.exitCode !== null)
					throw new Error(`exited early with ${child.exitCode}:\n${output}`);
				return (
					[...seen.values()].some(ready) && stillAlive([...seen.values()].filter(ready)).length > 0
				);
			},
			{ timeoutMs: 240_000, intervalMs: 100, detail: () => output.slice(-2000) },
		);
		// A moment for the run to be well under way (the n8n process booting, requests in flight).
		await delay(1_000);
		for (const proc of descendants(child.pid!)) seen.set(proc.pid, proc);
		process.kill(child.pid!, signal);
		const started = Date.now();
		await waitFor(
			`every process of ${args.join(' ')} to end after ${signal}`,
			() =>
				child.exitCode !== null || child.signalCode !== null
					? stillAlive([...seen.values()]).length === 0
					: false,
			{
				timeoutMs: withinMs,
				intervalMs: 100,
				detail: () =>
					`still running: ${stillAlive([...seen.values()])
						.map((proc) => `${proc.pid} ${proc.cmdline.slice(0, 120)}`)
						.join('; ')}`,
			},
		);
		expect(Date.now() - started).toBeLessThan(withinMs);
		await exited;
		return { seen: [...seen.values()], output };
	} finally {
		// Whatever happened above, leave nothing behind for the rest of the suite.
		try {
			process.kill(-child.pid!, 'SIGKILL');
		} catch {
			// gone
		}
		for (const proc of stillAlive([...seen.values()])) {
			try {
				process.kill(proc.pid, 'SIGKILL');
			} catch {
				// gone
			}
		}
	}
}

const isN8nCli = (proc: Proc) => /node_modules\/n8n\/bin\/n8n\b/.test(proc.cmdline);

test('Ctrl-C (SIGINT) during `npm run demo` ends the n8n process it started', async () => {
	const demoDir = freshDir('stop-demo');
	const { seen, output } = await signalMidRun(
		['scripts/run-demo.js'],
		{ ...process.env, FAL_FILL_DEMO_DIR: demoDir, FAL_KEY: '' },
		isN8nCli,
		'SIGINT',
	);
	expect(seen.some(isN8nCli)).toBe(true);
	expect(output).toContain('Stopped (SIGINT)');
}, 300_000);

test('SIGTERM during `npm run bench` ends the emulator process it started', async () => {
	const isEmulator = (proc: Proc) => proc.cmdline.includes('emulator-child.js');
	const { seen } = await signalMidRun(
		['scripts/bench.js'],
		{ ...process.env, BENCH_REPEATS: '1' },
		isEmulator,
		'SIGTERM',
	);
	expect(seen.some(isEmulator)).toBe(true);
}, 120_000);

test('SIGTERM to the e2e run (jest) ends the n8n server its test started', async () => {
	// A second, tiny e2e run in its own work folder: one test that starts `n8n start` and waits.
	const work = freshDir('stop-e2e-run');
	const { seen } = await signalMidRun(
		[
			path.join(REPO_DIR, 'node_modules', 'jest', 'bin', 'jest.js'),
			'--config',
			'jest.e2e.config.js',
			'--roots',
			'<rootDir>/test/e2e',
			'--testMatch',
			'**/fixtures/holds-n8n.e2e-fixture.ts',
		],
		{ ...process.env, FAL_FILL_E2E_WORK: work },
		(proc) => isN8nCli(proc) && proc.cmdline.includes(' start'),
		'SIGTERM',
	);
	expect(seen.some(isN8nCli)).toBe(true);
	expect(E2E_ROOT).not.toBe(work);
}, 300_000);
