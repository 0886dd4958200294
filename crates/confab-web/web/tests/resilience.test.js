// @ts-check
/**
 * What users trust the connection with: going offline, a server restarted under them, a
 * reload in the middle of a send. Each ends with both people seeing every message exactly
 * once, in the same order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WAIT, bodies, launch, shoot, startServer, team } from './support.js';

/** Restarts and reconnects take longer than a screen update. */
const LONG = 45_000;

/**
 * Waits until `page` shows exactly `count` sent messages and nothing pending.
 * @param {import('playwright-core').Page} page
 * @param {number} count
 */
async function settled(page, count) {
  await page.waitForFunction(
    (n) => document.querySelectorAll('main .messages .message:not(.pending)').length === n &&
      document.querySelectorAll('main .messages .message.pending').length === 0,
    count,
    { timeout: LONG },
  );
}

/**
 * @param {import('playwright-core').Page} page
 * @param {string} text
 */
async function say(page, text) {
  const box = page.locator('main textarea.composer');
  await box.fill(text);
  await box.press('Enter');
}

/** @param {string[]} list */
function once(list) {
  assert.equal(new Set(list).size, list.length, `shown twice: ${list}`);
}

/**
 * Opens #general for both.
 * @param {{ada: import('playwright-core').BrowserContext, bo: import('playwright-core').BrowserContext, workspace: {id: string}, general: string}} t
 * @param {string} url
 */
async function open(t, url) {
  const a = await t.ada.newPage();
  const b = await t.bo.newPage();
  for (const page of [a, b]) {
    await page.goto(`${url}/w/${t.workspace.id}/c/${t.general}`);
    await page.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });
    await page.locator('.state.online').waitFor({ state: 'attached', timeout: WAIT });
  }
  return { a, b };
}

test('offline: sends made while offline stay pending and go out once the network returns', async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const t = await team(browser, server.url);
    const { a, b } = await open(t, server.url);

    await t.ada.setOffline(true);
    await a.locator('.state.offline', { hasText: 'Offline' }).waitFor({ timeout: WAIT });
    for (let i = 1; i <= 20; i++) await say(b, `bo ${i}`);
    await settled(b, 20);
    for (let i = 1; i <= 3; i++) await say(a, `ada ${i}`);
    await a.waitForFunction(() => document.querySelectorAll('main .message.pending').length === 3, undefined, { timeout: WAIT });
    await shoot(a, 'offline-pending-light-wide');

    await t.ada.setOffline(false);
    await settled(a, 23);
    await settled(b, 23);
    const seenA = await bodies(a);
    const seenB = await bodies(b);
    once(seenA);
    assert.deepEqual(seenA, seenB);
    assert.deepEqual(seenA.filter((x) => x.startsWith('bo ')), Array.from({ length: 20 }, (_, i) => `bo ${i + 1}`));
    assert.deepEqual(seenA.filter((x) => x.startsWith('ada ')), ['ada 1', 'ada 2', 'ada 3']);
  } finally {
    await browser.close();
    await server.stop();
  }
});

test('a server restarted under connected people (SIGTERM, then kill -9) loses and doubles nothing', async () => {
  let server = await startServer();
  const browser = await launch();
  try {
    const t = await team(browser, server.url);
    const { a, b } = await open(t, server.url);
    let sent = 0;
    for (const how of ['SIGTERM', 'SIGKILL']) {
      for (let i = 0; i < 5; i++) await say(a, `ada ${++sent}`);
      // Mid-stream: the server goes, while more is being typed and sent.
      const stopping = how === 'SIGTERM' ? server.stop() : server.kill9();
      for (let i = 0; i < 3; i++) await say(a, `ada ${++sent}`);
      await stopping;
      await a.locator('.state.reconnecting').waitFor({ timeout: LONG });
      for (let i = 0; i < 2; i++) await say(a, `ada ${++sent}`);
      server = await startServer({ dir: server.dir, listen: server.listen });
      await settled(a, sent);
      await settled(b, sent);
      const seenA = await bodies(a);
      once(seenA);
      assert.deepEqual(seenA, Array.from({ length: sent }, (_, i) => `ada ${i + 1}`), how);
      assert.deepEqual(await bodies(b), seenA, how);
    }
  } finally {
    await browser.close();
    await server.stop();
  }
});

test('a reload while a send is unacknowledged delivers it exactly once', async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const t = await team(browser, server.url);
    const { a, b } = await open(t, server.url);
    // The server takes the send, but its ack never reaches the page: it stays pending.
    let dropAcks = true;
    await a.routeWebSocket(/\/api\/v1\/ws/, (ws) => {
      const upstream = ws.connectToServer();
      ws.onMessage((m) => upstream.send(m));
      upstream.onMessage((m) => {
        if (!(dropAcks && String(m).includes('"type":"ack"'))) ws.send(m);
      });
    });
    await a.reload();
    await a.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });
    await a.locator('.state.online').waitFor({ state: 'attached', timeout: WAIT });
    await say(a, 'sent once');
    await b.locator('.message .body', { hasText: 'sent once' }).waitFor({ timeout: WAIT });
    const stored = await a.evaluate(() => localStorage.getItem('confab.pending') ?? '');
    assert.match(stored, /sent once/, 'the unacknowledged send is kept for after a reload');
    assert.deepEqual(await bodies(a), ['sent once'], 'pending and delivered, it shows once');

    dropAcks = false;
    await a.reload();
    await a.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });
    await settled(a, 1);
    // The retry is acknowledged with the original: nothing is left to send.
    await a.waitForFunction(() => localStorage.getItem('confab.pending') === '[]', undefined, { timeout: WAIT });
    assert.deepEqual(await bodies(a), ['sent once']);
    assert.deepEqual(await bodies(b), ['sent once']);
  } finally {
    await browser.close();
    await server.stop();
  }
});
