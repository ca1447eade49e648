/**
 * Long-running child processes of the e2e suite (n8n main, n8n worker, Redis).
 *
 * Every process is spawned `detached`, i.e. as the leader of its own process group, so
 * that stopping it also stops what it started (n8n's task runner). Every process is
 * registered until it is stopped: here for `stopAllProcesses()` (each file's
 * `afterAll`), and in the on-disk registry (processRegistry.ts) that the jest process
 * itself cleans up on Ctrl-C and at the end of the run. Output goes to a log file (kept
 * under .e2e-work for debugging) and to memory, where tests search it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { killProcessGroup, observeProcessGroups } from '../../../scripts/lib/n8n';
import { waitFor } from '../../helpers/waitFor';
import { processesInGroup, registerGroup, unregisterGroup } from './processRegistry';

// The suite's polling helper lives in test/helpers/waitFor.ts (the integration tests use it too).
export { delay, GiveUp, waitFor } from '../../helpers/waitFor';

// The short CLI commands (`n8n import:…`, `n8n execute`) are process groups too.
observeProcessGroups({
	started: (pid, label, command) => registerGroup(pid, label, command),
	stopped: (pid) => unregisterGroup(pid),
});

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
}

/** Starts a process in its own process group and registers it for cleanup. */
export function startProcess(
	name: string,
	command: string,
	args: string[],
	options: StartOptions,
): ManagedProcess {
	fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
	const child = spawn(command, args, {
		env: options.env,
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: true,
	});
	let text = '';
	// Without a listener, a failed spawn (ENOENT) would crash the test process.
	child.once('error', (error) => (text += `\n[e2e] ${name} failed: ${error.message}\n`));
	if (child.pid === undefined) throw new Error(`Could not start ${name} (${command})`);
	const log = fs.openSync(options.logFile, 'w');
	const pid = child.pid;
	let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
	const record = (chunk: Buffer) => {
		text += chunk.toString('utf8');
		fs.writeSync(log, chunk);
	};
	child.stdout?.on('data', record);
	child.stderr?.on('data', record);
	const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
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
	registerGroup(pid, name, command);
	return managed;
}

/**
 * Stops a process: SIGTERM to the leader (n8n then shuts down cleanly, its task runner
 * included), SIGKILL to the whole group if the leader is still there after `graceMs`,
 * and SIGKILL to the group once the leader is gone, for children that outlived it.
 */
export async function stopProcess(proc: ManagedProcess, graceMs = 15_000): Promise<void> {
	if (!proc.hasExited()) {
		try {
			process.kill(proc.pid, 'SIGTERM');
		} catch {
			// exited in the meantime
		}
		let timer: NodeJS.Timeout | undefined;
		const timedOut = await new Promise<boolean>((resolve) => {
			timer = setTimeout(() => resolve(true), graceMs);
			void proc.exited.then(() => resolve(false));
		});
		clearTimeout(timer); // a pending grace timer would keep jest from exiting
		if (timedOut) killProcessGroup(proc.pid, 'SIGKILL');
		await proc.exited;
	}
	killProcessGroup(proc.pid, 'SIGKILL');
	await waitFor(
		`the process group of ${proc.name} to be gone`,
		() => processesInGroup(proc.pid).length === 0,
		{
			timeoutMs: 10_000,
		},
	);
	live.delete(proc.pid);
	unregisterGroup(proc.pid);
}

/**
 * Kills a process as a crash would (the OOM killer, `kill -9`): SIGKILL to its whole
 * process group at once, no chance to shut down. Resolves with how it ended once the
 * group is gone.
 */
export async function killProcess(
	proc: ManagedProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
	killProcessGroup(proc.pid, 'SIGKILL');
	const exit = await proc.exited;
	await stopProcess(proc); // waits for the group to be gone and unregisters it
	return exit;
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

/** Processes still alive in any group this test file started ("name: pids"); empty when clean. */
export function leftoverProcesses(): string[] {
	return startedGroups
		.map(({ name, pgid }) => ({ name, pids: processesInGroup(pgid) }))
		.filter(({ pids }) => pids.length > 0)
		.map(({ name, pids }) => `${name}: ${pids.join(', ')}`);
}

/** The last `lines` lines of a process's output, for error messages. */
export function tail(proc: ManagedProcess, lines = 40): string {
	return `--- last lines of ${proc.name} (${proc.logFile}) ---\n${proc.output().split('\n').slice(-lines).join('\n')}`;
}
