import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { costHint, parameters } from '../common/messages';
import { openExecution } from '../helpers/execution';
import { runCost } from '../helpers/ledger';
import { runItems, toNodeError, type Operation } from '../helpers/pipeline';
import { readConcurrency } from '../helpers/settings';
import * as cancel from './cancel.operation';
import * as fill from './fill.operation';
import * as getResult from './getResult.operation';
import * as getStatus from './getStatus.operation';
import * as submit from './submit.operation';

/** The operations by their contract name (the `operation` parameter's values). */
export const operations: Record<string, Operation> = { fill, submit, getStatus, getResult, cancel };

/**
 * Runs the chosen operation over all input items: one fal client and one set of caches for
 * the execution, then the item loop (check everything, then run with concurrency), then
 * the run's estimated cost for the operations that pay for requests.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const name = this.getNodeParameter('operation', 0, 'fill') as string;
	let exec;
	let concurrency;
	try {
		const operation = operations[name];
		if (!operation) throw parameters.unknownOperation(name, Object.keys(operations));
		// Node-level settings: a bad one (the credential's Proxy URL, Concurrency) stops every item.
		concurrency = readConcurrency(this);
		exec = await openExecution(this);
	} catch (error) {
		throw toNodeError(this.getNode(), error, 0, []);
	}
	const operation = operations[name];
	let outcome;
	try {
		outcome = await runItems(this, exec, operation.execute(this, exec), concurrency);
	} finally {
		exec.close();
	}
	const { items, ledgers } = outcome;
	const cost = runCost(ledgers);
	// Older n8n versions have no execution hints; the estimate stays in the items' JSON.
	if (operation.startsPaidRequests && (cost.requests > 0 || cost.usd > 0))
		this.addExecutionHints?.({
			message: costHint(cost.usd, cost.requests, cost.segmentations, cost.finetuned),
			location: 'outputPane',
		});
	return [items];
}
