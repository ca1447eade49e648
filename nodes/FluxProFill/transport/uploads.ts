import { createHash } from 'node:crypto';
import type { FalClient } from '@fal-ai/client';

import type { Picture } from '../images/pictures';

/**
 * Gives fal a URL for each input picture. Bytes go through fal's storage upload as a
 * File (a Buffer would be JSON-serialised into the request instead). Within one
 * execution identical bytes are uploaded once: 50 items sharing one mask upload it once.
 */
export class PictureUploader {
	private readonly uploads = new Map<string, Promise<string>>();

	constructor(private readonly client: FalClient) {}

	async urlFor(picture: Picture): Promise<string> {
		if (picture.kind === 'url') return picture.url;
		const key = createHash('sha256').update(picture.bytes).digest('hex');
		let upload = this.uploads.get(key);
		if (!upload) {
			upload = this.client.storage.upload(
				new File([picture.bytes as Uint8Array<ArrayBuffer>], picture.fileName, {
					type: picture.info.mimeType,
				}),
			);
			this.uploads.set(key, upload);
			// A failed upload must not poison the items that come after it.
			upload.catch(() => this.uploads.delete(key));
		}
		return await upload;
	}
}
