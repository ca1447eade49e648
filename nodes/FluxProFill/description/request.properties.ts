import type { INodeProperties } from 'n8n-workflow';

import { concurrencyOption, resultOptions } from './shared.properties';

const requestOperations = ['getStatus', 'getResult', 'cancel'];

const getResult = resultOptions(
	{ show: { '/operation': ['getResult'] } },
	'How long to wait for a request that is still running. The request itself is not cancelled when this runs out.',
);

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
			concurrencyOption('How many items are handled at once. Read from the first item.'),
			getResult.dropNsfw,
			{
				displayName: 'Include Logs',
				name: 'logs',
				type: 'boolean',
				default: false,
				displayOptions: { show: { '/operation': ['getStatus'] } },
				description: "Whether to include fal's log lines of the request",
			},
			getResult.outputMode,
			getResult.outputBinaryProperty,
			getResult.timeout,
		],
	},
];
