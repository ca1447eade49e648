/**
 * n8n-core 2.41 records a failed node's error as a plain-object copy
 * (`{ ...error, message, stack }` in WorkflowExecute.reportNodeExecutionError),
 * so what lands in `runData[node][0].error` / `resultData.error` keeps the
 * fields but fails `instanceof NodeOperationError`. To hand tests the instance
 * the node actually threw, the harness watches the node's `execute` and
 * rethrows untouched, so the engine's own handling is unchanged.
 */
import type { ExecutionError, INodeType } from 'n8n-workflow';

export class ThrownErrorRecorder {
	private lastThrown: unknown;

	/**
	 * A view of `nodeType` whose `execute` records what it throws. A Proxy keeps
	 * everything else (description, methods, n8n's class tag) as it is, and
	 * `apply(this, ...)` keeps both of n8n's call styles working:
	 * `execute.call(context)` and, for tagged classes, `nodeType.execute(context)`.
	 */
	watch(nodeType: INodeType): INodeType {
		const record = (error: unknown) => (this.lastThrown = error);
		return new Proxy(nodeType, {
			get(target, property, receiver) {
				const value: unknown = Reflect.get(target, property, receiver);
				if (property !== 'execute' || typeof value !== 'function') return value;
				return async function (this: unknown, ...args: unknown[]) {
					try {
						return await value.apply(this, args);
					} catch (error) {
						record(error);
						throw error;
					}
				};
			},
		});
	}

	/**
	 * The thrown instance if it is the error n8n recorded (same message); else
	 * n8n's record, e.g. when the engine replaced the error (a raw AxiosError
	 * becomes a NodeApiError) or it came from elsewhere (close functions).
	 */
	original(recorded: ExecutionError | undefined): ExecutionError | undefined {
		const thrown = this.lastThrown;
		if (recorded && thrown instanceof Error && thrown.message === recorded.message) {
			return thrown as ExecutionError;
		}
		return recorded;
	}
}
