// @ts-check
/**
 * The one WebSocket: a ticket from `POST /ws/ticket` (the session cookie stays out of
 * scripts), then frames into the stores. It reconnects with jittered backoff; after each
 * `hello` it catches up every loaded channel and sends again whatever is still pending, with
 * the same `client_msg_id`, so nothing is lost or shown twice.
 */
import { signal } from './vendor/signals.js';
import { post } from './api.js';
import * as chat from './stores/chat.js';

/** @type {import('./vendor/signals.js').Signal<'connecting' | 'online' | 'reconnecting'>} */
export const state = signal('connecting');

/** @type {WebSocket | null} */
let socket = null;
let attempt = 0;
let stopped = false;
const PENDING_KEY = 'confab.pending';

export function start() {
  stopped = false;
  chat.pending.value = JSON.parse(localStorage.getItem(PENDING_KEY) ?? '[]');
  connect();
  window.addEventListener('online', () => reconnectNow());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && socket === null) reconnectNow();
  });
}

export function stop() {
  stopped = true;
  socket?.close();
  socket = null;
}

function reconnectNow() {
  attempt = 0;
  if (socket === null && !stopped) connect();
}

async function connect() {
  state.value = attempt === 0 ? 'connecting' : 'reconnecting';
  try {
    const { ticket } = await post('/ws/ticket', undefined);
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/ws?ticket=${encodeURIComponent(ticket)}`);
    socket = ws;
    ws.onmessage = (e) => onFrame(JSON.parse(e.data));
    ws.onclose = () => {
      if (socket === ws) socket = null;
      retry();
    };
  } catch {
    retry();
  }
}

function retry() {
  if (stopped) return;
  state.value = 'reconnecting';
  const wait = Math.min(30_000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
  attempt += 1;
  setTimeout(() => {
    if (socket === null && !stopped) connect();
  }, wait);
}

/** @param {any} frame */
async function onFrame(frame) {
  switch (frame.type) {
    case 'hello':
      attempt = 0;
      await chat.catchUp();
      state.value = 'online';
      for (const p of chat.pending.value) sendFrame(p);
      break;
    case 'event':
      chat.onEvent(frame);
      break;
    case 'ack':
      setPending(chat.pending.value.filter((p) => p.client_msg_id !== frame.client_msg_id));
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
      break;
    case 'typing':
      chat.onTyping(frame);
      break;
    case 'channel.added':
    case 'channel.removed':
      if (chat.workspaceId.value) chat.openWorkspace(chat.workspaceId.value);
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
  if (socket && socket.readyState === WebSocket.OPEN && !p.failed) {
    socket.send(
      JSON.stringify({ type: 'send', channel_id: p.channel_id, client_msg_id: p.client_msg_id, body: p.body, thread_root_id: p.thread_root_id }),
    );
  }
}

/**
 * Sends a message (into a thread, with its root): pending at once, retried with the same id
 * until acknowledged.
 * @param {string} channelId
 * @param {string} body
 * @param {string} [threadRootId]
 */
export function send(channelId, body, threadRootId) {
  /** @type {chat.Pending} */
  const p = { client_msg_id: crypto.randomUUID(), channel_id: channelId, body };
  if (threadRootId) p.thread_root_id = threadRootId;
  setPending([...chat.pending.value, p]);
  sendFrame(p);
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
