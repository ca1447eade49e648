/**
 * The harness's stand-in for n8n's CLI CredentialsHelper (which reads encrypted
 * credentials from the database). Nodes reach it through the real code paths:
 * `this.getCredentials(type)` -> `additionalData.credentialsHelper.getDecrypted`,
 * and `this.helpers.httpRequestWithAuthentication(type, ...)` ->
 * `preAuthentication` + `authenticate`.
 */
import { Credentials } from 'n8n-core';
import type {
	ICredentialDataDecryptedObject,
	ICredentialType,
	IHttpRequestHelper,
	IHttpRequestOptions,
	INode,
	INodeCredentialsDetails,
	INodeProperties,
	IRequestOptionsSimplified,
	IWorkflowExecuteAdditionalData,
	Workflow,
} from 'n8n-workflow';
import { ICredentialsHelper, isExpression, UnexpectedError } from 'n8n-workflow';

/** Decrypted credential data keyed by credential type name, e.g. `{ falApi: { apiKey } }`. */
export type CredentialsByType = Record<string, ICredentialDataDecryptedObject>;

export class HarnessCredentialsHelper extends ICredentialsHelper {
	private readonly data: CredentialsByType;

	private readonly types: Map<string, ICredentialType>;

	constructor(credentials: CredentialsByType = {}, credentialTypes: ICredentialType[] = []) {
		super();
		// Copy so a node (or preAuthentication) mutating what it got cannot leak into the test's objects.
		this.data = structuredClone(credentials);
		this.types = new Map(credentialTypes.map((type) => [type.name, type]));
	}

	/** The node entry that makes n8n look a credential up: `node.credentials[type]`. */
	static nodeCredentialsFor(credentials: CredentialsByType): INode['credentials'] {
		const entries = Object.keys(credentials).map((type) => [
			type,
			{ id: `${type}-id`, name: type },
		]);
		return entries.length ? Object.fromEntries(entries) : undefined;
	}

	async getDecrypted(
		_additionalData: IWorkflowExecuteAdditionalData,
		_nodeCredentials: INodeCredentialsDetails,
		type: string,
	): Promise<ICredentialDataDecryptedObject> {
		const data = this.data[type];
		if (data === undefined) {
			throw new UnexpectedError(
				`n8n harness: no credentials of type "${type}" were given to the run`,
			);
		}
		// n8n decrypts a fresh object per call; mirror that.
		return structuredClone(data);
	}

	/**
	 * Same rules as n8n's CLI helper: a function `authenticate` is called as is; a
	 * generic one has its `={{$credentials.x}}` expressions resolved by the
	 * workflow's real expression engine and merged into the request.
	 */
	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		requestOptions: IHttpRequestOptions | IRequestOptionsSimplified,
		workflow?: Workflow,
		node?: INode,
	): Promise<IHttpRequestOptions> {
		const { authenticate } = this.credentialType(typeName);
		if (typeof authenticate === 'function') {
			return await authenticate(credentials, requestOptions as IHttpRequestOptions);
		}
		if (authenticate?.type !== 'generic') return requestOptions as IHttpRequestOptions;
		if (!workflow || !node) {
			throw new UnexpectedError(
				'Workflow and node are required for declarative credential authentication',
			);
		}
		const resolve = (value: string) => resolveCredentialValue(value, credentials, workflow, node);
		const target = requestOptions as unknown as Record<string, Record<string, unknown>>;
		for (const [section, values] of Object.entries(authenticate.properties)) {
			target[section] ??= {};
			for (const [key, value] of Object.entries(values as Record<string, string>)) {
				target[section][resolve(key)] = resolve(value);
			}
		}
		return requestOptions as IHttpRequestOptions;
	}

	/**
	 * Runs the credential type's `preAuthentication` (token fetch) when its
	 * expirable hidden field is empty or n8n says it expired, like the CLI does;
	 * the fresh token is kept for the rest of the run.
	 */
	async preAuthentication(
		helpers: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		_node: INode,
		credentialsExpired: boolean,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		const type = this.types.get(typeName);
		const expirable = type?.properties.find(
			(property) => property.type === 'hidden' && property.typeOptions?.expirable === true,
		);
		if (!type?.preAuthentication || !expirable) return undefined;
		if (credentials[expirable.name] !== '' && !credentialsExpired) return undefined;
		const output = (await type.preAuthentication.call(
			helpers,
			credentials,
		)) as ICredentialDataDecryptedObject;
		if (output[expirable.name] === undefined) return undefined;
		this.data[typeName] = { ...this.data[typeName], ...output };
		return Object.assign(credentials, output);
	}

	async runPreAuthentication(
		helpers: IHttpRequestHelper,
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
	): Promise<ICredentialDataDecryptedObject | undefined> {
		const type = this.types.get(typeName);
		if (!type?.preAuthentication) return undefined;
		return (await type.preAuthentication.call(
			helpers,
			credentials,
		)) as ICredentialDataDecryptedObject;
	}

	getParentTypes(name: string): string[] {
		const parents = this.types.get(name)?.extends ?? [];
		return parents.flatMap((parent) => [parent, ...this.getParentTypes(parent)]);
	}

	isCredentialUsableByNode(): boolean {
		return true;
	}

	async getCredentials(
		nodeCredentials: INodeCredentialsDetails,
		type: string,
	): Promise<Credentials> {
		return new Credentials({ id: nodeCredentials.id, name: nodeCredentials.name }, type);
	}

	getCredentialsProperties(type: string): INodeProperties[] {
		return this.types.get(type)?.properties ?? [];
	}

	async updateCredentials(
		_nodeCredentials: INodeCredentialsDetails,
		type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		this.data[type] = data;
	}

	async updateCredentialsOauthTokenData(
		_nodeCredentials: INodeCredentialsDetails,
		type: string,
		data: ICredentialDataDecryptedObject,
	): Promise<void> {
		this.data[type] = { ...this.data[type], ...data };
	}

	private credentialType(name: string): ICredentialType {
		const type = this.types.get(name);
		if (type === undefined) {
			throw new UnexpectedError(
				`n8n harness: credential type "${name}" is unknown; pass its class instance in \`credentialTypes\` to authenticate requests`,
			);
		}
		return type;
	}
}

/** Resolves one `={{ $credentials.x }}` value the way n8n's CLI helper does. */
function resolveCredentialValue(
	value: string,
	credentials: ICredentialDataDecryptedObject,
	workflow: Workflow,
	node: INode,
): string {
	if (!isExpression(value)) return value;
	const resolved = workflow.expression.getSimpleParameterValue(
		node,
		value,
		'internal',
		{ $credentials: credentials },
		undefined,
		'',
	);
	return resolved ? String(resolved) : '';
}
