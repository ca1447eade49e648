import type { INodeExecutionData } from 'n8n-workflow';

import {
	PRICE_PER_MEGAPIXEL_USD as PRICE,
	SEGMENT_PRICE_USD,
} from '../../../nodes/FluxProFill/common/constants';
import {
	billed,
	estimateCostUsd,
	Ledger,
	round,
	runCost,
	withCosts,
	type Fate,
	type PaidCall,
} from '../../../nodes/FluxProFill/helpers/ledger';

const ID = '764cabcf-b745-4b3e-ae38-1200304cf45b';
const SEGMENTATION_ID = 'a3f1c2d4-0000-4000-8000-000000000001';

const items = (count: number): INodeExecutionData[] =>
	Array.from({ length: count }, (_, index) => ({
		json: { request_id: ID, image_index: index },
		pairedItem: { item: 0 },
	}));
const ledgerOf = (fill?: Partial<PaidCall>, segmentation?: Partial<PaidCall>) => {
	const ledger = new Ledger();
	if (fill) Object.assign(ledger.paidFill(ID, fill.costUsd ?? null), fill);
	if (segmentation)
		ledger.segmentation = {
			requestId: SEGMENTATION_ID,
			costUsd: SEGMENT_PRICE_USD,
			fate: 'completed',
			...segmentation,
		};
	return ledger;
};
const costs = (out: INodeExecutionData[], field = 'estimated_cost_usd') =>
	out.map((item) => item.json[field] as number | null);
const sum = (values: Array<number | null>) =>
	round(values.reduce<number>((a, b) => a + (b ?? 0), 0));

describe('estimateCostUsd', () => {
	it("charges fal's price per megapixel, rounded up, per image", () => {
		expect(estimateCostUsd(1000, 1000, 1)).toBe(PRICE);
		expect(estimateCostUsd(1001, 1000, 1)).toBe(round(2 * PRICE));
		expect(estimateCostUsd(1024, 1024, 3)).toBe(round(6 * PRICE));
		expect(estimateCostUsd(1, 1, 1)).toBe(PRICE);
	});

	it('is 0 for a size or count that is not one', () => {
		for (const [width, height, count] of [
			[0, 100, 1],
			[100, Number.NaN, 1],
			[100, 100, 0],
			[-5, 100, 1],
		])
			expect(estimateCostUsd(width, height, count)).toBe(0);
	});
});

describe('Ledger and billed', () => {
	it('a paid fill is the ledger’s request, running until told otherwise', () => {
		const ledger = new Ledger();
		const paid = ledger.paidFill(ID, 0.1);
		expect(ledger).toMatchObject({ requestId: ID, fill: paid });
		expect(paid).toEqual({ requestId: ID, costUsd: 0.1, fate: 'running' });
	});

	it.each<[Fate, number | null]>([
		['running', 0.1],
		['completed', 0.1],
		['failed', 0],
		['cancelled', 0],
	])('a request %s is billed %p', (fate, expected) => {
		expect(billed({ requestId: ID, costUsd: 0.1, fate })).toBe(expected);
	});

	it('nothing is billed for no call, and an unknown cost stays unknown', () => {
		expect(billed(undefined)).toBe(0);
		expect(billed({ requestId: ID, costUsd: null, fate: 'completed' })).toBeNull();
		expect(billed({ requestId: ID, costUsd: null, fate: 'failed' })).toBe(0);
	});
});

describe('withCosts', () => {
	it('leaves items without a paid call as they are', () => {
		const out = items(2);
		expect(withCosts(out, new Ledger())).toBe(out);
	});

	it("gives each item a share, the first the rounding rest, so that they sum to the request's total", () => {
		const out = withCosts(items(3), ledgerOf({ costUsd: 0.1, fate: 'completed' }));
		const shares = costs(out);
		expect(sum(shares)).toBe(0.1);
		expect(shares[1]).toBe(shares[2]);
		expect(shares[0]).toBeGreaterThanOrEqual(shares[1]!);
		expect(costs(out, 'request_estimated_cost_usd')).toEqual([0.1, 0.1, 0.1]);
	});

	it('shares many ways without losing a cent', () => {
		for (const count of [1, 2, 3, 4, 6, 7])
			for (const total of [0.05, 0.15, 0.2, 0.35, 1.25]) {
				const shares = costs(withCosts(items(count), ledgerOf({ costUsd: total })));
				expect({ count, total, sum: sum(shares) }).toEqual({ count, total, sum: total });
			}
	});

	it('puts the cost of the images fal made but the node left out (NSFW) on the kept ones', () => {
		// fal made 4 images of a megapixel; 3 are kept.
		const made = 4 * PRICE;
		const out = withCosts(items(3), ledgerOf({ costUsd: made, fate: 'completed' }));
		expect(sum(costs(out))).toBe(round(made));
	});

	it('bills nothing for a request that failed or was cancelled', () => {
		for (const fate of ['failed', 'cancelled'] as const) {
			const out = withCosts(items(1), ledgerOf({ costUsd: 0.1, fate }));
			expect(out[0].json).toMatchObject({ estimated_cost_usd: 0, request_estimated_cost_usd: 0 });
		}
	});

	it('keeps an unknown cost (an image URL) unknown', () => {
		const out = withCosts(items(2), ledgerOf({ costUsd: null }));
		expect(costs(out)).toEqual([null, null]);
		expect(costs(out, 'request_estimated_cost_usd')).toEqual([null, null]);
	});

	it('adds the segmentation beside the fill, each part shared the same way', () => {
		const out = withCosts(
			items(3),
			ledgerOf({ costUsd: 0.15, fate: 'completed' }, { costUsd: 0.01 }),
		);
		expect(sum(costs(out, 'estimated_segmentation_cost_usd'))).toBe(0.01);
		expect(sum(costs(out, 'estimated_fill_cost_usd'))).toBe(0.15);
		expect(sum(costs(out))).toBe(0.16);
		for (const item of out) {
			expect(item.json.estimated_cost_usd).toBe(
				round(
					(item.json.estimated_fill_cost_usd as number) +
						(item.json.estimated_segmentation_cost_usd as number),
				),
			);
			expect(item.json).toMatchObject({
				request_estimated_cost_usd: 0.16,
				segmentation_request_id: SEGMENTATION_ID,
			});
		}
	});

	it('keeps the segmentation part known when the fill cost is not', () => {
		const [item] = withCosts(items(1), ledgerOf({ costUsd: null }, {}));
		expect(item.json).toMatchObject({
			estimated_cost_usd: null,
			estimated_fill_cost_usd: null,
			estimated_segmentation_cost_usd: SEGMENT_PRICE_USD,
			request_estimated_cost_usd: null,
		});
	});

	it('an error item after a paid segmentation carries that cost', () => {
		const [item] = withCosts(items(1), ledgerOf(undefined, {}));
		expect(item.json).toMatchObject({
			estimated_cost_usd: SEGMENT_PRICE_USD,
			request_estimated_cost_usd: SEGMENT_PRICE_USD,
		});
	});

	it('keeps the items’ own fields and pairing', () => {
		const [item] = withCosts(items(1), ledgerOf({ costUsd: 0.05 }));
		expect(item).toMatchObject({
			json: { request_id: ID, image_index: 0 },
			pairedItem: { item: 0 },
		});
	});
});

describe('runCost', () => {
	it("sums the items' billed fills and paid segmentations, counting each", () => {
		const cost = runCost([
			ledgerOf({ costUsd: 0.1, fate: 'completed' }, { costUsd: SEGMENT_PRICE_USD }),
			// Another item used the same segmentation: it paid nothing for it.
			ledgerOf({ costUsd: 0.1, fate: 'running' }, { costUsd: 0 }),
			ledgerOf({ costUsd: 0.1, fate: 'failed' }),
			ledgerOf({ costUsd: 0.1, fate: 'cancelled' }),
			new Ledger(),
		]);
		expect(cost).toEqual({
			usd: round(0.2 + SEGMENT_PRICE_USD),
			requests: 2,
			segmentations: 1,
			finetuned: false,
		});
	});

	it('counts a request of unknown cost, adding nothing for it', () => {
		expect(runCost([ledgerOf({ costUsd: null, fate: 'completed' })])).toEqual({
			usd: 0,
			requests: 1,
			segmentations: 0,
			finetuned: false,
		});
	});

	it('rounds to a hundredth of a cent', () => {
		expect(round(0.1 + 0.2)).toBe(0.3);
		expect(round(0.123_456)).toBe(0.1235);
		const cost = runCost(Array.from({ length: 3 }, () => ledgerOf({ costUsd: 0.1 })));
		expect(cost.usd).toBe(0.3);
	});
});
