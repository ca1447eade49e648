/**
 * A real Chromium for the editor tests: Debian's /usr/bin/chromium, headless, offline
 * (only 127.0.0.1 resolves), started as one of the suite's processes (its own process
 * group, registered for cleanup like n8n and Redis) and driven with puppeteer-core over
 * the DevTools port. puppeteer-core brings no browser of its own.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer-core';

import { freePort } from '../../../scripts/lib/n8n';
import {
	delay,
	GiveUp,
	startProcess,
	stopProcess,
	tail,
	waitFor,
	type ManagedProcess,
} from './processes';
import { registerGroup } from './processRegistry';

/** Debian's package `chromium` (apt-get install chromium); FAL_FILL_CHROMIUM points elsewhere. */
const CHROMIUM = process.env.FAL_FILL_CHROMIUM || '/usr/bin/chromium';

/** Size of every page and screenshot. */
const VIEWPORT = { width: 1440, height: 900, deviceScaleFactor: 1 };

/** Default deadline of every puppeteer wait and click in the editor tests. */
export const UI_TIMEOUT_MS = 15_000;

const CHROMIUM_FLAGS = [
	'--headless=new',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--no-default-browser-check',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--disable-dev-shm-usage',
	'--disable-features=Translate,OptimizationHints,MediaRouter',
	'--mute-audio',
	// Offline by construction: any host but the loopback fails to resolve at once, so a
	// page that tries the internet fails fast instead of hanging the test.
	'--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
	`--window-size=${VIEWPORT.width},${VIEWPORT.height}`,
];

export interface EditorBrowser {
	browser: Browser;
	process: ManagedProcess;
	/**
	 * Closes the browser (gracefully, then by killing its process group), waits for its
	 * crash handlers, and removes its temp folder. Can be called more than once.
	 */
	close(): Promise<void>;
	/** Processes of this browser still alive, its own group or not ("pid: command"); empty when clean. */
	leftovers(): string[];
}

/** Starts Chromium with a fresh profile in a temp folder and connects puppeteer to it. */
export async function startBrowser(logDir: string): Promise<EditorBrowser> {
	if (!fs.existsSync(CHROMIUM)) {
		throw new Error(
			`${CHROMIUM} is missing: the editor test needs Chromium. Install it with: apt-get update && apt-get install -y --no-install-recommends chromium`,
		);
	}
	// One temp folder for everything the browser writes: its profile, and (through the
	// XDG variables) the crash-report database its crashpad handlers keep. Those handlers
	// daemonize into process groups of their own and end when Chromium ends; the folder's
	// path in their command line is how close() and leftovers() recognise them.
	const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fal-fill-chromium-'));
	const port = await freePort();
	const proc = startProcess(
		'chromium (editor)',
		CHROMIUM,
		[
			...CHROMIUM_FLAGS,
			`--user-data-dir=${path.join(root, 'profile')}`,
			'--remote-debugging-address=127.0.0.1',
			`--remote-debugging-port=${port}`,
			'about:blank',
		],
		{
			env: {
				...process.env,
				XDG_CONFIG_HOME: path.join(root, 'config'),
				XDG_CACHE_HOME: path.join(root, 'cache'),
			},
			logFile: path.join(logDir, 'chromium.log'),
		},
	);
	const leftovers = () =>
		processesMentioning(root).map(({ pid, command }) => `${pid}: ${command.slice(0, 120)}`);
	const close = async (connected?: Browser) => {
		if (connected) {
			// Browser.close over DevTools: Chromium shuts down on its own (bounded: a hung
			// browser is killed with its process group below).
			let timer: NodeJS.Timeout | undefined;
			await Promise.race([
				connected.close().catch(() => undefined),
				new Promise((resolve) => (timer = setTimeout(resolve, 5_000))),
			]);
			clearTimeout(timer);
		}
		await stopProcess(proc, 5_000);
		// The crash handlers notice that Chromium is gone and exit; kill the ones that do not.
		await waitFor('the crash handlers of Chromium to exit', () => leftovers().length === 0, {
			timeoutMs: 5_000,
		}).catch(() => {
			for (const { pid } of processesMentioning(root)) {
				try {
					process.kill(pid, 'SIGKILL');
				} catch {
					// gone meanwhile
				}
			}
		});
		fs.rmSync(root, { recursive: true, force: true });
	};
	let browser: Browser | undefined;
	try {
		const endpoint = await waitFor(
			`Chromium's DevTools on port ${port}`,
			async () => {
				if (proc.hasExited()) throw new GiveUp(`Chromium exited during start-up\n${tail(proc)}`);
				const response = await fetch(`http://127.0.0.1:${port}/json/version`, {
					signal: AbortSignal.timeout(2_000),
				});
				if (!response.ok) return false;
				const { webSocketDebuggerUrl } = (await response.json()) as {
					webSocketDebuggerUrl?: string;
				};
				return webSocketDebuggerUrl;
			},
			{ timeoutMs: 30_000, intervalMs: 250, detail: () => tail(proc) },
		);
		// Debian's /usr/bin/chromium is a shell script that execs /usr/lib/chromium/chromium:
		// record the real executable, or the crash clean-up (which checks that a group's
		// leader still runs what was started) would not recognise the group as ours.
		try {
			registerGroup(proc.pid, proc.name, fs.readlinkSync(`/proc/${proc.pid}/exe`));
		} catch {
			// the registry keeps the wrapper's path
		}
		browser = await puppeteer.connect({
			browserWSEndpoint: endpoint,
			defaultViewport: VIEWPORT,
			protocolTimeout: 60_000,
		});
	} catch (error) {
		await close();
		throw error;
	}
	const connected = browser;
	return {
		browser: connected,
		process: proc,
		close: () => close(connected),
		leftovers,
	};
}

/** Live processes whose command line contains `text` (Linux /proc). */
function processesMentioning(text: string): Array<{ pid: number; command: string }> {
	const found: Array<{ pid: number; command: string }> = [];
	for (const entry of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
		let command: string;
		try {
			command = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
		} catch {
			continue; // exited while we looked
		}
		if (command.includes(text)) found.push({ pid: Number(entry), command });
	}
	return found;
}

/**
 * A new tab at 1440×900 with bounded waits. "Leave site?" prompts are accepted, and the
 * page's uncaught errors and console errors go to `logFile` (for debugging a failure).
 */
export async function openPage(browser: Browser, logFile: string): Promise<Page> {
	const page = await browser.newPage();
	await page.setViewport(VIEWPORT);
	page.setDefaultTimeout(UI_TIMEOUT_MS);
	page.setDefaultNavigationTimeout(30_000);
	const log = (line: string) => fs.appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
	page.on('dialog', (dialog) => {
		log(`dialog: ${dialog.message()}`);
		void dialog.accept().catch(() => undefined);
	});
	page.on('pageerror', (error) => log(`pageerror: ${String(error)}`));
	page.on('console', (message) => {
		if (message.type() === 'error') log(`console.error: ${message.text()}`);
	});
	page.on('requestfailed', (request) =>
		log(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText}`),
	);
	return page;
}

/** Closes every open tab (without "Leave site?" prompts). */
export async function closePages(browser: Browser): Promise<void> {
	for (const page of await browser.pages()) await page.close({ runBeforeUnload: false });
}

export interface TextMatch {
	/** Visible elements matching this CSS selector… */
	selector: string;
	/** …whose trimmed text equals this string, or matches this pattern. */
	text: string | RegExp;
	timeoutMs?: number;
}

/** The first visible element of `selector` whose text matches; waits for it. */
export async function findByText(
	page: Page,
	{ selector, text, timeoutMs = UI_TIMEOUT_MS }: TextMatch,
): Promise<ElementHandle<Element>> {
	const pattern =
		typeof text === 'string' ? { exact: text } : { source: text.source, flags: text.flags };
	const handle = await page
		.waitForFunction(
			(sel: string, want: { exact?: string; source?: string; flags?: string }) => {
				const matches = (value: string) =>
					want.exact !== undefined
						? value === want.exact
						: new RegExp(want.source ?? '', want.flags).test(value);
				return (
					Array.from(document.querySelectorAll(sel)).find(
						(element) =>
							element instanceof HTMLElement &&
							element.getClientRects().length > 0 &&
							matches(element.innerText.trim()),
					) ?? false
				);
			},
			{ timeout: timeoutMs, polling: 200 },
			selector,
			pattern,
		)
		.catch(async (error: unknown) => {
			const seen = await visibleTexts(page, selector).catch(() => []);
			throw new Error(
				`No visible "${selector}" with text ${String(text)} within ${timeoutMs / 1000} s (${error instanceof Error ? error.message : String(error)}); visible: ${JSON.stringify(seen.slice(0, 30))}`,
			);
		});
	return handle as ElementHandle<Element>;
}

/**
 * Clicks the element `findByText` finds, with the mouse, as a user does. An element
 * still sliding into view ("not clickable") is looked up again and retried until
 * `timeoutMs` has passed.
 */
export async function clickByText(page: Page, match: TextMatch): Promise<void> {
	const timeoutMs = match.timeoutMs ?? UI_TIMEOUT_MS;
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const element = await findByText(page, {
			...match,
			timeoutMs: Math.max(deadline - Date.now(), 1),
		});
		try {
			await element.click();
			return;
		} catch (error) {
			if (Date.now() >= deadline)
				throw new Error(
					`Could not click "${match.selector}" with text ${String(match.text)}: ${error instanceof Error ? error.message : String(error)}`,
				);
			await delay(200);
		}
	}
}

/** Texts of the visible elements of `selector`, trimmed, in document order. */
export async function visibleTexts(page: Page, selector: string): Promise<string[]> {
	return await page.$$eval(selector, (elements) =>
		elements
			.filter((element) => element instanceof HTMLElement && element.getClientRects().length > 0)
			.map((element) => (element as HTMLElement).innerText.trim()),
	);
}

/** Replaces the value of an input (or textarea) the way a user does: select all, type. */
export async function typeInto(page: Page, selector: string, text: string): Promise<void> {
	const input = await page.waitForSelector(selector, { visible: true });
	if (!input) throw new Error(`No input ${selector}`);
	await input.click();
	await input.evaluate((element) => (element as HTMLInputElement).select());
	await page.keyboard.press('Backspace');
	await page.keyboard.type(text);
	const value = await input.evaluate((element) => (element as HTMLInputElement).value);
	if (value !== text) throw new Error(`${selector} holds "${value}" after typing "${text}"`);
}

/** Saves a PNG of the whole viewport (1440×900) and answers its path. */
export async function screenshot(page: Page, file: string): Promise<string> {
	fs.mkdirSync(path.dirname(file), { recursive: true });
	await page.screenshot({ path: file as `${string}.png`, type: 'png' });
	return file;
}
