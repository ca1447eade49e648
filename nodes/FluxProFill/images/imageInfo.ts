import { imageSize } from 'image-size';

/** Formats fal's FLUX Fill endpoint decodes. */
export type ImageFormat = 'png' | 'jpeg' | 'webp';

export interface ImageInfo {
	format: ImageFormat;
	mimeType: string;
	width: number;
	height: number;
}

const MIME_TYPES: Record<ImageFormat, string> = {
	png: 'image/png',
	jpeg: 'image/jpeg',
	webp: 'image/webp',
};

const FORMAT_BY_IMAGE_SIZE_TYPE: Record<string, ImageFormat> = {
	png: 'png',
	jpg: 'jpeg',
	webp: 'webp',
};

export type ImageInfoResult = { ok: true; info: ImageInfo } | { ok: false; reason: string };

/**
 * Reads format and dimensions from the file header only (no decoding), so a
 * 4 MP image costs microseconds. The reason of a failure is written for users.
 */
export function readImageInfo(bytes: Uint8Array): ImageInfoResult {
	if (bytes.length === 0) return { ok: false, reason: 'the file is empty (0 bytes)' };
	let detected: ReturnType<typeof imageSize>;
	try {
		detected = imageSize(bytes);
	} catch {
		return { ok: false, reason: 'it is not an image file n8n can read the size of' };
	}
	const format = detected.type ? FORMAT_BY_IMAGE_SIZE_TYPE[detected.type] : undefined;
	if (!format) {
		return {
			ok: false,
			reason: `it is a ${(detected.type ?? 'unknown').toUpperCase()} file, not PNG, JPEG or WebP`,
		};
	}
	if (!detected.width || !detected.height) {
		return { ok: false, reason: 'its header gives no width or height' };
	}
	return {
		ok: true,
		info: { format, mimeType: MIME_TYPES[format], width: detected.width, height: detected.height },
	};
}

export function describeSize(info: Pick<ImageInfo, 'width' | 'height'>): string {
	return `${info.width}×${info.height}`;
}
