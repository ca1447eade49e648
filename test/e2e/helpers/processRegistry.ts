/**
 * The process groups the suite started and has not stopped yet, one file each in a
 * folder. Test files run in jest's sandbox, whose `process` object never sees real
 * signals; the global setup and teardown run in the jest process itself. The folder is
 * how the two meet: the jest process can kill, on Ctrl-C or at the end of the run,
 * whatever a test file left behind (and the teardown fails the run if anything was).
 */
import fs from 'node:fs';
import path from 'node:path';

import { killProcessGroup } from '../../../scripts/lib/n8n';
import { E2E_ROOT } from './context';

const REGISTRY_DIR = path.join(E2E_ROOT, 'running-process-groups');

interface Entry {
	label: string;
	/** The executable started, so that a reused PID is never mistaken for ours. */
	command: string;
}

export function registerGroup(pgid: number, label: string, command: string): void {
	fs.mkdirSync(REGISTRY_DIR, { recursive: true });
	fs.writeFileSync(
		path.join(REGISTRY_DIR, String(pgid)),
		JSON.stringify({ label, command } satisfies Entry),
	);
}

export function unregisterGroup(pgid: number): void {
	fs.rmSync(path.join(REGISTRY_DIR, String(pgid)), { force: true });
}

/**
 * Kills (SIGKILL) every registered group that still has a process and empties the
 * registry. Returns what was still running, e.g. ["n8n worker (queue-mode): 123, 130"].
 * Synchronous, so that it can run in an 'exit' handler.
 */
export function killRegisteredGroups(): string[] {
	let files: string[];
	try {
		files = fs.readdirSync(REGISTRY_DIR);
	} catch {
		return [];
	}
	const leftovers: string[] = [];
	for (const file of files) {
		const pgid = Number(file);
		const entryPath = path.join(REGISTRY_DIR, file);
		let entry: Entry | undefined;
		try {
			entry = JSON.parse(fs.readFileSync(entryPath, 'utf8')) as Entry;
		} catch {
			entry = undefined;
		}
		const pids = processesInGroup(pgid);
		if (entry && pids.length > 0 && leaderLooksLike(pgid, pids, entry.command)) {
			leftovers.push(`${entry.label}: ${pids.join(', ')}`);
			killProcessGroup(pgid, 'SIGKILL');
		}
		fs.rmSync(entryPath, { force: true });
	}
	return leftovers;
}

/** PIDs of the live processes whose process group is `pgid` (Linux /proc). */
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
		// "pid (comm) state ppid pgrp ...": comm may contain spaces, so split after the last ')'.
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		if (Number(fields[2]) === pgid && fields[0] !== 'Z') pids.push(Number(entry));
	}
	return pids;
}

/**
 * The group's leader still runs the executable we started (or the leader is gone and
 * only its children remain). Compares executables, not command lines: redis-server
 * rewrites its command line into a process title.
 */
function leaderLooksLike(pgid: number, pids: number[], command: string): boolean {
	if (!pids.includes(pgid)) return true;
	try {
		return fs.readlinkSync(`/proc/${pgid}/exe`) === fs.realpathSync(command);
	} catch {
		return false;
	}
}

// Handlers for the real jest process (installed by the global setup).
const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function onSignal(signal: NodeJS.Signals): void {
	killRegisteredGroups();
	for (const other of signals) process.removeListener(other, onSignal);
	process.kill(process.pid, signal); // with our handler gone, the default action ends jest
}

function onExit(): void {
	killRegisteredGroups();
}

/** Makes the jest process kill registered groups when interrupted or when it exits. */
export function installCleanupHandlers(): void {
	for (const signal of signals) process.on(signal, onSignal);
	process.on('exit', onExit);
}
