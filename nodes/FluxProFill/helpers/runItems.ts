import {
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';
import pLimit from 'p-limit';

import { redactJson } from '../errors/redact';
import { toNodeError } from '../errors/toNodeError';
import { FalError } from '../transport/falError';
import type { ExecutionStop } from './executionStop';
import { segmentationOfFailure } from './segmenter';

/** What an operation does with one item; the loop around it is the same for all. */
export interface ItemRunner<Checked> {
	/** Checks one item without calling fal (parameters, files). Throws to fail the item. */
	check(itemIndex: number): Promise<Checked>;
	/** Runs one checked item and returns its output items. */
	run(itemIndex: number, checked: Checked, context: RunContext): Promise<INodeExecutionData[]>;
}

export interface RunContext {
	/** Runs `work` while holding one of the concurrency slots (requests at fal at once). */
	atFal<T>(work: () => Promise<T>): Promise<T>;
	/** Fires when the execution is cancelled, or another item failed and the node stops. */
	stopSignal: AbortSignal;
	/** Set the fal request id as soon as it is known, so a failure can name it. */
	track(requestId: string): void;
}

type Failure = { itemIndex: number; error: unknown; requestId?: string };
type Outcome = { items: INodeExecutionData[] } | Failure;

/**
 * Runs every input item through `runner`, keeping n8n's promises: all items are checked
 * before any is run, so bad input costs nothing; output is in input order with
 * `pairedItem`; with continueOnFail a failed item becomes one error item and the rest
 * go on, without it the first failure stops the node (and the items still running).
 */
export async function runItems<Checked>(
	ctx: IExecuteFunctions,
	runner: ItemRunner<Checked>,
	options: { concurrency: number; stop: ExecutionStop; secrets: string[] },
): Promise<INodeExecutionData[]> {
	const { stop, secrets } = options;
	const continueOnFail = ctx.continueOnFail();
	const toError = (failure: Failure) =>
		toNodeError(ctx.getNode(), failure.error, failure.itemIndex, secrets, failure.requestId);

	const checked: Array<{ value: Checked } | Failure> = [];
	for (let itemIndex = 0; itemIndex < ctx.getInputData().length; itemIndex++) {
		try {
			checked.push({ value: await runner.check(itemIndex) });
		} catch (error) {
			if (!continueOnFail) throw toError({ itemIndex, error });
			checked.push({ itemIndex, error });
		}
	}

	const limit = pLimit(options.concurrency);
	let firstFailure: Failure | undefined;
	const outcomes = await Promise.all(
		checked.map(async (entry, itemIndex): Promise<Outcome> => {
			if ('error' in entry) return entry;
			let requestId: string | undefined;
			try {
				const items = await runner.run(itemIndex, entry.value, {
					// An item still waiting for a slot when the node stops must not start its work.
					atFal: async (work) =>
						await limit(async () => {
							stop.signal.throwIfAborted();
							return await work();
						}),
					stopSignal: stop.signal,
					track: (id) => (requestId = id),
				});
				return { items };
			} catch (error) {
				// fal may have named the request only in its answer (an x-fal-request-id on a 5xx).
				const failure = { itemIndex, error, requestId: requestId ?? requestIdOf(error) };
				if (!continueOnFail && !firstFailure) {
					firstFailure = failure;
					stop.stopOthers();
				}
				return failure;
			}
		}),
	);
	// n8n recognises a cancelled run by "canceled" in the error; no item output is wanted then.
	if (stop.cancelled) {
		throw new NodeOperationError(ctx.getNode(), 'The execution was canceled', {
			description: cancelSummary(outcomes),
		});
	}
	if (firstFailure) throw toError(firstFailure);
	const items = outcomes.flatMap((outcome) =>
		'items' in outcome
			? outcome.items
			: [
					{
						json: {
							...errorJson(toError(outcome), outcome.requestId),
							...segmentationOfFailure(outcome.error),
						},
						pairedItem: { item: outcome.itemIndex },
					},
				],
	);
	// fal's answers are copied into items; one that echoes the key must not carry it on.
	return items.map((item) => ({ ...item, json: redactJson(item.json, secrets) }));
}

/** What became of the requests at fal when the execution was cancelled, truthfully. */
function cancelSummary(outcomes: Outcome[]): string {
	const stopped = outcomes.filter(
		(outcome): outcome is Failure => 'error' in outcome && !!outcome.requestId,
	);
	if (stopped.length === 0) return 'No fal request of this node was running.';
	const unconfirmed = stopped.filter(
		(failure) => !(failure.error instanceof FalError && failure.error.cancelledAtFal),
	);
	if (unconfirmed.length === 0)
		return 'fal confirmed the cancel of the requests that were still running.';
	const ids = unconfirmed.map((failure) => failure.requestId).join(', ');
	return `fal did not confirm the cancel of request ${ids}: it may still be running (and be billed). Look it up in your fal dashboard, or stop it with the Cancel operation.`;
}

function requestIdOf(error: unknown): string | undefined {
	const id = (error as { requestId?: unknown } | undefined)?.requestId;
	return typeof id === 'string' && id !== '' ? id : undefined;
}

function errorJson(
	error: { message: string; description?: string | null; httpCode?: string | null },
	requestId?: string,
): IDataObject {
	return {
		error: error.message,
		...(error.description ? { description: error.description } : {}),
		...(error.httpCode ? { http_code: error.httpCode } : {}),
		...(requestId ? { request_id: requestId } : {}),
	};
}
