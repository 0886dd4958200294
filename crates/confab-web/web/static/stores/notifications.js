// @ts-check
/**
 * Notifications, the client's side: the user's preferences (their own, each channel's, each
 * workspace's default), this browser's Web Push subscription beside the user's other devices,
 * the service worker that shows what the server pushes (`/sw.js`), threads followed, and the
 * in-app alert. Fed by `/me/notification-preferences`, `/me/push-subscriptions` and the
 * socket's `event`, `read` and `notification.cleared` frames.
 *
 * The in-app alert: while the tab is hidden, a live message that would notify the user (by
 * the rule the server applies, `confab-core`'s `notify::wants`) flashes the title and, when
 * this browser gets no push, shows a notification from the page. Never while the tab is
 * visible; nothing while snoozed or in the do-not-disturb hours; withdrawn when the channel is
 * read on any device. Permission to notify is asked only from a click (`enableDesktop`).
 *
 * Screens: `screens/notification-settings.js` (the page), `screens/channel-notifications.js`
 * (a channel's menu), the thread's Follow button and the sidebar's paused bell.
 */
import { computed, effect, signal } from '../vendor/signals.js';
import { get, post, request } from '../api.js';
import { me } from './session.js';
import * as chat from './chat.js';

/** @typedef {'default' | 'all' | 'mentions' | 'none'} Level */
/**
 * @typedef {{level: Level, push: boolean, email: boolean, email_interval_minutes: number, time_zone: string,
 *   dnd: {start: string, end: string} | null, snooze_until: string | null}} Preferences
 */
/** @typedef {{channel_id: string, level: Level, muted: boolean, ignore_channel_mentions: boolean}} ChannelPreferences */
/** @typedef {{preferences: Preferences, channels: ChannelPreferences[], defaults: {workspace_id: string, level: Level}[]}} Settings */
/** @typedef {{id: string, endpoint_host: string, session_id: string, created_at: string}} Device */
/** @typedef {'default' | 'granted' | 'denied' | 'unsupported'} Permission */
/** @typedef {{channel_id: string, text: string}} Alert */

/** The answer of `GET /me/notification-preferences`, kept current by every change made here. */
export const settings = signal(/** @type {Settings | null} */ (null));
/** Why the settings could not be read, if they could not. */
export const loadError = signal('');

/** The server's VAPID key (null: the server has Web Push off; undefined: not asked yet). */
export const vapidKey = signal(/** @type {string | null | undefined} */ (undefined));
/** The user's devices that get pushes. */
export const devices = signal(/** @type {Device[]} */ ([]));
/** Which of `devices` is this browser, if any. */
export const thisDevice = signal(/** @type {string | null} */ (null));
/** Whether this page may show notifications. */
export const permission = signal(/** @type {Permission} */ (currentPermission()));
/** What went wrong subscribing this browser, in words. */
export const pushError = signal('');

/** Messages that alerted while the tab was hidden, oldest first; cleared when it is seen. */
export const alerts = signal(/** @type {Alert[]} */ ([]));
/** Now, to the half minute: what "paused" depends on. */
export const clock = signal(Date.now());

/** Where this browser's subscription is remembered: which user, its id, its endpoint. */
const DEVICE_KEY = 'confab.push.device';
/** How long each half of the title's flash lasts. */
const FLASH_MS = 1200;

/** The service worker's registration, once registered (where browsers have them). */
let registration = /** @type {Promise<ServiceWorkerRegistration | null>} */ (Promise.resolve(null));
let started = false;

function currentPermission() {
  return typeof Notification === 'undefined' ? 'unsupported' : /** @type {Permission} */ (Notification.permission);
}

/**
 * On sign-in: registers the service worker (only where there are service workers), reads
 * the preferences and the devices, and listens for what the worker and the tab say.
 */
export function start() {
  if ('serviceWorker' in navigator) {
    registration = navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => null);
  }
  loadSettings();
  refreshPush();
  if (started) return;
  started = true;
  if ('serviceWorker' in navigator) {
    // A click on a notification: the worker focused this tab and says where to go.
    navigator.serviceWorker.addEventListener('message', (e) => {
      if (e.data?.type === 'open' && typeof e.data.url === 'string') openInApp(e.data.url);
    });
    navigator.serviceWorker.startMessages();
  }
  // Seen: nothing is waiting to be noticed any more.
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) alerts.value = [];
  });
  navigator.permissions?.query({ name: 'notifications' }).then((status) => {
    status.onchange = () => (permission.value = currentPermission());
  }).catch(() => {});
  setInterval(() => (clock.value = Date.now()), 30_000);
}

/** The registration once its worker is active (what `pushManager` needs), or null. */
async function activeRegistration() {
  const reg = await registration;
  if (!reg) return null;
  return navigator.serviceWorker.ready;
}

/** Goes to a path of the app without a reload, as its links do. @param {string} url */
function openInApp(url) {
  if (!url.startsWith('/') || url.startsWith('//')) return;
  const here = /^\/w\/[^/]+\/c\/([^/]+)\/m\/(\d+)$/.exec(url);
  if (here && url === location.pathname) {
    // Already there: its message is brought into view and highlighted again.
    chat.openChannel(here[1], Number(here[2]));
    return;
  }
  history.pushState(null, '', url);
  dispatchEvent(new PopStateEvent('popstate'));
}

// ---- Preferences -------------------------------------------------------------------------

export async function loadSettings() {
  try {
    settings.value = await get('/me/notification-preferences');
    loadError.value = '';
  } catch (e) {
    loadError.value = e instanceof Error ? e.message : String(e);
  }
}

/**
 * Changes the user's own preferences: any of `level, push, email, email_interval_minutes,
 * time_zone, dnd`, and `snooze_minutes` (0 resumes).
 * @param {Partial<Omit<Preferences, 'snooze_until'>> & {snooze_minutes?: number}} changes
 */
export async function savePreferences(changes) {
  const before = settings.value;
  // Shown at once (a checkbox stays as clicked), then as the server answers; put back if refused.
  const { snooze_minutes: _later, ...now } = changes;
  if (before) settings.value = { ...before, preferences: { ...before.preferences, ...now } };
  try {
    settings.value = await request('PUT', '/me/notification-preferences', changes);
  } catch (e) {
    settings.value = before;
    throw e;
  }
  clock.value = Date.now();
}

/** A channel's settings, or the defaults when it has none. @param {string} channelId @returns {ChannelPreferences} */
export function channelSettings(channelId) {
  return settings.value?.channels.find((c) => c.channel_id === channelId) ??
    { channel_id: channelId, level: 'default', muted: false, ignore_channel_mentions: false };
}

/**
 * @param {string} channelId
 * @param {Partial<Omit<ChannelPreferences, 'channel_id'>>} changes
 */
export async function saveChannel(channelId, changes) {
  const before = settings.value;
  /** @param {ChannelPreferences} c */
  const put = (c) => {
    const s = settings.value;
    if (s) settings.value = { ...s, channels: [...s.channels.filter((x) => x.channel_id !== channelId), c] };
  };
  put({ ...channelSettings(channelId), ...changes });
  try {
    put(await request('PUT', `/channels/${channelId}/notification-preferences`, changes));
  } catch (e) {
    settings.value = before;
    throw e;
  }
}

/** A workspace's default level (each of the user's workspaces has one). @param {string | null} workspaceId */
export function workspaceDefault(workspaceId) {
  return settings.value?.defaults.find((d) => d.workspace_id === workspaceId)?.level ?? 'mentions';
}

/**
 * Sets a workspace's default (admins and owners).
 * @param {string} workspaceId
 * @param {Exclude<Level, 'default'>} level
 */
export async function setWorkspaceDefault(workspaceId, level) {
  const answer = await request('PUT', `/workspaces/${workspaceId}/notification-defaults`, { level });
  const s = settings.value;
  if (!s) return;
  settings.value = { ...s, defaults: [...s.defaults.filter((d) => d.workspace_id !== workspaceId), answer] };
}

/** The level that applies in a channel: its own, else the user's, else its workspace's. @param {string} channelId */
export function effectiveLevel(channelId) {
  const own = channelSettings(channelId).level;
  if (own !== 'default') return own;
  const mine = settings.value?.preferences.level ?? 'default';
  if (mine !== 'default') return mine;
  const channel = chat.channels.value.find((c) => c.id === channelId);
  return workspaceDefault(channel?.workspace_id ?? chat.workspaceId.value);
}

/**
 * Whether nothing notifies now, and until when: snoozed, or inside the daily schedule.
 * @type {import('../vendor/signals.js').ReadonlySignal<{why: 'snooze' | 'dnd', until: string} | null>}
 */
export const paused = computed(() => {
  const p = settings.value?.preferences;
  const now = clock.value;
  if (!p) return null;
  if (p.snooze_until && Date.parse(p.snooze_until) > now) return { why: 'snooze', until: p.snooze_until };
  if (p.dnd && inSchedule(p.dnd, p.time_zone, now)) return { why: 'dnd', until: p.dnd.end };
  return null;
});

/**
 * Whether `now` is inside a daily schedule in `timeZone` (`start > end` spans midnight;
 * `start == end` is never), as the server reckons it.
 * @param {{start: string, end: string}} dnd
 * @param {string} timeZone
 * @param {number} now
 */
export function inSchedule(dnd, timeZone, now) {
  const minute = (/** @type {string} */ hhmm) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  let parts;
  try {
    parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(now);
  } catch {
    return false;
  }
  const at = Number(parts.find((x) => x.type === 'hour')?.value) * 60 + Number(parts.find((x) => x.type === 'minute')?.value);
  const [s, e] = [minute(dnd.start), minute(dnd.end)];
  return s <= e ? s <= at && at < e : at >= s || at < e;
}

// ---- Threads -----------------------------------------------------------------------------

/**
 * Follows a thread (its replies notify) or stops.
 * @param {string} rootId
 * @param {boolean} on
 */
export async function follow(rootId, on) {
  const answer = await request(on ? 'PUT' : 'DELETE', `/messages/${rootId}/follow`);
  chat.following.value = { ...chat.following.value, [rootId]: typeof answer?.following === 'boolean' ? answer.following : on };
}

/**
 * Whether the user follows a thread: as they said, else as the server does by itself (they
 * started it or replied in it).
 * @param {string} rootId
 * @param {chat.Message | undefined} root
 */
function follows(rootId, root) {
  const said = chat.following.value[rootId];
  if (said !== undefined) return said;
  const myId = me.value?.id ?? '';
  return root !== undefined && (root.author_id === myId || (root.reply_users ?? []).includes(myId));
}

// ---- Push --------------------------------------------------------------------------------

/** Reads the server's key and the user's devices, and finds this browser among them. */
export async function refreshPush() {
  permission.value = currentPermission();
  try {
    const answer = await get('/me/push-subscriptions');
    vapidKey.value = answer.vapid_public_key ?? null;
    devices.value = answer.subscriptions ?? [];
  } catch {
    vapidKey.value = null;
    devices.value = [];
  }
  const reg = await registration;
  const browserHas = reg && 'pushManager' in reg ? await reg.pushManager.getSubscription().catch(() => null) : null;
  const saved = remembered();
  thisDevice.value = browserHas && saved && saved.endpoint === browserHas.endpoint && devices.value.some((d) => d.id === saved.id)
    ? saved.id
    : null;
}

/** @returns {{user: string, id: string, endpoint: string} | null} */
function remembered() {
  try {
    const saved = JSON.parse(localStorage.getItem(DEVICE_KEY) ?? 'null');
    return saved && saved.user === me.value?.id ? saved : null;
  } catch {
    return null;
  }
}

/**
 * "Enable desktop notifications": asks the browser's permission (called from the click
 * itself, as browsers require), then subscribes this browser to pushes when the server sends
 * them, and turns push on if it was off.
 */
export async function enableDesktop() {
  if (typeof Notification === 'undefined') return;
  const answer = await Notification.requestPermission();
  permission.value = /** @type {Permission} */ (answer);
  if (answer !== 'granted') return;
  await subscribeThisDevice();
}

/** Subscribes this browser with the server's key (again, when it was made for another) and registers it. */
async function subscribeThisDevice() {
  pushError.value = '';
  const key = vapidKey.value;
  if (!key) return;
  try {
    const reg = await activeRegistration();
    if (!reg || !('pushManager' in reg)) throw new Error('this browser cannot receive push notifications');
    const wanted = fromBase64Url(key);
    let sub = await reg.pushManager.getSubscription();
    if (sub && !sameBytes(sub.options?.applicationServerKey, wanted)) {
      await sub.unsubscribe();
      sub = null;
    }
    sub ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: wanted });
    const answer = await post('/me/push-subscriptions', sub.toJSON());
    localStorage.setItem(DEVICE_KEY, JSON.stringify({ user: me.value?.id, id: answer.subscription.id, endpoint: sub.endpoint }));
    if (settings.value?.preferences.push === false) await savePreferences({ push: true });
  } catch (e) {
    pushError.value = e instanceof Error ? e.message : String(e);
  }
  await refreshPush();
}

/**
 * Removes a device from the user's; this browser's own also stops its subscription.
 * @param {string} id
 */
export async function removeDevice(id) {
  await request('DELETE', `/me/push-subscriptions/${id}`);
  if (id === thisDevice.value) await forgetBrowser();
  await refreshPush();
}

/** Before signing out: this browser stops getting the user's pushes. */
export async function signOutDevice() {
  const id = thisDevice.value;
  if (id) await request('DELETE', `/me/push-subscriptions/${id}`).catch(() => {});
  await forgetBrowser();
  alerts.value = [];
  settings.value = null;
}

async function forgetBrowser() {
  localStorage.removeItem(DEVICE_KEY);
  thisDevice.value = null;
  const reg = await registration;
  const sub = reg && 'pushManager' in reg ? await reg.pushManager.getSubscription().catch(() => null) : null;
  await sub?.unsubscribe().catch(() => false);
}

/** @param {string} text base64url, unpadded */
function fromBase64Url(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** @param {ArrayBuffer | null | undefined} a @param {Uint8Array} b */
function sameBytes(a, b) {
  if (!a) return false;
  const x = new Uint8Array(a);
  return x.length === b.length && x.every((v, i) => v === b[i]);
}

// ---- The in-app alert --------------------------------------------------------------------

/**
 * Why the user would hear of a message, by the server's rule, or null: a DM, a mention, a
 * reply in a thread they follow, `@channel`/`@everyone`, `@here`, or `all` (every message).
 * @param {chat.Message} m
 * @param {chat.Message | undefined} root
 */
function reason(m, root) {
  const myId = me.value?.id ?? '';
  const channel = chat.channels.value.find((c) => c.id === m.channel_id);
  if (channel?.kind === 'dm') return 'dm';
  if (m.mentions?.user_ids.includes(myId)) return 'mention';
  if (m.thread_root_id && follows(m.thread_root_id, root)) return 'thread';
  if (m.mentions?.channel) return 'channel';
  if (m.mentions?.here) return 'here';
  // A reply in a thread not followed reaches only those it names.
  return m.thread_root_id ? null : 'all';
}

/**
 * Whether a message notifies the user, as `notify::wants` decides it on the server.
 * @param {chat.Message} m
 * @param {chat.Message | undefined} root
 */
export function wouldNotify(m, root) {
  if (m.author_id === me.value?.id || m.deleted) return false;
  if (paused.value) return false;
  const why = reason(m, root);
  if (why === null) return false;
  const own = channelSettings(m.channel_id);
  if (own.muted) return false;
  if ((why === 'channel' || why === 'here') && own.ignore_channel_mentions) return false;
  const level = effectiveLevel(m.channel_id);
  if (level === 'none') return false;
  return level === 'all' || why !== 'all';
}

/**
 * A live event from the socket: a new message that would notify the user while the tab is
 * hidden alerts them.
 * @param {{kind: string, message?: chat.Message, root?: chat.Message}} event
 */
export function onEvent(event) {
  const m = event.message;
  if (event.kind !== 'message.created' || !m || !document.hidden || !wouldNotify(m, event.root)) return;
  const author = chat.people.value[m.author_id]?.display_name ?? 'Someone';
  const text = (m.body ?? '').replace(/\s+/g, ' ').trim() || 'sent a file';
  alerts.value = [...alerts.value, { channel_id: m.channel_id, text: `${author}: ${clip(text, 40)}` }];
  showFromPage(m, event.root, author, text);
}

/** @param {string} text @param {number} most */
function clip(text, most) {
  return text.length > most ? `${text.slice(0, most - 1)}…` : text;
}

/**
 * A notification from the page itself, when this browser gets no push (none subscribed, or
 * the server has Web Push off) but may show one: the same tag, text and target as a push's.
 * @param {chat.Message} m
 * @param {chat.Message | undefined} root
 * @param {string} author
 * @param {string} text
 */
async function showFromPage(m, root, author, text) {
  if (permission.value !== 'granted' || thisDevice.value || settings.value?.preferences.push === false) return;
  const channel = chat.channels.value.find((c) => c.id === m.channel_id);
  const title = channel && channel.kind !== 'dm' ? `${author} in #${channel.name}` : author;
  const workspace = channel?.workspace_id ?? chat.workspaceId.value;
  // A reply opens at its thread's root, which the channel shows.
  const seq = m.thread_root_id ? root?.seq : m.seq;
  const url = workspace ? `/w/${workspace}/c/${m.channel_id}${seq ? `/m/${seq}` : ''}` : '/';
  /** @type {NotificationOptions & {renotify?: boolean}} */
  const options = { tag: m.channel_id, body: clip(text, 200), data: { url }, renotify: true };
  try {
    const reg = await activeRegistration();
    if (reg) {
      await reg.showNotification(title, options);
    } else {
      const shown = new Notification(title, options);
      shown.onclick = () => {
        focus();
        openInApp(url);
        shown.close();
      };
    }
  } catch {
    // A notification is a courtesy: the unread badge still says it.
  }
}

/**
 * The channel was read (`read`, on any device) or its notifications withdrawn
 * (`notification.cleared`): its alert goes, and so does what the page showed for it. What a
 * push showed, the push that withdraws it closes (the service worker's `clear`).
 * @param {{channel_id: string}} frame
 */
export function onCleared(frame) {
  if (alerts.value.some((a) => a.channel_id === frame.channel_id)) {
    alerts.value = alerts.value.filter((a) => a.channel_id !== frame.channel_id);
  }
  if (thisDevice.value) return;
  registration.then(async (reg) => {
    for (const n of (await reg?.getNotifications({ tag: frame.channel_id })) ?? []) n.close();
  }).catch(() => {});
}

/** Which half of the flash it is. */
const flashing = signal(false);
let flashTimer = 0;
effect(() => {
  const any = alerts.value.length > 0;
  if (any && flashTimer === 0) {
    flashing.value = true;
    flashTimer = window.setInterval(() => (flashing.value = !flashing.value), FLASH_MS);
  } else if (!any && flashTimer !== 0) {
    clearInterval(flashTimer);
    flashTimer = 0;
    flashing.value = false;
  }
});

/**
 * The title while something alerts, every other beat: "(2) Ada: hi @bo | confab" (the
 * latest); null the rest of the time, when the unread count's title shows.
 */
export const flashTitle = computed(() => {
  const list = alerts.value;
  if (list.length === 0 || !flashing.value) return null;
  return `(${list.length}) ${list[list.length - 1].text} | confab`;
});
