/**
 * The getResult operation: an unknown request ID in the node's words, and its timeout,
 * which only stops the waiting and leaves the request running at fal. Its output (the
 * same items as Fill) is checked after a Submit in submit.test.ts, from a webhook's
 * payload there too.
 */
import { fromSubmit, pictureItem, shorthands, useEmulator } from './fixtures';

const env = useEmulator();
const { run } = shorthands(env);

describe('submit, then getStatus / getResult / cancel', () => {
	it('getResult of an unknown id says so clearly', async () => {
		const result = await run('getResult', [
			{ json: { request_id: '00000000-0000-4000-8000-000000000000' } },
		]);
		expect(result.error?.message).toBe(
			'fal has no request with ID 00000000-0000-4000-8000-000000000000',
		);
		expect((result.error as { description?: string }).description).toContain(
			'key that submitted it',
		);
	});

	it('getResult only stops waiting at its timeout: it does not cancel the request', async () => {
		env.emu.configure({ latencyMs: 5_000 });
		const submitted = await run('submit', [pictureItem(env.pictures)]);
		const result = await run('getResult', fromSubmit(submitted.items), { options: { timeout: 1 } });
		expect(result.error?.message).toMatch(/^fal did not finish within 1 s \(fal request ID/);
		expect((result.error as { description?: string }).description).toContain(
			'it was not cancelled',
		);
		expect(env.emu.requests.some((r) => r.kind === 'cancel')).toBe(false);
	});
});
