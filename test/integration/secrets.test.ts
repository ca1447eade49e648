/**
 * The API key never leaves the credential: not in errors (message, description,
 * serialised context), log lines, output items, nor what the emulator recorded —
 * even when a server echoes it back.
 */
import { Logger } from '@n8n/backend-common';
import { Container } from '@n8n/di';
import type { INodeParameters } from 'n8n-workflow';

import type { FalEmulator } from '../emulator';
import { KEY, makePictures, pictureItem, runFill, startEmulator, type Pictures } from './fixtures';

const SECRET = KEY.split(':')[1];
let emu: FalEmulator;
let pictures: Pictures;
const logLines: string[] = [];

beforeAll(async () => {
	emu = await startEmulator();
	pictures = await makePictures();
	// The node logs through Container.get(Logger); this one writes down every line.
	const record = (level: string) => (message: string, meta?: object) =>
		logLines.push(`${level} ${message} ${JSON.stringify(meta ?? {})}`);
	const recording = {
		error: record('error'),
		warn: record('warn'),
		info: record('info'),
		debug: record('debug'),
		scoped: () => recording,
	};
	Container.set(Logger, recording as unknown as Logger);
});
afterAll(async () => await emu.close());
beforeEach(() => emu.reset());

function everythingSeen(result: Awaited<ReturnType<typeof runFill>>): string {
	const error = result.error as (Error & { description?: string }) | undefined;
	return [
		JSON.stringify(result.items),
		JSON.stringify(result.run),
		error?.message,
		error?.description,
		error && JSON.stringify(error),
		error?.stack,
		JSON.stringify(emu.requests),
		JSON.stringify([...emu.jobs.values()]),
		logLines.join('\n'),
	].join('\n');
}

const scenarios: Array<[string, () => void, Record<string, number | string>?]> = [
	['a successful run', () => {}],
	[
		'a 422 whose detail echoes the key',
		() => emu.fail({ kind: 'result', status: 422, body: { detail: `Header was "Key ${KEY}"` } }),
	],
	[
		'a 500 on submit whose body echoes the secret',
		() =>
			emu.fail({
				kind: 'submit',
				status: 500,
				times: Infinity,
				headers: { 'retry-after': '0' },
				body: { detail: `secret=${SECRET}` },
			}),
	],
	[
		'a 401 message that names the key',
		() => emu.fail({ kind: 'initiate', status: 401, body: { detail: `Unknown key ${KEY}` } }),
	],
	[
		'retries that are logged',
		() =>
			emu.fail({
				kind: 'result',
				status: 503,
				times: 2,
				headers: { 'retry-after': '0' },
				body: { detail: 'busy' },
			}),
	],
	['a timeout', () => emu.configure({ latencyMs: 5_000 }), { timeout: 1 }],
	[
		"a result that echoes the key in its prompt, timings and an image's link",
		() =>
			emu.fail({
				kind: 'result',
				status: 200,
				body: {
					images: [
						{
							url: `https://v3.fal.media/files/a.png?sig=${SECRET}`,
							width: 64,
							height: 48,
							content_type: 'image/png',
						},
					],
					prompt: `paint ${KEY}`,
					timings: { inference: 1, [SECRET]: 2, note: `Key ${KEY}` },
					seed: 1,
					has_nsfw_concepts: [false],
				},
			}),
		{ outputMode: 'url' },
	],
];

describe.each([false, true])('continueOnFail %s', (continueOnFail) => {
	it.each(scenarios)('%s', async (_name, setUp, options = {}) => {
		logLines.length = 0;
		setUp();
		const result = await runFill({
			proxyUrl: emu.proxyUrl,
			items: [pictureItem(pictures)],
			continueOnFail,
			parameters: { options: { ...options } as INodeParameters },
		});
		emu.configure({ latencyMs: 0 });
		if (_name.startsWith('retries')) expect(logLines.join('\n')).toMatch(/retry 1 in \d+ ms/);
		const seen = everythingSeen(result);
		expect(seen).not.toContain(SECRET);
		expect(seen).not.toContain(KEY);
	});
});

it('checks a key that is unreachable too (proxy down): the network error hides it', async () => {
	const result = await runFill({
		proxyUrl: `http://127.0.0.1:1/${KEY}`,
		items: [pictureItem(pictures)],
	});
	expect(result.error?.message).toMatch(/^Could not reach fal/);
	expect(everythingSeen(result)).not.toContain(SECRET);
});

describe('n8n’s log names every request fal accepts, so paid work can be found after a crash', () => {
	it('one info line per accepted request: execution, node, item and fal request id, no key', async () => {
		logLines.length = 0;
		const result = await runFill({
			proxyUrl: emu.proxyUrl,
			items: [pictureItem(pictures), pictureItem(pictures, { other: true })],
			parameters: { options: { outputMode: 'url' } },
		});
		expect(result.error).toBeUndefined();
		const accepted = logLines.filter((line) => line.startsWith('info fal accepted request'));
		expect(accepted).toHaveLength(2);
		for (const [index, item] of result.items.entries()) {
			const line = accepted.find((entry) => entry.includes(String(item.json.request_id)));
			expect(line).toMatch(
				new RegExp(
					`^info fal accepted request ${item.json.request_id} \\(fal-ai/flux-pro/v1/fill\\) for item ${index} of node "FLUX.1 Fill" in execution \\S+`,
				),
			);
			expect(JSON.parse(line!.slice(line!.indexOf('{')))).toMatchObject({
				itemIndex: index,
				requestId: item.json.request_id,
				nodeName: 'FLUX.1 Fill',
				executionId: expect.any(String),
			});
		}
		expect(accepted.join('\n')).not.toContain(SECRET);
	});

	it("a request fal accepts as the item's timeout runs out is logged, named by the error item and cancelled", async () => {
		logLines.length = 0;
		// An account whose requests all wait in fal's queue: the cancel takes this one off it.
		emu.configure({ concurrency: 0 });
		emu.fail({ kind: 'submit', acceptThenDelayMs: 1_500 });
		try {
			const result = await runFill({
				proxyUrl: emu.proxyUrl,
				items: [pictureItem(pictures)],
				parameters: { options: { timeout: 1 } },
				continueOnFail: true,
			});
			const [job] = [...emu.jobs.values()];
			expect(result.items[0].json).toMatchObject({
				request_id: job.id,
				error: `fal did not finish within 1 s (fal request ID ${job.id})`,
				// Taken off fal's queue before it ran: not billed.
				estimated_cost_usd: 0,
			});
			expect(job.cancelled).toBe(true);
			expect(
				logLines.filter((line) => line.startsWith(`info fal accepted request ${job.id}`)),
			).toHaveLength(1);
		} finally {
			emu.configure({ concurrency: Infinity });
		}
	});
});
