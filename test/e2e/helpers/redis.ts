/**
 * A throwaway Redis for queue mode: Debian's `redis-server` on a free loopback port,
 * nothing persisted, started and stopped by the test that needs it.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { freePort } from '../../../scripts/lib/n8n';
import { GiveUp, startProcess, stopProcess, tail, waitFor, type ManagedProcess } from './processes';

const REDIS_INSTALL_HINT =
	'apt-get update && apt-get install -y --no-install-recommends redis-server';

/** Path of redis-server, or a loud error telling how to install it. */
export function findRedisServer(): string {
	const dirs = [
		...(process.env.PATH ?? '').split(path.delimiter),
		'/usr/bin',
		'/usr/sbin',
		'/usr/local/bin',
	];
	for (const dir of dirs) {
		const candidate = path.join(dir, 'redis-server');
		if (dir && fs.existsSync(candidate)) return candidate;
	}
	throw new Error(
		`redis-server is not installed; the queue-mode test needs it. Install it with: ${REDIS_INSTALL_HINT}`,
	);
}

export interface RedisServer {
	host: string;
	port: number;
	process: ManagedProcess;
	stop(): Promise<void>;
}

export async function startRedis(redisServer: string, workDir: string): Promise<RedisServer> {
	const port = await freePort();
	const dataDir = path.join(workDir, 'redis');
	fs.mkdirSync(dataDir, { recursive: true });
	const proc = startProcess(
		'redis-server',
		redisServer,
		// No RDB snapshots and no AOF: nothing outlives the test.
		[
			'--port',
			String(port),
			'--bind',
			'127.0.0.1',
			'--save',
			'',
			'--appendonly',
			'no',
			'--dir',
			dataDir,
		],
		{ env: process.env, logFile: path.join(workDir, 'logs', 'redis.log') },
	);
	await waitFor(
		`redis-server to answer PING on port ${port}`,
		async () => {
			if (proc.hasExited()) throw new GiveUp('redis-server exited during start-up');
			return (await ping('127.0.0.1', port)) === '+PONG';
		},
		{ timeoutMs: 15_000, detail: () => tail(proc) },
	);
	return { host: '127.0.0.1', port, process: proc, stop: () => stopProcess(proc, 5_000) };
}

/** One RESP PING, without a Redis client library. */
function ping(host: string, port: number): Promise<string> {
	return new Promise((resolve, reject) => {
		const socket = net.connect({ host, port });
		let answer = '';
		socket.setTimeout(2_000, () => socket.destroy(new Error('PING timed out')));
		socket.once('connect', () => socket.write('PING\r\n'));
		socket.on('data', (chunk) => {
			answer += chunk.toString('utf8');
			if (answer.includes('\r\n')) {
				socket.end();
				resolve(answer.trim());
			}
		});
		socket.once('error', reject);
	});
}
