/**
 * The getStatus operation, and the check of the Request ID it shares with getResult and
 * cancel: an empty ID or one that would change the URL is refused before any call. Its
 * answers for a running and a finished request are checked in submit.test.ts's chain,
 * and in the queue in cancel.test.ts.
 */
import { shorthands, useEmulator } from './fixtures';

const env = useEmulator();
const { run } = shorthands(env);

describe('submit, then getStatus / getResult / cancel', () => {
	it('rejects a request id that is missing or would change the URL', async () => {
		const empty = await run('getStatus', [{ json: {} }]);
		expect(empty.error?.message).toBe('The request ID is empty');
		const bad = await run('cancel', [{ json: { request_id: '../../other' } }]);
		expect(bad.error?.message).toBe('"../../other" is not a fal request ID');
		expect(env.emu.requests.filter((r) => r.kind !== 'other')).toHaveLength(0);
	});
});
