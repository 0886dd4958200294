// @ts-check
/** The template tag every screen renders with: htm bound to Preact, no build step. */
import { h } from '../vendor/preact.js';
import htm from '../vendor/htm.js';

export const html = htm.bind(h);
