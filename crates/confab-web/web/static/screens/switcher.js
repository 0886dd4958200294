// @ts-check
/** Ctrl/Cmd+K: jump to a channel by typing part of its name; ↑/↓ choose, Enter goes, Esc closes. */
import { useEffect, useRef, useState } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import * as chat from '../stores/chat.js';

/** @param {{onGo: (channelId: string) => void, onClose: () => void}} props */
export function QuickSwitcher({ onGo, onClose }) {
  const [query, setQuery] = useState('');
  const [at, setAt] = useState(0);
  const input = useRef(/** @type {HTMLInputElement | null} */ (null));
  useEffect(() => input.current?.focus(), []);
  const q = query.trim().toLowerCase().replace(/^#/, '');
  const found = chat.channels.value
    .filter((c) => c.is_member !== false && (c.name ?? '').toLowerCase().includes(q))
    .slice(0, 8);
  /** @param {KeyboardEvent} e */
  const keydown = (e) => {
    if (e.key === 'Escape') onClose();
    if (e.key === 'ArrowDown') setAt(Math.min(at + 1, found.length - 1));
    if (e.key === 'ArrowUp') setAt(Math.max(at - 1, 0));
    if (e.key === 'Enter' && found[at]) onGo(found[at].id);
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
