import {
	parseFillSettings,
	type RawFillParameters,
} from '../../nodes/FluxProFill/helpers/fillSettings';
import { toFalInput } from '../../nodes/FluxProFill/helpers/fillInputs';
import { InputProblem } from '../../nodes/FluxProFill/errors/InputProblem';

const base: RawFillParameters = {
	prompt: 'a red bicycle',
	imageSource: 'binary',
	imageBinaryProperty: 'data',
	imageUrl: undefined,
	maskSource: 'binary',
	maskBinaryProperty: 'mask',
	maskUrl: undefined,
	options: {},
};

const parse = (patch: Partial<RawFillParameters> = {}, options: Record<string, unknown> = {}) =>
	parseFillSettings({ ...base, ...patch, options: { ...base.options, ...options } });

function problemOf(fn: () => unknown): InputProblem {
	try {
		fn();
	} catch (error) {
		expect(error).toBeInstanceOf(InputProblem);
		return error as InputProblem;
	}
	throw new Error('expected an InputProblem');
}

describe('parseFillSettings', () => {
	it("applies the endpoint's defaults when options are left out", () => {
		expect(parse()).toEqual({
			prompt: 'a red bicycle',
			image: { kind: 'binary', field: 'data' },
			mask: { kind: 'binary', field: 'mask' },
			maskOptions: { invert: false, fit: 'none', threshold: 128, grow: 0 },
			returnMask: false,
			seed: undefined,
			numImages: 1,
			outputFormat: 'jpeg',
			safetyTolerance: '2',
			enhancePrompt: false,
			syncMode: false,
			dropNsfw: false,
			outputMode: 'binary',
			outputBinaryProperty: 'data',
			timeoutMs: 600_000,
		});
	});

	it('maps every option', () => {
		const settings = parse(
			{
				imageSource: 'url',
				imageUrl: 'https://x.test/i.png',
				maskSource: 'url',
				maskUrl: ' https://x.test/m.png ',
			},
			{
				seed: 42,
				numImages: 4,
				outputFormat: 'png',
				safetyTolerance: '5',
				enhancePrompt: true,
				syncMode: true,
				outputBinaryProperty: 'out',
				timeout: 30,
			},
		);
		expect(settings).toMatchObject({
			image: { kind: 'url', url: 'https://x.test/i.png' },
			mask: { kind: 'url', url: 'https://x.test/m.png' },
			seed: 42,
			numImages: 4,
			outputFormat: 'png',
			safetyTolerance: '5',
			enhancePrompt: true,
			syncMode: true,
			outputBinaryProperty: 'out',
			timeoutMs: 30_000,
		});
		expect(toFalInput(settings, 'https://cdn/i', 'https://cdn/m')).toEqual({
			prompt: 'a red bicycle',
			image_url: 'https://cdn/i',
			mask_url: 'https://cdn/m',
			seed: 42,
			sync_mode: true,
			num_images: 4,
			output_format: 'png',
			safety_tolerance: '5',
			enhance_prompt: true,
		});
	});

	it('leaves seed out of the request when not set, so fal draws one', () => {
		expect(toFalInput(parse(), 'a', 'b')).not.toHaveProperty('seed');
	});

	it('accepts numbers that expressions hand over as text, and a numeric safety tolerance', () => {
		expect(parse({}, { numImages: '3', seed: '7', safetyTolerance: 4 })).toMatchObject({
			numImages: 3,
			seed: 7,
			safetyTolerance: '4',
		});
	});

	it.each([[''], ['   '], [undefined], [null], [{}]])('rejects the prompt %p', (prompt) => {
		expect(problemOf(() => parse({ prompt })).message).toBe('The prompt is empty');
	});

	it.each([[0], [5], [2.5], ['many'], [Number.NaN], [true]])(
		'rejects numImages %p',
		(numImages) => {
			const problem = problemOf(() => parse({}, { numImages }));
			expect(problem.message).toContain('Number of Images');
			expect(problem.description).toContain('1 to 4');
		},
	);

	it.each([[-1], [1.5], ['abc'], [2 ** 32], [Number.POSITIVE_INFINITY]])(
		'rejects seed %p',
		(seed) => {
			expect(problemOf(() => parse({}, { seed })).message).toMatch(/seed .* is not a whole number/);
		},
	);

	it('rejects enum values fal does not know', () => {
		expect(problemOf(() => parse({}, { outputFormat: 'gif' })).description).toBe(
			'Choose one of: jpeg, png.',
		);
		expect(problemOf(() => parse({}, { safetyTolerance: '7' })).message).toContain(
			'Safety Tolerance',
		);
	});

	it.each([
		['ftp://x.test/i.png', /ftp:\/\//],
		['file:///etc/passwd', /file:\/\//],
		['not a url', /not a valid URL/],
		['', /is empty/],
	])('rejects the image URL %p', (imageUrl, message) => {
		expect(problemOf(() => parse({ imageSource: 'url', imageUrl })).message).toMatch(message);
	});

	it('accepts data:image URIs as URLs', () => {
		expect(parse({ maskSource: 'url', maskUrl: 'data:image/png;base64,AAAA' }).mask).toEqual({
			kind: 'url',
			url: 'data:image/png;base64,AAAA',
		});
	});

	it('rejects an empty binary field name and an unknown source', () => {
		expect(problemOf(() => parse({ maskBinaryProperty: ' ' })).message).toBe(
			'"Mask Binary Field" is empty',
		);
		expect(problemOf(() => parse({ imageSource: 'ftp' })).message).toContain(
			'"Image Source" is "ftp"',
		);
	});

	it('rejects non-boolean switches and a non-positive timeout', () => {
		expect(problemOf(() => parse({}, { syncMode: 'yes' })).message).toContain('not true or false');
		expect(parse({}, { enhancePrompt: 'true' }).enhancePrompt).toBe(true);
		expect(problemOf(() => parse({}, { timeout: 0 })).message).toContain('Timeout');
		// Beyond 2^31 ms a timer fires at once: the range is capped at a day.
		expect(problemOf(() => parse({}, { timeout: 10 ** 9 })).description).toContain('86400');
	});
});

describe('Describe It and Expand Canvas settings', () => {
	it('Describe It takes the words, trims them, and grows its mask by 8 unless told', () => {
		const settings = parse({
			maskSource: 'text',
			maskPrompt: '  the sky ',
			maskNegativePrompt: '',
		});
		expect(settings.mask).toEqual({ kind: 'text', words: 'the sky' });
		expect(settings.maskOptions.grow).toBe(8);
		expect(
			parse({ maskSource: 'text', maskPrompt: 'the sky' }, { growMask: 0 }).maskOptions.grow,
		).toBe(0);
		expect(
			parse({ maskSource: 'text', maskPrompt: 'the sky', maskNegativePrompt: 'the tree' }).mask,
		).toEqual({ kind: 'text', words: 'the sky', negative: 'the tree' });
	});

	it('Describe It refuses empty words, naming the parameter', () => {
		const problem = problemOf(() => parse({ maskSource: 'text', maskPrompt: '   ' }));
		expect(problem.message).toBe('"What to Repaint" is empty');
	});

	it('Describe It works with an image URL, also as an agent tool', () => {
		const raw = {
			...base,
			imageSource: 'url',
			imageUrl: 'https://x.test/i.png',
			maskSource: 'text',
			maskPrompt: 'the sky',
		};
		expect(parseFillSettings(raw, { tool: true }).mask).toEqual({ kind: 'text', words: 'the sky' });
		const asTool = problemOf(() =>
			parseFillSettings({ ...raw, maskSource: 'binary', maskPrompt: undefined }, { tool: true }),
		);
		expect(asTool.description).toContain('"Describe It"');
	});

	it('Expand Canvas reads the way of sizing it shows', () => {
		expect(
			parse({
				maskSource: 'expand',
				expand: {
					expandBy: 'aspectRatio',
					expandAspectRatio: '16:9',
					expandAnchor: 'topLeft',
					expandOverlap: 8,
				},
			}).mask,
		).toEqual({
			kind: 'expand',
			overlap: 8,
			sizing: { mode: 'aspectRatio', ratio: '16:9', anchor: 'topLeft' },
		});
		expect(
			parse({
				maskSource: 'expand',
				expand: { expandBy: 'percent', expandTop: '10', expandLeft: 5, expandOverlap: 16 },
			}).mask,
		).toEqual({
			kind: 'expand',
			overlap: 16,
			sizing: { mode: 'percent', top: 10, right: 0, bottom: 0, left: 5 },
		});
	});

	it('Expand Canvas refuses an image URL and an unknown anchor', () => {
		const url = problemOf(() =>
			parse({
				imageSource: 'url',
				imageUrl: 'https://x.test/i.png',
				maskSource: 'expand',
				expand: { expandBy: 'pixels' },
			}),
		);
		expect(url.message).toBe('"Mask Source" "Expand Canvas" needs the image as a binary field');
		const anchor = problemOf(() =>
			parse({ maskSource: 'expand', expand: { expandBy: 'aspectRatio', expandAnchor: 'middle' } }),
		);
		expect(anchor.message).toContain('Position of the Original');
	});
});
