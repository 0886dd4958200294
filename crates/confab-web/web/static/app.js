// @ts-check
/**
 * The web client's entry: which screen the address and the session call for. State flows one
 * way: socket frames and HTTP answers into the stores (`stores/`), the stores into the screens.
 */
import { render } from './vendor/preact.js';
import { signal, effect } from './vendor/signals.js';
import { html } from './lib/html.js';
import { loadMe, me, workspaces } from './stores/session.js';
import * as socket from './socket.js';
import * as chat from './stores/chat.js';
import { SignIn } from './screens/sign-in.js';
import { FirstRun } from './screens/first-run.js';
import { Workspace } from './screens/workspace.js';
import { AcceptInvite, rememberInvite, waitingInvite } from './screens/invite.js';

const path = signal(location.pathname);
addEventListener('popstate', () => (path.value = location.pathname));
// Links inside the app change the screen without a reload.
document.addEventListener('click', (e) => {
  const a = /** @type {HTMLElement} */ (e.target).closest('a');
  if (a && a.origin === location.origin && !e.metaKey && !e.ctrlKey) {
    e.preventDefault();
    history.pushState(null, '', a.pathname);
    path.value = a.pathname;
  }
});

// The tab's title counts unread channels, as Slack's does.
effect(() => {
  const unread = chat.channels.value.filter((c) => (c.unread_count ?? 0) > 0).length;
  document.title = unread > 0 ? `(${unread}) confab` : 'confab';
});

let connected = false;
effect(() => {
  if (me.value && !connected) {
    connected = true;
    socket.start();
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
  const match = /^\/w\/([^/]+)(?:\/c\/([^/]+))?/.exec(path.value);
  const workspaceId = match ? match[1] : workspaces.value[0].id;
  return html`<${Workspace} workspaceId=${workspaceId} channelId=${match?.[2] ?? null} />`;
}

render(html`<${App} />`, /** @type {HTMLElement} */ (document.getElementById('app')));
loadMe();
