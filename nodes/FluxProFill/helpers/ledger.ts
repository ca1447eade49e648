import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { FINETUNED_ENDPOINT, PRICE_PER_MEGAPIXEL_USD } from '../common/constants';

/** What became of a paid request: `running` (its end unknown) and `completed` are billed. */
export type Fate = 'running' | 'completed' | 'failed' | 'cancelled';

export interface PaidCall {
	/** Undefined for a submit fal may have accepted without naming it (it may be billed). */
	requestId?: string;
	/** Estimated price; null when the size is not known (an image URL, before fal answered). */
	costUsd: number | null;
	fate: Fate;
	/** The fill's endpoint (the fill, or fill-finetuned); not set for segmentations. */
	endpoint?: string;
}

/**
 * One item's account of the fal calls it made: the request it is about, and what it paid
 * for. Output items, error items and the run's cost hint are all built from it, so that
 * every path reports every request it paid for, and the items' `estimated_cost_usd` sum
 * to the estimate of what fal billed.
 */
export class Ledger {
	/** The item's fal request: its fill, or the one Get Status / Get Result / Cancel was given. */
	requestId?: string;
	fill?: PaidCall;
	/** Describe It: the segmentation that made the mask; costs 0 when another item paid for it. */
	segmentation?: PaidCall;

	paidFill(requestId: string | undefined, costUsd: number | null, endpoint?: string): PaidCall {
		this.requestId ??= requestId;
		this.fill = { requestId, costUsd, fate: 'running', endpoint };
		return this.fill;
	}
}

/** What fal bills for a call: nothing for a request that failed or was cancelled. */
export function billed(call: PaidCall | undefined): number | null {
	if (!call || call.fate === 'failed' || call.fate === 'cancelled') return 0;
	return call.costUsd;
}

/** Estimated price of `count` images of width×height: megapixels rounded up × fal's price. */
export function estimateCostUsd(
	width: number,
	height: number,
	count: number,
	pricePerMegapixel: number = PRICE_PER_MEGAPIXEL_USD,
): number {
	if (!(width > 0 && height > 0 && count > 0)) return 0;
	return round(Math.ceil((width * height) / 1_000_000) * pricePerMegapixel * count);
}

/**
 * The ledger's costs on an input item's output items (or its one error item): each gets
 * its share (the first the rounding rest), so that they sum to what the item paid, NSFW
 * images fal made and the node left out included; `request_estimated_cost_usd` is the
 * item's whole. With Describe It, the parts beside the total.
 */
export function withCosts(items: INodeExecutionData[], ledger: Ledger): INodeExecutionData[] {
	const { segmentation } = ledger;
	if (!ledger.fill && !segmentation) return items;
	const fill = billed(ledger.fill);
	const segment = billed(segmentation) ?? 0;
	const fillShares = shares(fill, items.length);
	const segmentShares = shares(segment, items.length);
	return items.map((item, index) => {
		const fillShare = fillShares[index];
		const json: IDataObject = {
			...item.json,
			estimated_cost_usd:
				fillShare === null ? null : round(fillShare + (segmentShares[index] ?? 0)),
			request_estimated_cost_usd: fill === null ? null : round(fill + segment),
		};
		if (segmentation) {
			json.segmentation_request_id = segmentation.requestId ?? null;
			json.estimated_fill_cost_usd = fillShare;
			json.estimated_segmentation_cost_usd = segmentShares[index];
		}
		return { ...item, json };
	});
}

function shares(total: number | null, count: number): Array<number | null> {
	if (total === null) return Array.from({ length: count }, () => null);
	const share = round(total / Math.max(1, count));
	return Array.from({ length: count }, (_, index) =>
		index === 0 ? round(total - share * (count - 1)) : share,
	);
}

/** The run's total over its items' ledgers: fills billed, and segmentations paid. */
export function runCost(ledgers: Ledger[]): {
	usd: number;
	requests: number;
	segmentations: number;
	finetuned: boolean;
} {
	let usd = 0;
	let requests = 0;
	let segmentations = 0;
	for (const ledger of ledgers) {
		const fill = billed(ledger.fill);
		const segment = billed(ledger.segmentation) ?? 0;
		if (ledger.fill && fill !== 0) requests++;
		if (segment > 0) segmentations++;
		usd += (fill ?? 0) + segment;
	}
	const finetuned = ledgers.some((ledger) => ledger.fill?.endpoint === FINETUNED_ENDPOINT);
	return { usd: round(usd), requests, segmentations, finetuned };
}

export function round(usd: number): number {
	return Math.round(usd * 10_000) / 10_000;
}
