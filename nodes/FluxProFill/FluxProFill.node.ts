import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { executeFill } from './actions/fill/fill.action';
import { executeCancel, executeGetResult, executeGetStatus } from './actions/request/request.actions';
import { executeSubmit } from './actions/submit/submit.action';
import { totalCostUsd } from './output/cost';
import { nodeProperties } from './description';

/** Operations by their contract name; each runs over all input items at once. */
const operations: Record<string, (this: IExecuteFunctions) => Promise<INodeExecutionData[]>> = {
	fill: executeFill,
	submit: executeSubmit,
	getStatus: executeGetStatus,
	getResult: executeGetResult,
	cancel: executeCancel,
};

export class FluxProFill implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'FLUX.1 [pro] Fill (fal)',
		name: 'fluxProFill',
		icon: 'file:fal.svg',
		group: ['transform'],
		version: 1,
		subtitle:
			'={{ ({ fill: "Fill", submit: "Submit", getStatus: "Get Status", getResult: "Get Result", cancel: "Cancel" })[$parameter["operation"]] }}',
		description: 'Repaint the masked part of an image from a prompt with FLUX.1 [pro] Fill on fal.ai',
		defaults: {
			name: 'FLUX.1 Fill',
		},
		inputs: ['main'],
		outputs: ['main'],
		credentials: [
			{
				name: 'falApi',
				required: true,
			},
		],
		usableAsTool: true,
		properties: nodeProperties,
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const operation = this.getNodeParameter('operation', 0, 'fill') as string;
		const run = operations[operation];
		if (!run) {
			throw new NodeOperationError(this.getNode(), `The operation "${operation}" is not supported`, {
				description: `Choose one of: ${Object.keys(operations).join(', ')}.`,
			});
		}
		const items = await run.call(this);
		// Only the operations that start requests show what they cost; Get Result would count them twice.
		const cost = operation === 'fill' || operation === 'submit' ? totalCostUsd(items) : { usd: 0, requests: 0 };
		if (cost.requests > 0) {
			this.addExecutionHints?.({
				message: `Estimated fal cost of this run: $${cost.usd.toFixed(2)} for ${cost.requests} request${cost.requests === 1 ? '' : 's'} ($0.05 per megapixel, rounded up, per image; fal's invoice is what counts)`,
				location: 'outputPane',
			});
		}
		return [items];
	}
}
