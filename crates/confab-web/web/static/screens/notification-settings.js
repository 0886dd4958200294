// @ts-check
/**
 * The notification settings page (`/settings/notifications`, from the sidebar's footer or a
 * channel's bell menu): what notifies, desktop and mobile push with this browser and the
 * user's other devices, email, the daily do-not-disturb hours and their time zone, snoozing,
 * and, for a workspace's admins, its default. Every change is saved as it is made, as Slack's
 * preferences are; the status line says so. Permission to notify is asked for only by the
 * "Enable desktop notifications" button.
 */
import { useEffect, useState } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import * as notifications from '../stores/notifications.js';
import * as chat from '../stores/chat.js';
import { workspaces } from '../stores/session.js';
import { returnTo } from '../stores/ui.js';
import { levelShort } from './channel-notifications.js';

/** The user's own levels: `default` defers to each workspace's. */
const LEVELS = /** @type {const} */ ([
  ['all', 'All new messages'],
  ['mentions', 'Direct messages, mentions and threads you follow'],
  ['none', 'Nothing'],
]);
/** How often an email may come at most, in minutes. */
const INTERVALS = /** @type {[number, string][]} */ ([[5, '5 minutes'], [15, '15 minutes'], [30, '30 minutes'], [60, 'hour'], [240, '4 hours'], [1440, 'day']]);
/** Snoozes offered, in minutes, as Slack's menu has them. */
const SNOOZES = /** @type {[number, string][]} */ ([[30, '30 minutes'], [60, '1 hour'], [120, '2 hours'], [240, '4 hours'], [480, '8 hours'], [1440, '24 hours']]);
/** A schedule's hours before one is set: the night. */
const NIGHT = { start: '22:00', end: '08:00' };

const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** The time zones to choose from, with `also` among them. @param {string[]} also */
function zones(also) {
  /** @type {string[]} */
  let all = [];
  try {
    all = Intl.supportedValuesOf('timeZone');
  } catch {
    // An older browser: only the zones named below.
  }
  return [...new Set([...all, 'UTC', ...also])].sort();
}

/** What a push service's host says about the browser behind it. @param {string} host */
function browserOf(host) {
  if (host.endsWith('.googleapis.com')) return 'Chrome';
  if (host.endsWith('.mozilla.com')) return 'Firefox';
  if (host.endsWith('.notify.windows.com')) return 'Edge';
  if (host.endsWith('.push.apple.com')) return 'Safari';
  return host;
}

/** A time, with its day when not today. @param {string} at */
function until(at) {
  const d = new Date(at);
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return d.toDateString() === new Date().toDateString() ? time : `${d.toLocaleDateString([], { weekday: 'long' })} ${time}`;
}

export function NotificationSettings() {
  useEffect(() => {
    notifications.loadSettings();
    notifications.refreshPush();
  }, []);
  const [status, setStatus] = useState('');
  const s = notifications.settings.value;
  const ws = workspaces.value.find((w) => w.id === chat.workspaceId.value) ?? workspaces.value[0];
  const back = returnTo.value ?? (ws ? `/w/${ws.id}` : '/');

  /** Runs a change, saying how it went. @param {() => Promise<unknown>} change */
  const save = async (change) => {
    setStatus('Saving…');
    try {
      await change();
      setStatus('Saved');
    } catch (e) {
      setStatus(`Not saved: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  /** @param {Parameters<typeof notifications.savePreferences>[0]} changes */
  const put = (changes) => save(() => notifications.savePreferences(changes));

  return html`<div class="settings-page">
    <header class="settings-bar">
      <a class="back" href=${back}>← Back to ${ws?.name ?? 'confab'}</a>
    </header>
    <main class="settings" aria-labelledby="settings-title">
      <h1 id="settings-title">Notifications</h1>
      <p class=${'saved' + (status.startsWith('Not') ? ' error' : '')} role="status">${status}</p>
      ${!s && (notifications.loadError.value
        ? html`<p class="error" role="alert">Your notification settings could not be read: ${notifications.loadError.value}.</p>`
        : html`<p class="hint">Loading…</p>`)}
      ${s && html`
        <${Level} settings=${s} workspace=${ws} put=${put} />
        <${Push} settings=${s} put=${put} save=${save} />
        <${Email} settings=${s} put=${put} />
        <${Schedule} settings=${s} put=${put} />
        <${Snooze} settings=${s} put=${put} />
        <${Defaults} save=${save} />`}
    </main>
  </div>`;
}

/**
 * @typedef {{settings: notifications.Settings, put: (changes: Parameters<typeof notifications.savePreferences>[0]) => Promise<void>}} SectionProps
 */

/** @param {SectionProps & {workspace: import('../stores/session.js').Workspace | undefined}} props */
function Level({ settings, workspace, put }) {
  const level = settings.preferences.level;
  const inherited = levelShort(notifications.workspaceDefault(workspace?.id ?? null));
  const choices = /** @type {[notifications.Level, string][]} */ ([
    ['default', `Workspace default (${inherited}${workspace ? ` in ${workspace.name}` : ''})`],
    ...LEVELS,
  ]);
  return html`<section class="card">
    <fieldset>
      <legend><h2>Notify me about</h2></legend>
      ${choices.map(([value, label]) => html`<label class="choice">
        <input type="radio" name="level" value=${value} checked=${level === value} onChange=${() => put({ level: value })} /> ${label}</label>`)}
    </fieldset>
    <p class="hint">A channel can have its own setting: its bell, beside the channel's name.</p>
  </section>`;
}

/** @param {SectionProps & {save: (change: () => Promise<unknown>) => Promise<void>}} props */
function Push({ settings, put, save }) {
  const on = settings.preferences.push;
  const permission = notifications.permission.value;
  const key = notifications.vapidKey.value;
  const mine = notifications.thisDevice.value;
  const list = notifications.devices.value;
  /** This browser: what it gets, and what can be done about it. */
  let here;
  if (permission === 'unsupported') {
    here = html`<p class="hint">This browser can't show notifications.</p>`;
  } else if (permission === 'denied') {
    here = html`<p class="hint">Notifications are blocked for confab in this browser. Allow them in the browser's site settings, then reload.</p>`;
  } else if (permission === 'granted' && mine) {
    here = html`<p class="ok">This browser gets desktop notifications, even while confab is closed.</p>`;
  } else if (permission === 'granted' && key === null) {
    here = html`<p class="ok">Desktop notifications show while confab is open in a tab.</p>`;
  } else {
    here = html`<p class="hint">Get a notification on this computer when something needs you.</p>
      <button class="primary" onClick=${() => notifications.enableDesktop()}>Enable desktop notifications</button>`;
  }
  return html`<section class="card">
    <h2>Desktop and mobile</h2>
    <label class="choice"><input type="checkbox" checked=${on}
      onChange=${(/** @type {Event} */ e) => put({ push: /** @type {HTMLInputElement} */ (e.target).checked })} />
      Send push notifications to my devices</label>
    <div class="this-browser">${here}</div>
    ${notifications.pushError.value && html`<p class="error" role="alert">${notifications.pushError.value}</p>`}
    ${list.length > 0 && html`<h3>Your devices</h3>
      <ul class="devices">
        ${list.map((d) => {
          const name = browserOf(d.endpoint_host);
          const added = new Date(d.created_at).toLocaleDateString([], { year: 'numeric', month: 'short', day: 'numeric' });
          return html`<li>
            <span class="device">
              <span><strong>${name}</strong>${d.id === mine && html` <span class="tag">This browser</span>`}</span>
              <span class="detail">${name !== d.endpoint_host ? `${d.endpoint_host} · ` : ''}added ${added}</span>
            </span>
            <button onClick=${() => save(() => notifications.removeDevice(d.id))} aria-label=${`Remove ${name}, added ${added}`}>Remove</button>
          </li>`;
        })}
      </ul>`}
  </section>`;
}

/** @param {SectionProps} props */
function Email({ settings, put }) {
  const p = settings.preferences;
  const known = INTERVALS.some(([m]) => m === p.email_interval_minutes);
  const choices = known ? INTERVALS : [...INTERVALS, /** @type {[number, string]} */ ([p.email_interval_minutes, `${p.email_interval_minutes} minutes`])];
  return html`<section class="card">
    <h2>Email</h2>
    <label class="choice"><input type="checkbox" checked=${p.email}
      onChange=${(/** @type {Event} */ e) => put({ email: /** @type {HTMLInputElement} */ (e.target).checked })} />
      Email me about notifications I miss</label>
    <div class="field"><label for="email-interval">At most one email every</label>
      <select id="email-interval" disabled=${!p.email} value=${String(p.email_interval_minutes)}
        onChange=${(/** @type {Event} */ e) => put({ email_interval_minutes: Number(/** @type {HTMLSelectElement} */ (e.target).value) })}>
        ${choices.map(([m, label]) => html`<option value=${String(m)} selected=${m === p.email_interval_minutes}>${label}</option>`)}
      </select>
    </div>
    <p class="hint">Sent to your account's address, when the server can send email.</p>
  </section>`;
}

/** @param {SectionProps} props */
function Schedule({ settings, put }) {
  const p = settings.preferences;
  // Never set: the browser's own zone is what the user most likely means.
  const zone = p.time_zone === 'UTC' && p.dnd === null ? browserZone : p.time_zone;
  const hours = p.dnd ?? NIGHT;
  /** @param {'start' | 'end'} which @param {Event} e */
  const moved = (which, e) => {
    const value = /** @type {HTMLInputElement} */ (e.target).value;
    if (/^\d\d:\d\d$/.test(value)) put({ dnd: { ...hours, [which]: value } });
  };
  return html`<section class="card">
    <h2>Do not disturb</h2>
    <label class="choice"><input type="checkbox" checked=${p.dnd !== null}
      onChange=${(/** @type {Event} */ e) => put(/** @type {HTMLInputElement} */ (e.target).checked
        ? { dnd: hours, time_zone: zone }
        : { dnd: null })} />
      Pause notifications every day</label>
    <div class="hours">
      <div class="field"><label for="dnd-start">From</label>
        <input id="dnd-start" type="time" value=${hours.start} disabled=${p.dnd === null} onChange=${(/** @type {Event} */ e) => moved('start', e)} /></div>
      <div class="field"><label for="dnd-end">to</label>
        <input id="dnd-end" type="time" value=${hours.end} disabled=${p.dnd === null} onChange=${(/** @type {Event} */ e) => moved('end', e)} /></div>
    </div>
    <div class="field"><label for="time-zone">Time zone</label>
      <select id="time-zone" value=${zone} onChange=${(/** @type {Event} */ e) => put({ time_zone: /** @type {HTMLSelectElement} */ (e.target).value })}>
        ${zones([zone, browserZone]).map((z) => html`<option value=${z} selected=${z === zone}>${z.replace(/_/g, ' ')}</option>`)}
      </select>
    </div>
    ${zone !== browserZone && html`<p class="hint">This browser is in ${browserZone.replace(/_/g, ' ')}.</p>`}
  </section>`;
}

/** @param {SectionProps} props */
function Snooze({ settings, put }) {
  const paused = notifications.paused.value;
  const snoozed = paused?.why === 'snooze' ? settings.preferences.snooze_until : null;
  return html`<section class="card">
    <h2>Snooze</h2>
    ${snoozed
      ? html`<p class="paused-line">Notifications are paused until ${until(snoozed)}.</p>
          <button class="primary" onClick=${() => put({ snooze_minutes: 0 })}>Resume notifications</button>`
      : html`${paused?.why === 'dnd' && html`<p class="paused-line">Do not disturb is on until ${paused.until}${
          settings.preferences.time_zone !== browserZone ? ` (${settings.preferences.time_zone.replace(/_/g, ' ')})` : ''}.</p>`}
          <div class="snoozes" role="group" aria-label="Pause notifications for">
            <span class="lead" aria-hidden="true">Pause notifications for</span>
            ${SNOOZES.map(([m, label]) => html`<button onClick=${() => put({ snooze_minutes: m })} aria-label=${`Pause notifications for ${label}`}>${label}</button>`)}
          </div>`}
  </section>`;
}

/** Each workspace the user runs: its members' default. @param {{save: (change: () => Promise<unknown>) => Promise<void>}} props */
function Defaults({ save }) {
  const mine = workspaces.value.filter((w) => w.role === 'owner' || w.role === 'admin');
  if (mine.length === 0) return null;
  return html`<section class="card">
    <h2>Workspace default</h2>
    <p class="hint">What notifies members who keep their workspace's default. You run these workspaces.</p>
    ${mine.map((w) => {
      const level = notifications.workspaceDefault(w.id);
      return html`<div class="field"><label for=${`default-${w.id}`}>${w.name}</label>
        <select id=${`default-${w.id}`} value=${level} onChange=${(/** @type {Event} */ e) => {
          const chosen = /** @type {Exclude<notifications.Level, 'default'>} */ (/** @type {HTMLSelectElement} */ (e.target).value);
          save(() => notifications.setWorkspaceDefault(w.id, chosen));
        }}>
          ${LEVELS.map(([value, label]) => html`<option value=${value} selected=${value === level}>${label}</option>`)}
        </select>
      </div>`;
    })}
  </section>`;
}
