import { FalTransportError } from './falErrors';

export interface DownloadedImage {
	bytes: Buffer;
	/** Content type the server gave, if any. */
	contentType?: string;
}

/** Fetches an http(s) URL as bytes; the action passes n8n's own HTTP helper. */
export type HttpGet = (url: string, signal: AbortSignal) => Promise<DownloadedImage>;

const DATA_URI = /^data:([^;,]+)?(;base64)?,/i;
const DOWNLOAD_ATTEMPTS = 2;

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
		const bytes = dataUri[2] ? Buffer.from(payload, 'base64') : Buffer.from(decodeURIComponent(payload));
		return { bytes, contentType: dataUri[1] };
	}
	if (!/^https?:\/\//i.test(url)) {
		throw new FalTransportError(
			`fal returned an image link that is neither http(s) nor a data URI: ${url.slice(0, 60)}`,
			`This is unexpected from fal. Try again; if it persists, report fal request ID ${requestId} to fal.`,
			requestId,
		);
	}
	let lastError: unknown;
	for (let attempt = 1; attempt <= DOWNLOAD_ATTEMPTS; attempt++) {
		try {
			return await httpGet(url, signal);
		} catch (error) {
			lastError = error;
			if (signal.aborted) throw error;
		}
	}
	const reason = lastError instanceof Error ? lastError.message : String(lastError);
	throw new FalTransportError(
		`Could not download the generated image from fal: ${reason}`,
		`fal made the image but the download failed twice. Run the item again, or open the image from fal request ID ${requestId} in your fal dashboard.`,
		requestId,
		undefined,
		true,
	);
}
