import type { IExecuteFunctions } from 'n8n-workflow';
import sharp from 'sharp';

import {
	CAPS,
	PRICE_PER_MEGAPIXEL_USD as PRICE,
} from '../../../nodes/FluxProFill/common/constants';
import { fal as words } from '../../../nodes/FluxProFill/common/messages';
import type { Execution } from '../../../nodes/FluxProFill/helpers/execution';
import { round, type PaidCall } from '../../../nodes/FluxProFill/helpers/ledger';
import { collectImages } from '../../../nodes/FluxProFill/helpers/results';
import type { ResultSettings } from '../../../nodes/FluxProFill/helpers/settings';
import { Deadline } from '../../../nodes/FluxProFill/transport/deadline';
import type { FalError } from '../../../nodes/FluxProFill/transport/errors';
import { settled } from '../kit';

const ID = '764cabcf-b745-4b3e-ae38-1200304cf45b';
const URL_MODE: ResultSettings = {
	outputMode: 'url',
	outputBinaryProperty: 'data',
	dropNsfw: false,
	timeoutMs: 60_000,
};
const BINARY_MODE: ResultSettings = {
	...URL_MODE,
	outputMode: 'binary',
	outputBinaryProperty: 'image',
};

const image = (n: number, width = 1000, height = 1000) => ({
	url: `https://v3.fal.media/files/x/${n}.jpg`,
	width,
	height,
	content_type: 'image/jpeg',
});

/** collectImages for item 0 with fal's `data`, `send` for the downloads. */
async function collect(
	data: unknown,
	settings: ResultSettings,
	{ asked, send }: { asked?: number; send?: typeof fetch } = {},
) {
	const warn = jest.fn();
	const ctx = {
		logger: { warn },
		helpers: {
			prepareBinaryData: async (bytes: Buffer, fileName: string, mimeType: string) => ({
				data: bytes.toString('base64'),
				fileName,
				mimeType,
			}),
		},
	} as unknown as IExecuteFunctions;
	const exec = { fal: { send } } as unknown as Execution;
	const paid: PaidCall = { requestId: ID, costUsd: null, fate: 'completed' };
	const deadline = new Deadline(new AbortController().signal, 60_000);
	const outcome = await settled(
		collectImages(ctx, exec, 0, { requestId: ID, data, asked, paid }, settings, deadline),
	);
	return { outcome, paid, warn };
}
const itemsOf = (outcome: unknown) => outcome as Array<{ json: Record<string, unknown> }>;
const wordsOf = (outcome: unknown) => (outcome as FalError).fields.words;

describe('collectImages: links only', () => {
	it("makes one item per image, with fal's answer beside the link", async () => {
		const { outcome } = await collect(
			{
				images: [image(1), image(2, 512, 768)],
				seed: 42,
				prompt: 'a red bicycle',
				has_nsfw_concepts: [false, false],
				timings: { inference: 1.5, weird: 'x' },
			},
			URL_MODE,
		);
		expect(outcome).toEqual(
			[0, 1].map((index) => ({
				json: {
					request_id: ID,
					image_index: index,
					url: image(index + 1).url,
					content_type: 'image/jpeg',
					width: index === 0 ? 1000 : 512,
					height: index === 0 ? 1000 : 768,
					seed: 42,
					prompt: 'a red bicycle',
					has_nsfw_concept: false,
					has_nsfw_concepts: [false, false],
					timings: { inference: 1.5 },
				},
				pairedItem: { item: 0 },
			})),
		);
	});

	it("bounds what it copies of fal's answer", async () => {
		const { outcome } = await collect(
			{
				images: [{ ...image(1), content_type: 'x'.repeat(1000) }],
				prompt: 'p'.repeat(CAPS.promptChars * 2),
				has_nsfw_concepts: Array.from({ length: 100 }, () => false),
				timings: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`t${i}`, i])),
				seed: 'not a number',
			},
			URL_MODE,
		);
		const [{ json }] = itemsOf(outcome);
		expect((json.prompt as string).length).toBe(CAPS.promptChars);
		expect((json.content_type as string).length).toBeLessThan(100);
		expect(json.has_nsfw_concepts).toHaveLength(CAPS.listed);
		expect(Object.keys(json.timings as object)).toHaveLength(CAPS.listed);
		expect(json.seed).toBeNull();
	});

	it('bills every image fal made, also the ones left out', async () => {
		const { outcome, paid } = await collect(
			{
				images: [image(1), image(2), image(3, 1024, 1024)],
				has_nsfw_concepts: [true, false, true],
			},
			{ ...URL_MODE, dropNsfw: true },
		);
		expect(itemsOf(outcome).map((item) => item.json.image_index)).toEqual([1]);
		expect(paid.costUsd).toBe(round(4 * PRICE));
	});

	it('says what was left out in a warning, on the items and in the log', async () => {
		const { outcome, warn } = await collect(
			{ images: [image(1), image(2)], has_nsfw_concepts: [true, false] },
			{ ...URL_MODE, dropNsfw: true },
		);
		expect(itemsOf(outcome)[0].json.warning).toEqual(expect.any(String));
		expect(warn).toHaveBeenCalledTimes(1);
		const kept = await collect({ images: [image(1)], has_nsfw_concepts: [true] }, URL_MODE);
		expect(itemsOf(kept.outcome)[0].json).toMatchObject({ has_nsfw_concept: true });
		expect(itemsOf(kept.outcome)[0].json).not.toHaveProperty('warning');
	});

	it('fails the item when every image is flagged and left out, still billing them', async () => {
		const { outcome, paid } = await collect(
			{ images: [image(1), image(2)], has_nsfw_concepts: [true, true] },
			{ ...URL_MODE, dropNsfw: true },
		);
		expect(wordsOf(outcome)).toEqual(words.allNsfw(2));
		expect(paid.costUsd).toBe(round(2 * PRICE));
	});

	it('cuts images past those asked for, and warns of fewer', async () => {
		const more = await collect({ images: [image(1), image(2), image(3)] }, URL_MODE, { asked: 2 });
		expect(itemsOf(more.outcome)).toHaveLength(2);
		expect(more.warn).toHaveBeenCalledTimes(1);
		const fewer = await collect({ images: [image(1)] }, URL_MODE, { asked: 2 });
		expect(itemsOf(fewer.outcome)).toHaveLength(1);
		expect(fewer.warn).toHaveBeenCalledTimes(1);
	});

	it('keeps the estimate it had when fal gives no sizes', async () => {
		const { paid } = await collect({ images: [{ url: image(1).url }] }, URL_MODE);
		expect(paid.costUsd).toBeNull();
	});

	it.each([[undefined], [{}], [{ images: [] }], [{ images: 'many' }]])(
		'fails the item when fal returns no images (%p)',
		async (data) => {
			expect(wordsOf((await collect(data, URL_MODE)).outcome)).toEqual(words.noImages(ID));
		},
	);

	it('fails the item when an image has no link', async () => {
		const { outcome } = await collect({ images: [image(1), { width: 10 }] }, URL_MODE);
		expect(wordsOf(outcome)).toEqual(words.imageWithoutLink(2, ID));
	});
});

describe('collectImages: downloaded', () => {
	const png = () =>
		sharp({ create: { width: 8, height: 6, channels: 3, background: '#fff' } })
			.png()
			.toBuffer();
	const cdn = (files: Record<string, Buffer>) =>
		(async (input: RequestInfo | URL) => {
			const file = files[String(input)];
			return file ? new Response(new Uint8Array(file)) : new Response(null, { status: 404 });
		}) as typeof fetch;

	it('puts each image into the binary field, with its real type and size', async () => {
		const bytes = await png();
		const { outcome } = await collect({ images: [image(1)] }, BINARY_MODE, {
			send: cdn({ [image(1).url]: bytes }),
		});
		const [item] = outcome as Array<{
			json: Record<string, unknown>;
			binary: Record<string, { data: string; fileName: string }>;
		}>;
		expect(item.json).toMatchObject({
			content_type: 'image/png',
			width: 8,
			height: 6,
			url: image(1).url,
		});
		expect(Buffer.from(item.binary.image.data, 'base64').equals(bytes)).toBe(true);
		expect(item.binary.image.fileName).toMatch(/\.png$/);
	});

	it('leaves the data out of the JSON in sync mode: it is in the binary field', async () => {
		const dataUri = `data:image/png;base64,${(await png()).toString('base64')}`;
		const { outcome } = await collect({ images: [{ url: dataUri }] }, BINARY_MODE, {
			send: cdn({}),
		});
		const url = itemsOf(outcome)[0].json.url as string;
		expect(url.startsWith('data:image/png;base64,')).toBe(true);
		expect(url.length).toBeLessThan(200);
	});

	it('refuses an image that is not JPEG or PNG', async () => {
		const webp = await sharp({ create: { width: 8, height: 6, channels: 3, background: '#fff' } })
			.webp()
			.toBuffer();
		const { outcome } = await collect({ images: [image(1)] }, BINARY_MODE, {
			send: cdn({ [image(1).url]: webp }),
		});
		expect(wordsOf(outcome)).toEqual(words.notJpegOrPng(1, 'webp', ID));
	});

	it('fails the item as a whole when one image cannot be had, stopping the others', async () => {
		let stopped = false;
		const send = (async (input: RequestInfo | URL, init?: RequestInit) => {
			if (String(input) !== image(1).url)
				return new Response(null, { status: 302, headers: { location: 'file:///etc/passwd' } });
			// The first image downloads until it is stopped.
			return await new Promise<Response>((_resolve, reject) =>
				init?.signal?.addEventListener('abort', () => {
					stopped = true;
					reject(init.signal?.reason);
				}),
			);
		}) as typeof fetch;
		const { outcome } = await collect({ images: [image(1), image(2)] }, BINARY_MODE, { send });
		expect(wordsOf(outcome)).toEqual(words.redirectScheme('file'));
		expect(stopped).toBe(true);
	});
});
