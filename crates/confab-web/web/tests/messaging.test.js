// @ts-check
/** Two people in two browsers: a workspace, an invite, and messages both ways, live. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WAIT, launch, register, shoot, startServer } from './support.js';

test('two users exchange messages live, and the screens are saved light and dark, wide and narrow', async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const ada = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const bo = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
    const a = await ada.newPage();
    const b = await bo.newPage();
    /** @type {string[]} */
    const violations = [];
    for (const page of [a, b]) {
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
      });
      page.on('pageerror', (e) => violations.push(String(e)));
    }

    await register(a, server.url, 'ada');
    await a.getByRole('heading', { name: 'Create a workspace' }).waitFor({ timeout: WAIT });
    await a.getByLabel('Name', { exact: true }).fill('Acme');
    await a.getByRole('button', { name: 'Create', exact: true }).click();
    await a.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });

    // Ada invites bo with a link; bo opens it signed out, registers, and lands in Acme.
    await a.getByRole('button', { name: 'Invite people' }).click();
    const linkBox = a.getByLabel('Invite link');
    await a.waitForFunction(() => {
      const input = /** @type {HTMLInputElement | null} */ (document.querySelector('[aria-label="Invite link"]'));
      return input !== null && input.value.includes('/invite/');
    }, undefined, { timeout: WAIT });
    const link = await linkBox.inputValue();
    await shoot(a, 'invite-light-wide');
    await a.getByRole('button', { name: 'Done' }).click();
    await b.goto(link);
    await b.getByRole('button', { name: 'New here? Create an account' }).click();
    await b.getByLabel('Username').fill('bo');
    await b.getByLabel('Password').fill('correct horse');
    await b.getByRole('button', { name: 'Create account' }).click();
    await b.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });

    // Typing shows on the other side, and goes once the typist stops.
    await a.getByLabel('Message #general').pressSequentially('hel');
    await b.locator('.typing', { hasText: 'ada is typing…' }).waitFor({ timeout: WAIT });
    await a.getByLabel('Message #general').fill('');

    // Each sees the other's message live.
    const composerA = a.getByLabel('Message #general');
    await composerA.fill('hello from ada');
    await composerA.press('Enter');
    await b.locator('.message .body', { hasText: 'hello from ada' }).waitFor({ timeout: WAIT });
    const composerB = b.getByLabel('Message #general');
    await composerB.fill('hi ada, bo here\nsecond line');
    await composerB.press('Enter');
    await a.locator('.message .body', { hasText: 'bo here' }).waitFor({ timeout: WAIT });
    // Acknowledged sends are shown once, not also as pending.
    await a.locator('.message.pending').waitFor({ state: 'detached', timeout: WAIT });
    assert.equal(await a.locator('.message .body', { hasText: 'hello from ada' }).count(), 1);
    assert.equal(await b.locator('.message .body', { hasText: 'hello from ada' }).count(), 1);
    await shoot(a, 'conversation-light-wide');

    // Bo reacts to ada's message; ada sees it, adds hers, and the count is two on both sides.
    const adasOnB = b.locator('.message', { hasText: 'hello from ada' });
    await adasOnB.hover();
    await adasOnB.getByRole('button', { name: 'React with 👍' }).click();
    const thumbsOnA = a.locator('.message', { hasText: 'hello from ada' }).locator('.reaction', { hasText: '👍' });
    await thumbsOnA.waitFor({ timeout: WAIT });
    assert.match(await thumbsOnA.getAttribute('title') ?? '', /bo/);
    await thumbsOnA.click();
    await b.locator('.message', { hasText: 'hello from ada' }).locator('.reaction .count', { hasText: '2' }).waitFor({ timeout: WAIT });
    await shoot(b, 'reactions-dark-wide');

    // Bo replies in a thread; ada sees the reply count under her message, opens the thread,
    // and reads the reply.
    await adasOnB.hover();
    await adasOnB.getByRole('button', { name: 'Reply in thread' }).click();
    const replyBox = b.getByLabel('Thread reply');
    await replyBox.fill('a reply in the thread');
    await replyBox.press('Enter');
    await b.locator('.thread .message .body', { hasText: 'a reply in the thread' }).waitFor({ timeout: WAIT });
    const count = a.locator('.message', { hasText: 'hello from ada' }).getByRole('button', { name: '1 reply' });
    await count.waitFor({ timeout: WAIT });
    assert.equal(await a.locator('.channel .message .body', { hasText: 'a reply in the thread' }).count(), 0,
      'a reply lives in its thread, not the channel');
    await count.click();
    await a.locator('.thread .message .body', { hasText: 'a reply in the thread' }).waitFor({ timeout: WAIT });
    await shoot(a, 'thread-light-wide');
    await a.getByRole('button', { name: 'Close thread' }).click();
    await b.getByRole('button', { name: 'Close thread' }).click();

    // Ada edits her message (↑ in the empty composer, then Enter) and bo sees it edited; then
    // she deletes it and bo sees the tombstone.
    await composerA.press('ArrowUp');
    const edit = a.getByLabel('Edit the message');
    await edit.waitFor({ timeout: WAIT });
    await edit.fill('hello from ada, edited');
    await edit.press('Enter');
    const edited = b.locator('.message', { hasText: 'hello from ada, edited' });
    await edited.locator('.edited').waitFor({ timeout: WAIT });
    a.once('dialog', (d) => d.accept());
    await a.locator('.message', { hasText: 'hello from ada, edited' }).hover();
    await a.locator('.message', { hasText: 'hello from ada, edited' }).getByRole('button', { name: 'Delete message' }).click();
    await b.locator('.message.deleted', { hasText: 'This message was deleted' }).waitFor({ timeout: WAIT });
    assert.equal(await b.locator('.message', { hasText: 'hello from ada' }).count(), 0, 'the words are gone');
    await b.locator('.day', { hasText: 'Today' }).first().waitFor({ timeout: WAIT });

    // Formatting, as Slack users write it.
    await composerA.fill('*plan* for _today_: `ship it`, see https://example.com/plan');
    await composerA.press('Enter');
    const formatted = b.locator('.message .body', { hasText: 'for' }).last();
    await formatted.locator('strong', { hasText: 'plan' }).waitFor({ timeout: WAIT });
    assert.equal(await formatted.locator('a').getAttribute('rel'), 'noopener noreferrer');
    assert.equal(await formatted.locator('code').innerText(), 'ship it');

    // A new channel, from the sidebar.
    await a.getByLabel('New channel name').fill('plans');
    await a.getByRole('button', { name: 'Create', exact: true }).click();
    await a.getByRole('heading', { name: '#plans' }).waitFor({ timeout: WAIT });
    await a.getByRole('link', { name: '#general' }).click();
    await a.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });

    // Bo starts a DM with ada; it appears, unread, in her sidebar, named for him.
    await b.getByRole('button', { name: 'New direct message' }).click();
    await b.getByLabel('ada', { exact: true }).check();
    await b.getByRole('button', { name: 'Go' }).click();
    await b.getByRole('heading', { name: 'ada', exact: true }).waitFor({ timeout: WAIT });
    const dmBox = b.getByLabel('Message ada', { exact: true });
    await dmBox.fill('psst');
    await dmBox.press('Enter');
    const dmLink = a.getByRole('list', { name: 'Direct messages' }).getByRole('link', { name: 'bo' });
    await dmLink.waitFor({ timeout: WAIT });
    await a.locator('a.unread', { hasText: 'bo' }).waitFor({ timeout: WAIT });
    await dmLink.click();
    await a.locator('.message .body', { hasText: 'psst' }).waitFor({ timeout: WAIT });
    await shoot(a, 'dm-light-wide');
    await a.getByRole('list', { name: 'Channels' }).getByRole('link', { name: '#general' }).click();
    await a.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });

    // #plans came both in the create's answer and as the socket's channel.added (which has
    // arrived by now, the DM's frames after it): it is listed once.
    assert.equal(await a.getByRole('list', { name: 'Channels' }).getByRole('link', { name: '#plans' }).count(), 1);
    await shoot(a, 'channel-light-wide');
    await shoot(b, 'channel-dark-wide');
    await a.setViewportSize({ width: 390, height: 844 });
    await b.setViewportSize({ width: 390, height: 844 });
    await shoot(a, 'channel-light-narrow');
    await shoot(b, 'channel-dark-narrow');
    await a.getByRole('button', { name: 'Open the channel list' }).click();
    await a.getByRole('link', { name: 'bo' }).waitFor({ timeout: WAIT });
    await shoot(a, 'drawer-light-narrow');
    await a.getByRole('link', { name: 'bo' }).click();
    await a.getByRole('heading', { name: 'bo', exact: true }).waitFor({ timeout: WAIT });
    const signedOut = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const c = await signedOut.newPage();
    await c.goto(server.url);
    await c.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: WAIT });
    await shoot(c, 'sign-in-light-wide');

    assert.deepEqual(violations, [], 'no CSP violation, no page error');
  } finally {
    await browser.close();
    await server.stop();
  }
});
