/**
 * The fal emulator as the e2e tests use it: in the jest process (Node 20), reached by
 * n8n's processes over 127.0.0.1 through the credential's proxy URL.
 */
import { createHash } from 'node:crypto';

import { startFalEmulator, type FalEmulator } from '../../emulator';
import type { FalCredential } from './n8nInstance';

export const GOOD_KEY = 'e2e-key-id:e2e-key-secret';
export const WRONG_KEY = 'e2e-key-id:not-the-secret';
export const LOCKED_KEY = 'e2e-locked-id:e2e-locked-secret';

/**
 * `publicUrl`: the origin of the upload and file URLs it hands out, e.g. fal's own
 * 'https://v3.fal.media' when n8n reaches it under fal's host names through a proxy
 * (proxy.e2e.test.ts); by default its own http://127.0.0.1:PORT.
 */
export async function startFal(
	options: { latencyMs?: number; publicUrl?: string } = {},
): Promise<FalEmulator> {
	return await startFalEmulator({
		validKeys: [GOOD_KEY],
		lockedKeys: [LOCKED_KEY],
		latencyMs: options.latencyMs ?? 150,
		...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
	});
}

/** A falApi credential that sends every fal call to the emulator. */
export function falCredential(
	emulator: FalEmulator,
	id: string,
	name: string,
	apiKey = GOOD_KEY,
): FalCredential {
	return { id, name, apiKey, proxyUrl: emulator.proxyUrl };
}

/** Jobs the emulator ran, in submission order. */
export function jobsOf(emulator: FalEmulator) {
	return [...emulator.jobs.values()].sort((a, b) => a.submittedAt - b.submittedAt);
}

/** The bytes fal's CDN (the emulator) serves at a URL: a result image or an uploaded file. */
export async function fetchFalFile(url: string): Promise<Buffer> {
	const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
	if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
	return Buffer.from(await response.arrayBuffer());
}

export function sha256(bytes: Buffer): string {
	return createHash('sha256').update(bytes).digest('hex');
}

const DATA_URI = /^data:([^;,]*)(;base64)?,(.*)$/s;

/**
 * The image and mask fal got inline, as data URIs in the submit body (`image_url`,
 * `mask_url`): the node sends pictures up to 1 MiB so instead of uploading them.
 * Throws if either is not a data URI.
 */
export function inlinePictures(input: unknown): { image: Buffer; mask: Buffer } {
	const body = input as { image_url?: unknown; mask_url?: unknown };
	const decode = (field: string, uri: unknown): Buffer => {
		const match = DATA_URI.exec(String(uri));
		if (!match) throw new Error(`fal's ${field} is not a data URI: ${String(uri).slice(0, 80)}`);
		return Buffer.from(decodeURIComponent(match[3]), match[2] ? 'base64' : 'latin1');
	};
	return { image: decode('image_url', body.image_url), mask: decode('mask_url', body.mask_url) };
}
