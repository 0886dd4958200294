// @ts-check
/**
 * Presence: who is online, idle or offline, for the dots beside people. The socket watches
 * the workspace's people (`presence_subscribe`, at most 500) and says whether this tab is
 * active or idle.
 */
import { signal } from '../vendor/signals.js';
import { sendControl } from '../socket.js';

/** @type {import('../vendor/signals.js').Signal<Record<string, 'online' | 'idle' | 'offline'>>} */
export const statuses = signal({});

/** @type {string[]} */
let watched = [];

let timer = 0;

/**
 * Watches these people (replacing the set). Subscriptions are rate limited per user, so
 * changes made close together go as one frame.
 * @param {string[]} ids
 */
export function watch(ids) {
  watched = ids.slice(0, 500);
  clearTimeout(timer);
  timer = window.setTimeout(() => sendControl({ type: 'presence_subscribe', user_ids: watched }), 300);
}

/** After each `hello`: subscriptions live on the socket, so they are made again. */
export function resubscribe() {
  if (watched.length > 0) sendControl({ type: 'presence_subscribe', user_ids: watched });
  sendControl({ type: 'presence', status: document.visibilityState === 'visible' ? 'online' : 'idle' });
}

/** @param {{user_id: string, status: 'online' | 'idle' | 'offline'}} frame */
export function onPresence(frame) {
  statuses.value = { ...statuses.value, [frame.user_id]: frame.status };
}

// A hidden tab is idle; a visible one active.
document.addEventListener('visibilitychange', () =>
  sendControl({ type: 'presence', status: document.visibilityState === 'visible' ? 'online' : 'idle' }),
);
