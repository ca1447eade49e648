/**
 * Run by network.test.ts in a child process whose environment (proxy variables,
 * NODE_EXTRA_CA_CERTS) is set at start, as it is for an n8n process. Runs the node's
 * operations and the credential test in n8n's engine, and writes what happened to
 * PROXY_LAB_OUT for the parent, which owns the proxy and the emulator and checks them.
 */
import { writeFileSync } from 'node:fs';

import { CredentialTestContext } from 'n8n-core';
import type { IWorkflowExecuteAdditionalData } from 'n8n-workflow';

import { falApiCredentialTest } from '../../../nodes/FluxProFill/methods/credentialTest';
import { KEY, makeUploadedPictures, pictureItem, runFill } from '../fixtures';

interface Scenario {
	/** The credential's Proxy URL (fal's server proxy), '' for none. */
	proxyUrl: string;
}

const scenario = JSON.parse(process.env.PROXY_LAB_SCENARIO ?? '{}') as Scenario;
const outFile = process.env.PROXY_LAB_OUT ?? '';

function summary(run: Awaited<ReturnType<typeof runFill>>) {
	return {
		error: run.error
			? {
					message: run.error.message,
					description: (run.error as { description?: string }).description,
				}
			: undefined,
		items: run.items.map((item) => ({
			json: item.json,
			binaryMime: item.binary?.data?.mimeType,
		})),
	};
}

it('runs every kind of fal request the node makes', async () => {
	const credentialTest = async (apiKey: string) =>
		await falApiCredentialTest.call(
			new CredentialTestContext({} as IWorkflowExecuteAdditionalData),
			{ id: '1', name: 'fal', type: 'falApi', data: { apiKey, proxyUrl: scenario.proxyUrl } },
		);
	// Too large to go inline: the uploads take the proxy too.
	const pictures = await makeUploadedPictures();
	const run = async (operation: string, items = [pictureItem(pictures)], parameters = {}) =>
		await runFill({ proxyUrl: scenario.proxyUrl, items, parameters: { operation, ...parameters } });

	const fill = await run('fill', undefined, { options: { numImages: 2, outputFormat: 'png' } });
	const submitted = await run('submit');
	const requestItems = submitted.items.map((item) => ({ json: item.json }));
	const status = await run('getStatus', requestItems);
	const result = await run('getResult', requestItems);
	const toCancel = await run('submit');
	const cancel = await run(
		'cancel',
		toCancel.items.map((item) => ({ json: item.json })),
	);
	writeFileSync(
		outFile,
		JSON.stringify({
			credentialGood: await credentialTest(KEY),
			credentialWrong: await credentialTest('wrong-id:wrong-secret-0123456789'),
			fill: summary(fill),
			submit: summary(submitted),
			status: summary(status),
			result: summary(result),
			cancel: summary(cancel),
		}),
	);
});
