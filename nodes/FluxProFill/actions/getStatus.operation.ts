import {
	updateDisplayOptions,
	type IDataObject,
	type IExecuteFunctions,
	type INodeProperties,
} from 'n8n-workflow';

import { FILL_ENDPOINT, LABELS, TIMING } from '../common/constants';
import type { Execution } from '../helpers/execution';
import type { ItemRunner } from '../helpers/pipeline';
import { readRequestSettings } from '../helpers/settings';
import { Deadline } from '../transport/deadline';
import { getStatus } from '../transport/queue';
import { concurrencyOption, optionsCollection, requestIdProperty } from './descriptions';

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
	exec: Execution,
): ItemRunner<ReturnType<typeof readRequestSettings>> {
	return {
		check: async (itemIndex) => readRequestSettings(ctx, itemIndex),
		run: async (itemIndex, { requestId, logs }, { atFal, stopSignal, ledger }) => {
			ledger.requestId = requestId;
			const status = await atFal(async () => {
				// Its time runs once the item has a slot, not while it waits for one.
				const deadline = new Deadline(stopSignal, TIMING.quickCallMs, false);
				return await deadline.guard(
					async () => await getStatus(exec.fal, FILL_ENDPOINT, requestId, logs, deadline.signal),
					requestId,
				);
			});
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
