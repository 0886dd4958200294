// @ts-check
/**
 * A message's files: images as previews at their final size (a quiet box of that size until
 * the preview is ready, so nothing moves), everything else as a card with a Download link;
 * and the full view an image opens in (a modal dialog: Esc or Close shuts it, Tab stays in it,
 * focus goes back to the image).
 */
import { useLayoutEffect, useRef } from '../vendor/hooks.js';
import { html } from '../lib/html.js';
import { badgeText, contentUrl, humanSize, isPreviewed, kindOf, previewSize, thumbnailUrl, typeLabel } from '../lib/files.js';
import { viewing } from '../stores/ui.js';

/** @typedef {import('../lib/files.js').FileWire} FileWire */

/** A file's type badge: a coloured tile with its extension, as Slack draws one. @param {{file: {filename: string, content_type: string}}} props */
export function FileBadge({ file }) {
  return html`<span class=${`file-badge ${kindOf(file)}`} aria-hidden="true">${badgeText(file) || '•••'}</span>`;
}

/** A link that downloads a file (never opened by the app's own link handling). @param {{file: FileWire, class?: string, label?: string, children?: any}} props */
export function DownloadLink({ file, class: className, label, children }) {
  return html`<a class=${className} href=${contentUrl(file.id)} download=${file.filename} aria-label=${label}>${children}</a>`;
}

/** How long a new image's box shimmers while its preview is being made (it is seconds). */
const PREVIEW_EXPECTED_MS = 60_000;

/**
 * An image, shown at the size it will have, its preview loaded into that box. Until the
 * preview is made the box is empty, shimmering while the message is new.
 * @param {{file: FileWire, sent: string}} props
 */
function ImagePreview({ file, sent }) {
  const size = /** @type {{width: number, height: number}} */ (previewSize(file));
  /** @param {MouseEvent} e */
  const open = (e) => (viewing.value = { file, opener: /** @type {HTMLElement} */ (e.currentTarget) });
  return html`<figure class="image-file">
    <figcaption><span class="file-name" title=${file.filename}>${file.filename}</span> <span class="detail">${humanSize(file.size)}</span></figcaption>
    <button type="button" class=${file.thumbnail ? 'image-preview' : Date.now() - Date.parse(sent) < PREVIEW_EXPECTED_MS ? 'image-preview waiting' : 'image-preview'} onClick=${open}
      aria-label=${`Open ${file.filename}`} style=${{ width: `${size.width}px`, aspectRatio: `${size.width} / ${size.height}` }}>
      ${file.thumbnail
        ? html`<img src=${thumbnailUrl(file.id)} width=${size.width} height=${size.height} alt=${file.filename} />`
        : html`<span class="placeholder" aria-hidden="true"><${ImageIcon} /></span>`}
    </button>
  </figure>`;
}

/** Any other file: its badge, name, size and type, and a Download action. @param {{file: FileWire}} props */
export function FileCard({ file }) {
  return html`<div class="file-card">
    <${FileBadge} file=${file} />
    <span class="file-info">
      <${DownloadLink} file=${file} class="file-name">${file.filename}<//>
      <span class="detail">${humanSize(file.size)} · ${typeLabel(file)}</span>
    </span>
    <${DownloadLink} file=${file} class="file-download" label=${`Download ${file.filename}`}><${DownloadIcon} /><//>
  </div>`;
}

/** The arrow-into-a-tray of download buttons. */
export const DownloadIcon = () => html`<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" fill="none" stroke="currentColor"
  stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M12 4v11M7 10l5 5 5-5M5 20h14" /></svg>`;

/** A picture's outline, in an image's box before its preview. */
const ImageIcon = () => html`<svg viewBox="0 0 24 24" width="32" height="32" aria-hidden="true" fill="none" stroke="currentColor"
  stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round"><rect x="3" y="4" width="18" height="16" rx="2" /><circle cx="9" cy="10" r="2" /><path d="M21 17l-5-5-9 8" /></svg>`;

/** A message's files, in the order attached. @param {{files: FileWire[], sent: string}} props */
export function Attachments({ files, sent }) {
  return html`<div class="files">
    ${files.map((f) => (isPreviewed(f) ? html`<${ImagePreview} key=${f.id} file=${f} sent=${sent} />` : html`<${FileCard} key=${f.id} file=${f} />`))}
  </div>`;
}

/** The full view of the image `viewing` names, over everything. */
export function Lightbox() {
  const shown = viewing.value;
  const dialog = useRef(/** @type {HTMLDivElement | null} */ (null));
  const close = () => {
    const opener = viewing.value?.opener;
    viewing.value = null;
    opener?.focus();
  };
  // Open: focus on Close, and the keys are the dialog's wherever focus is (a click on the
  // picture leaves it on no control): Esc closes, Tab goes round the dialog's own controls.
  useLayoutEffect(() => {
    if (!shown) return;
    /** @type {HTMLElement | null | undefined} */ (dialog.current?.querySelector('.close'))?.focus();
    /** @param {KeyboardEvent} e */
    const keys = (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        close();
      }
      if (e.key === 'Tab' && dialog.current) {
        const stops = /** @type {HTMLElement[]} */ ([...dialog.current.querySelectorAll('a[href], button')]);
        const at = stops.indexOf(/** @type {HTMLElement} */ (document.activeElement));
        const next = e.shiftKey ? (at <= 0 ? stops.length - 1 : at - 1) : (at + 1) % stops.length;
        e.preventDefault();
        stops[next]?.focus();
      }
    };
    addEventListener('keydown', keys, true);
    return () => removeEventListener('keydown', keys, true);
  }, [shown?.file.id]);
  if (!shown) return null;
  const { file } = shown;
  const size = file.width && file.height ? { width: file.width, height: file.height } : null;
  return html`<div class="lightbox" role="dialog" aria-modal="true" aria-labelledby="lightbox-title" ref=${dialog}
      onClick=${(/** @type {MouseEvent} */ e) => e.target === e.currentTarget && close()}>
    <header>
      <div class="lightbox-title">
        <h2 id="lightbox-title">${file.filename}</h2>
        <span class="detail">${humanSize(file.size)} · ${typeLabel(file)}${size ? ` · ${size.width}×${size.height}` : ''}</span>
      </div>
      <${DownloadLink} file=${file} class="button"><${DownloadIcon} /> Download<//>
      <button type="button" class="close" aria-label="Close" title="Close (Esc)" onClick=${close}>×</button>
    </header>
    <div class="stage" onClick=${(/** @type {MouseEvent} */ e) => e.target === e.currentTarget && close()}>
      <img src=${contentUrl(file.id)} alt=${file.filename} width=${size?.width} height=${size?.height}
        style=${file.thumbnail ? { backgroundImage: `url("${thumbnailUrl(file.id)}")` } : undefined} />
    </div>
  </div>`;
}
