// @ts-check
/**
 * Invites: a link to share (made from the sidebar), and opening one (`/invite/{code}`),
 * which joins the workspace once signed in, and lands in it.
 */
import { useEffect, useState } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import { post } from '../api.js';
import { loadMe } from '../stores/session.js';

const KEY = 'confab.invite';

/** Remembers an invite opened while signed out, to accept once signed in. */
export function rememberInvite(/** @type {string} */ code) {
  sessionStorage.setItem(KEY, code);
}

/** The invite waiting to be accepted, if any. */
export function waitingInvite() {
  return sessionStorage.getItem(KEY);
}

/**
 * Accepts an invite; the workspace it joined.
 * @param {string} code
 * @returns {Promise<string>}
 */
export async function acceptInvite(code) {
  sessionStorage.removeItem(KEY);
  const answer = await post(`/invites/${encodeURIComponent(code)}/accept`, undefined);
  await loadMe();
  return answer.workspace.id;
}

/** @param {{code: string, onJoined: (workspaceId: string) => void}} props */
export function AcceptInvite({ code, onJoined }) {
  const [error, setError] = useState('');
  useEffect(() => {
    acceptInvite(code)
      .then(onJoined)
      .catch((e) => setError(e instanceof Error ? e.message : String(e)));
  }, [code]);
  return html`<main class="auth">
    <h1>Joining…</h1>
    ${error && html`<p class="error" role="alert">This invite cannot be used: ${error}</p><p><a href="/">Go to confab</a></p>`}
  </main>`;
}

/** @param {{workspaceId: string, onClose: () => void}} props */
export function InviteDialog({ workspaceId, onClose }) {
  const [link, setLink] = useState('');
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    post(`/workspaces/${workspaceId}/invites`, {}).then((answer) =>
      setLink(`${location.origin}/invite/${answer.invite.code}`),
    );
  }, [workspaceId]);
  const copy = async () => {
    await navigator.clipboard?.writeText(link).catch(() => {});
    setCopied(true);
  };
  return html`<div class="dialog" role="dialog" aria-modal="true" aria-labelledby="invite-title">
    <h2 id="invite-title">Invite people</h2>
    <p>Anyone with this link can join, for 7 days (100 people at most).</p>
    <input readonly value=${link} aria-label="Invite link" onFocus=${(/** @type {FocusEvent} */ e) => /** @type {HTMLInputElement} */ (e.target).select()} />
    <div class="actions">
      <button onClick=${copy} disabled=${!link}>${copied ? 'Copied' : 'Copy link'}</button>
      <button onClick=${onClose}>Done</button>
    </div>
  </div>`;
}
