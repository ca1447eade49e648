import { Recent } from '../../../nodes/FluxProFill/helpers/recent';
import { useFakeClock } from '../kit';

useFakeClock();

const DAY = 24 * 60 * 60 * 1000;

describe('Recent', () => {
	it('keeps an entry a day after its last use, not after it was made', () => {
		const recent = new Recent<string>(DAY, 10);
		recent.set('loop', 'book');
		// A loop that uses its entry every hour keeps it for days.
		for (let hour = 0; hour < 72; hour++) {
			jest.advanceTimersByTime(60 * 60 * 1000);
			expect(recent.get('loop')).toBe('book');
		}
		// Unused for a day and a millisecond: gone.
		jest.advanceTimersByTime(DAY + 1);
		expect(recent.get('loop')).toBeUndefined();
	});

	it('drops what is unused for more than a day as new entries come', () => {
		const recent = new Recent<string>(DAY, 10);
		recent.set('old', 'a');
		jest.advanceTimersByTime(DAY + 1);
		recent.set('new', 'b');
		// Back within a day of the old one, it would be found had it been kept.
		jest.setSystemTime(Date.now() - 2);
		expect(recent.get('old')).toBeUndefined();
		expect(recent.get('new')).toBe('b');
	});

	it('past its limit drops the least recently used, not the oldest made', () => {
		const recent = new Recent<number>(DAY, 3);
		recent.set('a', 1);
		recent.set('b', 2);
		recent.set('c', 3);
		expect(recent.get('a')).toBe(1);
		recent.set('d', 4);
		expect(recent.get('b')).toBeUndefined();
		expect([recent.get('a'), recent.get('c'), recent.get('d')]).toEqual([1, 3, 4]);
	});

	it('a new value replaces the old one; a deleted entry is gone', () => {
		const recent = new Recent<string>(DAY, 3);
		recent.set('a', 'first');
		recent.set('a', 'second');
		expect(recent.get('a')).toBe('second');
		recent.delete('a');
		expect(recent.get('a')).toBeUndefined();
	});
});
