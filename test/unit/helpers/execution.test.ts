import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { IExecuteFunctions } from 'n8n-workflow';

import { Memo, openExecution, Stop } from '../../../nodes/FluxProFill/helpers/execution';
import { settled } from '../kit';

describe('Memo', () => {
	it('makes a value once per key and shares it with every item that asks', async () => {
		const memo = new Memo<string>();
		const make = jest.fn(async () => 'uploaded');
		const first = memo.get('digest', make);
		const second = memo.get('digest', make);
		expect(first.started).toBe(true);
		expect(second.started).toBe(false);
		expect(second.value).toBe(first.value);
		expect(await second.value).toBe('uploaded');
		expect(make).toHaveBeenCalledTimes(1);
		// Kept: later items get it too.
		expect(memo.get('digest', make).started).toBe(false);
		expect(memo.get('other', make).started).toBe(true);
	});

	it('forgets a failure, so that a later item tries again', async () => {
		const memo = new Memo<string>();
		const failure = new Error('upload failed');
		const failed = memo.get('digest', async () => await Promise.reject(failure));
		expect(await settled(failed.value)).toBe(failure);
		const again = memo.get('digest', async () => 'uploaded');
		expect(again.started).toBe(true);
		expect(await again.value).toBe('uploaded');
	});

	it('with whileRunning, shares a value only while it is being made', async () => {
		const memo = new Memo<string>('whileRunning');
		let finish: (value: string) => void = () => undefined;
		const running = memo.get('canvas', () => new Promise((resolve) => (finish = resolve)));
		expect(memo.get('canvas', async () => 'other').started).toBe(false);
		finish('padded');
		expect(await running.value).toBe('padded');
		expect(memo.get('canvas', async () => 'again').started).toBe(true);
	});
});

describe('Stop', () => {
	it('fires when n8n cancels the execution', () => {
		const execution = new AbortController();
		const stop = new Stop(execution.signal);
		expect(stop.signal.aborted).toBe(false);
		execution.abort();
		expect(stop).toMatchObject({ cancelled: true, failedFast: false });
		expect(stop.signal.aborted).toBe(true);
	});

	it('fires when a failing item stops the others, which is no cancel', () => {
		const stop = new Stop(new AbortController().signal);
		stop.stopOthers();
		expect(stop).toMatchObject({ cancelled: false, failedFast: true });
		expect(stop.signal.aborted).toBe(true);
	});

	it('works without a cancel signal (older n8n)', () => {
		const stop = new Stop();
		expect(stop.signal.aborted).toBe(false);
		stop.stopOthers();
		expect(stop.failedFast).toBe(true);
	});
});

describe('openExecution', () => {
	const KEY = 'key-id:key-secret-0123456789';

	function context(runIndex?: number, proxyUrl = '') {
		const cancel = new AbortController();
		const info = jest.fn();
		const ctx = {
			getCredentials: async () => ({ apiKey: ` ${KEY}\n`, proxyUrl }),
			getNode: () => ({ id: 'node-1', name: 'FLUX.1 Fill', type: 'x', typeVersion: 1 }),
			getExecutionId: () => '101',
			getExecutionCancelSignal: () => cancel.signal,
			getNodeParameter: (_name: string, _item: number, fallback: unknown) => fallback,
			getInputData: () => [{ json: {}, binary: { data: { fileName: 'cat.png' } } }],
			helpers: {
				getBinaryDataBuffer: async (itemIndex: number, field: string) =>
					Buffer.from(`${itemIndex}:${field}`),
			},
			logger: { info, warn: jest.fn() },
			...(runIndex === undefined ? {} : { runIndex }),
		} as unknown as IExecuteFunctions;
		return { ctx, cancel, info };
	}

	it('knows where it runs: execution, node and run of the node', async () => {
		expect((await openExecution(context(3).ctx)).where).toEqual({
			executionId: '101',
			nodeId: 'node-1',
			runIndex: 3,
		});
		expect((await openExecution(context().ctx)).where.runIndex).toBe(0);
	});

	it('trims a pasted key, and hides it and its secret half', async () => {
		const exec = await openExecution(context().ctx);
		expect(exec.secrets).toEqual([KEY, 'key-secret-0123456789']);
	});

	it("stops with n8n's cancel", async () => {
		const { ctx, cancel } = context();
		const exec = await openExecution(ctx);
		cancel.abort();
		expect(exec.stop.cancelled).toBe(true);
	});

	it('ends an upload still running when the execution closes: nothing outlives it', async () => {
		// A fal that takes the upload's first call and never answers.
		const silent = createServer(() => undefined);
		await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
		try {
			const proxy = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
			const exec = await openExecution(context(undefined, proxy).ctx);
			const upload = settled(exec.fal.client.storage.upload(new Blob(['png']) as File));
			await new Promise((resolve) => setTimeout(resolve, 50));
			exec.close();
			const error = (await upload) as Error;
			expect(error.name).toBe('AbortError');
		} finally {
			silent.closeAllConnections();
			await new Promise((resolve) => silent.close(resolve));
		}
	});

	it("reads the items' binary fields through n8n", async () => {
		const reader = (await openExecution(context().ctx)).reader(0);
		expect(reader.fields()).toEqual({ data: { fileName: 'cat.png' } });
		expect((await reader.read('data')).toString()).toBe('0:data');
		expect((await openExecution(context().ctx)).reader(5).fields()).toBeUndefined();
	});

	it("logs each request fal accepted, for an operator to find it in n8n's log", async () => {
		const { ctx, info } = context();
		(await openExecution(ctx)).accepted(2, 'fal-ai/flux-pro/v1/fill', 'req-1');
		expect(info).toHaveBeenCalledWith(
			expect.stringContaining('req-1'),
			expect.objectContaining({ executionId: '101', itemIndex: 2, requestId: 'req-1' }),
		);
	});
});
