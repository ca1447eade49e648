import {
	MAX_IMAGES,
	MAX_SEED,
	MIN_IMAGES,
	OUTPUT_FORMATS,
	SAFETY_TOLERANCES,
	type OutputFormat,
	type SafetyTolerance,
} from '../../constants';
import { InputProblem } from '../../errors/InputProblem';
import {
	parseBoolean,
	parseEnum,
	parseFieldName,
	parseTimeoutSeconds,
	parseUrl,
	parseWholeNumber,
	toNumber,
	truncate,
} from '../parse';
import type { MaskSource } from '../../images/inputMask';
import type { PictureSource } from '../../images/pictures';
import type { MaskOptions, Rectangle } from '../../masks';
import type { OutputMode } from '../../output/outputItems';

const OUTPUT_MODES: readonly OutputMode[] = ['binary', 'url'];

/** The node parameters of one item, as n8n resolved them (expressions may yield anything). */
export interface RawFillParameters {
	prompt: unknown;
	imageSource: unknown;
	imageBinaryProperty: unknown;
	imageUrl: unknown;
	maskSource: unknown;
	maskBinaryProperty: unknown;
	maskUrl: unknown;
	maskRectangles?: unknown;
	options: Record<string, unknown>;
}

/** One item's validated settings: every value is of the type and range fal accepts. */
export interface FillSettings {
	prompt: string;
	image: PictureSource;
	mask: MaskSource;
	maskOptions: MaskOptions;
	/** Return the mask sent to fal in the output items' binary field "mask". */
	returnMask: boolean;
	seed?: number;
	numImages: number;
	outputFormat: OutputFormat;
	safetyTolerance: SafetyTolerance;
	enhancePrompt: boolean;
	syncMode: boolean;
	dropNsfw: boolean;
	outputMode: OutputMode;
	outputBinaryProperty: string;
	timeoutMs: number;
}


/**
 * Turns one item's raw parameters into settings, or throws an InputProblem naming the
 * parameter. As an AI agent's tool the node takes and returns links only: binary data
 * cannot cross the tool boundary, and a data URI would flood the agent's context.
 */
export function parseFillSettings(raw: RawFillParameters, mode: { tool?: boolean } = {}): FillSettings {
	const options = raw.options ?? {};
	if (mode.tool) {
		const overrides = toolOverrides(raw);
		return { ...parseFillSettings(raw), ...overrides };
	}
	return {
		prompt: parsePrompt(raw.prompt),
		image: parsePictureSource('image', raw.imageSource, raw.imageBinaryProperty, raw.imageUrl),
		mask: parseMaskSource(raw),
		maskOptions: {
			invert: parseBoolean('Invert Mask', options.invertMask),
			fit: parseBoolean('Fit Mask to Image', options.fitMask) ? 'stretch' : 'none',
			threshold: parseWholeNumber('Mask Threshold', options.maskThreshold, 128, 0, 255),
			grow: parseWholeNumber('Grow Mask (Px)', options.growMask, 0, 0, 4096),
		},
		returnMask: parseBoolean('Return Mask', options.returnMask),
		seed: parseSeed(options.seed),
		numImages: parseNumImages(options.numImages),
		outputFormat: parseEnum('Output Format', options.outputFormat, OUTPUT_FORMATS, 'jpeg'),
		safetyTolerance: parseEnum('Safety Tolerance', stringify(options.safetyTolerance), SAFETY_TOLERANCES, '2'),
		enhancePrompt: parseBoolean('Enhance Prompt', options.enhancePrompt),
		syncMode: parseBoolean('Return Data URI (Sync Mode)', options.syncMode),
		dropNsfw: parseBoolean('Drop NSFW Images', options.dropNsfw),
		outputMode: parseEnum('Output', options.outputMode, OUTPUT_MODES, 'binary'),
		outputBinaryProperty: parseFieldName('Output Binary Field', options.outputBinaryProperty ?? 'data'),
		timeoutMs: parseTimeoutSeconds(options.timeout) * 1000,
	};
}

function toolOverrides(raw: RawFillParameters): Partial<FillSettings> {
	for (const [what, source] of [['Image', raw.imageSource], ['Mask', raw.maskSource]] as const) {
		if (source !== 'url') {
			throw new InputProblem(
				`As an AI agent's tool this node needs the ${what.toLowerCase()} as a URL`,
				`Set "${what} Source" to URL and fill "${what} URL" with {{ $fromAI('${what.toLowerCase()}_url', 'public link to the ${what.toLowerCase()}') }}; agents cannot pass binary files.`,
			);
		}
	}
	return { outputMode: 'url', syncMode: false };
}

/** A webhook fal calls when a submitted request ends (for example a Wait node's resume URL). */
export function parseWebhookUrl(value: unknown): string | undefined {
	if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return undefined;
	const url = parseUrl('Webhook URL', value);
	if (url.startsWith('data:')) throw new InputProblem('"Webhook URL" must be an http(s) link', 'Use a link fal can POST to, such as {{ $execution.resumeUrl }} of a Wait node.');
	return url;
}

function parsePrompt(value: unknown): string {
	if (typeof value !== 'string' || value.trim() === '') {
		throw new InputProblem(
			'The prompt is empty',
			'Describe what to paint into the white part of the mask in "Prompt". If it comes from an expression, check that the expression gives text for this item.',
		);
	}
	return value;
}

function parseMaskSource(raw: RawFillParameters): MaskSource {
	if (raw.maskSource === 'alpha' || raw.maskSource === 'rectangles') {
		if (raw.imageSource === 'url') {
			throw new InputProblem(
				`"Mask Source" "${raw.maskSource === 'alpha' ? 'Image Transparency' : 'Rectangles'}" needs the image as a binary field`,
				'The mask is made from the image itself, so the node must have its file. Read the image in an earlier node (for example "HTTP Request" with response format File) and set "Image Source" to "Binary Field".',
			);
		}
		if (raw.maskSource === 'alpha') return { kind: 'alpha' };
		return { kind: 'rectangles', rectangles: parseRectangles(raw.maskRectangles) };
	}
	return parsePictureSource('mask', raw.maskSource, raw.maskBinaryProperty, raw.maskUrl);
}

/** The fixedCollection's `{ rectangle: [...] }`; values are checked against the image by the mask library. */
function parseRectangles(value: unknown): Rectangle[] {
	const list = (value as { rectangle?: unknown } | undefined)?.rectangle;
	if (!Array.isArray(list) || list.length === 0) {
		throw new InputProblem('No rectangles to repaint were given', 'Add at least one rectangle under "Rectangles to Repaint".');
	}
	return list.map((entry: Record<string, unknown>) => ({
		left: toNumber(entry.left) ?? Number.NaN,
		top: toNumber(entry.top) ?? Number.NaN,
		width: toNumber(entry.width) ?? Number.NaN,
		height: toNumber(entry.height) ?? Number.NaN,
		unit: (entry.unit === undefined ? 'percent' : entry.unit) as Rectangle['unit'],
	}));
}

function parsePictureSource(
	what: 'image' | 'mask',
	source: unknown,
	field: unknown,
	url: unknown,
): PictureSource {
	const label = what === 'image' ? 'Image' : 'Mask';
	if (source === 'url') return { kind: 'url', url: parseUrl(`${label} URL`, url) };
	if (source === undefined || source === 'binary') {
		return { kind: 'binary', field: parseFieldName(`${label === 'Image' ? 'Input' : 'Mask'} Binary Field`, field) };
	}
	throw new InputProblem(
		`"${label} Source" is "${String(source)}", which this node does not know`,
		`Choose "Binary Field" or "URL" in "${label} Source".`,
	);
}

function parseSeed(value: unknown): number | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	const seed = toNumber(value);
	if (seed === undefined || !Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
		throw new InputProblem(
			`The seed ${truncate(String(value))} is not a whole number from 0 to ${MAX_SEED}`,
			'Enter a whole number in "Seed", or remove the option to let fal pick one.',
		);
	}
	return seed;
}

function parseNumImages(value: unknown): number {
	if (value === undefined || value === null || value === '') return 1;
	const count = toNumber(value);
	if (count === undefined || !Number.isInteger(count) || count < MIN_IMAGES || count > MAX_IMAGES) {
		throw new InputProblem(
			`"Number of Images" is ${truncate(String(value))}, but fal makes ${MIN_IMAGES} to ${MAX_IMAGES} images per request`,
			`Enter a whole number from ${MIN_IMAGES} to ${MAX_IMAGES} in "Number of Images". For more variations, send more items.`,
		);
	}
	return count;
}

function stringify(value: unknown): unknown {
	return typeof value === 'number' ? String(value) : value;
}

