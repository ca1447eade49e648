/**
 * A problem with one item's input, found before anything is sent to fal. Pure code
 * throws it without knowing about n8n; the action turns it into a NodeOperationError
 * with the node and the item index.
 */
export class InputProblem extends Error {
	constructor(
		message: string,
		readonly description: string,
	) {
		super(message);
		this.name = 'InputProblem';
	}
}
