// @ts-check
/** Key checking, as fal's gateway does it for `Authorization: Key <key_id:key_secret>`. */
'use strict';

const UNKNOWN_KEY = { detail: 'No user found for Key ID and Secret' };
const LOCKED_KEY = {
	detail:
		'User is locked. Reason: Exhausted balance. Top up your balance at fal.ai/dashboard/billing.',
};

/**
 * @param {string | undefined} header the raw Authorization header
 * @param {{ validKeys: Set<string>, lockedKeys: Set<string> }} keys
 * @returns {import('./types').AuthOutcome}
 */
function classifyAuth(header, keys) {
	if (!header || !header.trim()) return 'missing';
	const match = /^Key\s+(.+)$/i.exec(header.trim());
	if (!match) return 'invalid';
	const key = match[1].trim();
	if (keys.lockedKeys.has(key)) return 'locked';
	if (keys.validKeys.has(key)) return 'valid';
	return 'invalid';
}

/**
 * The gateway's answer for a refused key, or null when the call may go on.
 * @param {import('./types').AuthOutcome} outcome
 * @returns {import('./types').Outcome | null}
 */
function authFailure(outcome) {
	if (outcome === 'valid') return null;
	if (outcome === 'locked') return { status: 403, body: LOCKED_KEY };
	return { status: 401, body: UNKNOWN_KEY };
}

module.exports = { classifyAuth, authFailure };
