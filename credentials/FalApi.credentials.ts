import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

/**
 * The credential test asks fal to open a storage upload: it needs a valid key and
 * costs nothing (no bytes follow). fal's model list would answer even a wrong key,
 * and a generation would bill the user on every click.
 */
export const FAL_CREDENTIAL_TEST_URL =
	'https://rest.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3';

export class FalApi implements ICredentialType {
	name = 'falApi';

	displayName = 'Fal API';

	documentationUrl = 'https://docs.fal.ai/authentication/key-based';

	icon = 'file:fal.svg' as const;

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
			placeholder: 'key_id:key_secret',
			description:
				'Your fal key, in the form key_id:key_secret. Create one at https://fal.ai/dashboard/keys.',
		},
		{
			displayName: 'Proxy URL',
			name: 'proxyUrl',
			type: 'string',
			default: '',
			placeholder: 'https://my-fal-proxy.example.com/api/fal/proxy',
			description:
				"Leave empty to call fal.ai directly. Otherwise every fal API request is sent to this URL with the original URL in the x-fal-target-url header (the protocol of fal's @fal-ai/server-proxy).",
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				Authorization: '=Key {{$credentials.apiKey}}',
			},
		},
	};

	test: ICredentialTestRequest = {
		request: {
			method: 'POST',
			url: `={{ ($credentials.proxyUrl || "").trim() || "${FAL_CREDENTIAL_TEST_URL}" }}`,
			headers: {
				'x-fal-target-url': `={{ ($credentials.proxyUrl || "").trim() ? "${FAL_CREDENTIAL_TEST_URL}" : undefined }}`,
			},
			body: { content_type: 'text/plain', file_name: 'n8n-credential-test.txt' },
			json: true,
		},
	};
}
