// @ts-check
/**
 * Message formatting as Slack users write it, rendered to Preact nodes, never to HTML strings:
 * `*bold*`, `_italic_`, `~strike~`, `` `code` ``, ```` ``` ```` blocks, `> ` quotes, `- `
 * lists, `[text](url)`, `<url>` and bare URLs. A link is made only for `http:`, `https:` and
 * `mailto:` and opens with `rel="noopener noreferrer"`; anything else stays text, so a body
 * can never carry markup or a script.
 */
import { html } from './html.js';

const SAFE = /^(https?:\/\/|mailto:)/i;

/**
 * @param {string} href
 * @param {any} label
 */
function link(href, label) {
  return SAFE.test(href)
    ? html`<a href=${href} target="_blank" rel="noopener noreferrer">${label}</a>`
    : label;
}

// One pass over a line: the earliest of these wins, then the rest of the line.
const INLINE = [
  { re: /`([^`\n]+)`/, node: (/** @type {string[]} */ m) => html`<code>${m[1]}</code>` },
  { re: /\[([^\]\n]+)\]\(([^)\s]+)\)/, node: (/** @type {string[]} */ m) => (SAFE.test(m[2]) ? link(m[2], m[1]) : m[0]) },
  { re: /<((?:https?:\/\/|mailto:)[^>\s]+)>/i, node: (/** @type {string[]} */ m) => link(m[1], m[1]) },
  { re: /(?:https?:\/\/|mailto:)[^\s<>"]+[^\s<>".,;:!?)\]]/i, node: (/** @type {string[]} */ m) => link(m[0], m[0]) },
  // `@name`, `@here`, `@channel`: set apart as Slack does (never inside a word or an address).
  { re: /(^|[^\w@.])@([a-z0-9][a-z0-9._-]{0,31}[a-z0-9]|here|channel|everyone)(?![\w@])/i, lead: true, node: (/** @type {string[]} */ m) => html`<span class="mention">@${m[2]}</span>` },
  { re: /(^|[^\w*])\*([^*\n]+)\*(?![\w*])/, lead: true, node: (/** @type {string[]} */ m) => html`<strong>${inline(m[2])}</strong>` },
  { re: /(^|[^\w_])_([^_\n]+)_(?![\w_])/, lead: true, node: (/** @type {string[]} */ m) => html`<em>${inline(m[2])}</em>` },
  { re: /(^|[^\w~])~([^~\n]+)~(?![\w~])/, lead: true, node: (/** @type {string[]} */ m) => html`<s>${inline(m[2])}</s>` },
];

/**
 * @param {string} text one line (or part of one)
 * @returns {any[]}
 */
export function inline(text) {
  /** @type {any[]} */
  const out = [];
  let rest = text;
  while (rest) {
    let best = null;
    for (const rule of INLINE) {
      const m = rule.re.exec(rest);
      if (m && (best === null || m.index < best.m.index)) best = { rule, m };
    }
    if (!best) {
      out.push(rest);
      break;
    }
    const { rule, m } = best;
    // A leading character matched only to find a word boundary stays text.
    const lead = rule.lead ? m[1] : '';
    out.push(rest.slice(0, m.index) + lead);
    out.push(rule.node(/** @type {string[]} */ ([...m])));
    rest = rest.slice(m.index + m[0].length);
  }
  return out;
}

/**
 * A message body as nodes: blocks of code, quotes, lists and lines.
 * @param {string} body
 * @returns {any[]}
 */
export function render(body) {
  /** @type {any[]} */
  const out = [];
  const parts = body.split('```');
  parts.forEach((part, i) => {
    if (i % 2 === 1 && i < parts.length - 1) {
      out.push(html`<pre><code>${part.replace(/^\n/, '')}</code></pre>`);
      return;
    }
    const text = i % 2 === 1 ? '```' + part : part;
    /** @type {string[]} */
    let quote = [];
    /** @type {string[]} */
    let list = [];
    const flush = () => {
      if (quote.length) out.push(html`<blockquote>${quote.map((l, k) => [k > 0 && html`<br />`, inline(l)])}</blockquote>`);
      if (list.length) out.push(html`<ul>${list.map((l) => html`<li>${inline(l)}</li>`)}</ul>`);
      quote = [];
      list = [];
    };
    const lines = text.split('\n');
    lines.forEach((line, k) => {
      if (line.startsWith('> ') || line === '>') {
        if (list.length) flush();
        quote.push(line.slice(2));
      } else if (/^[-•*] /.test(line)) {
        if (quote.length) flush();
        list.push(line.slice(2));
      } else {
        flush();
        out.push(...inline(line));
        if (k < lines.length - 1) out.push('\n');
      }
    });
    flush();
  });
  return out;
}
