// @ts-check
/**
 * Message search: the query asked last, its answer as far as it was read (page by page, by
 * the server's cursor), whether the results panel is open, the sort asked for, and the user's
 * recent searches (the last 10, kept per user in localStorage). Fed only by `GET /search`;
 * the screens are `screens/search.js` (the box) and `screens/search-results.js` (the panel).
 */
import { computed, effect, signal } from '../vendor/signals.js';
import { ApiError, get } from '../api.js';
import { me } from './session.js';
import * as chat from './chat.js';
import * as files from './files.js';

/** @typedef {{start: number, end: number}} Highlight */
/** @typedef {{message: chat.Message, channel_id: string, highlights: Highlight[]}} Result */
/** @typedef {'recent' | 'relevance'} Sort */
/**
 * One search as far as it was read. `next_cursor` is where the next page starts (null: the
 * last was read); `error` what went wrong with the last request ('' when nothing did).
 * @typedef {{query: string, sort: Sort, items: Result[], next_cursor: string | null, total: number, loading: boolean, error: string}} Results
 */

/** @type {import('../vendor/signals.js').Signal<Results | null>} */
export const results = signal(null);
/** Whether the results panel is wanted (a thread opened meanwhile is shown in its place). */
export const panel = signal(false);
/** @type {import('../vendor/signals.js').Signal<Sort>} */
export const sort = signal('recent');
/** The user's last searches, newest first. @type {import('../vendor/signals.js').Signal<string[]>} */
export const recent = signal([]);

/** Bumped by every request, so an answer that a newer search overtook is dropped. */
let generation = 0;

/** The server's `total_estimate` stops counting here. */
export const TOTAL_CAP = 1000;
const PAGE = 20;
const KEEP = 10;

/** The panel shows when wanted and the thread does not take its place. */
export const shown = computed(() => panel.value && chat.threadId.value === null && !files.open.value);

// Another workspace: what was found in this one is not its.
let searchedIn = chat.workspaceId.peek();
effect(() => {
  const id = chat.workspaceId.value;
  if (id === searchedIn) return;
  searchedIn = id;
  generation += 1;
  results.value = null;
  panel.value = false;
});

// The Files panel opened is a choice of another panel: the results step aside for good.
effect(() => {
  if (files.open.value) panel.value = false;
});

/** Where one user's recent searches are kept. @param {string} userId */
const storageKey = (userId) => `confab.search.recent.${userId}`;

/** @param {string} userId @returns {string[]} */
function readRecent(userId) {
  try {
    const list = JSON.parse(localStorage.getItem(storageKey(userId)) ?? '[]');
    return Array.isArray(list) ? list.filter((q) => typeof q === 'string').slice(0, KEEP) : [];
  } catch {
    return [];
  }
}

// Each user their own list: read when someone signs in, and again when another tab changes it.
effect(() => {
  const id = me.value?.id;
  recent.value = id ? readRecent(id) : [];
});
addEventListener('storage', (e) => {
  const id = me.peek()?.id;
  if (id && e.key === storageKey(id)) recent.value = readRecent(id);
});

/** @param {string[]} list */
function keepRecent(list) {
  recent.value = list;
  const id = me.peek()?.id;
  if (!id) return;
  try {
    localStorage.setItem(storageKey(id), JSON.stringify(list));
  } catch {
    // Storage full or refused: the list still lasts this tab.
  }
}

/** The same query however it was spaced: what dedupes the list. @param {string} q */
const normal = (q) => q.trim().replace(/\s+/g, ' ');

/** Puts a query first among the recent ones (once). @param {string} q */
export function remember(q) {
  const text = normal(q);
  if (!text) return;
  keepRecent([text, ...recent.peek().filter((x) => x.toLowerCase() !== text.toLowerCase())].slice(0, KEEP));
}

export function clearRecent() {
  keepRecent([]);
}


/**
 * Searches, opening the results panel (in the thread's or the files' place). With no sort,
 * the one asked for last.
 * @param {string} q
 * @param {Sort} [how]
 */
export async function search(q, how) {
  const text = normal(q);
  if (!text) return;
  remember(text);
  if (how) sort.value = how;
  chat.openThread(null);
  files.hide();
  panel.value = true;
  await load(text, sort.peek(), null);
}

/** The same query, sorted the other way. @param {Sort} how */
export async function resort(how) {
  sort.value = how;
  const was = results.peek();
  if (was) await load(was.query, how, null);
}

/** Reads the next page of the open search. */
export async function more() {
  const was = results.peek();
  if (!was || was.loading || !was.next_cursor) return;
  await load(was.query, was.sort, was.next_cursor);
}

/** Asks again what failed last (the first page, or the next). */
export async function retry() {
  const was = results.peek();
  if (was) await load(was.query, was.sort, was.items.length > 0 ? was.next_cursor : null);
}

/** Closes the panel; the answer is kept (the box can show it again). */
export function close() {
  panel.value = false;
}

/**
 * Reads one page: the first (`cursor` null, replacing what was shown) or the next.
 * @param {string} query
 * @param {Sort} how
 * @param {string | null} cursor
 */
async function load(query, how, cursor) {
  const mine = ++generation;
  const was = results.peek();
  const items = cursor && was ? was.items : [];
  results.value = { query, sort: how, items, next_cursor: cursor, total: cursor && was ? was.total : 0, loading: true, error: '' };
  const params = new URLSearchParams({ q: query, workspace_id: chat.workspaceId.peek() ?? '', limit: String(PAGE), sort: how });
  if (cursor) params.set('cursor', cursor);
  try {
    const page = await get(`/search?${params}`);
    if (mine !== generation) return;
    const seen = new Set(items.map((r) => r.message.id));
    /** @type {Result[]} */
    const added = page.results.filter((/** @type {Result} */ r) => !seen.has(r.message.id));
    chat.learn(added.map((r) => r.message.author_id));
    results.value = { query, sort: how, items: [...items, ...added], next_cursor: page.next_cursor ?? null, total: page.total_estimate ?? 0, loading: false, error: '' };
  } catch (e) {
    if (mine !== generation) return;
    results.value = { query, sort: how, items, next_cursor: cursor, total: cursor && was ? was.total : 0, loading: false, error: describe(e) };
  }
}

/** What to tell the user of a failed search. @param {unknown} e */
function describe(e) {
  if (e instanceof ApiError) {
    if (e.status === 429) {
      return e.retryAfter ? `Too many searches at once: try again in ${e.retryAfter} ${e.retryAfter === 1 ? 'second' : 'seconds'}.` : 'Too many searches at once: try again in a moment.';
    }
    return e.message ? `${e.message.charAt(0).toUpperCase()}${e.message.slice(1)}.`.replace(/\.\.$/, '.') : 'The search failed.';
  }
  return 'The server could not be reached.';
}

/** "N results", "1000+ results" where the server stopped counting, "No results". @param {number} total */
export function countLabel(total) {
  if (total >= TOTAL_CAP) return `${TOTAL_CAP}+ results`;
  if (total === 0) return 'No results';
  return total === 1 ? '1 result' : `${total} results`;
}

/**
 * The results as the panel shows them: a message since deleted (seen live in a loaded
 * channel or thread) is left out.
 */
export const items = computed(() => {
  const r = results.value;
  if (!r) return [];
  const loaded = new Map([...Object.values(chat.messages.value), ...Object.values(chat.replies.value)].flat().map((m) => [m.id, m]));
  return r.items.filter((x) => !loaded.get(x.message.id)?.deleted);
});

/**
 * Where a result is read in context: its channel at its message, or, for a thread reply, at
 * its root, with the thread to open beside it.
 * @param {Result} r
 * @returns {Promise<{channel_id: string, seq: number, thread?: string}>}
 */
export async function whereFound(r) {
  const m = r.message;
  if (!m.thread_root_id) return { channel_id: m.channel_id, seq: m.seq };
  const loaded = Object.values(chat.messages.value).flat().find((x) => x.id === m.thread_root_id);
  try {
    const root = loaded ?? (await get(`/messages/${m.thread_root_id}`)).message;
    return { channel_id: root.channel_id, seq: root.seq, thread: root.id };
  } catch {
    // The root is gone: the channel where the reply was posted, at that moment.
    return { channel_id: m.channel_id, seq: m.seq, thread: m.thread_root_id };
  }
}
