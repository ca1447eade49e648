import {
	NodeConnectionTypes,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';

import * as cancel from './actions/cancel.operation';
import * as fill from './actions/fill.operation';
import * as getResult from './actions/getResult.operation';
import * as getStatus from './actions/getStatus.operation';
import { router } from './actions/router';
import * as submit from './actions/submit.operation';
import { LABELS } from './common/constants';
import { falApiCredentialTest } from './methods/credentialTest';

export class FluxProFill implements INodeType {
	/** The node as n8n's editor shows it: operation first, then each operation's own parameters. */
	description: INodeTypeDescription = {
		displayName: 'FLUX.1 [pro] Fill (fal)',
		name: 'fluxProFill',
		icon: 'file:fal.svg',
		group: ['transform'],
		version: 1,
		subtitle:
			'={{ ({ fill: "Fill", submit: "Submit", getStatus: "Get Status", getResult: "Get Result", cancel: "Cancel" })[$parameter["operation"]] }}',
		description:
			'Repaint the masked part of an image from a prompt with FLUX.1 [pro] Fill on fal.ai',
		defaults: {
			name: 'FLUX.1 Fill',
		},
		// The plugin's rules predate NodeConnectionTypes, which n8n's own nodes use now.
		// eslint-disable-next-line n8n-nodes-base/node-class-description-inputs-wrong-regular-node
		inputs: [NodeConnectionTypes.Main],
		// eslint-disable-next-line n8n-nodes-base/node-class-description-outputs-wrong
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'falApi',
				required: true,
				// The dialog's Test button runs methods/credentialTest.ts: fal's wording, free of charge.
				testedBy: 'falApiCredentialTest',
			},
		],
		usableAsTool: true,
		properties: [
			{
				displayName: LABELS.operation,
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				// The main action first (the node panel highlights the first), then the Submit →
				// Get Result path, then the rarer ones: not alphabetical.
				// eslint-disable-next-line n8n-nodes-base/node-param-options-type-unsorted-items
				options: [
					{
						name: 'Fill',
						value: 'fill',
						action: 'Repaint the masked part of an image',
						description: 'Send image and mask to fal, wait, and return the generated images',
					},
					{
						name: 'Submit',
						value: 'submit',
						action: 'Submit a fill request without waiting',
						description:
							"Put the request in fal's queue and return its ID at once; optionally fal calls a webhook when done",
					},
					{
						name: 'Get Result',
						value: 'getResult',
						action: 'Get the images of a submitted fill request',
						description:
							'Return the images of a request made with Submit, waiting if it is still running',
					},
					{
						name: 'Get Status',
						value: 'getStatus',
						action: 'Get the status of a submitted fill request',
						description: 'Queue position, status and logs of a request made with Submit',
					},
					{
						name: 'Cancel',
						value: 'cancel',
						action: 'Cancel a submitted fill request',
						description: 'Ask fal to stop a request made with Submit',
					},
				],
				default: 'fill',
			},
			...fill.description,
			...submit.description,
			...getStatus.description,
			...getResult.description,
			...cancel.description,
		],
	};

	methods = { credentialTest: { falApiCredentialTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
