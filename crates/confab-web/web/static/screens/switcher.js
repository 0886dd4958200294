// @ts-check
/** Ctrl/Cmd+K: jump to a channel or a person by typing part of a name; ↑/↓ choose, Enter goes, Esc closes. */
import { useLayoutEffect, useRef, useState } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import * as chat from '../stores/chat.js';
import { me } from '../stores/session.js';

/** @typedef {{id: string, label: string, person?: string}} Match */

/**
 * The user's channels and DMs, then people, whose name holds `query`: at most 8.
 * @param {string} query
 * @returns {Match[]}
 */
function matches(query) {
  const q = query.trim().toLowerCase().replace(/^[#@]/, '');
  const channels = chat.channels.value
    .filter((c) => c.is_member !== false && chat.title(c).toLowerCase().includes(q))
    .map((c) => ({ id: c.id, label: chat.title(c) }));
  const people = q === '' ? [] : Object.entries(chat.people.value)
    .filter(([id, p]) => id !== me.value?.id && (p.username.includes(q) || p.display_name.toLowerCase().includes(q)))
    .filter(([, p]) => !channels.some((c) => c.label === p.display_name))
    .map(([id, p]) => ({ id: `person-${id}`, label: `${p.display_name} (@${p.username})`, person: id }));
  return [...channels, ...people].slice(0, 8);
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
    if (e.key === 'Enter' && now[chosen]) go(now[chosen]);
  };
  /** @param {Match} m */
  const go = async (m) => onGo(m.person ? await chat.openDm([m.person]) : m.id);
  return html`<div class="dialog switcher" role="dialog" aria-modal="true" aria-label="Jump to a channel or person">
    <input ref=${input} value=${query} aria-label="Jump to" placeholder="Jump to…" role="combobox"
      aria-expanded="true" aria-controls="switcher-list" aria-activedescendant=${found[at] ? `switch-${found[at].id}` : undefined}
      onInput=${(/** @type {InputEvent} */ e) => { setQuery(/** @type {HTMLInputElement} */ (e.target).value); setAt(0); }}
      onKeyDown=${keydown} />
    <ul id="switcher-list" role="listbox">
      ${found.map((c, i) => html`<li id=${`switch-${c.id}`} role="option" aria-selected=${i === at} class=${i === at ? 'chosen' : ''}
        onClick=${() => go(c)}>${c.label}</li>`)}
    </ul>
  </div>`;
}
