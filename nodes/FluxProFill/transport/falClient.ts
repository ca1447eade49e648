import { createFalClient, type FalClient } from '@fal-ai/client';

export interface FalCredentials {
	apiKey: string;
	proxyUrl?: string;
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
	const proxyUrl = credentials.proxyUrl?.trim();
	return createFalClient({
		credentials: credentials.apiKey,
		suppressLocalCredentialsWarning: true,
		...(proxyUrl ? { proxyUrl: { url: proxyUrl, when: 'always' as const } } : {}),
		...(fetchImpl ? { fetch: fetchImpl } : {}),
	});
}
