// @ts-check
/** Screen state that is no one's data: whether the narrow layout's channel drawer is open. */
import { signal } from '../vendor/signals.js';

export const drawerOpen = signal(false);
