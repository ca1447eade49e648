import { AT_FAL, fal as words } from '../../../nodes/FluxProFill/common/messages';
import { Deadline } from '../../../nodes/FluxProFill/transport/deadline';
import { settled, useFakeClock } from '../kit';

useFakeClock();

const ID = '764cabcf-b745-4b3e-ae38-1200304cf45b';
const running = () => new AbortController().signal;

describe('Deadline', () => {
	it('stops when its time is up, not before', async () => {
		const deadline = new Deadline(running(), 1_500);
		await jest.advanceTimersByTimeAsync(1_499);
		expect(deadline.stopped).toBe(false);
		await jest.advanceTimersByTimeAsync(1);
		expect(deadline.stopped).toBe(true);
		expect(deadline.signal.aborted).toBe(true);
	});

	it("stops at once when the execution's stop fires", () => {
		const stop = new AbortController();
		const deadline = new Deadline(stop.signal, 60_000);
		stop.abort();
		expect(deadline.stopped).toBe(true);
	});

	it('waits at least a millisecond, in whole milliseconds', async () => {
		const short = new Deadline(running(), 0.2);
		expect(short.stopped).toBe(false);
		await jest.advanceTimersByTimeAsync(1);
		expect(short.stopped).toBe(true);
		const up = new Deadline(running(), 2.6);
		await jest.advanceTimersByTimeAsync(2);
		expect(up.stopped).toBe(false);
		await jest.advanceTimersByTimeAsync(1);
		expect(up.stopped).toBe(true);
		const down = new Deadline(running(), 2.4);
		await jest.advanceTimersByTimeAsync(2);
		expect(down.stopped).toBe(true);
	});

	it('after its time, names the timeout in seconds, the request and what became of it', async () => {
		const deadline = new Deadline(running(), 1_540);
		await jest.advanceTimersByTimeAsync(1_540);
		const error = deadline.error(ID, 'confirmed', 'HTTP 503');
		expect(error.fields.words).toEqual(words.timedOut(1.5, ID, AT_FAL.confirmed, 'HTTP 503'));
		expect(error.fields).toMatchObject({ requestId: ID, cancelledAtFal: true });
		expect(deadline.error().fields.words).toEqual(words.timedOut(1.5));
	});

	it('tells to raise the Timeout option only where the operation shows it', async () => {
		const fixed = new Deadline(running(), 1_000, false);
		await jest.advanceTimersByTimeAsync(1_000);
		expect(fixed.error(ID).fields.words?.description).not.toContain('Timeout');
		expect(fixed.error().fields.words?.description).toBe(
			'fal did not answer in time. Try again later.',
		);
		const raisable = new Deadline(running(), 1_000);
		await jest.advanceTimersByTimeAsync(1_000);
		expect(raisable.error(ID).fields.words?.description).toContain('Raise "Timeout (Seconds)"');
	});

	it('after a stop, says the execution was cancelled', () => {
		const stop = new AbortController();
		const deadline = new Deadline(stop.signal, 60_000);
		stop.abort();
		expect(deadline.error(ID, 'failed').fields.words).toEqual(words.canceled(ID, AT_FAL.failed));
		expect(deadline.error().fields.words).toEqual(words.canceled(undefined, AT_FAL.notSent));
	});

	it('a cancelled execution whose time has also run out says it was cancelled', async () => {
		const stop = new AbortController();
		const deadline = new Deadline(stop.signal, 1_000);
		stop.abort();
		await jest.advanceTimersByTimeAsync(1_000);
		expect(deadline.error(ID).fields.words).toEqual(words.canceled(ID, AT_FAL.notSent));
	});

	it('says fal cancelled the request only when there is one and fal confirmed it', () => {
		const stop = new AbortController();
		const deadline = new Deadline(stop.signal, 60_000);
		stop.abort();
		expect(deadline.error(ID, 'confirmed').fields.cancelledAtFal).toBe(true);
		expect(deadline.error(undefined, 'confirmed').fields.cancelledAtFal).toBe(false);
		for (const outcome of ['alreadyCompleted', 'failed', 'notSent'] as const)
			expect(deadline.error(ID, outcome).fields.cancelledAtFal).toBe(false);
	});

	describe('guard', () => {
		it("passes the work's result and, while running, its failure", async () => {
			const deadline = new Deadline(running(), 60_000);
			expect(await deadline.guard(async () => 'done')).toBe('done');
			const failure = new Error('the CDN answered HTTP 500');
			expect(await settled(deadline.guard(async () => await Promise.reject(failure)))).toBe(
				failure,
			);
		});

		it('turns the abort of stopped work into why the item stopped', async () => {
			const deadline = new Deadline(running(), 1_000);
			const work = deadline.guard(
				async () =>
					await new Promise((_resolve, reject) =>
						deadline.signal.addEventListener('abort', () => reject(deadline.signal.reason)),
					),
				ID,
				'alreadyCompleted',
			);
			const outcome = settled(work);
			await jest.advanceTimersByTimeAsync(1_000);
			expect(await outcome).toMatchObject({
				fields: { requestId: ID, words: words.timedOut(1, ID, AT_FAL.alreadyCompleted) },
			});
		});
	});

	describe('race', () => {
		it("gives the work's result while running", async () => {
			const deadline = new Deadline(running(), 60_000);
			expect(await deadline.race(Promise.resolve('uploaded'))).toBe('uploaded');
		});

		it('stops waiting at the deadline, while the shared work goes on', async () => {
			const deadline = new Deadline(running(), 1_000);
			let finished = false;
			const work = new Promise<string>((resolve) =>
				setTimeout(() => {
					finished = true;
					resolve('uploaded');
				}, 5_000),
			);
			const outcome = settled(deadline.race(work));
			await jest.advanceTimersByTimeAsync(1_000);
			expect(await outcome).toMatchObject({ fields: { words: words.timedOut(1) } });
			expect(finished).toBe(false);
			await jest.advanceTimersByTimeAsync(4_000);
			expect(await work).toBe('uploaded');
		});

		it('fails at once when already stopped, leaving no rejection unhandled', async () => {
			const stop = new AbortController();
			stop.abort();
			const deadline = new Deadline(stop.signal, 60_000);
			const error = await settled(deadline.race(Promise.reject(new Error('late failure'))));
			expect(error).toMatchObject({ fields: { words: words.canceled() } });
		});
	});
});
