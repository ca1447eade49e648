import { CAPS } from '../../../nodes/FluxProFill/common/constants';
import { fal as words } from '../../../nodes/FluxProFill/common/messages';
import {
	describeFalError,
	FalError,
	falError,
	formatDetail,
	isFalFailure,
	isPermanent,
	NETWORK_FAILURES,
	networkCodeOf,
	networkFailure,
	networkText,
	TLS_FAILURES,
} from '../../../nodes/FluxProFill/transport/errors';
import { abortError, fetchFailed, httpError, networkError, timeoutError } from './fakeFal';

const ID = '764cabcf-b745-4b3e-ae38-1200304cf45b';
const answer = (status: number, body: unknown, fields: Partial<FalError['fields']> = {}) =>
	new FalError(`HTTP ${status}`, { status, body, ...fields });
const fieldError = (field: string, msg: string, type = 'value_error') => ({
	loc: ['body', field],
	msg,
	type,
});

describe('describeFalError: fal answered with an error status', () => {
	it('401: the key, with what fal said', () => {
		const failure = describeFalError(answer(401, { detail: 'No user found for Key ID' }));
		expect(failure).toMatchObject({ ...words.badKey('No user found for Key ID'), status: 401 });
	});

	it('403: an account out of credit or locked, and any other 403 as it is', () => {
		const locked = 'User is locked. Reason: Exhausted balance.';
		expect(describeFalError(answer(403, { detail: locked }))).toMatchObject(words.locked(locked));
		expect(describeFalError(answer(403, { detail: 'Forbidden' }))).toMatchObject(
			words.otherStatus(403, 'Forbidden'),
		);
	});

	it('404: no such request when there is a request id, else the endpoint', () => {
		expect(describeFalError(answer(404, { detail: 'Request not found' }), ID)).toMatchObject(
			words.noSuchRequest(ID, 'Request not found'),
		);
		expect(describeFalError(answer(404, { detail: 'Not Found' }))).toMatchObject(
			words.notFound('Not Found'),
		);
	});

	it("407: the network's proxy wants a login", () => {
		expect(describeFalError(answer(407, ''))).toMatchObject(words.proxyLogin());
	});

	it("422: fal's field errors in the message, with a hint for the field", () => {
		const rejected = (field: string) =>
			describeFalError(answer(422, { detail: [fieldError(field, 'is wrong')] }, { requestId: ID }));
		const mask = rejected('mask_url');
		expect(mask).toMatchObject({ status: 422, requestId: ID });
		expect(mask.message).toBe(words.rejected('mask_url: is wrong (value_error)', '').message);
		expect(mask.description).toContain(ID);
		// Each field has its own hint, and a field without one the general one.
		const hints = new Set(
			['mask_url', 'image_url', 'whatever'].map((f) => rejected(f).description),
		);
		expect(hints.size).toBe(3);
	});

	it('422 or any status flagged under the content policy: the content policy', () => {
		const flagged = answer(422, {
			detail: [fieldError('prompt', 'flagged', 'content_policy_violation')],
		});
		expect(describeFalError(flagged).message).toBe(words.contentPolicy('').message);
		const text = answer(400, { detail: 'Request violates the content policy' });
		expect(describeFalError(text).message).toBe(words.contentPolicy('').message);
	});

	it('429: rate-limited', () => {
		expect(describeFalError(answer(429, { detail: 'Too many requests' }))).toMatchObject(
			words.rateLimited('Too many requests'),
		);
	});

	it('5xx: a server error, with its error type and the request id', () => {
		const failure = describeFalError(
			answer(503, { detail: 'No runner', error_type: 'runner_unavailable' }, { requestId: ID }),
		);
		expect(failure).toMatchObject({
			...words.serverError(503, 'runner_unavailable', 'No runner', ID),
			status: 503,
			requestId: ID,
		});
	});

	it("takes a text body (a proxy's error page) as the detail", () => {
		expect(describeFalError(answer(502, '  Bad Gateway\n'))).toMatchObject(
			words.serverError(502, '', 'Bad Gateway'),
		);
	});

	it('shortens a long detail in the message with an ellipsis, and keeps more of it, capped', () => {
		const long = 'x'.repeat(CAPS.detailKept * 3);
		const failure = describeFalError(answer(500, { detail: long }));
		expect(failure.message).toContain(`${'x'.repeat(CAPS.detailInMessage)}…`);
		expect(failure.message).not.toContain('x'.repeat(CAPS.detailInMessage + 1));
		expect(failure.detail).toBe(`${'x'.repeat(CAPS.detailKept)}…`);
		const short = describeFalError(answer(500, { detail: 'short' }));
		expect(short.detail).toBe('short');
	});

	it('counts the tries', () => {
		const once = describeFalError(answer(503, { detail: 'busy' }));
		const thrice = describeFalError(answer(503, { detail: 'busy' }, { attempts: 3 }));
		expect(thrice.message).toBe(once.message);
		const twice = describeFalError(answer(503, { detail: 'busy' }, { attempts: 2 }));
		expect(thrice.description.startsWith(once.description)).toBe(true);
		expect(new Set([once, twice, thrice].map((d) => d.description)).size).toBe(3);
	});
});

describe('describeFalError: fal was not reached', () => {
	it('names a known network failure and keeps its code and text', () => {
		const failure = describeFalError(
			fetchFailed('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:443'),
		);
		expect(failure).toMatchObject(
			words.unreachable(
				NETWORK_FAILURES.ECONNREFUSED,
				'ECONNREFUSED',
				'connect ECONNREFUSED 10.0.0.1:443',
			),
		);
		expect(failure.status).toBeUndefined();
	});

	it('the same for the FalError the checked fetch makes of it', () => {
		expect(describeFalError(networkError('ECONNRESET'))).toMatchObject(
			describeFalError(fetchFailed('ECONNRESET')),
		);
	});

	it('gives an unknown code with its own text', () => {
		expect(describeFalError(fetchFailed('ESOMETHING', 'something odd')).message).toBe(
			words.unreachable('something odd', 'ESOMETHING', 'something odd').message,
		);
	});

	it.each([...TLS_FAILURES])(
		'explains an untrusted certificate (%s), not an unreachable host, and does not retry it',
		(code) => {
			expect(describeFalError(fetchFailed(code, 'certificate trouble'))).toMatchObject(
				words.untrustedCertificate('certificate trouble', code),
			);
			expect(isPermanent(networkError(code))).toBe(true);
		},
	);

	it('caps the kept detail of a long network text', () => {
		const failure = describeFalError(fetchFailed('ECONNRESET', 'y'.repeat(CAPS.detailKept * 2)));
		expect(failure.detail).toBe(`${'y'.repeat(CAPS.detailKept)}…`);
	});
});

describe('describeFalError: the transport’s own words', () => {
	it('keeps words it was given, with the request id', () => {
		const error = falError(words.noImages(ID), { requestId: ID });
		expect(describeFalError(error)).toMatchObject({ ...words.noImages(ID), requestId: ID });
	});

	it('says a submit whose answer was lost may have been accepted, naming what failed', () => {
		const lost = describeFalError(httpError(502, { maybeAccepted: true }));
		const described = describeFalError(httpError(502));
		expect(lost).toMatchObject(words.maybeAccepted('HTTP 502', described.message));
		const cut = describeFalError(
			networkFailure(fetchFailed('ECONNRESET'), { maybeAccepted: true }),
		);
		expect(cut.message).toBe(words.maybeAccepted(NETWORK_FAILURES.ECONNRESET, '').message);
	});
});

describe('isPermanent', () => {
	it.each([400, 401, 403, 404, 422])('HTTP %i will not change on retry', (status) => {
		expect(isPermanent(httpError(status))).toBe(true);
	});

	it.each([408, 429, 500, 502, 503, 504])('HTTP %i may pass', (status) => {
		expect(isPermanent(httpError(status))).toBe(false);
	});

	it('network failures may pass; an untrusted certificate will not', () => {
		expect(isPermanent(networkError('ECONNRESET'))).toBe(false);
		expect(isPermanent(networkError())).toBe(false);
		expect(isPermanent(fetchFailed('ETIMEDOUT'))).toBe(false);
	});

	it('a bug, an abort and words of its own are not retried', () => {
		expect(isPermanent(new TypeError('undefined is not a function'))).toBe(true);
		expect(isPermanent(abortError())).toBe(true);
		expect(isPermanent(falError(words.noRequestId()))).toBe(true);
	});
});

describe('networkCodeOf and isFalFailure', () => {
	it('finds the code down the cause chain, not past an abort', () => {
		const deep = new Error('outer', {
			cause: new Error('middle', { cause: Object.assign(new Error('inner'), { code: 'EPIPE' }) }),
		});
		expect(networkCodeOf(deep)).toBe('EPIPE');
		expect(networkCodeOf(new Error('no code'))).toBeUndefined();
		expect(networkCodeOf(new Error('stopped', { cause: timeoutError() }))).toBeUndefined();
		// A stop that cut a connection is a stop, not a network failure.
		const cut = Object.assign(new Error('This operation was aborted'), {
			name: 'AbortError',
			cause: Object.assign(new Error('socket closed'), { code: 'ECONNRESET' }),
		});
		expect(networkCodeOf(cut)).toBeUndefined();
		expect(isFalFailure(cut)).toBe(false);
	});

	it('tells failures on the way to fal from errors of n8n or the node', () => {
		expect(isFalFailure(httpError(500))).toBe(true);
		expect(isFalFailure(fetchFailed('ECONNRESET'))).toBe(true);
		expect(isFalFailure(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(
			false,
		);
	});

	it.each([
		'ECONNRESET',
		'EPIPE',
		'ETIMEDOUT',
		'ENOTFOUND',
		'UND_ERR_SOCKET',
		'SELF_SIGNED_CERT_IN_CHAIN',
	])('a raw %s from a socket is on the way to fal', (code) => {
		expect(isFalFailure(Object.assign(new Error(code), { code }))).toBe(true);
	});

	it.each(['ENOENT', 'ENOSPC', 'EACCES', 'ERR_INVALID_ARG_TYPE'])(
		"a %s of n8n's files or the node is not fal's, even with a code",
		(code) => {
			const error = Object.assign(new Error(`${code}: /data/binary/abc`), { code });
			expect(isFalFailure(error)).toBe(false);
			expect(isPermanent(error)).toBe(true);
		},
	);
});

describe('networkText', () => {
	it('gives the innermost words that come with a code, else the message', () => {
		const error = new TypeError('fetch failed', {
			cause: Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), {
				code: 'ECONNREFUSED',
				cause: new Error('no code here'),
			}),
		});
		expect(networkText(error)).toBe('connect ECONNREFUSED 10.0.0.1:443');
		expect(networkText(new Error('plain'))).toBe('plain');
		expect(networkText('a string')).toBe('a string');
	});
});

describe('networkFailure', () => {
	it("keeps the network's code and words, and nothing else of the error (its request has the key)", () => {
		const raw = fetchFailed('ECONNRESET', 'socket hang up');
		Object.assign(raw, { config: { headers: { authorization: 'Key secret' } } });
		const error = networkFailure(raw);
		expect(error).toBeInstanceOf(FalError);
		expect(error.message).toBe('socket hang up');
		expect(error.fields).toMatchObject({
			networkCode: 'ECONNRESET',
			networkText: 'socket hang up',
		});
		expect(error.cause).toBeUndefined();
		expect(JSON.stringify(error.fields)).not.toContain('secret');
	});
});

describe('formatDetail', () => {
	it("joins pydantic's field errors with their field names", () => {
		expect(
			formatDetail([
				fieldError('num_images', 'Input should be less than or equal to 4', 'less_than_equal'),
				{ loc: ['body', 'prompt'], msg: 'Field required' },
				{ msg: 'Something else' },
			]),
		).toBe(
			'num_images: Input should be less than or equal to 4 (less_than_equal); prompt: Field required; Something else',
		);
	});

	it(`lists at most ${CAPS.listed} field errors`, () => {
		const many = Array.from({ length: CAPS.listed + 5 }, (_, i) => fieldError(`f${i}`, 'bad'));
		expect(formatDetail(many)?.split('; ')).toHaveLength(CAPS.listed);
	});

	it('passes a string detail through and gives nothing for anything else', () => {
		expect(formatDetail('Not Found')).toBe('Not Found');
		expect(formatDetail([])).toBeUndefined();
		expect(formatDetail({ weird: true })).toBeUndefined();
		expect(formatDetail(undefined)).toBeUndefined();
	});
});
