import { InputProblem } from '../../errors/InputProblem';
import type { OutputMode } from '../../output/outputItems';

/** fal request ids are UUIDs; anything with other characters would change the URL it is put in. */
const REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/;

export function parseRequestId(value: unknown): string {
	const text = typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
	if (text === '') {
		throw new InputProblem(
			'The request ID is empty',
			'Put the ID that Submit returned in "Request ID" (by default {{ $json.request_id }} of the item coming in).',
		);
	}
	if (!REQUEST_ID.test(text)) {
		throw new InputProblem(
			`"${text.slice(0, 60)}" is not a fal request ID`,
			'fal request IDs look like 764cabcf-b745-4b3e-ae38-1200304cf45b. Check the expression in "Request ID".',
		);
	}
	return text;
}

export interface ResultSettings {
	requestId: string;
	outputMode: OutputMode;
	outputBinaryProperty: string;
	dropNsfw: boolean;
	timeoutMs: number;
}

export function parseResultSettings(requestId: unknown, options: Record<string, unknown>, tool: boolean): ResultSettings {
	const seconds = options.timeout === undefined || options.timeout === '' ? 600 : Number(options.timeout);
	if (!(seconds > 0)) throw new InputProblem(`"Timeout (Seconds)" is ${String(options.timeout)}`, 'Enter a number of seconds greater than 0.');
	const mode = options.outputMode ?? 'binary';
	if (mode !== 'binary' && mode !== 'url') throw new InputProblem(`"Output" is ${String(mode)}`, 'Choose "Binary File" or "URL Only".');
	const field = typeof options.outputBinaryProperty === 'string' && options.outputBinaryProperty.trim() ? options.outputBinaryProperty.trim() : 'data';
	return {
		requestId: parseRequestId(requestId),
		outputMode: tool ? 'url' : mode,
		outputBinaryProperty: field,
		dropNsfw: options.dropNsfw === true || options.dropNsfw === 'true',
		timeoutMs: seconds * 1000,
	};
}
