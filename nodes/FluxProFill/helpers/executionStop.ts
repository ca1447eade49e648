/** The execution's stop signal: cancelled by n8n, or by the first failure when the node stops on errors. */
export class ExecutionStop {
	readonly signal: AbortSignal;

	private readonly failFast = new AbortController();

	constructor(readonly execution: AbortSignal | undefined) {
		this.signal = execution
			? AbortSignal.any([execution, this.failFast.signal])
			: this.failFast.signal;
	}

	stopOthers(): void {
		this.failFast.abort();
	}

	get cancelled(): boolean {
		return this.execution?.aborted === true;
	}

	/** Stopped because an item failed (and the node stops on errors), not by the user. */
	get failedFast(): boolean {
		return this.failFast.signal.aborted && !this.cancelled;
	}
}
