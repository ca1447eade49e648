import { ItemDeadline } from '../transport/itemDeadline';
import type { RunContext } from './runItems';

/** A status or cancel call for one item: these answer at once, unlike a result. */
const QUICK_CALL_TIMEOUT_MS = 60_000;

/**
 * Runs a quick call about a submitted request (status, cancel) for one item: in a
 * concurrency slot, under its own short deadline that the execution's stop also ends.
 * A stop only ends the wait; it cancels nothing.
 */
export async function quickCall<T>(
	{ atFal, stopSignal, track }: RunContext,
	requestId: string,
	work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
	track(requestId);
	const deadline = new ItemDeadline(stopSignal, QUICK_CALL_TIMEOUT_MS);
	return await atFal(
		async () => await deadline.guard(async () => await work(deadline.signal), requestId),
	);
}
