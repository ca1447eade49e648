import type {
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	INodeCredentialTestResult,
} from 'n8n-workflow';

import { FAL_STORAGE_INITIATE_URL } from '../common/constants';
import { credentialTest as words, type InputProblem } from '../common/messages';
import { redactSecrets, secretsOfKey } from '../common/redact';
import { describeFalError, FalError } from '../transport/errors';
import { checkProxyUrl, parseJson } from '../transport/falClient';

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
	if (apiKey === '') return { status: 'Error', message: words.noKey };
	let proxyUrl: string | undefined;
	try {
		proxyUrl = checkProxyUrl(String(credential.data?.proxyUrl ?? ''));
	} catch (error) {
		const problem = error as InputProblem;
		return { status: 'Error', message: `${problem.message}. ${problem.description}` };
	}
	const clean = (text: string) => redactSecrets(text, secretsOfKey(apiKey));
	try {
		// n8n's request helper, not Node's fetch: the test takes the same way through n8n's
		// proxy and certificate settings as the node's own requests.
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
		if (answer.statusCode >= 200 && answer.statusCode < 300)
			return { status: 'OK', message: words.ok };
		const raw = Buffer.isBuffer(answer.body) ? answer.body.toString('utf8') : answer.body;
		const body = typeof raw === 'string' ? (parseJson(raw) ?? raw.slice(0, 300)) : raw;
		const failure = describeFalError(new FalError('', { status: answer.statusCode, body }));
		return { status: 'Error', message: clean(`${failure.message}. ${failure.description}`) };
	} catch (error) {
		const failure = describeFalError(error);
		const message = proxyUrl
			? words.proxyUnreachable(
					originOf(proxyUrl),
					failure.message.replace(/^Could not reach fal: /, ''),
				)
			: `${failure.message}. ${failure.description}`;
		return { status: 'Error', message: clean(message) };
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
