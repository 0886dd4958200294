// @ts-check
/**
 * A channel's notification menu, from the bell in its header: what notifies here (the
 * default, every message, mentions, nothing), mute, and ignoring `@channel`/`@everyone`/
 * `@here`. Each change is saved at once. Esc or a click elsewhere closes it, focus going back
 * to the bell.
 */
import { useEffect, useLayoutEffect, useRef, useState } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import * as chat from '../stores/chat.js';
import * as notifications from '../stores/notifications.js';
import { BellIcon, BellSlashIcon } from '../lib/icons.js';

/** What each level means, in a channel. */
export const LEVELS = /** @type {const} */ ([
  ['all', 'All new messages'],
  ['mentions', 'Mentions, direct messages and threads you follow'],
  ['none', 'Nothing'],
]);

/** A level in a few words, for "Default (mentions)". @param {notifications.Level} level */
export function levelShort(level) {
  return { all: 'all messages', mentions: 'mentions', none: 'nothing', default: 'default' }[level];
}

/** @param {{channel: chat.Channel}} props */
export function ChannelNotifications({ channel }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState('');
  const button = useRef(/** @type {HTMLButtonElement | null} */ (null));
  const menu = useRef(/** @type {HTMLDivElement | null} */ (null));
  const own = notifications.channelSettings(channel.id);
  const quiet = own.muted || notifications.effectiveLevel(channel.id) === 'none';
  const name = chat.title(channel);
  const fallback = notifications.settings.value?.preferences.level ?? 'default';
  const inherited = fallback !== 'default' ? fallback : notifications.workspaceDefault(channel.workspace_id);

  const close = () => {
    setOpen(false);
    button.current?.focus();
  };
  // The checked choice takes focus when it opens, as a radio group's should.
  useLayoutEffect(() => {
    const first = menu.current?.querySelector('input:checked:enabled') ?? menu.current?.querySelector('input:enabled');
    if (open) /** @type {HTMLElement | null | undefined} */ (first)?.focus();
  }, [open]);
  useEffect(() => {
    if (!open) return;
    /** @param {MouseEvent} e */
    const outside = (e) => {
      const at = /** @type {Node} */ (e.target);
      if (!menu.current?.contains(at) && !button.current?.contains(at)) setOpen(false);
    };
    document.addEventListener('mousedown', outside);
    return () => document.removeEventListener('mousedown', outside);
  }, [open]);
  useEffect(() => setOpen(false), [channel.id]);

  /** @param {Partial<Omit<notifications.ChannelPreferences, 'channel_id'>>} changes */
  const save = async (changes) => {
    setError('');
    try {
      await notifications.saveChannel(channel.id, changes);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };
  /** @param {KeyboardEvent} e */
  const keys = (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close();
    }
  };
  const choices = /** @type {[notifications.Level, string][]} */ ([['default', `Default (${levelShort(inherited)})`], ...LEVELS]);
  return html`<span class="notify-menu">
    <button ref=${button} class=${'icon-button' + (quiet ? ' quiet' : '')} aria-label=${`Notifications for ${name}`}
      title=${quiet ? 'Notifications off' : 'Notifications'} aria-expanded=${open} aria-haspopup="dialog"
      onClick=${() => setOpen(!open)}>${quiet ? html`<${BellSlashIcon} />` : html`<${BellIcon} />`}</button>
    ${open && html`<div class="popover notify-popover" role="dialog" aria-label=${`Notifications for ${name}`} ref=${menu} onKeyDown=${keys}>
      <fieldset disabled=${own.muted}>
        <legend>Notify me about</legend>
        ${choices.map(([value, label]) => html`<label class="choice">
          <input type="radio" name=${`level-${channel.id}`} value=${value} checked=${own.level === value}
            onChange=${() => save({ level: value })} /> ${label}</label>`)}
      </fieldset>
      <hr />
      <label class="choice"><input type="checkbox" checked=${own.muted} onChange=${(/** @type {Event} */ e) =>
        save({ muted: /** @type {HTMLInputElement} */ (e.target).checked })} /> Mute channel</label>
      <p class="hint">A muted channel is dimmed in the sidebar and never notifies you.</p>
      ${channel.kind !== 'dm' && html`<label class="choice"><input type="checkbox" checked=${own.ignore_channel_mentions}
        disabled=${own.muted}
        onChange=${(/** @type {Event} */ e) => save({ ignore_channel_mentions: /** @type {HTMLInputElement} */ (e.target).checked })} />
        Ignore @channel, @everyone and @here</label>`}
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <a class="more-settings" href="/settings/notifications">All notification settings</a>
    </div>`}
  </span>`;
}
