import type { FalClient } from '@fal-ai/client';

import { FalError, networkFailure } from '../../../nodes/FluxProFill/transport/errors';
import type { Fal } from '../../../nodes/FluxProFill/transport/falClient';

type Step = () => unknown;

/** A function that plays `steps` in order (the last one again when they run out) and counts its calls. */
export function scripted(...steps: Step[]) {
	const calls: unknown[][] = [];
	const fn = jest.fn(async (...args: unknown[]) => {
		calls.push(args);
		return await steps[Math.min(calls.length, steps.length) - 1]();
	});
	return Object.assign(fn, { calls });
}

export type Scripted = ReturnType<typeof scripted>;

/** A `Fal` whose client methods and calls are the given fakes; anything else fails the test. */
export function fakeFal(parts: {
	submit?: Scripted;
	status?: Scripted;
	result?: Scripted;
	cancel?: Scripted;
	upload?: Scripted;
	call?: (url: string, init?: RequestInit) => Promise<Response>;
}): Fal {
	const missing = (name: string) => async () => {
		throw new Error(`the test did not expect ${name}`);
	};
	return {
		client: {
			queue: {
				submit: parts.submit ?? missing('a submit'),
				status: parts.status ?? missing('a status call'),
				result: parts.result ?? missing('a result call'),
				cancel: parts.cancel ?? missing('a cancel'),
			},
			storage: { upload: parts.upload ?? missing('an upload') },
		} as unknown as FalClient,
		call: parts.call ?? missing('a call'),
		send: missing('a plain request') as unknown as typeof fetch,
		warn: () => undefined,
	};
}

/** fal's answer with an error status, as the checked fetch makes it. */
export const httpError = (status: number, fields: Partial<FalError['fields']> = {}) =>
	new FalError(`HTTP ${status}`, { status, body: { detail: 'x' }, ...fields });

/** A network failure as fetch raises it: a TypeError around an error with a code. */
export const fetchFailed = (code?: string, message = code ?? 'other side closed') =>
	new TypeError('fetch failed', {
		cause: Object.assign(new Error(message), code ? { code } : {}),
	});

/** The same failure as the checked fetch passes it on to the client's callers. */
export const networkError = (code?: string) => networkFailure(fetchFailed(code));

export const timeoutError = () =>
	new DOMException('The operation was aborted due to timeout', 'TimeoutError');
export const abortError = () => new DOMException('This operation was aborted', 'AbortError');
