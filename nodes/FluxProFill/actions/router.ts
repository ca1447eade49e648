import { NodeOperationError, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';

import { toNodeError } from '../errors/toNodeError';
import { readConcurrency } from '../helpers/itemParameters';
import { runItems } from '../helpers/runItems';
import { createFalServices } from '../helpers/services';
import { PRICE_PER_MEGAPIXEL_USD, SEGMENT_PRICE_USD } from '../helpers/spec';
import { segmentationsPaid, totalCostUsd } from '../output/cost';
import * as cancel from './cancel.operation';
import * as fill from './fill.operation';
import * as getResult from './getResult.operation';
import * as getStatus from './getStatus.operation';
import type { Operation } from './operation';
import * as submit from './submit.operation';

/** The operations by their contract name (the `operation` parameter's values). */
export const operations: Record<string, Operation> = { fill, submit, getStatus, getResult, cancel };

/**
 * Runs the chosen operation over all input items: one fal client and one set of caches
 * for the execution, then the item loop (check everything, then run with concurrency).
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const name = this.getNodeParameter('operation', 0, 'fill') as string;
	const operation = operations[name];
	if (!operation) {
		throw new NodeOperationError(this.getNode(), `The operation "${name}" is not supported`, {
			description: `Choose one of: ${Object.keys(operations).join(', ')}.`,
		});
	}
	let services;
	let concurrency;
	try {
		// Node-level settings: a bad one (the credential's Proxy URL, Concurrency) stops every item.
		concurrency = readConcurrency(this);
		services = await createFalServices(this);
	} catch (error) {
		throw toNodeError(this.getNode(), error, 0, []);
	}
	const items = await runItems(this, operation.execute(this, services), {
		concurrency,
		stop: services.stop,
		secrets: services.secrets,
	});
	// Only the operations that start requests show what they cost; Get Result would count them twice.
	if (operation.startsPaidRequests) addCostHint(this, items);
	return [items];
}

function addCostHint(ctx: IExecuteFunctions, items: INodeExecutionData[]): void {
	const cost = totalCostUsd(items);
	// Nothing started, or only segmentations paid for by items that then failed.
	if (cost.requests === 0 && cost.usd === 0) return;
	const segmentations = segmentationsPaid(items);
	const described =
		segmentations > 0
			? `, including ${segmentations} Describe It segmentation${segmentations === 1 ? '' : 's'} ($${SEGMENT_PRICE_USD} each, twice with words to keep)`
			: '';
	// Describe It's half cents ($0.155) keep their third decimal; two would show $0.15.
	const decimals = Number.isInteger(Math.round(cost.usd * 1000) / 10) ? 2 : 3;
	// Older n8n versions have no execution hints; the estimate stays in the items' JSON.
	ctx.addExecutionHints?.({
		message: `Estimated fal cost of this run: $${cost.usd.toFixed(decimals)} for ${cost.requests} request${cost.requests === 1 ? '' : 's'}${described} ($${PRICE_PER_MEGAPIXEL_USD} per megapixel, rounded up, per image; fal's invoice is what counts)`,
		location: 'outputPane',
	});
}
