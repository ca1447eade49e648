import { createHash } from 'node:crypto';

/** A request fal accepted for one item, as its submit answered. */
export interface AcceptedRequest {
	endpoint: string;
	requestId: string;
	/** fal's answer to the submit (Submit returns it again on a retry). */
	answer: Record<string, unknown>;
}

interface Entry extends AcceptedRequest {
	at: number;
}

/** n8n retries a node within seconds or minutes; a day covers any wait between tries. */
const KEEP_MS = 24 * 60 * 60 * 1000;
const MAX_ENTRIES = 10_000;

/**
 * The requests fal has accepted, by execution, node, item and what was sent. n8n's
 * "Retry On Fail" runs the node's `execute` again, in the same process, for every item:
 * an item found here picks its request up from fal instead of paying for a new one.
 * A new execution is a new run (its id differs), and so is a changed input.
 */
export class RequestMemory {
	private readonly entries = new Map<string, Entry>();

	recall(key: string): AcceptedRequest | undefined {
		const entry = this.entries.get(key);
		if (entry && Date.now() - entry.at > KEEP_MS) {
			this.entries.delete(key);
			return undefined;
		}
		return entry;
	}

	remember(key: string, request: AcceptedRequest): void {
		this.prune();
		this.entries.set(key, { ...request, at: Date.now() });
	}

	/** The request is gone at fal (cancelled): a retry may submit anew. */
	forget(key: string): void {
		this.entries.delete(key);
	}

	private prune(): void {
		const now = Date.now();
		for (const [key, entry] of this.entries) {
			// Map keeps insertion order: the oldest come first.
			if (now - entry.at <= KEEP_MS && this.entries.size < MAX_ENTRIES) break;
			this.entries.delete(key);
		}
	}
}

/** The n8n process's memory: every execution of the node in this process shares it. */
export const acceptedRequests = new RequestMemory();

/** The key of one item's request: where it ran, and a digest of what was sent. */
export function requestKey(
	where: { executionId: string; nodeId: string; itemIndex: number },
	sent: unknown,
): string {
	const digest = createHash('sha256').update(JSON.stringify(sent)).digest('hex');
	return `${where.executionId}|${where.nodeId}|${where.itemIndex}|${digest}`;
}
