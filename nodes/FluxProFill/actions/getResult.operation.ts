import { updateDisplayOptions, type IExecuteFunctions, type INodeProperties } from 'n8n-workflow';

import { FILL_ENDPOINT } from '../common/constants';
import type { Execution } from '../helpers/execution';
import type { ItemRunner } from '../helpers/pipeline';
import { collectImages } from '../helpers/results';
import { readRequestSettings } from '../helpers/settings';
import { Deadline } from '../transport/deadline';
import { awaitResult } from '../transport/queue';
import {
	concurrencyOption,
	optionsCollection,
	requestIdProperty,
	resultOptions,
	timeoutOption,
} from './descriptions';

const properties: INodeProperties[] = [
	requestIdProperty,
	optionsCollection([
		...resultOptions,
		concurrencyOption('How many items are handled at once. Read from the first item.'),
		timeoutOption(
			'How long to wait for a request that is still running. The request itself is not cancelled when this runs out.',
		),
	]),
];

export const description = updateDisplayOptions({ show: { operation: ['getResult'] } }, properties);

/** Get Result: the same output items as Fill for a submitted request, waiting for it if it is still running. */
export function execute(
	ctx: IExecuteFunctions,
	exec: Execution,
): ItemRunner<ReturnType<typeof readRequestSettings>> {
	return {
		check: async (itemIndex) => readRequestSettings(ctx, itemIndex),
		run: async (itemIndex, settings, { atFal, stopSignal, ledger }) => {
			const { requestId } = settings;
			ledger.requestId = requestId;
			// The request is someone else's to cancel: a timeout here only stops waiting. Its
			// time runs once the item has a slot, not while it waits for one.
			const { deadline, data } = await atFal(async () => {
				const deadline = new Deadline(stopSignal, settings.timeoutMs);
				const options = { deadline, cancelOnStop: () => false };
				return { deadline, data: await awaitResult(exec.fal, FILL_ENDPOINT, requestId, options) };
			});
			// Its cost, from the images fal made, is shown on the items but not counted as this run's.
			const paid = ledger.paidFill(requestId, null);
			paid.fate = 'completed';
			return await collectImages(
				ctx,
				exec,
				itemIndex,
				{ requestId, data, paid },
				settings,
				deadline,
			);
		},
	};
}
