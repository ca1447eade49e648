import { AT_FAL, fal, type CancelOutcome } from '../common/messages';
import { falError, type FalError } from './errors';

/**
 * One item's stop signal: the execution's stop combined with the item's timeout, which
 * covers everything from upload to the last image downloaded.
 */
export class Deadline {
	readonly signal: AbortSignal;

	private readonly timer: AbortSignal;

	private readonly timeoutMs: number;

	/** `raisable`: the user can raise the time limit (the operation shows the Timeout option). */
	constructor(
		private readonly stop: AbortSignal,
		timeoutMs: number,
		private readonly raisable = true,
	) {
		// AbortSignal.timeout takes whole milliseconds only.
		this.timeoutMs = Math.max(1, Math.round(timeoutMs));
		this.timer = AbortSignal.timeout(this.timeoutMs);
		this.signal = AbortSignal.any([stop, this.timer]);
	}

	get stopped(): boolean {
		return this.signal.aborted;
	}

	/** Runs `work`; if this deadline stopped it, says so instead of the raw abort. */
	async guard<T>(work: () => Promise<T>, requestId?: string, cancel: CancelOutcome = 'notSent') {
		try {
			return await work();
		} catch (error) {
			if (this.stopped) throw this.error(requestId, cancel);
			throw error;
		}
	}

	/**
	 * `work`, or this deadline's error as soon as it stops: for work shared with other items
	 * (an upload), which goes on for them.
	 */
	async race<T>(work: Promise<T>): Promise<T> {
		// Whoever else waits for the work sees its failure; here it is not waited for.
		work.catch(() => undefined);
		if (this.stopped) throw this.error();
		let stopped: (() => void) | undefined;
		const stop = new Promise<never>((_, reject) => {
			stopped = () => reject(this.error());
			this.signal.addEventListener('abort', stopped, { once: true });
		});
		try {
			return await Promise.race([work, stop]);
		} finally {
			this.signal.removeEventListener('abort', stopped as () => void);
		}
	}

	/** Why the item stopped, naming its fal request, what became of it, and the last failure. */
	error(requestId?: string, cancel: CancelOutcome = 'notSent', last?: string): FalError {
		const fields = { requestId, cancelledAtFal: requestId !== undefined && cancel === 'confirmed' };
		if (this.timer.aborted && !this.stop.aborted) {
			const seconds = Math.round(this.timeoutMs / 100) / 10;
			return falError(
				fal.timedOut(seconds, requestId, AT_FAL[cancel], last, this.raisable),
				fields,
			);
		}
		return falError(fal.canceled(requestId, AT_FAL[cancel]), fields);
	}
}
