// @ts-check
/** Who is signed in: `undefined` while asking, `null` when nobody is. */
import { signal } from '../vendor/signals.js';
import { ApiError, get, post } from '../api.js';

/** @typedef {{id: string, username: string, display_name: string}} User */
/** @typedef {{id: string, name: string, general_channel_id: string, role: string}} Workspace */

/** @type {import('../vendor/signals.js').Signal<User | null | undefined>} */
export const me = signal(undefined);
/** @type {import('../vendor/signals.js').Signal<Workspace[]>} */
export const workspaces = signal([]);

export async function loadMe() {
  try {
    const answer = await get('/me');
    me.value = answer.user;
    workspaces.value = answer.workspaces;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) me.value = null;
    else throw e;
  }
}

/**
 * @param {'login' | 'register'} how
 * @param {string} username
 * @param {string} password
 */
export async function signIn(how, username, password) {
  await post(`/auth/browser/${how}`, { username, password, client_name: 'confab web' });
  await loadMe();
}

export async function signOut() {
  await post('/auth/logout', undefined);
  me.value = null;
  workspaces.value = [];
}
