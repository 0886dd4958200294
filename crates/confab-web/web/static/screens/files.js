// @ts-check
/**
 * The Files panel: the open channel's files beside it, newest first, each with its preview or
 * type badge, name, size and who shared it, a link to its message and a Download link; "Load
 * more" reads the next page. The list is `stores/files.js`'s.
 */
import { html } from '../lib/html.js';
import { humanSize, isPreviewed, thumbnailUrl, typeLabel } from '../lib/files.js';
import * as chat from '../stores/chat.js';
import * as files from '../stores/files.js';
import { viewing } from '../stores/ui.js';
import { DownloadIcon, DownloadLink, FileBadge } from './attachments.js';

/** Goes to where a file was shared: its message in the channel, or its thread. @param {files.ChannelFile} f */
async function jump(f) {
  const where = await files.whereShared(f);
  if ('thread' in where) {
    chat.openThread(where.thread);
    return;
  }
  // A narrow screen has room for the panel or the channel: show the channel.
  if (matchMedia('(max-width: 900px)').matches) files.hide();
  history.pushState(null, '', where.path);
  dispatchEvent(new PopStateEvent('popstate'));
}

/** One file of the list. @param {{item: files.ChannelFile}} props */
function Row({ item }) {
  const { file } = item;
  const who = chat.people.value[item.uploader_id]?.display_name ?? 'someone';
  /** @param {MouseEvent} e */
  const view = (e) => (viewing.value = { file, opener: /** @type {HTMLElement} */ (e.currentTarget) });
  return html`<li class="file-row" data-file=${file.id}>
    ${isPreviewed(file)
      ? html`<button type="button" class="file-thumb" onClick=${view} aria-label=${`Open ${file.filename}`}>
          ${file.thumbnail ? html`<img src=${thumbnailUrl(file.id)} alt="" width="40" height="40" />` : html`<span class="placeholder"></span>`}
        </button>`
      : html`<${FileBadge} file=${file} />`}
    <span class="file-info">
      <${DownloadLink} file=${file} class="file-name">${file.filename}<//>
      <span class="detail">${humanSize(file.size)} · ${typeLabel(file)} · ${who}</span>
      <button type="button" class="link jump-to" onClick=${() => jump(item)} aria-label=${`View in conversation: ${file.filename}`}>View in conversation</button>
    </span>
    <${DownloadLink} file=${file} class="file-download" label=${`Download ${file.filename}`}><${DownloadIcon} /><//>
  </li>`;
}

export function FilesPanel() {
  const channel = chat.currentChannel.value;
  if (!files.open.value || chat.threadId.value !== null || !channel) return null;
  const listing = files.listing.value;
  const list = files.shown.value;
  return html`<aside class="thread files-panel" aria-label=${`Files in ${chat.title(channel)}`}
      onKeyDown=${(/** @type {KeyboardEvent} */ e) => e.key === 'Escape' && !e.defaultPrevented && files.hide()}>
    <header><h2>Files</h2><span class="detail">${chat.title(channel)}</span>
      <button class="link" onClick=${files.hide} aria-label="Close files">Close</button></header>
    <div class="panel-body">
    <ul class="file-list" aria-label="Files" aria-busy=${listing?.loading ? 'true' : 'false'}>
      ${list.map((f) => html`<${Row} key=${f.file.id} item=${f} />`)}
    </ul>
    ${listing && !listing.loading && list.length === 0 && !listing.error && html`<p class="hint empty">No files have been shared in ${chat.title(channel)} yet.
      Drop some on the conversation, or attach them with the paperclip.</p>`}
    ${listing?.error && html`<p class="error" role="alert">The files could not be listed: ${listing.error}
      <button class="link" onClick=${() => files.load(channel.id, listing.next_cursor !== null)}>Try again</button></p>`}
    ${listing?.loading && html`<p class="hint loading-more">Loading…</p>`}
    ${listing && !listing.loading && listing.next_cursor && html`<button class="more" onClick=${() => files.load(channel.id, true)}>Load more</button>`}
    </div>
  </aside>`;
}
