// @ts-check
/**
 * The one WebSocket: a ticket from `POST /ws/ticket` (the session cookie stays out of
 * scripts), then frames into the stores. It reconnects with jittered backoff, and at once when
 * the page becomes visible or the network returns. A browser cannot see WebSocket pings, so
 * an application `ping` every 10 s, answered by `pong`, tells a live socket from a dead one
 * that still says OPEN. After each `hello` it catches up with one `POST /sync` (events
 * arriving meanwhile wait, then apply above the new cursors) and sends again whatever is still
 * pending, with the same `client_msg_id`, so nothing is lost or shown twice. A message with
 * files waits, pending, until all its uploads are done (`stores/uploads.js`), then goes with
 * their IDs. New messages and reads also go to `stores/notifications.js`, for the alert a
 * hidden tab gives.
 */
import { effect, signal } from './vendor/signals.js';
import { post } from './api.js';
import * as chat from './stores/chat.js';
import * as drafts from './stores/drafts.js';
import * as presence from './stores/presence.js';
import * as notifications from './stores/notifications.js';
import * as uploads from './stores/uploads.js';

/** @type {import('./vendor/signals.js').Signal<'connecting' | 'online' | 'reconnecting' | 'offline'>} */
export const state = signal('connecting');

/** @type {WebSocket | null} */
let socket = null;
let attempt = 0;
let stopped = false;
/** A pending reconnect timer, so only one is ever waiting. */
let timer = 0;
/** Events heard while catching up: applied once the cursors are current. @type {any[] | null} */
let buffered = null;
const PENDING_KEY = 'confab.pending';
/** How often a socket is asked whether it is alive, and how long it has to answer. */
const PING_EVERY_MS = 10_000;
const PONG_WITHIN_MS = 5_000;
let lastHeard = 0;
let pingTimer = 0;

export function start() {
  stopped = false;
  /** @type {chat.Pending[]} */
  const saved = JSON.parse(localStorage.getItem(PENDING_KEY) ?? '[]');
  // A message whose uploads were still going when the page closed lost its files: it may be
  // sent without them, or discarded.
  setPending(saved.flatMap((p) => {
    if (!p.uploads) return [p];
    const { uploads: _lost, ...rest } = p;
    return p.body.trim() ? [{ ...rest, failed: 'its files were not uploaded before the page closed' }] : [];
  }));
  connect();
  addEventListener('online', () => {
    // The old socket may be dead while it says OPEN: start afresh.
    drop();
    reconnectNow();
  });
  addEventListener('offline', () => {
    state.value = 'offline';
    drop();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') return;
    if (socket === null) reconnectNow();
    else ping();
  });
  pingTimer = window.setInterval(ping, PING_EVERY_MS);
}

export function stop() {
  stopped = true;
  clearInterval(pingTimer);
  drop();
}

/** Forgets the current socket without waiting for it to close (a dead one never says so). */
function drop() {
  const ws = socket;
  socket = null;
  buffered = null;
  if (ws) {
    ws.onclose = null;
    ws.onmessage = null;
    ws.close();
  }
}

/** Asks the socket whether it is alive; silence past `PONG_WITHIN_MS` means it is not. */
function ping() {
  const ws = socket;
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  const asked = Date.now();
  ws.send(JSON.stringify({ type: 'ping' }));
  setTimeout(() => {
    if (socket === ws && lastHeard < asked) {
      drop();
      retry();
    }
  }, PONG_WITHIN_MS);
}

function reconnectNow() {
  attempt = 0;
  if (socket === null && !stopped) {
    clearTimeout(timer);
    connect();
  }
}

async function connect() {
  if (stopped) return;
  if (!navigator.onLine) {
    state.value = 'offline';
    return;
  }
  state.value = attempt === 0 ? 'connecting' : 'reconnecting';
  try {
    const { ticket } = await post('/ws/ticket', undefined);
    if (socket !== null || stopped) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/ws?ticket=${encodeURIComponent(ticket)}`);
    socket = ws;
    ws.onmessage = (e) => {
      if (socket !== ws) return;
      lastHeard = Date.now();
      onFrame(JSON.parse(e.data));
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      buffered = null;
      retry();
    };
  } catch {
    retry();
  }
}

function retry() {
  if (stopped) return;
  state.value = navigator.onLine ? 'reconnecting' : 'offline';
  const wait = Math.min(30_000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
  attempt += 1;
  clearTimeout(timer);
  timer = window.setTimeout(() => {
    if (socket === null) connect();
  }, wait);
}

/** @param {any} frame */
async function onFrame(frame) {
  switch (frame.type) {
    case 'hello': {
      attempt = 0;
      const ws = socket;
      buffered = [];
      try {
        await chat.catchUp();
      } catch {
        // The socket stays; the next reconnect catches up again.
        drop();
        retry();
        return;
      }
      if (socket !== ws) return;
      const waiting = buffered ?? [];
      buffered = null;
      for (const event of waiting) chat.onEvent(event);
      state.value = 'online';
      presence.resubscribe();
      for (const p of chat.pending.value) sendFrame(p);
      break;
    }
    case 'event':
      if (buffered) buffered.push(frame);
      else chat.onEvent(frame);
      if (frame.kind === 'message.created') drafts.onOwnMessage(frame.message);
      notifications.onEvent(frame);
      break;
    case 'ack':
      setPending(chat.pending.value.filter((p) => p.client_msg_id !== frame.client_msg_id));
      uploads.forget(uploads.messageHolder(frame.client_msg_id));
      break;
    case 'error':
      if (frame.client_msg_id && !['rate_limited', 'unavailable'].includes(frame.code)) {
        setPending(
          chat.pending.value.map((p) => (p.client_msg_id === frame.client_msg_id ? { ...p, failed: frame.message } : p)),
        );
      }
      break;
    case 'read':
      chat.onRead(frame);
      notifications.onCleared(frame);
      break;
    case 'notification.cleared':
      notifications.onCleared(frame);
      break;
    case 'typing':
      chat.onTyping(frame);
      break;
    case 'presence':
      presence.onPresence(frame);
      break;
    case 'draft':
      drafts.onDraft(frame.draft);
      break;
    case 'channel.added':
      chat.onChannelAdded(frame.channel);
      break;
    case 'channel.removed':
      chat.onChannelRemoved(frame.channel_id);
      break;
    case 'file.updated':
      uploads.onFileUpdated(frame.file);
      break;
  }
}

/** @param {chat.Pending[]} list */
function setPending(list) {
  chat.pending.value = list;
  localStorage.setItem(PENDING_KEY, JSON.stringify(list));
}

/** @param {chat.Pending} p */
function sendFrame(p) {
  if (socket && socket.readyState === WebSocket.OPEN && !p.failed && !p.uploads && buffered === null) {
    socket.send(
      JSON.stringify({ type: 'send', channel_id: p.channel_id, client_msg_id: p.client_msg_id, body: p.body, thread_root_id: p.thread_root_id, file_ids: p.file_ids }),
    );
  }
}

// A message waiting for its uploads: sent once every one is done, with their IDs in the
// order attached; a cancelled one is left out, and a message left with no words and no
// files is dropped. A failed upload keeps it waiting, for a retry or a removal.
effect(() => {
  const all = uploads.uploads.value;
  const list = chat.pending.value;
  if (!list.some((p) => p.uploads)) return;
  /** @type {chat.Pending[]} */
  const ready = [];
  let changed = false;
  const next = list.flatMap((p) => {
    if (!p.uploads) return [p];
    const holder = uploads.messageHolder(p.client_msg_id);
    const mine = all.filter((u) => u.holder === holder);
    if (mine.length === 0 && !p.body.trim()) {
      changed = true;
      return [];
    }
    if (mine.every((u) => u.state === 'done')) {
      const { uploads: _done, ...rest } = p;
      /** @type {chat.Pending} */
      const sent = { ...rest, file_ids: mine.map((u) => /** @type {string} */ (u.file_id)) };
      if (sent.file_ids?.length === 0) delete sent.file_ids;
      ready.push(sent);
      changed = true;
      return [sent];
    }
    if (mine.length !== p.uploads.length) {
      changed = true;
      return [{ ...p, uploads: mine.map((u) => u.id) }];
    }
    return [p];
  });
  if (!changed) return;
  setPending(next);
  for (const p of ready) sendFrame(p);
});

/**
 * Sends a message (into a thread, with its root): pending at once, retried with the same id
 * until acknowledged. With `composer`, the files attached there go with it, once uploaded.
 * @param {string} channelId
 * @param {string} body
 * @param {string} [threadRootId]
 * @param {string} [composer] the holder of its uploads (the composer's draft key)
 */
export function send(channelId, body, threadRootId, composer) {
  /** @type {chat.Pending} */
  const p = { client_msg_id: crypto.randomUUID(), channel_id: channelId, body, at: Date.now() };
  if (threadRootId) p.thread_root_id = threadRootId;
  const files = composer ? uploads.move(composer, uploads.messageHolder(p.client_msg_id)) : [];
  if (files.length > 0) p.uploads = files;
  setPending([...chat.pending.value, p]);
  // Uploads all done already: the effect above sends it.
  if (!p.uploads) sendFrame(p);
}

/**
 * Tries a failed send again, with its same id.
 * @param {string} clientMsgId
 */
export function retrySend(clientMsgId) {
  const list = chat.pending.value.map((p) => {
    if (p.client_msg_id !== clientMsgId) return p;
    const { failed: _failed, ...again } = p;
    return again;
  });
  setPending(list);
  const p = list.find((x) => x.client_msg_id === clientMsgId);
  if (p) sendFrame(p);
}

/**
 * Gives up on a failed send.
 * @param {string} clientMsgId
 */
export function discardSend(clientMsgId) {
  setPending(chat.pending.value.filter((p) => p.client_msg_id !== clientMsgId));
  uploads.forget(uploads.messageHolder(clientMsgId));
}

/**
 * Sends any frame the socket is open for (presence, subscriptions); dropped when it is not,
 * as these are sent again after every `hello`.
 * @param {object} frame
 */
export function sendControl(frame) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
}

/** When this socket last said the user is typing, per channel (the server forwards one per 3 s). */
/** @type {Record<string, number>} */
const saidTyping = {};

/**
 * Tells the channel's other members the user is typing, at most every 3 seconds.
 * @param {string} channelId
 */
export function typing(channelId) {
  const now = Date.now();
  if (socket && socket.readyState === WebSocket.OPEN && now - (saidTyping[channelId] ?? 0) > 3000) {
    saidTyping[channelId] = now;
    socket.send(JSON.stringify({ type: 'typing', channel_id: channelId }));
  }
}
