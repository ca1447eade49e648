import {
	NodeApiError,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INode,
	type INodeExecutionData,
	type INodeProperties,
	type JsonObject,
} from 'n8n-workflow';
import pLimit from 'p-limit';

import { cancelSummary, fal as falWords, InputProblem } from '../common/messages';
import { redactJson, redactSecrets } from '../common/redact';
import { describeFalError, FalError, isFalFailure } from '../transport/errors';
import type { Execution } from './execution';
import { admit, settle } from './costCap';
import { Ledger, withCosts } from './ledger';

/** What an operation does with one item; the loop around it is the same for all. */
export interface ItemRunner<Checked> {
	/** Checks one item without paying for anything (parameters, files). Throws to fail it. */
	check(itemIndex: number): Promise<Checked>;
	/** Runs one checked item and returns its output items (costs are added from the ledger). */
	run(itemIndex: number, checked: Checked, context: RunContext): Promise<INodeExecutionData[]>;
	/** What a checked item is estimated to cost, for Max Cost per Run (operations that pay). */
	cost?(checked: Checked): number;
}

export interface RunContext {
	/** Runs `work` while holding one of the concurrency slots (requests at fal at once). */
	atFal<T>(work: () => Promise<T>): Promise<T>;
	/** Fires when the execution is cancelled, or another item failed and the node stops. */
	stopSignal: AbortSignal;
	/** The item's account of the requests it made and paid for. */
	ledger: Ledger;
}

type Failure = { itemIndex: number; error: unknown; ledger: Ledger };

/**
 * Runs every input item through `runner`, keeping n8n's promises: all items are checked
 * before any is run, so bad input costs nothing; output follows the input order, with
 * `pairedItem`; with continueOnFail a failed item becomes one error item and the rest go
 * on, without it the first failure stops the node (and the items still running).
 */
export async function runItems<Checked>(
	ctx: IExecuteFunctions,
	exec: Execution,
	runner: ItemRunner<Checked>,
	concurrency: number,
): Promise<{ items: INodeExecutionData[]; ledgers: Ledger[] }> {
	const { stop, secrets } = exec;
	const continueOnFail = ctx.continueOnFail();
	const count = ctx.getInputData().length;
	const ledgers = Array.from({ length: count }, () => new Ledger());
	const toError = (failure: Failure) =>
		toNodeError(ctx.getNode(), failure.error, failure.itemIndex, secrets, failure.ledger.requestId);

	const checked: Array<{ value: Checked } | Failure> = [];
	for (let itemIndex = 0; itemIndex < count; itemIndex++) {
		try {
			checked.push({ value: await runner.check(itemIndex) });
		} catch (error) {
			const failure = { itemIndex, error, ledger: ledgers[itemIndex] };
			if (!continueOnFail) throw toError(failure);
			checked.push(failure);
		}
	}

	// Max Cost per Run: the items that fit go, in order; nothing is paid for before this.
	const capUsd = exec.maxCostUsd;
	if (capUsd !== undefined && runner.cost) {
		const costs = checked.map((entry) =>
			'error' in entry ? undefined : runner.cost!(entry.value),
		);
		const { refused, stop: overCap } = admit(exec.where, capUsd, costs);
		for (const [itemIndex, error] of refused) {
			if (!continueOnFail) throw toError({ itemIndex, error: overCap, ledger: ledgers[itemIndex] });
			checked[itemIndex] = { itemIndex, error, ledger: ledgers[itemIndex] };
		}
	}

	const limit = pLimit(concurrency);
	let firstFailure: Failure | undefined;
	const outcomes = await Promise.all(
		checked.map(async (entry, itemIndex): Promise<INodeExecutionData[] | Failure> => {
			if ('error' in entry) return entry;
			const ledger = ledgers[itemIndex];
			try {
				const items = await runner.run(itemIndex, entry.value, {
					// An item still waiting for a slot when the node stops must not start its work.
					atFal: async (work) =>
						await limit(async () => {
							stop.signal.throwIfAborted();
							try {
								return await work();
							} catch (error) {
								// Stop before the slot goes to the next item, which must not start.
								if (!continueOnFail) stop.stopOthers();
								throw error;
							}
						}),
					stopSignal: stop.signal,
					ledger,
				});
				return withCosts(items, ledger);
			} catch (error) {
				// fal may have named the request only in its answer (an x-fal-request-id on a 5xx).
				if (error instanceof FalError) ledger.requestId ??= error.fields.requestId;
				const failure = { itemIndex, error, ledger };
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
		// A submit whose answer was lost unnamed has no ID, but may run all the same.
		const stopped = outcomes.filter(
			(o): o is Failure => 'error' in o && !!(o.ledger.requestId ?? o.ledger.fill),
		);
		const unconfirmed = stopped.filter(
			(f) => !(f.error instanceof FalError && f.error.fields.cancelledAtFal),
		);
		throw new NodeOperationError(ctx.getNode(), 'The execution was canceled', {
			description: cancelSummary(
				unconfirmed.map((f) => f.ledger.requestId),
				stopped.length,
			),
		});
	}
	if (capUsd !== undefined) settle(exec.where, ledgers);
	if (firstFailure) throw toError(firstFailure);
	// "Continue (using error output)": n8n sends an item there when its JSON holds only
	// `error`, `message` and `details`; the rest of what the item says goes into `details`.
	const toErrorOutput = ctx.getNode().onError === 'continueErrorOutput';
	const items = outcomes.flatMap((outcome) => {
		if (Array.isArray(outcome)) return outcome;
		const [item] = withCosts([errorItem(toError(outcome), outcome)], outcome.ledger);
		if (!toErrorOutput) return [item];
		const { error, description, ...details } = item.json;
		return [
			{ ...item, json: { error, ...(description ? { message: description } : {}), details } },
		];
	});
	// fal's answers are copied into items; one that echoes the key must not carry it on.
	return {
		items: items.map((item) => ({ ...item, json: redactJson(item.json, secrets) })),
		ledgers,
	};
}

function errorItem(
	error: NodeOperationError | NodeApiError,
	{ itemIndex, ledger }: Failure,
): INodeExecutionData {
	const json: IDataObject = { error: error.message };
	if (error.description) json.description = error.description;
	if (error instanceof NodeApiError && error.httpCode) json.http_code = error.httpCode;
	if (ledger.requestId) json.request_id = ledger.requestId;
	return { json, pairedItem: { item: itemIndex } };
}

/**
 * The one place failures become n8n errors: bad input is a NodeOperationError, anything
 * fal (or the way to fal) answered a NodeApiError. Every text is redacted of the key.
 */
export function toNodeError(
	node: INode,
	error: unknown,
	itemIndex: number,
	secrets: string[],
	requestId?: string,
): NodeOperationError | NodeApiError {
	const clean = (text: string) => redactSecrets(text, secrets);
	if (error instanceof NodeOperationError || error instanceof NodeApiError) {
		error.context.itemIndex ??= itemIndex;
		error.message = clean(error.message);
		if (error.description) error.description = clean(error.description);
		return error;
	}
	if (error instanceof InputProblem)
		return new NodeOperationError(node, clean(error.message), {
			itemIndex,
			description: clean(error.description),
		});
	// Not from fal nor the way to it (an expression error, say): say what it is, not "could not reach fal".
	if (!isFalFailure(error))
		return new NodeOperationError(
			node,
			clean(error instanceof Error ? error.message : String(error)),
			{ itemIndex, description: falWords.notFromFal() },
		);
	const failure = describeFalError(error, requestId);
	const response: JsonObject = {
		status: failure.status ?? null,
		detail: failure.detail !== undefined ? clean(failure.detail) : null,
		request_id: failure.requestId ?? null,
	};
	const id = failure.requestId;
	const apiError = new NodeApiError(node, response, {
		message: clean(failure.message),
		description: clean(
			id && !failure.description.includes(id)
				? `${failure.description} (fal request ID ${id})`
				: failure.description,
		),
		httpCode: failure.status !== undefined ? String(failure.status) : undefined,
		itemIndex,
	});
	// NodeApiError swaps messages that mention a Node error code for a generic sentence;
	// ours already says what happened, in fal's terms.
	apiError.message = clean(failure.message);
	return apiError;
}

/**
 * What every `*.operation.ts` exports: its parameters (shown for it alone) and, for an
 * execution, how it checks and runs one item. The router runs the item loop around it.
 */
export interface Operation {
	description: INodeProperties[];
	execute(ctx: IExecuteFunctions, exec: Execution): ItemRunner<unknown>;
	/** It starts paid requests: the run's estimated cost is shown above its output. */
	startsPaidRequests?: boolean;
}
