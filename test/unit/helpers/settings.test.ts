import type { INodeProperties } from 'n8n-workflow';

import {
	fillInputProperties,
	generationOptions,
	maskNeedsImageFileNotice,
	maskOptions,
	requestConcurrencyOption,
	resultOptions,
	returnMaskOption,
	timeoutOption,
} from '../../../nodes/FluxProFill/actions/descriptions';
import {
	DEFAULTS,
	LABELS as L,
	LIMITS,
	OUTPUT_FORMATS,
	OUTPUT_MODES,
	SAFETY_TOLERANCES,
} from '../../../nodes/FluxProFill/common/constants';
import {
	expand as expandWords,
	masks as maskWords,
	parameters as words,
} from '../../../nodes/FluxProFill/common/messages';
import {
	isToolMode,
	readConcurrency,
	readFillSettings,
	readRequestSettings,
	type MaskSource,
	type PictureSource,
} from '../../../nodes/FluxProFill/helpers/settings';
import { parseAspectRatio } from '../../../nodes/FluxProFill/pictures/expand';
import { expectProblem, problemOf } from '../kit';
import { fakeContext, TOOL_TYPE } from './fakeContext';

const ID = '764cabcf-b745-4b3e-ae38-1200304cf45b';
const BASE = { prompt: 'a red bicycle' };

/** One item's Fill settings from these parameters and options. */
const fill = (
	parameters: Record<string, unknown> = {},
	options: Record<string, unknown> = {},
	nodeType?: string,
) =>
	readFillSettings(
		fakeContext({ parameters: { ...BASE, ...parameters }, options, nodeType }).ctx,
		0,
	);
const withOptions = (options: Record<string, unknown>) => fill({}, options);
const request = (requestId: unknown, options: Record<string, unknown> = {}, nodeType?: string) =>
	readRequestSettings(fakeContext({ parameters: { requestId }, options, nodeType }).ctx, 0);

describe('readFillSettings: the defaults', () => {
	it('applies the defaults when nothing but the prompt is set', () => {
		expect(fill()).toEqual({
			prompt: 'a red bicycle',
			image: { kind: 'binary', field: DEFAULTS.imageBinaryProperty } satisfies PictureSource,
			mask: { kind: 'binary', field: DEFAULTS.maskBinaryProperty } satisfies MaskSource,
			maskOptions: {
				invert: false,
				fit: false,
				threshold: DEFAULTS.maskThreshold,
				grow: DEFAULTS.growMask,
			},
			returnMask: false,
			seed: undefined,
			numImages: DEFAULTS.numImages,
			outputFormat: DEFAULTS.outputFormat,
			safetyTolerance: DEFAULTS.safetyTolerance,
			enhancePrompt: false,
			syncMode: false,
			outputMode: DEFAULTS.outputMode,
			outputBinaryProperty: DEFAULTS.outputBinaryProperty,
			dropNsfw: false,
			timeoutMs: DEFAULTS.timeoutSeconds * 1000,
		});
	});

	// The panel and the code each name a default: an option added and left at the panel's
	// default must change nothing. Not the seed: adding it asks for that seed.
	const panelOptions = [...generationOptions, ...maskOptions, ...resultOptions, returnMaskOption];

	it.each(panelOptions.filter((option) => option.name !== 'seed').map((o) => [o.name, o]))(
		"an option added at the panel's default (%s) is the option left out",
		(_name, option) => {
			expect(withOptions({ [option.name]: option.default })).toEqual(fill());
		},
	);

	it("the timeout and concurrency at the panel's defaults are the options left out", () => {
		expect(withOptions({ timeout: timeoutOption('').default })).toEqual(fill());
		const concurrency = (options: Record<string, unknown>) =>
			readConcurrency(fakeContext({ options }).ctx);
		expect(concurrency({ concurrency: requestConcurrencyOption.default })).toBe(concurrency({}));
	});

	// Text to fill in (the prompt, a link, words) has an empty default: it must be given.
	it.each(
		fillInputProperties
			.filter((property) => ![undefined, ''].includes(property.default as string))
			.filter((property) => property.type !== 'fixedCollection')
			.map((property) => [property.name, property]),
	)("the parameter %s at the panel's default is the parameter left out", (_name, property) => {
		// Where it is shown: the first value of each parameter it is shown for.
		const shownBy = Object.fromEntries(
			Object.entries(property.displayOptions?.show ?? {}).map(([name, values]) => [
				name,
				(values as unknown[])[0],
			]),
		);
		expect(fill({ ...shownBy, [property.name]: property.default })).toEqual(fill(shownBy));
	});
});

describe('readFillSettings: your own finetune', () => {
	it('a Finetune ID chooses the finetune, with the default strength unless one is given', () => {
		expect(withOptions({ finetuneId: ` ${ID} ` }).finetune).toEqual({
			id: ID,
			strength: DEFAULTS.finetuneStrength,
		});
		expect(withOptions({ finetuneId: ID, finetuneStrength: '0.5' }).finetune).toEqual({
			id: ID,
			strength: 0.5,
		});
	});

	it('no Finetune ID (empty or blank) is the plain fill, whatever the strength says', () => {
		for (const finetuneId of [undefined, '', '   '])
			expect(withOptions({ finetuneId, finetuneStrength: 99 }).finetune).toBeUndefined();
	});

	it.each([-0.1, 2.01, 'strong', Number.NaN])(
		'refuses a strength of %s, naming the option',
		async (value) => {
			const problem = await problemOf(() =>
				withOptions({ finetuneId: ID, finetuneStrength: value }),
			);
			expect(problem.message).toMatch(new RegExp(L.finetuneStrength));
		},
	);
});

describe('readFillSettings: what the panel offers', () => {
	/** Values the panel lets through for an option, and values an expression could give it instead. */
	function valuesOf(option: INodeProperties): { good: unknown[]; bad: unknown[] } {
		if (option.type === 'options')
			return {
				good: (option.options ?? []).map((choice) => (choice as { value: unknown }).value),
				bad: ['nonsense', 7],
			};
		if (option.type === 'boolean') return { good: [true, false, 'true', 'false'], bad: ['yes', 1] };
		if (option.type === 'number') {
			const { minValue = 0, maxValue = 1e9 } = option.typeOptions ?? {};
			return {
				good: [minValue, maxValue, String(maxValue)],
				bad: [minValue - 1, maxValue + 1, 'abc', Number.NaN, Infinity],
			};
		}
		return { good: [option.default, 'other'], bad: ['', '   ', 42] };
	}

	// The finetune's two options act together: below.
	const options = [
		...generationOptions,
		...maskOptions,
		...resultOptions,
		returnMaskOption,
		timeoutOption(''),
	].filter((option) => !option.name.startsWith('finetune'));

	it.each(options.map((option) => [option.name, option]))(
		'accepts what the panel lets through for %s, and refuses the rest naming the option',
		async (_name, option) => {
			const { good, bad } = valuesOf(option);
			for (const value of good) expect(() => withOptions({ [option.name]: value })).not.toThrow();
			for (const value of bad) {
				const problem = await problemOf(() => withOptions({ [option.name]: value }));
				expect(`${problem.message} ${problem.description}`).toMatch(
					new RegExp(option.displayName.replace(/[()]/g, '\\$&'), 'i'),
				);
			}
		},
	);

	it("shows its notice exactly when the mask source needs the image file that isn't there", async () => {
		const choices = (name: string) =>
			fillInputProperties
				.find((property) => property.name === name)!
				.options!.map((choice) => (choice as { value: string }).value);
		const shows = maskNeedsImageFileNotice.displayOptions!.show!;
		for (const imageSource of choices('imageSource'))
			for (const maskSource of choices('maskSource')) {
				const parameters = {
					imageSource,
					maskSource,
					imageUrl: 'https://example.com/i.png',
					maskUrl: 'https://example.com/m.png',
					maskPrompt: 'the sky',
					maskRectangles: { rectangle: [{ left: 1, top: 1, width: 1, height: 1 }] },
				};
				const noticed =
					shows.imageSource!.includes(imageSource) && shows.maskSource!.includes(maskSource);
				if (noticed)
					await expectProblem(
						() => fill(parameters),
						words.needsImageFile(
							{ alpha: L.sourceAlpha, rectangles: L.sourceRectangles, expand: L.sourceExpand }[
								maskSource as 'alpha'
							],
						),
					);
				else expect(() => fill(parameters)).not.toThrow();
			}
	});

	it('reads only the parameters the panel shows for the chosen sources', () => {
		const shown = (property: INodeProperties, values: Record<string, unknown>) =>
			Object.entries(property.displayOptions?.show ?? {}).every(([name, allowed]) =>
				(allowed as unknown[]).includes(
					values[name] ?? fillInputProperties.find((p) => p.name === name)?.default,
				),
			);
		const sources = [
			{ imageSource: 'binary', maskSource: 'binary' },
			{
				imageSource: 'url',
				imageUrl: 'https://example.com/i.png',
				maskSource: 'url',
				maskUrl: 'https://example.com/m.png',
			},
			{ maskSource: 'alpha' },
			{
				maskSource: 'rectangles',
				maskRectangles: { rectangle: [{ left: 1, top: 1, width: 1, height: 1 }] },
			},
			{ maskSource: 'text', maskPrompt: 'the sky' },
			{ maskSource: 'expand' },
			{ maskSource: 'expand', expandBy: 'pixels', expandTop: 10 },
			{ maskSource: 'expand', expandBy: 'percent', expandLeft: 10 },
		];
		for (const values of sources) {
			const { ctx, read } = fakeContext({ parameters: { ...BASE, ...values } });
			readFillSettings(ctx, 0);
			for (const name of read.filter((n) => n !== 'options')) {
				const property = fillInputProperties.find((p) => p.name === name);
				expect({ values, name, defined: property !== undefined }).toEqual({
					values,
					name,
					defined: true,
				});
				expect({ values, name, shown: shown(property!, values) }).toEqual({
					values,
					name,
					shown: true,
				});
			}
		}
	});
});

describe('readFillSettings: each parameter', () => {
	it('maps every option', () => {
		// Options that arrive as the settings keep them.
		const kept = {
			seed: 42,
			numImages: 4,
			outputFormat: 'png',
			safetyTolerance: '5',
			enhancePrompt: true,
			syncMode: true,
			outputMode: 'url',
			dropNsfw: true,
			returnMask: true,
			webhookUrl: 'https://n8n.test/webhook/x',
		};
		const links = {
			imageSource: 'url',
			imageUrl: ' https://x.test/i.png ',
			maskSource: 'url',
			maskUrl: 'https://x.test/m.png',
		};
		const options = {
			...kept,
			outputBinaryProperty: ' out ',
			timeout: 30,
			invertMask: true,
			fitMask: true,
			maskThreshold: 10,
			growMask: 3,
		};
		expect(fill(links, options)).toEqual({
			...kept,
			prompt: 'a red bicycle',
			image: { kind: 'url', url: 'https://x.test/i.png' },
			mask: { kind: 'url', url: 'https://x.test/m.png' },
			maskOptions: { invert: true, fit: true, threshold: 10, grow: 3 },
			outputBinaryProperty: 'out',
			timeoutMs: 30_000,
		});
	});

	it('takes numbers that expressions give as text, and a safety tolerance as a number', () => {
		expect(
			withOptions({ numImages: '3', seed: '7', safetyTolerance: 4, timeout: '2' }),
		).toMatchObject({ numImages: 3, seed: 7, safetyTolerance: '4', timeoutMs: 2_000 });
		// Every tolerance fal knows, as a number too.
		for (const tolerance of SAFETY_TOLERANCES)
			expect(withOptions({ safetyTolerance: Number(tolerance) }).safetyTolerance).toBe(tolerance);
		for (const format of OUTPUT_FORMATS)
			expect(withOptions({ outputFormat: format }).outputFormat).toBe(format);
		for (const mode of OUTPUT_MODES)
			expect(withOptions({ outputMode: mode }).outputMode).toBe(mode);
	});

	it.each([[''], ['   '], [undefined], [null], [{}], [[]]])(
		'refuses the prompt %p',
		async (prompt) => {
			await expectProblem(() => fill({ prompt }), words.emptyPrompt());
		},
	);

	it('refuses Return Mask into the field that holds the image: the mask would replace it', async () => {
		const clash = { returnMask: true, outputBinaryProperty: 'mask' };
		await expectProblem(() => withOptions(clash), words.maskFieldTaken());
		// With links only, the image is not in a binary field.
		expect(withOptions({ ...clash, outputMode: 'url' }).returnMask).toBe(true);
		expect(withOptions({ returnMask: true, outputBinaryProperty: 'image' }).returnMask).toBe(true);
	});

	it('takes a number from a sheet as the prompt, untrimmed text as it is', () => {
		expect(fill({ prompt: 1984 }).prompt).toBe('1984');
		expect(fill({ prompt: ' a cat ' }).prompt).toBe(' a cat ');
	});

	it.each([[0], [5], [2.5], ['many'], [Number.NaN], [true]])(
		'refuses %p images',
		async (numImages) => {
			await expectProblem(() => withOptions({ numImages }), words.numImages(numImages));
		},
	);

	it.each([[-1], [1.5], ['abc'], [LIMITS.seed.max + 1], [Infinity]])(
		'refuses the seed %p',
		async (seed) => {
			await expectProblem(() => withOptions({ seed }), words.seed(seed));
		},
	);

	it('leaves the seed out when the option is blank, so fal draws one', () => {
		expect(withOptions({ seed: '' }).seed).toBeUndefined();
		expect(withOptions({ seed: null }).seed).toBeUndefined();
		expect(withOptions({ seed: 0 }).seed).toBe(0);
	});

	it('refuses values fal does not know, listing the ones it does', async () => {
		await expectProblem(
			() => withOptions({ outputFormat: 'gif' }),
			words.enumValue(L.outputFormat, 'gif', OUTPUT_FORMATS),
		);
		await expectProblem(
			() => withOptions({ safetyTolerance: '7' }),
			words.enumValue(L.safetyTolerance, '7', SAFETY_TOLERANCES),
		);
	});

	it.each([
		['ftp://x.test/i.png', words.urlScheme(L.imageUrl, 'ftp')],
		['file:///etc/passwd', words.urlScheme(L.imageUrl, 'file')],
		['not a url', words.invalidUrl(L.imageUrl, 'not a url')],
		['', words.emptyUrl(L.imageUrl)],
		[42, words.emptyUrl(L.imageUrl)],
	])('refuses the image URL %p', async (imageUrl, problem) => {
		await expectProblem(() => fill({ imageSource: 'url', imageUrl }), problem);
	});

	it('takes data:image URIs as links', () => {
		expect(fill({ maskSource: 'url', maskUrl: 'data:image/png;base64,AAAA' }).mask).toEqual({
			kind: 'url',
			url: 'data:image/png;base64,AAAA',
		});
	});

	it('refuses an empty binary field name and a source it does not know', async () => {
		await expectProblem(
			() => fill({ maskBinaryProperty: ' ' }),
			words.emptyField(L.maskBinaryProperty),
		);
		await expectProblem(
			() => fill({ imageSource: 'ftp' }),
			words.unknownSource(L.imageSource, 'ftp'),
		);
		await expectProblem(
			() => withOptions({ outputBinaryProperty: '' }),
			words.emptyField(L.outputBinaryProperty),
		);
	});

	it('takes true and false, also as text, and refuses anything else', async () => {
		expect(withOptions({ enhancePrompt: 'true', syncMode: 'false' })).toMatchObject({
			enhancePrompt: true,
			syncMode: false,
		});
		await expectProblem(() => withOptions({ syncMode: 'yes' }), words.boolean(L.syncMode, 'yes'));
	});

	it('takes the timeout in seconds, rounded to milliseconds, up to a day', async () => {
		expect(withOptions({ timeout: 1.2345 }).timeoutMs).toBe(1_235);
		expect(withOptions({ timeout: LIMITS.timeoutSeconds.max }).timeoutMs).toBe(
			LIMITS.timeoutSeconds.max * 1000,
		);
		for (const timeout of [0, -1, LIMITS.timeoutSeconds.max + 1, 'abc'])
			await expectProblem(() => withOptions({ timeout }), words.timeout(timeout));
	});

	it('takes a webhook as an http(s) link only', async () => {
		expect(withOptions({ webhookUrl: '' })).not.toHaveProperty('webhookUrl');
		await expectProblem(
			() => withOptions({ webhookUrl: 'data:image/png;base64,AAAA' }),
			words.webhookNotHttp(),
		);
		await expectProblem(
			() => withOptions({ webhookUrl: 'ftp://x.test' }),
			words.urlScheme(L.webhookUrl, 'ftp'),
		);
	});
});

describe('readFillSettings: mask sources', () => {
	it('Describe It takes the words trimmed, and grows its mask unless told', () => {
		const text = { maskSource: 'text', maskPrompt: '  the sky ', maskNegativePrompt: ' ' };
		expect(fill(text).mask).toEqual({ kind: 'text', words: 'the sky' });
		expect(fill(text).maskOptions.grow).toBe(DEFAULTS.textMaskGrow);
		expect(fill(text, { growMask: 0 }).maskOptions.grow).toBe(0);
		expect(fill({ ...text, maskNegativePrompt: ' the tree ' }).mask).toEqual({
			kind: 'text',
			words: 'the sky',
			negative: 'the tree',
		});
	});

	it('Describe It refuses empty words', async () => {
		await expectProblem(
			() => fill({ maskSource: 'text', maskPrompt: '   ' }),
			words.emptyMaskPrompt(),
		);
	});

	it('Rectangles reads each rectangle, in percent unless told', () => {
		const mask = fill({
			maskSource: 'rectangles',
			maskRectangles: {
				rectangle: [
					{ left: 10, top: '20', width: 30, height: 40 },
					{ left: -5, top: 0, width: 500, height: 1, unit: 'px' },
				],
			},
		}).mask;
		expect(mask).toEqual({
			kind: 'rectangles',
			rectangles: [
				{ left: 10, top: 20, width: 30, height: 40, unit: 'percent' },
				{ left: -5, top: 0, width: 500, height: 1, unit: 'px' },
			],
		});
	});

	it.each([
		['no list', {}, maskWords.noRectangles()],
		['an empty list', { rectangle: [] }, maskWords.noRectangles()],
		[
			'an unknown unit',
			{ rectangle: [{ left: 1, top: 1, width: 1, height: 1, unit: 'cm' }] },
			maskWords.rectangleUnit(1, 'cm'),
		],
		[
			'a missing number',
			{
				rectangle: [
					{ left: 1, top: 1, width: 1, height: 1 },
					{ left: 1, width: 1, height: 1 },
				],
			},
			maskWords.rectangleValue(2, 'top', undefined, 'percent'),
		],
		[
			'a percentage over 100',
			{ rectangle: [{ left: 10, top: 10, width: 150, height: 10 }] },
			maskWords.rectanglePercent(1, 'width', 150),
		],
		[
			'a negative percentage',
			{ rectangle: [{ left: -5, top: 10, width: 10, height: 10 }] },
			maskWords.rectanglePercent(1, 'left', -5),
		],
		[
			'a width of 0',
			{ rectangle: [{ left: 1, top: 1, width: 0, height: 5, unit: 'px' }] },
			maskWords.rectangleEmpty(1, 'width 0', 'pixels'),
		],
		[
			'a negative height',
			{ rectangle: [{ left: 1, top: 1, width: 5, height: -2, unit: 'px' }] },
			maskWords.rectangleEmpty(1, 'height -2', 'pixels'),
		],
	])('Rectangles refuses %s', async (_name, maskRectangles, problem) => {
		await expectProblem(() => fill({ maskSource: 'rectangles', maskRectangles }), problem);
	});

	it('Expand Canvas grows to an aspect ratio by default', () => {
		expect(fill({ maskSource: 'expand' }).mask).toEqual({
			kind: 'expand',
			overlap: DEFAULTS.expandOverlap,
			sizing: {
				mode: 'aspectRatio',
				ratio: parseAspectRatio(DEFAULTS.expandAspectRatio),
				text: DEFAULTS.expandAspectRatio,
				anchor: DEFAULTS.expandAnchor,
			},
		});
		expect(
			fill({
				maskSource: 'expand',
				expandAspectRatio: ' 2.39:1 ',
				expandAnchor: 'topLeft',
				expandOverlap: '8',
			}).mask,
		).toEqual({
			kind: 'expand',
			overlap: 8,
			sizing: { mode: 'aspectRatio', ratio: 2.39, text: '2.39:1', anchor: 'topLeft' },
		});
	});

	it('Expand Canvas reads the sides in pixels or percent', () => {
		expect(
			fill({ maskSource: 'expand', expandBy: 'percent', expandTop: '10', expandLeft: 5 }).mask,
		).toEqual({
			kind: 'expand',
			overlap: DEFAULTS.expandOverlap,
			sizing: { mode: 'percent', top: 10, right: 0, bottom: 0, left: 5 },
		});
		expect(
			fill({ maskSource: 'expand', expandBy: 'pixels', expandRight: 1000 }).mask,
		).toMatchObject({ sizing: { mode: 'pixels', top: 0, right: 1000, bottom: 0, left: 0 } });
	});

	it.each([
		['pixels', { expandLeft: -5 }, expandWords.sideNegative('left', false, -5)],
		['percent', { expandTop: -1 }, expandWords.sideNegative('top', true, -1)],
		['pixels', { expandRight: 'abc' }, expandWords.sideValue('right', false, 'abc')],
		[
			'percent',
			{ expandBottom: LIMITS.expandPercent.max + 0.5 },
			expandWords.sidePercent('bottom', LIMITS.expandPercent.max + 0.5, 'height'),
		],
	])('Expand Canvas by %s refuses %p', async (expandBy, sides, problem) => {
		await expectProblem(() => fill({ maskSource: 'expand', expandBy, ...sides }), problem);
	});

	it.each([[-1], [1.5], ['x'], [LIMITS.expandOverlap.max + 1]])(
		'Expand Canvas refuses the overlap %p',
		async (expandOverlap) => {
			await expectProblem(
				() => fill({ maskSource: 'expand', expandOverlap }),
				expandWords.overlap(expandOverlap),
			);
		},
	);

	it('Expand Canvas refuses a ratio it cannot read and an anchor it does not know', async () => {
		await expectProblem(
			() => fill({ maskSource: 'expand', expandAspectRatio: 'wide' }),
			expandWords.badRatio('wide'),
		);
		await problemOf(() => fill({ maskSource: 'expand', expandAnchor: 'middle' }));
	});
});

describe('readFillSettings: as an AI agent’s tool', () => {
	const links = {
		imageSource: 'url',
		imageUrl: 'https://x.test/i.png',
		maskSource: 'url',
		maskUrl: 'https://x.test/m.png',
	};

	it('is told by its node type', () => {
		expect(isToolMode(fakeContext({ nodeType: TOOL_TYPE }).ctx)).toBe(true);
		expect(isToolMode(fakeContext().ctx)).toBe(false);
	});

	it('returns links only, never data URIs', () => {
		expect(fill(links, { syncMode: true, outputMode: 'binary' }, TOOL_TYPE)).toMatchObject({
			syncMode: false,
			outputMode: 'url',
		});
	});

	it('needs the image as a link, and the mask as a link or in words', async () => {
		await expectProblem(
			() => fill({ ...links, imageSource: 'binary' }, {}, TOOL_TYPE),
			words.toolNeedsUrl('image', L.imageSource, L.imageUrl),
		);
		for (const maskSource of ['binary', 'alpha', 'rectangles', 'expand'])
			await expectProblem(
				() => fill({ ...links, maskSource }, {}, TOOL_TYPE),
				words.toolNeedsUrl('mask', L.maskSource, L.maskUrl),
			);
		expect(
			fill({ ...links, maskSource: 'text', maskPrompt: 'the sky' }, {}, TOOL_TYPE).mask,
		).toEqual({ kind: 'text', words: 'the sky' });
	});
});

describe('readRequestSettings', () => {
	it('takes the request id trimmed, or as a number', () => {
		expect(request(` ${ID} `)).toMatchObject({ requestId: ID, logs: false });
		expect(request(12345).requestId).toBe('12345');
	});

	it('refuses an empty id and one that is not a fal request id', async () => {
		for (const empty of ['', '  ', undefined, null, {}])
			await expectProblem(() => request(empty), words.emptyRequestId());
		await expectProblem(() => request('../../etc/passwd'), words.badRequestId('../../etc/passwd'));
		await expectProblem(() => request(`${ID}?x=1`), words.badRequestId(`${ID}?x=1`));
	});

	it('reads the logs switch and the result options; as a tool, links only', () => {
		expect(request(ID, { logs: true, outputMode: 'binary', timeout: 5 })).toMatchObject({
			logs: true,
			outputMode: 'binary',
			timeoutMs: 5_000,
		});
		expect(request(ID, { outputMode: 'binary' }, TOOL_TYPE).outputMode).toBe('url');
	});
});

describe('readConcurrency', () => {
	const concurrency = (
		options: Record<string, unknown> | ((i: number) => Record<string, unknown>),
		items = 1,
	) =>
		readConcurrency(
			fakeContext({ options, items: Array.from({ length: items }, () => ({ json: {} })) }).ctx,
		);

	it("reads the first item's option, and the default without items", () => {
		expect(concurrency((i) => ({ concurrency: i === 0 ? 5 : 'nonsense' }), 3)).toBe(5);
		expect(concurrency({ concurrency: 'nonsense' }, 0)).toBe(DEFAULTS.concurrency);
		expect(concurrency({})).toBe(DEFAULTS.concurrency);
	});

	it('refuses a value out of range, before anything is sent', async () => {
		for (const value of [LIMITS.concurrency.min - 1, LIMITS.concurrency.max + 1, 1.5, 'many'])
			await expectProblem(
				() => concurrency({ concurrency: value }),
				words.wholeNumber(L.concurrency, value, LIMITS.concurrency),
			);
	});
});
