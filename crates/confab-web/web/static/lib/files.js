// @ts-check
/**
 * What the screens say about a file, worked out from its record alone: its size for people
 * ("2.4 MB"), a short type ("PNG image", "PDF"), the badge its card shows, where its bytes are,
 * and the size an image preview takes on screen, known before any byte of it arrives.
 */

/** @typedef {{id: string, filename: string, size: number, content_type: string, width?: number, height?: number, thumbnail?: {width: number, height: number}}} FileWire */

/** A message's image previews fit in this box, as Slack's do. */
export const PREVIEW_BOX = 360;

/**
 * Bytes as people read them, in steps of 1,024 as file managers show them: "812 B",
 * "2.4 MB", "25 MB".
 * @param {number} bytes
 */
export function humanSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const shown = value < 10 && Math.round(value * 10) % 10 !== 0 ? value.toFixed(1) : String(Math.round(value));
  return `${shown} ${units[unit]}`;
}

/**
 * A server message with its byte counts made readable ("files are limited to 26214400
 * bytes" → "files are limited to 25 MB").
 * @param {string} message
 */
export function readableSizes(message) {
  return message.replace(/(\d{4,}) bytes/g, (_, n) => humanSize(Number(n)));
}

/** A file's extension, upper case, without the dot ("" when it has none). @param {string} name */
function extension(name) {
  const at = name.lastIndexOf('.');
  return at > 0 && at < name.length - 1 ? name.slice(at + 1).toUpperCase() : '';
}

/** What kind of thing a file is, for its badge's colour. */
/** @typedef {'image' | 'pdf' | 'text' | 'archive' | 'audio' | 'video' | 'sheet' | 'doc' | 'other'} Kind */

const KINDS = /** @type {[Kind, RegExp, RegExp][]} */ ([
  ['image', /^image\//, /^(PNG|JPE?G|GIF|WEBP|SVG|BMP|HEIC|TIFF?)$/],
  ['pdf', /^application\/pdf$/, /^PDF$/],
  ['archive', /zip|tar|gzip|x-7z|x-rar|x-bzip/, /^(ZIP|TAR|GZ|TGZ|7Z|RAR|BZ2|XZ)$/],
  ['audio', /^audio\//, /^(MP3|WAV|OGG|FLAC|M4A|AAC)$/],
  ['video', /^video\//, /^(MP4|MOV|WEBM|MKV|AVI)$/],
  ['sheet', /spreadsheet|excel|csv/, /^(CSV|XLSX?|ODS|NUMBERS|TSV)$/],
  ['doc', /word|opendocument\.text|rtf/, /^(DOCX?|ODT|RTF|PAGES)$/],
  ['text', /^text\/|json|xml|javascript/, /^(TXT|MD|JSON|XML|YAML|YML|LOG|JS|TS|RS|PY|GO|C|H|CSS|HTML|SH|TOML)$/],
]);

/**
 * @param {{filename: string, content_type: string}} file
 * @returns {Kind}
 */
export function kindOf(file) {
  const ext = extension(file.filename);
  // The type was sniffed from the bytes, but text sniffs as nothing much and an office file as
  // a zip: then the name decides.
  const generic = /^(application\/(octet-stream|zip)|text\/plain)?$/.test(file.content_type);
  if (!generic) for (const [kind, type] of KINDS) if (type.test(file.content_type)) return kind;
  for (const [kind, , byName] of KINDS) if (byName.test(ext)) return kind;
  return file.content_type === 'text/plain' ? 'text' : file.content_type === 'application/zip' ? 'archive' : 'other';
}

const KIND_NAMES = { image: 'image', pdf: 'PDF', text: 'file', archive: 'archive', audio: 'audio', video: 'video', sheet: 'spreadsheet', doc: 'document', other: 'file' };

/**
 * The short type a card shows: "PNG image", "PDF", "ZIP archive", "TXT file".
 * @param {{filename: string, content_type: string}} file
 */
export function typeLabel(file) {
  const kind = kindOf(file);
  if (kind === 'pdf') return 'PDF';
  const raster = /^image\/(png|jpeg|gif|webp)$/.exec(file.content_type);
  if (raster) return `${raster[1] === 'webp' ? 'WebP' : raster[1].toUpperCase()} image`;
  const ext = extension(file.filename);
  if (kind === 'text' && (ext === 'TXT' || !ext)) return 'Plain text';
  const name = KIND_NAMES[kind];
  return ext && ext.length <= 8 ? `${ext} ${name}` : name[0].toUpperCase() + name.slice(1);
}

/** The few letters on a file's badge ("PDF", "ZIP"). @param {{filename: string, content_type: string}} file */
export function badgeText(file) {
  const ext = extension(file.filename);
  if (ext && ext.length <= 4) return ext;
  return kindOf(file) === 'pdf' ? 'PDF' : '';
}

/**
 * The size an image shows at in a message: its own, shrunk to fit the preview box with its
 * shape kept, never enlarged. Known from the record, so nothing moves when the preview loads.
 * @param {{width?: number, height?: number}} file
 * @returns {{width: number, height: number} | null}
 */
export function previewSize(file) {
  const { width, height } = file;
  if (!width || !height) return null;
  const scale = Math.min(1, PREVIEW_BOX / width, PREVIEW_BOX / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Shown inline as an image preview: a raster image whose size is known. @param {FileWire} file */
export function isPreviewed(file) {
  return /^image\/(png|jpeg|gif|webp)$/.test(file.content_type) && previewSize(file) !== null;
}

/** The file's bytes, read with the session cookie. @param {string} id */
export const contentUrl = (id) => `/api/v1/files/${encodeURIComponent(id)}/content`;
/** The file's preview (at most 360 px on its long side). @param {string} id */
export const thumbnailUrl = (id) => `/api/v1/files/${encodeURIComponent(id)}/thumbnail`;
