import type { INodeProperties } from 'n8n-workflow';

import { fillProperties } from './fill.properties';

/** Every parameter of the node, operation first; each operation's fields live in their own file. */
export const nodeProperties: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Fill',
				value: 'fill',
				action: 'Repaint the masked part of an image',
				description: 'Upload image and mask, wait for fal, and return the generated images',
			},
		],
		default: 'fill',
	},
	...fillProperties,
];
