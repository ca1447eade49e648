// @ts-check
/**
 * The fal-ai/flux-pro/v1/fill-finetuned endpoint: the fill (model.js) run with a FLUX.1 [pro]
 * finetune. Input: the fill's fields, then `finetune_id` (a required string) and
 * `finetune_strength` (a required number, 0–2, no default on fal); see docs/flux-pro-fill-finetuned.md.
 * An id the emulator does not know answers 422 on `finetune_id`, as the docs judge fal would.
 *
 * The finetune's visible effect: every repainted pixel moves from the plain fill's colour towards
 * the finetune's colour (`finetuneColour(id)`) by `finetune_strength / 2`, rounded: strength 0 gives
 * the plain fill's pixels, 1 half way, 2 the finetune's colour itself. Kept pixels stay untouched.
 */
'use strict';

const crypto = require('node:crypto');
const { validateFillShaped, fieldError, rangeError, stringError, toFloat } = require('./validate');
const { runFillWith, unprocessable } = require('./model');
const { tint } = require('./generate');

/** The finetunes an emulator knows unless told otherwise (`finetunes` option); UUIDs, as fal's are. */
const DEFAULT_FINETUNE_IDS = Object.freeze([
	'3f6c1a52-9d0e-4b7a-8c21-5e4f7a9b0d13',
	'8a2d4e6f-1b3c-4d5e-9f70-a1b2c3d4e5f6',
]);

/**
 * @typedef {import('./validate').FillInput & { finetune_id: string, finetune_strength: number }} FinetunedInput
 */

/**
 * The fill's validation, then finetune_id and finetune_strength (their errors after the fill's).
 * @param {unknown} body
 */
function validateFinetunedInput(body) {
	return validateFillShaped(body, (raw, errors, out) => {
		const idError = stringError('finetune_id', raw.finetune_id);
		if (idError) errors.push(idError);
		else out.finetune_id = raw.finetune_id;

		const strength = raw.finetune_strength;
		if (strength === undefined)
			return void errors.push(fieldError('finetune_strength', 'missing', 'Field required'));
		const { value, error } = toFloat(strength, 'finetune_strength');
		const outside = error
			? undefined
			: rangeError('finetune_strength', Number(value), strength, 0, 2);
		if (error || outside)
			errors.push(/** @type {import('./validate').FieldError} */ (error ?? outside));
		else out.finetune_strength = value;
	});
}

/**
 * The colour a finetune paints towards: the first three bytes of SHA-256("finetune\0" + id).
 * @param {string} finetuneId
 * @returns {[number, number, number]}
 */
function finetuneColour(finetuneId) {
	const h = crypto.createHash('sha256').update(`finetune\u0000${finetuneId}`).digest();
	return [h[0], h[1], h[2]];
}

/**
 * The answer to a finetune id the emulator does not know (assumed: fal does not document it).
 * @param {string} finetuneId
 */
function unknownFinetune(finetuneId) {
	return unprocessable([
		{
			loc: ['body', 'finetune_id'],
			msg: 'Finetune not found or not ready',
			type: 'value_error',
			input: finetuneId,
		},
	]);
}

/**
 * Runs the endpoint on a submitted body.
 * @param {unknown} body the request JSON
 * @param {string | undefined} inputError set when the body was not JSON
 * @param {import('./model').ModelContext} ctx
 * @returns {Promise<import('./types').Outcome>}
 */
function runFillFinetuned(body, inputError, ctx) {
	return runFillWith(body, inputError, ctx, {
		validate: validateFinetunedInput,
		check: (input) => {
			const { finetune_id: id, finetune_strength: strength } = /** @type {FinetunedInput} */ (
				input
			);
			if (!ctx.finetunes.has(id)) return unknownFinetune(id);
			ctx.log(`Loaded finetune ${id} at strength ${strength}`);
			return undefined;
		},
		retouch: (pixels, image, mask, input) => {
			const { finetune_id: id, finetune_strength: strength } = /** @type {FinetunedInput} */ (
				input
			);
			tint(pixels, image, mask, finetuneColour(id), strength / 2);
		},
	});
}

module.exports = { runFillFinetuned, finetuneColour, DEFAULT_FINETUNE_IDS };
