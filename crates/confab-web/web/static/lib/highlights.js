// @ts-check
/**
 * A search result's body cut into plain and matched pieces, from the server's highlights:
 * `[start, end)` ranges in UTF-16 code units, which are JavaScript string indices. A long body
 * is shown as a window around its first match, cut at spaces, so the match is on screen. The
 * pieces are text, for the screen to put in text nodes and `<mark>`s: never HTML.
 */

/** @typedef {{text: string, mark: boolean}} Piece */

/** How much of a long body a result shows, in UTF-16 code units (about four lines). */
export const SNIPPET = 280;
/** How much comes before the first match when a long body is cut. */
const LEAD = 60;

/** Whether a string index falls inside a surrogate pair (cutting there would break a character). @param {string} s @param {number} i */
function splitsPair(s, i) {
  const c = s.charCodeAt(i);
  return i > 0 && i < s.length && c >= 0xdc00 && c <= 0xdfff;
}

/**
 * The ranges in order, inside the body, non-empty and merged where they touch or overlap.
 * @param {string} body
 * @param {{start: number, end: number}[]} highlights
 */
export function ranges(body, highlights) {
  const sorted = highlights
    .map((h) => ({ start: Math.max(0, Math.min(body.length, h.start)), end: Math.max(0, Math.min(body.length, h.end)) }))
    .filter((h) => h.end > h.start)
    .sort((a, b) => a.start - b.start);
  /** @type {{start: number, end: number}[]} */
  const out = [];
  for (const h of sorted) {
    const last = out[out.length - 1];
    if (last && h.start <= last.end) last.end = Math.max(last.end, h.end);
    else out.push({ ...h });
  }
  return out;
}

/**
 * The body as pieces, marked where it matched; cut to about `max` code units around the
 * first match, with "…" where it was cut.
 * @param {string} body
 * @param {{start: number, end: number}[]} highlights
 * @param {number} [max]
 * @returns {Piece[]}
 */
export function pieces(body, highlights, max = SNIPPET) {
  const marks = ranges(body, highlights);
  let from = 0;
  let to = body.length;
  if (body.length > max) {
    const first = marks[0]?.start ?? 0;
    from = Math.max(0, Math.min(first - LEAD, body.length - max));
    // Start at a word where there is one close by.
    const space = body.lastIndexOf(' ', from);
    if (from > 0 && space >= 0 && from - space < 20) from = space + 1;
    to = Math.min(body.length, from + max);
    const end = body.indexOf(' ', to);
    if (to < body.length && end >= 0 && end - to < 20) to = end;
    if (splitsPair(body, from)) from -= 1;
    if (splitsPair(body, to)) to += 1;
  }
  /** @type {Piece[]} */
  const out = [];
  if (from > 0) out.push({ text: '…', mark: false });
  let at = from;
  for (const m of marks) {
    const start = Math.max(m.start, from);
    const end = Math.min(m.end, to);
    if (end <= start) continue;
    if (start > at) out.push({ text: body.slice(at, start), mark: false });
    out.push({ text: body.slice(start, end), mark: true });
    at = end;
  }
  if (at < to) out.push({ text: body.slice(at, to), mark: false });
  if (to < body.length) out.push({ text: '…', mark: false });
  return out;
}
