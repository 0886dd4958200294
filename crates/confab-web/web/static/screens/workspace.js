// @ts-check
/** A workspace: the sidebar of channels, and the open channel with its messages. */
import { useEffect, useRef, useState } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import * as chat from '../stores/chat.js';
import { me, signOut, workspaces } from '../stores/session.js';
import * as socket from '../socket.js';
import { InviteDialog } from './invite.js';

/** @param {{workspaceId: string, channelId: string | null}} props */
export function Workspace({ workspaceId, channelId }) {
  useEffect(() => {
    chat.openWorkspace(workspaceId).then(() => {
      const ws = workspaces.value.find((w) => w.id === workspaceId);
      const target = channelId ?? ws?.general_channel_id;
      if (target) chat.openChannel(target);
    });
  }, [workspaceId, channelId]);
  const ws = workspaces.value.find((w) => w.id === workspaceId);
  const [inviting, setInviting] = useState(false);
  return html`
    <div class="layout">
      ${inviting && html`<${InviteDialog} workspaceId=${workspaceId} onClose=${() => setInviting(false)} />`}
      <nav class="sidebar" aria-label="Channels">
        <header><strong>${ws?.name ?? ''}</strong></header>
        <ul>
          ${chat.channels.value
            .filter((c) => c.is_member !== false)
            .map(
              (c) => html`<li>
                <a href=${`/w/${workspaceId}/c/${c.id}`}
                   class=${(c.id === chat.channelId.value ? 'current ' : '') + ((c.unread_count ?? 0) > 0 ? 'unread' : '')}
                   aria-current=${c.id === chat.channelId.value ? 'page' : undefined}
                   data-channel=${c.name ?? ''}>
                  ${c.kind === 'dm' ? '@' : '#'}${c.name ?? 'direct message'}
                  ${(c.mention_count ?? 0) > 0 && html`<span class="badge" aria-label="mentions">${c.mention_count}</span>`}
                </a>
              </li>`,
            )}
        </ul>
        <${Browse} workspaceId=${workspaceId} />
        <${NewChannel} />
        <button class="link invite" onClick=${() => setInviting(true)}>Invite people</button>
        <footer>
          <span class="me" title=${me.value?.display_name}>${me.value?.display_name}</span>
          <span class=${'state ' + socket.state.value} role="status">${socket.state.value === 'online' ? '' : socket.state.value === 'reconnecting' ? 'Reconnecting…' : 'Connecting…'}</span>
          <button class="link" onClick=${() => { socket.stop(); signOut(); }}>Sign out</button>
        </footer>
      </nav>
      <${Channel} />
    </div>
  `;
}

/** Public channels the user is not in, to join. @param {{workspaceId: string}} props */
function Browse({ workspaceId }) {
  const open = chat.channels.value.filter((c) => c.is_member === false && c.kind === 'public');
  if (open.length === 0) return null;
  return html`<details class="browse">
    <summary>Browse channels (${open.length})</summary>
    <ul>
      ${open.map(
        (c) => html`<li>
          <span>#${c.name}</span>
          <button onClick=${async () => {
            await chat.joinChannel(c.id);
            history.pushState(null, '', `/w/${workspaceId}/c/${c.id}`);
            dispatchEvent(new PopStateEvent('popstate'));
          }}>Join #${c.name}</button>
        </li>`,
      )}
    </ul>
  </details>`;
}

function NewChannel() {
  /** @param {SubmitEvent} e */
  const submit = async (e) => {
    e.preventDefault();
    const form = /** @type {HTMLFormElement} */ (e.target);
    const name = String(new FormData(form).get('name'));
    const id = await chat.createChannel(name, false);
    form.reset();
    history.pushState(null, '', `/w/${chat.workspaceId.value}/c/${id}`);
    dispatchEvent(new PopStateEvent('popstate'));
  };
  return html`<form class="new-channel" onSubmit=${submit} aria-label="Create a channel">
    <input name="name" placeholder="new-channel" required maxlength="80" aria-label="New channel name" />
    <button type="submit">Create</button>
  </form>`;
}

/** The reactions one click away, as Slack offers a few before its full picker. */
const QUICK_REACTIONS = ['👍', '🎉', '😄', '👀'];

/** A message's reactions: each with its count, who reacted on hover, a click to toggle. @param {{message: chat.Message}} props */
function Reactions({ message }) {
  return html`<span class="reactions">
    ${(message.reactions ?? []).map((r) => {
      const names = r.user_ids.map((id) => chat.people.value[id]?.display_name ?? 'someone');
      const more = r.count - r.user_ids.length;
      const who = names.join(', ') + (more > 0 ? ` and ${more} more` : '');
      const mine = r.user_ids.includes(me.value?.id ?? '');
      return html`<button class=${mine ? 'reaction mine' : 'reaction'} title=${who} aria-label=${`${r.emoji} ${r.count}: ${who}`}
        aria-pressed=${mine} onClick=${() => chat.toggleReaction(message, r.emoji)}>${r.emoji} <span class="count">${r.count}</span></button>`;
    })}
  </span>`;
}

/** A day's heading: Today, Yesterday, or the date. @param {Date} day */
function dayLabel(day) {
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (day.toDateString() === today.toDateString()) return 'Today';
  if (day.toDateString() === yesterday.toDateString()) return 'Yesterday';
  return day.toLocaleDateString([], { weekday: 'long', month: 'long', day: 'numeric' });
}

/** Editing a message in place: Enter saves, Esc cancels. @param {{message: chat.Message, onDone: () => void}} props */
function EditBox({ message, onDone }) {
  const box = useRef(/** @type {HTMLTextAreaElement | null} */ (null));
  useEffect(() => {
    if (box.current) {
      box.current.value = message.body ?? '';
      box.current.focus();
    }
  }, [message.id]);
  /** @param {KeyboardEvent} e */
  const keydown = async (e) => {
    const text = /** @type {HTMLTextAreaElement} */ (e.target).value;
    if (e.key === 'Escape') onDone();
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      if (text.trim()) await chat.editMessage(message.id, text);
      onDone();
    }
  };
  return html`<textarea class="edit" aria-label="Edit message" rows="2" ref=${box} onKeyDown=${keydown}></textarea>`;
}

function Channel() {
  const channel = chat.currentChannel.value;
  const list = useRef(/** @type {HTMLElement | null} */ (null));
  const [editing, setEditing] = useState(/** @type {string | null} */ (null));
  const shown = channel ? chat.messages.value[channel.id] ?? [] : [];
  const waiting = channel ? chat.pending.value.filter((p) => p.channel_id === channel.id) : [];
  useEffect(() => {
    if (list.current) list.current.scrollTop = list.current.scrollHeight;
  }, [shown.length, waiting.length]);
  if (!channel) return html`<main class="channel"></main>`;
  /** @param {KeyboardEvent} e */
  const keydown = (e) => {
    const box = /** @type {HTMLTextAreaElement} */ (e.target);
    // ↑ in an empty composer edits your last message.
    if (e.key === 'ArrowUp' && box.value === '') {
      const last = [...shown].reverse().find((m) => m.author_id === me.value?.id && !m.deleted);
      if (last) {
        e.preventDefault();
        setEditing(last.id);
      }
    }
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      const body = box.value;
      if (body.trim()) {
        socket.send(channel.id, body);
        box.value = '';
      }
    }
  };
  return html`
    <main class="channel" aria-label=${`#${channel.name ?? ''}`}>
      <header><h2>#${channel.name}</h2><span class="topic">${channel.topic}</span></header>
      <ol class="messages" ref=${list} aria-live="polite">
        ${shown.map((m, i) => {
          const previous = shown[i - 1];
          const day = new Date(m.ts);
          const newDay = !previous || new Date(previous.ts).toDateString() !== day.toDateString();
          // Slack's grouping: the same author within five minutes shows no name again.
          const grouped = !newDay && previous.author_id === m.author_id &&
            Date.parse(m.ts) - Date.parse(previous.ts) < 5 * 60_000;
          const author = chat.people.value[m.author_id];
          const mine = m.author_id === me.value?.id && !m.deleted;
          return html`
            ${newDay && html`<li class="day" role="separator"><span>${dayLabel(day)}</span></li>`}
            <li class=${(m.deleted ? 'message deleted' : 'message') + (grouped ? ' grouped' : '')} data-id=${m.id}>
              <time datetime=${m.ts} title=${day.toLocaleString()}>${day.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}</time>
              <div class="content">
                ${!grouped && html`<strong class="author">${author ? author.display_name : 'someone'}</strong>`}
                ${editing === m.id
                  ? html`<${EditBox} message=${m} onDone=${() => setEditing(null)} />`
                  : html`<span class="body">${m.deleted ? 'This message was deleted' : m.body}</span>`}
                ${m.edited_at && !m.deleted && html`<span class="edited">(edited)</span>`}
                ${!m.deleted && (m.reactions ?? []).length > 0 && html`<${Reactions} message=${m} />`}
              </div>
              ${!m.deleted && editing !== m.id && html`<span class="actions">
                ${QUICK_REACTIONS.map((emoji) => html`<button onClick=${() => chat.toggleReaction(m, emoji)} aria-label=${`React with ${emoji}`}>${emoji}</button>`)}
              </span>`}
              ${mine && editing !== m.id && html`<span class="actions own">
                <button onClick=${() => setEditing(m.id)} aria-label="Edit message">Edit</button>
                <button onClick=${() => confirm('Delete this message? This cannot be undone.') && chat.deleteMessage(m.id)} aria-label="Delete message">Delete</button>
              </span>`}
            </li>`;
        })}
        ${waiting.map(
          (p) => html`<li class="message pending" data-pending=${p.client_msg_id}>
            <span class="time"></span>
            <div class="content">
              <strong class="author">${me.value?.display_name}</strong>
              <span class="body">${p.body}</span> <span class="edited">${p.failed ? `failed: ${p.failed}` : 'sending…'}</span>
            </div>
          </li>`,
        )}
      </ol>
      <textarea class="composer" aria-label=${`Message #${channel.name ?? ''}`} placeholder=${`Message #${channel.name ?? ''}`} rows="2" onKeyDown=${keydown}></textarea>
    </main>
  `;
}
