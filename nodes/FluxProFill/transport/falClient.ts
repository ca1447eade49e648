import { createFalClient, type FalClient } from '@fal-ai/client';

import { InputProblem } from '../errors/InputProblem';
import { LABELS, q } from '../helpers/spec';

export interface FalCredentials {
	apiKey: string;
	proxyUrl?: string;
}

/**
 * Everything the transport needs to reach fal for one execution: the client, and for
 * the one call made without it (the status stream, whose reader in the client cannot be
 * made safe) the same retrying fetch, key and proxy.
 */
export interface FalAccess {
	client: FalClient;
	fetch: typeof fetch;
	apiKey: string;
	proxyUrl?: string;
}

export function createFalAccess(credentials: FalCredentials, fetchImpl: typeof fetch): FalAccess {
	return {
		client: createFalClientForCredentials(credentials, fetchImpl),
		fetch: fetchImpl,
		apiKey: credentials.apiKey,
		proxyUrl: checkProxyUrl(credentials.proxyUrl),
	};
}

/** A fal API URL as the client would send it: to fal, or to the proxy with fal's URL in a header. */
export function falRequest(
	access: FalAccess,
	url: string,
	init: RequestInit = {},
): [string, RequestInit] {
	const headers = new Headers(init.headers);
	headers.set('authorization', `Key ${access.apiKey}`);
	if (!access.proxyUrl) return [url, { ...init, headers }];
	headers.set('x-fal-target-url', url);
	return [access.proxyUrl, { ...init, headers }];
}

/**
 * One client per execution, with the key passed explicitly. The library's global
 * configuration would be shared by every workflow in the n8n process, and without a
 * key the library silently falls back to a key from the server's environment.
 */
export function createFalClientForCredentials(
	credentials: FalCredentials,
	fetchImpl?: typeof fetch,
): FalClient {
	const proxyUrl = checkProxyUrl(credentials.proxyUrl);
	return createFalClient({
		credentials: credentials.apiKey,
		suppressLocalCredentialsWarning: true,
		...(proxyUrl ? { proxyUrl: { url: proxyUrl, when: 'always' as const } } : {}),
		...(fetchImpl ? { fetch: fetchImpl } : {}),
	});
}

/**
 * The credential's Proxy URL, checked: empty means fal directly. A user and password in
 * it cannot work (fetch refuses such URLs, and the Authorization header carries the fal
 * key), so they are refused with a message that never repeats them.
 */
export function checkProxyUrl(value: string | undefined): string | undefined {
	const text = value?.trim();
	if (!text) return undefined;
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new InputProblem(
			`The credential's ${q(LABELS.proxyUrl)} is not a valid URL`,
			`Enter the full address of your fal server proxy, such as https://example.com/api/fal/proxy, or leave ${q(LABELS.proxyUrl)} empty to call fal directly.`,
		);
	}
	if (url.username || url.password) {
		throw new InputProblem(
			`The credential's ${q(LABELS.proxyUrl)} contains a user name and password, which the node cannot send`,
			`The node sends the fal key in the Authorization header, so a proxy cannot get other credentials from it. Remove "user:password@" from ${q(LABELS.proxyUrl)} and protect the proxy another way (its own network, or the key check of fal's server proxy).`,
		);
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		throw new InputProblem(
			`The credential's ${q(LABELS.proxyUrl)} uses ${url.protocol.replace(/:$/, '')}://`,
			'A fal server proxy is reached over http(s).',
		);
	}
	return text;
}
