// @ts-check
/**
 * Notifications. The settings page saves every change through the server and shows what it
 * saved after a reload; a channel's bell menu; Follow / Unfollow in a thread; the sidebar's
 * bell-slash while snoozed; permission to notify is asked only from the button, never on
 * load. And a push, end to end: the page subscribes this browser and registers it, a mention
 * of a user whose tab is hidden reaches a local push endpoint encrypted (RFC 8291), the test
 * decrypts it and hands it to the service worker, which shows it; reading the channel on
 * another device sends a push that withdraws it; a click on a direct message's opens it in
 * the tab. Without a subscription, a hidden tab shows the notification itself; a visible one
 * never alerts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, randomUUID, verify } from 'node:crypto';
import { createServer } from 'node:http';
import { WAIT, api, axeViolations, launch, shoot, startServer, team } from './support.js';

/** The server's notification flags: pushes soon after a message, to a plain-HTTP endpoint on loopback. */
const PUSH_FLAGS = ['--notify-push-delay-ms', '300', '--notify-email-delay-ms', '300', '--notify-push-allow-insecure', 'true'];

/**
 * Counts `Notification.requestPermission` calls in every page of a context (`window.asked`),
 * still asking the browser.
 * @param {import('playwright-core').BrowserContext} context
 */
async function countPermissionRequests(context) {
  await context.addInitScript(() => {
    const w = /** @type {any} */ (window);
    w.asked = 0;
    if (typeof Notification === 'undefined') return;
    const ask = Notification.requestPermission.bind(Notification);
    Notification.requestPermission = (/** @type {any} */ ...args) => {
      w.asked += 1;
      return ask(...args);
    };
  });
}

const asked = (/** @type {import('playwright-core').Page} */ page) => page.evaluate(() => /** @type {any} */ (window).asked);

/**
 * The preferences as the server has them.
 * @param {import('playwright-core').BrowserContext} context
 * @param {string} url
 */
const preferences = async (context, url) => (await api(context, url, 'GET', '/me/notification-preferences'));

/**
 * Sends a message over HTTP as the context's user; the message.
 * @param {import('playwright-core').BrowserContext} context
 * @param {string} url
 * @param {string} channel
 * @param {string} body
 * @param {string} [root] the thread's root, for a reply
 */
async function say(context, url, channel, body, root) {
  const sent = { client_msg_id: randomUUID(), body, ...(root ? { thread_root_id: root } : {}) };
  return (await api(context, url, 'POST', `/channels/${channel}/messages`, sent)).message;
}

/**
 * Waits until `check` holds, asking again every 100 ms, for at most `WAIT`.
 * @template T
 * @param {() => Promise<T>} read
 * @param {(value: T) => boolean} check
 * @param {string} what
 * @returns {Promise<T>}
 */
async function until(read, check, what) {
  const end = Date.now() + WAIT;
  let last;
  for (;;) {
    last = await read();
    if (check(last)) return last;
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(last)}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

/**
 * Makes a page's tab visible again, undoing `hide`.
 * @param {import('playwright-core').Page} page
 */
async function unhide(page) {
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
    document.hasFocus = () => true;
    document.dispatchEvent(new Event('visibilitychange'));
  });
}

/**
 * Makes a page's tab look hidden, as when another tab is in front: headless Chromium shows
 * every page, so `visibilityState`, `hidden` and `hasFocus()` say so by hand, and the
 * `visibilitychange` the page listens for is sent (its socket then says it is idle).
 * @param {import('playwright-core').Page} page
 */
async function hide(page) {
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    document.hasFocus = () => false;
    document.dispatchEvent(new Event('visibilitychange'));
  });
}

test('the settings page, the channel menu and Follow save through the server; permission is asked only from the button', async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const t = await team(browser, server.url, { timezoneId: 'Europe/Berlin' });
    await countPermissionRequests(t.ada);
    const a = await t.ada.newPage();
    await a.goto(`${server.url}/w/${t.workspace.id}/c/${t.general}`);
    await a.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });
    await a.locator('.state.online').waitFor({ state: 'attached', timeout: WAIT });
    // Signed in, the service worker is registered at the root (its scope is the whole site).
    const worker = await a.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      return { scope: reg.scope, script: reg.active?.scriptURL };
    });
    assert.deepEqual(worker, { scope: `${server.url}/`, script: `${server.url}/sw.js` });

    // From the sidebar's footer to the page.
    await a.getByRole('link', { name: 'Notifications', exact: true }).click();
    await a.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor({ timeout: WAIT });
    assert.equal(new URL(a.url()).pathname, '/settings/notifications');
    await a.getByRole('radio', { name: /Workspace default \(mentions in Acme\)/ }).waitFor({ timeout: WAIT });
    assert.equal(await a.getByRole('radio', { name: /Workspace default/ }).isChecked(), true, 'the default level at first');
    assert.equal(await asked(a), 0, 'nothing asked to notify on load');
    await shoot(a, 'notify-settings-light-wide', { fullPage: true });
    assert.deepEqual(await axeViolations(a), [], 'the settings page');
    const saved = () => a.locator('.settings .saved', { hasText: 'Saved' }).waitFor({ timeout: WAIT });

    // Each change is saved as it is made.
    await a.getByRole('radio', { name: 'All new messages' }).check();
    await saved();
    await until(() => preferences(t.ada, server.url), (p) => p.preferences.level === 'all', 'level');
    await a.getByRole('checkbox', { name: 'Send push notifications to my devices' }).uncheck();
    await until(() => preferences(t.ada, server.url), (p) => p.preferences.push === false, 'push');
    await a.getByLabel('At most one email every').selectOption('60');
    await until(() => preferences(t.ada, server.url), (p) => p.preferences.email_interval_minutes === 60, 'email interval');
    // The time zone offered is the browser's own (the context's: Berlin), saved with the hours.
    assert.equal(await a.getByLabel('Time zone').inputValue(), 'Europe/Berlin');
    await a.getByRole('checkbox', { name: 'Pause notifications every day' }).check();
    await until(() => preferences(t.ada, server.url),
      (p) => p.preferences.dnd?.start === '22:00' && p.preferences.dnd?.end === '08:00' && p.preferences.time_zone === 'Europe/Berlin', 'dnd');
    await a.getByLabel('From').fill('21:30');
    await until(() => preferences(t.ada, server.url), (p) => p.preferences.dnd?.start === '21:30', 'dnd start');
    await a.getByLabel('Time zone').selectOption('America/New_York');
    await until(() => preferences(t.ada, server.url), (p) => p.preferences.time_zone === 'America/New_York', 'time zone');

    // The button asks, once, and only when clicked; headless Chromium without a grant says no.
    await a.getByRole('button', { name: 'Enable desktop notifications' }).click();
    await until(() => asked(a), (n) => n === 1, 'permission asked');

    // Snooze for an hour: said on the page, and by a bell-slash in the sidebar.
    const before = Date.now();
    await a.getByRole('button', { name: 'Pause notifications for 1 hour' }).click();
    await a.getByText(/Notifications are paused until/).waitFor({ timeout: WAIT });
    const snoozed = await preferences(t.ada, server.url);
    const until1h = Date.parse(snoozed.preferences.snooze_until);
    assert.ok(until1h >= before + 59 * 60_000 && until1h <= Date.now() + 61 * 60_000, `snoozed for an hour: ${snoozed.preferences.snooze_until}`);

    // The workspace default, which ada may set as its owner.
    await a.getByLabel('Acme', { exact: true }).selectOption('none');
    await until(() => preferences(t.ada, server.url),
      (p) => p.defaults.some((/** @type {any} */ d) => d.workspace_id === t.workspace.id && d.level === 'none'), 'workspace default');

    // A reload shows what the server holds.
    await a.reload();
    await a.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor({ timeout: WAIT });
    await a.getByRole('button', { name: 'Resume notifications' }).waitFor({ timeout: WAIT });
    assert.equal(await a.getByRole('radio', { name: 'All new messages' }).isChecked(), true);
    assert.equal(await a.getByRole('checkbox', { name: 'Send push notifications to my devices' }).isChecked(), false);
    assert.equal(await a.getByLabel('At most one email every').inputValue(), '60');
    assert.equal(await a.getByRole('checkbox', { name: 'Pause notifications every day' }).isChecked(), true);
    assert.equal(await a.getByLabel('From').inputValue(), '21:30');
    assert.equal(await a.getByLabel('to', { exact: true }).inputValue(), '08:00');
    assert.equal(await a.getByLabel('Time zone').inputValue(), 'America/New_York');
    assert.equal(await a.getByLabel('Acme', { exact: true }).inputValue(), 'none');
    assert.equal(await asked(a), 0, 'a reload asks nothing');

    // Back in the workspace: the bell-slash says it is snoozed.
    await a.getByRole('link', { name: /Back to Acme/ }).click();
    await a.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });
    await a.getByRole('link', { name: /Notifications snoozed until/ }).waitFor({ timeout: WAIT });
    await shoot(a, 'notify-snoozed-light-wide');
    await a.getByRole('link', { name: /Notifications snoozed until/ }).click();
    await a.getByRole('button', { name: 'Resume notifications' }).click();
    await until(() => preferences(t.ada, server.url), (p) => p.preferences.snooze_until === null, 'resumed');
    await a.getByRole('group', { name: 'Pause notifications for' }).waitFor({ timeout: WAIT });
    await a.getByRole('link', { name: /Back to Acme/ }).click();

    // The channel's bell: its level, mute and @channel, each saved.
    const bell = a.getByRole('button', { name: 'Notifications for #general' });
    await bell.click();
    const menu = a.getByRole('dialog', { name: 'Notifications for #general' });
    await menu.waitFor({ timeout: WAIT });
    assert.equal(await menu.getByRole('radio', { name: /Default/ }).isChecked(), true);
    await menu.getByRole('radio', { name: /^Mentions/ }).check();
    await until(() => api(t.ada, server.url, 'GET', `/channels/${t.general}/notification-preferences`), (c) => c.level === 'mentions', 'channel level');
    await menu.getByRole('checkbox', { name: 'Ignore @channel, @everyone and @here' }).check();
    await until(() => api(t.ada, server.url, 'GET', `/channels/${t.general}/notification-preferences`), (c) => c.ignore_channel_mentions === true, 'ignore @channel');
    await shoot(a, 'notify-channel-menu-light-wide');
    assert.deepEqual(await axeViolations(a), [], 'the channel menu');
    await menu.getByRole('checkbox', { name: 'Mute channel' }).check();
    await until(() => api(t.ada, server.url, 'GET', `/channels/${t.general}/notification-preferences`), (c) => c.muted === true, 'muted');
    await a.locator('.sidebar a.muted', { hasText: '#general' }).waitFor({ timeout: WAIT });
    // Esc closes it, focus back on the bell.
    await a.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached', timeout: WAIT });
    assert.equal(await a.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Notifications for #general');
    await bell.click();
    await menu.getByRole('checkbox', { name: 'Mute channel' }).uncheck();
    await until(() => api(t.ada, server.url, 'GET', `/channels/${t.general}/notification-preferences`), (c) => c.muted === false, 'unmuted');
    await a.keyboard.press('Escape');

    // A thread: its starter follows it; Unfollow and Follow say so to the server.
    const root = await say(t.bo, server.url, t.general, 'lunch plans?');
    await say(t.ada, server.url, t.general, 'tacos', root.id);
    await a.locator('main .replies', { hasText: '1 reply' }).click();
    const thread = a.locator('aside.thread');
    await thread.getByRole('button', { name: 'Unfollow', exact: true }).waitFor({ timeout: WAIT });
    const following = async () => (await api(t.ada, server.url, 'GET', `/messages/${root.id}/thread`)).following;
    assert.equal(await following(), true, 'a reply follows the thread');
    await thread.getByRole('button', { name: 'Unfollow', exact: true }).click();
    await thread.getByRole('button', { name: 'Follow', exact: true }).waitFor({ timeout: WAIT });
    assert.equal(await following(), false);
    await shoot(a, 'notify-thread-light-wide');
    await thread.getByRole('button', { name: 'Follow', exact: true }).click();
    await thread.getByRole('button', { name: 'Unfollow', exact: true }).waitFor({ timeout: WAIT });
    assert.equal(await following(), true);

    // Dark and narrow, for the screenshots and axe.
    for (const [scheme, width] of /** @type {const} */ ([['dark', 1280], ['light', 390], ['dark', 390]])) {
      const other = await browser.newContext({ colorScheme: scheme, viewport: { width, height: 800 }, timezoneId: 'Europe/Berlin' });
      await other.addCookies(await t.ada.cookies());
      const p = await other.newPage();
      const layout = `${scheme}-${width < 640 ? 'narrow' : 'wide'}`;
      await p.goto(`${server.url}/settings/notifications`);
      await p.getByRole('radio', { name: 'All new messages' }).waitFor({ timeout: WAIT });
      await shoot(p, `notify-settings-${layout}`, { fullPage: true });
      assert.deepEqual(await axeViolations(p), [], `the settings page, ${layout}`);
      await p.goto(`${server.url}/w/${t.workspace.id}/c/${t.general}`);
      await p.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });
      await p.getByRole('button', { name: 'Notifications for #general' }).click();
      await p.getByRole('dialog', { name: 'Notifications for #general' }).waitFor({ timeout: WAIT });
      await shoot(p, `notify-channel-menu-${layout}`);
      assert.deepEqual(await axeViolations(p), [], `the channel menu, ${layout}`);
      await other.close();
    }
  } finally {
    await browser.close();
    await server.stop();
  }
});

// ---- Web Push, end to end ----------------------------------------------------------------

/** @param {Buffer | Uint8Array} bytes */
const b64url = (bytes) => Buffer.from(bytes).toString('base64url');

/**
 * Decrypts a Web Push message body (RFC 8291 over RFC 8188's `aes128gcm`), as a browser's
 * push service client would: the header names the server's one-time key (`keyid`), ECDH with
 * the subscription's key and HKDF with its auth secret give the input key, HKDF with the salt
 * the content key and nonce; each record is AES-128-GCM with the delimiter (2 for the last
 * record, 1 before) and zero padding after its data.
 * @param {Buffer} body
 * @param {import('node:crypto').ECDH} ua the subscription's key pair
 * @param {Buffer} authSecret
 */
function decrypt(body, ua, authSecret) {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20];
  const asPublic = body.subarray(21, 21 + idlen);
  assert.equal(idlen, 65, 'keyid: the server key, an uncompressed P-256 point');
  const records = body.subarray(21 + idlen);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), ua.getPublicKey(), asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', ua.computeSecret(asPublic), authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  /** @type {Buffer[]} */
  const plain = [];
  for (let seq = 0, at = 0; at < records.length; seq += 1, at += rs) {
    const record = records.subarray(at, Math.min(at + rs, records.length));
    const iv = Buffer.from(nonce);
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ seq) >>> 0, 8);
    const decipher = createDecipheriv('aes-128-gcm', cek, iv);
    decipher.setAuthTag(record.subarray(record.length - 16));
    const data = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
    let end = data.length - 1;
    while (end >= 0 && data[end] === 0) end -= 1;
    assert.equal(data[end], at + rs >= records.length ? 2 : 1, 'the padding delimiter');
    plain.push(data.subarray(0, end));
  }
  return Buffer.concat(plain).toString('utf8');
}

/**
 * Checks a push's VAPID authorisation (RFC 8292): `vapid t=<JWT>, k=<key>`, the key the
 * server publishes, the token ES256-signed by it for the endpoint's origin, not expired.
 * @param {string | undefined} header
 * @param {string} vapidKey
 * @param {string} audience
 */
function checkVapid(header, vapidKey, audience) {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  assert.ok(m, `Authorization: ${header}`);
  assert.equal(m[2], vapidKey, 'k is the published key');
  const [head, claims, signature] = m[1].split('.');
  const point = Buffer.from(vapidKey, 'base64url');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33, 65)) }, format: 'jwk' });
  const signed = verify('sha256', Buffer.from(`${head}.${claims}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
  assert.ok(signed, 'the token is signed with the published key');
  const said = JSON.parse(Buffer.from(claims, 'base64url').toString());
  assert.equal(said.aud, audience);
  assert.ok(said.exp * 1000 > Date.now() && said.exp * 1000 <= Date.now() + 24 * 3600_000 + 60_000, `exp: ${said.exp}`);
}

/**
 * A push service on loopback: it takes each POST and keeps it for `next`.
 */
async function pushService() {
  /** @type {{path: string, headers: import('node:http').IncomingHttpHeaders, body: Buffer}[]} */
  const received = [];
  /** @type {(() => void)[]} */
  const waiting = [];
  const http = createServer((req, res) => {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(201).end();
      for (const wake of waiting.splice(0)) wake();
    });
  });
  await new Promise((ok) => http.listen(0, '127.0.0.1', () => ok(undefined)));
  const address = /** @type {import('node:net').AddressInfo} */ (http.address());
  let taken = 0;
  return {
    origin: `http://127.0.0.1:${address.port}`,
    /** The next push not taken yet, within `WAIT`. */
    async next() {
      const end = Date.now() + WAIT;
      while (received.length <= taken) {
        if (Date.now() > end) throw new Error(`no push within ${WAIT} ms`);
        await new Promise((ok) => {
          waiting.push(() => ok(undefined));
          setTimeout(ok, 200);
        });
      }
      return received[taken++];
    },
    /** Pushes received so far. */
    count: () => received.length,
    close: () => new Promise((ok) => http.close(() => ok(undefined))),
  };
}

test('a mention reaches a hidden tab by Web Push and a read elsewhere withdraws it; a click opens the message', async () => {
  const server = await startServer({ args: PUSH_FLAGS });
  const browser = await launch();
  const push = await pushService();
  try {
    const t = await team(browser, server.url);
    await t.ada.grantPermissions(['notifications'], { origin: server.url });
    await countPermissionRequests(t.ada);

    // This browser's subscription, as a push service would hand it out: the endpoint is the
    // local push service, the keys are made here, so the test can read what is sent to it.
    const ua = createECDH('prime256v1');
    ua.generateKeys();
    const authSecret = randomBytes(16);
    const endpoint = `${push.origin}/push/ada-laptop`;
    // The browser's push service is the one part of Web Push that cannot exist here (headless
    // Chromium has none, so `pushManager.subscribe` would fail): `subscribe` and
    // `getSubscription` give an object shaped like a PushSubscription for that endpoint and
    // those keys. Everything else is the page's real code and the server's.
    await t.ada.addInitScript(({ endpoint, p256dh, auth }) => {
      const SAVED = 'test.push.subscription';
      const bytes = (/** @type {string} */ s) =>
        Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4)), (c) => c.charCodeAt(0)).buffer;
      const text = (/** @type {ArrayBuffer | ArrayBufferView} */ b) =>
        btoa(String.fromCharCode(...new Uint8Array(ArrayBuffer.isView(b) ? b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) : b)))
          .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      const subscription = (/** @type {string} */ serverKey) => ({
        endpoint,
        expirationTime: null,
        options: { userVisibleOnly: true, applicationServerKey: bytes(serverKey) },
        getKey: (/** @type {string} */ name) => (name === 'p256dh' ? bytes(p256dh) : name === 'auth' ? bytes(auth) : null),
        toJSON: () => ({ endpoint, expirationTime: null, keys: { p256dh, auth } }),
        unsubscribe: async () => {
          localStorage.removeItem(SAVED);
          return true;
        },
      });
      PushManager.prototype.subscribe = async function (/** @type {PushSubscriptionOptionsInit} */ options) {
        if (!options.userVisibleOnly) throw new DOMException('userVisibleOnly is required', 'NotAllowedError');
        const key = text(/** @type {ArrayBuffer} */ (options.applicationServerKey));
        localStorage.setItem(SAVED, key);
        return /** @type {any} */ (subscription(key));
      };
      PushManager.prototype.getSubscription = async function () {
        const key = localStorage.getItem(SAVED);
        return key ? /** @type {any} */ (subscription(key)) : null;
      };
    }, { endpoint, p256dh: b64url(ua.getPublicKey()), auth: b64url(authSecret) });

    const a = await t.ada.newPage();
    await a.goto(`${server.url}/w/${t.workspace.id}/c/${t.general}`);
    await a.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });
    await a.locator('.state.online').waitFor({ state: 'attached', timeout: WAIT });
    await a.evaluate(() => navigator.serviceWorker.ready);
    assert.equal(await asked(a), 0, 'granted or not, nothing is asked on load');

    // The service worker's registration, as the debugging protocol names it, to push to.
    const cdp = await t.ada.newCDPSession(a);
    /** @type {string | null} */
    let registrationId = null;
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      for (const r of registrations) if (r.scopeURL === `${server.url}/` && !r.isDeleted) registrationId = r.registrationId;
    });
    await cdp.send('ServiceWorker.enable');
    await until(async () => registrationId, (id) => id !== null, 'the service worker registration');
    // Chrome's own record of the notifications it displays and closes (DevTools' Background
    // services). `getNotifications()` called while one is still being displayed can drop it,
    // so each look waits for Chrome to say it is displayed, or closed, first.
    /** @type {{name: string, tag: string}[]} */
    const happened = [];
    cdp.on('BackgroundService.backgroundServiceEventReceived', ({ backgroundServiceEvent: e }) => happened.push({ name: e.eventName, tag: e.instanceId }));
    await cdp.send('BackgroundService.startObserving', { service: 'notifications' });
    await cdp.send('BackgroundService.setRecording', { shouldRecord: true, service: 'notifications' });
    /** @param {'displayed' | 'closed'} what @param {string} tag @param {number} since how many had happened before */
    const chromeSays = (what, tag, since) => until(async () => happened.slice(since).some((e) => e.name === `Notification ${what}` && e.tag === tag),
      (yes) => yes, `Chrome: notification ${what}, ${tag}`);
    /** Hands a push's plaintext to the service worker, as the browser does once it has decrypted it. @param {string} data */
    const deliver = (data) => cdp.send('ServiceWorker.deliverPushMessage', { origin: server.url, registrationId: /** @type {string} */ (registrationId), data });
    const shown = () => a.evaluate(async () =>
      (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ tag: n.tag, title: n.title, body: n.body, url: n.data?.url })));

    const adaId = (await api(t.ada, server.url, 'GET', '/me')).user.id;
    const presence = () => api(t.bo, server.url, 'GET', `/users/presence?ids=${adaId}`).then((p) => p.presence[0]?.status);

    // No push subscription yet: while the tab is hidden, a mention is shown by the page itself.
    await hide(a);
    await until(presence, (s) => s === 'idle', 'ada idle');
    let since = happened.length;
    await say(t.bo, server.url, t.general, '@ada are you around?');
    await chromeSays('displayed', t.general, since);
    const fromPage = await shown();
    assert.deepEqual(fromPage.map((x) => [x.tag, x.title, x.body]), [[t.general, 'bo in #general', '@ada are you around?']]);
    since = happened.length;
    await a.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).forEach((x) => x.close()));
    await chromeSays('closed', t.general, since);
    await unhide(a);
    await a.waitForFunction(() => document.title === 'confab', undefined, { timeout: WAIT });

    // Visible, a mention alerts nothing: the title never flashes, nothing is shown.
    await a.evaluate(() => {
      const w = /** @type {any} */ (window);
      w.titles = [];
      const title = /** @type {HTMLTitleElement} */ (document.querySelector('title'));
      new MutationObserver(() => w.titles.push(document.title)).observe(title, { childList: true, characterData: true, subtree: true });
    });
    await say(t.bo, server.url, t.general, '@ada over here');
    await a.locator('main .message .body', { hasText: 'over here' }).waitFor({ timeout: WAIT });
    await a.waitForTimeout(1500);
    assert.deepEqual(await a.evaluate(() => /** @type {any} */ (window).titles.filter((/** @type {string} */ x) => x.includes('bo:'))), []);
    assert.deepEqual(await shown(), []);

    // Enabled from the settings page: asked once, subscribed with the server's key, registered.
    await a.getByRole('link', { name: 'Notifications', exact: true }).click();
    await a.getByRole('button', { name: 'Enable desktop notifications' }).click();
    await a.getByText('This browser gets desktop notifications').waitFor({ timeout: WAIT });
    assert.equal(await asked(a), 1);
    const devices = await api(t.ada, server.url, 'GET', '/me/push-subscriptions');
    assert.ok(devices.vapid_public_key, 'the server has Web Push on');
    assert.equal(devices.subscriptions.length, 1);
    assert.match(devices.subscriptions[0].endpoint_host, /^127\.0\.0\.1/);
    assert.equal(await a.evaluate(() => localStorage.getItem('test.push.subscription')), devices.vapid_public_key, 'subscribed with the server key');
    await a.getByText('This browser', { exact: true }).waitFor({ timeout: WAIT });
    await shoot(a, 'notify-settings-subscribed-light-wide', { fullPage: true });

    // Back to #general; then the tab is hidden, and ada idle.
    await a.getByRole('link', { name: /Back to Acme/ }).click();
    await a.getByRole('heading', { name: '#general' }).waitFor({ timeout: WAIT });
    await hide(a);
    await until(presence, (s) => s === 'idle', 'ada idle');

    // Bo mentions her: the hidden tab's title flashes it, and a push comes.
    const message = await say(t.bo, server.url, t.general, '@ada the deploy is done');
    await a.waitForFunction(() => document.title === '(1) bo: @ada the deploy is done | confab', undefined, { timeout: WAIT });
    const mention = await push.next();
    assert.equal(mention.path, '/push/ada-laptop');
    assert.equal(mention.headers['content-encoding'], 'aes128gcm');
    assert.ok(Number(mention.headers.ttl) >= 0, `TTL: ${mention.headers.ttl}`);
    checkVapid(mention.headers.authorization, devices.vapid_public_key, push.origin);
    const said = JSON.parse(decrypt(mention.body, ua, authSecret));
    assert.equal(said.notifications.length, 1, JSON.stringify(said));
    const n = said.notifications[0];
    assert.equal(n.tag, t.general);
    assert.equal(n.channel_id, t.general);
    assert.equal(n.seq, message.seq);
    assert.equal(n.url, `/w/${t.workspace.id}/c/${t.general}/m/${message.seq}`);
    assert.match(n.title, /bo/);
    assert.match(n.body, /the deploy is done/);

    // The service worker shows it: one, with the channel's tag and the message.
    since = happened.length;
    await deliver(JSON.stringify(said));
    await chromeSays('displayed', t.general, since);
    const after = await shown();
    assert.deepEqual(after, [{ tag: t.general, title: n.title, body: n.body, url: n.url }], 'one notification, the push\'s, none from the page');

    // Read on another device (a bearer token, no browser): the push that follows withdraws it,
    // and the hidden tab stops flashing.
    const phone = await (await fetch(`${server.url}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ada', password: 'correct horse', client_name: 'phone' }),
    })).json();
    const read = await fetch(`${server.url}/api/v1/channels/${t.general}/read`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${phone.token}` }, body: JSON.stringify({ seq: message.seq }),
    });
    assert.ok(read.ok, `read: ${read.status}`);
    const withdrawal = await push.next();
    // The tab heard of the read too, and left what the push showed to the push that withdraws it.
    assert.equal((await shown()).length, 1, 'still shown until the withdrawal is delivered');
    const clear = JSON.parse(decrypt(withdrawal.body, ua, authSecret));
    assert.deepEqual(clear.clear, [t.general], JSON.stringify(clear));
    assert.deepEqual(clear.notifications ?? [], []);
    since = happened.length;
    await deliver(JSON.stringify(clear));
    await chromeSays('closed', t.general, since);
    assert.deepEqual(await shown(), [], 'withdrawn');
    await a.waitForFunction(() => !document.title.includes('bo:'), undefined, { timeout: WAIT });

    // A direct message (its own tag: a notification just closed and a new one of the same tag
    // may race in Chrome); a click on it brings the tab to the message. (The click is
    // dispatched in the worker, as no real one can be made on a headless notification.)
    const { channel: dm } = await api(t.bo, server.url, 'POST', `/workspaces/${t.workspace.id}/dms`, { user_ids: [adaId] });
    const again = await say(t.bo, server.url, dm.id, 'the rollback plan is ready');
    const second = JSON.parse(decrypt((await push.next()).body, ua, authSecret));
    assert.deepEqual(second.notifications.map((/** @type {any} */ x) => [x.tag, x.seq, x.url]),
      [[dm.id, again.seq, `/w/${t.workspace.id}/c/${dm.id}/m/${again.seq}`]], JSON.stringify(second));
    since = happened.length;
    await deliver(JSON.stringify(second));
    await chromeSays('displayed', dm.id, since);
    assert.deepEqual((await shown()).map((x) => [x.tag, x.body]), [[dm.id, 'the rollback plan is ready']]);
    const sw = t.ada.serviceWorkers().find((w) => w.url() === `${server.url}/sw.js`);
    assert.ok(sw, 'the service worker, to click in');
    since = happened.length;
    await sw.evaluate(async (tag) => {
      const scope = /** @type {any} */ (self);
      const [notification] = await scope.registration.getNotifications({ tag });
      // @ts-ignore -- NotificationEvent is the worker's.
      scope.dispatchEvent(new NotificationEvent('notificationclick', { notification }));
    }, dm.id);
    await a.waitForURL(`${server.url}/w/${t.workspace.id}/c/${dm.id}/m/${again.seq}`, { timeout: WAIT });
    await a.getByRole('heading', { name: 'bo' }).waitFor({ timeout: WAIT });
    await a.locator(`main li.message.highlight[data-seq="${again.seq}"]`).waitFor({ timeout: WAIT });
    await chromeSays('closed', dm.id, since);
    assert.deepEqual(await shown(), [], 'the clicked notification closed');
  } finally {
    await browser.close();
    await server.stop();
    await push.close();
  }
});
