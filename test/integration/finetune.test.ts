/**
 * Your own FLUX.1 [pro] finetune: a Finetune ID sends Fill and Submit to fal's
 * fill-finetuned endpoint, through the same transport, memory, cost and errors as the fill.
 * Run in n8n's engine against the emulator, which tints what a finetune paints.
 */
import {
	DEFAULT_FINETUNE_IDS,
	FILL_ENDPOINT,
	FINETUNED_ENDPOINT,
	finetuneColour,
} from '../emulator';
import { FluxProFill } from '../../nodes/FluxProFill/FluxProFill.node';
import { FalApi } from '../../credentials/FalApi.credentials';
import { runNode } from '../helpers/n8nHarness';
import { KEY, NODE_TYPE, pictureItem, readPixels, runFill, useEmulator } from './fixtures';

const env = useEmulator();
const [FINETUNE] = DEFAULT_FINETUNE_IDS;
const RETRY = { retryOnFail: true, maxTries: 2, waitBetweenTries: 1 };

const fill = (options: Record<string, unknown>, extra = {}, operation = 'fill') =>
	runFill({
		proxyUrl: env.emu.proxyUrl,
		items: [pictureItem(env.pictures)],
		parameters: { operation, options: { seed: 7, outputFormat: 'png', ...options } },
		...extra,
	});
const calls = (endpoint: string, kind: string) =>
	env.emu.requestsFor(endpoint as typeof FILL_ENDPOINT).filter((r) => r.kind === kind);

/** The mean colour of the repainted rectangle of an output image. */
async function paintedColour(png: Buffer) {
	const { data, width, channels } = await readPixels(png);
	const { left, top } = env.pictures.rect;
	const i = ((top + 2) * width + left + 2) * channels;
	return [data[i], data[i + 1], data[i + 2]];
}

describe('Finetune ID', () => {
	it('sends the item to fill-finetuned with the id and the strength, at that endpoint’s price', async () => {
		const result = await fill({ finetuneId: FINETUNE });
		expect(result.error).toBeUndefined();
		expect(calls(FILL_ENDPOINT, 'submit')).toHaveLength(0);
		const [submit] = calls(FINETUNED_ENDPOINT, 'submit');
		expect(submit.body).toMatchObject({ finetune_id: FINETUNE, finetune_strength: 1.1, seed: 7 });
		// 64×48 is under a megapixel: one image at $0.06.
		expect(result.items[0].json).toMatchObject({ estimated_cost_usd: 0.06 });
		const hints = (result.runData['FLUX.1 Fill']?.[0]?.hints ?? []).map((hint) => hint.message);
		expect(hints.join()).toContain('$0.06 with a finetune');
	});

	it('paints with the finetune: the repainted part moves towards its colour with the strength', async () => {
		const plain = await fill({});
		const colourOf = async (result: typeof plain) =>
			await paintedColour(await result.binary(result.items[0]));
		const none = await colourOf(plain);
		const full = await colourOf(await fill({ finetuneId: FINETUNE, finetuneStrength: 2 }));
		expect(full).toEqual(finetuneColour(FINETUNE));
		expect(none).not.toEqual(full);
		// Strength 0 is no influence: the plain fill's pixels.
		expect(await colourOf(await fill({ finetuneId: FINETUNE, finetuneStrength: 0 }))).toEqual(none);
	});

	it("an unknown finetune id is fal's 422, in fal's words, with what to check", async () => {
		const result = await fill({ finetuneId: '00000000-0000-4000-8000-000000000000' });
		expect(result.error?.message).toBe(
			'fal rejected the request: finetune_id: Finetune not found or not ready (value_error)',
		);
		expect((result.error as { description?: string }).description).toContain(
			'Check the Finetune ID',
		);
	});

	it("n8n's Retry On Fail picks a finetuned request up instead of paying again", async () => {
		env.emu.fail({
			kind: 'result',
			endpoint: FINETUNED_ENDPOINT,
			status: 500,
			body: { detail: 'x' },
			times: 1,
		});
		env.emu.fail({
			kind: 'stream',
			endpoint: FINETUNED_ENDPOINT,
			status: 404,
			body: { detail: 'gone' },
			times: 1,
		});
		const result = await fill({ finetuneId: FINETUNE, outputMode: 'url' }, { nodeSettings: RETRY });
		expect(result.error).toBeUndefined();
		expect(calls(FINETUNED_ENDPOINT, 'submit')).toHaveLength(1);
	});

	it('Submit, then Get Status, Get Result and Cancel work for a finetuned request', async () => {
		const submitted = await fill({ finetuneId: FINETUNE }, {}, 'submit');
		expect(submitted.error).toBeUndefined();
		const requestId = submitted.items[0].json.request_id as string;
		expect(env.emu.jobsFor(FINETUNED_ENDPOINT).has(requestId)).toBe(true);
		const run = async (operation: string) =>
			await runNode({
				nodeType: new FluxProFill(),
				typeName: NODE_TYPE,
				parameters: { operation, requestId },
				credentials: { falApi: { apiKey: KEY, proxyUrl: env.emu.proxyUrl } },
				credentialTypes: [new FalApi()],
				inputItems: [{ json: {} }],
			});
		const status = await run('getStatus');
		expect(status.items[0].json).toMatchObject({
			request_id: requestId,
			status: expect.any(String),
		});
		const images = await run('getResult');
		expect(images.error).toBeUndefined();
		expect(await paintedColour(await images.binary(images.items[0]))).not.toEqual(undefined);
		const cancelled = await run('cancel');
		expect(cancelled.items[0].json).toMatchObject({
			request_id: requestId,
			status: 'ALREADY_COMPLETED',
		});
	});

	it('refuses an impossible strength before anything is sent', async () => {
		const result = await fill({ finetuneId: FINETUNE, finetuneStrength: 3 });
		expect(result.error?.message).toMatch(/^"Finetune Strength" is 3/);
		expect(env.emu.requests).toHaveLength(0);
	});
});
