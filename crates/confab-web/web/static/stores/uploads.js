// @ts-check
/**
 * Uploads: the files attached to a message not sent yet. Each starts at once: `POST /files`
 * asks for a URL, then XMLHttpRequest PUTs the bytes to it (so there is progress, and a
 * cancel); a URL on object storage is completed after with `POST /files/{id}/complete`.
 * An upload has a holder: its composer (the draft key) until the message is sent, then that
 * pending message (`msg:` and its `client_msg_id`), which the socket sends with the files'
 * IDs once every upload it holds is done. A composer, and so a message, holds at most 10.
 */
import { signal } from '../vendor/signals.js';
import { ApiError, post } from '../api.js';
import { readableSizes } from '../lib/files.js';

/** @typedef {import('../lib/files.js').FileWire} FileWire */
/**
 * @typedef {{id: string, holder: string, workspace_id: string, name: string, size: number, type: string,
 *   loaded: number, state: 'uploading' | 'done' | 'failed', error?: string, retryable?: boolean,
 *   file_id?: string, file?: FileWire, preview?: string}} Upload
 */

/** Every upload of this tab, in the order attached. */
/** @type {import('../vendor/signals.js').Signal<Upload[]>} */
export const uploads = signal([]);
/** What a composer last had to be told ("at most 10 files"), by holder. */
/** @type {import('../vendor/signals.js').Signal<Record<string, string>>} */
export const notices = signal({});
/** Files one message may carry (the server's limit). */
export const MAX_FILES = 10;

/** The bytes and the request in flight of each upload, by ID: not state the screens show. */
/** @type {Map<string, File>} */
const blobs = new Map();
/** @type {Map<string, XMLHttpRequest>} */
const requests = new Map();

/** The holder of a pending message's uploads. @param {string} clientMsgId */
export const messageHolder = (clientMsgId) => `msg:${clientMsgId}`;

/** The uploads a composer or a pending message holds. @param {string} holder */
export const held = (holder) => uploads.value.filter((u) => u.holder === holder);

/**
 * Changes one upload, if it is still there (a cancel may have come first).
 * @param {string} id
 * @param {Partial<Upload>} change
 */
function update(id, change) {
  if (!uploads.value.some((u) => u.id === id)) return false;
  uploads.value = uploads.value.map((u) => (u.id === id ? { ...u, ...change } : u));
  return true;
}

/** @param {string} holder @param {string} text */
function tell(holder, text) {
  const { [holder]: _old, ...rest } = notices.value;
  notices.value = text ? { ...rest, [holder]: text } : rest;
}

/** Clears what a composer was told. @param {string} holder */
export const dismiss = (holder) => tell(holder, '');

/**
 * Attaches files to a composer and starts uploading them; past 10, the rest are refused
 * with a word why.
 * @param {string} holder
 * @param {string} workspaceId
 * @param {File[]} files
 */
export function attach(holder, workspaceId, files) {
  if (files.length === 0) return;
  const room = Math.max(0, MAX_FILES - held(holder).length);
  const taken = files.slice(0, room);
  const left = files.length - taken.length;
  tell(holder, left > 0 ? `A message can carry at most ${MAX_FILES} files: ${left === 1 ? '1 file was' : `${left} files were`} not attached.` : '');
  /** @type {Upload[]} */
  const added = taken.map((file) => {
    const id = crypto.randomUUID();
    blobs.set(id, file);
    return {
      id, holder, workspace_id: workspaceId, name: file.name.trim() || 'pasted file', size: file.size,
      type: file.type, loaded: 0, state: 'uploading',
      // The picture itself, shown in its chip until the server has a preview.
      preview: /^image\/(png|jpeg|gif|webp)$/.test(file.type) ? URL.createObjectURL(file) : undefined,
    };
  });
  uploads.value = [...uploads.value, ...added];
  for (const u of added) start(u);
}

/** @param {Upload} u */
async function start(u) {
  const file = blobs.get(u.id);
  if (!file) return;
  let ticket;
  try {
    ticket = await post('/files', { filename: u.name, size: u.size, content_type: file.type || 'application/octet-stream', workspace_id: u.workspace_id });
  } catch (e) {
    const status = e instanceof ApiError ? e.status : 0;
    fail(u.id, e instanceof Error ? e.message : String(e), status === 0 || status === 429 || status >= 500);
    return;
  }
  if (!update(u.id, { file_id: ticket.file_id })) return;
  const xhr = new XMLHttpRequest();
  requests.set(u.id, xhr);
  xhr.upload.onprogress = (e) => update(u.id, { loaded: e.loaded });
  xhr.onerror = () => fail(u.id, 'the connection was lost', true);
  xhr.ontimeout = xhr.onerror;
  xhr.onload = async () => {
    requests.delete(u.id);
    const answer = (() => {
      try {
        return JSON.parse(xhr.responseText);
      } catch {
        return null;
      }
    })();
    if (xhr.status < 200 || xhr.status >= 300) {
      // An expired or used URL is worth one more go (a new one is asked for); others not.
      const code = answer?.error?.code ?? '';
      fail(u.id, answer?.error?.message ?? `the upload failed (${xhr.status})`, xhr.status >= 500 || ['url_expired', 'upload_used'].includes(code));
      return;
    }
    // Our own storage completes the upload with the PUT and answers the file; object
    // storage answers nothing of ours, and the upload is completed here.
    let wire = answer?.file?.id === ticket.file_id ? answer.file : null;
    if (!wire) {
      try {
        wire = (await post(`/files/${ticket.file_id}/complete`, undefined)).file;
      } catch (e) {
        fail(u.id, e instanceof Error ? e.message : String(e), true);
        return;
      }
    }
    update(u.id, { state: 'done', loaded: u.size, file: wire });
  };
  xhr.open('PUT', ticket.upload_url);
  xhr.send(file);
}

/**
 * @param {string} id
 * @param {string} message
 * @param {boolean} retryable
 */
function fail(id, message, retryable) {
  requests.delete(id);
  update(id, { state: 'failed', error: readableSizes(message), retryable });
}

/** Uploads a failed file again, from the start. @param {string} id */
export function retry(id) {
  const u = uploads.value.find((x) => x.id === id);
  if (!u || u.state !== 'failed') return;
  const again = { ...u, state: /** @type {const} */ ('uploading'), loaded: 0, error: undefined, file_id: undefined };
  uploads.value = uploads.value.map((x) => (x.id === id ? again : x));
  start(again);
}

/** Cancels an upload in flight, or removes one done or failed: it is no longer attached. @param {string} id */
export function cancel(id) {
  requests.get(id)?.abort();
  requests.delete(id);
  drop(uploads.value.filter((u) => u.id === id));
}

/** @param {Upload[]} gone */
function drop(gone) {
  if (gone.length === 0) return;
  for (const u of gone) {
    blobs.delete(u.id);
    if (u.preview) URL.revokeObjectURL(u.preview);
  }
  const ids = new Set(gone.map((u) => u.id));
  uploads.value = uploads.value.filter((u) => !ids.has(u.id));
}

/**
 * Hands a composer's uploads to the message being sent; their IDs, in order.
 * @param {string} from
 * @param {string} to
 */
export function move(from, to) {
  const ids = held(from).map((u) => u.id);
  if (ids.length > 0) uploads.value = uploads.value.map((u) => (u.holder === from ? { ...u, holder: to } : u));
  tell(from, '');
  return ids;
}

/** The holder is done with its uploads (its message was acknowledged or discarded). @param {string} holder */
export function forget(holder) {
  for (const u of held(holder)) requests.get(u.id)?.abort();
  drop(held(holder));
}

/** A file's preview is ready before it is on any message (`file.updated`). @param {FileWire} file */
export function onFileUpdated(file) {
  if (uploads.value.some((u) => u.file_id === file.id)) {
    uploads.value = uploads.value.map((u) => (u.file_id === file.id ? { ...u, file } : u));
  }
}
