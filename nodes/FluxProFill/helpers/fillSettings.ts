import type { IExecuteFunctions } from 'n8n-workflow';

import { InputProblem } from '../errors/InputProblem';
import type { PictureSource } from '../images/pictures';
import type { MaskOptions, Rectangle } from '../masks';
import type { MaskSource } from '../masks/maskPreparer';
import { readOptions } from './itemParameters';
import {
	parseBoolean,
	parseEnum,
	parseFieldName,
	parseTimeoutMs,
	parseUrl,
	parseWholeNumber,
	toNumber,
	truncate,
} from './parse';
import {
	DEFAULTS,
	EXPAND_ANCHORS,
	EXPAND_DEFAULTS,
	EXPAND_LABELS,
	EXPAND_MODES,
	LABELS,
	LIMITS,
	OUTPUT_FORMATS,
	OUTPUT_MODES,
	q,
	SAFETY_TOLERANCES,
	type OutputFormat,
	type OutputMode,
	type SafetyTolerance,
	TEXT_MASK_GROW_DEFAULT,
} from './spec';

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
	maskPrompt?: unknown;
	maskNegativePrompt?: unknown;
	expand?: Record<string, unknown>;
	options: Record<string, unknown>;
}

/** The node parameters of a fill or submit item, as n8n resolved them. */
export function readRawFillParameters(
	ctx: IExecuteFunctions,
	itemIndex: number,
): RawFillParameters {
	const get = (name: string, fallback: unknown = undefined) =>
		ctx.getNodeParameter(name, itemIndex, fallback);
	const imageSource = get('imageSource', 'binary');
	const maskSource = get('maskSource', 'binary');
	return {
		prompt: get('prompt', ''),
		imageSource,
		imageBinaryProperty:
			imageSource === 'binary'
				? get('imageBinaryProperty', DEFAULTS.imageBinaryProperty)
				: undefined,
		imageUrl: imageSource === 'url' ? get('imageUrl', '') : undefined,
		maskSource,
		maskBinaryProperty:
			maskSource === 'binary' ? get('maskBinaryProperty', DEFAULTS.maskBinaryProperty) : undefined,
		maskUrl: maskSource === 'url' ? get('maskUrl', '') : undefined,
		maskRectangles: maskSource === 'rectangles' ? get('maskRectangles', {}) : undefined,
		maskPrompt: maskSource === 'text' ? get('maskPrompt', '') : undefined,
		maskNegativePrompt: maskSource === 'text' ? get('maskNegativePrompt', '') : undefined,
		expand: maskSource === 'expand' ? readExpandParameters(get) : undefined,
		options: readOptions(ctx, itemIndex),
	};
}

/** The Expand Canvas parameters the chosen way of sizing shows (n8n refuses to read hidden ones). */
function readExpandParameters(
	get: (name: string, fallback?: unknown) => unknown,
): Record<string, unknown> {
	const expandBy = get('expandBy', EXPAND_DEFAULTS.mode);
	const shown =
		expandBy === 'aspectRatio'
			? (['expandAspectRatio', 'expandAnchor'] as const)
			: (['expandTop', 'expandRight', 'expandBottom', 'expandLeft'] as const);
	return {
		expandBy,
		expandOverlap: get('expandOverlap', EXPAND_DEFAULTS.overlap),
		...Object.fromEntries(shown.map((name) => [name, get(name, undefined)])),
	};
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
export function parseFillSettings(
	raw: RawFillParameters,
	mode: { tool?: boolean } = {},
): FillSettings {
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
			invert: parseBoolean(LABELS.invertMask, options.invertMask),
			fit: parseBoolean(LABELS.fitMask, options.fitMask) ? 'stretch' : 'none',
			threshold: parseWholeNumber(
				LABELS.maskThreshold,
				options.maskThreshold,
				DEFAULTS.maskThreshold,
				LIMITS.maskThreshold,
			),
			grow: parseWholeNumber(
				LABELS.growMask,
				options.growMask,
				raw.maskSource === 'text' ? TEXT_MASK_GROW_DEFAULT : DEFAULTS.growMask,
				LIMITS.growMask,
			),
		},
		returnMask: parseBoolean(LABELS.returnMask, options.returnMask),
		seed: parseSeed(options.seed),
		numImages: parseNumImages(options.numImages),
		outputFormat: parseEnum(
			LABELS.outputFormat,
			options.outputFormat,
			OUTPUT_FORMATS,
			DEFAULTS.outputFormat,
		),
		safetyTolerance: parseEnum(
			LABELS.safetyTolerance,
			stringify(options.safetyTolerance),
			SAFETY_TOLERANCES,
			DEFAULTS.safetyTolerance,
		),
		enhancePrompt: parseBoolean(LABELS.enhancePrompt, options.enhancePrompt),
		syncMode: parseBoolean(LABELS.syncMode, options.syncMode),
		dropNsfw: parseBoolean(LABELS.dropNsfw, options.dropNsfw),
		outputMode: parseEnum(LABELS.outputMode, options.outputMode, OUTPUT_MODES, DEFAULTS.outputMode),
		outputBinaryProperty: parseFieldName(
			LABELS.outputBinaryProperty,
			options.outputBinaryProperty ?? DEFAULTS.outputBinaryProperty,
		),
		timeoutMs: parseTimeoutMs(options.timeout),
	};
}

function toolOverrides(raw: RawFillParameters): Partial<FillSettings> {
	const sources = [
		['image', raw.imageSource, LABELS.imageSource, LABELS.imageUrl],
		['mask', raw.maskSource, LABELS.maskSource, LABELS.maskUrl],
	] as const;
	for (const [what, source, sourceLabel, urlLabel] of sources) {
		// Describe It needs no file: the agent gives the words, fal makes the mask.
		if (source !== 'url' && !(what === 'mask' && source === 'text')) {
			throw new InputProblem(
				`As an AI agent's tool this node needs the ${what} as a URL`,
				`Set ${q(sourceLabel)} to ${q(LABELS.sourceUrl)} and fill ${q(urlLabel)} with {{ $fromAI('${what}_url', 'public link to the ${what}') }}; agents cannot pass binary files.${what === 'mask' ? ` Or set it to ${q(LABELS.sourceText)} and fill ${q(LABELS.maskPrompt)} with {{ $fromAI('mask_prompt', 'what to repaint, e.g. the sky') }}.` : ''}`,
			);
		}
	}
	return { outputMode: 'url', syncMode: false };
}

/** A webhook fal calls when a submitted request ends (for example a Wait node's resume URL). */
export function parseWebhookUrl(value: unknown): string | undefined {
	if (value === undefined || value === null || (typeof value === 'string' && value.trim() === ''))
		return undefined;
	const url = parseUrl(LABELS.webhookUrl, value);
	if (url.startsWith('data:')) {
		throw new InputProblem(
			`${q(LABELS.webhookUrl)} must be an http(s) link`,
			'Use a link fal can POST to, such as {{ $execution.resumeUrl }} of a Wait node.',
		);
	}
	return url;
}

function parsePrompt(value: unknown): string {
	// An expression may give a number ("1984" from a sheet): that is text to paint, not nothing.
	if (typeof value === 'number' && Number.isFinite(value)) return String(value);
	if (typeof value !== 'string' || value.trim() === '') {
		throw new InputProblem(
			'The prompt is empty',
			'Describe what to paint into the white part of the mask in "Prompt". If it comes from an expression, check that the expression gives text for this item.',
		);
	}
	return value;
}

function parseMaskSource(raw: RawFillParameters): MaskSource {
	if (raw.maskSource === 'text') {
		const negative = optionalText(raw.maskNegativePrompt);
		return {
			kind: 'text',
			words: requiredText(
				raw.maskPrompt,
				LABELS.maskPrompt,
				'Describe what to repaint in a few words, such as "the sky" or "the shirt"; fal finds it in the image and makes the mask.',
			),
			...(negative ? { negative } : {}),
		};
	}
	if (
		raw.maskSource === 'alpha' ||
		raw.maskSource === 'rectangles' ||
		raw.maskSource === 'expand'
	) {
		if (raw.imageSource === 'url') {
			const label = {
				alpha: LABELS.sourceAlpha,
				rectangles: LABELS.sourceRectangles,
				expand: LABELS.sourceExpand,
			}[raw.maskSource];
			throw new InputProblem(
				`${q(LABELS.maskSource)} ${q(label)} needs the image as a binary field`,
				`The mask is made from the image itself, so the node must have its file. Read the image in an earlier node (for example "HTTP Request" with response format File) and set ${q(LABELS.imageSource)} to ${q(LABELS.sourceBinary)}.`,
			);
		}
		if (raw.maskSource === 'alpha') return { kind: 'alpha' };
		if (raw.maskSource === 'expand') return parseExpand(raw.expand ?? {});
		return { kind: 'rectangles', rectangles: parseRectangles(raw.maskRectangles) };
	}
	return parsePictureSource('mask', raw.maskSource, raw.maskBinaryProperty, raw.maskUrl);
}

/** Expand Canvas: the arithmetic and its checks are planExpansion's, once the image's size is known. */
function parseExpand(values: Record<string, unknown>): MaskSource {
	const mode = parseEnum(EXPAND_LABELS.mode, values.expandBy, EXPAND_MODES, EXPAND_DEFAULTS.mode);
	const overlap = toNumber(values.expandOverlap ?? EXPAND_DEFAULTS.overlap) ?? Number.NaN;
	if (mode === 'aspectRatio') {
		return {
			kind: 'expand',
			overlap,
			sizing: {
				mode,
				ratio: String(values.expandAspectRatio ?? EXPAND_DEFAULTS.aspectRatio),
				anchor: parseEnum(
					EXPAND_LABELS.anchor,
					values.expandAnchor,
					EXPAND_ANCHORS,
					EXPAND_DEFAULTS.anchor,
				),
			},
		};
	}
	const side = (name: string) => toNumber(values[name] ?? 0) ?? Number.NaN;
	return {
		kind: 'expand',
		overlap,
		sizing: {
			mode,
			top: side('expandTop'),
			right: side('expandRight'),
			bottom: side('expandBottom'),
			left: side('expandLeft'),
		},
	};
}

function requiredText(value: unknown, label: string, howTo: string): string {
	const text = optionalText(value);
	if (text === undefined) throw new InputProblem(`${q(label)} is empty`, howTo);
	return text;
}

/** Text from a parameter or an expression; a number from a sheet is text too. */
function optionalText(value: unknown): string | undefined {
	if (typeof value === 'number' && Number.isFinite(value)) return String(value);
	if (typeof value !== 'string' || value.trim() === '') return undefined;
	return value.trim();
}

/** The fixedCollection's `{ rectangle: [...] }`; the mask library checks them (none, or out of the image). */
function parseRectangles(value: unknown): Rectangle[] {
	const list = (value as { rectangle?: unknown } | undefined)?.rectangle;
	if (!Array.isArray(list)) return [];
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
	const labels =
		what === 'image'
			? { source: LABELS.imageSource, url: LABELS.imageUrl, field: LABELS.imageBinaryProperty }
			: { source: LABELS.maskSource, url: LABELS.maskUrl, field: LABELS.maskBinaryProperty };
	if (source === 'url') return { kind: 'url', url: parseUrl(labels.url, url) };
	if (source === undefined || source === 'binary') {
		return { kind: 'binary', field: parseFieldName(labels.field, field) };
	}
	throw new InputProblem(
		`${q(labels.source)} is "${String(source)}", which this node does not know`,
		`Choose ${q(LABELS.sourceBinary)} or ${q(LABELS.sourceUrl)} in ${q(labels.source)}.`,
	);
}

function parseSeed(value: unknown): number | undefined {
	if (value === undefined || value === null || value === '') return undefined;
	const seed = toNumber(value);
	const { min, max } = LIMITS.seed;
	if (seed === undefined || !Number.isInteger(seed) || seed < min || seed > max) {
		throw new InputProblem(
			`The seed ${truncate(String(value))} is not a whole number from ${min} to ${max}`,
			`Enter a whole number in ${q(LABELS.seed)}, or remove the option to let fal pick one.`,
		);
	}
	return seed;
}

function parseNumImages(value: unknown): number {
	if (value === undefined || value === null || value === '') return DEFAULTS.numImages;
	const count = toNumber(value);
	const { min, max } = LIMITS.numImages;
	if (count === undefined || !Number.isInteger(count) || count < min || count > max) {
		throw new InputProblem(
			`${q(LABELS.numImages)} is ${truncate(String(value))}, but fal makes ${min} to ${max} images per request`,
			`Enter a whole number from ${min} to ${max} in ${q(LABELS.numImages)}. For more variations, send more items.`,
		);
	}
	return count;
}

function stringify(value: unknown): unknown {
	return typeof value === 'number' ? String(value) : value;
}
