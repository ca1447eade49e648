import { cap as words, type InputProblem } from '../common/messages';
import { billed, round, type Ledger } from './ledger';
import { Recent } from './recent';
import type { Where } from './requestMemory';

/**
 * What each node has spent in each execution, by run and item, for Max Cost per Run. All
 * the runs of a node in one execution share its cap: a loop's passes, an AI agent's tool
 * calls. n8n's Retry On Fail runs the same run again: its items replace their entries.
 */
const books = new Recent<Map<string, number>>();

function bookOf(where: Where): Map<string, number> {
	const key = `${where.executionId}|${where.nodeId}`;
	const book = books.get(key) ?? new Map<string, number>();
	books.set(key, book);
	return book;
}

/**
 * Decides, before anything is paid for, which items of this run may go to fal: in input
 * order while the execution's estimated cost stays within the cap. `costs` holds each
 * item's estimate (undefined for items that already failed their check). Returns why
 * each refused item was refused, and for a node that stops on errors the reason to stop.
 */
export function admit(
	where: Where,
	capUsd: number,
	costs: Array<number | undefined>,
): { refused: Map<number, InputProblem>; stop?: InputProblem } {
	const book = bookOf(where);
	const mine = (key: string) => key.startsWith(`${where.runIndex}|`);
	let spent = 0;
	for (const [key, usd] of book) if (!mine(key)) spent += usd;
	spent = round(spent);
	let total = spent;
	let fitting = 0;
	let full = false;
	const refused = new Map<number, InputProblem>();
	costs.forEach((cost, itemIndex) => {
		const key = `${where.runIndex}|${itemIndex}`;
		book.delete(key);
		if (cost === undefined) return;
		if (!full && round(total + cost) <= capUsd) {
			total = round(total + cost);
			fitting++;
			book.set(key, cost);
			return;
		}
		full = true;
		refused.set(itemIndex, words.overItem(cost, round(total + cost), capUsd));
	});
	if (refused.size === 0) return { refused };
	const asked = round(costs.reduce<number>((sum, cost) => sum + (cost ?? 0), 0));
	const items = costs.filter((cost) => cost !== undefined).length;
	return { refused, stop: words.overRun(round(spent + asked), items, capUsd, fitting, spent) };
}

/** After the run: an item's entry becomes what it was billed (nothing for one fal refused). */
export function settle(where: Where, ledgers: Ledger[]): void {
	const book = bookOf(where);
	ledgers.forEach((ledger, itemIndex) => {
		const key = `${where.runIndex}|${itemIndex}`;
		if (!book.has(key)) return;
		const fill = billed(ledger.fill);
		if (fill !== null) book.set(key, round(fill + (billed(ledger.segmentation) ?? 0)));
	});
}
