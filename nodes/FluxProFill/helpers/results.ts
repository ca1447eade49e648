import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { CAPS } from '../common/constants';
import { fal as words } from '../common/messages';
import { damageOf, readImageInfo } from '../pictures/picture';
import type { Deadline } from '../transport/deadline';
import { download } from '../transport/download';
import { falError } from '../transport/errors';
import type { Execution } from './execution';
import { estimateCostUsd, type PaidCall } from './ledger';
import type { ResultSettings } from './settings';

/** What the endpoint answers. Every field is optional here: fal's answer is not trusted. */
interface FillOutput {
	images?: Array<{ url?: unknown; width?: unknown; height?: unknown; content_type?: unknown }>;
	timings?: unknown;
	seed?: unknown;
	has_nsfw_concepts?: unknown;
	prompt?: unknown;
}

/**
 * fal's answer into output items: checked before anything is downloaded (it must list
 * images with links; more than asked are cut; NSFW-flagged ones dropped when asked), the
 * bill set from what fal made, then each image downloaded into n8n's binary data, or linked.
 * An answer that leaves nothing to return fails the item: an input item is never lost.
 */
export async function collectImages(
	ctx: IExecuteFunctions,
	exec: Execution,
	itemIndex: number,
	request: {
		requestId: string;
		data: unknown;
		asked?: number;
		paid: PaidCall;
		pricePerMegapixel?: number;
	},
	settings: ResultSettings,
	deadline: Deadline,
): Promise<INodeExecutionData[]> {
	const { requestId, paid } = request;
	const output = (request.data ?? {}) as FillOutput;
	const all = Array.isArray(output.images) ? output.images : [];
	const listed = request.asked ? all.slice(0, request.asked) : all;
	const flags = Array.isArray(output.has_nsfw_concepts) ? output.has_nsfw_concepts : [];
	if (listed.length === 0) throw falError(words.noImages(requestId), { requestId });
	const images = listed.map((image, index) => {
		if (typeof image?.url !== 'string' || image.url === '')
			throw falError(words.imageWithoutLink(index + 1, requestId), { requestId });
		const size = { width: Number(image.width) || 0, height: Number(image.height) || 0 };
		return { index, url: image.url, nsfw: flags[index] === true, size, type: image.content_type };
	});
	// fal bills every image it made, the ones left out below included.
	const made = images.reduce(
		(sum, { size }) => sum + estimateCostUsd(size.width, size.height, 1, request.pricePerMegapixel),
		0,
	);
	if (made > 0) paid.costUsd = made;
	const kept = settings.dropNsfw ? images.filter((image) => !image.nsfw) : images;
	if (kept.length === 0) throw falError(words.allNsfw(images.length), { requestId });
	const notes = [
		all.length > listed.length &&
			`fal returned ${all.length} images for the ${request.asked} asked for; the ${all.length - listed.length} extra were left out`,
		request.asked &&
			listed.length < request.asked &&
			`fal returned ${listed.length} of the ${request.asked} images asked for`,
		kept.length < images.length && `${images.length - kept.length} NSFW-flagged image(s) dropped`,
	].filter(Boolean);
	const warning = notes.length ? notes.join('; ') : undefined;
	if (warning) ctx.logger.warn(`fal request ${requestId}: ${warning}`, { itemIndex });
	const json = (image: (typeof images)[number], file: Record<string, unknown>): IDataObject => ({
		request_id: requestId,
		image_index: image.index,
		...file,
		seed: typeof output.seed === 'number' ? output.seed : null,
		prompt: typeof output.prompt === 'string' ? output.prompt.slice(0, CAPS.promptChars) : null,
		has_nsfw_concept: image.nsfw,
		has_nsfw_concepts: flags.slice(0, CAPS.listed).map((flag) => flag === true),
		timings: boundedTimings(output.timings),
		...(warning ? { warning } : {}),
	});
	if (settings.outputMode === 'url')
		return kept.map((image) => ({
			json: json(image, {
				url: image.url,
				content_type: typeof image.type === 'string' ? image.type.slice(0, 64) : null,
				width: image.size.width || null,
				height: image.size.height || null,
			}),
			pairedItem: { item: itemIndex },
		}));
	// The item fails as a whole: once one image cannot be had, its siblings stop downloading.
	const siblings = new AbortController();
	const signal = AbortSignal.any([deadline.signal, siblings.signal]);
	return await Promise.all(
		kept.map(async (image) => {
			try {
				// fal has finished by now: a timeout here stops the download, there is nothing to cancel.
				const { bytes } = await deadline.guard(
					async () =>
						await download(image.url, exec.fal.send, { signal, requestId, damage: damageOf }),
					requestId,
					'alreadyCompleted',
				);
				const info = readImageInfo(bytes);
				if (!info.ok || info.info.format === 'webp')
					throw falError(
						words.notJpegOrPng(
							image.index + 1,
							info.ok ? info.info.format : info.reason,
							requestId,
						),
						{ requestId },
					);
				const { format, mimeType, width, height } = info.info;
				const fileName = `fal-fill-${requestId.slice(0, 8)}-${image.index + 1}.${format}`;
				const binary = await ctx.helpers.prepareBinaryData(bytes, fileName, mimeType);
				// In sync mode `url` is the whole image as base64; the bytes are in the binary field.
				const url = image.url.startsWith('data:')
					? `${image.url.slice(0, image.url.indexOf(',') + 1)}(omitted: the image is in binary field "${settings.outputBinaryProperty}")`
					: image.url;
				return {
					json: json(image, { url, content_type: mimeType, width, height }),
					binary: { [settings.outputBinaryProperty]: binary },
					pairedItem: { item: itemIndex },
				};
			} catch (error) {
				siblings.abort();
				throw error;
			}
		}),
	);
}

/** fal's timings are a few named durations: keep up to 16 numbers under short names. */
function boundedTimings(timings: unknown): IDataObject {
	if (!timings || typeof timings !== 'object' || Array.isArray(timings)) return {};
	const kept: IDataObject = {};
	for (const [name, value] of Object.entries(timings).slice(0, CAPS.listed))
		if (typeof value === 'number' && name.length <= 64) kept[name] = value;
	return kept;
}
