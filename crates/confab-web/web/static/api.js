// @ts-check
/**
 * The HTTP API as the web client calls it: JSON in and out, signed in by the session cookie
 * (same origin, so the browser sends it and the server checks our Origin).
 */

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {number | null} [retryAfter] seconds, when the server said (429, 503)
   */
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/**
 * @param {string} method
 * @param {string} path under /api/v1
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function request(method, path, body) {
  /** @type {RequestInit} */
  const init = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  const response = await fetch(`/api/v1${path}`, init);
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data && data.error ? data.error : { code: 'unavailable', message: response.statusText };
    const wait = Number(response.headers.get('retry-after'));
    throw new ApiError(response.status, error.code, error.message, Number.isFinite(wait) && wait > 0 ? Math.ceil(wait) : null);
  }
  return data;
}

export const get = (/** @type {string} */ path) => request('GET', path);
export const post = (/** @type {string} */ path, /** @type {unknown} */ body) => request('POST', path, body);
