import type sharpModule from 'sharp';

import { InputProblem } from '../errors/InputProblem';

export type SharpFactory = typeof sharpModule;

/**
 * sharp's native binary could not be loaded. An InputProblem so that the node reports
 * it as a NodeOperationError before anything is sent to fal; the name tells it apart.
 */
export class MaskLibraryUnavailable extends InputProblem {
	constructor(cause: unknown) {
		const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
		super(
			`Cannot prepare the mask: the image library "sharp" could not be loaded on this n8n server (${process.platform}-${process.arch}, Node ${process.version}): ${reason}`,
			'sharp ships prebuilt binaries for every platform n8n supports; on this server it is missing or broken (for example installed with --omit=optional, or copied from another platform). Ask the n8n administrator to reinstall the community node so npm fetches the binary for this platform: https://sharp.pixelplumbing.com/install',
		);
		this.name = 'MaskLibraryUnavailable';
	}
}

let loading: Promise<SharpFactory> | undefined;

/**
 * Loads sharp on first use rather than at import, so that the node itself still loads
 * where sharp's native binary is missing; only mask preparation then fails.
 */
export function loadSharp(): Promise<SharpFactory> {
	loading ??= import('sharp').then(
		(module) => module.default,
		(error: unknown) => {
			loading = undefined;
			throw new MaskLibraryUnavailable(error);
		},
	);
	return loading;
}
