/**
 * Long-running child processes of the e2e suite (n8n main, n8n worker, Redis).
 *
 * Every process is spawned `detached`, i.e. as the leader of its own process group, so
 * that stopping it also stops what it started (n8n's task runner). Every process is
 * registered here until it is stopped; `stopAllProcesses()` runs in each file's
 * `afterAll`, and an exit/signal hook kills whatever is left if the test process dies
 * first. Output goes to a log file (kept under .e2e-work for debugging) and to memory,
 * where tests search it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { killProcessGroup } from '../../../scripts/lib/n8n';

export interface ManagedProcess {
	readonly name: string;
	readonly pid: number;
	readonly logFile: string;
	/** Everything the process printed so far (stdout and stderr interleaved). */
	output(): string;
	/** Resolves when the process has exited; never rejects. */
	readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
	hasExited(): boolean;
}

interface Registered extends ManagedProcess {
	child: ChildProcess;
}

const live = new Map<number, Registered>();
/** Every process group this test file started, stopped or not: for the leak check. */
const startedGroups: Array<{ name: string; pgid: number }> = [];

export interface StartOptions {
	env: NodeJS.ProcessEnv;
	logFile: string;
	cwd?: string;
}

/** Starts a process in its own process group and registers it for cleanup. */
export function startProcess(name: string, command: string, args: string[], options: StartOptions): ManagedProcess {
	fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
	const log = fs.openSync(options.logFile, 'w');
	const child = spawn(command, args, {
		env: options.env,
		cwd: options.cwd,
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: true,
	});
	if (child.pid === undefined) {
		fs.closeSync(log);
		throw new Error(`Could not start ${name} (${command})`);
	}
	const pid = child.pid;
	let text = '';
	let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
	const record = (chunk: Buffer) => {
		text += chunk.toString('utf8');
		fs.writeSync(log, chunk);
	};
	child.stdout?.on('data', record);
	child.stderr?.on('data', record);
	const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
		child.once('error', (error) => {
			text += `\n[e2e] ${name} failed to start: ${error.message}\n`;
		});
		child.once('close', (code, signal) => {
			exitInfo = { code, signal };
			fs.closeSync(log);
			resolve(exitInfo);
		});
	});
	const managed: Registered = {
		name,
		pid,
		logFile: options.logFile,
		child,
		output: () => text,
		exited,
		hasExited: () => exitInfo !== undefined,
	};
	live.set(pid, managed);
	startedGroups.push({ name, pgid: pid });
	installExitHooks();
	return managed;
}

/**
 * Stops a process: SIGTERM to its group (n8n shuts down cleanly), SIGKILL to the group
 * if it is still there after `graceMs`, and SIGKILL to the group once the leader is gone,
 * for children that outlived it.
 */
export async function stopProcess(proc: ManagedProcess, graceMs = 15_000): Promise<void> {
	if (!proc.hasExited()) {
		killProcessGroup(proc.pid, 'SIGTERM');
		const timedOut = await Promise.race([proc.exited.then(() => false), delay(graceMs).then(() => true)]);
		if (timedOut) killProcessGroup(proc.pid, 'SIGKILL');
		await proc.exited;
	}
	killProcessGroup(proc.pid, 'SIGKILL');
	await waitFor(`the process group of ${proc.name} to be gone`, () => processesInGroup(proc.pid).length === 0, {
		timeoutMs: 10_000,
	});
	live.delete(proc.pid);
	if (live.size === 0) removeExitHooks();
}

/** Stops every registered process (in reverse start order: workers before their main). */
export async function stopAllProcesses(): Promise<void> {
	const errors: unknown[] = [];
	for (const proc of [...live.values()].reverse()) {
		try {
			await stopProcess(proc);
		} catch (error) {
			errors.push(error);
		}
	}
	if (errors.length) throw new AggregateError(errors, 'Some e2e processes could not be stopped');
}

/** PIDs of the processes whose process group is `pgid` (Linux /proc). */
export function processesInGroup(pgid: number): number[] {
	const pids: number[] = [];
	for (const entry of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		let stat: string;
		try {
			stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
		} catch {
			continue; // exited while we looked
		}
		// "pid (comm) state ppid pgrp ...": comm may contain spaces, so split after ')'.
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		if (Number(fields[2]) === pgid && fields[0] !== 'Z') pids.push(Number(entry));
	}
	return pids;
}

/** Processes still alive in any group this test file started ("name: pids"); empty when clean. */
export function leftoverProcesses(): string[] {
	return startedGroups
		.map(({ name, pgid }) => ({ name, pids: processesInGroup(pgid) }))
		.filter(({ pids }) => pids.length > 0)
		.map(({ name, pids }) => `${name}: ${pids.join(', ')}`);
}

export interface WaitOptions {
	timeoutMs: number;
	intervalMs?: number;
	/** Extra text for the timeout error, computed when it happens (for example a log tail). */
	detail?: () => string;
}

/** Polls `check` until it returns a truthy value (which is returned) or the deadline passes. */
export async function waitFor<T>(
	what: string,
	check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
	{ timeoutMs, intervalMs = 250, detail }: WaitOptions,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let lastError: unknown;
	for (;;) {
		try {
			const value = await check();
			if (value) return value;
			lastError = undefined;
		} catch (error) {
			lastError = error;
		}
		if (Date.now() >= deadline) {
			const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
			throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}${reason}${detail ? `\n${detail()}` : ''}`);
		}
		await delay(intervalMs);
	}
}

export function delay(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The last `lines` lines of a process's output, for error messages. */
export function tail(proc: ManagedProcess, lines = 40): string {
	return `--- last lines of ${proc.name} (${proc.logFile}) ---\n${proc.output().split('\n').slice(-lines).join('\n')}`;
}

// If the test process exits or is interrupted before afterAll ran, the detached groups
// would otherwise survive it (a terminal's Ctrl-C does not reach other process groups).
const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let hooksInstalled = false;

function killAllNow(): void {
	for (const pid of live.keys()) killProcessGroup(pid, 'SIGKILL');
}

function onSignal(signal: NodeJS.Signals): void {
	killAllNow();
	removeExitHooks();
	process.kill(process.pid, signal); // the default action now ends the test process
}

function installExitHooks(): void {
	if (hooksInstalled) return;
	hooksInstalled = true;
	process.on('exit', killAllNow);
	for (const signal of signals) process.on(signal, onSignal);
}

function removeExitHooks(): void {
	if (!hooksInstalled) return;
	hooksInstalled = false;
	process.off('exit', killAllNow);
	for (const signal of signals) process.off(signal, onSignal);
}
