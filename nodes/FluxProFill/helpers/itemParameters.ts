import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { parseWholeNumber } from './parse';
import { DEFAULTS, LABELS, LIMITS } from './spec';

/** The item's `options` collection, as n8n resolved it (expressions may yield anything). */
export function readOptions(ctx: IExecuteFunctions, itemIndex: number): Record<string, unknown> {
	return (ctx.getNodeParameter('options', itemIndex, {}) ?? {}) as Record<string, unknown>;
}

/** A node-level setting, read from the first item; nonsense is an error before anything is sent. */
export function readConcurrency(ctx: IExecuteFunctions): number {
	if (ctx.getInputData().length === 0) return DEFAULTS.concurrency;
	const options = ctx.getNodeParameter('options', 0, {}) as IDataObject;
	return parseWholeNumber(
		LABELS.concurrency,
		options.concurrency,
		DEFAULTS.concurrency,
		LIMITS.concurrency,
	);
}

/** n8n runs a `usableAsTool` node for an AI agent as a copy whose type name ends in "Tool". */
export function isToolMode(ctx: IExecuteFunctions): boolean {
	return ctx.getNode().type.endsWith('Tool');
}
