// @ts-check
/**
 * The open channel: its header, its messages and its composer. Only the loaded messages are
 * rendered, and a channel keeps at most `chat.MAX_LOADED` loaded: scrolling up loads older
 * pages (keeping the reader's place), scrolling far back drops the newest, which "Jump to
 * latest" brings back. A permalink opens the page around its message, highlighted. Files
 * dropped anywhere on it attach to its composer. Its header's bell is its notification menu.
 */
import { useEffect, useLayoutEffect, useRef, useState } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import * as chat from '../stores/chat.js';
import { me, workspaces } from '../stores/session.js';
import * as socket from '../socket.js';
import { MessageRow, messageKeys } from './messages.js';
import { Composer } from './composer.js';
import { PeopleButton } from './people.js';
import { drawerOpen } from '../stores/ui.js';
import * as files from '../stores/files.js';
import * as uploads from '../stores/uploads.js';
import { DropOverlay, UploadChips, useDropZone } from './uploads.js';
import { ChannelNotifications } from './channel-notifications.js';

/** Near enough to an end of the list to load the next page, in pixels. */
const NEAR = 200;

export function Channel() {
  const channel = chat.currentChannel.value;
  const list = useRef(/** @type {HTMLOListElement | null} */ (null));
  const [editing, setEditing] = useState(/** @type {string | null} */ (null));
  // Where the reader is: the message at the top of the view and its offset, or the bottom.
  const anchor = useRef(/** @type {{id: string, top: number} | 'bottom'} */ ('bottom'));
  const loading = useRef(false);
  const markedFor = useRef('');
  // The permalink opening the view last scrolled to its message (`chat.highlightVisit`).
  const scrolledFor = useRef(-1);
  const visit = chat.highlightVisit.value;
  const [farUp, setFarUp] = useState(false);
  const id = channel?.id ?? '';
  const shown = channel ? chat.messages.value[id] ?? [] : [];
  const waiting = channel ? chat.pendingShown(id, null) : [];
  const behind = chat.behind.value[id] ?? false;
  const divider = chat.dividers.value[id] ?? Infinity;
  const firstUnread = shown.find((m) => m.seq > divider && m.author_id !== me.value?.id);
  const [dropping, dropHandlers] = useDropZone(id);

  useEffect(() => {
    anchor.current = 'bottom';
    setEditing(null);
  }, [id]);

  // After every render: keep the reader's place, or stay at the bottom.
  useLayoutEffect(() => {
    const el = list.current;
    if (!el) return;
    // For measuring: when a channel's messages first show (performance marks, read by the
    // browser tests and recorded in BENCHMARKS.md, never asserted).
    if (chat.messages.value[id] !== undefined && markedFor.current !== id) {
      markedFor.current = id;
      performance.mark(`confab:channel-rendered:${id}`);
    }
    const target = chat.highlighted.value?.startsWith(`${id}:`)
      ? el.querySelector(`li.message[data-seq="${chat.highlighted.value.split(':')[1]}"]`)
      : null;
    // Once per opening: after that the highlight stays, and the reader's place is theirs.
    if (target && scrolledFor.current !== visit) {
      scrolledFor.current = visit;
      target.scrollIntoView({ block: 'center' });
      remember();
      return;
    }
    const a = anchor.current;
    if (a === 'bottom') {
      el.scrollTop = el.scrollHeight;
      return;
    }
    const row = /** @type {HTMLElement | null} */ (el.querySelector(`li[data-id="${a.id}"]`));
    if (row) el.scrollTop += row.offsetTop - el.scrollTop - a.top;
  });

  /** Notes where the reader is, so a render that adds or drops messages keeps it. */
  const remember = () => {
    const el = list.current;
    if (!el) return;
    if (el.scrollHeight - el.scrollTop - el.clientHeight < 4 && !chat.behind.value[id]) {
      anchor.current = 'bottom';
      setFarUp(false);
      return;
    }
    setFarUp(el.scrollHeight - el.scrollTop - el.clientHeight > el.clientHeight);
    for (const row of /** @type {NodeListOf<HTMLElement>} */ (el.querySelectorAll('li[data-id]'))) {
      if (row.offsetTop + row.offsetHeight > el.scrollTop) {
        anchor.current = { id: row.dataset.id ?? '', top: row.offsetTop - el.scrollTop };
        return;
      }
    }
  };

  const scrolled = async () => {
    remember();
    const el = list.current;
    if (!el || loading.current) return;
    loading.current = true;
    try {
      if (el.scrollTop < NEAR && chat.older.value[id]) await chat.loadOlder(id);
      else if (el.scrollHeight - el.scrollTop - el.clientHeight < NEAR && chat.behind.value[id]) await chat.loadNewer(id);
    } finally {
      loading.current = false;
    }
  };

  const latest = async () => {
    chat.highlighted.value = null;
    anchor.current = 'bottom';
    setFarUp(false);
    if (chat.behind.value[id]) await chat.jumpToLatest(id);
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  };

  if (!channel) return html`<main class="channel"></main>`;
  const leave = async () => {
    if (!confirm(`Leave ${chat.title(channel)}?`)) return;
    await chat.leaveChannel(id);
    const general = workspaces.value.find((w) => w.id === channel.workspace_id)?.general_channel_id;
    history.pushState(null, '', `/w/${channel.workspace_id}${general && general !== id ? `/c/${general}` : ''}`);
    dispatchEvent(new PopStateEvent('popstate'));
  };
  const editLast = () => {
    const last = [...shown].reverse().find((m) => m.author_id === me.value?.id && !m.deleted);
    if (last) setEditing(last.id);
  };
  /** @param {KeyboardEvent} e */
  const keys = (e) => {
    // Esc marks the channel read (when nothing else took it).
    if (e.key === 'Escape' && !e.defaultPrevented) chat.markRead(id);
    messageKeys(e, setEditing);
  };
  /** The list itself takes focus from the keyboard: ↑ goes to the newest message. @param {KeyboardEvent} e */
  const listKeys = (e) => {
    if (e.target !== list.current) return;
    if (e.key === 'ArrowUp' || e.key === 'End') {
      e.preventDefault();
      const rows = list.current?.querySelectorAll('li.message[data-id]');
      /** @type {HTMLElement | undefined} */ (rows?.[rows.length - 1])?.focus();
    }
  };
  return html`
    <main class="channel" aria-label=${chat.title(channel)} onKeyDown=${keys} ...${dropHandlers}>
      <header>
        <button class="menu-button" aria-label="Open the channel list" aria-expanded=${drawerOpen.value} onClick=${() => (drawerOpen.value = true)}>☰</button>
        <h2>${chat.title(channel)}</h2><span class="topic">${channel.topic}</span>
        <${PeopleButton} />
        <button class="link files-button" aria-expanded=${files.open.value} aria-label=${`Files in ${chat.title(channel)}`}
          onClick=${() => (files.open.value ? files.hide() : files.show())}>Files</button>
        <${ChannelNotifications} channel=${channel} />
        ${channel.kind !== 'dm' && html`<button class="link" onClick=${leave}>Leave</button>`}
      </header>
      <ol class="messages" ref=${list} tabindex="0" aria-label="Messages" onScroll=${scrolled} onKeyDown=${listKeys}>
        ${chat.older.value[id] && html`<li class="day"><span>Loading older messages…</span></li>`}
        ${shown.map((m, i) => html`<${MessageRow} key=${m.id} message=${m} previous=${shown[i - 1]} editing=${editing}
          setEditing=${setEditing} divider=${m === firstUnread} />`)}
        ${!behind && waiting.map(
          (p) => html`<li class="message pending" data-pending=${p.client_msg_id}>
            <span class="time"></span>
            <div class="content">
              <strong class="author">${me.value?.display_name}</strong>
              ${(p.body || !(p.uploads || p.file_ids)) && html`<span class="body">${p.body}</span>`}
              <${UploadChips} holder=${uploads.messageHolder(p.client_msg_id)} />
              ${p.failed
                ? html`<span class="edited failed">failed: ${p.failed}</span>
                    <button class="link" onClick=${() => socket.retrySend(p.client_msg_id)}>Retry</button>
                    <button class="link" onClick=${() => socket.discardSend(p.client_msg_id)}>Discard</button>`
                : html`<span class="edited">${p.uploads ? 'uploading…' : 'sending…'}</span>`}
            </div>
          </li>`,
        )}
      </ol>
      ${(behind || farUp) && html`<button class="jump" onClick=${latest}>Jump to latest ↓</button>`}
      <${Composer} key=${id} channelId=${id} label=${`Message ${chat.title(channel)}`} onEditLast=${editLast} autofocus=${true} />
      <p class="typing" aria-live="polite">${chat.typingLine(id)}</p>
      <p class="sr-only" aria-live="polite">${chat.announcement.value}</p>
      <${DropOverlay} over=${dropping} where=${chat.title(channel)} />
    </main>
  `;
}
