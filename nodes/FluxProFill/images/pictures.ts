import type { IBinaryData } from 'n8n-workflow';

import { InputProblem } from '../errors/InputProblem';
import { describeSize, readImageInfo, type ImageInfo } from './imageInfo';

/** Where one of the two pictures comes from, as the user set it. */
export type PictureSource = { kind: 'binary'; field: string } | { kind: 'url'; url: string };

/** An input picture ready for fal: bytes we checked, or a URL fal fetches itself. */
export type Picture =
	| { kind: 'bytes'; bytes: Buffer; info: ImageInfo; fileName: string }
	| { kind: 'url'; url: string };

/** What we know of a picture before reading all of it: its header, or only its URL. */
export type PictureHeader = { kind: 'bytes'; info: ImageInfo } | { kind: 'url' };

/** What reading a binary field needs from n8n; the action passes its helpers. */
export interface BinaryReader {
	/** The item's binary fields (metadata only), to name them when one is missing. */
	fields(): Record<string, IBinaryData> | undefined;
	/** The first bytes of a field: enough for the header, without loading a large file. */
	readHead(field: string, maxBytes: number): Promise<Buffer>;
	read(field: string): Promise<Buffer>;
}

type What = 'image' | 'mask';

/** Header bytes that hold the size of any PNG/WebP, and of nearly every JPEG (EXIF comes first). */
const HEAD_BYTES = 256 * 1024;

/** Reads format and size from the start of the file; cheap enough to check every item before any paid call. */
export async function inspectPicture(what: What, source: PictureSource, reader: BinaryReader): Promise<PictureHeader> {
	if (source.kind === 'url') return { kind: 'url' };
	const meta = requireField(what, source.field, reader);
	let result = readImageInfo(await reader.readHead(source.field, HEAD_BYTES));
	// A JPEG with a huge EXIF or ICC block may keep its size past the head: read it all.
	if (!result.ok && (meta.fileSize === undefined || parseFileSize(meta.fileSize) > HEAD_BYTES)) {
		result = readImageInfo(await reader.read(source.field));
	}
	if (!result.ok) throw notAnImage(what, source.field, meta, result.reason);
	return { kind: 'bytes', info: result.info };
}

/** Reads the whole picture for upload and checks it again (the bytes may differ from the head). */
export async function loadPicture(what: What, source: PictureSource, reader: BinaryReader): Promise<Picture> {
	if (source.kind === 'url') return source;
	const meta = requireField(what, source.field, reader);
	const bytes = await reader.read(source.field);
	const result = readImageInfo(bytes);
	if (!result.ok) throw notAnImage(what, source.field, meta, result.reason);
	return { kind: 'bytes', bytes, info: result.info, fileName: meta.fileName ?? `${what}.${result.info.format}` };
}

/** fal rejects image and mask of different sizes only after queueing; we can tell before. */
export function checkSameSize(image: PictureHeader, mask: PictureHeader): void {
	if (image.kind !== 'bytes' || mask.kind !== 'bytes') return;
	if (image.info.width === mask.info.width && image.info.height === mask.info.height) return;
	throw new InputProblem(
		`The mask is ${describeSize(mask.info)} pixels but the image is ${describeSize(image.info)}`,
		'The mask must have exactly the width and height of the image. Export the mask from the same canvas as the image, or resize it (for example with the "Edit Image" node) before this node.',
	);
}

function requireField(what: What, field: string, reader: BinaryReader): IBinaryData {
	const fields = reader.fields() ?? {};
	const meta = fields[field];
	if (meta) return meta;
	const present = Object.keys(fields);
	const parameter = what === 'image' ? 'Input Binary Field' : 'Mask Binary Field';
	throw new InputProblem(
		`The item has no binary field "${field}" for the ${what}`,
		present.length
			? `This item's binary fields are: ${present.map((name) => `"${name}"`).join(', ')}. Put the right one in "${parameter}".`
			: `This item has no binary data at all. Add a node before this one that reads the ${what} (for example "Read/Write Files from Disk", or "HTTP Request" with response format File), or switch "${what === 'image' ? 'Image' : 'Mask'} Source" to URL.`,
	);
}

function notAnImage(what: What, field: string, meta: IBinaryData, reason: string): InputProblem {
	return new InputProblem(
		`The ${what} in binary field "${field}"${meta.fileName ? ` (${meta.fileName})` : ''} cannot be used: ${reason}`,
		`fal accepts PNG, JPEG and WebP images. Check that "${field}" holds the ${what} file and that the file is not damaged.`,
	);
}

/** n8n stores fileSize as a human string ("1.2 MB") in some versions and bytes in others. */
function parseFileSize(size: string | number): number {
	if (typeof size === 'number') return size;
	const match = /^([\d.]+)\s*([kmg]?b)?$/i.exec(size.trim());
	if (!match) return Number.POSITIVE_INFINITY;
	const units: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
	return Number(match[1]) * (units[(match[2] ?? 'b').toLowerCase()] ?? 1);
}
