import { loadSharp } from './loadSharp';
import type { Size } from './types';

/** Lossless 8-bit greyscale PNG of a one-byte-per-pixel plane, encoded once. */
export async function encodePng(plane: Buffer, size: Size): Promise<Buffer> {
	const sharp = await loadSharp();
	return sharp(plane, { raw: { width: size.width, height: size.height, channels: 1 } })
		.toColourspace('b-w')
		.png({ compressionLevel: 6 })
		.toBuffer();
}
