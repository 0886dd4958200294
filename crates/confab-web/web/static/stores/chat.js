// @ts-check
/**
 * The chat state the screens show, fed only by HTTP answers and socket frames: the current
 * workspace's channels, each loaded channel's messages (one map by id, an entry replaced only
 * by a higher `version`, as docs/protocol.md prescribes) and the sends still pending.
 */
import { signal, computed } from '../vendor/signals.js';
import { get, post, request } from '../api.js';
import { me, workspaces } from './session.js';
import * as presence from './presence.js';

/** @typedef {{id: string, workspace_id: string, kind: string, name: string | null, topic: string, last_seq: number, members?: string[], is_member?: boolean, last_read_seq?: number, unread_count?: number, mention_count?: number}} Channel */
/** @typedef {{emoji: string, count: number, user_ids: string[]}} Reaction */
/** @typedef {{id: string, channel_id: string, seq: number, version: number, author_id: string, body?: string | null, ts: string, edited_at?: string, deleted: boolean, thread_root_id?: string | null, reactions?: Reaction[], reply_count?: number, reply_users?: string[], mentions?: {user_ids: string[], channel: boolean, here: boolean}, files?: import('../lib/files.js').FileWire[]}} Message */
/**
 * A send not acknowledged yet. `uploads`: the uploads it waits for (their IDs in
 * `stores/uploads.js`); once all are done they are `file_ids`, and it is sent.
 * @typedef {{client_msg_id: string, channel_id: string, body: string, thread_root_id?: string, failed?: string, at?: number, uploads?: string[], file_ids?: string[]}} Pending
 */

/** @type {import('../vendor/signals.js').Signal<string | null>} */
export const workspaceId = signal(null);
/** @type {import('../vendor/signals.js').Signal<Channel[]>} */
export const channels = signal([]);
/** @type {import('../vendor/signals.js').Signal<string | null>} */
export const channelId = signal(null);
/** Messages by channel, each list in `seq` order. */
/** @type {import('../vendor/signals.js').Signal<Record<string, Message[]>>} */
export const messages = signal({});
/** Where each loaded channel's history is complete up to. */
/** @type {Record<string, number>} */
export const cursors = {};
/** @type {import('../vendor/signals.js').Signal<Pending[]>} */
export const pending = signal([]);
/** Thread replies by root, each list in `seq` order (they live in their thread, not the channel). */
/** @type {import('../vendor/signals.js').Signal<Record<string, Message[]>>} */
export const replies = signal({});
/** Whether the user follows each thread opened, as its answer said (`stores/notifications.js` changes it). */
/** @type {import('../vendor/signals.js').Signal<Record<string, boolean>>} */
export const following = signal({});
/** The thread open beside the channel. */
/** @type {import('../vendor/signals.js').Signal<string | null>} */
export const threadId = signal(null);
/** The workspace's people by id, for names beside messages. */
/** @type {import('../vendor/signals.js').Signal<Record<string, {username: string, display_name: string, status_text?: string}>>} */
export const people = signal({});

/** Where the "new messages" line goes in each channel: after this seq (the read cursor when it was opened). */
/** @type {import('../vendor/signals.js').Signal<Record<string, number>>} */
export const dividers = signal({});
/** Channels whose loaded messages stop short of the newest (a permalink's context, or scrolled far back). */
/** @type {import('../vendor/signals.js').Signal<Record<string, boolean>>} */
export const behind = signal({});
/** Channels with older messages than those loaded. */
/** @type {import('../vendor/signals.js').Signal<Record<string, boolean>>} */
export const older = signal({});
/** The message a permalink points at, shown highlighted: `channel:seq`. */
/** @type {import('../vendor/signals.js').Signal<string | null>} */
export const highlighted = signal(null);
/** The reply a search result opened, highlighted in its thread (by id; replies are not in the channel). */
/** @type {import('../vendor/signals.js').Signal<string | null>} */
export const highlightedReply = signal(null);
/** How many times a permalink was opened: the channel scrolls to its message once per opening, then the reader's scrolling is theirs. */
export const highlightVisit = signal(0);
/** What the live region last announced (a new message in the open channel). */
export const announcement = signal('');
/** Messages one channel keeps loaded, and so rendered, at most: a channel of 10,000 stays fast. */
export const MAX_LOADED = 300;
const PAGE = 50;

/** The user's role in the open workspace (admins may delete anyone's messages). */
export const myRole = computed(() => workspaces.value.find((w) => w.id === workspaceId.value)?.role ?? null);

export const currentChannel = computed(() => channels.value.find((c) => c.id === channelId.value) ?? null);

/** @param {string} id */
export async function openWorkspace(id) {
  workspaceId.value = id;
  const answer = await get(`/workspaces/${id}/channels`);
  channels.value = answer.channels;
  /** @type {Record<string, {username: string, display_name: string, status_text?: string}>} */
  const found = {};
  let after = '';
  for (;;) {
    const page = await get(`/workspaces/${id}/members?limit=200&after=${encodeURIComponent(after)}`);
    for (const m of page.members) found[m.user_id] = { username: m.username, display_name: m.display_name, status_text: m.status_text };
    if (!page.next_after) break;
    after = page.next_after;
  }
  people.value = found;
  presence.watch(Object.keys(found));
}

/**
 * Opens a channel: its newest page the first time, or the page around `seq` (a permalink).
 * @param {string} id
 * @param {number | null} [seq]
 */
export async function openChannel(id, seq) {
  const switching = channelId.value !== id;
  channelId.value = id;
  const channel = channels.value.find((c) => c.id === id);
  if (switching && channel) {
    dividers.value = { ...dividers.value, [id]: (channel.unread_count ?? 0) > 0 ? channel.last_read_seq ?? 0 : Infinity };
  }
  if (seq) {
    highlighted.value = `${id}:${seq}`;
    const page = await get(`/channels/${id}/messages?around=${seq}&limit=${PAGE}`);
    replace(id, page.messages, page.has_more, page.has_newer);
    highlightVisit.value += 1;
  } else if (cursors[id] === undefined || behind.value[id]) {
    await jumpToLatest(id);
  }
  if (cursors[id] === undefined) cursors[id] = channel ? channel.last_seq : 0;
  markRead(id);
}

/** Loads a channel's newest page in place of what it holds. @param {string} id */
export async function jumpToLatest(id) {
  const page = await get(`/channels/${id}/messages?limit=${PAGE}`);
  replace(id, page.messages, page.has_more, false);
}

/**
 * Makes `list` the channel's loaded messages.
 * @param {string} id
 * @param {Message[]} list
 * @param {boolean} hasOlder
 * @param {boolean} hasNewer
 */
function replace(id, list, hasOlder, hasNewer) {
  messages.value = { ...messages.value, [id]: [] };
  behind.value = { ...behind.value, [id]: false };
  apply(list);
  older.value = { ...older.value, [id]: hasOlder };
  behind.value = { ...behind.value, [id]: hasNewer };
}

/** Loads the page before the oldest loaded message (scrolling up); far back, the newest go. @param {string} id */
export async function loadOlder(id) {
  const list = messages.value[id] ?? [];
  if (list.length === 0 || !older.value[id]) return;
  const page = await get(`/channels/${id}/messages?before=${list[0].seq}&limit=${PAGE}`);
  apply(page.messages);
  older.value = { ...older.value, [id]: page.has_more };
  const now = messages.value[id] ?? [];
  if (now.length > MAX_LOADED) {
    messages.value = { ...messages.value, [id]: now.slice(0, MAX_LOADED) };
    behind.value = { ...behind.value, [id]: true };
  }
}

/** Loads the page after the newest loaded message (scrolling down in older history). @param {string} id */
export async function loadNewer(id) {
  const list = messages.value[id] ?? [];
  if (list.length === 0 || !behind.value[id]) return;
  const last = list[list.length - 1];
  const page = await get(`/channels/${id}/messages?around=${last.seq}&limit=${2 * PAGE}`);
  behind.value = { ...behind.value, [id]: false };
  apply(page.messages);
  behind.value = { ...behind.value, [id]: page.has_newer };
  const now = messages.value[id] ?? [];
  if (now.length > MAX_LOADED) {
    messages.value = { ...messages.value, [id]: now.slice(now.length - MAX_LOADED) };
    older.value = { ...older.value, [id]: true };
  }
}

/**
 * Catches up after a reconnect's `hello`, in one `POST /sync` (repeated while incomplete):
 * every loaded channel's changes since its cursor, every channel's read state and counts,
 * channels joined and left meanwhile.
 */
export async function catchUp() {
  for (;;) {
    const answer = await post('/sync', { cursors: { ...cursors }, limit: 100 });
    const listed = new Set();
    /** @type {Channel[]} */
    const mine = [];
    for (const c of answer.channels) {
      listed.add(c.channel.id);
      if (cursors[c.channel.id] !== undefined) {
        apply(c.messages);
        cursors[c.channel.id] = Math.max(cursors[c.channel.id], c.next_cursor);
      }
      if (c.channel.workspace_id === workspaceId.value) {
        mine.push({ ...c.channel, is_member: true, last_read_seq: c.last_read_seq, unread_count: c.unread_count, mention_count: c.mention_count });
      }
    }
    for (const id of answer.removed) delete cursors[id];
    if (workspaceId.value) {
      const byId = new Map(mine.map((c) => [c.id, c]));
      const kept = channels.value
        .map((c) => byId.get(c.id) ?? (c.is_member === false ? c : c.kind === 'public' ? { ...c, is_member: false, unread_count: 0, mention_count: 0 } : null))
        .filter((c) => c !== null);
      for (const c of mine) if (!kept.some((k) => k.id === c.id)) kept.push(c);
      channels.value = /** @type {Channel[]} */ (kept);
    }
    if (answer.complete) return;
  }
}

/** Added to a channel (joined, invited, a new DM), on any device. @param {Channel} channel */
export function onChannelAdded(channel) {
  if (channel.workspace_id !== workspaceId.value) return;
  upsert({ ...channel, is_member: true });
  if (cursors[channel.id] === undefined) cursors[channel.id] = channel.last_seq;
}

/** Left or removed, on any device. @param {string} id */
export function onChannelRemoved(id) {
  delete cursors[id];
  channels.value = channels.value
    .map((c) => (c.id !== id ? c : c.kind === 'public' ? { ...c, is_member: false, unread_count: 0, mention_count: 0 } : null))
    .filter((c) => c !== null);
}

/** People being looked up, so each is asked for once. */
const asked = new Set();

/**
 * Learns the names of people not known yet (who joined after the list was read).
 * @param {Iterable<string>} ids
 */
export function learn(ids) {
  for (const id of ids) {
    if (people.value[id] || asked.has(id)) continue;
    asked.add(id);
    get(`/users/${id}`)
      .then((answer) => {
        people.value = { ...people.value, [id]: { username: answer.user.username, display_name: answer.user.display_name, status_text: answer.user.status_text } };
        presence.watch(Object.keys(people.value));
      })
      .catch(() => {});
  }
}

/**
 * Puts messages in their channels, keeping of each the highest `version`.
 * @param {Message[]} list
 */
export function apply(list) {
  if (list.length === 0) return;
  learn(list.flatMap((m) => [m.author_id, ...(m.reactions ?? []).flatMap((r) => r.user_ids)]));
  const next = { ...messages.value };
  const threads = { ...replies.value };
  for (const m of list) {
    const lists = m.thread_root_id ? threads : next;
    const key = m.thread_root_id ?? m.channel_id;
    const current = lists[key] ?? [];
    const at = current.findIndex((x) => x.id === m.id);
    if (at >= 0 && current[at].version >= m.version) continue;
    // A channel showing older history takes no new messages past what it shows: they come
    // with the newest page ("Jump to latest"), so the list never has a hole.
    if (at < 0 && !m.thread_root_id && behind.value[key] && current.length > 0 && m.seq > current[current.length - 1].seq) continue;
    const updated = at >= 0 ? current.map((x, i) => (i === at ? m : x)) : [...current, m];
    updated.sort((a, b) => a.seq - b.seq);
    lists[key] = updated;
  }
  messages.value = next;
  replies.value = threads;
}

/**
 * Opens a thread beside the channel: its root and replies as they are now.
 * @param {string | null} rootId
 */
export async function openThread(rootId) {
  threadId.value = rootId;
  highlightedReply.value = null;
  if (rootId === null) return;
  const answer = await get(`/messages/${rootId}/thread`);
  apply([answer.root, ...answer.replies]);
  if (typeof answer.following === 'boolean') following.value = { ...following.value, [rootId]: answer.following };
}

/** The open thread's root, wherever it is loaded. */
export const threadRoot = computed(() => {
  const id = threadId.value;
  if (id === null) return null;
  for (const list of Object.values(messages.value)) {
    const found = list.find((m) => m.id === id);
    if (found) return found;
  }
  return null;
});

/**
 * A live event of a channel.
 * @param {{channel_id: string, seq: number, kind: string, message?: Message, root?: Message}} event
 */
export function onEvent(event) {
  if (event.kind === 'member.joined' && 'user_id' in event) learn([/** @type {any} */ (event).user_id]);
  if (cursors[event.channel_id] !== undefined && event.seq <= cursors[event.channel_id]) return;
  const found = [event.message, event.root].filter((m) => m !== undefined);
  apply(/** @type {Message[]} */ (found));
  const m = event.message;
  if (event.kind === 'message.created' && m && event.channel_id === channelId.value && m.author_id !== me.value?.id && !m.thread_root_id) {
    announcement.value = `${people.value[m.author_id]?.display_name ?? 'Someone'}: ${m.body ?? ''}`;
  }
  if (cursors[event.channel_id] !== undefined) cursors[event.channel_id] = event.seq;
  channels.value = channels.value.map((c) => {
    if (c.id !== event.channel_id) return c;
    // Others' new top-level messages in a channel not on screen, as the server counts them.
    const unread = event.kind === 'message.created' && c.id !== channelId.value &&
      event.message?.author_id !== me.value?.id && !event.message?.thread_root_id;
    return { ...c, last_seq: event.seq, unread_count: (c.unread_count ?? 0) + (unread ? 1 : 0) };
  });
  // Read only when seen: a hidden tab leaves it unread (and its notifications stand).
  if (event.channel_id === channelId.value && document.hasFocus() && !document.hidden) markRead(event.channel_id);
}

/**
 * The user's read cursor moved (on any device).
 * @param {{channel_id: string, seq: number}} frame
 */
export function onRead(frame) {
  channels.value = channels.value.map((c) =>
    c.id === frame.channel_id ? { ...c, last_read_seq: frame.seq, unread_count: 0, mention_count: 0 } : c,
  );
}

/** Marks a channel read up to its end (on screen with focus, or Esc). @param {string} id */
export function markRead(id) {
  const channel = channels.value.find((c) => c.id === id);
  if (!channel || channel.is_member === false || (channel.unread_count ?? 0) === 0) return;
  post(`/channels/${id}/read`, { seq: channel.last_seq }).catch(() => {});
  onRead({ channel_id: id, seq: channel.last_seq });
}

/**
 * Replaces a message's body; the event that follows brings it to every screen.
 * @param {string} id
 * @param {string} body
 */
export async function editMessage(id, body) {
  const answer = await request('PATCH', `/messages/${id}`, { body });
  apply([answer.message]);
}

/**
 * Adds the user's reaction, or takes it back when it is there already.
 * @param {Message} message
 * @param {string} emoji
 */
export async function toggleReaction(message, emoji) {
  const mine = (message.reactions ?? []).some((r) => r.emoji === emoji && r.user_ids.includes(me.value?.id ?? ''));
  const answer = await request(mine ? 'DELETE' : 'PUT', `/messages/${message.id}/reactions/${encodeURIComponent(emoji)}`);
  apply([answer.message]);
}

/** @param {string} id */
export async function deleteMessage(id) {
  await request('DELETE', `/messages/${id}`);
}

/**
 * Opens (or finds) the DM with these people; its ID.
 * @param {string[]} userIds
 */
export async function openDm(userIds) {
  const answer = await post(`/workspaces/${workspaceId.value}/dms`, { user_ids: userIds });
  const dm = answer.channel;
  upsert({ ...dm, is_member: true, unread_count: 0 });
  return dm.id;
}

/**
 * What a channel is called: `#name`, or a DM's other people by name.
 * @param {Channel} c
 */
export function title(c) {
  if (c.kind !== 'dm') return `#${c.name ?? ''}`;
  const others = (c.members ?? []).filter((id) => id !== me.value?.id);
  learn(others);
  if (others.length === 0) return `${me.value?.display_name ?? 'you'} (you)`;
  return others.map((id) => people.value[id]?.display_name ?? 'someone').join(', ');
}

/**
 * Puts a channel in the list, or refreshes it there: the HTTP answer and the socket's
 * `channel.added` may come in either order, and the channel must show once.
 * @param {Channel} channel
 */
function upsert(channel) {
  const at = channels.value.findIndex((c) => c.id === channel.id);
  channels.value = at < 0 ? [...channels.value, channel] : channels.value.map((c, i) => (i === at ? { ...c, ...channel } : c));
}

/** Leaves a channel (not a DM); the socket's `channel.removed` says so everywhere else. @param {string} id */
export async function leaveChannel(id) {
  await post(`/channels/${id}/leave`, undefined);
  onChannelRemoved(id);
}

/** @param {string} id */
export async function joinChannel(id) {
  await post(`/channels/${id}/join`, undefined);
  channels.value = channels.value.map((c) => (c.id === id ? { ...c, is_member: true } : c));
}

/**
 * @param {string} name
 * @param {boolean} isPrivate
 */
export async function createChannel(name, isPrivate) {
  const answer = await post(`/workspaces/${workspaceId.value}/channels`, { name, private: isPrivate });
  upsert({ ...answer.channel, is_member: true, unread_count: 0 });
  return answer.channel.id;
}

/** Who is typing where, until when (ms). */
/** @type {import('../vendor/signals.js').Signal<Record<string, Record<string, number>>>} */
export const typists = signal({});

/** A typing indicator lasts this long after its last frame. */
const TYPING_SHOWN_MS = 5000;

/**
 * Another member is typing in a channel.
 * @param {{channel_id: string, user_id: string}} frame
 */
export function onTyping(frame) {
  const until = Date.now() + TYPING_SHOWN_MS;
  typists.value = { ...typists.value, [frame.channel_id]: { ...(typists.value[frame.channel_id] ?? {}), [frame.user_id]: until } };
  learn([frame.user_id]);
  setTimeout(() => {
    const now = Date.now();
    const left = Object.fromEntries(Object.entries(typists.value[frame.channel_id] ?? {}).filter(([, t]) => t > now));
    typists.value = { ...typists.value, [frame.channel_id]: left };
  }, TYPING_SHOWN_MS + 50);
}

/**
 * "Ada is typing…", "Ada and Bo are typing…", "Several people are typing…", or nothing.
 * @param {string} channel
 */
export function typingLine(channel) {
  const now = Date.now();
  const names = Object.entries(typists.value[channel] ?? {})
    .filter(([, until]) => until > now)
    .map(([id]) => people.value[id]?.display_name ?? 'Someone');
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return 'Several people are typing…';
}

/**
 * The sends still pending in one composer that are not on screen yet. A send whose ack was
 * lost (a dropped connection, a reload) is retried, and the server answers with the original;
 * meanwhile its message may already have arrived as an event: a pending entry is hidden once
 * an unclaimed message of the user's with its body is there, so it is never shown twice.
 * @param {string} channel
 * @param {string | null} root
 */
export function pendingShown(channel, root) {
  const mine = (root ? replies.value[root] : messages.value[channel]) ?? [];
  const claimed = new Set();
  return pending.value.filter((p) => {
    if (p.channel_id !== channel || (p.thread_root_id ?? null) !== root) return false;
    // Still uploading: not sent, so not on screen either.
    if (p.uploads) return true;
    const files = (p.file_ids ?? []).join();
    const twin = mine.find((m) => !claimed.has(m.id) && m.author_id === me.value?.id && (m.body ?? '') === p.body &&
      (m.files ?? []).map((f) => f.id).join() === files && Date.parse(m.ts) >= (p.at ?? 0) - 60_000);
    if (twin) claimed.add(twin.id);
    return twin === undefined;
  });
}
