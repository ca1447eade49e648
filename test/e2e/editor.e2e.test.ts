/**
 * n8n's editor in a real browser (Debian's Chromium, headless, driven by puppeteer-core),
 * against `n8n start` with the packed package installed and the fal emulator behind the
 * credential's Proxy URL. The owner signs in through the sign-in page; then, as a user:
 * 1. the node panel ("What happens next?") offers the node for every word a user may search;
 * 2. adding it lists Fill first, and its panel (NDV) shows exactly the Fill parameters,
 *    each mask source its own, and exactly Fill's options under "Add option" (the new
 *    Finetune ID, Finetune Strength and Max Cost per Run among them, shown once added);
 * 3. a fal credential created in the dialog is tested on save: a good key passes, a wrong
 *    key shows the node's own wording;
 * 4. the example workflow, run with "Execute workflow", shows the filled image in the fill
 *    node's output.
 * Screenshots go to .e2e-work/e2e/editor/screenshots/, or, with FAL_FILL_SCREENSHOTS=1
 * (scripts/make-editor-screenshots.js), to docs/images/editor/ for the README.
 */
import fs from 'node:fs';
import path from 'node:path';

import type { Page } from 'puppeteer-core';

import { REPO_DIR } from '../../scripts/lib/n8n';
import {
	clickByText,
	closePages,
	findByText,
	openPage,
	screenshot,
	startBrowser,
	typeInto,
	visibleTexts,
	type EditorBrowser,
} from './helpers/browser';
import {
	addManualTrigger,
	chooseInNodePanel,
	credentialBanners,
	dismissToasts,
	logIn,
	newWorkflow,
	nodePanelNames,
	openNextStepPanel,
	openNode,
	openWorkflow,
	parameterLabels,
	searchNodePanel,
	SEL,
} from './helpers/editor';
import { falCredential, GOOD_KEY, WRONG_KEY } from './helpers/fal';
import { useN8nSuite } from './helpers/fixture';
import type { N8nServer } from './helpers/n8nInstance';
import { delay, leftoverProcesses, stopProcess, waitFor } from './helpers/processes';
import { N8nRestClient, TEST_OWNER } from './helpers/rest';
import {
	FILL_NODE_TYPE,
	fluxFill,
	manualTrigger,
	workflow,
	type WorkflowJson,
} from './helpers/workflows';

const NODE_NAME = 'FLUX.1 [pro] Fill (fal)';
const FILL_ACTION = 'Repaint the masked part of an image';
/** What users type into the node panel to find an inpainting node. */
const SEARCH_WORDS = [
	'inpaint',
	'inpainting',
	'flux',
	'fal',
	'fill',
	'edit image',
	'image edit',
	'repaint',
	'remove object',
	'outpaint',
	'mask',
];
/** The top-level parameters of Fill, as the NDV labels them (n8n 2.41 says "Credential"). */
const FILL_PARAMETERS = [
	'Credential',
	'Operation',
	'Prompt',
	'Image Source',
	'Input Binary Field',
	'Mask Source',
	'Mask Binary Field',
	'Options',
];
const WRONG_KEY_WORDING = 'fal did not accept the API key';

/** Where examples/flux-fill-demo.workflow.json reads and writes (scripts/run-demo.js moves it). */
const DEFAULT_DEMO_DIR = '/tmp/n8n-fal-fill-demo';
const EXAMPLE_FILE = path.join(REPO_DIR, 'examples', 'flux-fill-demo.workflow.json');
const CREDENTIAL_WORKFLOW = 'falEditorCredDialog1';

/**
 * FAL_FILL_SCREENSHOTS=1 (scripts/make-editor-screenshots.js): the screenshots replace the
 * README's in docs/images/editor/, and the example reads its pictures from its own folder
 * (/tmp/n8n-fal-fill-demo, as `npm run demo` does), so that the pictures show the paths a
 * user of the example sees rather than this clone's work folder.
 */
const FOR_README = process.env.FAL_FILL_SCREENSHOTS === '1';

let shotsDir: string;
let server: N8nServer;
let chromium: EditorBrowser;
let example: WorkflowJson;
let page: Page;

// Registered before the suite's clean-up (jest runs afterAll hooks in order): the browser
// goes before the n8n it shows.
afterAll(async () => {
	await chromium?.close();
});

const suite = useN8nSuite('editor', {
	// The example workflow as `npm run demo` runs it: its pictures copied into a folder of
	// ours, its paths moved there, the only folder n8n's file nodes may touch.
	filesDir: FOR_README ? DEFAULT_DEMO_DIR : undefined,
	fixtures: false,
	resetBetweenTests: false,
});

beforeAll(async () => {
	const { dir, filesDir, outputDir } = suite;
	shotsDir = FOR_README
		? path.join(REPO_DIR, 'docs', 'images', 'editor')
		: path.join(dir, 'screenshots');
	for (const file of fs.readdirSync(outputDir))
		fs.rmSync(path.join(outputDir, file), { recursive: true, force: true });
	for (const file of ['image.png', 'mask.png'])
		fs.copyFileSync(path.join(REPO_DIR, 'examples', file), path.join(filesDir, file));
	example = JSON.parse(
		fs.readFileSync(EXAMPLE_FILE, 'utf8').split(DEFAULT_DEMO_DIR).join(filesDir),
	) as WorkflowJson;
	const exampleCredential = fillNodeOf(example).credentials?.falApi;
	if (!exampleCredential)
		throw new Error(`${EXAMPLE_FILE}: the fill node has no falApi credential`);

	await suite.n8n.importFalCredentials([
		falCredential(suite.emulator, exampleCredential.id, exampleCredential.name),
	]);
	// For the credential dialog: the fill node without any credential.
	const bare = fluxFill('FLUX.1 Fill', { credential: exampleCredential });
	delete bare.credentials;
	await suite.n8n.importWorkflows([
		example,
		workflow(
			CREDENTIAL_WORKFLOW,
			'editor: credential dialog',
			[manualTrigger(), bare],
			[['Start', 'FLUX.1 Fill']],
		),
	]);
	server = await suite.n8n.start();
	await new N8nRestClient(server.baseUrl).setUpOwnerAndLogIn(TEST_OWNER);

	chromium = await startBrowser(path.join(dir, 'logs'));
	page = await openPage(chromium.browser, browserLog());
	await logIn(page, server.baseUrl, TEST_OWNER);
}, 180_000);

/** Each test starts on a fresh tab (the sign-in cookie is the browser's). */
async function freshPage(): Promise<Page> {
	await closePages(chromium.browser);
	page = await openPage(chromium.browser, browserLog());
	return page;
}

function browserLog(): string {
	return path.join(suite.dir, 'logs', 'browser.log');
}

function fillNodeOf(json: WorkflowJson) {
	const node = json.nodes.find((candidate) => candidate.type === FILL_NODE_TYPE);
	if (!node) throw new Error(`No ${FILL_NODE_TYPE} node in ${json.name}`);
	return node;
}

/** `expect(actual).toEqual(expected)`, its failure message headed by what the UI showed. */
function expectEqual<T>(actual: T, expected: T, context: string): void {
	try {
		expect(actual).toEqual(expected);
	} catch (error) {
		if (error instanceof Error) error.message = `${context}\n\n${error.message}`;
		throw error;
	}
}

/** An empty workflow with a manual trigger, and the node panel open after it. */
async function nextStepPanel(): Promise<void> {
	await newWorkflow(page, server.baseUrl);
	await addManualTrigger(page);
	await openNextStepPanel(page);
}

test('signed in through the sign-in page', async () => {
	expect(new URL(page.url()).pathname).not.toMatch(/^\/signin/);
	const cookies = await chromium.browser.cookies();
	expect(cookies.map((cookie) => cookie.name)).toContain('n8n-auth');
});

test('the node panel offers the node for every search word', async () => {
	await freshPage();
	await nextStepPanel();
	const offered: Record<string, string> = {};
	for (const word of SEARCH_WORDS) {
		const { names, noResults } = await searchNodePanel(page, word);
		offered[word] = names.includes(NODE_NAME)
			? 'found'
			: `not found; the panel offered ${noResults ? 'nothing ("No results")' : JSON.stringify(names.slice(0, 6))}`;
	}
	const missing = SEARCH_WORDS.filter((word) => offered[word] !== 'found');
	expectEqual(
		offered,
		Object.fromEntries(SEARCH_WORDS.map((word) => [word, 'found'])),
		`"What happens next?" does not offer "${NODE_NAME}" for ${missing.length} of ${SEARCH_WORDS.length} search words: ${missing.map((word) => `"${word}"`).join(', ')}.\n` +
			'In n8n 2.41 a node whose codex categories include "AI" is filed as an AI sub-node (left out of this panel) ' +
			'unless subcategories.AI includes "Root Nodes"; words other than the display name must be codex aliases ' +
			'(nodes/FluxProFill/FluxProFill.node.json "alias").',
	);
});

test('adding the node: Fill is the first action, and its panel shows the Fill parameters', async () => {
	await freshPage();
	await nextStepPanel();
	const search = await searchNodePanel(page, 'flux');
	if (!search.names.includes(NODE_NAME)) {
		throw new Error(
			`The node panel does not offer "${NODE_NAME}" for "flux" (it offered ${JSON.stringify(search.names)}), so it cannot be added`,
		);
	}
	await chooseInNodePanel(page, NODE_NAME);
	// n8n slides in the node's details with its actions (the options' `action` texts),
	// under "Actions (N)"; the search results slide out meanwhile.
	await findByText(page, { selector: SEL.nodePanelCategory, text: /^Actions\b/ });
	let previous = '';
	const actions = await waitFor(
		`the actions of "${NODE_NAME}"`,
		async () => {
			const names = await nodePanelNames(page);
			const snapshot = JSON.stringify(names);
			const settled = snapshot === previous && names.length > 0 && !names.includes(NODE_NAME);
			previous = snapshot;
			return settled && names;
		},
		{ timeoutMs: 10_000, intervalMs: 300 },
	);
	await chooseInNodePanel(page, FILL_ACTION);
	await page.waitForSelector(SEL.ndvParameters, { visible: true });
	await delay(500); // parameters appear as their display conditions resolve
	const labels = await parameterLabels(page);
	const operation = await page.$eval(
		'[data-test-id="ndv"] [data-test-id="parameter-input-operation"] input',
		(input) => (input as HTMLInputElement).value,
	);
	await dismissToasts(page);
	await screenshot(page, path.join(shotsDir, 'fill-panel.png'));

	const shown = labels.map(({ label }) =>
		label === 'Credential to connect with' ? 'Credential' : label,
	);
	const expected = shown.includes('Resource')
		? [...FILL_PARAMETERS, 'Resource'] // "Operation (or Resource/Operation)"
		: FILL_PARAMETERS;
	expectEqual(
		{ firstAction: actions[0], operation, parameters: [...shown].sort() },
		{ firstAction: FILL_ACTION, operation: 'Fill', parameters: [...expected].sort() },
		`Actions listed: ${JSON.stringify(actions)}\nNDV parameters shown (label ← name): ${labels.map(({ label, name }) => `${label} ← ${name || 'credential'}`).join(', ')}`,
	);
});

/** Picks an option of a top-level options parameter the way a user does: open it, click the entry. */
async function chooseOption(name: string, option: string): Promise<void> {
	const input = `[data-test-id="ndv"] [data-test-id="parameter-input-${name}"]`;
	const chosen = async () =>
		await page.$eval(`${input} input`, (element) => (element as HTMLInputElement).value);
	for (let attempt = 1; attempt <= 3 && (await chosen()) !== option; attempt++) {
		await page.click(input);
		await delay(400); // the list slides open; a click during the slide can miss
		// An entry shows the option's name, then its description on the next line.
		await clickByText(page, {
			selector: '.el-select-dropdown__item',
			text: new RegExp(`^${option}(\\n|$)`),
		});
		await delay(500); // parameters appear as their display conditions resolve
	}
	expect(await chosen()).toBe(option);
}

const shownParameters = async () =>
	(await parameterLabels(page)).map(({ label }) =>
		label === 'Credential to connect with' ? 'Credential' : label,
	);

test('the new mask sources show exactly their own parameters', async () => {
	// Continues in the Fill panel the previous test opened.
	await chooseOption('maskSource', 'Describe It');
	const describeIt = await shownParameters();
	await dismissToasts(page);
	await screenshot(page, path.join(shotsDir, 'describe-it-panel.png'));
	await chooseOption('maskSource', 'Expand Canvas');
	const expandCanvas = await shownParameters();
	await screenshot(page, path.join(shotsDir, 'expand-canvas-panel.png'));
	const common = FILL_PARAMETERS.filter((label) => label !== 'Mask Binary Field');
	const withResource = (labels: string[]) =>
		labels.includes('Resource') ? ['Resource'] : ([] as string[]);
	expectEqual(
		{ describeIt: [...describeIt].sort(), expandCanvas: [...expandCanvas].sort() },
		{
			describeIt: [
				...common,
				...withResource(describeIt),
				'What to Repaint',
				'What to Keep (Optional)',
			].sort(),
			expandCanvas: [
				...common,
				...withResource(expandCanvas),
				'Expand By',
				'Aspect Ratio',
				'Position of the Original',
				'Overlap (Pixels)',
			].sort(),
		},
		'The parameters shown for Mask Source "Describe It" and "Expand Canvas"',
	);
});

/** The Options of Fill with a mask file, as "Add option" offers them (in the node's order). */
const FILL_OPTIONS = [
	'Number of Images',
	'Seed',
	'Output Format',
	'Safety Tolerance',
	'Enhance Prompt',
	'Return Data URI (Sync Mode)',
	'Finetune ID',
	'Finetune Strength',
	'Mask Threshold',
	'Invert Mask',
	'Grow Mask (Pixels)',
	'Fit Mask to Image',
	'Return Mask',
	'Output',
	'Output Binary Field',
	'Drop NSFW Images',
	'Concurrency',
	'Timeout (Seconds)',
	'Max Cost per Run (USD)',
];
/** New on Fill and Submit: a finetune (fal's fill-finetuned) and a cap on the cost. */
const NEW_OPTIONS = ['Finetune ID', 'Finetune Strength', 'Max Cost per Run (USD)'];
const ADD_OPTION = '[data-test-id="ndv"] [data-test-id="collection-parameter-add"]';

/** The labels of the options added to Options, in order (the parameters nested in another). */
async function addedOptions(): Promise<string[]> {
	return await page.$eval(SEL.ndvParameters, (root) =>
		Array.from(
			root.querySelectorAll('[data-test-id="parameter-item"] [data-test-id="input-label"]'),
		)
			.filter((element) => element.getClientRects().length > 0)
			.filter((element) =>
				element
					.closest('[data-test-id="parameter-item"]')
					?.parentElement?.closest('[data-test-id="parameter-item"]'),
			)
			.map((element) => {
				const label = element.querySelector('label.n8n-input-label');
				const title = (label?.querySelector('span.n8n-text') ?? label ?? element) as HTMLElement;
				return title.innerText.replace(/\s*\*\s*$/, '').trim();
			}),
	);
}

/** Opens "Add option" and answers what it offers; the list stays open. */
async function openAddOption(): Promise<string[]> {
	await page.click(ADD_OPTION);
	await delay(400); // the list slides open
	return await visibleTexts(page, '.el-select-dropdown__item');
}

test('Fill’s Options offer the finetune and the cost cap, and show them once added', async () => {
	// Continues in the Fill panel the previous tests opened, back on a mask file.
	await chooseOption('maskSource', 'Binary Field');
	const offered = await openAddOption();
	await page.keyboard.press('Escape');
	for (const option of NEW_OPTIONS) {
		await openAddOption();
		await clickByText(page, { selector: '.el-select-dropdown__item', text: option });
		await delay(500);
	}
	const added = await addedOptions();
	await dismissToasts(page);
	// Not a README picture: in the work folder even with FAL_FILL_SCREENSHOTS=1.
	await page.$eval(ADD_OPTION, (element) => element.scrollIntoView({ block: 'end' }));
	await screenshot(page, path.join(suite.dir, 'screenshots', 'fill-new-options.png'));
	expectEqual(
		{ offered, added },
		{ offered: FILL_OPTIONS, added: NEW_OPTIONS },
		'The Options of Fill: offered by "Add option", then shown once the new ones were added',
	);
});

interface CredentialSave {
	/** What the dialog sent to n8n on Save (POST /rest/credentials or PATCH /rest/credentials/:id). */
	saved: { name?: string; data?: { apiKey?: string; proxyUrl?: string } };
	/** n8n's answer to the test that follows the save (POST /rest/credentials/test). */
	test: CredentialTest;
}

interface CredentialTest {
	status: string;
	message: string;
}

/** n8n's answer to the next credential test the dialog asks for. */
function nextCredentialTest(): Promise<CredentialTest> {
	return page
		.waitForResponse(
			(response) =>
				new URL(response.url()).pathname === '/rest/credentials/test' &&
				response.request().method() === 'POST',
			{ timeout: 30_000 },
		)
		.then(async (response) => ((await response.json()) as { data: CredentialTest }).data);
}

/** Types the fields into the open credential dialog and presses Save (which tests it). */
async function saveCredential(fields: Record<string, string>): Promise<CredentialSave> {
	for (const [name, value] of Object.entries(fields)) {
		await typeInto(page, SEL.credentialField(name), value);
		await page.keyboard.press('Tab');
	}
	// n8n's inputs hand their value to the dialog a moment after the last key: Save at
	// once and it stores the first character only (found with this test; users are slower).
	await delay(1_000);
	const saveRequest = page.waitForRequest(
		(request) =>
			/^\/rest\/credentials(\/[^/]+)?$/.test(new URL(request.url()).pathname) &&
			['POST', 'PATCH'].includes(request.method()),
		{ timeout: 15_000 },
	);
	const test = nextCredentialTest();
	await page.click(SEL.credentialSave);
	const saved = JSON.parse((await saveRequest).postData() ?? '{}') as CredentialSave['saved'];
	return { saved, test: await test };
}

/** The dialog's banners once one of them matches `outcome`. */
async function credentialBanner(outcome: RegExp): Promise<string[]> {
	let last: string[] = [];
	return await waitFor(
		`the credential dialog to show ${String(outcome)}`,
		async () => {
			last = await credentialBanners(page);
			return last.some((text) => outcome.test(text)) && last;
		},
		{ timeoutMs: 10_000, detail: () => `The dialog's banners: ${JSON.stringify(last)}` },
	);
}

async function isVisible(selector: string): Promise<boolean> {
	return await page.$$eval(selector, (elements) =>
		elements.some((element) => element.getClientRects().length > 0),
	);
}

test('credential dialog: created from the node and tested on save; a good key passes, a wrong key shows the node’s wording', async () => {
	await freshPage();
	await openWorkflow(page, server.baseUrl, CREDENTIAL_WORKFLOW);
	await openNode(page, 'FLUX.1 Fill');
	await page.click(SEL.credentialSelect);
	await page.waitForSelector(SEL.createCredential, { visible: true });
	await page.click(SEL.createCredential);
	await page.waitForSelector(SEL.credentialField('apiKey'), { visible: true });

	// Good key. n8n 2.41 closes the dialog of a new credential whose test passed, and the
	// node then uses it; its pencil opens it again, and n8n tests a saved credential as it
	// opens it: that is where the success text shows.
	suite.emulator.reset();
	const created = await saveCredential({ apiKey: GOOD_KEY, proxyUrl: suite.emulator.proxyUrl });
	await waitFor(
		'the dialog to close, or to show the test result',
		async () =>
			!(await isVisible(SEL.credentialModal)) || (await credentialBanners(page)).length > 0,
		{ timeoutMs: 10_000 },
	);
	const closedOnSuccess = !(await isVisible(SEL.credentialModal));
	const nodeUses = await page.$eval(
		`${SEL.credentialSelect} input`,
		(input) => (input as HTMLInputElement).value,
	);
	let reopenTest: CredentialTest | undefined;
	if (closedOnSuccess) {
		const test = nextCredentialTest();
		await page.click(SEL.credentialEdit);
		await page.waitForSelector(SEL.credentialField('apiKey'), { visible: true });
		reopenTest = await test;
	}
	const goodBanners = await credentialBanner(/tested successfully|couldn.t connect/i);
	const goodCalls = suite.emulator.requests.map((request) => request.auth);

	// Wrong key: the dialog stays open with the error; its reason is folded under "More details".
	suite.emulator.reset();
	const wrong = await saveCredential({ apiKey: WRONG_KEY });
	const collapsed = await credentialBanner(/couldn.t connect|tested successfully/i);
	const more = await findByText(page, {
		selector: `${SEL.credentialBanners} *`,
		text: 'More details',
		timeoutMs: 3_000,
	}).catch(() => undefined);
	await more?.click();
	const wrongBanners = more
		? await waitFor(
				'the error details',
				async () => {
					const texts = await credentialBanners(page);
					return texts.join(' ').length > collapsed.join(' ').length && texts;
				},
				{ timeoutMs: 5_000 },
			).catch(async () => await credentialBanners(page))
		: collapsed;
	const wrongCalls = suite.emulator.requests.map((request) => request.auth);
	await dismissToasts(page);
	await screenshot(page, path.join(shotsDir, 'credential-wrong-key.png'));

	expectEqual(
		{
			saved: [created.saved.data, wrong.saved.data],
			goodKey: {
				test: created.test.status,
				nodeUses,
				reopenTest: reopenTest?.status,
				shown: goodBanners.some((text) => text.includes('Connection tested successfully')),
				falSaw: [...new Set(goodCalls)],
			},
			wrongKey: {
				test: wrong.test.status,
				shown: wrongBanners.some((text) => text.includes(WRONG_KEY_WORDING)),
				falSaw: [...new Set(wrongCalls)],
			},
		},
		{
			saved: [
				{ apiKey: GOOD_KEY, proxyUrl: suite.emulator.proxyUrl },
				expect.objectContaining({ apiKey: WRONG_KEY }),
			],
			goodKey: {
				test: 'OK',
				nodeUses: created.saved.name,
				reopenTest: closedOnSuccess ? 'OK' : undefined,
				shown: true,
				falSaw: ['valid'],
			},
			wrongKey: { test: 'Error', shown: true, falSaw: ['invalid'] },
		},
		`Good key: n8n answered ${JSON.stringify(created.test)}${closedOnSuccess ? `, closed the dialog, and on reopening ${JSON.stringify(reopenTest)}` : ''}; the dialog showed ${JSON.stringify(goodBanners)}\n` +
			`Wrong key: n8n answered ${JSON.stringify(wrong.test)}; the dialog showed ${JSON.stringify(wrongBanners)} (expected it to contain "${WRONG_KEY_WORDING}")`,
	);
});

test('the example workflow runs from the editor and the fill node shows the image', async () => {
	await freshPage();
	await openWorkflow(page, server.baseUrl, example.id);
	const runResponse = page.waitForResponse(
		(response) =>
			new URL(response.url()).pathname === `/rest/workflows/${example.id}/run` &&
			response.request().method() === 'POST',
		{ timeout: 30_000 },
	);
	await page.click(SEL.executeWorkflow);
	const run = (await (await runResponse).json()) as { data?: { executionId?: string } };
	const executionId = run.data?.executionId;
	if (!executionId) throw new Error(`n8n did not start the run: ${JSON.stringify(run)}`);
	const execution = await waitFor(
		`execution ${executionId} to finish`,
		async () => {
			const rows = await suite.n8n.db.executions(example.id);
			const row = rows.find((candidate) => String(candidate.id) === String(executionId));
			return row && !['new', 'running'].includes(row.status) && row;
		},
		{ timeoutMs: 60_000, intervalMs: 500 },
	);
	if (execution.status !== 'success') {
		const data = await suite.n8n.db.runData(execution.id);
		throw new Error(
			`The example workflow ended "${execution.status}": ${JSON.stringify(data.resultData.error)}`,
		);
	}
	await findByText(page, { selector: '.el-notification', text: /Workflow executed successfully/ });
	await dismissToasts(page);

	await openNode(page, fillNodeOf(example).name);
	const output = SEL.outputPanel;
	const firstCard = `${output} [data-test-id="ndv-binary-data_0"]`;
	if (!(await page.$(firstCard)))
		await page.click(`${output} [data-test-id="radio-button-binary"]`);
	await page.waitForSelector(firstCard, { visible: true });
	const cards = await page.$$eval(`${output} [data-test-id^="ndv-binary-data_"]`, (elements) =>
		elements.map((element) =>
			(element as HTMLElement).innerText.split('\n').map((line) => line.trim()),
		),
	);
	await page.click(`${firstCard} [data-test-id="ndv-view-binary-data"]`);
	const preview = await page.waitForFunction(
		(panel: string) => {
			const image = Array.from(document.querySelectorAll<HTMLImageElement>(`${panel} img`)).find(
				(img) => img.src.includes('/rest/binary-data'),
			);
			return (
				image?.complete &&
				image.naturalWidth > 0 && { width: image.naturalWidth, height: image.naturalHeight }
			);
		},
		{ timeout: 15_000 },
		output,
	);
	const previewSize = (await preview.jsonValue()) as { width: number; height: number };
	await screenshot(page, path.join(shotsDir, 'fill-output.png'));

	const numImages =
		(fillNodeOf(example).parameters.options as { numImages?: number }).numImages ?? 1;
	expectEqual(
		{
			binaryItems: cards.length,
			field: cards[0]?.[0],
			mimeType: cards[0]?.[cards[0].indexOf('Mime Type:') + 1],
			preview: previewSize,
			written: fs
				.readdirSync(path.join(suite.filesDir, 'output'))
				.filter((file) => file.endsWith('.png')).length,
		},
		{
			binaryItems: numImages,
			field: 'data',
			mimeType: 'image/png',
			preview: { width: 512, height: 384 }, // examples/image.png
			written: numImages,
		},
		`Binary cards of the output panel: ${JSON.stringify(cards)}`,
	);
});

test('leaves no process behind', async () => {
	await chromium.close();
	await stopProcess(server.process);
	// Chromium's crash handlers leave its process group: chromium.leftovers() finds them too.
	expect([...leftoverProcesses(), ...chromium.leftovers()]).toEqual([]);
});
