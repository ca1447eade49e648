/**
 * Installs n8n-core's real BinaryDataService for one execution.
 *
 * n8n-core 2.41 resolves the service through `Container.get(BinaryDataService)`
 * inside every binary helper (`prepareBinaryData`, `getBinaryDataBuffer`,
 * `setBinaryDataBuffer`, ...), so we build one per run and `Container.set` it.
 * The n8n CLI does the same thing in its startup: build `BinaryDataConfig` from
 * the instance settings, then `await binaryDataService.init()`.
 */
import { Logger } from '@n8n/backend-common';
import { Container } from '@n8n/di';
import { BinaryDataConfig, BinaryDataService, ErrorReporter } from 'n8n-core';

/**
 * `default`: n8n's in-memory mode — bytes stay base64 in `binary[prop].data`.
 * `filesystem`: n8n's disk mode — bytes go to a file, the item only carries an
 *   id (`filesystem-v2:workflows/<wf>/executions/<id>/binary_data/<uuid>`).
 */
export type BinaryMode = 'default' | 'filesystem';

/**
 * A BinaryDataConfig that differs from the instance's real one only in mode and
 * storage path. Starting from the DI-built config keeps its other defaults
 * (signing secret derived from the instance encryption key, etc.) genuine.
 */
function configFor(mode: BinaryMode, storagePath: string): BinaryDataConfig {
	const instanceConfig = Container.get(BinaryDataConfig);
	return Object.assign(
		Object.create(BinaryDataConfig.prototype) as BinaryDataConfig,
		instanceConfig,
		{
			mode,
			localStoragePath: storagePath,
		},
	);
}

/**
 * Creates, initialises and registers the service. `init()` maps the config mode
 * `filesystem` to the service mode `filesystem-v2` and creates the filesystem
 * manager (it does so in `default` mode too, which is why every run gets a
 * storage directory); in `default` mode no manager matches, so `store()` keeps
 * the bytes inline.
 */
export async function installBinaryDataService(
	mode: BinaryMode,
	storagePath: string,
): Promise<BinaryDataService> {
	const service = new BinaryDataService(
		configFor(mode, storagePath),
		Container.get(ErrorReporter),
		Container.get(Logger),
	);
	await service.init();
	Container.set(BinaryDataService, service);
	return service;
}
