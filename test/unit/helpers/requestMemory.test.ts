import { TIMING } from '../../../nodes/FluxProFill/common/constants';
import type { Remembered, Where } from '../../../nodes/FluxProFill/helpers/requestMemory';
import { useFakeClock } from '../kit';

useFakeClock();

type Module = typeof import('../../../nodes/FluxProFill/helpers/requestMemory');

/** The module with a memory of its own: the node's is one per n8n process. */
function fresh(): Module {
	let module: Module | undefined;
	jest.isolateModules(() => {
		module = jest.requireActual<Module>('../../../nodes/FluxProFill/helpers/requestMemory');
	});
	return module!;
}

const ID = '764cabcf-b745-4b3e-ae38-1200304cf45b';
const WHERE: Where = { executionId: '101', nodeId: 'node-1', runIndex: 0 };
const named = (requestId = ID): Remembered => ({ requestId });

describe('requestMemory', () => {
	it('recalls what a try learnt, named or not, until forgotten', () => {
		const { requestMemory } = fresh();
		requestMemory.remember('a', named());
		requestMemory.remember('b', { unnamed: true });
		expect(requestMemory.recall('a')).toMatchObject(named());
		expect(requestMemory.recall('b')).toMatchObject({ unnamed: true });
		expect(requestMemory.recall('c')).toBeUndefined();
		requestMemory.forget('a');
		expect(requestMemory.recall('a')).toBeUndefined();
	});

	it("keeps a request a day after its last use: any wait between n8n's tries", () => {
		const { requestMemory } = fresh();
		requestMemory.remember('a', named());
		jest.advanceTimersByTime(TIMING.memoryKeepMs);
		expect(requestMemory.recall('a')).toMatchObject(named());
		jest.advanceTimersByTime(TIMING.memoryKeepMs + 1);
		expect(requestMemory.recall('a')).toBeUndefined();
	});

	it('a new answer for a key replaces the old one', () => {
		const { requestMemory } = fresh();
		requestMemory.remember('a', { unnamed: true });
		requestMemory.remember('a', named('other-id'));
		expect(requestMemory.recall('a')).toMatchObject(named('other-id'));
	});
});

describe('requestKey', () => {
	const { requestKey } = fresh();
	const sent = { endpoint: 'fal-ai/flux-pro/v1/fill', input: { prompt: 'a cat' } };

	it('is the same for the same place and the same request', () => {
		expect(requestKey(WHERE, 0, sent)).toBe(requestKey({ ...WHERE }, 0, structuredClone(sent)));
	});

	it('differs by execution, node, run of the node and item', () => {
		const keys = [
			requestKey(WHERE, 0, sent),
			requestKey({ ...WHERE, executionId: '102' }, 0, sent),
			requestKey({ ...WHERE, nodeId: 'node-2' }, 0, sent),
			// A loop runs the node again: a new run, a new request.
			requestKey({ ...WHERE, runIndex: 1 }, 0, sent),
			requestKey(WHERE, 1, sent),
			requestKey(WHERE, 'segmentation', sent),
		];
		expect(new Set(keys).size).toBe(keys.length);
	});

	it('differs when anything sent differs', () => {
		const other = { ...sent, input: { prompt: 'a dog' } };
		expect(requestKey(WHERE, 0, other)).not.toBe(requestKey(WHERE, 0, sent));
		expect(requestKey(WHERE, 0, { ...sent, webhookUrl: 'https://n8n.test/hook' })).not.toBe(
			requestKey(WHERE, 0, sent),
		);
	});

	it('keeps what was sent out of the key: only its digest', () => {
		expect(requestKey(WHERE, 0, { input: { prompt: 'secret plans' } })).not.toContain('secret');
	});
});
