// @ts-check
/** One message as the channel and the thread panel show it, with its actions. */
import { useEffect, useRef } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import * as chat from '../stores/chat.js';
import { me } from '../stores/session.js';
import { render } from '../lib/markdown.js';

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
 * @param {{message: chat.Message, previous?: chat.Message, editing: string | null,
 *   setEditing: (id: string | null) => void, inThread?: boolean}} props
 */
export function MessageRow({ message: m, previous, editing, setEditing, inThread }) {
  const day = new Date(m.ts);
  const newDay = !previous || new Date(previous.ts).toDateString() !== day.toDateString();
  // Slack's grouping: the same author within five minutes shows no name again.
  const grouped = !newDay && previous !== undefined && previous.author_id === m.author_id &&
    Date.parse(m.ts) - Date.parse(previous.ts) < 5 * 60_000;
  const author = chat.people.value[m.author_id];
  const mine = m.author_id === me.value?.id && !m.deleted;
  const replies = m.reply_count ?? 0;
  return html`
    ${newDay && !inThread && html`<li class="day" role="separator"><span>${dayLabel(day)}</span></li>`}
    <li class=${(m.deleted ? 'message deleted' : 'message') + (grouped ? ' grouped' : '')} data-id=${m.id}>
      <time datetime=${m.ts} title=${day.toLocaleString()}>${day.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}</time>
      <div class="content">
        ${!grouped && html`<strong class="author">${author ? author.display_name : 'someone'}</strong>`}
        ${editing === m.id
          ? html`<${EditBox} message=${m} onDone=${() => setEditing(null)} />`
          : html`<span class="body">${m.deleted ? 'This message was deleted' : render(m.body ?? '')}</span>`}
        ${m.edited_at && !m.deleted && html`<span class="edited">(edited)</span>`}
        ${!m.deleted && (m.reactions ?? []).length > 0 && html`<${Reactions} message=${m} />`}
        ${!inThread && replies > 0 && html`<button class="replies link" onClick=${() => chat.openThread(m.id)}>
          ${replies === 1 ? '1 reply' : `${replies} replies`}
        </button>`}
      </div>
      ${!m.deleted && editing !== m.id && html`<span class="actions" role="toolbar" aria-label="Message actions">
        ${QUICK_REACTIONS.map((emoji) => html`<button onClick=${() => chat.toggleReaction(m, emoji)} aria-label=${`React with ${emoji}`}>${emoji}</button>`)}
        ${!inThread && !m.thread_root_id && html`<button onClick=${() => chat.openThread(m.id)} aria-label="Reply in thread">Reply</button>`}
        ${mine && html`<button onClick=${() => setEditing(m.id)} aria-label="Edit message">Edit</button>
          <button onClick=${() => confirm('Delete this message? This cannot be undone.') && chat.deleteMessage(m.id)} aria-label="Delete message">Delete</button>`}
      </span>`}
    </li>`;
}
