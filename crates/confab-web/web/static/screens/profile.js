// @ts-check
/** Your profile: display name and a status ("In a meeting") that may clear itself (`PATCH /me`). */
import { useState } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import { request } from '../api.js';
import { me } from '../stores/session.js';

/** "Clear after" choices, in minutes (none: until changed). */
const CLEAR_AFTER = [['', "Don't clear"], ['30', '30 minutes'], ['60', '1 hour'], ['240', '4 hours'], ['1440', 'Today'], ['10080', 'This week']];

/** @param {{onClose: () => void}} props */
export function ProfileDialog({ onClose }) {
  const [error, setError] = useState('');
  const user = /** @type {any} */ (me.value);
  /** @param {SubmitEvent} e */
  const submit = async (e) => {
    e.preventDefault();
    const form = new FormData(/** @type {HTMLFormElement} */ (e.target));
    const status = String(form.get('status') ?? '');
    const minutes = String(form.get('clear') ?? '');
    /** @type {Record<string, unknown>} */
    const body = { display_name: String(form.get('name') ?? ''), status_text: status };
    if (status && minutes) body.status_expires_in_minutes = Number(minutes);
    try {
      const answer = await request('PATCH', '/me', body);
      me.value = answer.user;
      onClose();
    } catch (err) {
      setError(/** @type {Error} */ (err).message);
    }
  };
  return html`<div class="dialog" role="dialog" aria-modal="true" aria-labelledby="profile-title"
      onKeyDown=${(/** @type {KeyboardEvent} */ e) => e.key === 'Escape' && onClose()}>
    <h2 id="profile-title">Your profile</h2>
    <form class="profile" onSubmit=${submit}>
      <label>Display name <input name="name" required maxlength="80" value=${user?.display_name ?? ''} /></label>
      <label>Status <input name="status" maxlength="100" placeholder="What are you up to?" value=${user?.status_text ?? ''} /></label>
      <label>Clear after <select name="clear">${CLEAR_AFTER.map(([v, label]) => html`<option value=${v}>${label}</option>`)}</select></label>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="actions"><button type="button" onClick=${onClose}>Cancel</button><button type="submit">Save</button></div>
    </form>
  </div>`;
}
