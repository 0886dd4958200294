// @ts-check
/**
 * The chat state the screens show, fed only by HTTP answers and socket frames: the current
 * workspace's channels, each loaded channel's messages (one map by id, an entry replaced only
 * by a higher `version`, as docs/protocol.md prescribes) and the sends still pending.
 */
import { signal, computed } from '../vendor/signals.js';
import { get, post, request } from '../api.js';
import { me } from './session.js';

/** @typedef {{id: string, workspace_id: string, kind: string, name: string | null, topic: string, last_seq: number, members?: string[], is_member?: boolean, last_read_seq?: number, unread_count?: number, mention_count?: number}} Channel */
/** @typedef {{emoji: string, count: number, user_ids: string[]}} Reaction */
/** @typedef {{id: string, channel_id: string, seq: number, version: number, author_id: string, body?: string | null, ts: string, edited_at?: string, deleted: boolean, thread_root_id?: string | null, reactions?: Reaction[], reply_count?: number, reply_users?: string[]}} Message */
/** @typedef {{client_msg_id: string, channel_id: string, body: string, thread_root_id?: string, failed?: string}} Pending */

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
/** The thread open beside the channel. */
/** @type {import('../vendor/signals.js').Signal<string | null>} */
export const threadId = signal(null);
/** The workspace's people by id, for names beside messages. */
/** @type {import('../vendor/signals.js').Signal<Record<string, {username: string, display_name: string}>>} */
export const people = signal({});

export const currentChannel = computed(() => channels.value.find((c) => c.id === channelId.value) ?? null);

/** @param {string} id */
export async function openWorkspace(id) {
  workspaceId.value = id;
  const answer = await get(`/workspaces/${id}/channels`);
  channels.value = answer.channels;
  /** @type {Record<string, {username: string, display_name: string}>} */
  const found = {};
  let after = '';
  for (;;) {
    const page = await get(`/workspaces/${id}/members?limit=200&after=${encodeURIComponent(after)}`);
    for (const m of page.members) found[m.user_id] = { username: m.username, display_name: m.display_name };
    if (!page.next_after) break;
    after = page.next_after;
  }
  people.value = found;
}

/** @param {string} id */
export async function openChannel(id) {
  channelId.value = id;
  if (cursors[id] === undefined) {
    const page = await get(`/channels/${id}/messages?limit=50`);
    const channel = channels.value.find((c) => c.id === id);
    apply(page.messages);
    cursors[id] = Math.max(cursors[id] ?? 0, channel ? channel.last_seq : 0);
  }
  markRead(id);
}

/** Every loaded channel's changes since its cursor (after a reconnect's `hello`). */
export async function catchUp() {
  for (const id of Object.keys(cursors)) {
    let more = true;
    while (more) {
      const page = await get(`/channels/${id}/messages?since=${cursors[id]}&limit=200`);
      apply(page.messages);
      cursors[id] = Math.max(cursors[id], page.next_cursor ?? cursors[id]);
      more = page.has_more;
    }
  }
}

/** People being looked up, so each is asked for once. */
const asked = new Set();

/**
 * Learns the names of people not known yet (who joined after the list was read).
 * @param {Iterable<string>} ids
 */
function learn(ids) {
  for (const id of ids) {
    if (people.value[id] || asked.has(id)) continue;
    asked.add(id);
    get(`/users/${id}`)
      .then((answer) => {
        people.value = { ...people.value, [id]: { username: answer.user.username, display_name: answer.user.display_name } };
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
  if (rootId === null) return;
  const answer = await get(`/messages/${rootId}/thread`);
  apply([answer.root, ...answer.replies]);
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
  if (cursors[event.channel_id] !== undefined) cursors[event.channel_id] = event.seq;
  channels.value = channels.value.map((c) => {
    if (c.id !== event.channel_id) return c;
    // Others' new top-level messages in a channel not on screen, as the server counts them.
    const unread = event.kind === 'message.created' && c.id !== channelId.value &&
      event.message?.author_id !== me.value?.id && !event.message?.thread_root_id;
    return { ...c, last_seq: event.seq, unread_count: (c.unread_count ?? 0) + (unread ? 1 : 0) };
  });
  if (event.channel_id === channelId.value && document.hasFocus()) markRead(event.channel_id);
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

/** @param {string} id */
function markRead(id) {
  const channel = channels.value.find((c) => c.id === id);
  if (!channel || (channel.unread_count ?? 0) === 0) return;
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
  if (!channels.value.some((c) => c.id === dm.id)) channels.value = [...channels.value, { ...dm, is_member: true, unread_count: 0 }];
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
  channels.value = [...channels.value, { ...answer.channel, is_member: true, unread_count: 0 }];
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
