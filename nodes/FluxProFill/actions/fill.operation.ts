import {
	updateDisplayOptions,
	type IExecuteFunctions,
	type INodeExecutionData,
} from 'n8n-workflow';

import { RETURNED_MASK_FIELD } from '../common/constants';
import type { Execution } from '../helpers/execution';
import {
	awaitStarted,
	checkFill,
	priceOf,
	startFill,
	type CheckedFill,
} from '../helpers/fillRequest';
import type { ItemRunner } from '../helpers/pipeline';
import { collectImages } from '../helpers/results';
import { Deadline } from '../transport/deadline';
import {
	fillRequestProperties,
	requestConcurrencyOption,
	resultOptions,
	returnMaskOption,
	timeoutOption,
} from './descriptions';

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
 * Fill: every input item becomes its generated images. The concurrency slot is held from
 * upload to fal's answer and released before the downloads, so the next item is already
 * at fal while they run.
 */
export function execute(ctx: IExecuteFunctions, exec: Execution): ItemRunner<CheckedFill> {
	// Stopped because another item failed and n8n will retry the node: paid requests go on
	// at fal, and the retry picks them up.
	const cancelOnStop = () => !(exec.stop.failedFast && ctx.getNode().retryOnFail === true);
	return {
		check: async (itemIndex) => await checkFill(ctx, exec, itemIndex),
		cost: (checked) => checked.costUsd,
		run: async (itemIndex, settings, { atFal, stopSignal, ledger }) => {
			const { deadline, started, data } = await atFal(async () => {
				// The item's time runs from its upload, not while it waits for a slot.
				const deadline = new Deadline(stopSignal, settings.timeoutMs);
				const run = { deadline, ledger, cancelOnStop };
				const started = await startFill(exec, itemIndex, settings, run);
				return {
					deadline,
					started,
					data: await awaitStarted(exec, started.endpoint, started, run, started.paid),
				};
			});
			const items = await collectImages(
				ctx,
				exec,
				itemIndex,
				{
					requestId: started.requestId,
					data,
					asked: settings.numImages,
					paid: started.paid,
					pricePerMegapixel: priceOf(settings),
				},
				settings,
				deadline,
			);
			if (!settings.returnMask || started.mask.kind !== 'bytes') return items;
			return await withMask(ctx, items, started.mask.bytes);
		},
	};
}

/** Adds the mask that was sent to fal to every output item, so users see what was repainted. */
async function withMask(ctx: IExecuteFunctions, items: INodeExecutionData[], png: Buffer) {
	const binary = await ctx.helpers.prepareBinaryData(png, 'mask.png', 'image/png');
	return items.map((item) => ({
		...item,
		binary: { ...item.binary, [RETURNED_MASK_FIELD]: binary },
	}));
}
