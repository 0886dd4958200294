// @ts-check
/** Ctrl/Cmd+K: jump to a channel by typing part of its name; ↑/↓ choose, Enter goes, Esc closes. */
import { useLayoutEffect, useRef, useState } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import * as chat from '../stores/chat.js';

/**
 * The user's channels whose name holds `query`, at most 8.
 * @param {string} query
 */
function matches(query) {
  const q = query.trim().toLowerCase().replace(/^#/, '');
  return chat.channels.value
    .filter((c) => c.is_member !== false && (c.name ?? '').toLowerCase().includes(q))
    .slice(0, 8);
}

/** @param {{onGo: (channelId: string) => void, onClose: () => void}} props */
export function QuickSwitcher({ onGo, onClose }) {
  const [query, setQuery] = useState('');
  const [at, setAt] = useState(0);
  const input = useRef(/** @type {HTMLInputElement | null} */ (null));
  // Before the first paint, so no key typed after the dialog shows goes elsewhere.
  useLayoutEffect(() => input.current?.focus(), []);
  const found = matches(query);
  /** @param {KeyboardEvent} e */
  const keydown = (e) => {
    // What the box holds now, not at the last render: Enter can come before the render of
    // the letters typed just before it.
    const now = matches(/** @type {HTMLInputElement} */ (e.target).value);
    const same = now.length === found.length && now.every((c, i) => c.id === found[i].id);
    const chosen = same ? at : 0;
    if (e.key === 'Escape') onClose();
    if (e.key === 'ArrowDown') setAt(Math.min(chosen + 1, now.length - 1));
    if (e.key === 'ArrowUp') setAt(Math.max(chosen - 1, 0));
    if (e.key === 'Enter' && now[chosen]) onGo(now[chosen].id);
  };
  return html`<div class="dialog switcher" role="dialog" aria-modal="true" aria-label="Jump to a channel">
    <input ref=${input} value=${query} aria-label="Jump to" placeholder="Jump to…" role="combobox"
      aria-expanded="true" aria-controls="switcher-list" aria-activedescendant=${found[at] ? `switch-${found[at].id}` : undefined}
      onInput=${(/** @type {InputEvent} */ e) => { setQuery(/** @type {HTMLInputElement} */ (e.target).value); setAt(0); }}
      onKeyDown=${keydown} />
    <ul id="switcher-list" role="listbox">
      ${found.map((c, i) => html`<li id=${`switch-${c.id}`} role="option" aria-selected=${i === at} class=${i === at ? 'chosen' : ''}
        onClick=${() => onGo(c.id)}>#${c.name}</li>`)}
    </ul>
  </div>`;
}
