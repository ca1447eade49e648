import { FalError } from '../transport/falError';
import type { FalFillOutput } from '../transport/queueRequest';

export interface SelectedImage {
	/** Position in fal's answer; stays the image's `image_index` even when others are dropped. */
	index: number;
	url: string;
	nsfw: boolean;
}

export interface ImageSelection {
	images: SelectedImage[];
	/** How many images fal returned, dropped ones included: all of them are billed. */
	returned: number;
	/** Why the answer is not what was asked for, for the items' JSON; undefined when it is. */
	warning?: string;
}

/**
 * Checks fal's answer before anything is downloaded: it must list images with links,
 * and NSFW-flagged ones are dropped when the user asked for that. An answer that
 * leaves nothing to return is an error, so the input item is never silently lost.
 */
export function selectResultImages(
	output: FalFillOutput,
	requestId: string,
	options: { requested: number; dropNsfw: boolean },
): ImageSelection {
	const all = Array.isArray(output.images) ? output.images : [];
	// More than asked is not what was paid for: keep what was asked, say so, download no more.
	const listed = options.requested > 0 ? all.slice(0, options.requested) : all;
	const flags = Array.isArray(output.has_nsfw_concepts) ? output.has_nsfw_concepts : [];
	if (listed.length === 0) {
		throw new FalError('fal finished the request but returned no images', {
			description: `Try again; if it keeps happening, report fal request ID ${requestId} to fal.`,
			requestId,
		});
	}
	const images = listed.map((image, index) => {
		const url = typeof image?.url === 'string' ? image.url : '';
		if (!url) {
			throw new FalError(`fal's answer lists image ${index + 1} without a link`, {
				description: `Try again; if it keeps happening, report fal request ID ${requestId} to fal.`,
				requestId,
			});
		}
		return { index, url, nsfw: flags[index] === true };
	});
	const kept = options.dropNsfw ? images.filter((image) => !image.nsfw) : images;
	if (kept.length === 0) {
		throw new FalError(
			`fal flagged all ${images.length} generated image${images.length === 1 ? '' : 's'} as NSFW, and "Drop NSFW Images" is on`,
			{
				description:
					'Nothing was returned for this item. Change the prompt, or turn "Drop NSFW Images" off to receive flagged images (they are marked with has_nsfw_concept).',
				requestId,
			},
		);
	}
	const notes: string[] = [];
	if (all.length > listed.length)
		notes.push(
			`fal returned ${all.length} images for the ${options.requested} asked for; the ${all.length - listed.length} extra were left out`,
		);
	if (listed.length < options.requested)
		notes.push(`fal returned ${listed.length} of the ${options.requested} images asked for`);
	if (kept.length < images.length)
		notes.push(`${images.length - kept.length} NSFW-flagged image(s) dropped`);
	return {
		images: kept,
		returned: images.length,
		warning: notes.length ? notes.join('; ') : undefined,
	};
}
