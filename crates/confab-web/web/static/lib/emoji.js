// @ts-check
/**
 * The emoji the picker and `:shortcode:` autocomplete offer, by Slack's short names. A small
 * table of the common ones, not all of Unicode: any emoji typed or pasted still works as text
 * and as a reaction.
 */

/** @type {[string, string][]} */
export const EMOJI = [
  ['thumbsup', '👍'], ['thumbsdown', '👎'], ['tada', '🎉'], ['smile', '😄'], ['joy', '😂'],
  ['heart', '❤️'], ['eyes', '👀'], ['fire', '🔥'], ['rocket', '🚀'], ['white_check_mark', '✅'],
  ['x', '❌'], ['pray', '🙏'], ['clap', '👏'], ['raised_hands', '🙌'], ['wave', '👋'],
  ['thinking_face', '🤔'], ['slightly_smiling_face', '🙂'], ['wink', '😉'], ['sweat_smile', '😅'], ['cry', '😢'],
  ['sob', '😭'], ['scream', '😱'], ['sunglasses', '😎'], ['heart_eyes', '😍'], ['upside_down_face', '🙃'],
  ['ok_hand', '👌'], ['muscle', '💪'], ['point_up', '☝️'], ['100', '💯'], ['star', '⭐'],
  ['sparkles', '✨'], ['zap', '⚡'], ['bulb', '💡'], ['warning', '⚠️'], ['bug', '🐛'],
  ['coffee', '☕'], ['pizza', '🍕'], ['beers', '🍻'], ['cake', '🍰'], ['party_popper', '🎊'],
  ['rotating_light', '🚨'], ['memo', '📝'], ['calendar', '📅'], ['lock', '🔒'], ['key', '🔑'],
  ['hourglass', '⌛'], ['chart_with_upwards_trend', '📈'], ['ship', '🚢'], ['see_no_evil', '🙈'], ['plus1', '➕'],
];

/**
 * Emoji whose name starts with `query` first, then those containing it.
 * @param {string} query
 * @param {number} [limit]
 */
export function findEmoji(query, limit = 8) {
  const q = query.toLowerCase();
  const starts = EMOJI.filter(([name]) => name.startsWith(q));
  const contains = EMOJI.filter(([name]) => !name.startsWith(q) && name.includes(q));
  return [...starts, ...contains].slice(0, limit);
}
