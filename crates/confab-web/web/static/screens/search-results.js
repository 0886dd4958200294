// @ts-check
/**
 * The search results panel, in the thread's place beside the channel: "N results", the sort
 * ("Most relevant" / "Most recent"), and each result with its author, where it was said, when,
 * and its words with the matches marked (plain text in `<mark>`s, never HTML). Scrolling to the
 * end, or "Load more", reads the next page. A result is a link to its message: clicked (or
 * Enter on it) it opens the channel at that message, highlighted, through the permalink path;
 * a thread reply opens its root there and the thread beside it, the reply highlighted. ↑/↓
 * move between results, Esc closes the panel. A thread opened takes the panel's place until
 * it closes.
 */
import { html } from '../lib/html.js';
import { pieces } from '../lib/highlights.js';
import * as chat from '../stores/chat.js';
import * as search from '../stores/search.js';

/** Near enough to the end of the list to read the next page, in pixels. */
const NEAR = 200;

/** A narrow screen has room for the panel or the channel, not both. */
const narrow = () => matchMedia('(max-width: 900px)').matches;

/** "Today at 09:41", "Yesterday at …", "Mar 3 at …", "Mar 3, 2024 at …". @param {Date} d */
function when(d) {
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (d.toDateString() === today.toDateString()) return `Today at ${time}`;
  if (d.toDateString() === yesterday.toDateString()) return `Yesterday at ${time}`;
  const day = d.toLocaleDateString([], d.getFullYear() === today.getFullYear()
    ? { month: 'short', day: 'numeric' }
    : { year: 'numeric', month: 'short', day: 'numeric' });
  return `${day} at ${time}`;
}

/** Where a result was said: `#channel`, or the DM's people. @param {string} channelId */
function where(channelId) {
  const c = chat.channels.value.find((x) => x.id === channelId);
  if (!c) return 'a conversation';
  return c.kind === 'dm' ? `Direct message with ${chat.title(c)}` : chat.title(c);
}

/**
 * Opens a result in context: the permalink of its message (or its thread's root), as a
 * link inside the app is followed, and the thread beside it for a reply.
 * @param {search.Result} r
 */
async function openResult(r) {
  const at = await search.whereFound(r);
  const path = `/w/${chat.workspaceId.value}/c/${at.channel_id}/m/${at.seq}`;
  if (narrow()) search.close();
  if (location.pathname === path) {
    // Already there (scrolled away since, say): the same path opens it again.
    chat.openChannel(at.channel_id, at.seq);
  } else {
    history.pushState(null, '', path);
    dispatchEvent(new PopStateEvent('popstate'));
  }
  if (at.thread) {
    const opened = chat.openThread(at.thread);
    chat.highlightedReply.value = r.message.thread_root_id ? r.message.id : null;
    await opened;
    requestAnimationFrame(() => document.querySelector(`aside.thread li.message[data-id="${r.message.id}"]`)?.scrollIntoView({ block: 'nearest' }));
  }
}

/** One result. @param {{result: search.Result}} props */
function Row({ result }) {
  const m = result.message;
  const author = chat.people.value[m.author_id]?.display_name ?? 'someone';
  const sent = new Date(m.ts);
  const attached = m.files ?? [];
  /** @param {MouseEvent} e */
  const click = (e) => {
    // A new tab or window is the browser's to open, at the message's own permalink.
    if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    // Not also followed by the app's own link handling: a reply opens at its root.
    e.stopPropagation();
    openResult(result);
  };
  return html`<li class="result" data-id=${m.id}>
    <a class="result-link" href=${`/w/${chat.workspaceId.value}/c/${m.channel_id}/m/${m.seq}`} onClick=${click}>
      <span class="result-head">
        <strong class="author">${author}</strong>
        <span class="where">${where(result.channel_id)}${m.thread_root_id ? ' · thread' : ''}</span>
        <time datetime=${m.ts} title=${sent.toLocaleString()}>${when(sent)}</time>
      </span>
      ${m.body && html`<span class="body">${pieces(m.body, result.highlights).map((p) => (p.mark ? html`<mark>${p.text}</mark>` : p.text))}</span>`}
      ${attached.length > 0 && html`<span class="result-files">${attached.map((f) => f.filename).join(', ')}</span>`}
      ${!m.thread_root_id && (m.reply_count ?? 0) > 0 && html`<span class="result-replies">${m.reply_count === 1 ? '1 reply' : `${m.reply_count} replies`}</span>`}
    </a>
  </li>`;
}

/** ↑/↓ between results, Esc closes the panel (back to the channel's composer). @param {KeyboardEvent} e */
function keys(e) {
  if (e.key === 'Escape' && !e.defaultPrevented) {
    search.close();
    /** @type {HTMLElement | null} */ (document.querySelector('main textarea.composer'))?.focus();
    return;
  }
  const link = /** @type {HTMLElement} */ (e.target);
  if (!link.matches('.result-link') || (e.key !== 'ArrowDown' && e.key !== 'ArrowUp')) return;
  e.preventDefault();
  const links = [...document.querySelectorAll('.search-panel .result-link')];
  const next = links[links.indexOf(link) + (e.key === 'ArrowDown' ? 1 : -1)];
  /** @type {HTMLElement | undefined} */ (next)?.focus();
}

/** @param {Event} e */
function scrolled(e) {
  const el = /** @type {HTMLElement} */ (e.currentTarget);
  if (el.scrollHeight - el.scrollTop - el.clientHeight < NEAR) search.more();
}

export function SearchResults() {
  if (!search.shown.value) return null;
  const r = search.results.value;
  if (!r) return null;
  const list = search.items.value;
  const sort = search.sort.value;
  const first = r.loading && r.items.length === 0;
  return html`<aside class="thread search-panel" aria-label="Search results" onKeyDown=${keys}>
    <header>
      <h2>Search</h2><span class="detail query" title=${r.query}>${r.query}</span>
      <button class="link" onClick=${search.close} aria-label="Close search results">Close</button>
    </header>
    <div class="search-tools">
      <p class="count" role="status">${first ? 'Searching…' : r.error && r.items.length === 0 ? '' : search.countLabel(r.total)}</p>
      <div class="sort" role="group" aria-label="Sort results">
        <button type="button" aria-pressed=${sort === 'relevance' ? 'true' : 'false'} onClick=${() => sort !== 'relevance' && search.resort('relevance')}>Most relevant</button>
        <button type="button" aria-pressed=${sort === 'recent' ? 'true' : 'false'} onClick=${() => sort !== 'recent' && search.resort('recent')}>Most recent</button>
      </div>
    </div>
    <div class="panel-body" onScroll=${scrolled}>
      <ul class="result-list" aria-label="Results" aria-busy=${r.loading ? 'true' : 'false'}>
        ${list.map((x) => html`<${Row} key=${x.message.id} result=${x} />`)}
      </ul>
      ${!r.loading && !r.error && list.length === 0 && html`<div class="empty-results">
        <p><strong>No results for “${r.query}”</strong></p>
        <p class="hint">Check the spelling, or try fewer words. Filters like <code>in:#channel</code> or <code>from:@someone</code> narrow a search; take them off to widen it.</p>
      </div>`}
      ${r.error && html`<p class="error" role="alert">${r.error} <button class="link" onClick=${search.retry}>Try again</button></p>`}
      ${r.loading && r.items.length > 0 && html`<p class="hint loading-more">Loading more…</p>`}
      ${!r.loading && !r.error && r.next_cursor && html`<button class="more" onClick=${search.more}>Load more</button>`}
    </div>
  </aside>`;
}
