// @ts-check
/** The workspace's people, each with a presence dot (online, idle, offline), and a DM a click away. */
import { useState } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import * as chat from '../stores/chat.js';
import { statuses } from '../stores/presence.js';

/** A presence dot. @param {{userId: string}} props */
export function Dot({ userId }) {
  const status = statuses.value[userId] ?? 'offline';
  return html`<span class=${`dot ${status}`} role="img" aria-label=${status}></span>`;
}

export function PeopleButton() {
  const [open, setOpen] = useState(false);
  const people = Object.entries(chat.people.value).sort(([, a], [, b]) => a.display_name.localeCompare(b.display_name));
  /** @param {string} id */
  const dm = async (id) => {
    const channel = await chat.openDm([id]);
    setOpen(false);
    history.pushState(null, '', `/w/${chat.workspaceId.value}/c/${channel}`);
    dispatchEvent(new PopStateEvent('popstate'));
  };
  return html`<button class="link people-button" onClick=${() => setOpen(!open)} aria-expanded=${open}>People (${people.length})</button>
    ${open && html`<div class="dialog people-list" role="dialog" aria-label="People" onKeyDown=${(/** @type {KeyboardEvent} */ e) => e.key === 'Escape' && setOpen(false)}>
      <h2>People</h2>
      <ul>
        ${people.map(([id, p]) => html`<li><${Dot} userId=${id} /> <span>${p.display_name}</span> <span class="detail">@${p.username}${p.status_text ? ` · ${p.status_text}` : ''}</span>
          <button class="link" onClick=${() => dm(id)} aria-label=${`Message ${p.display_name}`}>Message</button></li>`)}
      </ul>
      <div class="actions"><button onClick=${() => setOpen(false)}>Close</button></div>
    </div>`}`;
}
