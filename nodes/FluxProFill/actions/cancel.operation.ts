import { updateDisplayOptions, type IExecuteFunctions, type INodeProperties } from 'n8n-workflow';

import { requestIdProperty } from '../helpers/properties';
import { parseRequestId } from '../helpers/requestSettings';
import { quickCall } from '../helpers/quickCall';
import type { ItemRunner } from '../helpers/runItems';
import type { FalServices } from '../helpers/services';
import { FAL_FILL_ENDPOINT } from '../helpers/spec';
import { cancelRequest } from '../transport/queueRequest';

export const description = updateDisplayOptions({ show: { operation: ['cancel'] } }, [
	requestIdProperty,
] as INodeProperties[]);

/** Cancel: asks fal to stop a submitted request; one that already ended is reported, not an error. */
export function execute(ctx: IExecuteFunctions, services: FalServices): ItemRunner<string> {
	return {
		check: async (itemIndex) => parseRequestId(ctx.getNodeParameter('requestId', itemIndex, '')),
		run: async (itemIndex, requestId, context) => {
			const status = await quickCall(
				context,
				requestId,
				async (signal) => await cancelRequest(services.fal, FAL_FILL_ENDPOINT, requestId, signal),
			);

			return [{ json: { request_id: requestId, status }, pairedItem: { item: itemIndex } }];
		},
	};
}
