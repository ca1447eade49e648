import type { ICredentialType, Icon, INodeProperties } from 'n8n-workflow';

/**
 * The fal key. Tested by the node's `falApiCredentialTest` method (nodes/FluxProFill/methods),
 * which speaks fal's words and costs nothing. No `authenticate` block: it would make n8n
 * offer a "Custom API Call" that calls fal from the HTTP Request node, past the Proxy URL.
 */
export class FalApi implements ICredentialType {
	name = 'falApi';

	displayName = 'Fal API';

	documentationUrl = 'https://docs.fal.ai/authentication/key-based';

	// Typed rather than `as const`, so that n8n's icon rules read the literal.
	icon: Icon = 'file:fal.svg';

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
				'Your fal key, the whole key_id:key_secret. Create one at https://fal.ai/dashboard/keys.',
		},
		{
			displayName: 'Proxy URL (Optional)',
			name: 'proxyUrl',
			type: 'string',
			default: '',
			placeholder: 'https://my-fal-proxy.example.com/api/fal/proxy',
			description:
				"Leave empty to call fal.ai directly; set it only to send every fal request through your own fal server proxy (fal's @fal-ai/server-proxy)",
		},
	];
}
