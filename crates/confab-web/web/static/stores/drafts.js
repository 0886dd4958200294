// @ts-check
/**
 * Drafts: what the user typed into each composer (a channel's, a thread's) and has not sent.
 * Kept on the server, so they follow the user to other devices (`draft` frames) and survive a
 * reload; saved a moment after typing stops, and at once when the composer is left. Each
 * composer reads and writes only its own key, captured when it was typed into, so a draft can
 * never move to another channel whatever navigation happens meanwhile.
 */
import { signal } from '../vendor/signals.js';
import { get, request } from '../api.js';
import { me } from './session.js';

/** @typedef {{body: string, updated_at: string}} Draft */

/** Drafts by composer key (`channel` or `channel/thread root`). */
/** @type {import('../vendor/signals.js').Signal<Record<string, Draft>>} */
export const drafts = signal({});

/**
 * @param {string} channelId
 * @param {string | null | undefined} [rootId]
 */
export const key = (channelId, rootId) => (rootId ? `${channelId}/${rootId}` : channelId);

/** Saves waiting for typing to pause, by key. @type {Record<string, {timer: number, body: string}>} */
const waiting = {};
const SAVE_AFTER_MS = 600;

export async function load() {
  const answer = await get('/me/drafts');
  /** @type {Record<string, Draft>} */
  const found = {};
  for (const d of answer.drafts) found[key(d.channel_id, d.thread_root_id)] = { body: d.body, updated_at: d.updated_at };
  // Typing that happened while loading wins.
  drafts.value = { ...found, ...pendingLocal() };
}

function pendingLocal() {
  return Object.fromEntries(Object.entries(waiting).map(([k, w]) => [k, { body: w.body, updated_at: new Date().toISOString() }]));
}

/**
 * The composer `k` now holds `body`: kept at once, saved soon.
 * @param {string} k
 * @param {string} body
 */
export function typed(k, body) {
  drafts.value = { ...drafts.value, [k]: { body, updated_at: new Date().toISOString() } };
  clearTimeout(waiting[k]?.timer);
  waiting[k] = { body, timer: window.setTimeout(() => save(k), SAVE_AFTER_MS) };
}

/** Saves the composer's draft now, if a save is waiting (leaving a channel, say). @param {string} k */
export function flush(k) {
  if (waiting[k]) save(k);
}

/** @param {string} k */
function save(k) {
  const w = waiting[k];
  if (!w) return;
  clearTimeout(w.timer);
  delete waiting[k];
  const [channelId, rootId] = k.split('/');
  request('PUT', `/channels/${channelId}/draft`, rootId ? { body: w.body, thread_root_id: rootId } : { body: w.body }).catch(() => {
    // Offline: kept here; typing again saves again.
  });
}

/**
 * The composer's message was sent: its draft is gone (the server cleared it with the send).
 * @param {string} k
 */
export function sent(k) {
  clearTimeout(waiting[k]?.timer);
  delete waiting[k];
  const { [k]: _gone, ...rest } = drafts.value;
  drafts.value = rest;
}

/**
 * A draft saved or cleared on another device (or this one).
 * @param {{channel_id: string, thread_root_id?: string, body: string, updated_at: string}} d
 */
export function onDraft(d) {
  const k = key(d.channel_id, d.thread_root_id);
  // A save of this tab's own still waiting is newer than anything the server says.
  if (waiting[k]) return;
  const current = drafts.value[k];
  if (current && current.updated_at > d.updated_at) return;
  if (d.body === '') {
    const { [k]: _gone, ...rest } = drafts.value;
    drafts.value = rest;
  } else {
    drafts.value = { ...drafts.value, [k]: { body: d.body, updated_at: d.updated_at } };
  }
}

/**
 * The user's own message appeared (sent from any device): the server cleared that composer's
 * draft in the same transaction, without a frame, so clear it here too.
 * @param {{author_id: string, channel_id: string, thread_root_id?: string | null, ts: string} | undefined} m
 */
export function onOwnMessage(m) {
  if (!m || m.author_id !== me.value?.id) return;
  const k = key(m.channel_id, m.thread_root_id);
  const current = drafts.value[k];
  if (current && current.updated_at <= m.ts && !waiting[k]) sent(k);
}
