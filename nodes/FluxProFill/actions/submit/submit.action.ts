import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { estimateCostUsd } from '../../output/cost';
import { ItemDeadline } from '../../transport/itemDeadline';
import { submitFill } from '../../transport/queueRequest';
import { checkFillItem, uploadInputs } from '../fill/fill.action';
import { parseWebhookUrl, type FillSettings } from '../fill/settings';
import { readConcurrency, readOptions } from '../parameters';
import { runItems, type ItemRunner } from '../runItems';
import { createFalServices } from '../services';

type SubmitSettings = FillSettings & { webhookUrl?: string; width?: number; height?: number };

/** How long uploading and submitting one item may take; the generation itself is not waited for. */
const SUBMIT_TIMEOUT_MS = 120_000;

/**
 * Submit: puts each item's request in fal's queue and returns at once with its id, so a
 * long queue does not hold the execution open. With a webhook URL (a Wait node's
 * `$execution.resumeUrl`) fal calls back when the request ends; then Get Result.
 */
export async function executeSubmit(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const services = await createFalServices(this);
	const runner: ItemRunner<SubmitSettings> = {
		check: async (itemIndex) => ({
			...(await checkFillItem(this, itemIndex, services)),
			webhookUrl: parseWebhookUrl(readOptions(this, itemIndex).webhookUrl),
		}),
		run: async (itemIndex, settings, { atFal, stopSignal, track }) =>
			await atFal(async () => {
				const deadline = new ItemDeadline(stopSignal, Math.min(settings.timeoutMs, SUBMIT_TIMEOUT_MS));
				const { input } = await uploadInputs(this, itemIndex, settings, services);
				const submitted = await submitFill(services.client, input, { deadline, webhookUrl: settings.webhookUrl });
				track(submitted.request_id);
				const size = services.uploader.sizeOf(input.image_url);
				return [
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
							estimated_cost_usd: size ? estimateCostUsd(size.width, size.height, settings.numImages) : null,
						},
						pairedItem: { item: itemIndex },
					},
				];
			}),
	};
	return await runItems(this, runner, { concurrency: readConcurrency(this), stop: services.stop, secrets: services.secrets });
}
