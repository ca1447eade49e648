/**
 * A test-only start node that emits fixed items, so the node under test gets
 * its input over a real connection, exactly as after any upstream node.
 *
 * Binary data in the given items is re-stored with `this.helpers.prepareBinaryData`
 * *inside* the execution, so it lands in whatever binary-data mode the run uses
 * (inline base64 in `default`, a file + id in `filesystem`) under this
 * execution's storage location — the same state a real upstream node leaves.
 */
import type {
	IBinaryData,
	IBinaryKeyData,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
} from 'n8n-workflow';
import { BINARY_ENCODING, NodeConnectionTypes } from 'n8n-workflow';

export const SOURCE_NODE_TYPE = 'n8n-nodes-harness.itemSource';
export const SOURCE_NODE_NAME = 'Input Items';

/**
 * Describes a binary for input items; the source node stores it through the
 * run's BinaryDataService. (It is shaped like n8n's in-memory form, so it also
 * works unchanged when a node type is fed it directly.)
 */
export function prepareBinary(buffer: Buffer, fileName: string, mimeType: string): IBinaryData {
	return { data: buffer.toString(BINARY_ENCODING), fileName, mimeType };
}

/** Stores one not-yet-stored binary (no `id`) through n8n's helper; stored ones pass through. */
async function storeBinary(ctx: IExecuteFunctions, binary: IBinaryData): Promise<IBinaryData> {
	if (binary.id) return binary;
	const buffer = Buffer.from(binary.data, BINARY_ENCODING);
	return await ctx.helpers.prepareBinaryData(buffer, binary.fileName, binary.mimeType);
}

async function storeItemBinaries(
	ctx: IExecuteFunctions,
	item: INodeExecutionData,
): Promise<IBinaryKeyData | undefined> {
	if (!item.binary) return undefined;
	const stored: IBinaryKeyData = {};
	for (const [property, binary] of Object.entries(item.binary)) {
		stored[property] = await storeBinary(ctx, binary);
	}
	return stored;
}

/**
 * A fresh node type per run whose `execute` returns `items` (deep-copied, so a
 * node under test mutating its input cannot change the test's fixtures).
 * Each item is paired to the single trigger item the engine starts with.
 */
export function createSourceNodeType(items: INodeExecutionData[]): INodeType {
	return {
		description: {
			displayName: 'Input Items',
			name: 'itemSource',
			group: ['input'],
			version: 1,
			description: 'Emits the test input items (n8n harness)',
			defaults: { name: SOURCE_NODE_NAME },
			inputs: [],
			outputs: [NodeConnectionTypes.Main],
			properties: [],
		},
		async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
			const output: INodeExecutionData[] = [];
			for (const item of items) {
				const binary = await storeItemBinaries(this, item);
				output.push({
					json: structuredClone(item.json),
					...(binary && { binary }),
					pairedItem: { item: 0 },
				});
			}
			return [output];
		},
	};
}
