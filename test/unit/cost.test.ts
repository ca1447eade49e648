import type { INodeExecutionData } from 'n8n-workflow';

import {
	addSegmentationCost,
	segmentationsPaid,
	totalCostUsd,
} from '../../nodes/FluxProFill/output/cost';

const image = (requestId: string): INodeExecutionData => ({
	json: { request_id: requestId, estimated_cost_usd: 0.05, request_estimated_cost_usd: 0.15 },
});

describe('addSegmentationCost', () => {
	it('splits the segmentation over the images so that they sum to it exactly', () => {
		const items = addSegmentationCost([image('a'), image('a'), image('a')], {
			requestId: 'seg-1',
			costUsd: 0.01,
		});
		const parts = items.map((item) => item.json.estimated_segmentation_cost_usd as number);
		expect(parts).toEqual([0.0034, 0.0033, 0.0033]);
		expect(items.map((item) => item.json.estimated_cost_usd)).toEqual([0.0534, 0.0533, 0.0533]);
		expect(items.every((item) => item.json.request_estimated_cost_usd === 0.16)).toBe(true);
		expect(items.every((item) => item.json.estimated_fill_cost_usd === 0.05)).toBe(true);
		expect(items.every((item) => item.json.segmentation_request_id === 'seg-1')).toBe(true);
		expect(totalCostUsd(items)).toEqual({ usd: 0.16, requests: 1 });
	});

	it('counts only the segmentations an item paid for', () => {
		const paid = addSegmentationCost([image('a')], { requestId: 'seg-1', costUsd: 0.005 });
		const reused = addSegmentationCost([image('b')], { requestId: 'seg-1', costUsd: 0 });
		expect(segmentationsPaid([...paid, ...reused])).toBe(1);
		expect(totalCostUsd([...paid, ...reused])).toEqual({ usd: 0.305, requests: 2 });
	});

	it('keeps an unknown fill cost unknown, with the segmentation part known', () => {
		const [item] = addSegmentationCost(
			[{ json: { request_id: 'a', estimated_cost_usd: null, request_estimated_cost_usd: null } }],
			{ requestId: 'seg-1', costUsd: 0.005 },
		);
		expect(item.json).toMatchObject({
			estimated_cost_usd: null,
			estimated_fill_cost_usd: null,
			estimated_segmentation_cost_usd: 0.005,
			request_estimated_cost_usd: null,
		});
	});
});
