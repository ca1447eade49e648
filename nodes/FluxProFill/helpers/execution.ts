import type { IExecuteFunctions } from 'n8n-workflow';

import { secretsOfKey } from '../common/redact';
import type { Picture, BinaryReader } from '../pictures/picture';
import { createFal, type Fal, type FalCredentials } from '../transport/falClient';
import { keepAliveHttp } from '../transport/http';
import type { PaidCall } from './ledger';
import type { Where } from './requestMemory';
import { readMaxCost } from './settings';

/**
 * A memoised async cache: one promise per key, shared by every item that asks; a failed
 * one is forgotten so that a later item may try again. With `whileRunning` a result is
 * shared only while it is being made (for megabytes that items must not all hold).
 */
export class Memo<T> {
	private readonly entries = new Map<string, Promise<T>>();

	constructor(private readonly keep: 'always' | 'whileRunning' = 'always') {}

	/** The value for `key`, and whether this call started making it. */
	get(key: string, make: () => Promise<T>): { value: Promise<T>; started: boolean } {
		const found = this.entries.get(key);
		if (found) return { value: found, started: false };
		const value = make();
		this.entries.set(key, value);
		const forget = () => this.entries.delete(key);
		value.then(this.keep === 'always' ? undefined : forget, forget);
		return { value, started: true };
	}
}

/** The execution's stop: cancelled by n8n, or by the first failure when the node stops on errors. */
export class Stop {
	readonly signal: AbortSignal;

	private readonly failFast = new AbortController();

	constructor(private readonly execution = new AbortController().signal) {
		this.signal = AbortSignal.any([execution, this.failFast.signal]);
	}

	stopOthers(): void {
		this.failFast.abort();
	}

	get cancelled(): boolean {
		return this.execution.aborted;
	}

	/** Stopped because an item failed (and the node stops on errors), not by the user. */
	get failedFast(): boolean {
		return this.failFast.signal.aborted && !this.cancelled;
	}
}

/** What one execution of the node shares across its items. */
export interface Execution {
	fal: Fal;
	stop: Stop;
	where: Where;
	/** fal file URLs of uploaded pictures, by digest: identical bytes are uploaded once. */
	uploads: Memo<string>;
	/** Prepared masks, by source, size and options: one mask for 50 items is made once. */
	masks: Memo<Picture>;
	/** Describe It: one segmentation per picture and words. */
	segmentations: Memo<{ requestId: string; mask: Buffer }>;
	/** Expand Canvas: padded pictures, shared while they are made. */
	canvases: Memo<{ image: Picture; mask: Picture }>;
	/** Strings that must never appear in output: the key and its secret half. */
	secrets: string[];
	/** Max Cost per Run (USD); undefined when there is no cap. */
	maxCostUsd?: number;
	/** Describe It segmentations already counted in the check pass's estimates. */
	estimated: Set<string>;
	/**
	 * Describe It: the item that was charged for each segmentation. One made again after a
	 * failure (the cache forgets it) is charged again only if the first is not billed.
	 */
	charged: Map<string, PaidCall>;
	reader(itemIndex: number): BinaryReader;
	/** Closes the execution's kept-alive connections. */
	close(): void;
	/** Logs a request fal accepted, so that an operator can find it after a crash. */
	accepted(itemIndex: number, endpoint: string, requestId: string): void;
}

export async function openExecution(ctx: IExecuteFunctions): Promise<Execution> {
	const stored = (await ctx.getCredentials('falApi')) as unknown as FalCredentials;
	// A pasted key often brings a trailing space or newline; fal would refuse it, redaction would miss it.
	const credentials = { apiKey: String(stored.apiKey ?? '').trim(), proxyUrl: stored.proxyUrl };
	const http = keepAliveHttp();
	// Ends what outlives the items (an upload one item stopped waiting for) with the execution.
	const done = new AbortController();
	const node = ctx.getNode();
	const executionId = ctx.getExecutionId();
	const where = { executionId, nodeId: node.id, runIndex: runIndexOf(ctx) };
	// Older n8n versions have no cancel signal; the node then simply runs to the end.
	const stop = new Stop(ctx.getExecutionCancelSignal?.());
	return {
		fal: createFal(credentials, http.fetch, {
			warn: (message) => ctx.logger.warn(message),
			stop: AbortSignal.any([stop.signal, done.signal]),
		}),
		close: () => {
			done.abort();
			http.close();
		},
		stop,
		where,
		uploads: new Memo(),
		masks: new Memo(),
		segmentations: new Memo(),
		canvases: new Memo('whileRunning'),
		secrets: secretsOfKey(credentials.apiKey),
		maxCostUsd: readMaxCost(ctx),
		estimated: new Set(),
		charged: new Map(),
		reader: (itemIndex) => ({
			fields: () => ctx.getInputData()[itemIndex]?.binary,
			read: async (field) => await ctx.helpers.getBinaryDataBuffer(itemIndex, field),
		}),
		accepted: (itemIndex, endpoint, requestId) =>
			ctx.logger.info(
				`fal accepted request ${requestId} (${endpoint}) for item ${itemIndex} of node "${node.name}" in execution ${executionId}`,
				{ executionId, nodeName: node.name, itemIndex, requestId, endpoint },
			),
	};
}

/**
 * Which run of the node this is: n8n's Retry On Fail runs it again in the same run, a
 * loop in a new one. `$runIndex` as expressions see it.
 */
function runIndexOf(ctx: IExecuteFunctions): number {
	const index = (ctx as unknown as { runIndex?: unknown }).runIndex;
	return typeof index === 'number' ? index : 0;
}
