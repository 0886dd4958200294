// @ts-check
/** The thread panel: a message and its replies beside the channel, with a composer of its own. */
import { useState } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import * as chat from '../stores/chat.js';
import * as socket from '../socket.js';
import { MessageRow } from './messages.js';

export function Thread() {
  const root = chat.threadRoot.value;
  const [editing, setEditing] = useState(/** @type {string | null} */ (null));
  if (!root) return null;
  const shown = chat.replies.value[root.id] ?? [];
  const waiting = chat.pending.value.filter((p) => p.thread_root_id === root.id);
  /** @param {KeyboardEvent} e */
  const keydown = (e) => {
    const box = /** @type {HTMLTextAreaElement} */ (e.target);
    if (e.key === 'Escape') chat.openThread(null);
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      if (box.value.trim()) {
        socket.send(root.channel_id, box.value, root.id);
        box.value = '';
      }
    }
  };
  return html`<aside class="thread" aria-label="Thread">
    <header><h2>Thread</h2><button class="link" onClick=${() => chat.openThread(null)} aria-label="Close thread">Close</button></header>
    <ol class="messages">
      <${MessageRow} message=${root} editing=${editing} setEditing=${setEditing} inThread=${true} />
      <li class="day" role="separator"><span>${shown.length === 1 ? '1 reply' : `${shown.length} replies`}</span></li>
      ${shown.map((m, i) => html`<${MessageRow} message=${m} previous=${shown[i - 1]} editing=${editing} setEditing=${setEditing} inThread=${true} />`)}
      ${waiting.map((p) => html`<li class="message pending"><span class="time"></span><div class="content"><span class="body">${p.body}</span> <span class="edited">sending…</span></div></li>`)}
    </ol>
    <textarea class="composer" aria-label="Thread reply" placeholder="Reply…" rows="2" onKeyDown=${keydown}></textarea>
  </aside>`;
}
