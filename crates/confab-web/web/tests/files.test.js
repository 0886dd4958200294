// @ts-check
/**
 * Files, as two people share them: an image dropped on the channel and one pasted into the
 * composer reach the other side live as previews at their final size, which fill in once the
 * server's thumbnails are ready; the full view; downloads equal to the bytes sent; a cancelled
 * upload leaves its message; other files as cards; at most 10 files a message; the Files panel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import { WAIT, api, axeViolations, launch, shoot, startServer, team } from './support.js';

/**
 * A real PNG of `width` × `height` (RGB, 8 bits): a sky over a row of towers, or (`sun`) a
 * sun over hills, so the screenshots show something recognisable.
 * @param {number} width
 * @param {number} height
 * @param {boolean} [sun]
 */
function png(width, height, sun = false) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0;
    for (let x = 0; x < width; x++) {
      const at = row + 1 + x * 3;
      const t = y / height;
      let rgb = [Math.round(40 + 150 * t), Math.round(90 + 100 * t), Math.round(200 - 60 * t)];
      if (sun) {
        const dx = x - width * 0.6, dy = y - height * 0.35;
        if (dx * dx + dy * dy < (width * 0.15) ** 2) rgb = [250, 200, 60];
        if (y > height * (0.7 + 0.08 * Math.sin(x / (width / 6)))) rgb = [50, 120 + Math.round(40 * t), 60];
      } else {
        const tower = Math.floor(x / (width / 10));
        const top = height * (0.45 + 0.3 * (((tower * 37) % 10) / 10));
        if (y > top) rgb = (x % 24 < 8 && y % 30 < 12) ? [240, 210, 120] : [30 + tower * 4, 35, 55];
      }
      raw[at] = rgb[0];
      raw[at + 1] = rgb[1];
      raw[at + 2] = rgb[2];
    }
  }
  /** @param {string} type @param {Buffer} data */
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const sha256 = (/** @type {Buffer} */ b) => createHash('sha256').update(b).digest('hex');

/**
 * `promise`, or a failure after `WAIT`: no wait here is unbounded.
 * @template T
 * @param {Promise<T>} promise
 * @param {string} what
 * @returns {Promise<T>}
 */
function bounded(promise, what) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const late = new Promise((_, fail) => (timer = setTimeout(() => fail(new Error(`${what}: over ${WAIT} ms`)), WAIT)));
  return /** @type {Promise<T>} */ (Promise.race([promise, late]).finally(() => clearTimeout(timer)));
}

/**
 * The bytes a download saved.
 * @param {import('playwright-core').Download} download
 */
async function saved(download) {
  return readFileSync(await bounded(download.path(), `downloading ${download.suggestedFilename()}`));
}

/**
 * A DataTransfer in the page holding these files, as a drag or a paste carries them.
 * @param {import('playwright-core').Page} page
 * @param {{name: string, type: string, base64?: string, zeros?: number}[]} files
 */
function transfer(page, files) {
  return page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bytes = f.base64 ? Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0)) : new Uint8Array(f.zeros ?? 0);
      dt.items.add(new File([bytes], f.name, { type: f.type }));
    }
    return dt;
  }, files);
}

/**
 * Waits for an image in the page to have loaded its bytes.
 * @param {import('playwright-core').Locator} img
 */
async function loaded(img) {
  await img.waitFor({ timeout: WAIT });
  await bounded(img.evaluate((el) => {
    const i = /** @type {HTMLImageElement} */ (el);
    return i.complete && i.naturalWidth > 0 ? null : new Promise((ok, fail) => {
      i.addEventListener('load', ok, { once: true });
      i.addEventListener('error', () => fail(new Error(`${i.src} did not load`)), { once: true });
    });
  }), 'loading an image');
  return img.evaluate((el) => /** @type {HTMLImageElement} */ (el).naturalWidth);
}

/**
 * Uploads a file through the API alone (for many files quickly): its ID.
 * @param {import('playwright-core').BrowserContext} context
 * @param {string} url
 * @param {string} workspaceId
 * @param {string} name
 * @param {Buffer} bytes
 */
async function uploadByApi(context, url, workspaceId, name, bytes) {
  const ticket = await api(context, url, 'POST', '/files', { filename: name, size: bytes.length, content_type: 'text/plain', workspace_id: workspaceId });
  const put = await context.request.fetch(`${url}${ticket.upload_url}`, { method: 'PUT', data: bytes, headers: { origin: url } });
  assert.equal(put.status(), 200, await put.text());
  return /** @type {string} */ (ticket.file_id);
}

test('files: dropped, pasted and picked, previewed live at their final size, viewed, downloaded whole, cancelled, listed', async () => {
  const server = await startServer();
  const browser = await launch();
  try {
    const t = await team(browser, server.url);
    const a = await t.ada.newPage();
    const b = await t.bo.newPage();
    await b.emulateMedia({ colorScheme: 'dark' });
    /** @type {string[]} */
    const problems = [];
    for (const page of [a, b]) {
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(String(e)));
    }
    const channelUrl = `${server.url}/w/${t.workspace.id}/c/${t.general}`;
    await a.goto(channelUrl);
    await b.goto(channelUrl);
    const boxA = a.getByLabel('Message #general', { exact: true });
    await boxA.waitFor({ timeout: WAIT });
    await b.getByLabel('Message #general', { exact: true }).waitFor({ timeout: WAIT });

    // Ada drags a photo onto the channel: the overlay says where it goes, the drop attaches it
    // and it uploads at once, shown as a chip above her text.
    const skyline = png(800, 600);
    const drag = await transfer(a, [{ name: 'skyline.png', type: 'image/png', base64: skyline.toString('base64') }]);
    const channelA = a.locator('main.channel');
    await channelA.dispatchEvent('dragenter', { dataTransfer: drag });
    await channelA.dispatchEvent('dragover', { dataTransfer: drag });
    await a.getByRole('status').filter({ hasText: 'Drop files to upload to #general' }).waitFor({ timeout: WAIT });
    await shoot(a, 'files-drop-light-wide');
    await channelA.dispatchEvent('drop', { dataTransfer: drag });
    await a.locator('.drop-overlay.shown').waitFor({ state: 'detached', timeout: WAIT });
    const chip = a.locator('main .composer-box .chip', { hasText: 'skyline.png' });
    await chip.waitFor({ timeout: WAIT });
    await a.locator('main .composer-box .chip.done', { hasText: 'skyline.png' }).waitFor({ timeout: WAIT });
    await a.waitForFunction(() => document.activeElement?.matches('main textarea.composer'), undefined, { timeout: WAIT });
    await boxA.fill('the view from the office');
    await boxA.press('Enter');
    await a.locator('main .composer-box .chip').waitFor({ state: 'detached', timeout: WAIT });

    // Bo sees it live: the preview's box has its final size (800×600 fitted in 360×360) at
    // once, and the image fills it when the thumbnail is ready.
    const onB = b.locator('.message', { hasText: 'the view from the office' });
    const previewB = onB.getByRole('button', { name: 'Open skyline.png', exact: true });
    await previewB.waitFor({ timeout: WAIT });
    const box = await previewB.boundingBox();
    assert.ok(box);
    assert.deepEqual([Math.round(box.width), Math.round(box.height)], [360, 270]);
    const imgB = previewB.locator('img');
    assert.ok(await loaded(imgB) > 0);
    assert.deepEqual([await imgB.getAttribute('width'), await imgB.getAttribute('height')], ['360', '270']);
    const shown = await imgB.boundingBox();
    assert.ok(shown);
    assert.deepEqual([Math.round(shown.width), Math.round(shown.height)], [360, 270]);

    // Ada pastes a screenshot into the composer and sends it alone, with no words. Bo's
    // previews are held back a moment: the box has its final size before its image arrives,
    // and keeps it after.
    /** @type {(() => void)[]} */
    const thumbs = [];
    let holdThumbs = true;
    await b.route((u) => u.pathname.endsWith('/thumbnail'), async (route) => {
      if (!holdThumbs) return route.continue();
      await new Promise((release) => thumbs.push(() => release(undefined)));
      await route.continue().catch(() => {});
    });
    const sunset = png(600, 900, true);
    const paste = await transfer(a, [{ name: 'image.png', type: 'image/png', base64: sunset.toString('base64') }]);
    await boxA.evaluate((el, dt) => {
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: /** @type {DataTransfer} */ (dt), bubbles: true, cancelable: true }));
    }, paste);
    await a.locator('main .composer-box .chip.done', { hasText: 'image.png' }).waitFor({ timeout: WAIT });
    assert.equal(await boxA.inputValue(), '', 'a pasted file is attached, not pasted as text');
    await boxA.press('Enter');
    const pastedB = b.getByRole('button', { name: 'Open image.png', exact: true });
    await pastedB.waitFor({ timeout: WAIT });
    const tall = await pastedB.boundingBox();
    assert.ok(tall);
    assert.deepEqual([Math.round(tall.width), Math.round(tall.height)], [240, 360]);
    await shoot(b, 'files-preview-waiting-dark-wide');
    holdThumbs = false;
    for (const release of thumbs) release();
    assert.ok(await loaded(pastedB.locator('img')) > 0);
    assert.deepEqual(await pastedB.boundingBox(), tall, 'nothing moved when the preview came');
    const pastedRow = b.locator('.message', { has: pastedB });
    assert.equal(await pastedRow.locator('.body').count(), 0, 'a message of files alone shows only its files');

    // Bo opens the photo: the full image in a modal dialog, focus on Close and kept inside.
    await previewB.click();
    const dialog = b.getByRole('dialog', { name: 'skyline.png' });
    await dialog.waitFor({ timeout: WAIT });
    assert.equal(await dialog.getAttribute('aria-modal'), 'true');
    assert.equal(await loaded(dialog.locator('img')), 800);
    await b.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'Close', undefined, { timeout: WAIT });
    await b.keyboard.press('Tab');
    await b.keyboard.press('Tab');
    await b.waitForFunction(() => document.activeElement?.closest('[role=dialog]') !== null, undefined, { timeout: WAIT });
    await shoot(b, 'files-lightbox-dark-wide');
    assert.deepEqual(await axeViolations(b), [], 'the full view');

    // Its Download gives exactly the bytes Ada dropped.
    const [fromDialog] = await Promise.all([
      b.waitForEvent('download', { timeout: WAIT }),
      dialog.getByRole('link', { name: 'Download' }).click(),
    ]);
    assert.equal(fromDialog.suggestedFilename(), 'skyline.png');
    assert.equal(sha256(await saved(fromDialog)), sha256(skyline));
    await b.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached', timeout: WAIT });
    await b.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'Open skyline.png', undefined, { timeout: WAIT });
    // By keyboard too: Enter on the focused preview opens it, Esc closes it.
    await b.keyboard.press('Enter');
    await dialog.waitFor({ timeout: WAIT });
    await b.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached', timeout: WAIT });
    // The pasted one too, read as Bo's page reads it.
    const pastedId = await pastedB.locator('img').evaluate((el) => /** @type {HTMLImageElement} */ (el).src.split('/files/')[1].split('/')[0]);
    const pastedHash = await b.evaluate(async (id) => {
      const bytes = await fetch(`/api/v1/files/${id}/content`).then((r) => r.arrayBuffer());
      return [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))].map((x) => x.toString(16).padStart(2, '0')).join('');
    }, pastedId);
    assert.equal(pastedHash, sha256(sunset));

    // A file that is no image, from the paperclip: a card with its name, size and type.
    const notes = Buffer.from('Agenda\n'.repeat(180));
    await a.locator('main input[type=file]').setInputFiles({ name: 'meeting-notes.txt', mimeType: 'text/plain', buffer: notes });
    await a.locator('main .composer-box .chip.done', { hasText: 'meeting-notes.txt' }).waitFor({ timeout: WAIT });
    await boxA.fill('notes from today');
    await boxA.press('Enter');
    const card = b.locator('.message', { hasText: 'notes from today' }).locator('.file-card');
    await card.waitFor({ timeout: WAIT });
    assert.equal(await card.locator('.file-name').innerText(), 'meeting-notes.txt');
    assert.equal(await card.locator('.detail').innerText(), '1.2 KB · Plain text');
    const [fromCard] = await Promise.all([
      b.waitForEvent('download', { timeout: WAIT }),
      card.getByRole('link', { name: 'Download meeting-notes.txt', exact: true }).click(),
    ]);
    assert.equal(fromCard.suggestedFilename(), 'meeting-notes.txt');
    assert.ok((await saved(fromCard)).equals(notes));
    await shoot(b, 'files-channel-dark-wide');
    await shoot(a, 'files-channel-light-wide');
    assert.deepEqual(await axeViolations(b), [], 'a channel with files');

    // Uploads held on the wire: one too large is refused with the server's word (in MB), one
    // uploading can be cancelled from the composer.
    /** @type {(() => void)[]} */
    const held = [];
    let holding = true;
    await a.route((u) => u.pathname.endsWith('/content'), async (route) => {
      if (route.request().method() !== 'PUT' || !holding) return route.continue();
      await new Promise((release) => held.push(() => release(undefined)));
      await route.continue().catch(() => {});
    });
    const big = await transfer(a, [
      { name: 'huge-video.mp4', type: 'video/mp4', zeros: 25 * 1024 * 1024 + 1 },
      { name: 'site-backup.zip', type: 'application/zip', base64: randomBytes(300_000).toString('base64') },
    ]);
    await channelA.dispatchEvent('dragenter', { dataTransfer: big });
    await channelA.dispatchEvent('drop', { dataTransfer: big });
    const tooBig = a.locator('main .composer-box .chip.failed', { hasText: 'huge-video.mp4' });
    await tooBig.waitFor({ timeout: WAIT });
    assert.match(await tooBig.innerText(), /limited to 25 MB/);
    assert.equal(await tooBig.getByRole('button', { name: 'Retry huge-video.mp4', exact: true }).count(), 0, 'too large is not worth a retry');
    await a.locator('main .composer-box .chip.uploading', { hasText: 'site-backup.zip' }).getByRole('progressbar').waitFor({ timeout: WAIT });
    await a.waitForFunction(() => document.querySelectorAll('main .composer-box .chip').length === 2, undefined, { timeout: WAIT });
    await shoot(a, 'files-composer-light-wide');
    assert.deepEqual(await axeViolations(a), [], 'the composer with files attached');
    await a.getByRole('button', { name: 'Cancel site-backup.zip', exact: true }).click();
    await a.getByRole('button', { name: 'Remove huge-video.mp4', exact: true }).click();
    await a.locator('main .composer-box .chip').waitFor({ state: 'detached', timeout: WAIT });

    // A message waits, pending, for its uploads; cancelling one there sends it without it.
    await a.locator('main input[type=file]').setInputFiles({ name: 'slides.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n%slides\n') });
    await a.locator('main .composer-box .chip.uploading', { hasText: 'slides.pdf' }).waitFor({ timeout: WAIT });
    await boxA.fill('slides coming');
    await boxA.press('Enter');
    const waiting = a.locator('.message.pending', { hasText: 'slides coming' });
    await waiting.locator('.edited', { hasText: 'uploading…' }).waitFor({ timeout: WAIT });
    await waiting.locator('.chip', { hasText: 'slides.pdf' }).waitFor({ timeout: WAIT });
    await shoot(a, 'files-pending-light-wide');
    await waiting.getByRole('button', { name: 'Cancel slides.pdf', exact: true }).click();
    const sent = b.locator('.message', { hasText: 'slides coming' });
    await sent.waitFor({ timeout: WAIT });
    await a.locator('.message.pending').waitFor({ state: 'detached', timeout: WAIT });
    assert.equal(await sent.locator('.files').count(), 0, 'the cancelled file is not on the message');
    holding = false;
    for (const release of held) release();

    // Eleven files at once: ten are attached, and she is told why not the last.
    const eleven = await transfer(a, Array.from({ length: 11 }, (_, i) => ({ name: `part-${i + 1}.csv`, type: 'text/csv', base64: Buffer.from(`n,${i}\n`).toString('base64') })));
    await channelA.dispatchEvent('dragenter', { dataTransfer: eleven });
    await channelA.dispatchEvent('drop', { dataTransfer: eleven });
    await a.getByRole('alert').filter({ hasText: 'A message can carry at most 10 files: 1 file was not attached.' }).waitFor({ timeout: WAIT });
    await a.waitForFunction(() => document.querySelectorAll('main .composer-box .chip.done').length === 10, undefined, { timeout: WAIT });
    await boxA.fill('the ten parts');
    await boxA.press('Enter');
    await b.locator('.message', { hasText: 'the ten parts' }).locator('.file-card').nth(9).waitFor({ timeout: WAIT });
    assert.equal(await b.locator('.message', { hasText: 'the ten parts' }).locator('.file-card').count(), 10);

    // The Files panel lists the channel's files, newest first, and takes Bo to a file's message.
    await b.getByRole('button', { name: 'Files in #general', exact: true }).click();
    const panel = b.getByRole('complementary', { name: 'Files in #general', exact: true });
    await panel.locator('.file-row').nth(12).waitFor({ timeout: WAIT });
    const names = await panel.locator('.file-row .file-name').allInnerTexts();
    assert.deepEqual(names.slice(10), ['meeting-notes.txt', 'image.png', 'skyline.png']);
    assert.equal(names[0], 'part-1.csv', "a message's files in the order attached");
    assert.ok(await loaded(panel.locator('.file-row', { hasText: 'skyline.png' }).locator('img')) > 0);
    await panel.locator('.panel-body').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await shoot(b, 'files-panel-dark-wide');
    assert.deepEqual(await axeViolations(b), [], 'the Files panel');
    await panel.getByRole('button', { name: 'View in conversation: meeting-notes.txt', exact: true }).click({ timeout: WAIT });
    await b.waitForURL(/\/m\/\d+$/, { timeout: WAIT });
    await b.locator('.message.highlight', { hasText: 'notes from today' }).waitFor({ timeout: WAIT });

    // Files shared while it is open come in at the top; past a page, "Load more" reads on.
    const ids = [];
    for (let i = 0; i < 10; i++) ids.push(await uploadByApi(t.ada, server.url, t.workspace.id, `log-${i}.txt`, Buffer.from(`line ${i}\n`)));
    await api(t.ada, server.url, 'POST', `/channels/${t.general}/messages`, { client_msg_id: 'logs-1', body: 'logs', file_ids: ids });
    await panel.locator('.file-row').nth(22).waitFor({ timeout: WAIT });
    assert.equal(await panel.locator('.file-row .file-name').first().innerText(), 'log-0.txt');
    await b.getByRole('button', { name: 'Close files', exact: true }).click();
    await b.getByRole('button', { name: 'Files in #general', exact: true }).click();
    await panel.locator('.file-row').nth(19).waitFor({ timeout: WAIT });
    assert.equal(await panel.locator('.file-row').count(), 20);
    await panel.getByRole('button', { name: 'Load more', exact: true }).click();
    await panel.locator('.file-row').nth(22).waitFor({ timeout: WAIT });
    assert.equal(await panel.getByRole('button', { name: 'Load more', exact: true }).count(), 0);
    await b.getByRole('button', { name: 'Close files', exact: true }).click();

    // Narrow screens, light and dark: the channel, the composer's chips, the full view, the panel.
    await a.setViewportSize({ width: 390, height: 844 });
    await b.setViewportSize({ width: 390, height: 844 });
    await a.locator('.message', { hasText: 'the view from the office' }).scrollIntoViewIfNeeded();
    await b.locator('.message', { hasText: 'notes from today' }).scrollIntoViewIfNeeded();
    await shoot(a, 'files-channel-light-narrow');
    await shoot(b, 'files-channel-dark-narrow');
    await a.locator('main input[type=file]').setInputFiles([
      { name: 'a-very-long-file-name-for-the-quarterly-report-final-v2.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n') },
      { name: 'skyline.png', mimeType: 'image/png', buffer: skyline },
    ]);
    await a.waitForFunction(() => document.querySelectorAll('main .composer-box .chip.done').length === 2, undefined, { timeout: WAIT });
    await shoot(a, 'files-composer-light-narrow');
    await a.getByRole('button', { name: 'Open image.png', exact: true }).click();
    await loaded(a.getByRole('dialog', { name: 'image.png' }).locator('img'));
    await shoot(a, 'files-lightbox-light-narrow');
    await a.getByRole('button', { name: 'Close', exact: true }).click();
    await a.getByRole('dialog').waitFor({ state: 'detached', timeout: WAIT });
    const channelB = b.locator('main.channel');
    const bDrag = await transfer(b, [{ name: 'plan.pdf', type: 'application/pdf', base64: Buffer.from('%PDF-1.4\n%plan\n').toString('base64') }]);
    await channelB.dispatchEvent('dragenter', { dataTransfer: bDrag });
    await b.locator('.drop-overlay.shown').waitFor({ timeout: WAIT });
    await shoot(b, 'files-drop-dark-narrow');
    await channelB.dispatchEvent('drop', { dataTransfer: bDrag });
    await b.locator('main .composer-box .chip.done', { hasText: 'plan.pdf' }).waitFor({ timeout: WAIT });
    await shoot(b, 'files-composer-dark-narrow');
    await b.getByRole('button', { name: 'Remove plan.pdf', exact: true }).click();
    await b.getByRole('button', { name: 'Files in #general', exact: true }).click();
    await panel.locator('.file-row').first().waitFor({ timeout: WAIT });
    await shoot(b, 'files-panel-dark-narrow');

    assert.deepEqual(problems, [], 'no CSP violation, no page error');
  } finally {
    await browser.close();
    await server.stop();
  }
});
