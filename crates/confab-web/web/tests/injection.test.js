// @ts-check
/** Hostile text in bodies and names renders as text: nothing runs, nothing breaks the page. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WAIT, launch, shoot, startServer } from './support.js';

const PAYLOADS = [
  '<script>window.__pwned = "script"</script>',
  '<img src=x onerror="window.__pwned = \'img\'">',
  '[click me](javascript:window.__pwned="link")',
  '"><svg onload=window.__pwned="svg">',
];

test('bodies and display names with markup render inert, with no CSP violation', async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    /** @type {string[]} */
    const problems = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));
    await page.goto(server.url);
    // An account whose display name is itself a payload, made as the client makes one.
    const status = await page.evaluate(async (name) => {
      const answer = await fetch('/api/v1/auth/browser/register', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'mallory', password: 'correct horse', display_name: name }),
      });
      await fetch('/api/v1/workspaces', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Acme' }),
      });
      return answer.status;
    }, '<img src=x onerror="window.__pwned=\'name\'">');
    assert.equal(status, 201);
    await page.reload();
    await page.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });
    const composer = page.getByLabel('Message #general');
    for (const payload of PAYLOADS) {
      await composer.fill(payload);
      await composer.press('Enter');
      await page.locator('.message:not(.pending) .body', { hasText: payload }).waitFor({ timeout: WAIT });
    }
    // The name shows as the text it is.
    await page.locator('.message .author', { hasText: '<img src=x onerror=' }).first().waitFor({ timeout: WAIT });
    assert.equal(await page.locator('.messages img, .messages script, .messages svg').count(), 0);
    // Reload: the same from history, not only from live frames.
    await page.reload();
    await page.locator('.message .body', { hasText: PAYLOADS[0] }).waitFor({ timeout: WAIT });
    await shoot(page, 'injection-light-wide');
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).__pwned), undefined, 'nothing ran');
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await server.stop();
  }
});
