// @ts-check
/**
 * The web client's entry: which screen the address and the session call for. State flows one
 * way: socket frames and HTTP answers into the stores (`stores/`), the stores into the screens.
 */
import { render } from './vendor/preact.js';
import { computed, signal, effect } from './vendor/signals.js';
import { html } from './lib/html.js';
import { loadMe, me, workspaces } from './stores/session.js';
import * as socket from './socket.js';
import * as chat from './stores/chat.js';
import * as drafts from './stores/drafts.js';
import * as notifications from './stores/notifications.js';
import { SignIn } from './screens/sign-in.js';
import { FirstRun } from './screens/first-run.js';
import { Workspace } from './screens/workspace.js';
import { AcceptInvite, rememberInvite, waitingInvite } from './screens/invite.js';
import { NotificationSettings } from './screens/notification-settings.js';

const path = signal(location.pathname);
addEventListener('popstate', () => (path.value = location.pathname));
// Links inside the app change the screen without a reload (a file's download link is the
// browser's to follow).
document.addEventListener('click', (e) => {
  const a = /** @type {HTMLElement} */ (e.target).closest('a');
  if (a && a.origin === location.origin && !e.metaKey && !e.ctrlKey && !a.hasAttribute('download')) {
    e.preventDefault();
    history.pushState(null, '', a.pathname);
    path.value = a.pathname;
  }
});

// Files dropped where nothing takes them (the sidebar, say) must not open in the app's place.
for (const type of ['dragover', 'drop']) {
  addEventListener(type, (e) => {
    const drag = /** @type {DragEvent} */ (e);
    if (drag.defaultPrevented || !drag.dataTransfer || ![...drag.dataTransfer.types].includes('Files')) return;
    drag.preventDefault();
    drag.dataTransfer.dropEffect = 'none';
  });
}

// The tab's title and icon count unread channels, as Slack's do; while a hidden tab has
// something to say, its title flashes it (`stores/notifications.js`).
const unreadChannels = computed(() => chat.channels.value.filter((c) => (c.unread_count ?? 0) > 0).length);
effect(() => {
  const unread = unreadChannels.value;
  document.title = notifications.flashTitle.value ?? (unread > 0 ? `(${unread}) confab` : 'confab');
});
effect(() => setFavicon(unreadChannels.value));

/** Draws the tab's icon: a speech bubble, with the unread count on a red badge. @param {number} unread */
function setFavicon(unread) {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 32;
  const g = canvas.getContext('2d');
  if (!g) return;
  g.fillStyle = '#4a154b';
  g.beginPath();
  g.roundRect(2, 4, 26, 20, 6);
  g.fill();
  if (unread > 0) {
    g.fillStyle = '#e01e5a';
    g.beginPath();
    g.arc(23, 10, 9, 0, 2 * Math.PI);
    g.fill();
    g.fillStyle = '#fff';
    g.font = 'bold 13px sans-serif';
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    g.fillText(unread > 9 ? '9+' : String(unread), 23, 11);
  }
  let link = /** @type {HTMLLinkElement | null} */ (document.querySelector('link[rel="icon"]'));
  if (!link) {
    link = document.createElement('link');
    link.rel = 'icon';
    document.head.append(link);
  }
  link.href = canvas.toDataURL('image/png');
  link.dataset.unread = String(unread);
}

let connected = false;
effect(() => {
  if (me.value && !connected) {
    connected = true;
    socket.start();
    drafts.load().catch(() => {});
    // Registers the service worker (where there are service workers) and reads the settings.
    notifications.start();
  } else if (me.value === null) {
    connected = false;
  }
});

/** @param {string} to */
function go(to) {
  history.pushState(null, '', to);
  path.value = to;
}

function App() {
  const invite = /^\/invite\/([^/]+)/.exec(path.value);
  if (me.value === undefined) return html`<p class="loading">Loading…</p>`;
  if (me.value === null) {
    if (invite) rememberInvite(decodeURIComponent(invite[1]));
    return html`<${SignIn} />`;
  }
  const code = invite ? decodeURIComponent(invite[1]) : waitingInvite();
  if (code) return html`<${AcceptInvite} code=${code} onJoined=${(/** @type {string} */ ws) => go(`/w/${ws}`)} />`;
  if (workspaces.value.length === 0) return html`<${FirstRun} />`;
  if (/^\/settings\/notifications\/?$/.test(path.value)) return html`<${NotificationSettings} />`;
  const match = /^\/w\/([^/]+)(?:\/c\/([^/]+)(?:\/m\/(\d+))?)?/.exec(path.value);
  const workspaceId = match ? match[1] : workspaces.value[0].id;
  const seq = match?.[3] ? Number(match[3]) : null;
  return html`<${Workspace} workspaceId=${workspaceId} channelId=${match?.[2] ?? null} seq=${seq} />`;
}

render(html`<${App} />`, /** @type {HTMLElement} */ (document.getElementById('app')));
loadMe();
