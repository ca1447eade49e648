import { createHash } from 'node:crypto';

import { Recent } from './recent';

/** What one try learnt of a paid request: its id, or that fal may have accepted it unnamed. */
export type Remembered = { requestId: string } | { unnamed: true };

/**
 * The paid requests of this n8n process, by where they were made (execution, node, run of
 * the node, item) and a digest of what was sent. n8n's Retry On Fail runs the node's
 * `execute` again in the same process and the same run: an item found here picks its
 * request up from fal instead of paying for a new one. A loop is a new run of the node,
 * a new execution or a changed input a new key: those submit anew. Only ids are kept.
 */
class RequestMemory {
	private readonly entries = new Recent<Remembered>();

	recall(key: string): Remembered | undefined {
		return this.entries.get(key);
	}

	remember(key: string, what: Remembered): void {
		this.entries.set(key, what);
	}

	/** Gone at fal (cancelled, or never there): a retry may submit anew. */
	forget(key: string): void {
		this.entries.delete(key);
	}
}

export const requestMemory = new RequestMemory();

export interface Where {
	executionId: string;
	nodeId: string;
	runIndex: number;
}

/** The key of one request: where it was made, and a digest of what was sent. */
export function requestKey(where: Where, item: number | string, sent: unknown): string {
	const digest = createHash('sha256').update(JSON.stringify(sent)).digest('hex');
	return `${where.executionId}|${where.nodeId}|${where.runIndex}|${item}|${digest}`;
}
