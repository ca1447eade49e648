import { updateDisplayOptions, type IExecuteFunctions } from 'n8n-workflow';

import { FILL_ENDPOINT, LABELS, TIMING } from '../common/constants';
import { fal as words } from '../common/messages';
import type { Execution } from '../helpers/execution';
import { checkFill, startFill, type CheckedFill } from '../helpers/fillRequest';
import type { ItemRunner } from '../helpers/pipeline';
import { requestMemory } from '../helpers/requestMemory';
import { Deadline } from '../transport/deadline';
import { FalError, falError } from '../transport/errors';
import { getStatus, requestUrl } from '../transport/queue';
import { fillRequestProperties, requestConcurrencyOption } from './descriptions';

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

/**
 * Submit: puts each item's request in fal's queue and returns at once with its id, so a
 * long queue does not hold the execution open. With a webhook URL (a Wait node's
 * `$execution.resumeUrl`) fal calls back when the request ends; then Get Result. On a
 * retry of the node, the request this item already submitted is returned again.
 */
export function execute(ctx: IExecuteFunctions, exec: Execution): ItemRunner<CheckedFill> {
	return {
		check: async (itemIndex) => await checkFill(ctx, exec, itemIndex),
		cost: (checked) => checked.costUsd,
		run: async (itemIndex, settings, { atFal, stopSignal, ledger }) =>
			await atFal(async () => {
				// Describe It waits for fal's segmentation before submitting: the item's own time limit.
				const limit = settings.mask.kind === 'text' ? settings.timeoutMs : TIMING.uploadAndSubmitMs;
				// Submit shows no Timeout option: its limit is fixed.
				const deadline = new Deadline(stopSignal, Math.min(settings.timeoutMs, limit), false);
				const { webhookUrl } = settings;
				// A stopped execution cancels a segmentation still running: nothing uses it.
				const run = { deadline, ledger, cancelOnStop: () => true, webhookUrl };
				const started = await startFill(exec, itemIndex, settings, run);
				const { requestId } = started;
				let { answer } = started;
				if (started.lost) {
					// fal named the request whose answer was lost: it is returned if fal has it.
					const status = await getStatus(
						exec.fal,
						started.endpoint,
						requestId,
						false,
						deadline.signal,
					).catch((error: unknown) => {
						if (error instanceof FalError && error.fields.status === 404) {
							// fal never had it: a retry of this item submits anew.
							requestMemory.forget(started.key);
							started.paid.fate = 'cancelled';
							throw falError(words.notAccepted(started.lost as string, requestId), { requestId });
						}
						return undefined;
					});
					answer = {
						request_id: requestId,
						status: status?.status,
						queue_position: status?.queue_position,
					};
				}
				return [
					{
						json: {
							request_id: requestId,
							status: answer?.status ?? 'IN_QUEUE',
							queue_position: answer?.queue_position ?? null,
							status_url: answer?.status_url ?? requestUrl(FILL_ENDPOINT, requestId, '/status'),
							response_url: answer?.response_url ?? requestUrl(FILL_ENDPOINT, requestId),
							cancel_url: answer?.cancel_url ?? requestUrl(FILL_ENDPOINT, requestId, '/cancel'),
							webhook_url: webhookUrl ?? null,
							num_images: settings.numImages,
						},
						pairedItem: { item: itemIndex },
					},
				];
			}),
	};
}
