/**
 * The cancel operation: a queued request is cancelled at fal. Cancelling a finished one
 * (ALREADY_COMPLETED) is the last step of submit.test.ts's chain; a stopped execution
 * cancelling its requests is in faults.test.ts.
 */
import { fromSubmit, pictureItem, shorthands, useEmulator } from './fixtures';

const env = useEmulator();
const { run } = shorthands(env);

describe('submit, then getStatus / getResult / cancel', () => {
	it('cancels a queued request', async () => {
		env.emu.configure({ concurrency: 0 });
		const submitted = await run('submit', [pictureItem(env.pictures)]);
		const requestId = submitted.items[0].json.request_id as string;
		const status = await run('getStatus', fromSubmit(submitted.items));
		expect(status.items[0].json).toMatchObject({ status: 'IN_QUEUE', queue_position: 0 });
		const cancelled = await run('cancel', fromSubmit(submitted.items));
		expect(cancelled.items[0].json).toEqual({
			request_id: requestId,
			status: 'CANCELLATION_REQUESTED',
		});
		expect(env.emu.jobs.get(requestId)?.cancelled).toBe(true);
	});
});
