import { updateDisplayOptions, type IExecuteFunctions, type INodeProperties } from 'n8n-workflow';

import { collectResult } from '../helpers/collectResult';
import { isToolMode, readOptions } from '../helpers/itemParameters';
import {
	concurrencyOption,
	optionsCollection,
	requestIdProperty,
	resultOptions,
	timeoutOption,
} from '../helpers/properties';
import { parseResultSettings, type ResultSettings } from '../helpers/requestSettings';
import type { ItemRunner } from '../helpers/runItems';
import type { FalServices } from '../helpers/services';
import { FAL_FILL_ENDPOINT } from '../helpers/spec';
import { ItemDeadline } from '../transport/itemDeadline';
import { awaitResult } from '../transport/queueRequest';

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
export function execute(ctx: IExecuteFunctions, services: FalServices): ItemRunner<ResultSettings> {
	return {
		check: async (itemIndex) =>
			parseResultSettings(
				ctx.getNodeParameter('requestId', itemIndex, ''),
				readOptions(ctx, itemIndex),
				isToolMode(ctx),
			),
		run: async (itemIndex, settings, { atFal, stopSignal, track }) => {
			track(settings.requestId);
			const deadline = new ItemDeadline(stopSignal, settings.timeoutMs);
			// The request is someone else's to cancel: a timeout here only stops waiting.
			const result = await atFal(
				async () =>
					await awaitResult(services.fal, FAL_FILL_ENDPOINT, settings.requestId, {
						deadline,
						cancelOnStop: false,
					}),
			);
			return await collectResult(ctx, itemIndex, result, settings, deadline, services);
		},
	};
}
