import { ApiError } from '@fal-ai/client';

import { FAL_BILLING_URL, FAL_KEYS_URL } from '../helpers/spec';

/** A fal failure in words for users, independent of n8n's error classes. */
export interface FalFailure {
	message: string;
	description: string;
	/** HTTP status of fal's answer; undefined when fal was not reached. */
	status?: number;
	requestId?: string;
	/** fal's own error text, verbatim, for the error's details. */
	detail?: string;
}

interface FieldError {
	loc?: unknown[];
	msg?: string;
	type?: string;
}

export interface FalErrorFields {
	/** What to do about it, for the user; when set, the message is already the user's. */
	description?: string;
	/** HTTP status of fal's answer; undefined when fal was not reached. */
	status?: number;
	/** fal's answer body, parsed as JSON where it was JSON. */
	body?: unknown;
	requestId?: string;
	/** How many times the request was sent. */
	attempts?: number;
	/** A request that starts paid work which fal may have accepted: deliberately not sent again. */
	maybeAccepted?: boolean;
	/** The network error code (ECONNRESET, …) when fal was not reached or the connection broke. */
	networkCode?: string;
	/** The item stopped and fal confirmed the cancel of its request. */
	cancelledAtFal?: boolean;
	/**
	 * The underlying error. Not `cause`: `@fal-ai/client` walks causes to decide on its own
	 * retries, and this error means retrying is over.
	 */
	original?: unknown;
}

/**
 * Every failure of the way to fal and of fal's answers that the node detects itself:
 * retries used up, a submit that must not be resent, timeouts, bad answers. `@fal-ai/client`'s
 * own ApiError and fetch's TypeError are the only other errors the transport lets through.
 */
export class FalError extends Error implements FalErrorFields {
	readonly description?: string;
	readonly status?: number;
	readonly body?: unknown;
	readonly requestId?: string;
	readonly attempts: number;
	readonly maybeAccepted: boolean;
	readonly networkCode?: string;
	readonly original?: unknown;
	readonly cancelledAtFal: boolean;

	constructor(message: string, fields: FalErrorFields = {}) {
		super(message);
		this.name = 'FalError';
		this.description = fields.description;
		this.status = fields.status;
		this.body = fields.body;
		this.requestId = fields.requestId;
		this.attempts = fields.attempts ?? 1;
		this.maybeAccepted = fields.maybeAccepted ?? false;
		this.networkCode = fields.networkCode;
		this.original = fields.original;
		this.cancelledAtFal = fields.cancelledAtFal ?? false;
	}
}

/** The first error in `error`'s cause chain (itself included) for which `pick` gives a value. */
export function findInCauses<T>(
	error: unknown,
	pick: (candidate: object) => T | undefined,
): T | undefined {
	let current: unknown = error;
	for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
		const found = pick(current);
		if (found !== undefined) return found;
		current = (current as { cause?: unknown }).cause;
	}
	return undefined;
}

/** A Node network error code (ECONNRESET, UND_ERR_SOCKET, …) anywhere in the cause chain. */
export function findErrorCode(error: unknown): string | undefined {
	return findInCauses(error, (candidate) => {
		const { code } = candidate as { code?: unknown };
		return typeof code === 'string' ? code : undefined;
	});
}

/** Whether an error came from fal, or from the network between n8n and fal. */
export function isFalFailure(error: unknown): boolean {
	if (error instanceof FalError || error instanceof ApiError) return true;
	if (findErrorCode(error) !== undefined) return true;
	// fetch's own failures are TypeErrors; compared by name, as they may come from another realm.
	const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
	return name === 'TypeError' && typeof message === 'string' && /fetch failed/i.test(message);
}

/** Explains any error from `@fal-ai/client` or the transport, with fal's own detail text. */
export function describeFalError(error: unknown, context: { requestId?: string } = {}): FalFailure {
	if (error instanceof FalError) {
		const requestId = error.requestId ?? context.requestId;
		if (error.description !== undefined) {
			return {
				message: error.message,
				description: error.description,
				status: error.status,
				requestId,
			};
		}
		const failure =
			error.status !== undefined
				? describeAnswer(error.status, error.body, requestId, error.message)
				: describeNetworkError(error.original ?? error, requestId);
		if (error.maybeAccepted) {
			const what =
				error.status !== undefined
					? `HTTP ${error.status}`
					: ((error.networkCode && NETWORK_FAILURES[error.networkCode]) ?? 'a network error');
			return ambiguousSubmit(failure, what);
		}
		return error.attempts > 1
			? { ...failure, description: `${failure.description} (tried ${error.attempts} times)` }
			: failure;
	}
	if (error instanceof ApiError) {
		return describeAnswer(
			error.status,
			error.body,
			error.requestId || context.requestId,
			error.message,
		);
	}
	return describeNetworkError(error, context.requestId);
}

/**
 * fal may have queued the request before the connection failed. Sending it again could
 * bill the user twice, so the item fails and says where to look instead.
 */
function ambiguousSubmit(failure: FalFailure, what: string): FalFailure {
	return {
		...failure,
		message: `Sending the request to fal failed (${what}), and fal may have accepted it anyway`,
		description: `It was not sent again, so you are not charged twice. Check your fal dashboard's request history; run the item again if the request is not there. ${failure.message}.`,
	};
}

/** fal answered with an error status; its own words are in `detail`. */
function describeAnswer(
	status: number,
	rawBody: unknown,
	requestId: string | undefined,
	fallback: string,
): FalFailure {
	const body = (typeof rawBody === 'object' && rawBody !== null ? rawBody : undefined) as
		{ detail?: unknown; error_type?: unknown } | undefined;
	const detailText =
		formatDetail(body?.detail) ??
		(typeof rawBody === 'string' && rawBody.trim() ? rawBody.trim().slice(0, 300) : undefined);
	const fieldErrors = Array.isArray(body?.detail) ? (body.detail as FieldError[]) : [];
	const detail = detailText ?? fallback;
	const base = { status, requestId, detail };

	if (status === 401) {
		return {
			...base,
			message: 'fal did not accept the API key',
			description: `Check the fal credential: the key must be the full "key_id:key_secret" from ${FAL_KEYS_URL}, with no spaces. fal said: ${detail ?? 'Unauthorized'}`,
		};
	}
	if (status === 407) {
		return {
			...base,
			message: "Your network's proxy asked for a user name and password (HTTP 407)",
			description:
				'n8n reached the proxy set in its HTTPS_PROXY / HTTP_PROXY environment variables, but the proxy wants credentials. Put them into that variable (http://user:password@proxy.example.com:3128) and restart n8n.',
		};
	}
	if (status === 403 && /balance|locked/i.test(detail ?? '')) {
		return {
			...base,
			message: 'Your fal account cannot run requests: it is out of credit or locked',
			description: `Top up or unlock the account at ${FAL_BILLING_URL}, then run the workflow again. fal said: ${detail}`,
		};
	}
	if (
		fieldErrors.some((e) => e.type === 'content_policy_violation') ||
		/content.policy/i.test(detail ?? '')
	) {
		return {
			...base,
			message: 'fal refused this request under its content policy',
			description: `The prompt or the image was flagged. Change the prompt or the picture; raising "Safety Tolerance" only affects how strictly outputs are filtered. fal said: ${detail}`,
		};
	}
	if (status === 422) {
		return {
			...base,
			message: `fal rejected the request: ${detail ?? 'invalid input'}`,
			description: `${hintForFields(fieldErrors)} Request ID ${requestId ?? 'unknown'}.`,
		};
	}
	if (status === 404) {
		return {
			...base,
			message: requestId
				? `fal has no request with ID ${requestId}`
				: `fal answered "not found"${detail ? `: ${detail}` : ''}`,
			description: requestId
				? `Check the request ID: a request can only be read with the key that submitted it, and fal keeps requests for a limited time. fal said: ${detail}`
				: 'The endpoint does not exist for this key. If a proxy URL is set in the credential, check that it forwards to fal.',
		};
	}
	if (status === 429) {
		return {
			...base,
			message: `fal is rate-limiting this account${detail ? `: ${detail}` : ''}`,
			description:
				"Too many requests at once for your fal account. Lower the node's concurrency, or retry later.",
		};
	}
	if (status >= 500) {
		const type = typeof body?.error_type === 'string' ? ` (${body.error_type})` : '';
		return {
			...base,
			message: `fal had a server error (HTTP ${status})${type}${detail ? `: ${detail}` : ''}`,
			description: `This is on fal's side and usually passes. Run the workflow again; if it keeps failing, check https://status.fal.ai.${requestId ? ` Request ID ${requestId}.` : ''}`,
		};
	}
	return {
		...base,
		message: `fal answered HTTP ${status}${detail ? `: ${detail}` : ''}`,
		description: `See fal's message above.${requestId ? ` Request ID ${requestId}.` : ''}`,
	};
}

export function describeNetworkError(error: unknown, requestId?: string): FalFailure {
	const code = findErrorCode(error);
	// The innermost message with a code is the network's own words; "fetch failed" says nothing.
	const text =
		findInCauses(error, (candidate) => {
			const { code: own, message } = candidate as { code?: unknown; message?: unknown };
			return typeof own === 'string' && typeof message === 'string' ? message : undefined;
		}) ?? (error instanceof Error ? error.message : String(error));
	if (code && TLS_FAILURES.has(code)) {
		return {
			message: `Could not reach fal: the HTTPS certificate was not trusted (${text})`,
			description: `A proxy or firewall between n8n and fal most likely re-signs HTTPS traffic with your organisation's own certificate, which this n8n does not trust. Give n8n that root certificate: set NODE_EXTRA_CA_CERTS=/path/to/company-root-ca.pem in n8n's environment (on every main and worker process) and restart n8n. Do not switch certificate checks off. (${code})`,
			requestId,
			detail: text,
		};
	}
	return {
		message: `Could not reach fal: ${(code && NETWORK_FAILURES[code]) ?? text}`,
		description: `Check that this n8n server can reach fal.ai over HTTPS, and if the credential has a proxy URL, that the proxy is running. If n8n goes out through a company proxy (HTTPS_PROXY / https_proxy in n8n's environment), check that it is running and lets n8n reach *.fal.run, *.fal.ai and *.fal.media, or list those in NO_PROXY if they can be reached directly. (${code ?? 'no error code'}: ${text})`,
		requestId,
		detail: text,
	};
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

/** fal puts the useful words in `detail`: a string, or pydantic's list of field errors. */
export function formatDetail(detail: unknown): string | undefined {
	if (typeof detail === 'string') return detail;
	if (!Array.isArray(detail)) return undefined;
	const parts = (detail as FieldError[]).map((entry) => {
		const field = Array.isArray(entry.loc)
			? entry.loc.filter((part) => part !== 'body').join('.')
			: '';
		return `${field ? `${field}: ` : ''}${entry.msg ?? 'invalid'}${entry.type ? ` (${entry.type})` : ''}`;
	});
	return parts.length ? parts.join('; ') : undefined;
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
};

function hintForFields(errors: FieldError[]): string {
	const hints = new Set<string>();
	for (const entry of errors) {
		const field = Array.isArray(entry.loc) ? String(entry.loc[entry.loc.length - 1]) : '';
		if (FIELD_HINTS[field]) hints.add(FIELD_HINTS[field]);
	}
	return hints.size ? [...hints].join(' ') : 'Check the parameters named in the message.';
}

const NETWORK_FAILURES: Record<string, string> = {
	ECONNREFUSED: 'the connection was refused',
	ECONNRESET: 'the connection was reset',
	ENOTFOUND: 'the host name was not found',
	EAI_AGAIN: 'the host name could not be looked up',
	ETIMEDOUT: 'the connection timed out',
	EHOSTUNREACH: 'the host is unreachable',
	UND_ERR_SOCKET: 'the connection closed unexpectedly',
};
