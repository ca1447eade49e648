import type { INodeProperties } from 'n8n-workflow';

const requestOperations = ['getStatus', 'getResult', 'cancel'];

export const requestProperties: INodeProperties[] = [
	{
		displayName: 'Request ID',
		name: 'requestId',
		type: 'string',
		required: true,
		default: '={{ $json.request_id }}',
		placeholder: 'e.g. 764cabcf-b745-4b3e-ae38-1200304cf45b',
		displayOptions: { show: { operation: requestOperations } },
		description: 'The fal request ID that Submit returned. By default taken from the incoming item.',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		displayOptions: { show: { operation: ['getStatus', 'getResult'] } },
		options: [
			{
				displayName: 'Drop NSFW Images',
				name: 'dropNsfw',
				type: 'boolean',
				default: false,
				displayOptions: { show: { '/operation': ['getResult'] } },
				description: 'Whether to leave out images that fal flags as NSFW. If every image is flagged, the item fails.',
			},
			{
				displayName: 'Include Logs',
				name: 'logs',
				type: 'boolean',
				default: false,
				displayOptions: { show: { '/operation': ['getStatus'] } },
				description: "Whether to include fal's log lines of the request",
			},
			{
				displayName: 'Output',
				name: 'outputMode',
				type: 'options',
				displayOptions: { show: { '/operation': ['getResult'] } },
				options: [
					{ name: 'Binary File', value: 'binary', description: 'Download each image into the item' },
					{ name: 'URL Only', value: 'url', description: "Return fal's links and the JSON without downloading" },
				],
				default: 'binary',
				description: 'Whether to download the images or only return their links',
			},
			{
				displayName: 'Output Binary Field',
				name: 'outputBinaryProperty',
				type: 'string',
				default: 'data',
				displayOptions: { show: { '/operation': ['getResult'] } },
				description: 'Binary field of each output item that receives the generated image',
			},
			{
				displayName: 'Timeout (Seconds)',
				name: 'timeout',
				type: 'number',
				default: 600,
				typeOptions: { minValue: 1, numberPrecision: 0 },
				displayOptions: { show: { '/operation': ['getResult'] } },
				description: 'How long to wait for a request that is still running. The request itself is not cancelled when this runs out.',
			},
		],
	},
];
