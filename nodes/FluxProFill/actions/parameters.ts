import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { DEFAULT_CONCURRENCY } from '../constants';
import type { RawFillParameters } from './fill/settings';

/** The node parameters of a fill or submit item, as n8n resolved them (expressions may yield anything). */
export function readRawFillParameters(ctx: IExecuteFunctions, itemIndex: number): RawFillParameters {
	const get = (name: string, fallback: unknown = undefined) => ctx.getNodeParameter(name, itemIndex, fallback);
	const imageSource = get('imageSource', 'binary');
	const maskSource = get('maskSource', 'binary');
	return {
		prompt: get('prompt', ''),
		imageSource,
		imageBinaryProperty: imageSource === 'binary' ? get('imageBinaryProperty', 'data') : undefined,
		imageUrl: imageSource === 'url' ? get('imageUrl', '') : undefined,
		maskSource,
		maskBinaryProperty: maskSource === 'binary' ? get('maskBinaryProperty', 'mask') : undefined,
		maskUrl: maskSource === 'url' ? get('maskUrl', '') : undefined,
		maskRectangles: maskSource === 'rectangles' ? get('maskRectangles', {}) : undefined,
		options: readOptions(ctx, itemIndex),
	};
}

export function readOptions(ctx: IExecuteFunctions, itemIndex: number): Record<string, unknown> {
	return (ctx.getNodeParameter('options', itemIndex, {}) ?? {}) as Record<string, unknown>;
}

/** A node-level setting: read from the first item, falling back to the default on nonsense. */
export function readConcurrency(ctx: IExecuteFunctions): number {
	if (ctx.getInputData().length === 0) return DEFAULT_CONCURRENCY;
	const options = ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const value = Number(options.concurrency ?? DEFAULT_CONCURRENCY);
	return Number.isInteger(value) && value >= 1 ? value : DEFAULT_CONCURRENCY;
}

/** n8n runs a `usableAsTool` node for an AI agent as a copy whose type name ends in "Tool". */
export function isToolMode(ctx: IExecuteFunctions): boolean {
	return ctx.getNode().type.endsWith('Tool');
}
