// @ts-check
/**
 * Drafts: kept per channel across a switch and a reload, on a second device, and never moved
 * into another channel by a fast switch right after typing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WAIT, api, launch, shoot, startServer, team } from './support.js';

/**
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
async function composer(page, name) {
  const box = page.getByLabel(`Message #${name}`, { exact: true });
  await box.waitFor({ timeout: WAIT });
  return box;
}

/**
 * Opens a channel from the sidebar, through the drawer on a narrow screen.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
async function go(page, name) {
  const menu = page.getByRole('button', { name: 'Open the channel list' });
  if (await menu.isVisible()) await menu.click();
  await page.getByRole('link', { name: `#${name}` }).click();
}

/**
 * Waits for the composer of `name` to hold exactly `text`.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 * @param {string} text
 */
async function holds(page, name, text) {
  await page.waitForFunction(
    ([label, want]) => /** @type {HTMLTextAreaElement | null} */ (document.querySelector(`textarea[aria-label="${label}"]`))?.value === want,
    [`Message #${name}`, text],
    { timeout: WAIT },
  );
}

test('drafts survive a channel switch, a reload and a second device, and never change channel', async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const t = await team(browser, server.url);
    const { channel: dev } = await api(t.ada, server.url, 'POST', `/workspaces/${t.workspace.id}/channels`, { name: 'dev' });
    const a = await t.ada.newPage();
    const base = `${server.url}/w/${t.workspace.id}/c`;
    await a.goto(`${base}/${t.general}`);
    await (await composer(a, 'general')).pressSequentially('half a thought');

    // A switch right after typing: the draft stays with #general, #dev's composer is empty.
    await go(a, 'dev');
    await holds(a, 'dev', '');
    await a.getByRole('link', { name: /#general/ }).getByLabel('has a draft').waitFor({ timeout: WAIT });
    await (await composer(a, 'dev')).pressSequentially('dev idea');
    await go(a, 'general');
    await holds(a, 'general', 'half a thought');
    await go(a, 'dev');
    await holds(a, 'dev', 'dev idea');

    // The server has both, each in its own channel.
    await a.waitForFunction(async () => {
      const answer = await fetch('/api/v1/me/drafts').then((r) => r.json());
      return answer.drafts.length === 2;
    }, undefined, { timeout: WAIT });
    const { drafts } = await api(t.ada, server.url, 'GET', '/me/drafts');
    const byChannel = Object.fromEntries(drafts.map((/** @type {any} */ d) => [d.channel_id, d.body]));
    assert.deepEqual(byChannel, { [t.general]: 'half a thought', [dev.id]: 'dev idea' });

    // A reload, and a second device, find them.
    await a.reload();
    await holds(a, 'dev', 'dev idea');
    const phone = await t.ada.browser()?.newContext({ viewport: { width: 390, height: 800 }, colorScheme: 'dark' });
    assert.ok(phone);
    await phone.addCookies(await t.ada.cookies());
    const p = await phone.newPage();
    await p.goto(`${base}/${t.general}`);
    await holds(p, 'general', 'half a thought');

    // Typing on one device shows on the other, in that channel only.
    await (await composer(a, 'dev')).fill('dev idea, refined');
    await (await composer(a, 'dev')).press('End');
    await (await composer(a, 'dev')).pressSequentially('!');
    await go(p, 'dev');
    await holds(p, 'dev', 'dev idea, refined!');
    await shoot(p, 'drafts-dark-narrow');

    // Sending clears the draft here and on the other device.
    await (await composer(a, 'dev')).press('Enter');
    await holds(p, 'dev', '');
    await a.reload();
    await holds(a, 'dev', '');
    await go(p, 'general');
    await holds(p, 'general', 'half a thought');
  } finally {
    await browser.close();
    await server.stop();
  }
});
