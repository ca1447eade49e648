import {
	updateDisplayOptions,
	type IDataObject,
	type IExecuteFunctions,
	type INodeProperties,
} from 'n8n-workflow';

import { readOptions } from '../helpers/itemParameters';
import { concurrencyOption, optionsCollection, requestIdProperty } from '../helpers/properties';
import { parseRequestId } from '../helpers/requestSettings';
import { quickCall } from '../helpers/quickCall';
import type { ItemRunner } from '../helpers/runItems';
import type { FalServices } from '../helpers/services';
import { FAL_FILL_ENDPOINT, LABELS } from '../helpers/spec';
import { getRequestStatus } from '../transport/queueRequest';

const properties: INodeProperties[] = [
	requestIdProperty,
	optionsCollection([
		concurrencyOption('How many items are handled at once. Read from the first item.'),
		{
			displayName: LABELS.logs,
			name: 'logs',
			type: 'boolean',
			default: false,
			description: "Whether to include fal's log lines of the request",
		},
	]),
];

export const description = updateDisplayOptions({ show: { operation: ['getStatus'] } }, properties);

/** Get Status: where a submitted request is (queue position, status, logs), without waiting. */
export function execute(
	ctx: IExecuteFunctions,
	services: FalServices,
): ItemRunner<{ requestId: string; logs: boolean }> {
	return {
		check: async (itemIndex) => ({
			requestId: parseRequestId(ctx.getNodeParameter('requestId', itemIndex, '')),
			logs: readOptions(ctx, itemIndex).logs === true,
		}),
		run: async (itemIndex, { requestId, logs }, context) => {
			const status = await quickCall(
				context,
				requestId,
				async (signal) =>
					await getRequestStatus(services.fal, FAL_FILL_ENDPOINT, requestId, logs, signal),
			);

			return [
				{
					json: {
						request_id: requestId,
						status: status.status,
						queue_position: status.queue_position ?? null,
						logs: (status.logs as IDataObject[] | undefined) ?? null,
						metrics: (status.metrics as IDataObject | undefined) ?? null,
						done: status.status === 'COMPLETED',
					},
					pairedItem: { item: itemIndex },
				},
			];
		},
	};
}
