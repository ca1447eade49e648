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
	const perRequest = new Map<string, number>();
	for (const { json } of items) {
		const cost = json.request_estimated_cost_usd ?? json.estimated_cost_usd;
		if (typeof json.request_id === 'string' && typeof cost === 'number')
			perRequest.set(json.request_id, cost);
	}
	let usd = 0;
	for (const cost of perRequest.values()) usd += cost;
	return { usd: round(usd), requests: perRequest.size };
}

function round(usd: number): number {
	return Math.round(usd * 10_000) / 10_000;
}
