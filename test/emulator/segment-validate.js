// @ts-check
/**
 * Input validation of fal-ai/evf-sam, reported like FastAPI + pydantic v2 (one 422 with every
 * field error), with the same lax coercion as the fill endpoint (validate.js).
 * Fields and limits: docs/evf-sam.md. Errors come in the schema's field order, which fal's
 * llms.txt lists as: prompt, use_grounding_dino, semantic_type, fill_holes, expand_mask,
 * mask_only, revert_mask, blur_mask, negative_prompt, image_url.
 */
'use strict';

const { bodyProblem, fieldError, toInt, toBool, rangeError, stringError } = require('./validate');

/** @typedef {import('./validate').FieldError} FieldError */

/**
 * @typedef {object} SegmentInput
 * @property {string} prompt
 * @property {boolean} use_grounding_dino accepted, no effect in the emulator
 * @property {boolean} semantic_type accepted, no effect in the emulator
 * @property {boolean} fill_holes
 * @property {number} expand_mask 0–20
 * @property {boolean} mask_only
 * @property {boolean} revert_mask
 * @property {number} blur_mask 0–50
 * @property {string | undefined} negative_prompt
 * @property {string} image_url
 */

/**
 * Validates the request body and applies the defaults.
 * @param {unknown} body
 * @returns {{ ok: true, input: SegmentInput } | { ok: false, detail: import('./validate').FieldError[] }}
 */
function validateSegmentInput(body) {
	const notAnObject = bodyProblem(body);
	if (notAnObject) return { ok: false, detail: notAnObject };
	const raw = /** @type {Record<string, unknown>} */ (body);
	/** @type {import('./validate').FieldError[]} */
	const errors = [];
	/** @type {Record<string, unknown>} */
	const out = {};

	/** @param {string} field */
	const requiredString = (field) => {
		const error = stringError(field, raw[field]);
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
	/** @param {string} field @param {number} min @param {number} max */
	const optionalIntInRange = (field, min, max) => {
		if (raw[field] === undefined) return void (out[field] = 0);
		const { value, error } = toInt(raw[field], field);
		const outside = error ? undefined : rangeError(field, Number(value), raw[field], min, max);
		if (error || outside) errors.push(/** @type {FieldError} */ (error ?? outside));
		else out[field] = value;
	};

	requiredString('prompt');
	optionalBool('use_grounding_dino', false);
	optionalBool('semantic_type', false);
	optionalBool('fill_holes', false);
	optionalIntInRange('expand_mask', 0, 20);
	optionalBool('mask_only', true);
	optionalBool('revert_mask', false);
	optionalIntInRange('blur_mask', 0, 50);
	// `string | null` in fal's 2026-04 schema: null means "none".
	const negative = raw.negative_prompt;
	if (negative === undefined || negative === null) out.negative_prompt = undefined;
	else if (typeof negative !== 'string')
		errors.push(
			fieldError('negative_prompt', 'string_type', 'Input should be a valid string', negative),
		);
	else out.negative_prompt = negative;
	requiredString('image_url');

	if (errors.length > 0) return { ok: false, detail: errors };
	return { ok: true, input: /** @type {SegmentInput} */ (/** @type {unknown} */ (out)) };
}

module.exports = { validateSegmentInput };
