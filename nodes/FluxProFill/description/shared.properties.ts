import type { INodeProperties } from 'n8n-workflow';

import { DEFAULT_CONCURRENCY } from '../constants';

type Shown = INodeProperties['displayOptions'];

/** Options that Fill and Get Result share: how fal's images come back. */
export function resultOptions(displayOptions: Shown, timeoutDescription: string): Record<string, INodeProperties> {
	return {
		dropNsfw: {
			displayName: 'Drop NSFW Images',
			name: 'dropNsfw',
			type: 'boolean',
			default: false,
			displayOptions,
			description: 'Whether to leave out images that fal flags as NSFW. When off, flagged images are returned with has_nsfw_concept set to true. If every image of an item is flagged, the item fails.',
		},
		outputMode: {
			displayName: 'Output',
			name: 'outputMode',
			type: 'options',
			displayOptions,
			options: [
				{ name: 'Binary File', value: 'binary', description: 'Download each image into the item, for storage, e-mail or messaging nodes' },
				{ name: 'URL Only', value: 'url', description: "Return fal's links and the JSON without downloading. With sync mode the link is a data: URI holding the whole image." },
			],
			default: 'binary',
			description: 'Whether to download the images or only return their links',
		},
		outputBinaryProperty: {
			displayName: 'Output Binary Field',
			name: 'outputBinaryProperty',
			type: 'string',
			default: 'data',
			displayOptions,
			description: 'Binary field of each output item that receives the generated image',
		},
		timeout: {
			displayName: 'Timeout (Seconds)',
			name: 'timeout',
			type: 'number',
			default: 600,
			typeOptions: { minValue: 1, maxValue: 86_400, numberPrecision: 0 },
			displayOptions,
			description: timeoutDescription,
		},
	};
}

/** Node-level: how many items run at once. The description should say it is read from the first item. */
export function concurrencyOption(description: string): INodeProperties {
	return {
		displayName: 'Concurrency',
		name: 'concurrency',
		type: 'number',
		default: DEFAULT_CONCURRENCY,
		typeOptions: { minValue: 1, maxValue: 100, numberPrecision: 0 },
		description,
	};
}
