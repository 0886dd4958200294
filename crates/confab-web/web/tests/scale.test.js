// @ts-check
/**
 * A big workspace: 200 channels, one of them with 10,000 messages. Scrolling back loads older
 * pages and keeps the reader's place while never rendering more than a bounded number of
 * messages; "Jump to latest" returns; a permalink opens its message highlighted in context;
 * the "new messages" line sits at the first unread message. The load and switch times are
 * read from the page's performance marks and printed (recorded in BENCHMARKS.md), never
 * asserted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WAIT, api, launch, screenshots, shoot, startServer, team } from './support.js';

const CHANNELS = 200;
const MESSAGES = 10_000;

/**
 * Sends `count` messages into a channel from inside `page`, over one WebSocket, 200 at a
 * time (each batch pipelined, then its acks awaited: a socket that sends faster than it
 * reads its own events would be cut off as a slow consumer, as it should be).
 * @param {import('playwright-core').Page} page
 * @param {string} channel
 * @param {number} count
 * @param {string} prefix
 */
async function flood(page, channel, count, prefix) {
  await page.evaluate(
    async ([channelId, n, label]) => {
      const { ticket } = await fetch('/api/v1/ws/ticket', { method: 'POST' }).then((r) => r.json());
      const ws = new WebSocket(`ws://${location.host}/api/v1/ws?ticket=${ticket}`);
      await new Promise((ok) => ws.addEventListener('message', ok, { once: true }));
      let acked = 0;
      /** @type {(() => void) | null} */
      let batchDone = null;
      let batchEnd = 0;
      /** @type {(e: Error) => void} */
      let failed = () => {};
      const broken = new Promise((_, fail) => (failed = fail));
      ws.addEventListener('message', (e) => {
        const frame = JSON.parse(e.data);
        if (frame.type === 'ack' && ++acked === batchEnd && batchDone) batchDone();
        if (frame.type === 'error') failed(new Error(e.data));
      });
      ws.addEventListener('close', (e) => failed(new Error(`the socket closed after ${acked} acks: ${e.code} ${e.reason}`)));
      for (let start = 1; start <= n; start += 200) {
        batchEnd = Math.min(n, start + 199);
        const done = new Promise((ok) => (batchDone = () => ok(null)));
        for (let i = start; i <= batchEnd; i++) {
          ws.send(JSON.stringify({ type: 'send', channel_id: channelId, client_msg_id: `${label}-${i}`, body: `${label} ${i}` }));
        }
        await Promise.race([done, broken]);
      }
      ws.close();
    },
    /** @type {[string, number, string]} */ ([channel, count, prefix]),
  );
}

test('200 channels and 10,000 messages: bounded rendering, scroll back, jump to latest, permalinks', async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const t = await team(browser, server.url);
    const { channel: big } = await api(t.ada, server.url, 'POST', `/workspaces/${t.workspace.id}/channels`, { name: 'big' });
    for (let i = 0; i < CHANNELS - 2; i++) {
      await api(t.ada, server.url, 'POST', `/workspaces/${t.workspace.id}/channels`, { name: `room-${String(i).padStart(3, '0')}` });
    }
    const sender = await t.bo.newPage();
    await sender.goto(`${server.url}/w/${t.workspace.id}/c/${t.general}`);
    await api(t.bo, server.url, 'POST', `/channels/${big.id}/join`, undefined);
    await flood(sender, big.id, MESSAGES, 'm');

    // Ada opens #big: the newest page, with the "new messages" line at the first unread.
    const a = await t.ada.newPage();
    await api(t.ada, server.url, 'POST', `/channels/${big.id}/read`, { seq: 9_990 });
    await a.goto(`${server.url}/w/${t.workspace.id}/c/${t.general}`);
    await a.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });
    const firstRender = await a.evaluate(() => {
      const mark = performance.getEntriesByType('mark').find((m) => m.name.startsWith('confab:channel-rendered:'));
      return mark ? mark.startTime : null;
    });
    await a.getByRole('link', { name: '#big' }).click();
    await a.locator('main .message .body', { hasText: `m ${MESSAGES}` }).waitFor({ timeout: WAIT });
    const switchMs = await a.evaluate((id) => {
      const start = performance.getEntriesByName(`confab:switch:${id}`)[0];
      const end = performance.getEntriesByName(`confab:channel-rendered:${id}`)[0];
      return start && end ? end.startTime - start.startTime : null;
    }, big.id);
    const divider = a.locator('main li.divider + li.message .body');
    // Read up to seq 9,990: the first unread is the one after (seq numbers start after the join).
    assert.match(await divider.innerText(), /^m \d+$/);
    await shoot(a, 'big-channel-light-wide');

    // Scrolling back: older pages come, the reader's place holds, the rendering stays bounded.
    const rendered = () => a.locator('main li.message').count();
    for (let round = 0; round < 8; round++) {
      const top = await a.locator('main li.message').first().getAttribute('data-seq');
      await a.locator('main ol.messages').evaluate((el) => (el.scrollTop = 0));
      await a.waitForFunction((seq) => document.querySelector('main li.message')?.getAttribute('data-seq') !== seq, top, { timeout: WAIT });
      // The message that was at the top is still on screen, near where it was.
      const kept = await a.locator(`main li.message[data-seq="${top}"]`).evaluate((el) => {
        const list = /** @type {HTMLElement} */ (el.parentElement);
        return el.getBoundingClientRect().top - list.getBoundingClientRect().top;
      });
      assert.ok(kept >= -5 && kept < 200, `the reader's place moved: ${kept}px`);
      assert.ok((await rendered()) <= 300, `rendered ${await rendered()}`);
    }
    await a.getByRole('button', { name: /Jump to latest/ }).click();
    await a.locator('main .message .body', { hasText: `m ${MESSAGES}` }).waitFor({ timeout: WAIT });
    assert.ok((await rendered()) <= 300);

    // A permalink to an old message opens it highlighted, in context.
    const old = await api(t.ada, server.url, 'GET', `/channels/${big.id}/messages?before=1000&limit=1`);
    const target = old.messages[0];
    await a.goto(`${server.url}/w/${t.workspace.id}/c/${big.id}/m/${target.seq}`);
    const highlighted = a.locator('main li.message.highlight');
    await highlighted.waitFor({ timeout: WAIT });
    assert.equal(await highlighted.locator('.body').innerText(), target.body);
    assert.ok(await highlighted.evaluate((el) => {
      const r = el.getBoundingClientRect();
      return r.top >= 0 && r.bottom <= innerHeight;
    }), 'the linked message is in view');
    await shoot(a, 'permalink-light-wide');

    const result = { channels: CHANNELS, messages: MESSAGES, first_channel_rendered_ms: firstRender, switch_to_big_channel_ms: switchMs };
    mkdirSync(screenshots, { recursive: true });
    writeFileSync(join(screenshots, '..', 'web-perf.json'), JSON.stringify(result, null, 2));
    console.log('web client timings', JSON.stringify(result));
  } finally {
    await browser.close();
    await server.stop();
  }
});
