import { CAPS } from '../common/constants';
import { fal, shorten, type Words } from '../common/messages';

export interface FalErrorFields {
	/** Already the user's words (message and description). */
	words?: Words;
	/** HTTP status of fal's answer; undefined when fal was not reached. */
	status?: number;
	/** fal's answer body, parsed as JSON where it was JSON, capped. */
	body?: unknown;
	requestId?: string;
	/** Retry-After of the answer, in milliseconds. */
	retryAfterMs?: number;
	/** The network error code (ECONNRESET, …) when fal was not reached or the connection broke. */
	networkCode?: string;
	/** The network's own words for it. */
	networkText?: string;
	/** A submit fal may have accepted: deliberately not sent again. */
	maybeAccepted?: boolean;
	/** The item stopped and fal confirmed the cancel of its request. */
	cancelledAtFal?: boolean;
	attempts?: number;
}

/**
 * Every failure on the way to fal and of fal's answers. Never carries the underlying
 * error as `cause`: `@fal-ai/client` walks causes to decide on retries of its own, and the
 * HTTP library's errors carry the request headers, and with them the key.
 */
export class FalError extends Error {
	constructor(
		message: string,
		readonly fields: FalErrorFields = {},
	) {
		super(message);
		this.name = 'FalError';
	}
}

export const falError = (words: Words, fields: FalErrorFields = {}) =>
	new FalError(words.message, { ...fields, words });

/** Stopped by a signal (ours), not failed. */
export function isAbort(error: unknown): boolean {
	const name = (error as { name?: unknown } | undefined)?.name;
	return name === 'AbortError' || name === 'TimeoutError';
}

/** Auth, not-found and validation answers will not change on retry; everything else may. */
export function isPermanent(error: unknown): boolean {
	if (!(error instanceof FalError)) return !isNetworkError(error);
	const { status, networkCode, words } = error.fields;
	if (networkCode && TLS_FAILURES.has(networkCode)) return true;
	if (status === undefined) return words !== undefined && networkCode === undefined;
	return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** A network error as Node's HTTP stacks raise it: a code somewhere in the cause chain. */
export function networkCodeOf(error: unknown): string | undefined {
	let current: unknown = error;
	for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
		if (isAbort(current)) return undefined;
		const { code } = current as { code?: unknown };
		if (typeof code === 'string') return code;
		current = (current as { cause?: unknown }).cause;
	}
	return undefined;
}

/**
 * A failure on the way to fal: fetch's "fetch failed" around it, or a code of sockets, DNS,
 * TLS or HTTP. Not any code: a binary file n8n cannot read (ENOENT) or a full disk (ENOSPC)
 * is n8n's, and must not read "could not reach fal".
 */
function isNetworkError(error: unknown): boolean {
	const code = networkCodeOf(error);
	if (code === undefined) return false;
	return (
		(error instanceof TypeError && error.message === 'fetch failed') ||
		NETWORK_CODE.test(code) ||
		TLS_FAILURES.has(code)
	);
}

const NETWORK_CODE =
	/^(?:ECONN|EHOST|ENET|EPIPE|EAI_|ETIMEDOUT|ENOTFOUND|EPROTO|UND_ERR_|ERR_(?:TLS|SSL|HTTP|SOCKET|STREAM_PREMATURE_CLOSE))/;

/** Whether an error came from fal, or from the network between n8n and fal. */
export function isFalFailure(error: unknown): boolean {
	return error instanceof FalError || isNetworkError(error);
}

/** The innermost message that comes with a code: the network's own words. */
export function networkText(error: unknown): string {
	let current: unknown = error;
	let text = error instanceof Error ? error.message : String(error);
	for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
		const { code, message } = current as { code?: unknown; message?: unknown };
		if (typeof code === 'string' && typeof message === 'string') text = message;
		current = (current as { cause?: unknown }).cause;
	}
	return text;
}

/** A network failure as a FalError: its code and words, nothing else of it. */
export function networkFailure(error: unknown, fields: FalErrorFields = {}): FalError {
	const networkCode = networkCodeOf(error) ?? fields.networkCode;
	const text = networkText(error);
	return new FalError(text, { ...fields, networkCode, networkText: text });
}

export interface Described extends Words {
	status?: number;
	requestId?: string;
	/** fal's own text, kept with the error (shortened). */
	detail?: string;
}

/** Explains any failure of the transport in the user's words, with fal's own detail text. */
export function describeFalError(error: unknown, requestId?: string): Described {
	if (!(error instanceof FalError))
		return describeNetwork(networkCodeOf(error), networkText(error));
	const fields = error.fields;
	const id = fields.requestId ?? requestId;
	if (fields.words) return { ...fields.words, status: fields.status, requestId: id };
	const described =
		fields.status !== undefined
			? describeAnswer(fields.status, fields.body, id)
			: describeNetwork(fields.networkCode, fields.networkText ?? error.message);
	if (fields.maybeAccepted) {
		const what =
			fields.status !== undefined
				? `HTTP ${fields.status}`
				: ((fields.networkCode && NETWORK_FAILURES[fields.networkCode]) ?? 'a network error');
		return { ...described, ...fal.maybeAccepted(what, described.message), requestId: id };
	}
	const tries = (fields.attempts ?? 1) > 1 ? ` (tried ${fields.attempts} times)` : '';
	return { ...described, description: `${described.description}${tries}`, requestId: id };
}

interface FieldError {
	loc?: unknown[];
	msg?: string;
	type?: string;
}

/** fal answered with an error status; its own words are in `detail`. */
function describeAnswer(status: number, rawBody: unknown, requestId?: string): Described {
	const body = (rawBody && typeof rawBody === 'object' ? rawBody : {}) as {
		detail?: unknown;
		error_type?: unknown;
	};
	const fieldErrors = Array.isArray(body.detail) ? (body.detail as FieldError[]) : [];
	const full = formatDetail(body.detail) ?? (typeof rawBody === 'string' ? rawBody.trim() : '');
	const detail = shorten(full, CAPS.detailInMessage);
	const base = { status, requestId, detail: shorten(full, CAPS.detailKept) };
	if (status === 401) return { ...base, ...fal.badKey(detail || 'Unauthorized') };
	if (status === 407) return { ...base, ...fal.proxyLogin() };
	if (status === 403 && /balance|locked/i.test(full)) return { ...base, ...fal.locked(detail) };
	if (
		fieldErrors.some((e) => e.type === 'content_policy_violation') ||
		/content.policy/i.test(full)
	)
		return { ...base, ...fal.contentPolicy(detail) };
	if (status === 422)
		return { ...base, ...fal.rejected(detail || 'invalid input', hintFor(fieldErrors), requestId) };
	if (status === 404)
		return {
			...base,
			...(requestId ? fal.noSuchRequest(requestId, detail) : fal.notFound(detail)),
		};
	if (status === 429) return { ...base, ...fal.rateLimited(detail) };
	if (status >= 500) {
		const type = typeof body.error_type === 'string' ? shorten(body.error_type, 60) : '';
		return { ...base, ...fal.serverError(status, type, detail, requestId) };
	}
	return { ...base, ...fal.otherStatus(status, detail, requestId) };
}

function describeNetwork(code: string | undefined, text: string): Described {
	const words =
		code && TLS_FAILURES.has(code)
			? fal.untrustedCertificate(text, code)
			: fal.unreachable((code && NETWORK_FAILURES[code]) ?? text, code ?? 'no error code', text);
	return { ...words, detail: shorten(text, CAPS.detailKept) };
}

/** fal puts the useful words in `detail`: a string, or pydantic's list of field errors. */
export function formatDetail(detail: unknown): string | undefined {
	if (typeof detail === 'string') return detail;
	if (!Array.isArray(detail) || detail.length === 0) return undefined;
	return (detail as FieldError[])
		.slice(0, CAPS.listed)
		.map((entry) => {
			const field = Array.isArray(entry.loc)
				? entry.loc.filter((part) => part !== 'body').join('.')
				: '';
			return `${field ? `${field}: ` : ''}${entry.msg ?? 'invalid'}${entry.type ? ` (${entry.type})` : ''}`;
		})
		.join('; ');
}

const FIELD_HINTS: Record<string, string> = {
	image_url:
		'Check the image: fal must be able to download it, and it must be a PNG, JPEG or WebP.',
	mask_url:
		'Check the mask: it must be an image of exactly the same width and height as the image.',
	prompt: 'Check the prompt.',
	num_images: 'Number of Images must be 1 to 4.',
	seed: 'Seed must be a whole number.',
	output_format: 'Output Format must be JPEG or PNG.',
	safety_tolerance: 'Safety Tolerance must be 1 to 6.',
	finetune_id:
		'Check the Finetune ID: it must name a FLUX.1 [pro] finetune of the fal account whose key the credential holds, trained and ready (fal dashboard, Finetunes).',
	finetune_strength: 'Finetune Strength must be 0 to 2.',
};

function hintFor(errors: FieldError[]): string {
	const hints = new Set(
		errors
			.map((e) => FIELD_HINTS[String(Array.isArray(e.loc) ? e.loc.at(-1) : '')])
			.filter(Boolean),
	);
	return hints.size ? [...hints].join(' ') : 'Check the parameters named in the message.';
}

/** Certificate failures: the answer to them is a trusted root, not a retry. */
export const TLS_FAILURES = new Set([
	'SELF_SIGNED_CERT_IN_CHAIN',
	'DEPTH_ZERO_SELF_SIGNED_CERT',
	'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
	'UNABLE_TO_GET_ISSUER_CERT',
	'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
	'CERT_UNTRUSTED',
	'CERT_HAS_EXPIRED',
	'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export const NETWORK_FAILURES: Record<string, string> = {
	ECONNREFUSED: 'the connection was refused',
	ECONNRESET: 'the connection was reset',
	ENOTFOUND: 'the host name was not found',
	EAI_AGAIN: 'the host name could not be looked up',
	ETIMEDOUT: 'the connection timed out',
	EHOSTUNREACH: 'the host is unreachable',
	UND_ERR_SOCKET: 'the connection closed unexpectedly',
};

/** Network errors raised before the request left: safe to send again, even a submit. */
export const NOT_SENT_CODES = new Set([
	'ECONNREFUSED',
	'ENOTFOUND',
	'EAI_AGAIN',
	'EHOSTUNREACH',
	'ENETUNREACH',
	'UND_ERR_CONNECT_TIMEOUT',
]);
