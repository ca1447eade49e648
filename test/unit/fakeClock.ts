/**
 * jest's fake timers, with AbortSignal.timeout on them too: Node's own timeout signals run
 * on an internal timer that jest does not replace, so retry, backoff and deadline tests
 * would otherwise have to wait for real.
 */
export function useFakeClock(): void {
	beforeEach(() => {
		jest.useFakeTimers();
		jest.spyOn(AbortSignal, 'timeout').mockImplementation((ms: number) => {
			const controller = new AbortController();
			setTimeout(
				() =>
					controller.abort(
						new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
					),
				ms,
			);
			return controller.signal;
		});
	});
	afterEach(() => {
		jest.restoreAllMocks();
		jest.useRealTimers();
	});
}

/** What a promise settles to, as a value: the error it rejects with, or what it resolves to. */
export async function settled(promise: Promise<unknown>): Promise<unknown> {
	return await promise.then(
		(value) => value,
		(error: unknown) => error,
	);
}
