// @ts-check
/** A new account's first step: create a workspace (or open an invite link you were sent). */
import { useState } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import { post } from '../api.js';
import { loadMe } from '../stores/session.js';

export function FirstRun() {
  const [error, setError] = useState('');
  /** @param {SubmitEvent} e */
  const submit = async (e) => {
    e.preventDefault();
    const form = new FormData(/** @type {HTMLFormElement} */ (e.target));
    try {
      await post('/workspaces', { name: String(form.get('name')) });
      await loadMe();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return html`
    <main class="auth">
      <h1>Create a workspace</h1>
      <form onSubmit=${submit} aria-label="Create a workspace">
        <label>Name <input name="name" required maxlength="80" placeholder="Acme" /></label>
        ${error && html`<p class="error" role="alert">${error}</p>`}
        <button type="submit">Create</button>
      </form>
      <p class="hint">Invited somewhere? Open the invite link you were sent.</p>
    </main>
  `;
}
