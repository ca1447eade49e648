import type { IExecuteFunctions } from 'n8n-workflow';

import {
	CAPS,
	FILL_ENDPOINT,
	FINETUNED_ENDPOINT,
	FINETUNED_PRICE_PER_MEGAPIXEL_USD,
	PRICE_PER_MEGAPIXEL_USD,
	SEGMENT_ENDPOINT,
	SEGMENT_PRICE_USD,
	TIMING,
} from '../common/constants';
import { cap, fal as words } from '../common/messages';
import { expandCanvas, planExpansion } from '../pictures/expand';
import { prepareMask, type MaskSpec } from '../pictures/masks';
import {
	damageOf,
	pngPicture,
	readImageInfo,
	readPicture,
	upright,
	type Link,
	type Picture,
} from '../pictures/picture';
import type { Deadline } from '../transport/deadline';
import { download, probe } from '../transport/download';
import { FalError, falError } from '../transport/errors';
import { awaitResult, submit, withRetries, type SubmittedRequest } from '../transport/queue';
import type { Execution } from './execution';
import { billed, estimateCostUsd, type Ledger, type PaidCall } from './ledger';
import { requestKey, requestMemory } from './requestMemory';
import { readFillSettings, type FillSettings } from './settings';

/*
 * What Fill and Submit share: an item checked before anything is paid for, then its
 * pictures prepared and uploaded, and its request at fal, once per item and run.
 */

type Source = Picture | Link;

/**
 * The check pass: settings and pictures, read and checked, and the mask made where the
 * item holds it (so "nothing to repaint" fails before any item is paid for). The pictures
 * are read again when the item runs: holding every item's files from the check pass to
 * its run would keep them all in memory at once.
 */
export async function checkFill(
	ctx: IExecuteFunctions,
	exec: Execution,
	itemIndex: number,
): Promise<CheckedFill> {
	const settings = readFillSettings(ctx, itemIndex);
	const image = await imageOf(exec, itemIndex, settings);
	const { mask } = settings;
	let size: { width: number; height: number } | undefined =
		image.kind === 'bytes' ? image.info : undefined;
	if (mask.kind === 'expand')
		size = planExpansion((image as Picture).info, mask.sizing, mask.overlap).canvas;
	else if (mask.kind !== 'text') await maskOf(exec, itemIndex, settings, image);
	// Max Cost per Run needs the size of a linked image too: its header is read.
	if (!size && exec.maxCostUsd !== undefined)
		size = await linkedSize((image as Link).url, exec.fal.send, exec.stop.signal);
	const fill = size ? fillCost(settings, size) : 0;
	let segmentation = 0;
	if (mask.kind === 'text') {
		const key = JSON.stringify([refOf(image), mask.words, mask.negative]);
		if (!exec.estimated.has(key)) segmentation = segmentationCost(mask);
		exec.estimated.add(key);
	}
	return { ...settings, costUsd: fill + segmentation };
}

/** Checked Fill and Submit settings with what the item is estimated to cost. */
export type CheckedFill = FillSettings & { costUsd: number };

/** The endpoint an item goes to: the fill, or the fill with the user's finetune. */
const endpointOf = (settings: FillSettings) =>
	settings.finetune ? FINETUNED_ENDPOINT : FILL_ENDPOINT;

export const priceOf = (settings: FillSettings) =>
	settings.finetune ? FINETUNED_PRICE_PER_MEGAPIXEL_USD : PRICE_PER_MEGAPIXEL_USD;

const fillCost = (settings: FillSettings, size: { width: number; height: number }) =>
	estimateCostUsd(size.width, size.height, settings.numImages, priceOf(settings));

const segmentationCost = (source: { negative?: string }) =>
	source.negative ? SEGMENT_PRICE_USD * 2 : SEGMENT_PRICE_USD;

/** A linked image's size from the start of the file; its cost is unknown without it. */
async function linkedSize(url: string, send: typeof fetch, stop: AbortSignal) {
	let reason: string;
	try {
		const signal = AbortSignal.any([stop, AbortSignal.timeout(TIMING.probeMs)]);
		const info = readImageInfo(await probe(url, send, signal));
		if (info.ok) return info.info;
		reason = `the image at ${url.slice(0, 80)} gives no size (${info.reason})`;
	} catch (error) {
		if (stop.aborted) throw falError(words.canceled());
		reason = `the image at ${url.slice(0, 80)} could not be read (${error instanceof Error ? error.message : String(error)})`;
	}
	throw cap.unknownSize(reason);
}

export interface Started {
	requestId: string;
	endpoint: string;
	/** The mask sent to fal, for Return Mask. */
	mask: Source;
	/** fal's submit answer; undefined when the request was picked up or followed. */
	answer?: SubmittedRequest;
	/** The answer to the submit was lost but fal named the request: it is followed, unconfirmed. */
	lost?: string;
	/** Its key in the request memory, to forget it when fal cancelled or never had it. */
	key: string;
	/** Its line in the item's ledger. */
	paid: PaidCall;
}

interface RunOptions {
	deadline: Deadline;
	ledger: Ledger;
	/** Whether a stop cancels a paid request (see the operations). */
	cancelOnStop: () => boolean;
	webhookUrl?: string;
}

/**
 * One item's fill request at fal: picked up when this run of the node already submitted
 * it (n8n's Retry On Fail), else the pictures are prepared, uploaded and submitted. With
 * Describe It fal's segmentation makes the mask first. Every request fal accepts is in
 * the ledger and n8n's log before anything else happens.
 */
export async function startFill(
	exec: Execution,
	itemIndex: number,
	settings: FillSettings,
	run: RunOptions,
): Promise<Started> {
	const original = await imageOf(exec, itemIndex, settings);
	// Masks and canvases are made from the file as stored (they apply its orientation
	// themselves, and so hit the masks made in the check pass); fal gets it upright.
	let image: Source;
	let mask: Source;
	if (settings.mask.kind === 'expand') {
		const { sizing, overlap } = settings.mask;
		const stored = original as Picture;
		const plan = planExpansion(stored.info, sizing, overlap);
		const key = `${stored.digest}|${JSON.stringify(plan)}`;
		({ image, mask } = await exec.canvases.get(key, async () => {
			const canvas = await expandCanvas(stored.bytes, plan);
			return {
				image: pngPicture(canvas.image, plan.canvas, 'expanded.png'),
				mask: pngPicture(canvas.mask, plan.canvas, 'mask.png'),
			};
		}).value);
	} else {
		image = original.kind === 'bytes' ? await upright(original) : original;
		const from = settings.mask.kind === 'text' ? image : original;
		mask = await maskOf(exec, itemIndex, settings, from, run);
	}
	const endpoint = endpointOf(settings);
	const key = requestKey(exec.where, itemIndex, {
		endpoint,
		webhookUrl: run.webhookUrl,
		input: fillInput(settings, refOf(image), refOf(mask)),
	});
	const cost = image.kind === 'bytes' ? fillCost(settings, image.info) : null;
	const submitted = await submitOnce(
		exec,
		itemIndex,
		{ endpoint, key, run, account: (id) => run.ledger.paidFill(id, cost, endpoint) },
		async () => fillInput(settings, await uploaded(exec, image), await uploaded(exec, mask)),
	);
	const started = { ...submitted, endpoint, mask, key };
	// Stopped while fal accepted it: now that it is remembered and in the ledger, the stop
	// is handled as one while waiting (cancelled if the operation says so, the ledger told).
	if (run.deadline.stopped) await awaitStarted(exec, endpoint, started, run, started.paid);
	return started;
}

/**
 * Submits a paid request once per key. Picked up when remembered; when the answer to the
 * submit is lost, followed if fal named the request, and otherwise remembered as possibly
 * accepted, so that no retry of this run pays for it again. `account` enters every request
 * fal has or may have (named or not) in the item's ledger, before anything else happens.
 */
async function submitOnce(
	exec: Execution,
	itemIndex: number,
	request: { endpoint: string; key: string; run: RunOptions; account: (id?: string) => PaidCall },
	input: () => Promise<object>,
): Promise<{ requestId: string; paid: PaidCall; answer?: SubmittedRequest; lost?: string }> {
	const { endpoint, key, run, account } = request;
	const earlier = requestMemory.recall(key);
	if (earlier && 'unnamed' in earlier) {
		account(undefined);
		throw falError(words.earlierMaybeAccepted());
	}
	if (earlier) return { requestId: earlier.requestId, paid: account(earlier.requestId) };
	let answer: SubmittedRequest;
	try {
		// Uploads are shared by the items that send the same picture: this item stops waiting
		// at its deadline, the upload goes on for the others.
		const sent = await run.deadline.race(input());
		answer = await submit(exec.fal, endpoint, sent, {
			deadline: run.deadline,
			webhookUrl: run.webhookUrl,
		});
	} catch (error) {
		if (!(error instanceof FalError && error.fields.maybeAccepted)) throw error;
		const { requestId } = error.fields;
		requestMemory.remember(key, requestId ? { requestId } : { unnamed: true });
		const paid = account(requestId);
		if (!requestId) throw error;
		exec.accepted(itemIndex, endpoint, requestId);
		const what =
			error.fields.status !== undefined ? `HTTP ${error.fields.status}` : 'a network error';
		return { requestId, paid, lost: what };
	}
	requestMemory.remember(key, { requestId: answer.request_id });
	const paid = account(answer.request_id);
	exec.accepted(itemIndex, endpoint, answer.request_id);
	return { requestId: answer.request_id, paid, answer };
}

/**
 * Waits for a started request's result, and keeps the ledger true about it: a request
 * that failed at fal or was cancelled is not billed; one fal does not have was never
 * accepted (and a retry may submit it anew).
 */
export async function awaitStarted(
	exec: Execution,
	endpoint: string,
	started: { requestId: string; lost?: string; key: string },
	run: RunOptions,
	paid: PaidCall,
): Promise<unknown> {
	try {
		const data = await awaitResult(exec.fal, endpoint, started.requestId, run);
		paid.fate = 'completed';
		return data;
	} catch (error) {
		const fields = error instanceof FalError ? error.fields : {};
		const gone = fields.cancelledAtFal || (fields.status === 404 && !!started.lost);
		if (gone) requestMemory.forget(started.key);
		// Kept a day from the item's end, not its submit: a long wait, then Retry On Fail.
		else requestMemory.remember(started.key, { requestId: started.requestId });
		// A stop or a timeout leaves the request's end unknown: it may still run, and be billed.
		paid.fate = gone ? 'cancelled' : fields.status !== undefined ? 'failed' : 'running';
		if (fields.status === 404 && started.lost)
			throw falError(words.notAccepted(started.lost, started.requestId), {
				requestId: started.requestId,
			});
		throw error;
	}
}

/** The item's image: checked bytes from its binary field, or the link fal fetches. */
async function imageOf(
	exec: Execution,
	itemIndex: number,
	settings: FillSettings,
): Promise<Source> {
	const { image } = settings;
	return image.kind === 'url'
		? image
		: await readPicture('image', image.field, exec.reader(itemIndex));
}

/**
 * The mask fal gets, made once per execution for the same source, size and options.
 * Describe It asks fal's segmentation for it, which only the run pass (`run`) may pay for.
 */
async function maskOf(
	exec: Execution,
	itemIndex: number,
	settings: FillSettings,
	image: Source,
	run?: RunOptions,
): Promise<Source> {
	const source = settings.mask;
	// fal fetches a mask URL itself; the node never sees its bytes.
	if (source.kind === 'url') return source;
	if (source.kind === 'expand') throw new Error('Expand Canvas makes its mask with the image');
	let spec: MaskSpec;
	let content: string;
	if (source.kind === 'text') {
		if (!run) throw new Error('Describe It makes its mask only when the item runs');
		const found = await segment(exec, itemIndex, image, source, run);
		spec = {
			kind: 'segmentation',
			bytes: found.mask,
			words: source.words,
			negative: source.negative,
		};
		content = `text:${found.requestId}`;
	} else if (source.kind === 'binary') {
		const file = await readPicture('mask', source.field, exec.reader(itemIndex));
		spec = { kind: 'file', bytes: file.bytes };
		content = `file:${file.digest}`;
	} else if (source.kind === 'alpha') {
		spec = { kind: 'alpha', image: (image as Picture).bytes };
		content = `alpha:${(image as Picture).digest}`;
	} else {
		spec = { kind: 'rectangles', rectangles: source.rectangles };
		content = `rectangles:${JSON.stringify(source.rectangles)}`;
	}
	// With an image URL a mask file keeps its own size (fal checks that it matches).
	const size = image.kind === 'bytes' ? image.info : sizeOfMaskFile(spec);
	const key = `${content}|${size.width}x${size.height}|${JSON.stringify(settings.maskOptions)}`;
	return await exec.masks.get(key, async () =>
		pngPicture(await prepareMask(spec, size, settings.maskOptions), size, 'mask.png'),
	).value;
}

function sizeOfMaskFile(spec: MaskSpec): { width: number; height: number } {
	const info = 'bytes' in spec ? readImageInfo(spec.bytes) : undefined;
	if (info?.ok) return info.info;
	throw new Error('A mask made from the image needs the image file');
}

/**
 * Describe It: fal's segmentation of the picture and words, once per execution however
 * many items or images use it; the item that started it pays for it (the others carry 0),
 * so that summing the items gives the run's cost. Same rules as a fill: retried, never
 * sent twice, picked up on Retry On Fail, cancelled when the item stops.
 */
async function segment(
	exec: Execution,
	itemIndex: number,
	image: Source,
	source: { words: string; negative?: string },
	run: RunOptions,
): Promise<{ requestId: string; mask: Buffer }> {
	const ref = refOf(image);
	const input = {
		prompt: source.words,
		...(source.negative ? { negative_prompt: source.negative } : {}),
		mask_only: true,
	};
	const key = requestKey(exec.where, 'segmentation', {
		endpoint: SEGMENT_ENDPOINT,
		input: { ...input, image_url: ref },
	});
	const costUsd = segmentationCost(source);
	const { value, started } = exec.segmentations.get(key, async () => {
		const account = (requestId?: string) => {
			// The same request an earlier item was charged for (its make failed, this one
			// picks it up): 0 here. A new request is charged, and becomes the one to compare.
			const earlier = exec.charged.get(key);
			const again = !!earlier && billed(earlier) !== 0 && earlier.requestId === requestId;
			const paid: PaidCall = { requestId, costUsd: again ? 0 : costUsd, fate: 'running' };
			if (!again) exec.charged.set(key, paid);
			run.ledger.segmentation = paid;
			return paid;
		};
		const done = await submitOnce(
			exec,
			itemIndex,
			{ endpoint: SEGMENT_ENDPOINT, key, run, account },
			async () => ({ ...input, image_url: await uploaded(exec, image) }),
		);
		const data = (await awaitStarted(exec, SEGMENT_ENDPOINT, { ...done, key }, run, done.paid)) as {
			image?: { url?: unknown };
		};
		const url = data?.image?.url;
		if (typeof url !== 'string' || url === '')
			throw falError(words.noMaskImage(done.requestId), { requestId: done.requestId });
		const mask = await run.deadline.guard(
			async () =>
				await download(url, exec.fal.send, {
					signal: run.deadline.signal,
					requestId: done.requestId,
					damage: damageOf,
				}),
			done.requestId,
			'alreadyCompleted',
		);
		return { requestId: done.requestId, mask: mask.bytes };
	});
	const found = await value;
	if (!started)
		run.ledger.segmentation = { requestId: found.requestId, costUsd: 0, fate: 'completed' };
	return found;
}

/**
 * What fal gets for a picture: a small one inline as a data URI, in the submit itself (an
 * upload costs two more requests on the way to fal: opening it and sending the bytes);
 * a larger one through fal's storage, identical bytes once per execution.
 */
async function uploaded(exec: Execution, picture: Source): Promise<string> {
	if (picture.kind === 'url') return picture.url;
	if (picture.bytes.length <= CAPS.inlineBytes)
		return `data:${picture.info.mimeType};base64,${picture.bytes.toString('base64')}`;
	return await exec.uploads.get(picture.digest, async () => {
		// A File, which the client uploads through fal's storage; a Buffer would be JSON in the request.
		const file = new File([picture.bytes as Uint8Array<ArrayBuffer>], picture.fileName, {
			type: picture.info.mimeType,
		});
		return await withRetries(async () => await exec.fal.client.storage.upload(file), {
			signal: exec.stop.signal,
			attempts: TIMING.attempts,
			warn: exec.fal.warn,
		});
	}).value;
}

/** A picture by content: the same file uploaded again gets another URL, not another ref. */
function refOf(picture: Source): string {
	return picture.kind === 'url' ? picture.url : `sha256:${picture.digest}`;
}

/** The endpoint's inputs, as fal names them; defaults are sent explicitly so runs are reproducible. */
export function fillInput(settings: FillSettings, imageUrl: string, maskUrl: string) {
	return {
		prompt: settings.prompt,
		image_url: imageUrl,
		mask_url: maskUrl,
		...(settings.seed !== undefined ? { seed: settings.seed } : {}),
		sync_mode: settings.syncMode,
		num_images: settings.numImages,
		output_format: settings.outputFormat,
		safety_tolerance: settings.safetyTolerance,
		enhance_prompt: settings.enhancePrompt,
		...(settings.finetune
			? { finetune_id: settings.finetune.id, finetune_strength: settings.finetune.strength }
			: {}),
	};
}
