// @ts-check
/**
 * A channel's files, as its Files panel lists them: pages of `GET /channels/{id}/files`
 * (newest first), with what happened since laid over them from the channel's loaded messages:
 * files of messages that came after the first page, previews that became ready, files gone
 * with a deleted message. The panel takes the thread's place beside the channel: opening one
 * closes the other.
 */
import { computed, effect, signal } from '../vendor/signals.js';
import { get } from '../api.js';
import * as chat from './chat.js';

/** @typedef {import('../lib/files.js').FileWire} FileWire */
/** @typedef {{file: FileWire, uploader_id: string, message_id: string}} ChannelFile */

/** Whether the Files panel is open (for whichever channel is). */
export const open = signal(false);

/**
 * What was read of one channel's files: the pages so far, where the next starts, and the
 * channel's last change when the first was read (messages after it are laid over).
 * @type {import('../vendor/signals.js').Signal<{channel_id: string, items: ChannelFile[], next_cursor: string | null, since: number, loading: boolean, error: string} | null>}
 */
export const listing = signal(null);

const PAGE = 20;

/** Opens the panel for the open channel, closing the thread. */
export function show() {
  chat.openThread(null);
  open.value = true;
}

export function hide() {
  open.value = false;
}

// A thread opened takes the panel's place.
effect(() => {
  if (chat.threadId.value !== null) open.value = false;
});

// Open, it lists the open channel's files: read afresh when opened, and for another channel.
effect(() => {
  const id = chat.channelId.value;
  if (open.value && id && listing.peek()?.channel_id !== id) load(id, false);
  if (!open.value) listing.value = null;
});

/**
 * Reads the first page of a channel's files, or (`more`) the next one.
 * @param {string} channelId
 * @param {boolean} more
 */
export async function load(channelId, more) {
  const was = listing.peek();
  const cursor = more && was?.channel_id === channelId ? was.next_cursor : null;
  if (more && !cursor) return;
  const since = more && was ? was.since : chat.channels.peek().find((c) => c.id === channelId)?.last_seq ?? 0;
  const items = more && was ? was.items : [];
  listing.value = { channel_id: channelId, items, next_cursor: cursor, since, loading: true, error: '' };
  try {
    const page = await get(`/channels/${channelId}/files?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (listing.peek()?.channel_id !== channelId) return;
    listing.value = { channel_id: channelId, items: [...items, ...page.files], next_cursor: page.next_cursor ?? null, since, loading: false, error: '' };
  } catch (e) {
    if (listing.peek()?.channel_id !== channelId) return;
    listing.value = { channel_id: channelId, items, next_cursor: cursor, since, loading: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/** The open channel's files as the panel shows them, newest first. */
export const shown = computed(() => {
  const l = listing.value;
  if (!l) return [];
  const loaded = chat.messages.value[l.channel_id] ?? [];
  const byId = new Map(loaded.map((m) => [m.id, m]));
  /** @type {ChannelFile[]} */
  const newer = loaded
    .filter((m) => m.seq > l.since && !m.deleted)
    .reverse()
    .flatMap((m) => (m.files ?? []).map((file) => ({ file, uploader_id: m.author_id, message_id: m.id })));
  const seen = new Set(newer.map((f) => f.file.id));
  const listed = l.items.flatMap((f) => {
    const m = byId.get(f.message_id);
    if (seen.has(f.file.id) || m?.deleted) return [];
    // A loaded message has the file as it is now (a preview made since the page was read).
    const now = m?.files?.find((x) => x.id === f.file.id);
    return [now ? { ...f, file: now } : f];
  });
  return [...newer, ...listed];
});

/**
 * Where a file was shared: its message's permalink path, or its thread's root to open.
 * @param {ChannelFile} f
 * @returns {Promise<{path: string} | {thread: string}>}
 */
export async function whereShared(f) {
  const loaded = Object.values(chat.messages.value).flat().find((m) => m.id === f.message_id);
  const m = loaded ?? (await get(`/messages/${f.message_id}`)).message;
  if (m.thread_root_id) return { thread: m.thread_root_id };
  return { path: `/w/${chat.workspaceId.value}/c/${m.channel_id}/m/${m.seq}` };
}
