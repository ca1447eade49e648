import type { IExecuteFunctions } from 'n8n-workflow';

import {
	DEFAULTS,
	EXPAND_ANCHORS,
	EXPAND_MODES,
	FAL_REQUEST_ID,
	LABELS as L,
	LIMITS,
	OUTPUT_FORMATS,
	OUTPUT_MODES,
	RETURNED_MASK_FIELD,
	SAFETY_TOLERANCES,
	type OutputFormat,
	type OutputMode,
	type SafetyTolerance,
} from '../common/constants';
import { expand as expandWords, masks as maskWords, parameters as words } from '../common/messages';
import { parseAspectRatio, type ExpandSizing } from '../pictures/expand';
import type { MaskOptions, Rectangle } from '../pictures/masks';

/*
 * The parameter boundary: reading a parameter and checking it is one step that returns
 * typed settings, or an InputProblem naming the parameter. Expressions can give anything;
 * everything past this file trusts the types.
 */

export type PictureSource = { kind: 'binary'; field: string } | { kind: 'url'; url: string };

/** Where the mask comes from. */
export type MaskSource =
	| PictureSource
	| { kind: 'alpha' }
	| { kind: 'rectangles'; rectangles: Rectangle[] }
	| { kind: 'text'; words: string; negative?: string }
	| { kind: 'expand'; sizing: ExpandSizing; overlap: number };

export interface ResultSettings {
	outputMode: OutputMode;
	outputBinaryProperty: string;
	dropNsfw: boolean;
	timeoutMs: number;
}

/** One Fill or Submit item's settings: every value of the type and range fal accepts. */
export interface FillSettings extends ResultSettings {
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
	/** The user's own FLUX.1 [pro] finetune: the fill-finetuned endpoint. */
	finetune?: { id: string; strength: number };
	webhookUrl?: string;
}

type Options = Record<string, unknown>;

const options = (ctx: IExecuteFunctions, itemIndex: number): Options =>
	(ctx.getNodeParameter('options', itemIndex, {}) ?? {}) as Options;

/** n8n runs a `usableAsTool` node for an AI agent as a copy whose type name ends in "Tool". */
export const isToolMode = (ctx: IExecuteFunctions) => ctx.getNode().type.endsWith('Tool');

/**
 * One item's Fill or Submit settings. As an AI agent's tool the node takes and returns
 * links only: binary data cannot cross the tool boundary, and a data URI would flood the
 * agent's context.
 */
export function readFillSettings(ctx: IExecuteFunctions, itemIndex: number): FillSettings {
	const get = (name: string, fallback: unknown = undefined) =>
		ctx.getNodeParameter(name, itemIndex, fallback);
	const opts = options(ctx, itemIndex);
	const imageSource = get('imageSource', 'binary');
	const maskSource = get('maskSource', 'binary');
	const tool = isToolMode(ctx);
	if (tool) {
		if (imageSource !== 'url') throw words.toolNeedsUrl('image', L.imageSource, L.imageUrl);
		// Describe It needs no file: the agent gives the words, fal makes the mask.
		if (maskSource !== 'url' && maskSource !== 'text')
			throw words.toolNeedsUrl('mask', L.maskSource, L.maskUrl);
	}
	const image = pictureSource('image', imageSource, get);
	const result = resultSettings(opts, tool);
	const returnMask = boolean(L.returnMask, opts.returnMask);
	if (
		returnMask &&
		result.outputMode === 'binary' &&
		result.outputBinaryProperty === RETURNED_MASK_FIELD
	)
		throw words.maskFieldTaken();
	return {
		prompt: text(get('prompt', '')) ?? throwIt(words.emptyPrompt()),
		image,
		mask: maskSourceOf(maskSource, image, get),
		maskOptions: {
			invert: boolean(L.invertMask, opts.invertMask),
			fit: boolean(L.fitMask, opts.fitMask),
			threshold: wholeNumber(opts, 'maskThreshold'),
			grow: wholeNumber(
				opts,
				'growMask',
				maskSource === 'text' ? DEFAULTS.textMaskGrow : DEFAULTS.growMask,
			),
		},
		returnMask,
		seed: optionalNumber(opts.seed, LIMITS.seed, words.seed),
		numImages:
			optionalNumber(opts.numImages, LIMITS.numImages, words.numImages) ?? DEFAULTS.numImages,
		outputFormat: oneOf(L.outputFormat, opts.outputFormat, OUTPUT_FORMATS, DEFAULTS.outputFormat),
		safetyTolerance: oneOf(
			L.safetyTolerance,
			typeof opts.safetyTolerance === 'number'
				? String(opts.safetyTolerance)
				: opts.safetyTolerance,
			SAFETY_TOLERANCES,
			DEFAULTS.safetyTolerance,
		),
		enhancePrompt: boolean(L.enhancePrompt, opts.enhancePrompt),
		syncMode: tool ? false : boolean(L.syncMode, opts.syncMode),
		...result,
		...(isBlank(opts.webhookUrl) ? {} : { webhookUrl: webhookUrl(opts.webhookUrl) }),
		...finetune(opts),
	};
}

/** A Finetune ID chooses fal's fill-finetuned endpoint; its strength is always sent (fal has no default). */
function finetune(opts: Options): Pick<FillSettings, 'finetune'> {
	const id = text(opts.finetuneId)?.trim();
	if (!id) return {};
	const strength =
		optionalNumber(opts.finetuneStrength, LIMITS.finetuneStrength, words.finetuneStrength, false) ??
		DEFAULTS.finetuneStrength;
	return { finetune: { id, strength } };
}

/** Max Cost per Run (USD), read from the first item like Concurrency; undefined means no cap. */
export function readMaxCost(ctx: IExecuteFunctions): number | undefined {
	if (ctx.getInputData().length === 0) return undefined;
	return optionalNumber(options(ctx, 0).maxCostUsd, LIMITS.maxCostUsd, words.maxCost, false);
}

/** Get Status, Get Result, Cancel: the request and how its result comes back. */
export function readRequestSettings(ctx: IExecuteFunctions, itemIndex: number) {
	const opts = options(ctx, itemIndex);
	const result = resultSettings(opts, isToolMode(ctx));
	return {
		requestId: requestId(ctx.getNodeParameter('requestId', itemIndex, '')),
		logs: boolean(L.logs, opts.logs),
		...result,
	};
}

/** A node-level setting, read from the first item; nonsense is an error before anything is sent. */
export function readConcurrency(ctx: IExecuteFunctions): number {
	if (ctx.getInputData().length === 0) return DEFAULTS.concurrency;
	return wholeNumber(options(ctx, 0), 'concurrency');
}

/** As an AI agent's tool the node returns links only (`tool`); the option is still checked. */
function resultSettings(opts: Options, tool: boolean): ResultSettings {
	const outputMode = oneOf(L.outputMode, opts.outputMode, OUTPUT_MODES, DEFAULTS.outputMode);
	return {
		outputMode: tool ? 'url' : outputMode,
		outputBinaryProperty: fieldName(
			L.outputBinaryProperty,
			opts.outputBinaryProperty ?? DEFAULTS.outputBinaryProperty,
		),
		dropNsfw: boolean(L.dropNsfw, opts.dropNsfw),
		timeoutMs: timeoutMs(opts.timeout),
	};
}

type Get = (name: string, fallback?: unknown) => unknown;

function pictureSource(what: 'image' | 'mask', source: unknown, get: Get): PictureSource {
	const image = what === 'image';
	if (source === 'url')
		return { kind: 'url', url: url(image ? L.imageUrl : L.maskUrl, get(`${what}Url`, '')) };
	if (source === undefined || source === 'binary') {
		const name = image ? 'imageBinaryProperty' : 'maskBinaryProperty';
		const label = image ? L.imageBinaryProperty : L.maskBinaryProperty;
		return { kind: 'binary', field: fieldName(label, get(name, DEFAULTS[name])) };
	}
	throw words.unknownSource(image ? L.imageSource : L.maskSource, source);
}

const MADE_FROM_IMAGE = {
	alpha: L.sourceAlpha,
	rectangles: L.sourceRectangles,
	expand: L.sourceExpand,
};

/** Only the parameters the chosen source shows are read: n8n refuses to read hidden ones. */
function maskSourceOf(source: unknown, image: PictureSource, get: Get): MaskSource {
	if (source === 'text') {
		const negative = text(get('maskNegativePrompt', ''))?.trim();
		return {
			kind: 'text',
			words: text(get('maskPrompt', ''))?.trim() ?? throwIt(words.emptyMaskPrompt()),
			...(negative ? { negative } : {}),
		};
	}
	if (source === 'alpha' || source === 'rectangles' || source === 'expand') {
		if (image.kind === 'url') throw words.needsImageFile(MADE_FROM_IMAGE[source]);
		if (source === 'alpha') return { kind: 'alpha' };
		if (source === 'rectangles')
			return { kind: 'rectangles', rectangles: rectangles(get('maskRectangles', {})) };
		return expandSource(get);
	}
	return pictureSource('mask', source, get);
}

function expandSource(get: Get): MaskSource {
	const mode = oneOf(
		L.expandBy,
		get('expandBy', DEFAULTS.expandBy),
		EXPAND_MODES,
		DEFAULTS.expandBy,
	);
	const rawOverlap = get('expandOverlap', DEFAULTS.expandOverlap);
	const overlap =
		optionalNumber(rawOverlap, LIMITS.expandOverlap, expandWords.overlap) ??
		throwIt(expandWords.overlap(rawOverlap));
	if (mode === 'aspectRatio') {
		const ratio = String(get('expandAspectRatio', DEFAULTS.expandAspectRatio) ?? '').trim();
		const anchor = oneOf(
			L.expandAnchor,
			get('expandAnchor', DEFAULTS.expandAnchor),
			EXPAND_ANCHORS,
			DEFAULTS.expandAnchor,
		);
		return {
			kind: 'expand',
			overlap,
			sizing: { mode, ratio: parseAspectRatio(ratio), text: ratio, anchor },
		};
	}
	const percent = mode === 'percent';
	const side = (name: 'top' | 'right' | 'bottom' | 'left') => {
		const raw = get(`expand${name[0].toUpperCase()}${name.slice(1)}`, 0);
		const value = number(raw ?? 0);
		if (value === undefined) throw expandWords.sideValue(name, percent, raw);
		if (value < 0) throw expandWords.sideNegative(name, percent, value);
		if (percent && value > LIMITS.expandPercent.max)
			throw expandWords.sidePercent(
				name,
				value,
				name === 'left' || name === 'right' ? 'width' : 'height',
			);
		return value;
	};
	return {
		kind: 'expand',
		overlap,
		sizing: {
			mode,
			top: side('top'),
			right: side('right'),
			bottom: side('bottom'),
			left: side('left'),
		},
	};
}

/** The fixedCollection's `{ rectangle: [...] }`, each checked on its own; against the image, later. */
function rectangles(value: unknown): Rectangle[] {
	const list = (value as { rectangle?: unknown } | undefined)?.rectangle;
	if (!Array.isArray(list) || list.length === 0) throw maskWords.noRectangles();
	return list.map((entry: Record<string, unknown>, index) => {
		const n = index + 1;
		const unit = entry.unit ?? 'percent';
		if (unit !== 'px' && unit !== 'percent') throw maskWords.rectangleUnit(n, unit);
		const unitName = unit === 'percent' ? 'percent' : 'pixels';
		const read = (field: 'left' | 'top' | 'width' | 'height') => {
			const found = number(entry[field]);
			if (found === undefined) throw maskWords.rectangleValue(n, field, entry[field], unitName);
			if (unit === 'percent' && (found < 0 || found > 100))
				throw maskWords.rectanglePercent(n, field, found);
			return found;
		};
		const rectangle = {
			left: read('left'),
			top: read('top'),
			width: read('width'),
			height: read('height'),
			unit,
		} as const;
		if (rectangle.width <= 0 || rectangle.height <= 0) {
			const what = rectangle.width <= 0 ? `width ${rectangle.width}` : `height ${rectangle.height}`;
			throw maskWords.rectangleEmpty(n, what, unitName);
		}
		return rectangle;
	});
}

function requestId(value: unknown): string {
	const id =
		typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
	if (id === '') throw words.emptyRequestId();
	if (!FAL_REQUEST_ID.test(id)) throw words.badRequestId(id);
	return id;
}

function webhookUrl(value: unknown): string {
	const link = url(L.webhookUrl, value);
	if (link.startsWith('data:')) throw words.webhookNotHttp();
	return link;
}

function url(label: string, value: unknown): string {
	const link = typeof value === 'string' ? value.trim() : '';
	if (link === '') throw words.emptyUrl(label);
	if (/^data:image\//i.test(link)) return link;
	let parsed: URL;
	try {
		parsed = new URL(link);
	} catch {
		throw words.invalidUrl(label, link);
	}
	if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
		throw words.urlScheme(label, parsed.protocol.replace(/:$/, ''));
	return link;
}

function fieldName(label: string, value: unknown): string {
	const name = typeof value === 'string' ? value.trim() : '';
	if (name === '') throw words.emptyField(label);
	return name;
}

/** The timeout in whole milliseconds: decimals from an expression are rounded, not refused. */
function timeoutMs(value: unknown): number {
	if (isBlank(value)) return DEFAULTS.timeoutSeconds * 1000;
	const seconds = number(value);
	if (seconds === undefined || seconds <= 0 || seconds > LIMITS.timeoutSeconds.max)
		throw words.timeout(value);
	return Math.round(seconds * 1000);
}

/** A whole-number option whose label, default and range are under its name in constants.ts. */
function wholeNumber(
	opts: Options,
	name: 'maskThreshold' | 'growMask' | 'concurrency',
	fallback: number = DEFAULTS[name],
): number {
	const range = LIMITS[name];
	const problem = (value: unknown) => words.wholeNumber(L[name], value, range);
	return optionalNumber(opts[name], range, problem) ?? fallback;
}

/** A number in `min`–`max` (a whole one unless `whole` is false); undefined when left blank. */
function optionalNumber(
	value: unknown,
	{ min, max }: { min: number; max: number },
	problem: (value: unknown) => Error,
	whole = true,
): number | undefined {
	if (isBlank(value)) return undefined;
	const found = number(value);
	if (found === undefined || (whole && !Number.isInteger(found)) || found < min || found > max)
		throw problem(value);
	return found;
}

function oneOf<T extends string>(
	label: string,
	value: unknown,
	allowed: readonly T[],
	fallback: T,
): T {
	if (isBlank(value)) return fallback;
	if ((allowed as readonly unknown[]).includes(value)) return value as T;
	throw words.enumValue(label, value, allowed);
}

function boolean(label: string, value: unknown): boolean {
	if (isBlank(value)) return false;
	if (typeof value === 'boolean') return value;
	if (value === 'true' || value === 'false') return value === 'true';
	throw words.boolean(label, value);
}

/** Text from a parameter or an expression; a number from a sheet ("1984") is text too. */
function text(value: unknown): string | undefined {
	if (typeof value === 'number' && Number.isFinite(value)) return String(value);
	return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** Expressions can give numbers as text ("3"); anything else that is not a finite number is not one. */
function number(value: unknown): number | undefined {
	const found = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
	return typeof found === 'number' && Number.isFinite(found) ? found : undefined;
}

function isBlank(value: unknown): boolean {
	return value === undefined || value === null || value === '';
}

function throwIt(error: Error): never {
	throw error;
}
