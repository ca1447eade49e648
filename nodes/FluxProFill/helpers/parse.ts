import { InputProblem } from '../errors/InputProblem';
import { DEFAULTS, LABELS, LIMITS, q } from './spec';

/*
 * Parsers for parameter values as n8n hands them over: expressions can produce
 * anything, so each one checks type and range and throws an InputProblem that names
 * the parameter and says how to fix it.
 */

export function parseWholeNumber(
	parameter: string,
	value: unknown,
	fallback: number,
	{ min, max }: { min: number; max: number },
): number {
	if (value === undefined || value === null || value === '') return fallback;
	const number = toNumber(value);
	if (number === undefined || !Number.isInteger(number) || number < min || number > max) {
		throw new InputProblem(
			`"${parameter}" is ${truncate(String(value))}`,
			`Enter a whole number from ${min} to ${max}.`,
		);
	}
	return number;
}

export function parseUrl(parameter: string, value: unknown): string {
	const text = typeof value === 'string' ? value.trim() : '';
	if (text === '') {
		throw new InputProblem(
			`"${parameter}" is empty`,
			`Enter a link that starts with https:// in "${parameter}", or switch the source to ${q(LABELS.sourceBinary)}.`,
		);
	}
	if (/^data:image\//i.test(text)) return text;
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		throw new InputProblem(
			`"${parameter}" is not a valid URL: ${truncate(text)}`,
			'Enter a full link that starts with https://.',
		);
	}
	if (url.protocol !== 'https:' && url.protocol !== 'http:') {
		throw new InputProblem(
			`"${parameter}" uses ${url.protocol.replace(/:$/, '')}://, which fal cannot download`,
			`fal downloads the picture itself, so it needs an http(s) link or a data:image URI. For a local file, read it with "Read/Write Files from Disk" and use the ${q(LABELS.sourceBinary)} source.`,
		);
	}
	return text;
}

export function parseFieldName(parameter: string, value: unknown): string {
	const text = typeof value === 'string' ? value.trim() : '';
	if (text === '') {
		throw new InputProblem(
			`"${parameter}" is empty`,
			`Enter the name of a binary field in "${parameter}", for example "data".`,
		);
	}
	return text;
}

/** The timeout option in whole milliseconds: decimals from an expression are rounded, not refused. */
export function parseTimeoutMs(value: unknown): number {
	return Math.round(parseTimeoutSeconds(value) * 1000);
}

export function parseTimeoutSeconds(value: unknown): number {
	if (value === undefined || value === null || value === '') return DEFAULTS.timeoutSeconds;
	const seconds = toNumber(value);
	const { min, max } = LIMITS.timeoutSeconds;
	if (seconds === undefined || seconds <= 0 || seconds > max) {
		throw new InputProblem(
			`${q(LABELS.timeout)} is ${truncate(String(value))}`,
			`Enter a number of seconds from ${min} to ${max} (a day). For longer fal queues use Submit and Get Result.`,
		);
	}
	return seconds;
}

export function parseEnum<T extends string>(
	parameter: string,
	value: unknown,
	allowed: readonly T[],
	fallback: T,
): T {
	if (value === undefined || value === null || value === '') return fallback;
	if ((allowed as readonly unknown[]).includes(value)) return value as T;
	throw new InputProblem(
		`"${parameter}" is ${truncate(String(value))}, which fal does not accept`,
		`Choose one of: ${allowed.join(', ')}.`,
	);
}

export function parseBoolean(parameter: string, value: unknown): boolean {
	if (value === undefined || value === null || value === '') return false;
	if (typeof value === 'boolean') return value;
	if (value === 'true') return true;
	if (value === 'false') return false;
	throw new InputProblem(
		`"${parameter}" is ${truncate(String(value))}, not true or false`,
		`Switch "${parameter}" on or off, or make its expression give true or false.`,
	);
}

/** Expressions can hand over numbers as text ("3"); anything else that is not a finite number is rejected. */
export function toNumber(value: unknown): number | undefined {
	if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
	if (typeof value === 'string' && value.trim() !== '') {
		const parsed = Number(value);
		return Number.isFinite(parsed) ? parsed : undefined;
	}
	return undefined;
}

export function truncate(text: string, max = 80): string {
	return text.length > max ? `${text.slice(0, max)}…` : text;
}
