// @ts-check
/**
 * The thread panel: a message and its replies beside the channel, with a composer of its own
 * (files dropped on the panel attach to it), and Follow / Unfollow: whether its replies notify.
 */
import { useState } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import * as chat from '../stores/chat.js';
import { me } from '../stores/session.js';
import { MessageRow, messageKeys } from './messages.js';
import { Composer } from './composer.js';
import * as drafts from '../stores/drafts.js';
import * as uploads from '../stores/uploads.js';
import { DropOverlay, UploadChips, useDropZone } from './uploads.js';
import * as notifications from '../stores/notifications.js';

export function Thread() {
  const root = chat.threadRoot.value;
  const [editing, setEditing] = useState(/** @type {string | null} */ (null));
  const [dropping, dropHandlers] = useDropZone(root ? drafts.key(root.channel_id, root.id) : '');
  if (!root) return null;
  const shown = chat.replies.value[root.id] ?? [];
  const waiting = chat.pendingShown(root.channel_id, root.id);
  const editLast = () => {
    const last = [...shown].reverse().find((m) => m.author_id === me.value?.id && !m.deleted);
    if (last) setEditing(last.id);
  };
  return html`<aside class="thread" aria-label="Thread" onKeyDown=${(/** @type {KeyboardEvent} */ e) => messageKeys(e, setEditing)} ...${dropHandlers}>
    <header><h2>Thread</h2><${FollowButton} rootId=${root.id} />
      <button class="link" onClick=${() => chat.openThread(null)} aria-label="Close thread">Close</button></header>
    <ol class="messages" aria-label="Replies">
      <${MessageRow} message=${root} editing=${editing} setEditing=${setEditing} inThread=${true} />
      <li class="day"><span>${shown.length === 1 ? '1 reply' : `${shown.length} replies`}</span></li>
      ${shown.map((m, i) => html`<${MessageRow} key=${m.id} message=${m} previous=${shown[i - 1]} editing=${editing} setEditing=${setEditing} inThread=${true} />`)}
      ${waiting.map((p) => html`<li class="message pending"><span class="time"></span><div class="content">
        ${p.body && html`<span class="body">${p.body}</span>`}
        <${UploadChips} holder=${uploads.messageHolder(p.client_msg_id)} />
        <span class="edited">${p.failed ? `failed: ${p.failed}` : p.uploads ? 'uploading…' : 'sending…'}</span></div></li>`)}
    </ol>
    <${Composer} key=${root.id} channelId=${root.channel_id} rootId=${root.id} label="Thread reply" onEditLast=${editLast}
      onEscape=${() => chat.openThread(null)} />
    <${DropOverlay} over=${dropping} where="the thread" />
  </aside>`;
}

/** Follow or Unfollow, once the thread's answer said which it is. @param {{rootId: string}} props */
function FollowButton({ rootId }) {
  const following = chat.following.value[rootId];
  const [busy, setBusy] = useState(false);
  if (following === undefined) return null;
  const toggle = async () => {
    setBusy(true);
    try {
      await notifications.follow(rootId, !following);
    } finally {
      setBusy(false);
    }
  };
  return html`<button class="follow" disabled=${busy} onClick=${toggle}
    title=${following ? 'Stop getting notified of new replies' : 'Get notified of new replies'}>${following ? 'Unfollow' : 'Follow'}</button>`;
}
