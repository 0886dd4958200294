// @ts-check
/** Message formatting: what each syntax becomes, and what never becomes markup. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from '../static/lib/markdown.js';

/**
 * Every element in the rendered nodes, as `tag` or `tag href rel`, in order.
 * @param {any} nodes
 * @returns {string[]}
 */
function elements(nodes) {
  /** @type {string[]} */
  const out = [];
  /** @param {any} n */
  const walk = (n) => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (n && typeof n === 'object' && 'type' in n) {
      out.push(n.type === 'a' ? `a ${n.props.href} ${n.props.rel}` : String(n.type));
      walk(n.props.children);
    }
  };
  walk(nodes);
  return out;
}

/** All the text, as a reader sees it. @param {any} nodes @returns {string} */
function text(nodes) {
  if (Array.isArray(nodes)) return nodes.map(text).join('');
  if (typeof nodes === 'string') return nodes;
  if (nodes && typeof nodes === 'object' && 'props' in nodes) return text(nodes.props.children ?? '');
  return '';
}

test('Slack formatting becomes elements', () => {
  assert.deepEqual(elements(render('*bold* and _it_ ~gone~ `code`')), ['strong', 'em', 's', 'code']);
  assert.deepEqual(elements(render('> quoted\n- one\n- two')), ['blockquote', 'ul', 'li', 'li']);
  assert.deepEqual(elements(render('```\nlet *x* = 1\n```')), ['pre', 'code'], 'no formatting inside code');
  assert.equal(text(render('```\nlet *x* = 1\n```')), 'let *x* = 1\n');
  assert.deepEqual(elements(render('snake_case_name and 2*3*4')), [], 'marks inside words stay text');
  assert.deepEqual(elements(render('ping @bo and @here, not ada@example.com')), ['span', 'span'], 'mentions, not addresses');
  assert.equal(text(render('ping @bo and @here')), 'ping @bo and @here');
});

test('links are made only for http, https and mailto, and open apart', () => {
  assert.deepEqual(elements(render('see https://example.com/a.')), [
    'a https://example.com/a noopener noreferrer',
  ]);
  assert.equal(text(render('see https://example.com/a.')), 'see https://example.com/a.');
  assert.deepEqual(elements(render('[docs](https://example.com) <mailto:a@b.c>')), [
    'a https://example.com noopener noreferrer',
    'a mailto:a@b.c noopener noreferrer',
  ]);
  for (const hostile of ['[x](javascript:alert(1))', '[x](data:text/html,hi)', 'javascript:alert(1)', '<javascript:alert(1)>']) {
    assert.deepEqual(elements(render(hostile)), [], hostile);
    assert.equal(text(render(hostile)), hostile, 'kept as the text it is');
  }
});

test('markup in a body is text', () => {
  for (const body of ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '"><svg onload=alert(1)>']) {
    assert.deepEqual(elements(render(body)), [], body);
    assert.equal(text(render(body)), body);
  }
});
