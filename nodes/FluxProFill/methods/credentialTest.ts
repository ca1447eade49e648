import type {
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	INodeCredentialTestResult,
} from 'n8n-workflow';

import { redactSecrets, secretsOfKey } from '../errors/redact';
import { FAL_STORAGE_INITIATE_URL, LABELS, q } from '../helpers/spec';
import type { InputProblem } from '../errors/InputProblem';
import { checkProxyUrl } from '../transport/falClient';
import { describeFalError, describeNetworkError, FalError } from '../transport/falError';

const TEST_TIMEOUT_MS = 15_000;

/**
 * The credential dialog's test, in the words the node uses at run time. It asks fal to
 * open a storage upload: that needs a valid key and costs nothing (no bytes follow);
 * fal's model list would answer even a wrong key, and a generation would be billed.
 */
export async function falApiCredentialTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const apiKey = String(credential.data?.apiKey ?? '').trim();
	if (apiKey === '') {
		return { status: 'Error', message: 'Enter your fal API key: the whole key_id:key_secret' };
	}
	let proxyUrl: string | undefined;
	try {
		proxyUrl = checkProxyUrl(String(credential.data?.proxyUrl ?? ''));
	} catch (error) {
		const problem = error as InputProblem;
		return { status: 'Error', message: `${problem.message}. ${problem.description}` };
	}
	const clean = (text: string) => redactSecrets(text, secretsOfKey(apiKey));
	try {
		// n8n's request helper, not Node's fetch: the test must take the same way through
		// n8n's proxy and certificate settings as the node's own requests.
		const answer = (await this.helpers.request({
			method: 'POST',
			uri: proxyUrl || FAL_STORAGE_INITIATE_URL,
			headers: {
				authorization: `Key ${apiKey}`,
				'content-type': 'application/json',
				...(proxyUrl ? { 'x-fal-target-url': FAL_STORAGE_INITIATE_URL } : {}),
			},
			body: JSON.stringify({ content_type: 'text/plain', file_name: 'n8n-credential-test.txt' }),
			resolveWithFullResponse: true,
			simple: false,
			timeout: TEST_TIMEOUT_MS,
		})) as { statusCode: number; body: unknown };
		if (answer.statusCode >= 200 && answer.statusCode < 300) {
			return { status: 'OK', message: 'Connection tested successfully' };
		}
		const failure = describeFalError(
			new FalError(`HTTP ${answer.statusCode}`, {
				status: answer.statusCode,
				body: parseJson(answer.body),
			}),
		);
		return { status: 'Error', message: clean(`${failure.message}. ${failure.description}`) };
	} catch (error) {
		if (proxyUrl) {
			const failure = describeNetworkError(error);
			return {
				status: 'Error',
				message: clean(
					`Could not reach the proxy at ${originOf(proxyUrl)}: ${failure.message.replace(/^Could not reach fal: /, '')}. Check that the proxy is running and reachable from n8n, or empty ${q(LABELS.proxyUrl)} to call fal directly.`,
				),
			};
		}
		const failure = describeNetworkError(error);
		return { status: 'Error', message: clean(`${failure.message}. ${failure.description}`) };
	}
}

function parseJson(body: unknown): unknown {
	const text = Buffer.isBuffer(body) ? body.toString('utf8') : body;
	if (typeof text !== 'string') return text;
	try {
		return JSON.parse(text) as unknown;
	} catch {
		return text.slice(0, 300);
	}
}

/** Scheme, host and port only: a proxy URL may carry a user and password. */
function originOf(url: string): string {
	try {
		return new URL(url).origin;
	} catch {
		return 'the configured URL';
	}
}
