import { updateDisplayOptions, type IExecuteFunctions } from 'n8n-workflow';

import { checkFillItem, startFillRequest } from '../helpers/fillInputs';
import { parseWebhookUrl, type FillSettings } from '../helpers/fillSettings';
import { readOptions } from '../helpers/itemParameters';
import { fillRequestProperties, requestConcurrencyOption } from '../helpers/properties';
import type { ItemRunner } from '../helpers/runItems';
import type { FalServices } from '../helpers/services';
import { LABELS } from '../helpers/spec';
import { addSegmentationCost, estimateCostUsd } from '../output/cost';
import { ItemDeadline } from '../transport/itemDeadline';
import type { SubmittedRequest } from '../transport/queueRequest';

const properties = fillRequestProperties([
	requestConcurrencyOption,
	{
		displayName: LABELS.webhookUrl,
		name: 'webhookUrl',
		type: 'string',
		default: '',
		placeholder: 'e.g. {{ $execution.resumeUrl }}',
		description:
			"URL fal calls (POST) when the request ends. Use a Wait node's resume URL to let the workflow sleep until fal is done, then Get Result.",
	},
]);

export const description = updateDisplayOptions({ show: { operation: ['submit'] } }, properties);

export const startsPaidRequests = true;

type SubmitSettings = FillSettings & { webhookUrl?: string };

/** How long uploading and submitting one item may take; the generation itself is not waited for. */
const UPLOAD_AND_SUBMIT_TIMEOUT_MS = 120_000;

/**
 * Submit: puts each item's request in fal's queue and returns at once with its id, so a
 * long queue does not hold the execution open. With a webhook URL (a Wait node's
 * `$execution.resumeUrl`) fal calls back when the request ends; then Get Result.
 */
export function execute(ctx: IExecuteFunctions, services: FalServices): ItemRunner<SubmitSettings> {
	return {
		check: async (itemIndex) => ({
			...(await checkFillItem(ctx, itemIndex, services)),
			webhookUrl: parseWebhookUrl(readOptions(ctx, itemIndex).webhookUrl),
		}),
		run: async (itemIndex, settings, { atFal, stopSignal, track }) =>
			await atFal(async () => {
				const deadline = new ItemDeadline(
					stopSignal,
					// Describe It waits for fal's segmentation before submitting: the item's own time limit.
					settings.mask.kind === 'text'
						? settings.timeoutMs
						: Math.min(settings.timeoutMs, UPLOAD_AND_SUBMIT_TIMEOUT_MS),
				);
				// On a retry of the node, the request this item already submitted is returned again.
				const { request, size, segmentation } = await startFillRequest(
					ctx,
					itemIndex,
					settings,
					services,
					{
						deadline,
						webhookUrl: settings.webhookUrl,
						// A stopped execution cancels a segmentation still running: nothing uses it.
						cancelOnStop: () => true,
					},
				);
				const submitted = request.answer as unknown as SubmittedRequest;
				track(submitted.request_id);
				// One item per request here, so its share is the request's whole estimate.
				const cost = size ? estimateCostUsd(size.width, size.height, settings.numImages) : null;
				const items = [
					{
						json: {
							request_id: submitted.request_id,
							status: submitted.status ?? 'IN_QUEUE',
							queue_position: submitted.queue_position ?? null,
							status_url: submitted.status_url ?? null,
							response_url: submitted.response_url ?? null,
							cancel_url: submitted.cancel_url ?? null,
							webhook_url: settings.webhookUrl ?? null,
							num_images: settings.numImages,
							// Known only for uploaded images; fal bills by the output size, which equals the input's.
							estimated_cost_usd: cost,
							request_estimated_cost_usd: cost,
						},
						pairedItem: { item: itemIndex },
					},
				];
				return segmentation ? addSegmentationCost(items, segmentation) : items;
			}),
	};
}
