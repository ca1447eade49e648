import type { INodeExecutionData } from 'n8n-workflow';

import { PRICE_PER_MEGAPIXEL_USD } from '../helpers/spec';

/** Estimated price of one request making `count` images of `width`×`height`. An estimate: fal's invoice is what counts. */
export function estimateCostUsd(width: number, height: number, count: number): number {
	if (!(width > 0 && height > 0 && count > 0)) return 0;
	const megapixels = Math.ceil((width * height) / 1_000_000);
	return round(megapixels * PRICE_PER_MEGAPIXEL_USD * count);
}

/** Total over distinct requests: each item carries its request's total in `request_estimated_cost_usd`. */
export function totalCostUsd(items: INodeExecutionData[]): { usd: number; requests: number } {
	const failedSegmentations = new Map<string, number>();
	const perRequest = new Map<string, number>();
	for (const { json } of items) {
		const cost = json.request_estimated_cost_usd ?? json.estimated_cost_usd;
		if (typeof json.error === 'string') {
			// A failed item may still have paid for its segmentation (Describe It).
			const segmentation = json.estimated_segmentation_cost_usd;
			if (typeof json.segmentation_request_id === 'string' && typeof segmentation === 'number')
				failedSegmentations.set(json.segmentation_request_id, segmentation);
			continue;
		}
		if (typeof json.request_id === 'string' && typeof cost === 'number')
			perRequest.set(json.request_id, cost);
	}
	let usd = 0;
	for (const cost of [...perRequest.values(), ...failedSegmentations.values()]) usd += cost;
	return { usd: round(usd), requests: perRequest.size };
}

/**
 * Describe It: adds the segmentation to a request's output items. Its cost is split
 * over the items (the first takes the rounding rest), so that they still sum to the
 * run's cost; `estimated_cost_usd` stays the total, with the parts beside it.
 */
export function addSegmentationCost(
	items: INodeExecutionData[],
	segmentation: { requestId: string; costUsd: number },
): INodeExecutionData[] {
	const share = round(segmentation.costUsd / Math.max(1, items.length));
	const first = round(segmentation.costUsd - share * (items.length - 1));
	return items.map((item, index) => {
		const { json } = item;
		const fill = typeof json.estimated_cost_usd === 'number' ? json.estimated_cost_usd : null;
		const requestFill =
			typeof json.request_estimated_cost_usd === 'number' ? json.request_estimated_cost_usd : null;
		const part = index === 0 ? first : share;
		return {
			...item,
			json: {
				...json,
				segmentation_request_id: segmentation.requestId,
				estimated_cost_usd: fill === null ? null : round(fill + part),
				estimated_fill_cost_usd: fill,
				estimated_segmentation_cost_usd: part,
				request_estimated_cost_usd:
					requestFill === null ? null : round(requestFill + segmentation.costUsd),
			},
		};
	});
}

/** Segmentations made in the run (not reused), for the execution hint. */
export function segmentationsPaid(items: INodeExecutionData[]): number {
	const paid = new Set<string>();
	for (const { json } of items) {
		if (
			typeof json.segmentation_request_id === 'string' &&
			Number(json.estimated_segmentation_cost_usd) > 0
		)
			paid.add(json.segmentation_request_id);
	}
	return paid.size;
}

function round(usd: number): number {
	return Math.round(usd * 10_000) / 10_000;
}
