/** What the unit tests share: a fake clock, settled promises, and the input problems they expect. */
import { InputProblem } from '../../nodes/FluxProFill/common/messages';

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

/** The InputProblem that `run` throws, or its promise rejects with; fails the test otherwise. */
export async function problemOf(run: Promise<unknown> | (() => unknown)): Promise<InputProblem> {
	const error =
		typeof run === 'function' ? await settled(Promise.resolve().then(run)) : await settled(run);
	expect(error).toBeInstanceOf(InputProblem);
	return error as InputProblem;
}

/** Expects the problem the catalogue builds: the same message and description. */
export async function expectProblem(
	run: Promise<unknown> | (() => unknown),
	expected: InputProblem,
): Promise<void> {
	const problem = await problemOf(run);
	expect({ message: problem.message, description: problem.description }).toEqual({
		message: expected.message,
		description: expected.description,
	});
}
