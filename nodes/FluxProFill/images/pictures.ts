import type { IBinaryData } from 'n8n-workflow';

import { InputProblem } from '../errors/InputProblem';
import { LABELS, q } from '../helpers/spec';
import { describeSize, readImageInfo, type ImageInfo } from './imageInfo';
import { findDamage } from './integrity';

/** Where one of the two pictures comes from, as the user set it. */
export type PictureSource = { kind: 'binary'; field: string } | { kind: 'url'; url: string };

/** An input picture ready for fal: bytes we checked, or a URL fal fetches itself. */
export type Picture =
	| { kind: 'bytes'; bytes: Buffer; info: ImageInfo; fileName: string }
	| { kind: 'url'; url: string };

/** What reading a binary field needs from n8n; the action passes its helpers. */
export interface BinaryReader {
	/** The item's binary fields (metadata only), to name them when one is missing. */
	fields(): Record<string, IBinaryData> | undefined;
	read(field: string): Promise<Buffer>;
}

type What = 'image' | 'mask';

/**
 * Beyond this fal rejects the image anyway, and a header claiming more is far more
 * likely a decompression bomb or a corrupt file than a photo.
 */
export const MAX_INPUT_PIXELS = 40_000_000;
export const MAX_INPUT_SIDE = 16_384;

/**
 * Reads a picture from the item and checks it as fal would, without decoding pixels:
 * format and size from the header, then that the file is whole. Cheap enough to run
 * on every item before anything is paid for.
 */
export async function loadPicture(
	what: What,
	source: PictureSource,
	reader: BinaryReader,
): Promise<Picture> {
	return source.kind === 'url' ? source : await readBinaryPicture(what, source.field, reader);
}

export type BytesPicture = Extract<Picture, { kind: 'bytes' }>;

/** A picture from one of the item's binary fields, checked as `loadPicture` describes. */
export async function readBinaryPicture(
	what: What,
	field: string,
	reader: BinaryReader,
): Promise<BytesPicture> {
	const source = { field };
	const meta = requireField(what, source.field, reader);
	const bytes = await reader.read(source.field);
	const result = readImageInfo(bytes);
	if (!result.ok) throw unusable(what, source.field, meta, result.reason);
	const { info } = result;
	if (
		info.width > MAX_INPUT_SIDE ||
		info.height > MAX_INPUT_SIDE ||
		info.width * info.height > MAX_INPUT_PIXELS
	) {
		throw new InputProblem(
			`The ${what} in binary field "${source.field}" is ${describeSize(info)} pixels, too large to send`,
			`Images may have at most ${MAX_INPUT_SIDE} pixels a side and ${MAX_INPUT_PIXELS / 1_000_000} megapixels. Scale it down first (for example with the "Edit Image" node).`,
		);
	}
	const damage = findDamage(bytes, info.format);
	if (damage) throw unusable(what, source.field, meta, damage);
	return { kind: 'bytes', bytes, info, fileName: meta.fileName ?? `${what}.${info.format}` };
}

/** fal rejects image and mask of different sizes only after queueing; we can tell before. */
export function checkSameSize(image: Picture, mask: Picture): void {
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
	const parameter = what === 'image' ? LABELS.imageBinaryProperty : LABELS.maskBinaryProperty;
	const sourceParameter = what === 'image' ? LABELS.imageSource : LABELS.maskSource;
	throw new InputProblem(
		`The item has no binary field "${field}" for the ${what}`,
		present.length
			? `This item's binary fields are: ${present.map((name) => `"${name}"`).join(', ')}. Put the right one in ${q(parameter)}.`
			: `This item has no binary data at all. Add a node before this one that reads the ${what} (for example "Read/Write Files from Disk", or "HTTP Request" with response format File), or switch ${q(sourceParameter)} to ${q(LABELS.sourceUrl)}.`,
	);
}

function unusable(what: What, field: string, meta: IBinaryData, reason: string): InputProblem {
	return new InputProblem(
		`The ${what} in binary field "${field}"${meta.fileName ? ` (${meta.fileName})` : ''} cannot be used: ${reason}`,
		`fal accepts whole PNG, JPEG and WebP images. Check that "${field}" holds the ${what} file and that the node before produced it completely.`,
	);
}
