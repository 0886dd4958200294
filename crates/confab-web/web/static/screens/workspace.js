// @ts-check
/** A workspace: the sidebar of channels, and the open channel with its messages. */
import { useEffect, useRef, useState } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import * as chat from '../stores/chat.js';
import { me, signOut, workspaces } from '../stores/session.js';
import * as socket from '../socket.js';
import { InviteDialog } from './invite.js';
import { MessageRow } from './messages.js';
import { Thread } from './thread.js';
import { QuickSwitcher } from './switcher.js';

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
  const [switching, setSwitching] = useState(false);
  const [picking, setPicking] = useState(false);
  useEffect(() => {
    /** @param {KeyboardEvent} e */
    const keys = (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        setSwitching(true);
      }
      // Alt+↑/↓: the previous or next channel; with Shift, the previous or next unread one.
      if (e.altKey && (e.key === 'ArrowUp' || e.key === 'ArrowDown')) {
        e.preventDefault();
        const order = [
          ...chat.channels.value.filter((c) => c.is_member !== false && c.kind !== 'dm'),
          ...chat.channels.value.filter((c) => c.kind === 'dm'),
        ];
        const here = order.findIndex((c) => c.id === chat.channelId.value);
        const step = e.key === 'ArrowUp' ? -1 : 1;
        for (let i = here + step; i >= 0 && i < order.length; i += step) {
          if (!e.shiftKey || (order[i].unread_count ?? 0) > 0) {
            go(order[i].id);
            break;
          }
        }
      }
    };
    addEventListener('keydown', keys);
    return () => removeEventListener('keydown', keys);
  }, []);
  /** @param {string} id */
  const go = (id) => {
    setSwitching(false);
    history.pushState(null, '', `/w/${workspaceId}/c/${id}`);
    dispatchEvent(new PopStateEvent('popstate'));
  };
  return html`
    <div class=${chat.threadId.value ? 'layout with-thread' : 'layout'}>
      ${inviting && html`<${InviteDialog} workspaceId=${workspaceId} onClose=${() => setInviting(false)} />`}
      ${switching && html`<${QuickSwitcher} onGo=${go} onClose=${() => setSwitching(false)} />`}
      ${picking && html`<${DmPicker} onGo=${(/** @type {string} */ id) => { setPicking(false); go(id); }} onClose=${() => setPicking(false)} />`}
      <nav class="sidebar" aria-label="Channels">
        <header><strong>${ws?.name ?? ''}</strong></header>
        <${ChannelLinks} workspaceId=${workspaceId} label="Channels" list=${chat.channels.value.filter((c) => c.is_member !== false && c.kind !== 'dm')} />
        <h3 class="section">Direct messages</h3>
        <${ChannelLinks} workspaceId=${workspaceId} label="Direct messages" list=${chat.channels.value.filter((c) => c.kind === 'dm')} />
        <button class="link invite" onClick=${() => setPicking(true)}>New direct message</button>
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
      <${Thread} />
    </div>
  `;
}

/** Links to channels, each bold when unread, with its mention count.
 * @param {{workspaceId: string, label: string, list: chat.Channel[]}} props */
function ChannelLinks({ workspaceId, label, list }) {
  return html`<ul aria-label=${label}>
    ${list.map(
      (c) => html`<li>
        <a href=${`/w/${workspaceId}/c/${c.id}`}
           class=${(c.id === chat.channelId.value ? 'current ' : '') + ((c.unread_count ?? 0) > 0 ? 'unread' : '')}
           aria-current=${c.id === chat.channelId.value ? 'page' : undefined}>
          ${chat.title(c)}
          ${(c.mention_count ?? 0) > 0 && html`<span class="badge" aria-label="mentions">${c.mention_count}</span>`}
        </a>
      </li>`,
    )}
  </ul>`;
}

/** Picking people for a DM or a group DM. @param {{onGo: (id: string) => void, onClose: () => void}} props */
function DmPicker({ onGo, onClose }) {
  const [chosen, setChosen] = useState(/** @type {string[]} */ ([]));
  const others = Object.entries(chat.people.value).filter(([id]) => id !== me.value?.id);
  return html`<div class="dialog" role="dialog" aria-modal="true" aria-labelledby="dm-title">
    <h2 id="dm-title">New direct message</h2>
    <ul class="people">
      ${others.map(([id, p]) => html`<li><label><input type="checkbox" checked=${chosen.includes(id)}
        onChange=${() => setChosen(chosen.includes(id) ? chosen.filter((x) => x !== id) : [...chosen, id])} /> ${p.display_name}</label></li>`)}
    </ul>
    <div class="actions">
      <button onClick=${onClose}>Cancel</button>
      <button disabled=${chosen.length === 0} onClick=${async () => onGo(await chat.openDm(chosen))}>Go</button>
    </div>
  </div>`;
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

function Channel() {
  const channel = chat.currentChannel.value;
  const list = useRef(/** @type {HTMLElement | null} */ (null));
  const [editing, setEditing] = useState(/** @type {string | null} */ (null));
  const shown = channel ? chat.messages.value[channel.id] ?? [] : [];
  const waiting = channel ? chat.pending.value.filter((p) => p.channel_id === channel.id && !p.thread_root_id) : [];
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
    <main class="channel" aria-label=${chat.title(channel)}>
      <header><h2>${chat.title(channel)}</h2><span class="topic">${channel.topic}</span></header>
      <ol class="messages" ref=${list} aria-live="polite">
        ${shown.map((m, i) => html`<${MessageRow} message=${m} previous=${shown[i - 1]} editing=${editing} setEditing=${setEditing} />`)}
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
      <textarea class="composer" aria-label=${`Message ${chat.title(channel)}`} placeholder=${`Message ${chat.title(channel)}`} rows="2"
        onKeyDown=${keydown} onInput=${() => socket.typing(channel.id)}></textarea>
      <p class="typing" aria-live="polite">${chat.typingLine(channel.id)}</p>
    </main>
  `;
}
