import { NodeApiError, NodeOperationError, type INode, type JsonObject } from 'n8n-workflow';

import { describeFalError, isFalFailure } from '../transport/falError';
import { InputProblem } from './InputProblem';
import { redactSecrets } from './redact';

/**
 * The single place where failures become n8n errors: bad input is a
 * NodeOperationError, anything fal (or the way to fal) answered is a NodeApiError.
 * Every text passes through redaction so the API key can never reach the UI or logs.
 */
export function toNodeError(
	node: INode,
	error: unknown,
	itemIndex: number,
	secrets: string[],
	requestId?: string,
): NodeOperationError | NodeApiError {
	const clean = (text: string) => redactSecrets(text, secrets);
	if (error instanceof NodeOperationError || error instanceof NodeApiError) {
		error.context.itemIndex ??= itemIndex;
		error.message = clean(error.message);
		if (error.description) error.description = clean(error.description);
		return error;
	}
	if (error instanceof InputProblem) {
		return new NodeOperationError(node, clean(error.message), {
			itemIndex,
			description: clean(error.description),
		});
	}
	// Not from fal nor the way to it (an expression error, say): say what it is, not "could not reach fal".
	if (!isFalFailure(error)) {
		const message = error instanceof Error ? error.message : String(error);
		return new NodeOperationError(node, clean(message), {
			itemIndex,
			description:
				'This happened in n8n before or after talking to fal. If it names an expression, check that expression for this item.',
		});
	}
	const failure = describeFalError(error, { requestId });
	const response: JsonObject = {
		status: failure.status ?? null,
		detail: failure.detail !== undefined ? clean(failure.detail) : null,
		request_id: failure.requestId ?? null,
	};
	const apiError = new NodeApiError(node, response, {
		message: clean(failure.message),
		description: clean(
			failure.requestId && !failure.description.includes(failure.requestId)
				? `${failure.description} (fal request ID ${failure.requestId})`
				: failure.description,
		),
		httpCode: failure.status !== undefined ? String(failure.status) : undefined,
		itemIndex,
	});
	// NodeApiError swaps messages that mention a Node error code (ECONNREFUSED, …) for a
	// generic sentence; ours already says what happened, in fal's terms.
	apiError.message = clean(failure.message);
	return apiError;
}
