import { createHash } from 'node:crypto';

import { imageSize } from 'image-size';
import type sharpModule from 'sharp';

import { LIMITS } from '../common/constants';
import { pictures as words } from '../common/messages';
import { findDamage } from './integrity';

/** Formats fal's FLUX Fill endpoint decodes. */
export type ImageFormat = 'png' | 'jpeg' | 'webp';

export interface ImageInfo {
	format: ImageFormat;
	mimeType: string;
	/** As shown: EXIF orientations 5–8 swap the stored width and height. */
	width: number;
	height: number;
	/** EXIF orientation, 1 (as stored) when absent. */
	orientation: number;
}

/** Picture bytes the node read and checked, with their digest computed once. */
export interface Picture {
	kind: 'bytes';
	bytes: Buffer;
	info: ImageInfo;
	fileName: string;
	digest: string;
}

/** A picture fal fetches itself. */
export interface Link {
	kind: 'url';
	url: string;
}

/** What reading a binary field needs from n8n. */
export interface BinaryReader {
	/** The item's binary fields (metadata only), to name them when one is missing. */
	fields(): Record<string, { fileName?: string }> | undefined;
	read(field: string): Promise<Buffer>;
}

const MIME_TYPES: Record<ImageFormat, string> = {
	png: 'image/png',
	jpeg: 'image/jpeg',
	webp: 'image/webp',
};
const FORMATS: Record<string, ImageFormat> = { png: 'png', jpg: 'jpeg', webp: 'webp' };

export type InfoResult = { ok: true; info: ImageInfo } | { ok: false; reason: string };

/** Format and size from the file header only (no decoding): microseconds for a 4 MP image. */
export function readImageInfo(bytes: Uint8Array): InfoResult {
	if (bytes.length === 0) return { ok: false, reason: 'the file is empty (0 bytes)' };
	let detected: ReturnType<typeof imageSize>;
	try {
		detected = imageSize(bytes);
	} catch {
		return { ok: false, reason: 'it is not an image file n8n can read the size of' };
	}
	const format = detected.type ? FORMATS[detected.type] : undefined;
	if (!format)
		return {
			ok: false,
			reason: `it is a ${(detected.type ?? 'unknown').toUpperCase()} file, not PNG, JPEG or WebP`,
		};
	if (!detected.width || !detected.height)
		return { ok: false, reason: 'its header gives no width or height' };
	// image-size reads a JPEG's EXIF; a PNG's (eXIf) and a WebP's (EXIF) are read here.
	const orientation = detected.orientation ?? exifOrientation(bytes, format) ?? 1;
	const turned = orientation >= 5 && orientation <= 8;
	return {
		ok: true,
		info: {
			format,
			mimeType: MIME_TYPES[format],
			width: turned ? detected.height : detected.width,
			height: turned ? detected.width : detected.height,
			orientation,
		},
	};
}

/** The EXIF orientation of a PNG or WebP, from its EXIF chunk; undefined without one. */
function exifOrientation(bytes: Uint8Array, format: ImageFormat): number | undefined {
	const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	const png = format === 'png';
	if (!png && format !== 'webp') return undefined;
	for (let at = png ? 8 : 12; at + 8 <= data.length;) {
		const length = png ? data.readUInt32BE(at) : data.readUInt32LE(at + 4);
		const type = data.toString('latin1', png ? at + 4 : at, png ? at + 8 : at + 4);
		const body = data.subarray(at + 8, at + 8 + length);
		if (type === (png ? 'eXIf' : 'EXIF')) return tiffOrientation(body);
		if (type === 'IDAT' || type === 'IEND') return undefined;
		at += 8 + length + (png ? 4 : length & 1);
	}
	return undefined;
}

/** Tag 0x0112 of a TIFF header's first directory (as EXIF data holds it). */
function tiffOrientation(tiff: Buffer): number | undefined {
	const data = tiff.toString('latin1', 0, 6) === 'Exif\0\0' ? tiff.subarray(6) : tiff;
	if (data.length < 8) return undefined;
	const le = data.toString('latin1', 0, 2) === 'II';
	const u16 = (at: number) => (le ? data.readUInt16LE(at) : data.readUInt16BE(at));
	const ifd = le ? data.readUInt32LE(4) : data.readUInt32BE(4);
	if (ifd + 2 > data.length) return undefined;
	for (let i = 0, at = ifd + 2; i < u16(ifd) && at + 12 <= data.length; i++, at += 12)
		if (u16(at) === 0x0112) return u16(at + 8);
	return undefined;
}

/** Whether the bytes are a whole image, checked as the node checks its inputs. */
export function damageOf(bytes: Buffer): string | undefined {
	const info = readImageInfo(bytes);
	return info.ok ? findDamage(bytes, info.info.format) : info.reason;
}

/**
 * A picture from one of the item's binary fields, checked as fal would without decoding
 * pixels: format and size from the header, then that the file is whole.
 */
export async function readPicture(
	what: 'image' | 'mask',
	field: string,
	reader: BinaryReader,
): Promise<Picture> {
	const fields = reader.fields() ?? {};
	const meta = fields[field];
	if (!meta) throw words.noField(what, field, Object.keys(fields));
	const bytes = await reader.read(field);
	const result = readImageInfo(bytes);
	if (!result.ok) throw words.unusable(what, field, meta.fileName, result.reason);
	const { info } = result;
	if (tooLargeForFal(info)) throw words.tooLarge(what, field, info);
	const damage = findDamage(bytes, info.format);
	if (damage) throw words.unusable(what, field, meta.fileName, damage);
	return picture(bytes, info, meta.fileName ?? `${what}.${info.format}`);
}

/** Past the size fal accepts (LIMITS). */
export const tooLargeForFal = ({ width, height }: { width: number; height: number }) =>
	width > LIMITS.imageSide || height > LIMITS.imageSide || width * height > LIMITS.imagePixels;

export function digestOf(bytes: Buffer): string {
	return createHash('sha256').update(bytes).digest('hex');
}

const picture = (bytes: Buffer, info: ImageInfo, fileName: string): Picture => ({
	kind: 'bytes',
	bytes,
	info,
	fileName,
	digest: digestOf(bytes),
});

/** A PNG the node made. */
export const pngPicture = (
	bytes: Buffer,
	size: { width: number; height: number },
	fileName: string,
): Picture =>
	picture(bytes, { format: 'png', mimeType: 'image/png', ...size, orientation: 1 }, fileName);

/**
 * The picture as every viewer shows it: a phone photo stored sideways with an EXIF
 * orientation is turned upright before fal gets it (fal's model may ignore the tag), so
 * that masks made in the shown orientation line up. JPEG stays JPEG (quality 95, full
 * colour resolution), anything else becomes a lossless PNG. Upright pictures pass as they are.
 */
export async function upright(stored: Picture): Promise<Picture> {
	if (stored.info.orientation <= 1) return stored;
	const sharp = await loadSharp();
	const turned = sharp(stored.bytes).autoOrient();
	const jpeg = stored.info.format === 'jpeg';
	const bytes = await (
		jpeg ? turned.jpeg({ quality: 95, chromaSubsampling: '4:4:4' }) : turned.png()
	).toBuffer();
	const format = jpeg ? 'jpeg' : 'png';
	return picture(
		bytes,
		{ ...stored.info, format, mimeType: MIME_TYPES[format], orientation: 1 },
		stored.fileName.replace(/(\.[a-z0-9]+)?$/i, `.${jpeg ? 'jpg' : 'png'}`),
	);
}

export type Sharp = typeof sharpModule;
let loading: Promise<Sharp> | undefined;

/**
 * sharp on first use rather than at import: where its native binary is missing, the node
 * still loads, and only what needs pixels fails, with a message for the administrator.
 */
export function loadSharp(): Promise<Sharp> {
	loading ??= import('sharp').then(
		(module) => module.default,
		(error: unknown) => {
			loading = undefined;
			const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
			throw words.sharpMissing(
				`${process.platform}-${process.arch}, Node ${process.version}`,
				reason,
			);
		},
	);
	return loading;
}
