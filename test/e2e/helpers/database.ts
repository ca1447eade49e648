/**
 * What n8n recorded, read straight from its SQLite database: executions, their run
 * data, and binary data stored in the database. Queries run in a short Node 24 process
 * (sqlite-query.js), because the only sqlite3 build matching the database's n8n is the
 * one in the cached Node 24 install.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

import type { N8nInstall } from './context';

export interface ExecutionRow {
	id: number;
	workflowId: string;
	mode: string;
	status: string;
	finished: number;
	startedAt: string | null;
	stoppedAt: string | null;
}

interface NodeRun {
	executionStatus?: string;
	error?: { message?: string; description?: string; name?: string };
	data?: { main: Array<Array<RunItem> | null> };
}

export interface RunItem {
	json: Record<string, unknown>;
	binary?: Record<
		string,
		{ mimeType: string; fileName?: string; fileExtension?: string; id?: string; data?: string }
	>;
	pairedItem?: unknown;
}

export interface RunData {
	resultData: {
		runData: Record<string, NodeRun[]>;
		lastNodeExecuted?: string;
		error?: { message?: string; description?: string; name?: string; node?: { name?: string } };
	};
}

export interface BinaryDataRow {
	fileId: string;
	sourceType: string;
	sourceId: string;
	mimeType: string | null;
	fileName: string | null;
	fileSize: number;
}

const QUERY_SCRIPT = path.join(__dirname, 'sqlite-query.js');

export class N8nDatabase {
	constructor(
		private readonly install: N8nInstall,
		readonly file: string,
	) {}

	async query<T>(sql: string, params: unknown[] = [], flatted: string[] = []): Promise<T[]> {
		const request = JSON.stringify({
			install: this.install.dir,
			db: this.file,
			sql,
			params,
			flatted,
		});
		const stdout = await new Promise<string>((resolve, reject) => {
			execFile(
				this.install.nodeBin,
				[QUERY_SCRIPT, request],
				{ timeout: 30_000, maxBuffer: 64 * 1024 * 1024 },
				(error, out, err) =>
					error
						? reject(new Error(`SQLite query failed: ${err || error.message}\n${sql}`))
						: resolve(out),
			);
		});
		return JSON.parse(stdout) as T[];
	}

	/** Executions of a workflow, oldest first. */
	async executions(workflowId: string): Promise<ExecutionRow[]> {
		return await this.query<ExecutionRow>(
			'SELECT id, workflowId, mode, status, finished, startedAt, stoppedAt FROM execution_entity WHERE workflowId = ? ORDER BY id',
			[workflowId],
		);
	}

	/** The run data n8n saved for an execution (what the editor shows under "Executions"). */
	async runData(executionId: number | string): Promise<RunData> {
		const rows = await this.query<{ data: RunData }>(
			'SELECT data FROM execution_data WHERE executionId = ?',
			[Number(executionId)],
			['data'],
		);
		if (!rows[0]) throw new Error(`n8n saved no data for execution ${executionId}`);
		return rows[0].data;
	}

	/** Binary files kept in the database (N8N_DEFAULT_BINARY_DATA_MODE=database), by file id. */
	async binaryFiles(fileIds: string[]): Promise<BinaryDataRow[]> {
		if (fileIds.length === 0) return [];
		return await this.query<BinaryDataRow>(
			`SELECT fileId, sourceType, sourceId, mimeType, fileName, fileSize FROM binary_data WHERE fileId IN (${fileIds.map(() => '?').join(', ')})`,
			fileIds,
		);
	}

	/** Production webhooks n8n registered for a workflow (what it looks up when a call comes in). */
	async webhooks(
		workflowId: string,
	): Promise<Array<{ webhookPath: string; method: string; node: string }>> {
		return await this.query(
			'SELECT webhookPath, method, node FROM webhook_entity WHERE workflowId = ?',
			[workflowId],
		);
	}

	/** The version of the workflow n8n activates on start; null when not published. */
	async activeVersionId(workflowId: string): Promise<string | null> {
		const rows = await this.query<{ activeVersionId: string | null }>(
			'SELECT activeVersionId FROM workflow_entity WHERE id = ?',
			[workflowId],
		);
		return rows[0]?.activeVersionId ?? null;
	}
}

/** Output items of a node's first output, in its first run or run `runIndex` (a loop's turns). */
export function nodeOutput(run: RunData, nodeName: string, runIndex = 0): RunItem[] {
	const runs = run.resultData.runData[nodeName];
	if (!runs?.length)
		throw new Error(
			`Node "${nodeName}" did not run; nodes that ran: ${Object.keys(run.resultData.runData).join(', ')}`,
		);
	if (!runs[runIndex])
		throw new Error(`Node "${nodeName}" ran ${runs.length} times, not ${runIndex + 1}`);
	return runs[runIndex].data?.main[0] ?? [];
}
