import { crc32 } from 'node:zlib';

import type { ImageFormat } from './imageInfo';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Finds files that have a valid header but are damaged further on (cut off by a failed
 * download, or garbage behind a PNG signature), without decoding any pixels. Returns
 * the reason for users, or undefined when the file is whole.
 */
export function findDamage(bytes: Buffer, format: ImageFormat): string | undefined {
	switch (format) {
		case 'png':
			return pngDamage(bytes);
		case 'jpeg':
			return jpegDamage(bytes);
		case 'webp':
			return webpDamage(bytes);
	}
}

/** Walks the chunk list, checking every chunk's bounds and CRC, up to IEND. */
function pngDamage(bytes: Buffer): string | undefined {
	if (!bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return 'its PNG signature is damaged';
	let offset = 8;
	while (offset + 12 <= bytes.length) {
		const length = bytes.readUInt32BE(offset);
		const end = offset + 12 + length;
		if (end > bytes.length) return 'the file is cut off (a PNG chunk runs past the end)';
		const typeAndData = bytes.subarray(offset + 4, offset + 8 + length);
		if (crc32(typeAndData) !== bytes.readUInt32BE(offset + 8 + length)) {
			return `the file is damaged (PNG chunk "${bytes.toString('latin1', offset + 4, offset + 8)}" fails its checksum)`;
		}
		if (bytes.toString('latin1', offset + 4, offset + 8) === 'IEND') return undefined;
		offset = end;
	}
	return 'the file is cut off (no PNG end marker)';
}

/** A whole JPEG ends with the EOI marker; some cameras append data after it, so search back. */
function jpegDamage(bytes: Buffer): string | undefined {
	if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return 'its JPEG start marker is damaged';
	const tail = bytes.subarray(Math.max(2, bytes.length - 64 * 1024));
	for (let i = tail.length - 2; i >= 0; i--) {
		if (tail[i] === 0xff && tail[i + 1] === 0xd9) return undefined;
	}
	return 'the file is cut off (no JPEG end marker)';
}

/** The RIFF header states the file's length; a shorter file was cut off. */
function webpDamage(bytes: Buffer): string | undefined {
	if (
		bytes.length < 12 ||
		bytes.toString('latin1', 0, 4) !== 'RIFF' ||
		bytes.toString('latin1', 8, 12) !== 'WEBP'
	) {
		return 'its WebP header is damaged';
	}
	return bytes.readUInt32LE(4) + 8 > bytes.length
		? 'the file is cut off (shorter than its WebP header says)'
		: undefined;
}
