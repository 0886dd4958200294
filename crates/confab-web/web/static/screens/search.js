// @ts-check
/**
 * The search box in the workspace's top bar. Clicking it, Ctrl/Cmd+F anywhere, or `/` where
 * focus is not in a text field (the composer keeps its own `/`) puts the caret in it; Esc gives
 * focus back to where it was. Empty, it lists the recent searches (or, when there are none,
 * the operators). As the user types, the word at the caret is completed: `from:` and `in:@`
 * suggest people, `in:` and `in:#` channels, `has:`/`is:` their values, the date operators
 * today and yesterday, and a bare prefix (`ha`, `be`) the operators themselves. ↑/↓ choose,
 * Tab takes the chosen (or the first), Enter takes the chosen one or, with none chosen,
 * searches. A value being completed (`from:a`) has its first suggestion chosen already, as in
 * the composer; an operator's name does not, so Enter after a word searches for the word.
 */
import { useEffect, useRef, useState } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import * as chat from '../stores/chat.js';
import * as search from '../stores/search.js';
import { workspaces } from '../stores/session.js';

/**
 * `insert` replaces the word at the caret; `more`: the operator wants a value, so no space
 * follows and the suggestions go on. `query`: a recent search, searched again when taken.
 * @typedef {{label: string, detail?: string, insert: string, more?: boolean, query?: string}} Suggestion
 */
/** @typedef {{start: number, end: number, items: Suggestion[], chosen: number}} Menu */

/** The operators, as the bare-prefix suggestions and the empty box offer them. */
const OPERATORS = /** @type {Suggestion[]} */ ([
  { label: 'from:', detail: 'Messages from a person', insert: 'from:', more: true },
  { label: 'in:', detail: 'In a channel or a DM', insert: 'in:', more: true },
  { label: 'has:file', detail: 'Messages with files', insert: 'has:file' },
  { label: 'has:link', detail: 'Messages with links', insert: 'has:link' },
  { label: 'has:reaction', detail: 'Messages with reactions', insert: 'has:reaction' },
  { label: 'is:thread', detail: 'Threads and their replies', insert: 'is:thread' },
  { label: 'before:', detail: 'Before a day (YYYY-MM-DD)', insert: 'before:', more: true },
  { label: 'after:', detail: 'After a day (YYYY-MM-DD)', insert: 'after:', more: true },
  { label: 'on:', detail: 'On a day (YYYY-MM-DD)', insert: 'on:', more: true },
  { label: 'during:', detail: 'In a month (YYYY-MM) or a year', insert: 'during:', more: true },
]);

/** Suggestions a menu shows at most. */
const SHOWN = 8;

/** A local day as the query language writes it. @param {Date} d */
const ymd = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

/**
 * People whose username starts with, or display name holds, `q`; as `prefix@username`.
 * @param {string} prefix
 * @param {string} q
 * @returns {Suggestion[]}
 */
function people(prefix, q) {
  return Object.values(chat.people.value)
    .filter((p) => p.username.startsWith(q) || p.display_name.toLowerCase().includes(q))
    .sort((a, b) => Number(b.username.startsWith(q)) - Number(a.username.startsWith(q)) || a.username.localeCompare(b.username))
    .map((p) => ({ label: `@${p.username}`, detail: p.display_name, insert: `${prefix}@${p.username}` }));
}

/**
 * Channels (not DMs) whose name starts with, then holds, `q`; as `in:#name`.
 * @param {string} q
 * @returns {Suggestion[]}
 */
function channels(q) {
  const named = chat.channels.value.filter((c) => c.kind !== 'dm' && (c.name ?? '').includes(q));
  named.sort((a, b) => Number((b.name ?? '').startsWith(q)) - Number((a.name ?? '').startsWith(q)) || (a.name ?? '').localeCompare(b.name ?? ''));
  return named.map((c) => ({
    label: `#${c.name}`,
    detail: c.kind === 'private' ? 'private' : c.is_member === false ? 'not joined' : undefined,
    insert: `in:#${c.name}`,
  }));
}

/**
 * What to suggest for the word at the caret, if anything.
 * @param {string} text the box's text
 * @param {number} caret
 * @returns {Menu | null}
 */
export function suggest(text, caret) {
  const before = text.slice(0, caret);
  const start = before.search(/\S*$/);
  const after = /^\S*/.exec(text.slice(caret));
  const end = caret + (after ? after[0].length : 0);
  const word = text.slice(start, end);
  // Inside a "phrase" nothing is an operator.
  if ((text.slice(0, start).match(/"/g) ?? []).length % 2 === 1 || word.startsWith('"') || word.startsWith('-')) return null;
  const colon = word.indexOf(':');
  /** @type {Suggestion[]} */
  let items = [];
  let chosen = 0;
  if (colon < 0) {
    const q = word.toLowerCase();
    if (q.length < 2) return null;
    items = OPERATORS.filter((o) => o.insert.startsWith(q));
    chosen = -1;
  } else {
    const op = word.slice(0, colon).toLowerCase();
    const value = word.slice(colon + 1);
    const q = value.toLowerCase();
    if (op === 'from') {
      const who = q.replace(/^@/, '');
      items = [
        ...('me'.startsWith(who) ? [{ label: 'from:me', detail: 'Messages you sent', insert: 'from:me' }] : []),
        ...people('from:', who),
      ];
    } else if (op === 'in') {
      items = q.startsWith('@') ? people('in:', q.slice(1)) : channels(q.replace(/^#/, ''));
    } else if (op === 'has' || op === 'is') {
      items = OPERATORS.filter((o) => o.insert.startsWith(`${op}:${q}`));
    } else if (op === 'before' || op === 'after' || op === 'on') {
      const today = new Date();
      const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
      items = [
        { label: `${op}:${ymd(today)}`, detail: 'today', insert: `${op}:${ymd(today)}` },
        { label: `${op}:${ymd(yesterday)}`, detail: 'yesterday', insert: `${op}:${ymd(yesterday)}` },
      ].filter((s) => s.insert.startsWith(`${op}:${q}`));
    } else if (op === 'during') {
      const today = new Date();
      const month = ymd(today).slice(0, 7);
      const last = ymd(new Date(today.getFullYear(), today.getMonth() - 1, 1)).slice(0, 7);
      const year = String(today.getFullYear());
      items = [
        { label: `during:${month}`, detail: 'this month', insert: `during:${month}` },
        { label: `during:${last}`, detail: 'last month', insert: `during:${last}` },
        { label: `during:${year}`, detail: 'this year', insert: `during:${year}` },
      ].filter((s) => s.insert.startsWith(`during:${q}`));
    }
  }
  // What is typed out in full needs no suggesting.
  items = items.filter((s) => s.insert.toLowerCase() !== word.toLowerCase()).slice(0, SHOWN);
  return items.length > 0 ? { start, end, items, chosen } : null;
}

/**
 * What the popup lists for this text: the suggestions for the word at the caret; with the box
 * empty, the recent searches (or, with none yet, the operators).
 * @param {string} text
 * @param {number} caret
 * @returns {(Menu & {kind: 'recent' | 'operators' | 'suggest'}) | null}
 */
function listFor(text, caret) {
  if (text.trim() === '') {
    const recent = search.recent.value;
    if (recent.length > 0) {
      return { kind: 'recent', start: 0, end: text.length, chosen: -1, items: recent.map((q) => ({ label: q, insert: q, query: q })) };
    }
    return { kind: 'operators', start: 0, end: text.length, chosen: -1, items: OPERATORS };
  }
  const menu = suggest(text, caret);
  return menu && { kind: 'suggest', ...menu };
}

/** Whether keys typed here are text (where `/` is a character, not a shortcut). @param {EventTarget | null} t */
function typingIn(t) {
  return t instanceof HTMLElement && (t.isContentEditable || t.matches('input, textarea, select'));
}

export function SearchBox() {
  const box = useRef(/** @type {HTMLInputElement | null} */ (null));
  const wrap = useRef(/** @type {HTMLDivElement | null} */ (null));
  // Where focus was before the box took it: Esc gives it back.
  const returnTo = useRef(/** @type {HTMLElement | null} */ (null));
  const [text, setText] = useState('');
  const [caret, setCaret] = useState(0);
  const [open, setOpen] = useState(false);
  const [chosen, setChosen] = useState(-1);
  const list = open ? listFor(text, caret) : null;
  const at = list ? Math.min(chosen, list.items.length - 1) : -1;
  const ws = workspaces.value.find((w) => w.id === chat.workspaceId.value);

  useEffect(() => {
    /** @param {KeyboardEvent} e */
    const keys = (e) => {
      if (e.defaultPrevented || document.activeElement?.closest('[aria-modal="true"]')) return;
      const find = (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'f';
      const slash = e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !typingIn(e.target);
      if (!find && !slash) return;
      e.preventDefault();
      const el = box.current;
      if (!el) return;
      el.focus();
      el.select();
      setOpen(true);
    };
    addEventListener('keydown', keys);
    return () => removeEventListener('keydown', keys);
  }, []);

  /** The box's text and caret changed: the popup follows. @param {HTMLInputElement} el */
  const follow = (el) => {
    const now = el.selectionStart ?? el.value.length;
    setText(el.value);
    setCaret(now);
    setChosen(listFor(el.value, now)?.chosen ?? -1);
  };

  /** @param {string} q */
  const run = (q) => {
    const el = box.current;
    if (!el || !q.trim()) return;
    el.value = q.trim();
    setText(el.value);
    setOpen(false);
    search.search(q);
  };

  /**
   * Takes a suggestion: replaces the word at the caret, or searches a recent query again.
   * @param {Suggestion} s
   * @param {Menu} menu
   */
  const take = (s, menu) => {
    const el = box.current;
    if (!el) return;
    if (s.query !== undefined) {
      run(s.query);
      return;
    }
    const head = el.value.slice(0, menu.start) + s.insert;
    const tail = el.value.slice(menu.end);
    const glue = s.more || tail.startsWith(' ') ? '' : ' ';
    el.value = head + glue + tail;
    const to = head.length + (s.more ? 0 : 1);
    el.setSelectionRange(to, to);
    follow(el);
  };

  /** Esc: what was being typed is dropped (the box shows the search on screen, if any), focus goes back. */
  const close = () => {
    setOpen(false);
    const el = box.current;
    if (el) {
      el.value = search.shown.value ? search.results.value?.query ?? '' : '';
      setText(el.value);
    }
    const back = returnTo.current;
    returnTo.current = null;
    const composer = /** @type {HTMLElement | null} */ (document.querySelector('main textarea.composer'));
    (back?.isConnected ? back : composer)?.focus();
    if (document.activeElement === box.current) box.current?.blur();
  };

  /** @param {KeyboardEvent} e */
  const keydown = (e) => {
    const el = /** @type {HTMLInputElement} */ (e.target);
    // What the box holds now, not at the last render: a key can come before the render of
    // the letters typed just before it.
    const now = open ? listFor(el.value, el.selectionStart ?? el.value.length) : null;
    const same = now !== null && list !== null && now.start === list.start && now.items.length === list.items.length &&
      now.items.every((s, i) => s.insert === list.items[i].insert);
    const pick = now ? (same ? at : now.chosen) : -1;
    if (e.key === 'Escape') {
      e.preventDefault();
      close();
      return;
    }
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (!now) {
        // Closed after a search: ↓ goes on to the results.
        const first = /** @type {HTMLElement | null} */ (document.querySelector('.search-panel .result-link'));
        if (e.key === 'ArrowDown' && first) first.focus();
        else setOpen(true);
        return;
      }
      const n = now.items.length;
      const next = e.key === 'ArrowDown' ? (pick + 1) % n : pick <= 0 ? n - 1 : pick - 1;
      setChosen(next);
      return;
    }
    if (e.key === 'Tab' && !e.shiftKey && now?.kind === 'suggest') {
      e.preventDefault();
      take(now.items[Math.max(pick, 0)], now);
      return;
    }
    if (e.key === 'Enter') {
      e.preventDefault();
      if (now && pick >= 0) take(now.items[pick], now);
      else run(el.value);
    }
  };

  /** Focus came in: from where (to go back to it), and the popup opens. @param {FocusEvent} e */
  const focused = (e) => {
    const from = /** @type {HTMLElement | null} */ (e.relatedTarget);
    if (!from || !wrap.current?.contains(from)) returnTo.current = from;
    const el = /** @type {HTMLInputElement} */ (e.target);
    follow(el);
    setOpen(true);
  };

  /** Focus left the box and its popup: the popup closes. @param {FocusEvent} e */
  const left = (e) => {
    if (!wrap.current?.contains(/** @type {Node | null} */ (e.relatedTarget))) setOpen(false);
  };

  const clear = () => {
    search.clearRecent();
    setChosen(-1);
    box.current?.focus();
  };

  const expanded = list !== null;
  return html`<div class="search-box" role="search" ref=${wrap} onFocusOut=${left}>
    <svg class="search-icon" viewBox="0 0 20 20" width="16" height="16" aria-hidden="true">
      <circle cx="8.5" cy="8.5" r="5.5" fill="none" stroke="currentColor" stroke-width="2" />
      <path d="M13 13l4.5 4.5" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
    </svg>
    <input ref=${box} type="text" class="search-input" role="combobox" aria-label="Search messages"
      placeholder=${ws ? `Search ${ws.name}` : 'Search'} title="Search messages (Ctrl+F or /)" aria-keyshortcuts="Control+F Meta+F /"
      aria-autocomplete="list" aria-expanded=${expanded ? 'true' : 'false'} aria-controls="search-options"
      aria-activedescendant=${expanded && at >= 0 ? `search-option-${at}` : undefined}
      autocomplete="off" spellcheck=${false} enterkeyhint="search" maxlength="1000"
      onFocus=${focused} onClick=${(/** @type {Event} */ e) => { follow(/** @type {HTMLInputElement} */ (e.target)); setOpen(true); }}
      onInput=${(/** @type {Event} */ e) => { follow(/** @type {HTMLInputElement} */ (e.target)); setOpen(true); }}
      onKeyUp=${(/** @type {KeyboardEvent} */ e) => ['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key) && follow(/** @type {HTMLInputElement} */ (e.target))}
      onKeyDown=${keydown} />
    ${list && html`<div class="search-popup">
      ${list.kind === 'recent' && html`<div class="popup-head"><span id="search-options-label">Recent searches</span>
        <button type="button" class="link" onMouseDown=${(/** @type {Event} */ e) => e.preventDefault()} onClick=${clear}>Clear recent searches</button></div>`}
      ${list.kind === 'operators' && html`<div class="popup-head"><span id="search-options-label">Narrow your search</span></div>`}
      <ul class="search-options" role="listbox" id="search-options"
        aria-label=${list.kind === 'suggest' ? 'Suggestions' : undefined} aria-labelledby=${list.kind === 'suggest' ? undefined : 'search-options-label'}>
        ${list.items.map((s, i) => html`<li role="option" id=${`search-option-${i}`} aria-selected=${i === at ? 'true' : 'false'}
          class=${(i === at ? 'chosen ' : '') + (s.query !== undefined ? 'recent' : '')}
          onMouseDown=${(/** @type {Event} */ e) => { e.preventDefault(); take(s, list); }}>
          <span class="label">${s.label}</span>${s.detail && html` <span class="detail">${s.detail}</span>`}</li>`)}
      </ul>
      <p class="popup-foot" aria-hidden="true">${list.kind === 'recent'
        ? html`<kbd>↑</kbd><kbd>↓</kbd> choose · <kbd>Enter</kbd> search again`
        : at >= 0 ? html`<kbd>Tab</kbd> or <kbd>Enter</kbd> complete` : html`<kbd>↓</kbd> choose · <kbd>Tab</kbd> complete · <kbd>Enter</kbd> search`}</p>
    </div>`}
  </div>`;
}
