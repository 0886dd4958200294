// @ts-check
/**
 * A workspace: the top bar with the search box, the sidebar of channels, the open channel with
 * its messages, and beside it the thread, the channel's files or the search results; over it,
 * an image's full view.
 */
import { useEffect, useState } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import * as chat from '../stores/chat.js';
import { me, signOut, workspaces } from '../stores/session.js';
import * as socket from '../socket.js';
import { InviteDialog } from './invite.js';
import { Channel } from './channel.js';
import { Dot } from './people.js';
import { ProfileDialog } from './profile.js';
import { get } from '../api.js';
import { drawerOpen, returnTo } from '../stores/ui.js';
import * as notifications from '../stores/notifications.js';
import { BellSlashIcon } from '../lib/icons.js';
import { drafts } from '../stores/drafts.js';
import { Thread } from './thread.js';
import { QuickSwitcher } from './switcher.js';
import { FilesPanel } from './files.js';
import { Lightbox } from './attachments.js';
import * as files from '../stores/files.js';
import * as search from '../stores/search.js';
import { SearchBox } from './search.js';
import { SearchResults } from './search-results.js';

/** @param {{workspaceId: string, channelId: string | null, seq: number | null}} props */
export function Workspace({ workspaceId, channelId, seq }) {
  useEffect(() => {
    const open = chat.workspaceId.value === workspaceId ? Promise.resolve() : chat.openWorkspace(workspaceId);
    open.then(() => {
      const ws = workspaces.value.find((w) => w.id === workspaceId);
      const target = channelId ?? ws?.general_channel_id;
      if (target) chat.openChannel(target, seq);
    });
  }, [workspaceId, channelId, seq]);
  // Left for another page (the settings): no channel is on screen, so none is read, and that
  // page knows where to come back to.
  useEffect(() => () => {
    const open = chat.channelId.peek();
    returnTo.value = open ? `/w/${chat.workspaceId.peek()}/c/${open}` : null;
    chat.channelId.value = null;
  }, []);
  const ws = workspaces.value.find((w) => w.id === workspaceId);
  const [inviting, setInviting] = useState(false);
  const [switching, setSwitching] = useState(false);
  const [picking, setPicking] = useState(false);
  const [editingProfile, setEditingProfile] = useState(false);
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
    <div class=${(chat.threadId.value || files.open.value || search.shown.value ? 'layout with-thread' : 'layout') + (drawerOpen.value ? ' drawer-open' : '')}>
      ${editingProfile && html`<${ProfileDialog} onClose=${() => setEditingProfile(false)} />`}
      ${inviting && html`<${InviteDialog} workspaceId=${workspaceId} onClose=${() => setInviting(false)} />`}
      ${switching && html`<${QuickSwitcher} onGo=${go} onClose=${() => setSwitching(false)} />`}
      ${picking && html`<${DmPicker} onGo=${(/** @type {string} */ id) => { setPicking(false); go(id); }} onClose=${() => setPicking(false)} />`}
      ${drawerOpen.value && html`<div class="scrim" onClick=${() => (drawerOpen.value = false)}></div>`}
      <header class="topbar"><${SearchBox} /></header>
      <nav class="sidebar" aria-label="Channels" onClick=${(/** @type {Event} */ e) => { if (/** @type {HTMLElement} */ (e.target).closest('a')) drawerOpen.value = false; }}>
        <header>
          ${workspaces.value.length > 1
            ? html`<select class="workspaces" aria-label="Workspace" value=${workspaceId}
                onChange=${(/** @type {Event} */ e) => navigate(`/w/${/** @type {HTMLSelectElement} */ (e.target).value}`)}>
                ${workspaces.value.map((w) => html`<option value=${w.id} selected=${w.id === workspaceId}>${w.name}</option>`)}
              </select>`
            : html`<strong>${ws?.name ?? ''}</strong>`}
          <${PausedBell} />
        </header>
        <${ChannelLinks} workspaceId=${workspaceId} label="Channels" list=${chat.channels.value.filter((c) => c.is_member !== false && c.kind !== 'dm')} />
        <h3 class="section">Direct messages</h3>
        <${ChannelLinks} workspaceId=${workspaceId} label="Direct messages" list=${chat.channels.value.filter((c) => c.kind === 'dm')} />
        <button class="link invite" onClick=${() => setPicking(true)}>New direct message</button>
        <${Browse} workspaceId=${workspaceId} />
        <${NewChannel} />
        <button class="link invite" onClick=${() => setInviting(true)}>Invite people</button>
        <footer>
          <button class="link me" title="Edit your profile and status" onClick=${() => setEditingProfile(true)}>
            ${me.value?.display_name}${/** @type {any} */ (me.value)?.status_text ? html` <span class="status">· ${/** @type {any} */ (me.value).status_text}</span>` : ''}<span class="sr-only">: edit your profile and status</span>
          </button>
          <span class=${'state ' + socket.state.value} role="status">${{ online: '', reconnecting: 'Reconnecting…', connecting: 'Connecting…', offline: 'Offline' }[socket.state.value]}</span>
          <a class="link" href="/settings/notifications">Notifications</a>
          <button class="link" onClick=${async () => { socket.stop(); await notifications.signOutDevice(); signOut(); }}>Sign out</button>
        </footer>
      </nav>
      <${Channel} />
      <${Thread} />
      <${FilesPanel} />
      <${SearchResults} />
      <${Lightbox} />
    </div>
  `;
}

/**
 * The sidebar's bell-slash while notifications are paused (snoozed, or in the daily
 * do-not-disturb hours), as Slack shows it beside the workspace's name: to the settings.
 */
function PausedBell() {
  const p = notifications.paused.value;
  if (!p) return null;
  const until = p.why === 'snooze' ? new Date(p.until).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : p.until;
  const said = p.why === 'snooze' ? `Notifications snoozed until ${until}` : `Do not disturb until ${until}`;
  return html`<a class="paused" href="/settings/notifications" title=${said} aria-label=${said}><${BellSlashIcon} /></a>`;
}

/** Goes to an address of the app without a reload. @param {string} to */
function navigate(to) {
  history.pushState(null, '', to);
  dispatchEvent(new PopStateEvent('popstate'));
}

/** The one other person of a one-to-one DM. @param {chat.Channel} c */
function dmPartner(c) {
  const others = (c.members ?? []).filter((id) => id !== me.value?.id);
  return others.length === 1 ? others[0] : null;
}

/** Links to channels, each bold when unread, with its mention count; a muted one dimmed.
 * @param {{workspaceId: string, label: string, list: chat.Channel[]}} props */
function ChannelLinks({ workspaceId, label, list }) {
  return html`<ul aria-label=${label}>
    ${list.map((c) => {
      const muted = notifications.channelSettings(c.id).muted;
      return html`<li>
        <a href=${`/w/${workspaceId}/c/${c.id}`} onClick=${() => performance.mark(`confab:switch:${c.id}`)}
           class=${(c.id === chat.channelId.value ? 'current ' : '') + ((c.unread_count ?? 0) > 0 ? 'unread ' : '') + (muted ? 'muted' : '')}
           aria-current=${c.id === chat.channelId.value ? 'page' : undefined}>
          ${c.kind === 'dm' && dmPartner(c) && html`<${Dot} userId=${dmPartner(c)} /> `}${chat.title(c)}${muted && html`<span class="sr-only"> (muted)</span>`}
          ${c.id !== chat.channelId.value && drafts.value[c.id]?.body && html`<span class="draft-mark" title="Draft" aria-label="has a draft">✎</span>`}
          ${(c.mention_count ?? 0) > 0 && html`<span class="badge" aria-label="mentions">${c.mention_count}</span>`}
        </a>
      </li>`;
    })}
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

/** Public channels the user is not in, to join, with how many are in each. @param {{workspaceId: string}} props */
function Browse({ workspaceId }) {
  const open = chat.channels.value.filter((c) => c.is_member === false && c.kind === 'public');
  const [counts, setCounts] = useState(/** @type {Record<string, number>} */ ({}));
  if (open.length === 0) return null;
  /** @param {Event} e */
  const toggled = async (e) => {
    if (!(/** @type {HTMLDetailsElement} */ (e.target).open)) return;
    const answer = await get(`/workspaces/${workspaceId}/channels?browse=true`);
    setCounts(Object.fromEntries(answer.channels.map((/** @type {any} */ c) => [c.id, c.member_count])));
  };
  return html`<details class="browse" onToggle=${toggled}>
    <summary>Browse channels (${open.length})</summary>
    <ul>
      ${open.map(
        (c) => html`<li>
          <span>#${c.name}${counts[c.id] !== undefined && html` <span class="members">${counts[c.id] === 1 ? '1 member' : `${counts[c.id]} members`}</span>`}</span>
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
