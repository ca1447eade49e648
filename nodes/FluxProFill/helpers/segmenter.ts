import type { MaskSource } from '../masks/maskPreparer';
import type { HttpGet } from '../transport/downloads';
import type { FalAccess } from '../transport/falClient';
import type { ItemDeadline } from '../transport/itemDeadline';
import { runSegmentation, type SegmentationRun } from '../transport/segmentation';
import { SEGMENT_PRICE_USD } from './spec';

export interface Segmentation extends SegmentationRun {
	/** What this item paid for it: nothing when another item of the execution already had it made. */
	costUsd: number;
}

type TextSource = Extract<MaskSource, { kind: 'text' }>;

/**
 * Describe It for one execution: the same image with the same words is segmented once,
 * whatever the number of items or images asked for; the item that started it carries
 * its cost, so that summing the items gives the run's.
 */
export class Segmenter {
	private readonly runs = new Map<string, Promise<SegmentationRun>>();

	constructor(
		private readonly fal: FalAccess,
		private readonly httpGet: HttpGet,
		private readonly where: { executionId: string; nodeId: string },
	) {}

	async segment(
		image: { ref: string; url: string },
		source: TextSource,
		options: { deadline: ItemDeadline; cancelOnStop: () => boolean },
	): Promise<Segmentation> {
		const key = JSON.stringify([image.ref, source.words, source.negative ?? null]);
		const running = this.runs.get(key);
		if (running) return { ...(await running), costUsd: 0 };
		const run = runSegmentation(
			this.fal,
			this.httpGet,
			{
				prompt: source.words,
				image_url: image.url,
				...(source.negative ? { negative_prompt: source.negative } : {}),
				mask_only: true,
			},
			{ ...options, memory: { ...this.where, imageRef: image.ref } },
		);
		this.runs.set(key, run);
		// A failed one may be tried again by the next item (its own deadline, its own chance).
		run.catch(() => this.runs.delete(key));
		return { ...(await run), costUsd: segmentationCostUsd(source) };
	}
}

/** fal's price per segmentation; with words to keep out it is counted twice (two prompts). */
export function segmentationCostUsd(source: TextSource): number {
	return source.negative ? SEGMENT_PRICE_USD * 2 : SEGMENT_PRICE_USD;
}

/**
 * A segmentation fal made (and billed) for an item that then failed: nothing found, or
 * the fill refused. Kept beside the error so that the error item still says what was paid.
 */
const paidBeforeFailing = new WeakMap<object, { requestId: string; costUsd: number }>();

export function withSegmentation(
	error: unknown,
	segmentation: { requestId: string; costUsd: number },
): unknown {
	if (typeof error === 'object' && error !== null && !paidBeforeFailing.has(error))
		paidBeforeFailing.set(error, segmentation);
	return error;
}

/** The error item's fields for a segmentation paid before the item failed; none otherwise. */
export function segmentationOfFailure(error: unknown): Record<string, string | number> {
	const paid =
		typeof error === 'object' && error !== null ? paidBeforeFailing.get(error) : undefined;
	if (!paid) return {};
	return {
		segmentation_request_id: paid.requestId,
		estimated_segmentation_cost_usd: paid.costUsd,
	};
}
