// @ts-check
/**
 * Message search, as Bo uses it: the box opens by Ctrl+F and by `/` (the composer keeps its
 * own `/`), suggests operators, people and channels, completes by keyboard; results have
 * their matches marked (accents folded, CJK), never show a private channel Bo is not in, sort
 * and page; a result opens its message in context, highlighted, far back in its channel, and a
 * reply opens in its thread; recent searches survive a reload; the empty and error states;
 * axe on the open panel; screenshots light, dark and narrow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WAIT, api, axeViolations, launch, shoot, startServer, team } from './support.js';

/** Messages after the target in its channel: it is far from the newest page. */
const AFTER = 150;

test('search: suggestions, marked results, access, opening in context, paging, recent searches', async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const t = await team(browser, server.url);
    const ws = t.workspace.id;
    let n = 0;
    /**
     * Posts a message through the API.
     * @param {import('playwright-core').BrowserContext} who
     * @param {string} channel
     * @param {string} body
     * @param {string} [root]
     */
    const say = async (who, channel, body, root) =>
      (await api(who, server.url, 'POST', `/channels/${channel}/messages`, { client_msg_id: `m-${++n}`, body, thread_root_id: root })).message;
    const { channel: dev } = await api(t.ada, server.url, 'POST', `/workspaces/${ws}/channels`, { name: 'dev' });
    const { channel: secret } = await api(t.ada, server.url, 'POST', `/workspaces/${ws}/channels`, { name: 'secret', private: true });
    const { channel: random } = await api(t.ada, server.url, 'POST', `/workspaces/${ws}/channels`, { name: 'random' });
    await api(t.bo, server.url, 'POST', `/channels/${dev.id}/join`, undefined);
    const bo = (await api(t.bo, server.url, 'GET', '/me')).user;

    // Older messages before the one searched for: reading up from it loads them.
    for (let i = 1; i <= 60; i++) await say(t.ada, t.general, `earlier note ${i}`);
    const target = await say(t.ada, t.general, 'The billing deploy is done: the rollout finished without errors');
    for (let i = 1; i <= AFTER; i++) await say(t.ada, t.general, `status update ${i}`);
    const words = Array.from({ length: 90 }, (_, i) => `word${i}`);
    await say(t.ada, t.general, [...words.slice(0, 60), 'zebra', ...words.slice(60)].join(' '));
    const cafe = await say(t.ada, t.general, 'Lunch at the Café on the corner?');
    await say(t.ada, dev.id, '我家在上海东边');
    await say(t.ada, secret.id, 'the secret billing plan');
    const giraffe = await say(t.ada, random.id, 'a giraffe walked past the office');
    const root = await say(t.ada, dev.id, 'Who owns the launch checklist?');
    const reply = await say(t.bo, dev.id, 'I will own the launch checklist', root.id);
    const { channel: dm } = await api(t.ada, server.url, 'POST', `/workspaces/${ws}/dms`, { user_ids: [bo.id] });
    await say(t.ada, dm.id, 'can you review the deploy notes?');
    // Ada can find her private message: that Bo cannot is access, not a miss.
    const adaFinds = await api(t.ada, server.url, 'GET', `/search?workspace_id=${ws}&q=secret`);
    assert.equal(adaFinds.results.length, 1);

    const b = await t.bo.newPage();
    /** @type {string[]} */
    const problems = [];
    b.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) problems.push(m.text());
    });
    b.on('pageerror', (e) => problems.push(String(e)));
    await b.goto(`${server.url}/w/${ws}/c/${t.general}`);
    await b.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });
    await b.locator('.state.online').waitFor({ state: 'attached', timeout: WAIT });

    const box = b.getByRole('combobox', { name: 'Search messages' });
    const options = b.locator('#search-options [role=option]');
    const panel = b.getByRole('complementary', { name: 'Search results' });
    const results = panel.locator('.result');
    const count = panel.getByRole('status');
    /** Waits for focus on the element labelled `label`. @param {string} label */
    const focusIs = (label) =>
      b.waitForFunction((want) => document.activeElement?.getAttribute('aria-label') === want, label, { timeout: WAIT });
    /** Waits for the panel to show the answer to `q`, done loading. @param {string} q */
    const answered = async (q) => {
      await panel.locator('header .query', { hasText: q }).waitFor({ timeout: WAIT });
      await panel.locator('.result-list[aria-busy=false]').waitFor({ state: 'attached', timeout: WAIT });
    };
    /** Types a whole query into the box and searches; resolves once it is answered. @param {string} q */
    const searchFor = async (q) => {
      await box.click();
      await box.fill(q);
      await Promise.all([
        b.waitForResponse((r) => r.url().includes('/api/v1/search?'), { timeout: WAIT }),
        box.press('Enter'),
      ]);
      await answered(q);
    };

    // Ctrl+F opens the box, and with nothing typed yet it offers the operators.
    await focusIs('Message #general');
    await b.keyboard.press('Control+f');
    await focusIs('Search messages');
    await b.locator('.search-popup', { hasText: 'Narrow your search' }).waitFor({ timeout: WAIT });
    assert.equal(await box.getAttribute('aria-expanded'), 'true');
    assert.ok((await options.allInnerTexts()).some((o) => o.startsWith('has:file')));

    // `from:` suggests people (and from:me); a letter more narrows them, the first chosen.
    await b.keyboard.type('from:');
    await options.filter({ hasText: '@ada' }).waitFor({ timeout: WAIT });
    const people = await options.locator('.label').allInnerTexts();
    assert.deepEqual(people, ['from:me', '@ada', '@bo']);
    await b.keyboard.type('a');
    await b.waitForFunction(() => document.querySelectorAll('#search-options [role=option]').length === 1, undefined, { timeout: WAIT });
    const chosen = options.filter({ hasText: '@ada' });
    assert.equal(await chosen.getAttribute('aria-selected'), 'true');
    assert.equal(await box.getAttribute('aria-activedescendant'), await chosen.getAttribute('id'));
    await shoot(b, 'search-suggestions-light-wide');
    assert.deepEqual(await axeViolations(b), [], 'the search box with suggestions');
    await b.keyboard.press('Enter');
    assert.equal(await box.inputValue(), 'from:@ada ');
    await b.keyboard.type('deploy');
    await b.keyboard.press('Enter');
    await answered('from:@ada deploy');

    // Newest first: the DM, then the message in #general; "deploy" marked in both.
    assert.deepEqual(await results.locator('.body').allInnerTexts(), ['can you review the deploy notes?', target.body]);
    assert.deepEqual(await results.locator('mark').allInnerTexts(), ['deploy', 'deploy']);
    assert.equal(await count.innerText(), '2 results');
    assert.match(await results.first().locator('.where').innerText(), /Direct message with ada/);
    assert.equal(await results.nth(1).locator('.where').innerText(), '#general');
    assert.equal(await results.nth(1).locator('.author').innerText(), 'ada');

    // Esc gives focus back to where it was (the composer), and the composer keeps its `/`.
    await b.keyboard.press('Escape');
    await focusIs('Message #general');
    await b.keyboard.type('/');
    assert.equal(await b.getByLabel('Message #general').inputValue(), '/');
    assert.notEqual(await b.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Search messages');
    await b.getByLabel('Message #general').fill('');
    // Elsewhere, `/` opens the search.
    await b.locator('main ol.messages').focus();
    await b.keyboard.press('/');
    await focusIs('Search messages');

    // `in:#` suggests the channels Bo can see (#random, not joined, too; not #secret); ↓ and Tab take one.
    await b.keyboard.type('cafe in:#');
    await options.filter({ hasText: '#general' }).waitFor({ timeout: WAIT });
    assert.deepEqual(await options.locator('.label').allInnerTexts(), ['#dev', '#general', '#random']);
    assert.equal(await options.filter({ hasText: '#random' }).locator('.detail').innerText(), 'not joined');
    await b.keyboard.press('ArrowDown');
    assert.equal(await options.filter({ hasText: '#general' }).getAttribute('aria-selected'), 'true');
    await shoot(b, 'search-channels-light-wide');
    await b.keyboard.press('Tab');
    assert.equal(await box.inputValue(), 'cafe in:#general ');
    assert.equal(await box.getAttribute('aria-expanded'), 'false');
    await b.keyboard.press('Enter');
    await answered('cafe in:#general');
    // Accents fold: "cafe" finds and marks "Café".
    assert.deepEqual(await results.locator('.body').allInnerTexts(), [cafe.body]);
    assert.deepEqual(await results.locator('mark').allInnerTexts(), ['Café']);

    // `in:@` suggests people (the DMs with them).
    await box.click();
    await box.fill('');
    await b.keyboard.type('in:@');
    await options.filter({ hasText: '@bo' }).waitFor({ timeout: WAIT });
    assert.deepEqual(await options.locator('.label').allInnerTexts(), ['@ada', '@bo']);
    // A bare prefix suggests the operators, none chosen: Tab takes the first, Enter searches
    // the word as typed.
    await box.fill('');
    await b.keyboard.type('ha');
    await options.filter({ hasText: 'has:link' }).waitFor({ timeout: WAIT });
    assert.deepEqual(await options.locator('.label').allInnerTexts(), ['has:file', 'has:link', 'has:reaction']);
    assert.equal(await b.locator('#search-options [aria-selected=true]').count(), 0);
    await b.keyboard.press('Tab');
    assert.equal(await box.inputValue(), 'has:file ');
    await box.fill('');
    await b.keyboard.type('be');
    await options.filter({ hasText: 'before:' }).waitFor({ timeout: WAIT });
    await Promise.all([
      b.waitForResponse((r) => r.url().includes('/api/v1/search?') && r.url().includes('q=be&'), { timeout: WAIT }),
      b.keyboard.press('Enter'),
    ]);
    await answered('be');

    // CJK: a substring of a sentence written without spaces.
    await searchFor('上海');
    assert.deepEqual(await results.locator('.body').allInnerTexts(), ['我家在上海东边']);
    assert.deepEqual(await results.locator('mark').allInnerTexts(), ['上海']);
    assert.equal(await results.first().locator('.where').innerText(), '#dev');

    // A long message shows the part around its match, cut at words with "…", the match in view.
    await searchFor('zebra');
    const long = await results.first().locator('.body').innerText();
    assert.ok(long.startsWith('…word') && long.endsWith('…') && long.length < 320, long);
    assert.deepEqual(await results.first().locator('mark').allInnerTexts(), ['zebra']);
    const [markBox, bodyBox] = [await results.first().locator('mark').boundingBox(), await results.first().locator('.body').boundingBox()];
    assert.ok(markBox && bodyBox && markBox.y >= bodyBox.y && markBox.y + markBox.height <= bodyBox.y + bodyBox.height + 1, 'the match is not clamped away');
    await shoot(b, 'search-snippet-light-wide');

    // The private channel's message is not Bo's to find.
    await searchFor('secret');
    await panel.getByText('No results for “secret”').waitFor({ timeout: WAIT });
    await shoot(b, 'search-empty-light-wide');
    assert.equal(await results.count(), 0);
    await searchFor('billing');
    assert.deepEqual(await results.locator('.body').allInnerTexts(), [target.body]);
    assert.equal(await count.innerText(), '1 result');
    await shoot(b, 'search-results-light-wide');
    assert.deepEqual(await axeViolations(b), [], 'the open results panel');

    // A result opens its message in its channel: the page around it (150 messages back),
    // scrolled into view and highlighted as a permalink's message is.
    const newest = await b.locator('main li.message').last().locator('.body').innerText();
    assert.equal(newest, cafe.body);
    await results.first().locator('.result-link').click();
    await b.waitForURL(new RegExp(`/c/${t.general}/m/${target.seq}$`), { timeout: WAIT });
    const highlighted = b.locator('main li.message.highlight');
    await highlighted.waitFor({ timeout: WAIT });
    assert.equal(await highlighted.locator('.body').innerText(), target.body);
    await b.waitForFunction(() => {
      const el = document.querySelector('main li.message.highlight');
      const list = document.querySelector('main ol.messages');
      if (!el || !list) return false;
      const r = el.getBoundingClientRect();
      const l = list.getBoundingClientRect();
      return r.top >= l.top && r.bottom <= l.bottom && r.top >= 0 && r.bottom <= innerHeight;
    }, undefined, { timeout: WAIT });
    assert.equal(await b.locator('main li.message', { hasText: cafe.body }).count(), 0, 'the newest page gave way to the page around it');
    assert.ok(await panel.isVisible(), 'on a wide screen the results stay beside the channel');
    await shoot(b, 'search-opened-light-wide');
    // From there the reader reads up: the older page loads above and the view stays where
    // they scrolled, rather than being pulled back to the highlight.
    const list = b.locator('main ol.messages');
    const oldest = () => list.locator('li.message .body').first().innerText();
    const before = await oldest();
    const place = await list.evaluate((el) => {
      el.scrollTop = 0;
      return Math.round(/** @type {Element} */ (el.querySelector('li.message.highlight')).getBoundingClientRect().top);
    });
    await b.waitForFunction((was) => document.querySelector('main ol.messages li.message .body')?.textContent !== was, before, { timeout: WAIT });
    assert.notEqual(await oldest(), before, 'older messages loaded');
    const now = await highlighted.evaluate((el) => Math.round(el.getBoundingClientRect().top));
    // (Within a date divider's height: the page above may bring one.)
    assert.ok(Math.abs(now - place) < 60, `the reader keeps their place: the highlight was at ${place}, now ${now}`);

    // Sort and paging: 150 status updates, newest first, 20 a page; relevance asks the server so.
    await searchFor('status update');
    assert.equal(await count.innerText(), '150 results');
    assert.equal(await results.count(), 20);
    assert.equal(await results.first().locator('.body').innerText(), `status update ${AFTER}`);
    assert.equal(await panel.getByRole('button', { name: 'Most recent' }).getAttribute('aria-pressed'), 'true');
    const [asked] = await Promise.all([
      b.waitForRequest((r) => r.url().includes('/api/v1/search?') && r.url().includes('sort=relevance'), { timeout: WAIT }),
      panel.getByRole('button', { name: 'Most relevant' }).click(),
    ]);
    assert.ok(asked);
    assert.equal(await panel.getByRole('button', { name: 'Most relevant' }).getAttribute('aria-pressed'), 'true');
    await panel.locator('.result-list[aria-busy=false]').waitFor({ state: 'attached', timeout: WAIT });
    await b.waitForFunction(() => document.querySelectorAll('.search-panel .result').length === 20, undefined, { timeout: WAIT });
    await panel.getByRole('button', { name: 'Most recent' }).click();
    await panel.locator('.result-list[aria-busy=false]').waitFor({ state: 'attached', timeout: WAIT });
    // Scrolling to the end reads the next page; so does "Load more".
    await panel.locator('.panel-body').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await b.waitForFunction(() => document.querySelectorAll('.search-panel .result').length === 40, undefined, { timeout: WAIT });
    await panel.locator('.result-list[aria-busy=false]').waitFor({ state: 'attached', timeout: WAIT });
    await panel.getByRole('button', { name: 'Load more' }).click();
    await b.waitForFunction(() => document.querySelectorAll('.search-panel .result').length >= 60, undefined, { timeout: WAIT });
    // The list is still scrolled to its end, so a further page may already be on its way:
    // whatever is shown must be the newest ones in order, with no gap and no repeat.
    const shown = await results.locator('.body').allInnerTexts();
    assert.ok(shown.length >= 60, `at least three pages: ${shown.length}`);
    assert.deepEqual(shown, Array.from({ length: shown.length }, (_, i) => `status update ${AFTER - i}`), 'pages follow on, no gap, no repeat');
    // ↑/↓ move between results; Enter on one opens it.
    await results.nth(57).locator('.result-link').focus();
    await b.keyboard.press('ArrowDown');
    await b.keyboard.press('ArrowDown');
    await b.keyboard.press('ArrowUp');
    assert.equal(await b.evaluate(() => document.activeElement?.closest('.result')?.querySelector('.body')?.textContent), `status update ${AFTER - 58}`);
    await b.keyboard.press('Enter');
    await b.locator('main li.message.highlight', { hasText: `status update ${AFTER - 58}` }).waitFor({ timeout: WAIT });
    await b.waitForFunction(() => {
      const r = document.querySelector('main li.message.highlight')?.getBoundingClientRect();
      return r !== undefined && r.top >= 0 && r.bottom <= innerHeight;
    }, undefined, { timeout: WAIT });

    // A reply opens at its root in the channel, with the thread beside it, the reply highlighted.
    await searchFor('checklist from:@bo');
    assert.deepEqual(await results.locator('.body').allInnerTexts(), [reply.body]);
    assert.equal(await results.first().locator('.where').innerText(), '#dev · thread');
    await results.first().locator('.result-link').click();
    const thread = b.getByRole('complementary', { name: 'Thread' });
    await thread.locator('li.message.highlight', { hasText: reply.body }).waitFor({ timeout: WAIT });
    await b.locator('main li.message.highlight', { hasText: root.body }).waitFor({ timeout: WAIT });
    await b.getByRole('heading', { name: '#dev' }).waitFor({ timeout: WAIT });
    assert.equal(await panel.count(), 0, 'the thread takes the panel’s place');
    await shoot(b, 'search-thread-light-wide');
    await b.getByRole('button', { name: 'Close thread' }).click();
    await panel.waitFor({ timeout: WAIT });

    // Recent searches: the last first, each once (whatever its case), shown in the empty box.
    await searchFor('Billing');
    await box.click();
    await box.fill('');
    await b.locator('.search-popup', { hasText: 'Recent searches' }).waitFor({ timeout: WAIT });
    const recent = ['Billing', 'checklist from:@bo', 'status update', 'secret', 'zebra', '上海', 'be', 'cafe in:#general', 'from:@ada deploy'];
    assert.deepEqual(await options.allInnerTexts(), recent);
    await shoot(b, 'search-recent-light-wide');
    // After a reload too; ↓ and Enter search one again.
    await b.reload();
    await b.getByRole('heading', { name: '#dev' }).waitFor({ timeout: WAIT });
    await b.keyboard.press('Control+f');
    await focusIs('Search messages');
    await b.locator('.search-popup', { hasText: 'Recent searches' }).waitFor({ timeout: WAIT });
    assert.deepEqual(await options.allInnerTexts(), recent);
    await b.keyboard.press('ArrowDown');
    await b.keyboard.press('ArrowDown');
    await b.keyboard.press('Enter');
    await answered('checklist from:@bo');
    assert.equal(await box.inputValue(), 'checklist from:@bo');
    // At most ten are kept.
    for (const q of ['one', 'two', 'three']) await searchFor(q);
    await box.click();
    await box.fill('');
    await b.locator('.search-popup', { hasText: 'Recent searches' }).waitFor({ timeout: WAIT });
    assert.deepEqual(await options.allInnerTexts(), ['three', 'two', 'one', 'checklist from:@bo', 'Billing', 'status update', 'secret', 'zebra', '上海', 'be']);
    await b.getByRole('button', { name: 'Clear recent searches' }).click();
    await b.locator('.search-popup', { hasText: 'Narrow your search' }).waitFor({ timeout: WAIT });
    await focusIs('Search messages');
    await b.reload();
    await b.getByRole('heading', { name: '#dev' }).waitFor({ timeout: WAIT });
    await box.click();
    await b.locator('.search-popup', { hasText: 'Narrow your search' }).waitFor({ timeout: WAIT });
    await b.keyboard.press('Escape');

    // A public channel Bo has not joined is searched too, and opens at the message.
    await searchFor('giraffe');
    assert.equal(await results.first().locator('.where').innerText(), '#random');
    await results.first().locator('.result-link').click();
    await b.getByRole('heading', { name: '#random' }).waitFor({ timeout: WAIT });
    await b.locator('main li.message.highlight', { hasText: giraffe.body }).waitFor({ timeout: WAIT });

    // The error states: rate limited (with the server's Retry-After), then 1000+ results.
    const isSearch = (/** @type {URL} */ u) => u.pathname === '/api/v1/search';
    await b.route(isSearch, (route) => route.fulfill({
      status: 429, headers: { 'content-type': 'application/json', 'retry-after': '7' },
      body: JSON.stringify({ error: { code: 'rate_limited', message: 'too many requests' } }),
    }));
    await searchFor('deploy');
    await panel.getByRole('alert').filter({ hasText: 'Too many searches at once: try again in 7 seconds.' }).waitFor({ timeout: WAIT });
    await shoot(b, 'search-error-light-wide');
    await b.unroute(isSearch);
    await b.route(isSearch, (route) => route.fulfill({
      status: 200, headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ results: [{ message: target, channel_id: t.general, highlights: [{ start: 4, end: 11 }] }], total_estimate: 1000, next_cursor: 'x' }),
    }));
    await panel.getByRole('button', { name: 'Try again' }).click();
    await count.filter({ hasText: '1000+ results' }).waitFor({ timeout: WAIT });
    assert.deepEqual(await results.locator('mark').allInnerTexts(), ['billing']);
    await b.unroute(isSearch);

    // Dark, and narrow: the panel takes the screen; a result opens the channel in its place.
    const dark = await browser.newContext({ colorScheme: 'dark', viewport: { width: 1280, height: 800 } });
    await dark.addCookies(await t.bo.cookies());
    const d = await dark.newPage();
    d.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) problems.push(m.text());
    });
    d.on('pageerror', (e) => problems.push(String(e)));
    await d.goto(`${server.url}/w/${ws}/c/${t.general}`);
    await d.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });
    const darkBox = d.getByRole('combobox', { name: 'Search messages' });
    await darkBox.click();
    await darkBox.fill('from:');
    await d.locator('#search-options [role=option]', { hasText: '@bo' }).waitFor({ timeout: WAIT });
    await shoot(d, 'search-suggestions-dark-wide');
    await darkBox.fill('deploy');
    await darkBox.press('Enter');
    const darkPanel = d.getByRole('complementary', { name: 'Search results' });
    await darkPanel.locator('.result-list[aria-busy=false]').waitFor({ state: 'attached', timeout: WAIT });
    await darkPanel.locator('.result', { hasText: target.body }).waitFor({ timeout: WAIT });
    await shoot(d, 'search-results-dark-wide');
    assert.deepEqual(await axeViolations(d), [], 'the results panel, dark');

    // Between the two: the sidebar stays, the panel takes the channel's place.
    await b.setViewportSize({ width: 800, height: 800 });
    await searchFor('deploy');
    await shoot(b, 'search-results-light-medium');
    await d.setViewportSize({ width: 390, height: 844 });
    await b.setViewportSize({ width: 390, height: 844 });
    await shoot(d, 'search-results-dark-narrow');
    await shoot(b, 'search-results-light-narrow');
    assert.deepEqual(await axeViolations(b), [], 'the results panel, narrow');
    await box.click();
    await box.fill('in:');
    await options.filter({ hasText: '#general' }).waitFor({ timeout: WAIT });
    await shoot(b, 'search-suggestions-light-narrow');
    await b.keyboard.press('Escape');
    await results.filter({ hasText: target.body }).locator('.result-link').click();
    await b.locator('main li.message.highlight', { hasText: target.body }).waitFor({ timeout: WAIT });
    assert.equal(await panel.count(), 0, 'on a narrow screen the channel takes the panel’s place');
    assert.ok(await b.locator('main li.message.highlight').evaluate((el) => {
      const r = el.getBoundingClientRect();
      return r.top >= 0 && r.bottom <= innerHeight;
    }), 'the message is in view');
    await shoot(b, 'search-opened-light-narrow');

    assert.deepEqual(problems, [], 'no CSP violation, no page error');
  } finally {
    await browser.close();
    await server.stop();
  }
});
