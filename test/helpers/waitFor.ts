/**
 * The one polling helper of the tests: wait until something holds, with a deadline.
 *
 *   await waitFor(() => emu.jobs.size === 1); // in-process state, every 10 ms, 5 s at most
 *   const rows = await waitFor('two executions', async () => …, { timeoutMs: 60_000 });
 *
 * The first form is the integration kit's (test/integration/fixtures.ts re-exports it);
 * the second, which names what it waits for and answers the check's value, the e2e suite's
 * (test/e2e/helpers/processes.ts re-exports it).
 */

export interface WaitOptions {
	timeoutMs: number;
	intervalMs?: number;
	/** Extra text for the timeout error, computed when it happens (for example a log tail). */
	detail?: () => string;
}

/** Thrown by a `waitFor` check when waiting longer is pointless (the process died). */
export class GiveUp extends Error {}

type Check<T> = () => T | undefined | null | false | Promise<T | undefined | null | false>;

/**
 * Polls `predicate` every 10 ms until it holds; throws after `timeoutMs` (5 s by default),
 * or at once with the predicate's own error.
 */
export function waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
/**
 * Polls `check` until it returns a truthy value (which is returned) or the deadline
 * passes. A check that throws is retried (the server may not listen yet), unless it
 * throws `GiveUp`.
 */
export function waitFor<T>(what: string, check: Check<T>, options: WaitOptions): Promise<T>;
export async function waitFor<T>(
	whatOrPredicate: string | (() => boolean),
	check?: Check<T> | number,
	options?: WaitOptions,
): Promise<T | void> {
	if (typeof whatOrPredicate === 'function') {
		const timeoutMs = typeof check === 'number' ? check : 5_000;
		await poll('a condition', whatOrPredicate, { timeoutMs, intervalMs: 10 }, false);
		return;
	}
	if (typeof check !== 'function' || !options)
		throw new TypeError('waitFor(what, check, options): check and options are required');
	return await poll(whatOrPredicate, check, options);
}

async function poll<T>(
	what: string,
	check: Check<T>,
	{ timeoutMs, intervalMs = 250, detail }: WaitOptions,
	retryErrors = true,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let lastError: unknown;
	for (;;) {
		try {
			const value = await check();
			if (value) return value;
			lastError = undefined;
		} catch (error) {
			if (error instanceof GiveUp || !retryErrors) throw error;
			lastError = error;
		}
		if (Date.now() >= deadline) {
			const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
			throw new Error(
				`Timed out after ${timeoutMs / 1000} s waiting for ${what}${reason}${detail ? `\n${detail()}` : ''}`,
			);
		}
		await delay(intervalMs);
	}
}

export function delay(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
