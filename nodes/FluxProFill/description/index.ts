import type { INodeProperties } from 'n8n-workflow';

import { fillProperties } from './fill.properties';
import { requestProperties } from './request.properties';

/** Every parameter of the node, operation first; each operation's fields live in their own file. */
export const nodeProperties: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Cancel',
				value: 'cancel',
				action: 'Cancel a submitted fill request',
				description: 'Ask fal to stop a request made with Submit',
			},
			{
				name: 'Fill',
				value: 'fill',
				action: 'Repaint the masked part of an image',
				description: 'Upload image and mask, wait for fal, and return the generated images',
			},
			{
				name: 'Get Result',
				value: 'getResult',
				action: 'Get the images of a submitted fill request',
				description: 'Return the images of a request made with Submit, waiting if it is still running',
			},
			{
				name: 'Get Status',
				value: 'getStatus',
				action: 'Get the status of a submitted fill request',
				description: 'Queue position, status and logs of a request made with Submit',
			},
			{
				name: 'Submit',
				value: 'submit',
				action: 'Submit a fill request without waiting',
				description: "Put the request in fal's queue and return its ID at once; optionally fal calls a webhook when done",
			},
		],
		default: 'fill',
	},
	...fillProperties,
	...requestProperties,
];
