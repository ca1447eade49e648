// @ts-check
/** Fault injection: rules that replace, delay or break the emulator's answers. */
'use strict';

const http = require('node:http');
const { send } = require('./http-util');
const { ENDPOINT_IDS } = require('./endpoints');

/** @type {ReadonlySet<import('./types').FaultKind>} */
const FAULT_KINDS = new Set([
	'submit',
	'status',
	'stream',
	'result',
	'cancel',
	'initiate',
	'upload',
	'file',
	'sync',
	'other',
]);

/** Keeps the rules in the order they were added; the first live matching rule wins. */
class FaultBook {
	constructor() {
		/** @type {import('./types').FaultRule[]} */
		this.rules = [];
	}

	/**
	 * @param {import('./types').FaultRule} rule
	 * @returns {import('./types').FaultRule} the same object, with `times` and `hits` filled in
	 */
	add(rule) {
		if (!rule || !FAULT_KINDS.has(rule.kind)) {
			throw new TypeError(`fail(): kind must be one of ${[...FAULT_KINDS].join(', ')}`);
		}
		if (rule.times === undefined) rule.times = 1;
		if (!(rule.times >= 0)) throw new TypeError('fail(): times must be a number >= 0');
		if (rule.dropAfterEvents !== undefined && rule.kind !== 'stream') {
			throw new TypeError("fail(): dropAfterEvents only applies to kind 'stream'");
		}
		if (rule.acceptThenDelayMs !== undefined && rule.kind !== 'submit') {
			throw new TypeError("fail(): acceptThenDelayMs only applies to kind 'submit'");
		}
		if (rule.acceptThenFail && rule.kind !== 'submit') {
			throw new TypeError("fail(): acceptThenFail only applies to kind 'submit'");
		}
		if (rule.endpoint !== undefined) {
			if (!ENDPOINT_IDS.has(rule.endpoint)) {
				throw new TypeError(`fail(): endpoint must be one of ${[...ENDPOINT_IDS].join(', ')}`);
			}
			if (rule.kind === 'initiate' || rule.kind === 'upload' || rule.kind === 'file') {
				throw new TypeError(`fail(): kind '${rule.kind}' belongs to no endpoint`);
			}
		}
		rule.hits = 0;
		this.rules.push(rule);
		return rule;
	}

	clear() {
		this.rules.length = 0;
	}

	/**
	 * Finds the rule for this request and counts the hit.
	 * @param {import('./types').RecordedRequest} record
	 * @returns {import('./types').FaultRule | undefined}
	 */
	take(record) {
		for (const rule of this.rules) {
			if (rule.kind !== record.kind) continue;
			if (rule.endpoint !== undefined && rule.endpoint !== record.endpoint) continue;
			if ((rule.hits ?? 0) >= (rule.times ?? 1)) continue;
			if (rule.match) {
				let matched = false;
				try {
					matched = Boolean(rule.match(record));
				} catch {
					matched = false; // a throwing predicate must not take the server down
				}
				if (!matched) continue;
			}
			rule.hits = (rule.hits ?? 0) + 1;
			return rule;
		}
		return undefined;
	}
}

/**
 * Whether the rule replaces the normal answer (as opposed to only delaying or dropping it).
 * @param {import('./types').FaultRule} rule
 */
function answersInstead(rule) {
	return rule.status !== undefined || rule.body !== undefined || rule.contentType !== undefined;
}

/**
 * Sends the rule's answer.
 * @param {import('./types').FaultRule} rule
 * @param {import('node:http').ServerResponse} res
 * @param {Record<string, string>} [baseHeaders] e.g. x-fal-request-id
 */
function sendFault(rule, res, baseHeaders = {}) {
	const status = rule.status ?? 500;
	const body = rule.body ?? { detail: http.STATUS_CODES[status] ?? 'Injected fault' };
	const isText = typeof body === 'string';
	const isBytes = Buffer.isBuffer(body);
	const contentType =
		rule.contentType ??
		(isBytes
			? 'application/octet-stream'
			: isText
				? 'text/plain; charset=utf-8'
				: 'application/json');
	const bytes = isBytes ? body : Buffer.from(isText ? body : JSON.stringify(body));
	if (rule.cutAfterBytes !== undefined) {
		// Promise the whole body, send the start of it, then break the connection.
		res.writeHead(status, {
			...baseHeaders,
			'content-type': contentType,
			'content-length': String(bytes.length),
			...(rule.headers ?? {}),
		});
		res.write(bytes.subarray(0, rule.cutAfterBytes), () => setTimeout(() => res.destroy(), 20));
		return;
	}
	send(res, status, bytes, {
		...baseHeaders,
		'content-type': contentType,
		...(rule.headers ?? {}),
	});
}

module.exports = { FaultBook, answersInstead, sendFault };
