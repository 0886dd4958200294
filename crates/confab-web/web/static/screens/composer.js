// @ts-check
/**
 * A composer: the channel's or a thread's. Enter sends, Shift+Enter makes a new line, ↑ in an
 * empty composer edits your last message, Esc cancels (the thread panel closes). `@` suggests
 * people, `#` channels, `:` emoji. What is typed is the composer's draft: kept per channel and
 * thread, restored after a reload and on other devices. The draft key is fixed for the life
 * of the component (it is keyed by channel and thread), so typing can never land in another
 * channel's draft. Files attach by the paperclip, by pasting or by dropping (`uploads.js`), and
 * upload at once; Enter sends them with the text, or alone.
 */
import { useEffect, useRef, useState } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import * as chat from '../stores/chat.js';
import * as drafts from '../stores/drafts.js';
import * as socket from '../socket.js';
import { findEmoji } from '../lib/emoji.js';
import * as uploads from '../stores/uploads.js';
import { AttachButton, UploadChips } from './uploads.js';

/** @typedef {{label: string, detail?: string, insert: string}} Suggestion */

/**
 * What to suggest for the word being typed at the caret, if it starts with `@`, `#` or `:`.
 * @param {string} before the text up to the caret
 * @returns {{start: number, items: Suggestion[]} | null}
 */
function suggest(before) {
  const m = /(^|\s)([@#:])([\p{L}\p{N}._+-]*)$/u.exec(before);
  if (!m) return null;
  const [, , sigil, word] = m;
  const start = before.length - word.length - 1;
  const q = word.toLowerCase();
  /** @type {Suggestion[]} */
  let items = [];
  if (sigil === '@') {
    items = Object.values(chat.people.value)
      .filter((p) => p.username.startsWith(q) || p.display_name.toLowerCase().includes(q))
      .slice(0, 8)
      .map((p) => ({ label: `@${p.username}`, detail: p.display_name, insert: `@${p.username} ` }));
    for (const special of ['here', 'channel']) {
      if (special.startsWith(q) && q.length > 0) items.push({ label: `@${special}`, detail: 'notify everyone', insert: `@${special} ` });
    }
  } else if (sigil === '#') {
    items = chat.channels.value
      .filter((c) => c.kind !== 'dm' && (c.name ?? '').startsWith(q))
      .slice(0, 8)
      .map((c) => ({ label: `#${c.name}`, insert: `#${c.name} ` }));
  } else if (q.length >= 2) {
    items = findEmoji(q).map(([name, emoji]) => ({ label: `${emoji} :${name}:`, insert: `${emoji} ` }));
  }
  return items.length > 0 ? { start, items } : null;
}

/**
 * @param {{channelId: string, rootId?: string, label: string, onEditLast?: () => void, onEscape?: () => void, autofocus?: boolean}} props
 */
export function Composer({ channelId, rootId, label, onEditLast, onEscape, autofocus }) {
  const box = useRef(/** @type {HTMLTextAreaElement | null} */ (null));
  const key = drafts.key(channelId, rootId);
  const [menu, setMenu] = useState(/** @type {{start: number, items: Suggestion[]} | null} */ (null));
  const [chosen, setChosen] = useState(0);
  const draft = drafts.drafts.value[key];
  // What the box last got from the store: text the user typed since is never overwritten.
  const shown = useRef('');
  // The draft into the box: on mounting, and when another device changes or clears it.
  useEffect(() => {
    const el = box.current;
    const body = draft?.body ?? '';
    if (el && el.value !== body && (el.value === shown.current || document.activeElement !== el)) el.value = body;
    shown.current = body;
  }, [draft?.body]);
  useEffect(() => {
    // Never out of an open dialog: a Ctrl+K pressed while the channel was still arriving
    // keeps what is typed into it.
    const inDialog = document.activeElement?.closest('[aria-modal="true"]');
    if (autofocus && !inDialog) box.current?.focus();
    // Leaving the composer (another channel, a closed thread) saves its draft at once.
    return () => drafts.flush(key);
  }, [key]);

  /** @param {Suggestion} s */
  const complete = (s) => {
    const el = box.current;
    if (!el || !menu) return;
    const caret = el.selectionStart;
    el.value = el.value.slice(0, menu.start) + s.insert + el.value.slice(caret);
    const at = menu.start + s.insert.length;
    el.setSelectionRange(at, at);
    setMenu(null);
    drafts.typed(key, el.value);
  };

  /** @param {KeyboardEvent} e */
  const keydown = (e) => {
    const el = /** @type {HTMLTextAreaElement} */ (e.target);
    if (menu) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const n = menu.items.length;
        setChosen((chosen + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        complete(menu.items[Math.min(chosen, menu.items.length - 1)]);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        setMenu(null);
        return;
      }
    }
    if (e.key === 'ArrowUp' && el.value === '' && onEditLast) {
      e.preventDefault();
      onEditLast();
    }
    if (e.key === 'Escape' && onEscape) onEscape();
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      const body = el.value;
      const files = uploads.held(key).length > 0;
      if (body.trim() || files) {
        socket.send(channelId, body.trim() ? body : '', rootId, key);
        el.value = '';
        drafts.sent(key);
      }
    }
  };
  const input = () => {
    const el = box.current;
    if (!el) return;
    drafts.typed(key, el.value);
    socket.typing(channelId);
    setMenu(suggest(el.value.slice(0, el.selectionStart)));
    setChosen(0);
  };
  /** Pasted files (a screenshot, say) are attached, not pasted as text. @param {ClipboardEvent} e */
  const paste = (e) => {
    const files = [...(e.clipboardData?.files ?? [])];
    if (files.length === 0) return;
    e.preventDefault();
    uploads.attach(key, chat.workspaceId.value ?? '', files);
  };
  const listId = `suggest-${key.replace('/', '-')}`;
  return html`<div class="composer-wrap">
    ${menu && html`<ul class="suggestions" role="listbox" id=${listId} aria-label="Suggestions">
      ${menu.items.map((s, i) => html`<li role="option" id=${`${listId}-${i}`} aria-selected=${i === chosen}
        class=${i === chosen ? 'chosen' : ''} onMouseDown=${(/** @type {Event} */ e) => { e.preventDefault(); complete(s); }}>
        <span>${s.label}</span>${s.detail && html` <span class="detail">${s.detail}</span>`}</li>`)}
    </ul>`}
    <div class="composer-box">
      <${UploadChips} holder=${key} />
      <div class="composer-row">
        <textarea class="composer" ref=${box} aria-label=${label} placeholder=${label} rows="2"
          role="combobox" aria-autocomplete="list" aria-expanded=${menu ? 'true' : 'false'} aria-controls=${listId}
          aria-activedescendant=${menu ? `${listId}-${chosen}` : undefined}
          onKeyDown=${keydown} onInput=${input} onPaste=${paste}></textarea>
        <${AttachButton} holder=${key} label="Attach files" />
      </div>
    </div>
  </div>`;
}
