import {
	updateDisplayOptions,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';

import { collectResult } from '../helpers/collectResult';
import { checkFillItem, startFillRequest } from '../helpers/fillInputs';
import type { FillSettings } from '../helpers/fillSettings';
import {
	fillRequestProperties,
	requestConcurrencyOption,
	resultOptions,
	returnMaskOption,
	timeoutOption,
} from '../helpers/properties';
import type { ItemRunner } from '../helpers/runItems';
import type { FalServices } from '../helpers/services';
import { FAL_FILL_ENDPOINT, RETURNED_MASK_FIELD } from '../helpers/spec';
import type { Picture } from '../images/pictures';
import { addSegmentationCost } from '../output/cost';
import { ItemDeadline } from '../transport/itemDeadline';
import { FalError } from '../transport/falError';
import { awaitResult } from '../transport/queueRequest';
import { acceptedRequests } from '../transport/requestMemory';

const properties = fillRequestProperties([
	returnMaskOption,
	...resultOptions,
	requestConcurrencyOption,
	timeoutOption(
		'How long to wait for one item, from upload to the last image downloaded. When it runs out the fal request is cancelled and the item fails with its request ID.',
	),
]);

export const description = updateDisplayOptions({ show: { operation: ['fill'] } }, properties);

export const startsPaidRequests = true;

/**
 * Fill: every input item becomes its generated images. The concurrency slot is held
 * from upload to fal's answer and released before the downloads, so the next item is
 * already at fal while they run.
 */
export function execute(ctx: IExecuteFunctions, services: FalServices): ItemRunner<FillSettings> {
	return {
		check: async (itemIndex) => await checkFillItem(ctx, itemIndex, services),
		run: async (itemIndex, settings, { atFal, stopSignal, track }) => {
			const { deadline, result, mask, segmentation } = await atFal(async () => {
				const deadline = new ItemDeadline(stopSignal, settings.timeoutMs);
				// Stopped because another item failed and n8n will retry the node: leave paid
				// requests running, the retry picks them up.
				const cancelOnStop = () => !(services.stop.failedFast && retriesNode(ctx));
				const started = await startFillRequest(ctx, itemIndex, settings, services, {
					deadline,
					cancelOnStop,
				});
				const { requestId } = started.request;
				track(requestId);
				ctx.logger.debug(
					started.pickedUp
						? 'picking up the fal request this item started on an earlier try'
						: 'fal accepted the fill request',
					{ itemIndex, requestId },
				);
				try {
					const result = await awaitResult(services.fal, FAL_FILL_ENDPOINT, requestId, {
						deadline,
						cancelOnStop,
					});
					return { deadline, result, mask: started.mask, segmentation: started.segmentation };
				} catch (error) {
					if (error instanceof FalError && error.cancelledAtFal)
						acceptedRequests.forget(started.key);
					throw error;
				}
			});
			const collected = await collectResult(ctx, itemIndex, result, settings, deadline, services);
			const items = segmentation ? addSegmentationCost(collected, segmentation) : collected;
			return settings.returnMask ? await attachMask(ctx, items, mask) : items;
		},
	};
}

/** Adds the mask that was sent to fal to every output item, so users can see what was repainted. */
async function attachMask(
	ctx: IExecuteFunctions,
	items: INodeExecutionData[],
	mask: Picture,
): Promise<INodeExecutionData[]> {
	if (mask.kind !== 'bytes') return items;
	const binary = await ctx.helpers.prepareBinaryData(mask.bytes, 'mask.png', 'image/png');
	return items.map((item) => ({
		...item,
		binary: { ...item.binary, [RETURNED_MASK_FIELD]: binary },
	}));
}

/** The node has Retry On Fail on: n8n will run it again after a failure. */
function retriesNode(ctx: IExecuteFunctions): boolean {
	return ctx.getNode().retryOnFail === true;
}
