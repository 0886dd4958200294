// @ts-check
/** One message as the channel and the thread panel show it, with its files and its actions. */
import { useEffect, useLayoutEffect, useRef, useState } from '../vendor/hooks.js';
import { signal } from '../vendor/signals.js';
import { html } from '../lib/html.js';
import { findEmoji, EMOJI } from '../lib/emoji.js';
import * as chat from '../stores/chat.js';
import { me } from '../stores/session.js';
import { render } from '../lib/markdown.js';
import { Attachments } from './attachments.js';

/** The reactions one click away, as Slack offers a few before its full picker. */
const QUICK_REACTIONS = ['👍', '🎉', '😄', '👀'];

/** A message's reactions: each with its count, who reacted on hover, a click to toggle. @param {{message: chat.Message}} props */
function Reactions({ message }) {
  return html`<span class="reactions">
    ${(message.reactions ?? []).map((r) => {
      const names = r.user_ids.map((id) => chat.people.value[id]?.display_name ?? 'someone');
      const more = r.count - r.user_ids.length;
      const who = names.join(', ') + (more > 0 ? ` and ${more} more` : '');
      const mine = r.user_ids.includes(me.value?.id ?? '');
      return html`<button class=${mine ? 'reaction mine' : 'reaction'} title=${who} aria-label=${`${r.emoji} ${r.count}: ${who}`}
        aria-pressed=${mine} onClick=${() => chat.toggleReaction(message, r.emoji)}>${r.emoji} <span class="count">${r.count}</span></button>`;
    })}
  </span>`;
}

/** The message whose reaction picker is open. */
export const picking = signal(/** @type {string | null} */ (null));

/**
 * The reaction picker: a search box (focused) over a grid of emoji. Enter picks the first
 * match, ←/→/↑/↓ move through the grid, Esc closes.
 * @param {{message: chat.Message}} props
 */
function EmojiPicker({ message }) {
  const [query, setQuery] = useState('');
  const search = useRef(/** @type {HTMLInputElement | null} */ (null));
  useLayoutEffect(() => search.current?.focus(), []);
  const shown = query ? findEmoji(query, 40) : EMOJI;
  const close = () => {
    picking.value = null;
    /** @type {HTMLElement | null} */ (document.querySelector(`li.message[data-id="${message.id}"]`))?.focus();
  };
  /** @param {string} emoji */
  const pick = (emoji) => {
    chat.toggleReaction(message, emoji);
    close();
  };
  /** @param {KeyboardEvent} e */
  const keydown = (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close();
    }
    const grid = /** @type {HTMLElement} */ (e.currentTarget).querySelectorAll('.grid button');
    const at = [...grid].indexOf(/** @type {HTMLElement} */ (document.activeElement));
    if (e.key === 'Enter' && e.target === search.current && shown.length > 0) {
      e.preventDefault();
      pick(shown[0][1]);
    }
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 8, ArrowUp: -8 }[e.key];
    if (step !== undefined && (at >= 0 || e.key === 'ArrowDown')) {
      e.preventDefault();
      const next = at < 0 ? 0 : Math.max(0, Math.min(grid.length - 1, at + step));
      /** @type {HTMLElement} */ (grid[next])?.focus();
    }
  };
  return html`<div class="picker" role="dialog" aria-label="Add a reaction" onKeyDown=${keydown}>
    <input ref=${search} type="search" aria-label="Search emoji" placeholder="Search emoji" value=${query}
      onInput=${(/** @type {Event} */ e) => setQuery(/** @type {HTMLInputElement} */ (e.target).value)} />
    <div class="grid">
      ${shown.map(([name, emoji]) => html`<button type="button" title=${`:${name}:`} aria-label=${`:${name}:`} onClick=${() => pick(emoji)}>${emoji}</button>`)}
    </div>
  </div>`;
}

/** A day's heading: Today, Yesterday, or the date. @param {Date} day */
function dayLabel(day) {
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (day.toDateString() === today.toDateString()) return 'Today';
  if (day.toDateString() === yesterday.toDateString()) return 'Yesterday';
  return day.toLocaleDateString([], { weekday: 'long', month: 'long', day: 'numeric' });
}

/** Editing a message in place: Enter saves, Esc cancels. @param {{message: chat.Message, onDone: () => void}} props */
function EditBox({ message, onDone }) {
  const box = useRef(/** @type {HTMLTextAreaElement | null} */ (null));
  useEffect(() => {
    if (box.current) {
      box.current.value = message.body ?? '';
      box.current.focus();
    }
  }, [message.id]);
  /** @param {KeyboardEvent} e */
  const keydown = async (e) => {
    const text = /** @type {HTMLTextAreaElement} */ (e.target).value;
    if (e.key === 'Escape') onDone();
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      if (text.trim()) await chat.editMessage(message.id, text);
      onDone();
    }
  };
  return html`<textarea class="edit" aria-label="Edit the message" rows="2" ref=${box} onKeyDown=${keydown}></textarea>`;
}

/**
 * A message's permalink: its channel at its sequence number.
 * @param {chat.Message} m
 */
export function permalink(m) {
  return `${location.origin}/w/${chat.workspaceId.value}/c/${m.channel_id}/m/${m.seq}`;
}

/**
 * @param {{message: chat.Message, previous?: chat.Message, editing: string | null,
 *   setEditing: (id: string | null) => void, inThread?: boolean, divider?: boolean}} props
 */
export function MessageRow({ message: m, previous, editing, setEditing, inThread, divider }) {
  const day = new Date(m.ts);
  const newDay = !previous || new Date(previous.ts).toDateString() !== day.toDateString();
  // Slack's grouping: the same author within five minutes shows no name again.
  const grouped = !newDay && previous !== undefined && previous.author_id === m.author_id &&
    Date.parse(m.ts) - Date.parse(previous.ts) < 5 * 60_000;
  const author = chat.people.value[m.author_id];
  const mine = m.author_id === me.value?.id && !m.deleted;
  const replies = m.reply_count ?? 0;
  const highlighted = inThread ? chat.highlightedReply.value === m.id : chat.highlighted.value === `${m.channel_id}:${m.seq}`;
  const canDelete = mine || ['owner', 'admin'].includes(chat.myRole.value ?? '');
  const myId = me.value?.id ?? '';
  // Messages that name you stand out, as on Slack.
  const mentioned = !m.deleted && m.author_id !== myId && (m.mentions?.user_ids.includes(myId) || m.mentions?.channel);
  const files = m.deleted ? [] : m.files ?? [];
  const classes = ['message', m.deleted && 'deleted', mentioned && 'mentioned', grouped && !divider && 'grouped', highlighted && 'highlight'].filter(Boolean).join(' ');
  return html`
    ${newDay && !inThread && html`<li class="day"><span>${dayLabel(day)}</span></li>`}
    ${divider && html`<li class="divider"><span>New</span><span class="sr-only"> messages</span></li>`}
    <li class=${classes} data-id=${m.id} data-seq=${m.seq} tabindex="-1"
      aria-label=${`${author ? author.display_name : 'someone'}, ${day.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`}>
      <time datetime=${m.ts} title=${day.toLocaleString()}>${day.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}</time>
      <div class="content">
        ${!grouped && html`<strong class="author">${author ? author.display_name : 'someone'}</strong>`}
        ${editing === m.id
          ? html`<${EditBox} message=${m} onDone=${() => setEditing(null)} />`
          : (m.deleted || m.body || files.length === 0) && html`<span class="body">${m.deleted ? 'This message was deleted' : render(m.body ?? '')}</span>`}
        ${files.length > 0 && html`<${Attachments} files=${files} sent=${m.ts} />`}
        ${m.edited_at && !m.deleted && html`<span class="edited">(edited)</span>`}
        ${!m.deleted && (m.reactions ?? []).length > 0 && html`<${Reactions} message=${m} />`}
        ${!inThread && replies > 0 && html`<button class="replies link" onClick=${() => chat.openThread(m.id)}>
          ${replies === 1 ? '1 reply' : `${replies} replies`}
          <span class="repliers">${(m.reply_users ?? []).map((id) => chat.people.value[id]?.display_name ?? 'someone').join(', ')}</span>
        </button>`}
      </div>
      ${!m.deleted && editing !== m.id && html`<span class="actions" role="toolbar" aria-label="Message actions">
        ${QUICK_REACTIONS.map((emoji) => html`<button onClick=${() => chat.toggleReaction(m, emoji)} aria-label=${`React with ${emoji}`}>${emoji}</button>`)}
        <button onClick=${() => (picking.value = m.id)} aria-label="Add reaction" aria-haspopup="dialog">☺+</button>
        ${!inThread && !m.thread_root_id && html`<button onClick=${() => chat.openThread(m.id)} aria-label="Reply in thread">Reply</button>`}
        ${!m.thread_root_id && html`<button onClick=${() => navigator.clipboard?.writeText(permalink(m)).catch(() => {})} aria-label="Copy link">Link</button>`}
        ${mine && html`<button onClick=${() => setEditing(m.id)} aria-label="Edit message">Edit</button>`}
        ${canDelete && html`<button onClick=${() => confirm('Delete this message? This cannot be undone.') && chat.deleteMessage(m.id)} aria-label="Delete message">Delete</button>`}
      </span>`}
      ${picking.value === m.id && html`<${EmojiPicker} message=${m} />`}
    </li>`;
}

/**
 * Keys on a focused message, as Slack has them: ↑/↓ move between messages, E edits your own,
 * R opens the reaction picker, T (or Enter) opens its thread.
 * @param {KeyboardEvent} e
 * @param {(id: string) => void} edit
 */
export function messageKeys(e, edit) {
  const row = /** @type {HTMLElement} */ (e.target);
  if (!row.matches('li.message')) return;
  const rows = [...(row.parentElement?.querySelectorAll('li.message[data-id]') ?? [])];
  const at = rows.indexOf(row);
  const id = row.dataset.id ?? '';
  const message = [...Object.values(chat.messages.value), ...Object.values(chat.replies.value)].flat().find((m) => m.id === id);
  if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
    e.preventDefault();
    const next = rows[at + (e.key === 'ArrowUp' ? -1 : 1)];
    /** @type {HTMLElement | undefined} */ (next)?.focus();
  } else if (!message || message.deleted) {
    return;
  } else if (e.key === 'e' && message.author_id === me.value?.id) {
    e.preventDefault();
    edit(id);
  } else if (e.key === 'r') {
    e.preventDefault();
    picking.value = id;
  } else if ((e.key === 't' || e.key === 'Enter') && !message.thread_root_id) {
    e.preventDefault();
    chat.openThread(id).then(() => /** @type {HTMLElement | null} */ (document.querySelector('.thread textarea'))?.focus());
  }
}
