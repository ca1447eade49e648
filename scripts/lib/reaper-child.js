// @ts-check
// Watches one process (the owner: `npm run demo`'s node, the bench, the e2e jest
// process) and, once it is gone however it ended (Ctrl-C, SIGTERM, a crash, SIGKILL),
// ends every process it had started: its descendants, and the process groups they lead
// (n8n's CLI and server run detached, in groups of their own, so a terminal's Ctrl-C
// never reaches them). Runs detached itself, so the signal that ends the owner does not
// end the reaper too. Started by reaper.js; argv: <owner pid>.
'use strict';

const fs = require('node:fs');

const owner = Number(process.argv[2]);
const POLL_MS = 200;
const GRACE_MS = 2500;

/** @typedef {{ ppid: number, pgid: number, start: string, state: string }} Stat */

/** @returns {Map<number, Stat>} */
function processTable() {
	const table = new Map();
	for (const entry of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) continue;
		let stat;
		try {
			stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
		} catch {
			continue;
		}
		// "pid (comm) state ppid pgrp session tty tpgid flags … starttime(22nd)": comm may hold spaces.
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		table.set(Number(entry), {
			state: fields[0],
			ppid: Number(fields[1]),
			pgid: Number(fields[2]),
			start: fields[19],
		});
	}
	return table;
}

/** Every process started by the owner, directly or not, as seen now: pid → start time. */
const seen = new Map();

function record() {
	const table = processTable();
	const ownerStat = table.get(owner);
	if (!ownerStat || ownerStat.state === 'Z') return false;
	const children = new Map();
	for (const [pid, stat] of table) {
		if (!children.has(stat.ppid)) children.set(stat.ppid, []);
		children.get(stat.ppid).push(pid);
	}
	const queue = [...(children.get(owner) ?? [])];
	while (queue.length > 0) {
		const pid = /** @type {number} */ (queue.pop());
		if (pid === process.pid) continue;
		const stat = table.get(pid);
		if (!stat) continue;
		seen.set(pid, { start: stat.start, pgid: stat.pgid });
		queue.push(...(children.get(pid) ?? []));
	}
	return true;
}

/** @param {NodeJS.Signals} signal */
function killAll(signal) {
	const table = processTable();
	let left = 0;
	for (const [pid, { start, pgid }] of seen) {
		const now = table.get(pid);
		if (!now || now.start !== start || now.state === 'Z') continue; // gone, or the pid was reused
		left++;
		// A group this run created (its leader is one of ours): takes children born since the last look.
		if (pgid === pid) trySignal(-pgid, signal);
		trySignal(pid, signal);
	}
	return left;
}

/** @param {number} target @param {NodeJS.Signals} signal */
function trySignal(target, signal) {
	try {
		process.kill(target, signal);
	} catch {
		// already gone
	}
}

const timer = setInterval(() => {
	if (record()) return;
	clearInterval(timer);
	if (killAll('SIGTERM') === 0) process.exit(0);
	setTimeout(() => {
		killAll('SIGKILL');
		process.exit(0);
	}, GRACE_MS);
}, POLL_MS);
