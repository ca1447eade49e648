import { ApiError, ValidationError } from '@fal-ai/client';

import {
	describeFalError,
	FalError,
	formatDetail,
} from '../../nodes/FluxProFill/transport/falError';
import { redactSecrets, secretsOfKey } from '../../nodes/FluxProFill/errors/redact';

describe('formatDetail', () => {
	it("joins pydantic's field errors with their field names", () => {
		expect(
			formatDetail([
				{
					loc: ['body', 'num_images'],
					msg: 'Input should be less than or equal to 4',
					type: 'less_than_equal',
				},
				{ loc: ['body', 'prompt'], msg: 'Field required', type: 'missing' },
			]),
		).toBe(
			'num_images: Input should be less than or equal to 4 (less_than_equal); prompt: Field required (missing)',
		);
	});

	it('passes a string detail through and ignores anything else', () => {
		expect(formatDetail('Not Found')).toBe('Not Found');
		expect(formatDetail({ weird: true })).toBeUndefined();
	});
});

describe('describeFalError', () => {
	const api = (status: number, body: unknown, requestId = 'req-1') =>
		new (status === 422 ? ValidationError : ApiError)({
			message: 'Status text',
			status,
			body,
			requestId,
		});

	it("shows fal's 422 detail instead of the status text", () => {
		const failure = describeFalError(
			api(422, {
				detail: [
					{
						loc: ['body', 'mask_url'],
						msg: 'Mask dimensions (10x10) must match image dimensions (20x20)',
						type: 'value_error',
					},
				],
			}),
		);
		expect(failure.message).toBe(
			'fal rejected the request: mask_url: Mask dimensions (10x10) must match image dimensions (20x20) (value_error)',
		);
		expect(failure.description).toContain('same width and height');
		expect(failure).toMatchObject({ status: 422, requestId: 'req-1' });
	});

	it('explains 401, exhausted balance and content policy plainly', () => {
		expect(
			describeFalError(api(401, { detail: 'No user found for Key ID and Secret' })).message,
		).toBe('fal did not accept the API key');
		const balance = describeFalError(
			api(403, { detail: 'User is locked. Reason: Exhausted balance.' }),
		);
		expect(balance.message).toContain('out of credit');
		expect(balance.description).toContain('https://fal.ai/dashboard/billing');
		const policy = describeFalError(
			api(422, {
				detail: [{ loc: ['body', 'prompt'], msg: 'flagged', type: 'content_policy_violation' }],
			}),
		);
		expect(policy.message).toBe('fal refused this request under its content policy');
	});

	it('names the error type of a server error', () => {
		const failure = describeFalError(
			api(503, { detail: 'No runner', error_type: 'runner_unavailable' }),
		);
		expect(failure.message).toBe(
			'fal had a server error (HTTP 503) (runner_unavailable): No runner',
		);
	});

	it('copes with a non-JSON error body', () => {
		const failure = describeFalError(
			new ApiError({ message: 'HTTP 502: Bad Gateway', status: 502, body: undefined }),
		);
		expect(failure.message).toBe('fal had a server error (HTTP 502): HTTP 502: Bad Gateway');
	});

	it('explains network failures with their code', () => {
		const error = new TypeError('fetch failed', {
			cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
		});
		const failure = describeFalError(error);
		expect(failure.message).toBe('Could not reach fal: the connection was refused');
		expect(failure.description).toContain('(ECONNREFUSED: connect ECONNREFUSED)');
	});

	it('points at a company proxy without reading the environment', () => {
		const error = new TypeError('fetch failed', {
			cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
		});
		const failure = describeFalError(error);
		expect(failure.description).toContain('HTTPS_PROXY / https_proxy');
		expect(failure.description).toContain('NO_PROXY');
	});

	it.each([
		['SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'],
		['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'],
	])('explains an untrusted certificate (%s) with NODE_EXTRA_CA_CERTS', (code, text) => {
		const error = new TypeError('fetch failed', {
			cause: Object.assign(new Error(text), { code }),
		});
		const failure = describeFalError(error);
		expect(failure.message).toBe(
			`Could not reach fal: the HTTPS certificate was not trusted (${text})`,
		);
		expect(failure.description).toContain('NODE_EXTRA_CA_CERTS=');
		expect(failure.description).toContain(code);
	});

	it("explains a proxy's HTTP 407", () => {
		const failure = describeFalError(new FalError('HTTP 407', { status: 407, body: '' }));
		expect(failure.message).toBe(
			"Your network's proxy asked for a user name and password (HTTP 407)",
		);
		expect(failure.description).toContain('http://user:password@');
	});

	it("keeps the transport's own errors as they are", () => {
		const failure = describeFalError(
			new FalError('timed out', { description: 'raise the timeout', requestId: 'req-9' }),
		);
		expect(failure).toMatchObject({
			message: 'timed out',
			description: 'raise the timeout',
			requestId: 'req-9',
		});
	});
});

describe('redactSecrets', () => {
	it('hides the whole key and its secret half', () => {
		const secrets = secretsOfKey('abcd-id:super-secret-value');
		expect(redactSecrets('Key abcd-id:super-secret-value and super-secret-value', secrets)).toBe(
			'Key *** and ***',
		);
	});
});
