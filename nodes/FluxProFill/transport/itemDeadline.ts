import { FalTransportError } from './falErrors';

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

	/** Why the item stopped, for the user; names the fal request so it can be looked up. */
	error(requestId?: string): FalTransportError {
		const ref = requestId ? ` (fal request ID ${requestId})` : '';
		if (this.timer.aborted && !this.execution?.aborted) {
			return new FalTransportError(
				`fal did not finish within ${Math.round(this.timeoutMs / 100) / 10} s${ref}`,
				requestId
					? 'The request was cancelled at fal. Look it up by its request ID in your fal dashboard, or raise "Timeout (Seconds)" in the node\'s options if fal is just busy.'
					: 'fal did not accept the request in time. Raise "Timeout (Seconds)" in the node\'s options, or try again later.',
				requestId,
				undefined,
				true,
			);
		}
		return new FalTransportError(
			`The execution was canceled${ref}`,
			requestId ? 'The fal request was canceled too.' : 'Nothing was sent to fal.',
			requestId,
		);
	}
}
