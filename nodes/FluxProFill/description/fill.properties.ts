import type { INodeProperties } from 'n8n-workflow';

import { MAX_IMAGES, MAX_SEED, MIN_IMAGES } from '../constants';
import { concurrencyOption, resultOptions } from './shared.properties';

const showForFill = { operation: ['fill', 'submit'] };
/** Inside the options collection: only for operations that wait for and return images. */
const onlyWhenWaiting = { show: { '/operation': ['fill'] } };
const fillResult = resultOptions(
	onlyWhenWaiting,
	'How long to wait for one item, from upload to the last image downloaded. When it runs out the fal request is cancelled and the item fails with its request ID.',
);

/** Where the picture to repaint comes from. */
const imageProperties: INodeProperties[] = [
	{
		displayName: 'Image Source',
		name: 'imageSource',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: showForFill },
		options: [
			{
				name: 'Binary Field',
				value: 'binary',
				description: 'An image file produced by an earlier node (Read Files, HTTP Request, Google Drive, …)',
			},
			{
				name: 'URL',
				value: 'url',
				description: 'A public http(s) link to the image, or a data: URI',
			},
		],
		default: 'binary',
	},
	{
		displayName: 'Input Binary Field',
		name: 'imageBinaryProperty',
		type: 'string',
		required: true,
		default: 'data',
		displayOptions: { show: { ...showForFill, imageSource: ['binary'] } },
		hint: 'The name of the input binary field that holds the image (PNG, JPEG or WebP)',
		description: 'Binary field of each input item that holds the image to repaint',
	},
	{
		displayName: 'Image URL',
		name: 'imageUrl',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'https://example.com/photo.jpg',
		displayOptions: { show: { ...showForFill, imageSource: ['url'] } },
		description: 'Link to the image to repaint. fal must be able to download it. Must have the same width and height as the mask.',
	},
];

/** Where the mask comes from: white is repainted, black is kept. */
const maskProperties: INodeProperties[] = [
	{
		displayName: 'Mask Source',
		name: 'maskSource',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: showForFill },
		options: [
			{
				name: 'Binary Field',
				value: 'binary',
				description: 'A mask image produced by an earlier node',
			},
			{
				name: 'Image Transparency',
				value: 'alpha',
				description: 'Repaint the transparent part of the image itself (a PNG or WebP with a hole erased); no mask file needed',
			},
			{
				name: 'Rectangles',
				value: 'rectangles',
				description: 'Repaint one or more rectangles, in pixels or percent of the image; no mask file needed',
			},
			{
				name: 'URL',
				value: 'url',
				description: 'A public http(s) link to the mask, or a data: URI',
			},
		],
		default: 'binary',
	},
	{
		displayName: 'Rectangles to Repaint',
		name: 'maskRectangles',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add rectangle',
		default: {},
		displayOptions: { show: { ...showForFill, maskSource: ['rectangles'] } },
		description: 'Areas of the image to repaint; together they form the mask',
		options: [
			{
				displayName: 'Rectangle',
				name: 'rectangle',
				values: [
					{
						displayName: 'Height',
						name: 'height',
						type: 'number',
						default: 50,
						description: 'Height of the rectangle',
					},
					{
						displayName: 'Left',
						name: 'left',
						type: 'number',
						default: 25,
						description: 'Distance from the left edge of the image',
					},
					{
						displayName: 'Top',
						name: 'top',
						type: 'number',
						default: 25,
						description: 'Distance from the top edge of the image',
					},
					{
						displayName: 'Unit',
						name: 'unit',
						type: 'options',
						options: [
							{ name: 'Percent of the Image', value: 'percent' },
							{ name: 'Pixels', value: 'px' },
						],
						default: 'percent',
					},
					{
						displayName: 'Width',
						name: 'width',
						type: 'number',
						default: 50,
						description: 'Width of the rectangle',
					},
				],
			},
		],
	},
	{
		displayName: 'Mask Binary Field',
		name: 'maskBinaryProperty',
		type: 'string',
		required: true,
		default: 'mask',
		displayOptions: { show: { ...showForFill, maskSource: ['binary'] } },
		hint: 'White pixels are repainted, black pixels are kept. Same width and height as the image.',
		description: 'Binary field of each input item that holds the black-and-white mask',
	},
	{
		displayName: 'Mask URL',
		name: 'maskUrl',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'https://example.com/mask.png',
		displayOptions: { show: { ...showForFill, maskSource: ['url'] } },
		description: 'Link to the black-and-white mask: white is repainted, black is kept. Must have the same width and height as the image.',
	},
];

const optionProperties: INodeProperties = {
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add option',
	default: {},
	displayOptions: { show: showForFill },
	options: [
		concurrencyOption(
			"How many items are sent to fal at once. fal runs 2 requests at once on a new account and up to 40 as you buy credits; requests beyond your limit just wait in fal's queue. Read from the first item.",
		),
		fillResult.dropNsfw,
		{
			displayName: 'Enhance Prompt',
			name: 'enhancePrompt',
			type: 'boolean',
			default: false,
			description: 'Whether fal should rewrite the prompt into a more detailed one before generating',
		},
		{
			displayName: 'Fit Mask to Image',
			name: 'fitMask',
			type: 'boolean',
			default: false,
			description: 'Whether to stretch a mask of another size to the image. Off by default, because a mask of the wrong size is usually the wrong mask.',
		},
		{
			displayName: 'Grow Mask (Px)',
			name: 'growMask',
			type: 'number',
			default: 0,
			typeOptions: { minValue: 0, maxValue: 4096, numberPrecision: 0 },
			description: 'Widen the repainted area by this many pixels on every side, which gives the model room to blend the new content in',
		},
		{
			displayName: 'Invert Mask',
			name: 'invertMask',
			type: 'boolean',
			default: false,
			description: 'Whether to swap the mask: repaint what it marks as kept, keep what it marks for repainting',
		},
		{
			displayName: 'Mask Threshold',
			name: 'maskThreshold',
			type: 'number',
			default: 128,
			typeOptions: { minValue: 0, maxValue: 255, numberPrecision: 0 },
			description: 'Grey and coloured masks become pure black and white: pixels at least this bright are repainted. For Image Transparency: pixels less opaque than this are repainted.',
		},
		{
			displayName: 'Number of Images',
			name: 'numImages',
			type: 'number',
			default: 1,
			typeOptions: { minValue: MIN_IMAGES, maxValue: MAX_IMAGES, numberPrecision: 0 },
			description: `How many variations to generate (${MIN_IMAGES}–${MAX_IMAGES}). Each becomes its own output item, and each is billed.`,
		},
		fillResult.outputMode,
		fillResult.outputBinaryProperty,
		{
			displayName: 'Output Format',
			name: 'outputFormat',
			type: 'options',
			options: [
				{ name: 'JPEG', value: 'jpeg', description: 'Smaller files' },
				{ name: 'PNG', value: 'png', description: 'Lossless; the kept part stays exactly as it was' },
			],
			default: 'jpeg',
			description: 'File format of the generated images',
		},
		{
			displayName: 'Return Data URI (Sync Mode)',
			name: 'syncMode',
			type: 'boolean',
			default: false,
			description: "Whether fal should return the images inline as data URIs instead of links. The images are then not kept in your fal request history.",
		},
		{
			displayName: 'Return Mask',
			name: 'returnMask',
			type: 'boolean',
			default: false,
			displayOptions: onlyWhenWaiting,
			description: 'Whether to add the mask that was sent to fal to each output item, in binary field "mask", to see exactly what was repainted',
		},
		{
			displayName: 'Safety Tolerance',
			name: 'safetyTolerance',
			type: 'options',
			options: [
				{ name: '1 (Most Strict)', value: '1' },
				{ name: '2 (Default)', value: '2' },
				{ name: '3', value: '3' },
				{ name: '4', value: '4' },
				{ name: '5', value: '5' },
				{ name: '6 (Most Permissive)', value: '6' },
			],
			default: '2',
			description: 'How strictly fal filters the generated images',
		},
		{
			displayName: 'Seed',
			name: 'seed',
			type: 'number',
			default: 0,
			typeOptions: { minValue: 0, maxValue: MAX_SEED, numberPrecision: 0 },
			description: 'Same seed, prompt and inputs give the same image. Leave the option out for a random seed; the seed used is returned in the output.',
		},
		fillResult.timeout,
		{
			displayName: 'Webhook URL',
			name: 'webhookUrl',
			type: 'string',
			default: '',
			placeholder: 'e.g. {{ $execution.resumeUrl }}',
			displayOptions: { show: { '/operation': ['submit'] } },
			description: "URL fal calls (POST) when the request ends. Use a Wait node's resume URL to let the workflow sleep until fal is done, then Get Result.",
		},
	],
};

export const fillProperties: INodeProperties[] = [
	{
		displayName: 'Prompt',
		name: 'prompt',
		type: 'string',
		required: true,
		default: '',
		placeholder: 'e.g. a red vintage bicycle leaning against the wall',
		typeOptions: { rows: 3 },
		displayOptions: { show: showForFill },
		description: 'What to paint into the masked (white) part of the image',
	},
	...imageProperties,
	...maskProperties,
	optionProperties,
];
