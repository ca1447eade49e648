/**
 * What a request to fal is for, marked by the caller on the AbortSignal it hands to
 * `@fal-ai/client` (which passes that very signal on to its `fetch`, our retrying layer).
 * The retrying layer treats requests by their mark, not by their URL, so the rules hold
 * for whatever endpoint the node calls:
 * - `startsPaidWork` (a queue submit): never sent again once fal may have accepted it,
 *   and never cut by a stop midway (fal could accept it without us learning its id);
 * - `cancel`: sent because the execution stopped, so the stop must not stop it.
 */
export type CallIntent = 'startsPaidWork' | 'cancel';

const intents = new WeakMap<AbortSignal, CallIntent>();

/** Marks `signal` (a fresh one per call) as carrying a request of this intent. */
export function markCall(intent: CallIntent, signal: AbortSignal): AbortSignal {
	intents.set(signal, intent);
	return signal;
}

export function intentOf(signal: AbortSignal | null | undefined): CallIntent | undefined {
	return signal ? intents.get(signal) : undefined;
}
