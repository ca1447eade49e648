import { CAPS, TIMING } from '../common/constants';

/**
 * What this n8n process keeps across executions (paid request ids, spending books): an
 * entry lives a day after its last use, so a loop that runs for days keeps what it
 * counts; past the limit the least recently used go first.
 */
export class Recent<V> {
	private readonly entries = new Map<string, { value: V; at: number }>();

	constructor(
		private readonly keepMs: number = TIMING.memoryKeepMs,
		private readonly max: number = CAPS.memoryEntries,
	) {}

	get(key: string): V | undefined {
		const entry = this.entries.get(key);
		if (!entry) return undefined;
		this.entries.delete(key);
		if (Date.now() - entry.at > this.keepMs) return undefined;
		this.set(key, entry.value);
		return entry.value;
	}

	set(key: string, value: V): void {
		const now = Date.now();
		this.entries.delete(key);
		// Map keeps insertion order, and every use re-inserts: the least recent come first.
		for (const [old, entry] of this.entries) {
			if (now - entry.at <= this.keepMs && this.entries.size < this.max) break;
			this.entries.delete(old);
		}
		this.entries.set(key, { value, at: now });
	}

	delete(key: string): void {
		this.entries.delete(key);
	}
}
