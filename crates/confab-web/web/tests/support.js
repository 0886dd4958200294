// @ts-check
/**
 * What the browser tests share: the real confab binary on an ephemeral port with a fresh data
 * directory, Debian's Chromium driven by playwright-core, and screenshots under
 * `target/screenshots/` (looked at, never committed).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '../../../..');
export const screenshots = join(root, 'target', 'screenshots');

/** Every wait has a bound, so a hang fails fast. */
export const WAIT = 15_000;

/**
 * Starts `confab serve`; resolves once it serves its whole API.
 * @returns {Promise<{url: string, stop: () => Promise<void>}>}
 */
export async function startServer() {
  const bin = process.env.CONFAB_BIN ?? join(root, 'target', 'debug', 'confab');
  const dir = mkdtempSync(join(tmpdir(), 'confab-web-'));
  const child = spawn(
    bin,
    ['serve', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data'),
      '--send-rate-per-sec', '0', '--auth-rate-per-min', '0', '--create-rate-per-min', '0',
      '--change-rate-per-sec', '0', '--presence-rate-per-min', '0'],
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
  return {
    url,
    stop: () =>
      new Promise((done) => {
        child.on('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * Saves a screenshot of `page` as `target/screenshots/<name>.png`.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
export async function shoot(page, name) {
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: false });
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
