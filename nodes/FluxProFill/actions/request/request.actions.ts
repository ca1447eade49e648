import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { ItemDeadline } from '../../transport/itemDeadline';
import { awaitResult, cancelRequest, getRequestStatus } from '../../transport/queueRequest';
import { collectResult } from '../collectResult';
import { isToolMode, readConcurrency, readOptions } from '../parameters';
import { runItems, type ItemRunner } from '../runItems';
import { createFalServices } from '../services';
import { parseRequestId, parseResultSettings, type ResultSettings } from './requestSettings';

const QUICK_CALL_TIMEOUT_MS = 60_000;

function readRequestId(ctx: IExecuteFunctions, itemIndex: number): unknown {
	return ctx.getNodeParameter('requestId', itemIndex, '');
}

/** Get Status: where a submitted request is (queue position, status, logs), without waiting. */
export async function executeGetStatus(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const services = await createFalServices(this);
	const runner: ItemRunner<{ requestId: string; logs: boolean }> = {
		check: async (itemIndex) => ({
			requestId: parseRequestId(readRequestId(this, itemIndex)),
			logs: readOptions(this, itemIndex).logs === true,
		}),
		run: async (itemIndex, { requestId, logs }, { atFal, stopSignal, track }) => {
			track(requestId);
			const deadline = new ItemDeadline(stopSignal, QUICK_CALL_TIMEOUT_MS);
			const status = await atFal(
				async () => await deadline.guard(async () => await getRequestStatus(services.client, requestId, logs, deadline.signal), requestId, { cancelled: false }),
			);
			return [
				{
					json: {
						request_id: requestId,
						status: status.status,
						queue_position: status.queue_position ?? null,
						logs: (status.logs as IDataObject[] | undefined) ?? null,
						metrics: (status.metrics as IDataObject | undefined) ?? null,
						done: status.status === 'COMPLETED',
					},
					pairedItem: { item: itemIndex },
				},
			];
		},
	};
	return await runItems(this, runner, { concurrency: readConcurrency(this), stop: services.stop, secrets: services.secrets });
}

/** Get Result: the same output items as Fill for a submitted request, waiting for it if it is still running. */
export async function executeGetResult(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const services = await createFalServices(this);
	const runner: ItemRunner<ResultSettings> = {
		check: async (itemIndex) => parseResultSettings(readRequestId(this, itemIndex), readOptions(this, itemIndex), isToolMode(this)),
		run: async (itemIndex, settings, { atFal, stopSignal, track }) => {
			track(settings.requestId);
			const deadline = new ItemDeadline(stopSignal, settings.timeoutMs);
			// The request is someone else's to cancel: a timeout here only stops waiting.
			const result = await atFal(async () => await awaitResult(services.client, settings.requestId, { deadline, cancelOnStop: false }));
			return await collectResult(
				this,
				itemIndex,
				result,
				{ outputMode: settings.outputMode, binaryProperty: settings.outputBinaryProperty, dropNsfw: settings.dropNsfw, deadline },
				services,
			);
		},
	};
	return await runItems(this, runner, { concurrency: readConcurrency(this), stop: services.stop, secrets: services.secrets });
}

/** Cancel: asks fal to stop a submitted request; one that already ended is reported, not an error. */
export async function executeCancel(this: IExecuteFunctions): Promise<INodeExecutionData[]> {
	const services = await createFalServices(this);
	const runner: ItemRunner<string> = {
		check: async (itemIndex) => parseRequestId(readRequestId(this, itemIndex)),
		run: async (itemIndex, requestId, { atFal, stopSignal, track }) => {
			track(requestId);
			const deadline = new ItemDeadline(stopSignal, QUICK_CALL_TIMEOUT_MS);
			const status = await atFal(
				async () => await deadline.guard(async () => await cancelRequest(services.client, requestId, deadline.signal), requestId, { cancelled: false }),
			);
			return [{ json: { request_id: requestId, status }, pairedItem: { item: itemIndex } }];
		},
	};
	return await runItems(this, runner, { concurrency: readConcurrency(this), stop: services.stop, secrets: services.secrets });
}
