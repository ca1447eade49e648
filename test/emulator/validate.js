// @ts-check
/**
 * Input validation of fal-ai/flux-pro/v1/fill (and of the fill's fields of fill-finetuned)
 * the way FastAPI + pydantic v2 report it:
 * every field error collected into one 422 `{"detail":[{loc, msg, type, ...}]}`.
 * Lax mode like pydantic's default: "3" is accepted as an integer, "true" as a boolean,
 * but numbers are never accepted as strings (so safety_tolerance 2 is an enum error).
 */
'use strict';

/**
 * @typedef {object} FillInput
 * @property {string} prompt
 * @property {string} image_url
 * @property {string} mask_url
 * @property {number | undefined} seed
 * @property {boolean} sync_mode
 * @property {number} num_images
 * @property {'jpeg'|'png'} output_format
 * @property {'1'|'2'|'3'|'4'|'5'|'6'} safety_tolerance
 * @property {boolean} enhance_prompt
 */

/**
 * @typedef {object} FieldError
 * @property {(string|number)[]} loc
 * @property {string} msg
 * @property {string} type
 * @property {unknown} [input]
 * @property {Record<string, unknown>} [ctx]
 */

const OUTPUT_FORMATS = ['jpeg', 'png'];
const SAFETY_TOLERANCES = ['1', '2', '3', '4', '5', '6'];
const TRUE_STRINGS = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const FALSE_STRINGS = new Set(['0', 'off', 'f', 'false', 'n', 'no']);

/** @param {string[]} values → "'a', 'b' or 'c'" as pydantic words it */
function expected(values) {
	const quoted = values.map((v) => `'${v}'`);
	return quoted.length === 1
		? quoted[0]
		: `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}`;
}

/**
 * @param {string} field
 * @param {string} type
 * @param {string} msg
 * @param {unknown} [input]
 * @param {Record<string, unknown>} [ctx]
 * @returns {FieldError}
 */
function fieldError(field, type, msg, input, ctx) {
	/** @type {FieldError} */
	const error = { loc: ['body', field], msg, type };
	if (input !== undefined) error.input = input;
	if (ctx) error.ctx = ctx;
	return error;
}

/**
 * @param {unknown} value
 * @param {string} field
 * @returns {{ value?: number, error?: FieldError }}
 */
function toInt(value, field) {
	if (typeof value === 'number') {
		if (!Number.isFinite(value))
			return {
				error: fieldError(field, 'finite_number', 'Input should be a finite number', value),
			};
		if (!Number.isInteger(value)) {
			return {
				error: fieldError(
					field,
					'int_from_float',
					'Input should be a valid integer, got a number with a fractional part',
					value,
				),
			};
		}
		return { value };
	}
	if (typeof value === 'string') {
		if (/^\s*[+-]?\d+\s*$/.test(value)) return { value: Number.parseInt(value, 10) };
		return {
			error: fieldError(
				field,
				'int_parsing',
				'Input should be a valid integer, unable to parse string as an integer',
				value,
			),
		};
	}
	return { error: fieldError(field, 'int_type', 'Input should be a valid integer', value) };
}

/**
 * pydantic's lax float: numbers, and strings that hold one ("1.5"); never booleans (as toInt).
 * @param {unknown} value
 * @param {string} field
 * @returns {{ value?: number, error?: FieldError }}
 */
function toFloat(value, field) {
	if (typeof value === 'number') {
		if (!Number.isFinite(value))
			return {
				error: fieldError(field, 'finite_number', 'Input should be a finite number', value),
			};
		return { value };
	}
	if (typeof value === 'string') {
		if (/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value))
			return { value: Number(value) };
		return {
			error: fieldError(
				field,
				'float_parsing',
				'Input should be a valid number, unable to parse string as a number',
				value,
			),
		};
	}
	return { error: fieldError(field, 'float_type', 'Input should be a valid number', value) };
}

/**
 * pydantic's `ge` / `le` errors for a number outside [min, max]; undefined when it is inside.
 * @param {string} field
 * @param {number} number the coerced value
 * @param {unknown} input the value as sent
 * @param {number} min
 * @param {number} max
 * @returns {FieldError | undefined}
 */
function rangeError(field, number, input, min, max) {
	if (number < min)
		return fieldError(
			field,
			'greater_than_equal',
			`Input should be greater than or equal to ${min}`,
			input,
			{ ge: min },
		);
	if (number > max)
		return fieldError(
			field,
			'less_than_equal',
			`Input should be less than or equal to ${max}`,
			input,
			{ le: max },
		);
	return undefined;
}

/**
 * @param {unknown} value
 * @param {string} field
 * @returns {{ value?: boolean, error?: FieldError }}
 */
function toBool(value, field) {
	if (typeof value === 'boolean') return { value };
	if (value === 0 || value === 1) return { value: value === 1 };
	if (typeof value === 'string') {
		const lower = value.trim().toLowerCase();
		if (TRUE_STRINGS.has(lower)) return { value: true };
		if (FALSE_STRINGS.has(lower)) return { value: false };
	}
	if (typeof value === 'string' || typeof value === 'number') {
		return {
			error: fieldError(
				field,
				'bool_parsing',
				'Input should be a valid boolean, unable to interpret input',
				value,
			),
		};
	}
	return { error: fieldError(field, 'bool_type', 'Input should be a valid boolean', value) };
}

/**
 * pydantic's error for a required `str` field (with `min_length`); undefined when the value is one.
 * @param {string} field
 * @param {unknown} value
 * @param {number} [minLength]
 * @returns {FieldError | undefined}
 */
function stringError(field, value, minLength = 0) {
	if (value === undefined) return fieldError(field, 'missing', 'Field required');
	if (typeof value !== 'string')
		return fieldError(field, 'string_type', 'Input should be a valid string', value);
	if (value.length < minLength)
		return fieldError(
			field,
			'string_too_short',
			`String should have at least ${minLength} character${minLength === 1 ? '' : 's'}`,
			value,
			{ min_length: minLength },
		);
	return undefined;
}

/**
 * What pydantic says of a body that is missing or not a JSON object; undefined for an object.
 * @param {unknown} body
 * @returns {FieldError[] | undefined}
 */
function bodyProblem(body) {
	if (body === undefined) return [{ loc: ['body'], msg: 'Field required', type: 'missing' }];
	if (body === null || typeof body !== 'object' || Array.isArray(body)) {
		return [
			{
				loc: ['body'],
				msg: 'Input should be a valid dictionary or object to extract fields from',
				type: 'model_attributes_type',
			},
		];
	}
	return undefined;
}

/**
 * Validates the request body and applies the defaults.
 * @param {unknown} body
 * @returns {{ ok: true, input: FillInput } | { ok: false, detail: FieldError[] }}
 */
function validateFillInput(body) {
	return validateFillShaped(body);
}

/**
 * The fill's validation, for the fill and for endpoints that take the fill's input and more:
 * `more` checks their extra fields, whose errors come after the fill's (schema order).
 * @param {unknown} body
 * @param {(raw: Record<string, unknown>, errors: FieldError[], out: Record<string, unknown>) => void} [more]
 * @returns {{ ok: true, input: FillInput & Record<string, unknown> } | { ok: false, detail: FieldError[] }}
 */
function validateFillShaped(body, more) {
	const notAnObject = bodyProblem(body);
	if (notAnObject) return { ok: false, detail: notAnObject };
	const raw = /** @type {Record<string, unknown>} */ (body);
	/** @type {FieldError[]} */
	const errors = [];
	/** @type {Record<string, unknown>} */
	const out = {};

	/** @param {string} field @param {number} [minLength] */
	const requiredString = (field, minLength = 0) => {
		const error = stringError(field, raw[field], minLength);
		if (error) errors.push(error);
		else out[field] = raw[field];
	};
	/** @param {string} field @param {boolean} fallback */
	const optionalBool = (field, fallback) => {
		if (raw[field] === undefined) return void (out[field] = fallback);
		const { value, error } = toBool(raw[field], field);
		if (error) errors.push(error);
		else out[field] = value;
	};
	/** @param {string} field @param {string[]} values @param {string} fallback */
	const optionalEnum = (field, values, fallback) => {
		const value = raw[field];
		if (value === undefined) return void (out[field] = fallback);
		if (typeof value === 'string' && values.includes(value)) return void (out[field] = value);
		errors.push(
			fieldError(field, 'enum', `Input should be ${expected(values)}`, value, {
				expected: expected(values),
			}),
		);
	};

	// Field order follows the endpoint's schema, which is the order pydantic reports errors in.
	requiredString('prompt', 1);

	if (raw.seed === undefined || raw.seed === null) out.seed = undefined;
	else {
		const { value, error } = toInt(raw.seed, 'seed');
		if (error) errors.push(error);
		else out.seed = value;
	}

	optionalBool('sync_mode', false);

	if (raw.num_images === undefined) out.num_images = 1;
	else {
		const { value, error } = toInt(raw.num_images, 'num_images');
		const outside = error
			? undefined
			: rangeError('num_images', Number(value), raw.num_images, 1, 4);
		if (error || outside) errors.push(/** @type {FieldError} */ (error ?? outside));
		else out.num_images = value;
	}

	optionalEnum('output_format', OUTPUT_FORMATS, 'jpeg');
	optionalEnum('safety_tolerance', SAFETY_TOLERANCES, '2');
	optionalBool('enhance_prompt', false);
	requiredString('image_url');
	requiredString('mask_url');
	more?.(raw, errors, out);

	if (errors.length > 0) return { ok: false, detail: errors };
	return {
		ok: true,
		input: /** @type {FillInput & Record<string, unknown>} */ (/** @type {unknown} */ (out)),
	};
}

/**
 * The 422 FastAPI gives for a body that is not JSON.
 * @param {string} message
 * @returns {FieldError[]}
 */
function jsonInvalid(message) {
	return [
		{ loc: ['body', 0], msg: 'JSON decode error', type: 'json_invalid', ctx: { error: message } },
	];
}

// The helpers are shared with the other endpoints' validation (segment-validate.js, finetune.js).
module.exports = {
	validateFillInput,
	validateFillShaped,
	jsonInvalid,
	fieldError,
	toInt,
	toFloat,
	toBool,
	rangeError,
	stringError,
	bodyProblem,
};
