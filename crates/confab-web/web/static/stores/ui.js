// @ts-check
/**
 * Screen state that is no one's data: whether the narrow layout's channel drawer is open,
 * which file the full view shows (with the element to give focus back to when it closes), and
 * where a page outside the workspace (the settings) goes back to.
 */
import { signal } from '../vendor/signals.js';

export const drawerOpen = signal(false);

/** @type {import('../vendor/signals.js').Signal<{file: import('../lib/files.js').FileWire, opener: HTMLElement | null} | null>} */
export const viewing = signal(null);

/** The channel the workspace showed last, for a settings page's way back. */
export const returnTo = signal(/** @type {string | null} */ (null));
