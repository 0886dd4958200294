// @ts-check
/**
 * Screen state that is no one's data: whether the narrow layout's channel drawer is open, and
 * which file the full view shows (with the element to give focus back to when it closes).
 */
import { signal } from '../vendor/signals.js';

export const drawerOpen = signal(false);

/** @type {import('../vendor/signals.js').Signal<{file: import('../lib/files.js').FileWire, opener: HTMLElement | null} | null>} */
export const viewing = signal(null);
