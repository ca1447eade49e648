import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import type { ItemRunner } from '../helpers/runItems';
import type { FalServices } from '../helpers/services';

/**
 * What every `*.operation.ts` exports: its parameters (shown for it alone) and, for an
 * execution, how it checks and runs one item. The router sets up the services and
 * runs the item loop around it.
 */
export interface Operation<Checked = unknown> {
	description: INodeProperties[];
	execute(ctx: IExecuteFunctions, services: FalServices): ItemRunner<Checked>;
	/** Its output items carry a cost estimate for the execution hint (it starts paid requests). */
	startsPaidRequests?: boolean;
}
