// @ts-check
/**
 * The service worker (served at `/sw.js`, so its scope is the whole origin): it shows the
 * notifications the server pushes (Web Push, RFC 8291; the browser decrypts them) and opens
 * confab where a click says. It caches nothing and handles no fetch: the app works as it does
 * without it.
 *
 * A push's payload is `{notifications: [{tag, title, body, url, channel_id, seq}], clear: [tag]}`
 * (issue 17's contract): every shown notification whose tag is in `clear` is closed
 * (the channel was read on some device), then one is shown per entry, its tag the channel's,
 * so a channel shows one notification, its newest.
 */

/**
 * What this file uses of the worker's scope (its types are not in the page's `dom` library).
 * @typedef {{notification: Notification, waitUntil: (p: Promise<unknown>) => void}} NotificationEvent
 * @typedef {{data: {json: () => any, text: () => string} | null, waitUntil: (p: Promise<unknown>) => void}} PushEvent
 * @typedef {{url: string, visibilityState?: string, focused?: boolean, focus: () => Promise<WindowClient>, postMessage: (m: unknown) => void}} WindowClient
 * @typedef {{matchAll: (o: {type: 'window', includeUncontrolled: boolean}) => Promise<WindowClient[]>, openWindow: (url: string) => Promise<WindowClient | null>, claim: () => Promise<void>}} Clients
 * @typedef {{registration: ServiceWorkerRegistration, clients: Clients, location: Location, skipWaiting: () => Promise<void>,
 *   addEventListener: (type: string, listener: (e: any) => void) => void}} WorkerScope
 */

const worker = /** @type {WorkerScope} */ (/** @type {unknown} */ (self));

/** @typedef {{tag: string, title: string, body: string, url: string, channel_id?: string, seq?: number}} Pushed */

// A new version takes over at once: it holds no state an old page could depend on.
worker.addEventListener('install', (/** @type {{waitUntil: (p: Promise<unknown>) => void}} */ e) => e.waitUntil(worker.skipWaiting()));
worker.addEventListener('activate', (/** @type {{waitUntil: (p: Promise<unknown>) => void}} */ e) => e.waitUntil(worker.clients.claim()));

worker.addEventListener('push', (/** @type {PushEvent} */ e) => {
  /** @type {{notifications?: Pushed[], clear?: string[]}} */
  let payload = {};
  try {
    payload = e.data ? e.data.json() : {};
  } catch {
    // Not ours to read: nothing to show.
    return;
  }
  e.waitUntil(show(payload));
});

/**
 * Closes what `clear` withdraws, then shows what `notifications` brings.
 * @param {{notifications?: Pushed[], clear?: string[]}} payload
 */
async function show(payload) {
  const notifications = Array.isArray(payload.notifications) ? payload.notifications : [];
  // A tag shown again is replaced, not closed: closing it first could close the new one too.
  const clear = new Set(Array.isArray(payload.clear) ? payload.clear : []);
  for (const n of notifications) clear.delete(n.tag);
  if (clear.size > 0) {
    for (const shown of await worker.registration.getNotifications()) {
      if (clear.has(shown.tag)) shown.close();
    }
  }
  for (const n of notifications) {
    /** @type {NotificationOptions & {renotify?: boolean}} */
    const options = { tag: n.tag, body: n.body, data: { url: n.url }, renotify: true };
    await worker.registration.showNotification(n.title || 'confab', options);
  }
}

worker.addEventListener('notificationclick', (/** @type {NotificationEvent} */ e) => {
  e.notification.close();
  e.waitUntil(open(inApp(e.notification.data?.url)));
});

/**
 * Where a click goes: a path of this origin, or its root for anything else.
 * @param {unknown} url
 */
function inApp(url) {
  try {
    const target = new URL(typeof url === 'string' ? url : '/', worker.location.origin);
    if (target.origin === worker.location.origin) return target.pathname + target.search + target.hash;
  } catch {
    // Fall through to the root.
  }
  return '/';
}

/**
 * Brings a confab tab forward and tells it to go to `path` (it navigates in-app, keeping its
 * socket and state), the visible one first; with none open, opens one there.
 * @param {string} path
 */
async function open(path) {
  const tabs = await worker.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const ours = tabs.filter((c) => new URL(c.url).origin === worker.location.origin);
  ours.sort((a, b) => rank(b) - rank(a));
  const tab = ours[0];
  if (!tab) {
    await worker.clients.openWindow(path);
    return;
  }
  const focused = await tab.focus().catch(() => tab);
  focused.postMessage({ type: 'open', url: path });
}

/** A focused tab before a visible one before the rest. @param {WindowClient} c */
function rank(c) {
  return (c.focused ? 2 : 0) + (c.visibilityState === 'visible' ? 1 : 0);
}
