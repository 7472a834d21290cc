/**
 * Opens reports in headless Chromium (Debian's `chromium`, driven by playwright-core) the way a
 * person would: from `file://`, with the network cut off. Used by the browser tests and the
 * report benchmark. Records console errors, page errors and every request that tried to leave
 * the machine.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Where Debian puts Chromium; `DSYNC_CHROMIUM` overrides. */
export function chromiumPath(): string {
  return process.env['DSYNC_CHROMIUM'] ?? '/usr/bin/chromium';
}

/** Starts headless Chromium. @throws Error saying how to install it when it is missing */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) {
    throw new Error(`${executablePath} not found: install Debian's chromium (apt-get install -y chromium) or set DSYNC_CHROMIUM`);
  }
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

/** A report open in a page. */
export interface OpenedReport {
  readonly page: Page;
  /** Console messages of type error, and uncaught page errors. */
  readonly errors: string[];
  /** Requests for anything but `file:`/`data:`/`blob:` URLs (all were refused). */
  readonly networkRequests: string[];
  /** From navigation start to `body[data-ready="true"]`, ms (wall clock, in this process). */
  readonly loadMs: number;
}

/** Options of {@link openReport}. */
export interface OpenOptions {
  /** How long to wait for the page to say it is ready. @default 30000 */
  readonly timeoutMs?: number;
  readonly viewport?: { readonly width: number; readonly height: number };
}

/**
 * Opens `file` in a fresh offline context and waits until the report says it has drawn
 * everything (`body[data-ready="true"]`) or shows an error. @throws Error when neither happens in time
 */
export async function openReport(browser: Browser, file: string, o: OpenOptions = {}): Promise<OpenedReport> {
  const context = await browser.newContext({ offline: true, viewport: o.viewport ?? { width: 1400, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  const networkRequests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (/^(file|data|blob):/.test(url)) return route.continue();
    networkRequests.push(url);
    return route.abort('internetdisconnected');
  });
  const started = performance.now();
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: o.timeoutMs ?? 30_000 });
  await page.waitForSelector('body[data-ready="true"], body[data-ready="error"]', { state: 'attached', timeout: o.timeoutMs ?? 30_000 });
  const loadMs = performance.now() - started;
  return { page, errors, networkRequests, loadMs };
}
