/**
 * n8n's internal REST API (/rest/…), the one the editor uses, with a logged-in owner:
 * what the credential dialog's "Test" button calls.
 *
 * n8n binds the auth cookie to a browser id (hashed into the JWT) and checks the
 * `browser-id` header on every call, so the client sends one fixed id throughout.
 */
import { randomUUID } from 'node:crypto';

export interface Owner {
	email: string;
	password: string;
	firstName: string;
	lastName: string;
}

export const TEST_OWNER: Owner = {
	email: 'owner@fal-fill.test',
	password: 'E2e-owner-password-1',
	firstName: 'E2E',
	lastName: 'Owner',
};

/** n8n's answer to a credential test. */
export interface CredentialTestResult {
	status: 'OK' | 'Error';
	message: string;
}

export class N8nRestClient {
	private cookie = '';
	private readonly browserId = randomUUID();

	constructor(readonly baseUrl: string) {}

	/** The first start has no owner: create it (as the setup screen does), then log in. */
	async setUpOwnerAndLogIn(owner: Owner = TEST_OWNER): Promise<void> {
		await this.call('POST', '/rest/owner/setup', owner);
		await this.logIn(owner);
	}

	/** Logs in as an existing user (an n8n started again on the same database). */
	async logIn(owner: Owner = TEST_OWNER): Promise<void> {
		this.cookie = '';
		await this.call('POST', '/rest/login', {
			emailOrLdapLoginId: owner.email,
			password: owner.password,
		});
		if (!this.cookie) throw new Error('n8n answered the login without an auth cookie');
	}

	/**
	 * What the credential dialog does on "Test": load the (redacted) credential, send it back
	 * to /rest/credentials/test, with `edit` on top (fields typed into the dialog, not saved).
	 */
	async testCredential(
		credential: { id: string; name: string },
		edit: Record<string, string> = {},
	): Promise<CredentialTestResult> {
		const stored = await this.call<{ data: Record<string, unknown> }>(
			'GET',
			`/rest/credentials/${credential.id}?includeData=true`,
		);
		return await this.call<CredentialTestResult>('POST', '/rest/credentials/test', {
			credentials: {
				id: credential.id,
				name: credential.name,
				type: 'falApi',
				data: { ...stored.data, ...edit },
			},
		});
	}

	/** A REST call; answers n8n's `data` and throws on any non-2xx status. */
	async call<T = unknown>(
		method: 'GET' | 'POST' | 'PATCH',
		path: string,
		body?: unknown,
	): Promise<T> {
		const answer = await this.request<{ data: T } | undefined>(method, path, body);
		return answer?.data as T;
	}

	/** Any authenticated call (also outside /rest, such as /types/nodes.json); answers the parsed body. */
	async request<T = unknown>(
		method: 'GET' | 'POST' | 'PATCH',
		path: string,
		body?: unknown,
	): Promise<T> {
		const response = await fetch(`${this.baseUrl}${path}`, {
			method,
			headers: {
				'content-type': 'application/json',
				'browser-id': this.browserId,
				...(this.cookie ? { cookie: this.cookie } : {}),
			},
			body: body === undefined ? undefined : JSON.stringify(body),
			signal: AbortSignal.timeout(60_000),
		});
		const authCookie = response.headers
			.getSetCookie()
			.find((cookie) => cookie.startsWith('n8n-auth='));
		if (authCookie) this.cookie = authCookie.split(';')[0];
		const text = await response.text();
		if (!response.ok)
			throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
		return (text ? JSON.parse(text) : undefined) as T;
	}
}

/** One entry of the editor's node catalogue (`/types/nodes.json`), as far as the tests read it. */
export interface NodeTypeEntry {
	name: string;
	displayName: string;
	version: number | number[];
	inputs?: unknown;
	outputs?: unknown;
	credentials?: Array<{ name: string; testedBy?: string }>;
	properties?: Array<{ name: string }>;
}
