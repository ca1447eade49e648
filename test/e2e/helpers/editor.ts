/**
 * n8n 2.41's editor as a user drives it, by the `data-test-id` attributes of its DOM
 * (the ones n8n's own Playwright tests use): sign-in page, canvas, node panel ("node
 * creator"), node details view (NDV) and credential dialog.
 */
import type { Page } from 'puppeteer-core';

import { clickByText, findByText, typeInto, UI_TIMEOUT_MS, visibleTexts } from './browser';
import { waitFor } from './processes';
import type { Owner } from './rest';

export const SEL = {
	signInEmail: '[data-test-id="emailOrLdapLoginId"] input',
	signInPassword: '[data-test-id="password"] input',
	signInSubmit: '[data-test-id="form-submit-button"]',
	addFirstStep: '[data-test-id="canvas-plus-button"]',
	canvasNode: '[data-test-id="canvas-node"]',
	/** The + at a node's output: opens the node panel as "What happens next?". */
	outputPlus: '[data-test-id="canvas-handle-plus"]',
	nodePanel: '[data-test-id="node-creator"]',
	nodePanelSearch: 'input[data-test-id="node-creator-search-bar"]',
	nodePanelItem: '[data-test-id="node-creator"] [data-test-id="item-iterator-item"]',
	nodePanelItemName:
		'[data-test-id="node-creator"] [data-test-id="item-iterator-item"] [data-test-id="node-creator-item-name"]',
	nodePanelCategory: '[data-test-id="node-creator"] [data-test-id="node-creator-category-item"]',
	nodePanelNoResults: '[data-test-id="node-creator"] [data-test-id="node-creator-no-results"]',
	ndv: '[data-test-id="ndv"]',
	ndvParameters: '[data-test-id="ndv"] [data-test-id="node-parameters"]',
	credentialSelect: '[data-test-id="node-credentials-select"]',
	/** The pencil beside the credential: opens the selected credential in the dialog. */
	credentialEdit: '[data-test-id="ndv"] [data-test-id="credential-edit-button"]',
	createCredential: '[data-test-id="node-credentials-select-item-new"]',
	credentialModal: '[data-test-id="editCredential-modal"]',
	credentialSave: '[data-test-id="editCredential-modal"] [data-test-id="credential-save-button"]',
	credentialBanners:
		'[data-test-id="editCredential-modal"] [data-test-id="node-credentials-config-container"] .el-tag',
	credentialField: (name: string) =>
		`[data-test-id="editCredential-modal"] [data-test-id="parameter-input-${name}"] input`,
	executeWorkflow: '[data-test-id="execute-workflow-button"]',
	outputPanel: '[data-test-id="output-panel"]',
	toastClose: '.el-notification .el-notification__closeBtn',
};

/** Signs in through n8n's sign-in page, as a user would. */
export async function logIn(page: Page, baseUrl: string, owner: Owner): Promise<void> {
	await page.goto(`${baseUrl}/signin`, { waitUntil: 'domcontentloaded' });
	await typeInto(page, SEL.signInEmail, owner.email);
	await typeInto(page, SEL.signInPassword, owner.password);
	await page.click(SEL.signInSubmit);
	await page.waitForFunction(() => !location.pathname.startsWith('/signin'), {
		timeout: UI_TIMEOUT_MS,
	});
	const cookies = await page.browser().cookies();
	if (!cookies.some((cookie) => cookie.name === 'n8n-auth'))
		throw new Error(`Signed in, but the browser holds no n8n-auth cookie (at ${page.url()})`);
}

/** An empty new workflow in the editor (n8n gives it an id and shows "Add first step"). */
export async function newWorkflow(page: Page, baseUrl: string): Promise<void> {
	await page.goto(`${baseUrl}/workflow/new`, { waitUntil: 'domcontentloaded' });
	await page.waitForSelector(SEL.addFirstStep, { visible: true });
}

/** Opens a saved workflow on the canvas. */
export async function openWorkflow(page: Page, baseUrl: string, id: string): Promise<void> {
	await page.goto(`${baseUrl}/workflow/${id}`, { waitUntil: 'domcontentloaded' });
	await page.waitForSelector(SEL.canvasNode, { visible: true });
}

/** "Add first step" → "Trigger manually": the workflow's first node. */
export async function addManualTrigger(page: Page): Promise<void> {
	await page.click(SEL.addFirstStep);
	await page.waitForSelector(SEL.nodePanelSearch, { visible: true });
	await clickByText(page, { selector: SEL.nodePanelItemName, text: 'Trigger manually' });
	await page.waitForSelector(`${SEL.canvasNode}[data-node-type="n8n-nodes-base.manualTrigger"]`, {
		visible: true,
	});
	await page.waitForSelector(SEL.nodePanel, { hidden: true });
}

/** The + after the trigger: the node panel opens as "What happens next?". */
export async function openNextStepPanel(page: Page): Promise<void> {
	await page.click(SEL.outputPlus);
	await page.waitForSelector(SEL.nodePanelSearch, { visible: true });
	await findByText(page, { selector: `${SEL.nodePanel} *`, text: 'What happens next?' });
}

export interface SearchResult {
	/** Names of the nodes (or actions) the panel lists, in order. */
	names: string[];
	/** The panel said "No results for …". */
	noResults: boolean;
}

/** What the node panel lists right now. */
async function readNodePanel(page: Page): Promise<SearchResult & { value: string }> {
	return await page.evaluate(
		(searchSel: string, itemSel: string, noResultsSel: string) => {
			const visible = (element: Element) => element.getClientRects().length > 0;
			const input = document.querySelector<HTMLInputElement>(searchSel);
			const names = Array.from(document.querySelectorAll(itemSel))
				.filter(visible)
				.map((item) => {
					const name = item.querySelector('[data-test-id="node-creator-item-name"]');
					return ((name ?? item) as HTMLElement).innerText.split('\n')[0].trim();
				});
			const noResults = Array.from(document.querySelectorAll(noResultsSel)).some(visible);
			return { value: input?.value ?? '', names, noResults };
		},
		SEL.nodePanelSearch,
		SEL.nodePanelItem,
		SEL.nodePanelNoResults,
	);
}

/** Polls the panel until two reads 200 ms apart agree and `ready` holds. */
async function settledNodePanel(
	page: Page,
	what: string,
	ready: (state: SearchResult & { value: string }) => boolean,
): Promise<SearchResult> {
	let previous = '';
	return await waitFor(
		what,
		async () => {
			const state = await readNodePanel(page);
			const snapshot = JSON.stringify(state);
			const settled = snapshot === previous && ready(state);
			previous = snapshot;
			return settled && { names: state.names, noResults: state.noResults };
		},
		{ timeoutMs: 8_000, intervalMs: 200 },
	);
}

/**
 * Types `text` into the node panel's search field and answers what the panel then lists.
 * n8n filters a moment (~400 ms) after the last key and shows its categories meanwhile,
 * so the answer is the first stable list that is not the categories of an empty search.
 */
export async function searchNodePanel(page: Page, text: string): Promise<SearchResult> {
	const input = await page.waitForSelector(SEL.nodePanelSearch, { visible: true });
	await input!.click();
	await input!.evaluate((element) => (element as HTMLInputElement).select());
	await page.keyboard.press('Backspace');
	const empty = await settledNodePanel(
		page,
		'the node panel to show its categories (empty search)',
		(state) => state.value === '' && state.names.length > 0,
	);
	await page.keyboard.type(text);
	const categories = JSON.stringify(empty.names);
	return await settledNodePanel(
		page,
		`the node panel to list its results for "${text}"`,
		(state) =>
			state.value === text && (state.noResults || JSON.stringify(state.names) !== categories),
	);
}

/** Clicks the entry of the node panel whose name is `name` (a node or an action). */
export async function chooseInNodePanel(page: Page, name: string): Promise<void> {
	await clickByText(page, { selector: SEL.nodePanelItemName, text: name });
}

/** The names the node panel lists right now (e.g. a node's actions), in order. */
export async function nodePanelNames(page: Page): Promise<string[]> {
	return await visibleTexts(page, SEL.nodePanelItemName);
}

/** Double-clicks a node on the canvas: its node details view (NDV) opens. */
export async function openNode(page: Page, nodeName: string): Promise<void> {
	const node = await page.waitForSelector(
		`${SEL.canvasNode}[data-node-name=${JSON.stringify(nodeName)}]`,
		{ visible: true },
	);
	await node!.click({ count: 2 });
	await page.waitForSelector(SEL.ndvParameters, { visible: true });
}

export interface ParameterLabel {
	/** The label as shown, e.g. "Input Binary Field". */
	label: string;
	/** The parameter's name (the label's `for`), e.g. "imageBinaryProperty"; "" for the credential. */
	name: string;
}

/**
 * The top-level parameters the NDV shows, in order: the visible labels of its parameter
 * list, not counting those nested inside another parameter (an option of Options).
 */
export async function parameterLabels(page: Page): Promise<ParameterLabel[]> {
	return await page.$eval(SEL.ndvParameters, (root) => {
		const labels = Array.from(
			root.querySelectorAll('[data-test-id="input-label"], [data-test-id="credentials-label"]'),
		);
		return labels
			.filter((element) => element.getClientRects().length > 0)
			.filter((element) => {
				const item = element.closest('[data-test-id="parameter-item"]');
				return !item?.parentElement?.closest('[data-test-id="parameter-item"]');
			})
			.map((element) => {
				const label = element.querySelector('label.n8n-input-label');
				const title = (label?.querySelector('span.n8n-text') ?? label ?? element) as HTMLElement;
				return {
					label: title.innerText.replace(/\s*\*\s*$/, '').trim(),
					name: label?.getAttribute('for') ?? '',
				};
			});
	});
}

/** Closes the toasts in the corner (so that screenshots show the editor only). */
export async function dismissToasts(page: Page): Promise<void> {
	for (const button of await page.$$(SEL.toastClose)) {
		await button.click().catch(() => undefined);
	}
	await page
		.waitForFunction(
			() =>
				Array.from(document.querySelectorAll('.el-notification')).every(
					(toast) => toast.getClientRects().length === 0,
				),
			{ timeout: 3_000 },
		)
		.catch(() => undefined);
}

/** Texts of the visible banners of the credential dialog (test result, errors). */
export async function credentialBanners(page: Page): Promise<string[]> {
	return (await visibleTexts(page, SEL.credentialBanners)).map((text) =>
		text.replace(/\s+/g, ' ').trim(),
	);
}
