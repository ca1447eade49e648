import type { Readable } from 'node:stream';

import { readImageInfo } from '../images/imageInfo';
import { findDamage } from '../images/integrity';
import { FalError } from './falError';
import { sleep } from './sleep';

export interface DownloadedImage {
	bytes: Buffer;
	/** Content type the server gave, if any. */
	contentType?: string;
}

/** Fetches an http(s) URL as bytes; the action passes n8n's own HTTP helper. */
export type HttpGet = (url: string, signal: AbortSignal) => Promise<DownloadedImage>;

const DATA_URI = /^data:([^;,]+)?(;base64)?,/i;
const DOWNLOAD_ATTEMPTS = 2;
const RETRY_DELAY_MS = 300;

/** A generated image is a few MB; anything far larger is not an image we asked for. */
export const MAX_OUTPUT_IMAGE_BYTES = 64 * 1024 * 1024;

/** Gets one generated image: an https link on fal's CDN, or a data: URI in sync mode. */
export async function downloadImage(
	url: string,
	httpGet: HttpGet,
	signal: AbortSignal,
	requestId: string,
): Promise<DownloadedImage> {
	const dataUri = DATA_URI.exec(url);
	if (dataUri) {
		const payload = url.slice(dataUri[0].length);
		const bytes = dataUri[2]
			? Buffer.from(payload, 'base64')
			: Buffer.from(decodeURIComponent(payload));
		if (bytes.length > MAX_OUTPUT_IMAGE_BYTES) throw tooLarge(requestId);
		const damage = damageOf(bytes);
		if (damage) throw damaged(damage, requestId);
		return { bytes, contentType: dataUri[1] };
	}
	if (!/^https?:\/\//i.test(url)) {
		throw new FalError(
			`fal returned an image link that is neither http(s) nor a data URI: ${url.slice(0, 60)}`,
			{
				description: `This is unexpected from fal. Try again; if it persists, report fal request ID ${requestId} to fal.`,
				requestId,
			},
		);
	}
	let lastError: unknown;
	for (let attempt = 1; attempt <= DOWNLOAD_ATTEMPTS; attempt++) {
		try {
			const downloaded = await httpGet(url, signal);
			// A cut or damaged image is downloaded once more before the item fails.
			const damage = damageOf(downloaded.bytes);
			if (!damage) return downloaded;
			lastError = damaged(damage, requestId);
		} catch (error) {
			lastError = error;
			if (signal.aborted || error instanceof FalError) throw error;
		}
		if (attempt < DOWNLOAD_ATTEMPTS) await sleep(RETRY_DELAY_MS, signal);
	}
	if (lastError instanceof FalError) throw lastError;
	const reason = lastError instanceof Error ? lastError.message : String(lastError);
	throw new FalError(`Could not download the generated image from fal: ${reason}`, {
		description: `fal made the image but the download failed twice. Run the item again, or open the image from fal request ID ${requestId} in your fal dashboard.`,
		requestId,
	});
}

/** Collects a download, failing as soon as it passes `maxBytes` instead of filling memory. */
export async function readCapped(stream: Readable, maxBytes: number, url: string): Promise<Buffer> {
	const chunks: Buffer[] = [];
	let length = 0;
	for await (const chunk of stream) {
		const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
		length += buffer.length;
		if (length > maxBytes) {
			stream.destroy();
			throw new FalError(
				`The generated image at ${url.slice(0, 80)} is larger than ${maxBytes / 1024 / 1024} MiB`,
				{
					description:
						'fal images are a few megabytes; this answer is not an image the node asked for. Try again, or report it to fal.',
				},
			);
		}
		chunks.push(buffer);
	}
	return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length);
}

/** Whether the bytes are a whole image, checked as the node checks its inputs. */
function damageOf(bytes: Buffer): string | undefined {
	const info = readImageInfo(bytes);
	if (!info.ok) return info.reason;
	return findDamage(bytes, info.info.format);
}

function damaged(reason: string, requestId: string): FalError {
	return new FalError(`The image from fal cannot be used: ${reason}`, {
		description: `It was downloaded twice. fal made the image; open it from fal request ID ${requestId} in your fal dashboard, or run the item again.`,
		requestId,
	});
}

function tooLarge(requestId: string): FalError {
	return new FalError(
		`fal returned an image larger than ${MAX_OUTPUT_IMAGE_BYTES / 1024 / 1024} MiB`,
		{
			description: `fal images are a few megabytes; this is not an image the node asked for. Report fal request ID ${requestId} to fal.`,
			requestId,
		},
	);
}
