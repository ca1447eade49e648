import { FalError } from './falError';

/**
 * What became of a request at fal when its item stopped: only `confirmed` may be called
 * "cancelled at fal"; anything else leaves the request possibly running, and billed.
 */
export type CancelOutcome =
	/** fal accepted the cancel. */
	| 'confirmed'
	/** fal had finished the request before the cancel reached it. */
	| 'alreadyCompleted'
	/** The cancel was sent but fal did not confirm it (an error, a timeout). */
	| 'failed'
	/** No cancel was sent: the request is someone else's to stop (Get Result), or the call was a quick read. */
	| 'notSent';

/**
 * One item's stop signal: the execution's cancel signal combined with the item's
 * timeout (milliseconds, whole), which covers everything from upload to the last image
 * downloaded.
 */
export class ItemDeadline {
	readonly signal: AbortSignal;

	private readonly timer: AbortSignal;

	private readonly timeoutMs: number;

	constructor(
		private readonly execution: AbortSignal | undefined,
		timeoutMs: number,
	) {
		// AbortSignal.timeout takes whole milliseconds only.
		this.timeoutMs = Math.max(1, Math.round(timeoutMs));
		this.timer = AbortSignal.timeout(this.timeoutMs);
		this.signal = execution ? AbortSignal.any([execution, this.timer]) : this.timer;
	}

	get stopped(): boolean {
		return this.signal.aborted;
	}

	/** Runs `work`; if it failed because this deadline stopped it, says so instead of the raw abort. */
	async guard<T>(
		work: () => Promise<T>,
		requestId?: string,
		cancel: CancelOutcome = 'notSent',
	): Promise<T> {
		try {
			return await work();
		} catch (error) {
			if (this.stopped) throw this.error(requestId, cancel);
			throw error;
		}
	}

	/**
	 * Why the item stopped, for the user; names the fal request so it can be looked up,
	 * and the last failure that kept it waiting, if any.
	 */
	error(requestId?: string, cancel: CancelOutcome = 'notSent', lastFailure?: string): FalError {
		const ref = requestId ? ` (fal request ID ${requestId})` : '';
		const last = lastFailure ? ` The last answer while waiting: ${lastFailure}.` : '';
		const fields = { requestId, cancelledAtFal: requestId !== undefined && cancel === 'confirmed' };
		if (this.timer.aborted && !this.execution?.aborted) {
			return new FalError(
				`fal did not finish within ${Math.round(this.timeoutMs / 100) / 10} s${ref}`,
				{
					...fields,
					description: requestId
						? `${AT_FAL[cancel]}${last} Raise "Timeout (Seconds)" in the node's options if fal is just busy.`
						: 'fal did not answer in time. Raise "Timeout (Seconds)" in the node\'s options, or try again later.',
				},
			);
		}
		return new FalError(`The execution was canceled${ref}`, {
			...fields,
			description: requestId ? AT_FAL[cancel] : 'Nothing was sent to fal.',
		});
	}
}

const AT_FAL: Record<CancelOutcome, string> = {
	confirmed: 'The request was cancelled at fal.',
	alreadyCompleted:
		'fal had already finished the request; its images can still be fetched with the Get Result operation.',
	failed:
		'fal did not confirm the cancel, so the request may still be running (and be billed). Look it up by its ID in your fal dashboard, or stop it with the Cancel operation.',
	notSent:
		'The request goes on at fal; it was not cancelled. Look it up by its ID in your fal dashboard.',
};
