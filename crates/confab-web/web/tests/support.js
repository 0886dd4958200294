// @ts-check
/**
 * What the browser tests share: the real confab binary on an ephemeral port with a fresh data
 * directory, Debian's Chromium driven by playwright-core, screenshots under
 * `target/screenshots/` (looked at, never committed), and axe-core's accessibility check.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '../../../..');
export const screenshots = join(root, 'target', 'screenshots');

/** Every wait has a bound, so a hang fails fast. */
export const WAIT = 15_000;

/**
 * Starts `confab serve`; resolves once it serves its whole API. `dir` and `listen` let a test
 * restart the same server (same data, same port); `args` are more flags for `serve`.
 * @param {{dir?: string, listen?: string, args?: string[]}} [options]
 * @returns {Promise<{url: string, dir: string, listen: string, stop: () => Promise<void>, kill9: () => Promise<void>}>}
 */
export async function startServer(options = {}) {
  const bin = process.env.CONFAB_BIN ?? join(root, 'target', 'debug', 'confab');
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'confab-web-'));
  const child = spawn(
    bin,
    ['serve', '--listen', options.listen ?? '127.0.0.1:0', '--data-dir', join(dir, 'data'),
      '--send-rate-per-sec', '0', '--auth-rate-per-min', '0', '--create-rate-per-min', '0',
      '--change-rate-per-sec', '0', '--presence-rate-per-min', '0', '--search-rate-per-min', '0', ...(options.args ?? [])],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CONFAB_LOG: 'warn' } },
  );
  const lines = createInterface({ input: /** @type {import('node:stream').Readable} */ (child.stdout) });
  const url = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('confab did not start')), WAIT);
    let addr = '';
    lines.on('line', (line) => {
      if (line.startsWith('confab listening on ')) addr = line.slice('confab listening on '.length).trim();
      if (line === 'confab ready') {
        clearTimeout(timer);
        ok(addr);
      }
    });
    child.on('exit', (code) => fail(new Error(`confab exited: ${code}`)));
  });
  /** @param {NodeJS.Signals} signal */
  const end = (signal) =>
    /** @type {Promise<void>} */ (new Promise((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.on('exit', () => done());
      child.kill(signal);
    }));
  return { url, dir, listen: new URL(url).host, stop: () => end('SIGTERM'), kill9: () => end('SIGKILL') };
}

/**
 * Calls the API as the signed-in browser context does (its cookie, our Origin).
 * @param {import('playwright-core').BrowserContext} context
 * @param {string} url
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 */
export async function api(context, url, method, path, body) {
  const response = await context.request.fetch(`${url}/api/v1${path}`, {
    method,
    headers: { origin: url, 'content-type': 'application/json' },
    data: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok()) throw new Error(`${method} ${path}: ${response.status()} ${text}`);
  return text ? JSON.parse(text) : null;
}

/**
 * Two people in one workspace, made through the API (the flows through the screens have
 * their own test): ada owns it, bo joined by invite. Each context is signed in.
 * @param {import('playwright-core').Browser} browser
 * @param {string} url
 * @param {import('playwright-core').BrowserContextOptions} [options]
 */
export async function team(browser, url, options = {}) {
  const ada = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const bo = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  await api(ada, url, 'POST', '/auth/browser/register', { username: 'ada', password: 'correct horse' });
  const { workspace } = await api(ada, url, 'POST', '/workspaces', { name: 'Acme' });
  const { invite } = await api(ada, url, 'POST', `/workspaces/${workspace.id}/invites`, {});
  await api(bo, url, 'POST', '/auth/browser/register', { username: 'bo', password: 'correct horse', invite_code: invite.code });
  return { ada, bo, workspace, general: /** @type {string} */ (workspace.general_channel_id) };
}

/**
 * The bodies of the messages a page shows in its open channel, in order (pending ones too).
 * @param {import('playwright-core').Page} page
 */
export async function bodies(page) {
  return page.locator('main .messages .message .body').allInnerTexts();
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * Saves a screenshot of `page` as `target/screenshots/<name>.png`: what the window shows, or
 * (`fullPage`) the whole page, for a page that scrolls.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 * @param {{fullPage?: boolean}} [options]
 */
export async function shoot(page, name, options = {}) {
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: options.fullPage ?? false });
}

/**
 * Registers `username` through the sign-in screen.
 * @param {import('playwright-core').Page} page
 * @param {string} url
 * @param {string} username
 */
export async function register(page, url, username) {
  await page.goto(url);
  await page.getByRole('button', { name: 'New here? Create an account' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('correct horse');
  await page.getByRole('button', { name: 'Create account' }).click();
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Serious and critical accessibility violations on the page as it is, by axe-core.
 * @param {import('playwright-core').Page} page
 */
export async function axeViolations(page) {
  // Evaluated through the debugging protocol: the page's CSP, which forbids inline scripts,
  // does not apply to it.
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    // @ts-ignore -- axe is what the evaluated source defined.
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((/** @type {any} */ v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((/** @type {any} */ n) => n.target.join(' ')).slice(0, 3) }));
  });
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
