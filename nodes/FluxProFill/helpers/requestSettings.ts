import { InputProblem } from '../errors/InputProblem';
import { parseBoolean, parseEnum, parseFieldName, parseTimeoutMs } from './parse';
import { DEFAULTS, FAL_REQUEST_ID, LABELS, OUTPUT_MODES, q, type OutputMode } from './spec';

export function parseRequestId(value: unknown): string {
	const text =
		typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : '';
	if (text === '') {
		throw new InputProblem(
			'The request ID is empty',
			`Put the ID that Submit returned in ${q(LABELS.requestId)} (by default {{ $json.request_id }} of the item coming in).`,
		);
	}
	if (!FAL_REQUEST_ID.test(text)) {
		throw new InputProblem(
			`"${text.slice(0, 60)}" is not a fal request ID`,
			`fal request IDs look like 764cabcf-b745-4b3e-ae38-1200304cf45b. Check the expression in ${q(LABELS.requestId)}.`,
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

export function parseResultSettings(
	requestId: unknown,
	options: Record<string, unknown>,
	tool: boolean,
): ResultSettings {
	const outputMode = parseEnum(
		LABELS.outputMode,
		options.outputMode,
		OUTPUT_MODES,
		DEFAULTS.outputMode,
	);
	return {
		requestId: parseRequestId(requestId),
		outputMode: tool ? 'url' : outputMode,
		outputBinaryProperty: parseFieldName(
			LABELS.outputBinaryProperty,
			options.outputBinaryProperty ?? DEFAULTS.outputBinaryProperty,
		),
		dropNsfw: parseBoolean(LABELS.dropNsfw, options.dropNsfw),
		timeoutMs: parseTimeoutMs(options.timeout),
	};
}
