// @ts-check
/** Signing in, or creating an account. */
import { useState } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import { signIn } from '../stores/session.js';

export function SignIn() {
  const [mode, setMode] = useState(/** @type {'login' | 'register'} */ ('login'));
  const [error, setError] = useState('');
  /** @param {SubmitEvent} e */
  const submit = async (e) => {
    e.preventDefault();
    const form = new FormData(/** @type {HTMLFormElement} */ (e.target));
    setError('');
    try {
      await signIn(mode, String(form.get('username')), String(form.get('password')));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return html`
    <main class="auth">
      <h1>confab</h1>
      <form onSubmit=${submit} aria-label=${mode === 'login' ? 'Sign in' : 'Create an account'}>
        <label>Username <input name="username" autocomplete="username" required minlength="2" maxlength="32" /></label>
        <label>Password <input name="password" type="password" autocomplete=${mode === 'login' ? 'current-password' : 'new-password'} required minlength="8" /></label>
        ${error && html`<p class="error" role="alert">${error}</p>`}
        <button type="submit">${mode === 'login' ? 'Sign in' : 'Create account'}</button>
      </form>
      <button class="link" onClick=${() => setMode(mode === 'login' ? 'register' : 'login')}>
        ${mode === 'login' ? 'New here? Create an account' : 'Have an account? Sign in'}
      </button>
    </main>
  `;
}
