import sharp from 'sharp';

import { DEFAULTS, FILL_ENDPOINT, TIMING } from '../../../nodes/FluxProFill/common/constants';
import { fal as words, masks as maskWords } from '../../../nodes/FluxProFill/common/messages';
import { Memo, Stop, type Execution } from '../../../nodes/FluxProFill/helpers/execution';
import {
	awaitStarted,
	checkFill,
	fillInput,
	startFill,
} from '../../../nodes/FluxProFill/helpers/fillRequest';
import { Ledger, type PaidCall } from '../../../nodes/FluxProFill/helpers/ledger';
import { requestMemory } from '../../../nodes/FluxProFill/helpers/requestMemory';
import { readFillSettings } from '../../../nodes/FluxProFill/helpers/settings';
import { Deadline } from '../../../nodes/FluxProFill/transport/deadline';
import type { FalError } from '../../../nodes/FluxProFill/transport/errors';
import type { Fal } from '../../../nodes/FluxProFill/transport/falClient';
import { expectProblem, settled } from '../kit';
import { fakeFal, httpError, scripted } from '../transport/fakeFal';
import { fakeContext } from './fakeContext';

const ID = '764cabcf-b745-4b3e-ae38-1200304cf45b';
const RECTANGLE = { rectangle: [{ left: 0, top: 0, width: 50, height: 50 }] };

let executions = 0;

/** An execution of the node over one item whose binary field "data" holds `image`. */
function execution(fal: Fal, image: Buffer): Execution {
	executions++;
	return {
		fal,
		stop: new Stop(),
		where: { executionId: `execution-${executions}`, nodeId: 'node-1', runIndex: 0 },
		uploads: new Memo(),
		masks: new Memo(),
		segmentations: new Memo(),
		canvases: new Memo('whileRunning'),
		secrets: [],
		estimated: new Set(),
		charged: new Map(),
		close: () => undefined,
		reader: () => ({
			fields: () => ({ data: { fileName: 'photo.png' } }),
			read: async () => image,
		}),
		accepted: jest.fn(),
	};
}

const settingsOf = (
	parameters: Record<string, unknown> = {},
	options: Record<string, unknown> = {},
) =>
	readFillSettings(
		fakeContext({
			parameters: {
				prompt: 'a red bicycle',
				maskSource: 'rectangles',
				maskRectangles: RECTANGLE,
				...parameters,
			},
			options,
		}).ctx,
		0,
	);
const run = () => ({
	deadline: new Deadline(new AbortController().signal, 60_000),
	ledger: new Ledger(),
	cancelOnStop: () => true,
});
const picture = () =>
	sharp({ create: { width: 1000, height: 500, channels: 3, background: '#3366cc' } })
		.png()
		.toBuffer();

/** A PNG over 1 MiB (noise does not compress), which goes to fal's storage, not inline. */
async function largePicture(): Promise<Buffer> {
	const noise = Buffer.alloc(800 * 600 * 3);
	for (let i = 0, state = 7; i < noise.length; i++) {
		state = (Math.imul(state, 1103515245) + 12345) >>> 0;
		noise[i] = state >>> 24;
	}
	return await sharp(noise, { raw: { width: 800, height: 600, channels: 3 } })
		.png()
		.toBuffer();
}

describe('fillInput', () => {
	it("names the endpoint's inputs, sending the defaults so that a run can be repeated", () => {
		expect(fillInput(settingsOf(), 'https://cdn/i.png', 'https://cdn/m.png')).toEqual({
			prompt: 'a red bicycle',
			image_url: 'https://cdn/i.png',
			mask_url: 'https://cdn/m.png',
			sync_mode: false,
			num_images: DEFAULTS.numImages,
			output_format: DEFAULTS.outputFormat,
			safety_tolerance: DEFAULTS.safetyTolerance,
			enhance_prompt: false,
		});
	});

	it('sends the seed only when one is set, so that fal draws one otherwise', () => {
		expect(fillInput(settingsOf({}, { seed: 0 }), 'i', 'm')).toMatchObject({ seed: 0 });
		expect(fillInput(settingsOf(), 'i', 'm')).not.toHaveProperty('seed');
	});
});

describe('checkFill', () => {
	it('makes the mask before anything is paid for, so that a mask with nothing to repaint fails first', async () => {
		const submit = scripted(() => ({ request_id: ID }));
		const exec = execution(fakeFal({ submit }), await picture());
		const whole = { rectangle: [{ left: 0, top: 0, width: 100, height: 100 }] };
		const ctx = fakeContext({
			parameters: { prompt: 'x', maskSource: 'rectangles', maskRectangles: whole },
			options: { invertMask: true },
		}).ctx;
		await expectProblem(
			checkFill(ctx, exec, 0),
			maskWords.nothingToRepaint(
				'rectangles',
				{ min: 255, max: 255 },
				{ threshold: 128, invert: true },
			),
		);
		expect(submit).not.toHaveBeenCalled();
	});

	it("a cancel while Max Cost reads a linked image's size is the execution's cancel, not a bad link", async () => {
		const cancel = new AbortController();
		const exec = {
			...execution(fakeFal({}), await picture()),
			stop: new Stop(cancel.signal),
			maxCostUsd: 1,
		};
		cancel.abort();
		const ctx = fakeContext({
			parameters: {
				prompt: 'x',
				imageSource: 'url',
				imageUrl: 'https://example.com/photo.png',
				maskSource: 'url',
				maskUrl: 'https://example.com/mask.png',
			},
		}).ctx;
		const error = (await settled(checkFill(ctx, exec, 0))) as FalError;
		expect(error.fields.words).toEqual(words.canceled());
	});
});

describe('startFill', () => {
	const faked = () => {
		const upload = scripted(
			() => 'https://v3.fal.media/files/image.png',
			() => 'https://v3.fal.media/files/mask.png',
		);
		const submit = scripted(() => ({ request_id: ID, status: 'IN_QUEUE' }));
		return { upload, submit, fal: fakeFal({ upload, submit }) };
	};

	it('sends a small picture and its mask inline, submits once, and enters the request in the ledger', async () => {
		const { upload, submit, fal } = faked();
		const exec = execution(fal, await picture());
		const options = run();
		const started = await startFill(exec, 0, settingsOf(), options);
		expect(started).toMatchObject({ requestId: ID });
		expect(upload).toHaveBeenCalledTimes(0);
		expect(submit.calls[0]).toEqual([
			FILL_ENDPOINT,
			expect.objectContaining({
				input: expect.objectContaining({
					image_url: expect.stringMatching(/^data:image\/png;base64,/),
					mask_url: expect.stringMatching(/^data:image\/png;base64,/),
				}),
			}),
		]);
		expect(options.ledger).toMatchObject({ requestId: ID, fill: started.paid });
		expect(started.paid).toMatchObject({ fate: 'running', costUsd: expect.any(Number) });
		expect(exec.accepted).toHaveBeenCalledWith(0, FILL_ENDPOINT, ID);
	});

	it('uploads a picture over 1 MiB through fal storage, once for every item that has it', async () => {
		const { upload, submit, fal } = faked();
		const exec = execution(fal, await largePicture());
		await startFill(exec, 0, settingsOf(), run());
		await startFill(exec, 1, settingsOf(), run());
		expect(upload).toHaveBeenCalledTimes(1);
		expect(submit.calls[0][1]).toMatchObject({
			input: { image_url: 'https://v3.fal.media/files/image.png' },
		});
	});

	it("picks the request up on n8n's Retry On Fail: the same run of the node pays once", async () => {
		const { submit, fal } = faked();
		const exec = execution(fal, await picture());
		await startFill(exec, 0, settingsOf(), run());
		const again = await startFill(exec, 0, settingsOf(), run());
		expect(again.requestId).toBe(ID);
		expect(again.answer).toBeUndefined();
		expect(submit).toHaveBeenCalledTimes(1);
		// Another item, or a changed input, is another request.
		await startFill(exec, 1, settingsOf(), run());
		await startFill(exec, 0, settingsOf({ prompt: 'a blue bicycle' }), run());
		expect(submit).toHaveBeenCalledTimes(3);
	});

	it('after a submit fal may have accepted unnamed, a retry does not send it again', async () => {
		const upload = scripted(() => 'https://v3.fal.media/files/x.png');
		const submit = scripted(() => {
			throw httpError(502);
		});
		const exec = execution(fakeFal({ upload, submit }), await picture());
		const firstTry = run();
		const first = (await settled(startFill(exec, 0, settingsOf(), firstTry))) as FalError;
		expect(first.fields.maybeAccepted).toBe(true);
		const retryTry = run();
		const retry = (await settled(startFill(exec, 0, settingsOf(), retryTry))) as FalError;
		expect(retry.fields.words).toEqual(words.earlierMaybeAccepted());
		expect(submit).toHaveBeenCalledTimes(1);
		// It may be billed: both tries count it, without an id to name.
		for (const { ledger } of [firstTry, retryTry]) {
			expect(ledger.fill).toMatchObject({ fate: 'running', costUsd: 0.05 });
			expect(ledger.fill?.requestId).toBeUndefined();
			expect(ledger.requestId).toBeUndefined();
		}
	});

	it('a request fal accepted while the item stopped is remembered, logged and in the ledger before it is cancelled', async () => {
		const stop = new AbortController();
		const cancel = scripted(() => undefined);
		const submit = scripted(async () => {
			stop.abort();
			return { request_id: ID, status: 'IN_QUEUE' };
		});
		const status = scripted(() => ({ status: 'IN_QUEUE' }));
		const exec = execution(fakeFal({ submit, cancel, status }), await picture());
		const options = { ...run(), deadline: new Deadline(stop.signal, 60_000) };
		const error = (await settled(startFill(exec, 0, settingsOf(), options))) as FalError;
		expect(error.fields).toMatchObject({ requestId: ID, cancelledAtFal: true });
		expect(exec.accepted).toHaveBeenCalledWith(0, FILL_ENDPOINT, ID);
		expect(cancel).toHaveBeenCalledTimes(1);
		// Taken off fal's queue: not billed, and a retry may submit anew.
		expect(options.ledger.fill).toMatchObject({ requestId: ID, fate: 'cancelled' });
	});

	it('kept running on a stop (Retry On Fail), the request is picked up, not paid again', async () => {
		const stop = new AbortController();
		const submit = scripted(async () => {
			stop.abort();
			return { request_id: ID, status: 'IN_QUEUE' };
		});
		const exec = execution(fakeFal({ submit }), await picture());
		const options = {
			...run(),
			deadline: new Deadline(stop.signal, 60_000),
			cancelOnStop: () => false,
		};
		await settled(startFill(exec, 0, settingsOf(), options));
		expect(options.ledger.fill).toMatchObject({ requestId: ID, fate: 'running' });
		const again = await startFill(exec, 0, settingsOf(), run());
		expect(again.requestId).toBe(ID);
		expect(submit).toHaveBeenCalledTimes(1);
	});

	it("stops waiting for a stalled upload at the item's deadline, and submits nothing", async () => {
		const png = await largePicture();
		jest.useFakeTimers();
		try {
			const upload = scripted(async () => await new Promise(() => undefined));
			const submit = scripted(() => ({ request_id: ID }));
			const exec = execution(fakeFal({ upload, submit }), png);
			const options = { ...run(), deadline: new Deadline(new AbortController().signal, 5_000) };
			const outcome = settled(startFill(exec, 0, settingsOf(), options));
			await jest.advanceTimersByTimeAsync(5_000);
			expect(((await outcome) as FalError).fields.words).toEqual(words.timedOut(5));
			expect(submit).not.toHaveBeenCalled();
		} finally {
			jest.useRealTimers();
		}
	});

	it('follows a request fal named in an answer that was lost', async () => {
		const upload = scripted(() => 'https://v3.fal.media/files/x.png');
		const submit = scripted(() => {
			throw httpError(502, { requestId: ID });
		});
		const exec = execution(fakeFal({ upload, submit }), await picture());
		const started = await startFill(exec, 0, settingsOf(), run());
		expect(started).toMatchObject({ requestId: ID, lost: 'HTTP 502' });
		expect(exec.accepted).toHaveBeenCalledWith(0, FILL_ENDPOINT, ID);
	});
});

describe('awaitStarted', () => {
	const paidCall = (): PaidCall => ({ requestId: ID, costUsd: 0.1, fate: 'running' });
	const started = (lost?: string) => ({
		requestId: ID,
		key: `key-${Math.random()}`,
		...(lost ? { lost } : {}),
	});
	const waiting = (
		answer: () => Promise<Response>,
		result = scripted(() => ({ data: { images: [] } })),
	) => execution(fakeFal({ call: answer, result }), Buffer.alloc(0));
	const completed = async () =>
		new Response(JSON.stringify({ status: 'COMPLETED' }), {
			headers: { 'content-type': 'application/json' },
		});

	it('marks a request fal finished as completed', async () => {
		const paid = paidCall();
		expect(await awaitStarted(waiting(completed), FILL_ENDPOINT, started(), run(), paid)).toEqual({
			images: [],
		});
		expect(paid.fate).toBe('completed');
	});

	it('does not bill a request that failed at fal', async () => {
		const paid = paidCall();
		const failed = waiting(async () => await Promise.reject(httpError(422)));
		await settled(awaitStarted(failed, FILL_ENDPOINT, started(), run(), paid));
		expect(paid.fate).toBe('failed');
	});

	it('a lost submit whose request fal does not have was not accepted: a retry may send it anew', async () => {
		const paid = paidCall();
		const request = started('HTTP 502');
		requestMemory.remember(request.key, { requestId: ID });
		const missing = waiting(async () => await Promise.reject(httpError(404)));
		const error = (await settled(
			awaitStarted(missing, FILL_ENDPOINT, request, run(), paid),
		)) as FalError;
		expect(error.fields.words).toEqual(words.notAccepted('HTTP 502', ID));
		expect(paid.fate).toBe('cancelled');
		expect(requestMemory.recall(request.key)).toBeUndefined();
	});

	it('leaves the end of a stopped request open: it may still run, and be billed', async () => {
		const paid = paidCall();
		const stop = new AbortController();
		const options = {
			...run(),
			deadline: new Deadline(stop.signal, 60_000),
			cancelOnStop: () => false,
		};
		const hanging = waiting(
			() =>
				new Promise<Response>((_resolve, reject) =>
					stop.signal.addEventListener('abort', () => reject(stop.signal.reason)),
				),
		);
		const outcome = settled(awaitStarted(hanging, FILL_ENDPOINT, started(), options, paid));
		stop.abort();
		await outcome;
		expect(paid.fate).toBe('running');
	});

	it("keeps a request that may still run a day from the item's end, not its submit", async () => {
		jest.useFakeTimers();
		try {
			const request = started();
			requestMemory.remember(request.key, { requestId: ID });
			// The item waited almost a day (Timeout's longest), then stopped.
			jest.advanceTimersByTime(TIMING.memoryKeepMs - 1_000);
			const stop = new AbortController();
			stop.abort();
			const options = {
				...run(),
				deadline: new Deadline(stop.signal, 60_000),
				cancelOnStop: () => false,
			};
			const waitingFal = waiting(async () => await Promise.reject(stop.signal.reason));
			await settled(awaitStarted(waitingFal, FILL_ENDPOINT, request, options, paidCall()));
			// n8n's Retry On Fail an hour later still finds it.
			jest.advanceTimersByTime(60 * 60 * 1000);
			expect(requestMemory.recall(request.key)).toEqual({ requestId: ID });
		} finally {
			jest.useRealTimers();
		}
	});
});
