/**
 * A test-only stand-in for n8n's Loop Over Items (Split in Batches) with batch size 1:
 * output 0 ("loop") gets one item per run of the node, output 1 ("done") gets every item
 * that came back once none is left. Connect the loop's body back into its input.
 */
import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeType } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

export const LOOP_NODE_TYPE = 'n8n-nodes-harness.loopOverItems';

export function createLoopNodeType(): INodeType {
	return {
		description: {
			displayName: 'Loop Over Items',
			name: 'loopOverItems',
			group: ['transform'],
			version: 1,
			description: 'Batch size 1, as n8n’s Loop Over Items (n8n harness)',
			defaults: { name: 'Loop Over Items' },
			inputs: [NodeConnectionTypes.Main],
			outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
			outputNames: ['loop', 'done'],
			properties: [],
		},
		async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
			const state = this.getContext('node') as IDataObject & {
				left?: INodeExecutionData[];
				done?: INodeExecutionData[];
			};
			const input = this.getInputData();
			if (!state.left) {
				state.left = input.map((item, index) => ({ ...item, pairedItem: { item: index } }));
				state.done = [];
			} else state.done!.push(...input);
			const next = state.left.shift();
			return next ? [[next], []] : [[], state.done!];
		},
	};
}
