// @ts-check
/** Unread state across two tabs of one user: it appears in both, and reading in one clears both. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WAIT, launch, register, shoot, startServer } from './support.js';

test('an unread channel is bold in both tabs and reading it in one clears both', async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const ada = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await register(ada, server.url, 'ada');
    await ada.getByRole('heading', { name: 'Create a workspace' }).waitFor({ timeout: WAIT });
    await ada.getByLabel('Name', { exact: true }).fill('Acme');
    await ada.getByRole('button', { name: 'Create', exact: true }).click();
    await ada.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });
    await ada.getByLabel('New channel name').fill('plans');
    await ada.getByRole('button', { name: 'Create', exact: true }).click();
    await ada.getByRole('heading', { name: '#plans' }).waitFor({ timeout: WAIT });
    await ada.getByRole('button', { name: 'Invite people' }).click();
    await ada.waitForFunction(() => {
      const input = /** @type {HTMLInputElement | null} */ (document.querySelector('[aria-label="Invite link"]'));
      return input !== null && input.value.includes('/invite/');
    }, undefined, { timeout: WAIT });
    const link = await ada.getByLabel('Invite link').inputValue();
    await ada.getByRole('button', { name: 'Done' }).click();

    // Bo joins by the link, then #plans from the browser of public channels.
    const bo = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const one = await bo.newPage();
    await one.goto(link);
    await one.getByRole('button', { name: 'New here? Create an account' }).click();
    await one.getByLabel('Username').fill('bo');
    await one.getByLabel('Password').fill('correct horse');
    await one.getByRole('button', { name: 'Create account' }).click();
    await one.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });
    await one.getByText('Browse channels').click();
    // Each channel there says how many are in it (ada, who made it).
    await one.locator('.browse li', { hasText: '#plans' }).getByText('1 member').waitFor({ timeout: WAIT });
    await one.getByRole('button', { name: 'Join #plans' }).click();
    await one.getByRole('heading', { name: '#plans' }).waitFor({ timeout: WAIT });
    await one.getByRole('link', { name: '#general' }).click();
    await one.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });
    const two = await bo.newPage();
    await two.goto(`${server.url}/`);
    await two.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });
    await two.getByRole('link', { name: '#plans' }).waitFor({ timeout: WAIT });
    for (const tab of [one, two]) {
      await tab.locator('.state.online').waitFor({ state: 'attached', timeout: WAIT });
    }

    // Ada writes in #plans: bold in both of bo's tabs.
    const composer = ada.getByLabel('Message #plans');
    await composer.fill('the plan');
    await composer.press('Enter');
    for (const tab of [one, two]) {
      await tab.locator('a.unread', { hasText: '#plans' }).waitFor({ timeout: WAIT });
    }
    await shoot(two, 'unread-light-wide');
    assert.equal(await two.title(), '(1) confab', 'the tab counts unread channels');
    const icon = () => two.locator('link[rel="icon"]').getAttribute('data-unread');
    assert.equal(await icon(), '1', 'and so does its icon');
    // Read in one tab: cleared in both.
    await one.getByRole('link', { name: '#plans' }).click();
    await one.locator('.message .body', { hasText: 'the plan' }).waitFor({ timeout: WAIT });
    for (const tab of [one, two]) {
      await tab.locator('a.unread').waitFor({ state: 'detached', timeout: WAIT });
    }
    assert.equal(await two.locator('a.unread').count(), 0);
    assert.equal(await two.title(), 'confab');
    assert.equal(await icon(), '0');

    // Ctrl+K, a few letters, Enter: the keyboard alone moves between channels.
    await two.bringToFront();
    await two.keyboard.press('Control+k');
    await two.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'Jump to', undefined, { timeout: WAIT });
    await two.keyboard.type('pla');
    await shoot(two, 'switcher-light-wide');
    await two.keyboard.press('Enter');
    await two.getByRole('heading', { name: '#plans' }).waitFor({ timeout: WAIT });
    // Alt+↑ and Alt+↓ step through the sidebar's channels.
    await two.keyboard.press('Alt+ArrowUp');
    await two.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });
    await two.keyboard.press('Alt+ArrowDown');
    await two.getByRole('heading', { name: '#plans' }).waitFor({ timeout: WAIT });
  } finally {
    await browser.close();
    await server.stop();
  }
});
