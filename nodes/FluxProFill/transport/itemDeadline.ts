import { FalError } from './falError';

/**
 * One item's stop signal: the execution's cancel signal combined with the item's
 * timeout, which covers everything from upload to the last image downloaded.
 */
export class ItemDeadline {
	readonly signal: AbortSignal;

	private readonly timer: AbortSignal;

	constructor(
		private readonly execution: AbortSignal | undefined,
		private readonly timeoutMs: number,
	) {
		this.timer = AbortSignal.timeout(timeoutMs);
		this.signal = execution ? AbortSignal.any([execution, this.timer]) : this.timer;
	}

	get stopped(): boolean {
		return this.signal.aborted;
	}

	/** Runs `work`; if it failed because this deadline stopped it, says so instead of the raw abort. */
	async guard<T>(
		work: () => Promise<T>,
		requestId?: string,
		options?: { cancelled?: boolean },
	): Promise<T> {
		try {
			return await work();
		} catch (error) {
			if (this.stopped) throw this.error(requestId, options);
			throw error;
		}
	}

	/** Why the item stopped, for the user; names the fal request so it can be looked up. */
	error(requestId?: string, { cancelled = true }: { cancelled?: boolean } = {}): FalError {
		const ref = requestId ? ` (fal request ID ${requestId})` : '';
		const atFal = cancelled
			? 'The request was cancelled at fal.'
			: 'The request goes on at fal; it was not cancelled.';
		if (this.timer.aborted && !this.execution?.aborted) {
			return new FalError(
				`fal did not finish within ${Math.round(this.timeoutMs / 100) / 10} s${ref}`,
				{
					description: requestId
						? `${atFal} Look it up by its request ID in your fal dashboard, or raise "Timeout (Seconds)" in the node's options if fal is just busy.`
						: 'fal did not answer in time. Raise "Timeout (Seconds)" in the node\'s options, or try again later.',
					requestId,
				},
			);
		}
		return new FalError(`The execution was canceled${ref}`, {
			description: requestId
				? cancelled
					? 'The fal request was canceled too.'
					: 'The fal request goes on.'
				: 'Nothing was sent to fal.',
			requestId,
		});
	}
}
