// @ts-check
/** The bells of notifications: a bell (they notify) and a bell struck through (muted, paused). Drawn in the text's colour. */
import { html } from './html.js';

const BELL = 'M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9M10.3 21a1.94 1.94 0 0 0 3.4 0';

export const BellIcon = () => html`<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" fill="none" stroke="currentColor"
  stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d=${BELL} /></svg>`;

export const BellSlashIcon = () => html`<svg viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" fill="none" stroke="currentColor"
  stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d=${BELL} /><path d="M3 3l18 18" /></svg>`;
