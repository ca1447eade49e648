import { updateDisplayOptions, type IExecuteFunctions } from 'n8n-workflow';

import { FILL_ENDPOINT, TIMING } from '../common/constants';
import type { Execution } from '../helpers/execution';
import type { ItemRunner } from '../helpers/pipeline';
import { readRequestSettings } from '../helpers/settings';
import { Deadline } from '../transport/deadline';
import { cancel } from '../transport/queue';
import { requestIdProperty } from './descriptions';

export const description = updateDisplayOptions({ show: { operation: ['cancel'] } }, [
	requestIdProperty,
]);

/** Cancel: asks fal to stop a submitted request; one that already ended is reported, not an error. */
export function execute(ctx: IExecuteFunctions, exec: Execution): ItemRunner<string> {
	return {
		check: async (itemIndex) => readRequestSettings(ctx, itemIndex).requestId,
		run: async (itemIndex, requestId, { atFal, stopSignal, ledger }) => {
			ledger.requestId = requestId;
			const status = await atFal(async () => {
				// Its time runs once the item has a slot, not while it waits for one.
				const deadline = new Deadline(stopSignal, TIMING.quickCallMs, false);
				return await deadline.guard(
					async () => await cancel(exec.fal, FILL_ENDPOINT, requestId, deadline.signal),
					requestId,
				);
			});
			return [{ json: { request_id: requestId, status }, pairedItem: { item: itemIndex } }];
		},
	};
}
