// @ts-check
/**
 * Without a mouse: send, edit, react, reply in a thread and the quick switcher, by keyboard
 * alone; and axe-core finds no serious or critical violation on the main screens.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WAIT, api, axeViolations as violations, bodies, launch, shoot, startServer, team } from './support.js';

test('the send, edit, react, thread and switcher flows work by keyboard alone; axe finds nothing serious', async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const t = await team(browser, server.url);
    await api(t.ada, server.url, 'POST', `/workspaces/${t.workspace.id}/channels`, { name: 'dev' });
    const a = await t.ada.newPage();
    await a.goto(`${server.url}/w/${t.workspace.id}/c/${t.general}`);
    await a.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });
    await a.locator('.state.online').waitFor({ state: 'attached', timeout: WAIT });
    /** Waits for the element labelled `label` to have focus (focus moves after a render). @param {string} label */
    const focusIs = (label) =>
      a.waitForFunction((want) => document.activeElement?.getAttribute('aria-label') === want, label, { timeout: WAIT });

    // The composer has focus on arrival: type and Enter.
    await focusIs('Message #general');
    await a.keyboard.type('first, by keyboard');
    await a.keyboard.press('Enter');
    await a.locator('.message:not(.pending) .body', { hasText: 'first, by keyboard' }).waitFor({ timeout: WAIT });

    // ↑ in the empty composer edits it; Enter saves.
    await a.keyboard.press('ArrowUp');
    await focusIs('Edit the message');
    await a.keyboard.press('End');
    await a.keyboard.type(' (edited by keyboard)');
    await a.keyboard.press('Enter');
    await a.locator('.message .body', { hasText: 'first, by keyboard (edited by keyboard)' }).waitFor({ timeout: WAIT });

    // Shift+Tab to the list, ↑ to the message; R reacts through the picker's search.
    await a.locator('main textarea.composer').focus();
    await a.keyboard.press('Shift+Tab');
    await focusIs('Messages');
    await a.keyboard.press('ArrowUp');
    await a.keyboard.press('r');
    await a.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'Search emoji', undefined, { timeout: WAIT });
    await a.keyboard.type('tada');
    await shoot(a, 'reaction-picker-light-wide');
    await a.keyboard.press('Enter');
    await a.locator('.reaction', { hasText: '🎉' }).waitFor({ timeout: WAIT });

    // T opens its thread with the reply composer focused; Enter replies, Esc closes.
    await a.locator('main li.message').first().focus();
    await a.keyboard.press('t');
    await a.locator('aside.thread').waitFor({ timeout: WAIT });
    await a.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'Thread reply', undefined, { timeout: WAIT });
    await a.keyboard.type('a reply, by keyboard');
    await a.keyboard.press('Enter');
    await a.locator('aside.thread .message:not(.pending) .body', { hasText: 'a reply, by keyboard' }).waitFor({ timeout: WAIT });
    await a.locator('main .replies', { hasText: '1 reply' }).waitFor({ timeout: WAIT });
    assert.deepEqual(await violations(a), [], 'the channel with a thread open');
    await a.keyboard.press('Escape');
    await a.locator('aside.thread').waitFor({ state: 'detached', timeout: WAIT });

    // Autocomplete: @ and # suggest; Enter takes the suggestion.
    await a.locator('main textarea.composer').focus();
    await a.keyboard.type('ping @b');
    await a.getByRole('option', { name: /@bo/ }).waitFor({ timeout: WAIT });
    await shoot(a, 'autocomplete-light-wide');
    await a.keyboard.press('Enter');
    await a.keyboard.type('about #de');
    await a.getByRole('option', { name: '#dev' }).waitFor({ timeout: WAIT });
    await a.keyboard.press('Tab');
    await a.keyboard.type('today :tad');
    await a.getByRole('option', { name: /:tada:/ }).waitFor({ timeout: WAIT });
    await a.keyboard.press('Enter');
    assert.equal(await a.locator('main textarea.composer').inputValue(), 'ping @bo about #dev today 🎉 ');
    await a.keyboard.press('Enter');
    await a.locator('.message:not(.pending) .body', { hasText: 'ping @bo about #dev today' }).waitFor({ timeout: WAIT });

    // Ctrl+K, a few letters, Enter: another channel, and people too.
    await a.keyboard.press('Control+k');
    await a.keyboard.type('dev');
    await a.keyboard.press('Enter');
    await a.getByRole('heading', { name: '#dev' }).waitFor({ timeout: WAIT });
    await a.keyboard.press('Control+k');
    await a.keyboard.type('bo');
    await a.getByRole('option', { name: /bo \(@bo\)/ }).waitFor({ timeout: WAIT });
    await a.keyboard.press('Enter');
    await a.getByRole('heading', { name: 'bo' }).waitFor({ timeout: WAIT });
    assert.deepEqual(await bodies(a), []);
    assert.deepEqual(await violations(a), [], 'a DM');

    // A status, from the profile dialog: it shows beside the name, and to others.
    await a.getByRole('button', { name: /edit your profile and status/ }).click();
    await a.getByLabel('Status', { exact: true }).fill('In a meeting');
    await a.getByLabel('Clear after').selectOption('60');
    await shoot(a, 'profile-light-wide');
    assert.deepEqual(await violations(a), [], 'the profile dialog');
    await a.getByRole('button', { name: 'Save' }).click();
    await a.locator('.sidebar footer .status', { hasText: 'In a meeting' }).waitFor({ timeout: WAIT });
    const { members } = await api(t.bo, server.url, 'GET', `/workspaces/${t.workspace.id}/members`);
    assert.equal(members.find((/** @type {any} */ m) => m.username === 'ada').status_text, 'In a meeting');

    // The other main screens.
    await a.getByRole('button', { name: /People/ }).click();
    await a.getByRole('dialog', { name: 'People' }).waitFor({ timeout: WAIT });
    await shoot(a, 'people-light-wide');
    assert.deepEqual(await violations(a), [], 'the people list');
    const signedOut = await browser.newPage();
    await signedOut.goto(server.url);
    await signedOut.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: WAIT });
    assert.deepEqual(await violations(signedOut), [], 'the sign-in screen');
    const dark = await browser.newContext({ colorScheme: 'dark', viewport: { width: 1280, height: 800 } });
    await dark.addCookies(await t.bo.cookies());
    const b = await dark.newPage();
    await b.goto(`${server.url}/w/${t.workspace.id}/c/${t.general}`);
    await b.locator('.message .body', { hasText: 'ping @bo' }).waitFor({ timeout: WAIT });
    await shoot(b, 'channel-dark-wide');
    // Bo is online now: his dot in ada's people list says so.
    await a.locator('.people-list li', { hasText: '@bo' }).locator('.dot.online').waitFor({ timeout: WAIT });
    assert.deepEqual(await violations(b), [], 'a channel, dark');
  } finally {
    await browser.close();
    await server.stop();
  }
});
