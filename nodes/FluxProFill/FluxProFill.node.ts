import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { executeFill } from './actions/fill/fill.action';
import { nodeProperties } from './description';

/** Operations by their contract name; each runs over all input items at once. */
const operations: Record<string, (this: IExecuteFunctions) => Promise<INodeExecutionData[]>> = {
	fill: executeFill,
};

export class FluxProFill implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'FLUX.1 [pro] Fill (fal)',
		name: 'fluxProFill',
		icon: 'file:fal.svg',
		group: ['transform'],
		version: 1,
		subtitle: '={{ "Fill: " + $parameter["prompt"] }}',
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
		return [await run.call(this)];
	}
}
