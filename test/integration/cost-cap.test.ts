/**
 * Max Cost per Run (USD): before anything is uploaded or submitted, the node adds up what
 * each item is estimated to cost and sends only what fits within the cap, in order. The
 * cap covers every run of the node in the execution (a loop's passes, an agent's calls).
 */
import { makeColourImage } from '../emulator';
import { prepareBinary } from '../helpers/n8nHarness';
import { pictureItem, runFill, runFillInLoop, serveFiles, useEmulator } from './fixtures';

const env = useEmulator();

const submits = () => env.emu.requests.filter((r) => r.kind === 'submit');
const items = (count: number) =>
	Array.from({ length: count }, (_, n) => pictureItem(env.pictures, { n }));
const fill = (maxCostUsd: number | string, count: number, extra: Record<string, unknown> = {}) =>
	runFill({
		proxyUrl: env.emu.proxyUrl,
		items: items(count),
		parameters: { options: { maxCostUsd, outputMode: 'url', numImages: 1 } },
		...extra,
	});

describe('Max Cost per Run', () => {
	it('stops the node before paying when the items would cost more, naming estimate, cap and what fits', async () => {
		const result = await fill(0.1, 3);
		expect(result.error?.message).toBe(
			'The estimated fal cost of this run, $0.15 for 3 items, is above "Max Cost per Run (USD)" ($0.10)',
		);
		expect((result.error as { description?: string }).description).toMatch(
			/^Nothing was sent to fal\. The first 2 items would fit\. Raise "Max Cost per Run \(USD\)", or split the work/,
		);
		expect(env.emu.requests).toHaveLength(0);
	});

	it('with On Error → Continue, the items that fit run in order and the rest say why', async () => {
		const result = await fill(0.1, 3, { continueOnFail: true });
		expect(result.items.map((item) => [item.json.n ?? null, item.json.error ?? 'ran'])).toEqual([
			[null, 'ran'],
			[null, 'ran'],
			[
				null,
				'Not sent to fal: this item (an estimated $0.05) would take the execution\'s cost to $0.15, above "Max Cost per Run (USD)" ($0.10)',
			],
		]);
		expect(submits()).toHaveLength(2);
	});

	it('counts every image asked for, and the run fits exactly at the cap', async () => {
		const over = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items: items(2),
			parameters: { options: { maxCostUsd: 0.15, numImages: 2, outputMode: 'url' } },
		});
		expect(over.error?.message).toMatch(/\$0\.20 for 2 items/);
		expect(submits()).toHaveLength(0);
		expect((await fill(0.15, 3)).error).toBeUndefined();
		expect(submits()).toHaveLength(3);
	});

	it('no cap when the option is empty', async () => {
		expect((await fill('', 3)).error).toBeUndefined();
		expect(submits()).toHaveLength(3);
	});

	it("a loop's runs share the cap: the run that would pass it is refused", async () => {
		const { fillRuns } = await runFillInLoop({
			proxyUrl: env.emu.proxyUrl,
			items: items(3),
			parameters: { options: { maxCostUsd: 0.1, outputMode: 'url' } },
			continueOnFail: true,
		});
		expect(fillRuns.map((run) => run[0].json.error ?? 'ran')).toEqual([
			'ran',
			'ran',
			expect.stringMatching(/^Not sent to fal: this item/),
		]);
		expect(submits()).toHaveLength(2);
	});

	it("n8n's Retry On Fail does not count an item twice", async () => {
		env.emu.fail({
			kind: 'submit',
			status: 422,
			body: { detail: 'again' },
			times: 1,
			match: (r) => JSON.stringify(r.body).includes('second'),
		});
		const result = await runFill({
			proxyUrl: env.emu.proxyUrl,
			items: [
				pictureItem(env.pictures, { p: 'first' }),
				pictureItem(env.pictures, { p: 'second' }),
			],
			parameters: { prompt: '={{ $json.p }}', options: { maxCostUsd: 0.1, outputMode: 'url' } },
			nodeSettings: { retryOnFail: true, maxTries: 2, waitBetweenTries: 1 },
		});
		expect(result.error).toBeUndefined();
		expect(env.emu.jobs.size).toBe(2);
	});

	describe('with an image URL, as an AI agent gives it', () => {
		let large: Buffer;
		const files = serveFiles(() => ({ '/big.png': large }));
		beforeAll(async () => {
			// 1200×1000 is 1.2 megapixels: rounded up, 2 × $0.05 per image.
			large = await makeColourImage({ width: 1200, height: 1000, background: [20, 40, 200] });
		});
		const linked = (imageUrl: string, maxCostUsd: number) =>
			runFill({
				proxyUrl: env.emu.proxyUrl,
				items: [{ json: {} }],
				parameters: {
					imageSource: 'url',
					imageUrl,
					maskSource: 'url',
					maskUrl: imageUrl,
					options: { maxCostUsd, outputMode: 'url' },
				},
			});

		it("reads the linked image's size from its start and refuses what would pass the cap", async () => {
			const result = await linked(`${files.base}/big.png`, 0.05);
			expect(result.error?.message).toMatch(
				/^The estimated fal cost of this run, \$0\.10 for 1 item/,
			);
			expect(env.emu.requests).toHaveLength(0);
		});

		it('refuses an item whose link gives no size: its cost cannot be known before paying', async () => {
			const result = await linked(`${files.base}/missing.png`, 5);
			expect(result.error?.message).toMatch(
				/^The cost of this item cannot be estimated before paying: the image at .* could not be read \(the server answered HTTP 404\)/,
			);
			expect(env.emu.requests).toHaveLength(0);
		});
	});

	it('counts a Describe It segmentation once for the items that share it', async () => {
		const sky = await makeColourImage({ width: 32, height: 32, background: [0, 0, 255] });
		const item = () => ({ json: {}, binary: { data: prepareBinary(sky, 'sky.png', 'image/png') } });
		// Two fills at $0.05 and one segmentation at $0.005: $0.105 fits, $0.104 does not.
		const run = (maxCostUsd: number) =>
			runFill({
				proxyUrl: env.emu.proxyUrl,
				items: [item(), item()],
				parameters: {
					maskSource: 'text',
					maskPrompt: 'the sky',
					options: { maxCostUsd, outputMode: 'url' },
				},
			});
		expect((await run(0.104)).error?.message).toMatch(/\$0\.105 for 2 items/);
		expect((await run(0.105)).error).toBeUndefined();
	});
});
