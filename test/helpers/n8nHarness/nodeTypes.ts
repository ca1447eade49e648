/**
 * The node-type registry a `Workflow` looks nodes up in (n8n's CLI fills it from
 * installed packages; the harness fills it with the instances a test passes).
 */
import { UnrecognizedNodeTypeError } from 'n8n-core';
import type { IDataObject, INodeType, INodeTypes, IVersionedNodeType } from 'n8n-workflow';
import { NodeHelpers } from 'n8n-workflow';

export type NodeTypeMap = Record<string, INodeType | IVersionedNodeType>;

export class HarnessNodeTypes implements INodeTypes {
	constructor(private readonly types: NodeTypeMap) {}

	getByName(nodeType: string): INodeType | IVersionedNodeType {
		const type = this.types[nodeType];
		if (type === undefined) {
			const [packageName, ...rest] = nodeType.split('.');
			throw new UnrecognizedNodeTypeError(packageName, rest.join('.'));
		}
		return type;
	}

	/** Picks the right class of a versioned node, as n8n's NodeTypes does. */
	getByNameAndVersion(nodeType: string, version?: number): INodeType {
		return NodeHelpers.getVersionedNodeType(this.getByName(nodeType), version);
	}

	getKnownTypes(): IDataObject {
		return Object.fromEntries(Object.keys(this.types).map((name) => [name, {}]));
	}
}

/** The version a new node of this type gets in the editor: the highest / default one. */
export function latestVersionOf(type: INodeType | IVersionedNodeType): number {
	if ('nodeVersions' in type) return type.currentVersion;
	const { version } = type.description;
	return Array.isArray(version) ? Math.max(...version) : version;
}
