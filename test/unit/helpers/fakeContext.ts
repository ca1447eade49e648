import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

const NODE_TYPE = 'n8n-nodes-fal-flux-fill.fluxProFill';
/** n8n runs a `usableAsTool` node for an AI agent as a copy of this type. */
export const TOOL_TYPE = `${NODE_TYPE}Tool`;

type PerItem<T> = T | ((itemIndex: number) => T);
const atItem = <T>(value: PerItem<T>, itemIndex: number): T =>
	typeof value === 'function' ? (value as (itemIndex: number) => T)(itemIndex) : value;

/**
 * As much of n8n's IExecuteFunctions as the settings read: the node's parameters (with the
 * `options` collection apart), the node and the input items. A parameter that is not set
 * gives the fallback the code passes, as in n8n. Every name read is recorded.
 */
export function fakeContext({
	parameters = {},
	options = {},
	nodeType = NODE_TYPE,
	items = [{ json: {} }],
}: {
	parameters?: PerItem<Record<string, unknown>>;
	options?: PerItem<Record<string, unknown>>;
	nodeType?: string;
	items?: INodeExecutionData[];
} = {}) {
	const read: string[] = [];
	const ctx = {
		getNodeParameter(name: string, itemIndex: number, fallback?: unknown) {
			read.push(name);
			if (name === 'options') return atItem(options, itemIndex);
			const values = atItem(parameters, itemIndex);
			return name in values ? values[name] : fallback;
		},
		getNode: () => ({
			id: 'node-1',
			name: 'FLUX.1 Fill',
			type: nodeType,
			typeVersion: 1,
			position: [0, 0],
			parameters: {},
		}),
		getInputData: () => items,
	} as unknown as IExecuteFunctions;
	return { ctx, read };
}
