// @ts-check
/**
 * Attaching files, as the screens offer it: the composer's paperclip (a hidden file input),
 * the chips of attached files (name, size, progress, × to cancel or remove, Retry after a
 * failure), and dropping files onto a channel or a thread, with an overlay saying where they
 * go. The uploads themselves are `stores/uploads.js`'s.
 */
import { useRef, useState } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import { humanSize } from '../lib/files.js';
import * as uploads from '../stores/uploads.js';
import * as chat from '../stores/chat.js';
import { FileBadge } from './attachments.js';

/** The paperclip of a composer. @param {{holder: string, label: string}} props */
export function AttachButton({ holder, label }) {
  const input = useRef(/** @type {HTMLInputElement | null} */ (null));
  /** @param {Event} e */
  const picked = (e) => {
    const el = /** @type {HTMLInputElement} */ (e.target);
    uploads.attach(holder, chat.workspaceId.value ?? '', [...(el.files ?? [])]);
    // The same file may be picked again later.
    el.value = '';
  };
  return html`<button type="button" class="attach" aria-label=${label} title=${label} onClick=${() => input.current?.click()}>
      <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2"
        stroke-linecap="round" stroke-linejoin="round"><path d="M21.4 11.1l-9.2 9.2a6 6 0 0 1-8.5-8.5l9.2-9.2a4 4 0 0 1 5.7 5.7l-9.2 9.2a2 2 0 0 1-2.8-2.8l8.5-8.5" /></svg>
    </button>
    <input type="file" multiple hidden ref=${input} onChange=${picked} />`;
}

/** One attached file. @param {{upload: uploads.Upload}} props */
function Chip({ upload: u }) {
  const percent = u.size > 0 ? Math.min(100, Math.round((100 * u.loaded) / u.size)) : 0;
  const status = u.state === 'failed' ? u.error : u.state === 'done' ? humanSize(u.size) : `${percent}% of ${humanSize(u.size)}`;
  return html`<li class=${`chip ${u.state}`} data-upload=${u.id}>
    ${u.preview
      ? html`<img class="chip-thumb" src=${u.preview} alt="" width="36" height="36" />`
      : html`<${FileBadge} file=${{ filename: u.name, content_type: u.file?.content_type ?? u.type }} />`}
    <span class="chip-info">
      <span class="chip-name" title=${u.name}>${u.name}</span>
      <span class=${u.state === 'failed' ? 'detail failed' : 'detail'} role=${u.state === 'failed' ? 'alert' : undefined}>${status}</span>
      ${u.state === 'uploading' && html`<span class="progress" role="progressbar" aria-label=${`Uploading ${u.name}`}
        aria-valuemin="0" aria-valuemax="100" aria-valuenow=${percent}><span style=${{ width: `${percent}%` }}></span></span>`}
    </span>
    ${u.state === 'failed' && u.retryable && html`<button type="button" class="link" onClick=${() => uploads.retry(u.id)} aria-label=${`Retry ${u.name}`}>Retry</button>`}
    <button type="button" class="chip-remove" onClick=${() => uploads.cancel(u.id)}
      aria-label=${`${u.state === 'uploading' ? 'Cancel' : 'Remove'} ${u.name}`} title=${u.state === 'uploading' ? 'Cancel upload' : 'Remove'}>×</button>
  </li>`;
}

/** The files a composer or a pending message holds, and what the composer was told. @param {{holder: string}} props */
export function UploadChips({ holder }) {
  const list = uploads.held(holder);
  const notice = uploads.notices.value[holder];
  if (list.length === 0 && !notice) return null;
  return html`<div class="uploads">
    ${notice && html`<p class="upload-notice" role="alert">${notice}
      <button type="button" class="link" onClick=${() => uploads.dismiss(holder)} aria-label="Dismiss">×</button></p>`}
    ${list.length > 0 && html`<ul class="chips" aria-label="Attached files">${list.map((u) => html`<${Chip} key=${u.id} upload=${u} />`)}</ul>`}
  </div>`;
}

/** @param {DragEvent} e */
const carriesFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes('Files');

/**
 * Dropping files on an area (the channel, the thread): its handlers, and whether files are
 * over it now. Dropped files go to the composer `holder`, whose box then has focus.
 * @param {string} holder
 * @returns {[boolean, Record<string, (e: DragEvent) => void>]}
 */
export function useDropZone(holder) {
  const [over, setOver] = useState(false);
  // Entering a child leaves its parent: count, so the overlay does not flicker.
  const depth = useRef(0);
  const handlers = {
    onDragEnter: (/** @type {DragEvent} */ e) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      depth.current += 1;
      setOver(true);
    },
    onDragOver: (/** @type {DragEvent} */ e) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    },
    onDragLeave: (/** @type {DragEvent} */ e) => {
      if (!carriesFiles(e)) return;
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setOver(false);
    },
    onDrop: (/** @type {DragEvent} */ e) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      depth.current = 0;
      setOver(false);
      uploads.attach(holder, chat.workspaceId.value ?? '', [...(e.dataTransfer?.files ?? [])]);
      /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (e.currentTarget).querySelector('textarea.composer'))?.focus();
    },
  };
  return [over, handlers];
}

/** What a drop zone says while files are over it (also to screen readers). @param {{over: boolean, where: string}} props */
export function DropOverlay({ over, where }) {
  return html`<div class=${over ? 'drop-overlay shown' : 'drop-overlay'} role="status">
    ${over && html`<div class="drop-target"><strong>Drop files to upload to ${where}</strong></div>`}
  </div>`;
}
