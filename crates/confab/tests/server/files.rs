//! Files against the real binary: uploads on local disk and on a real S3-compatible server
//! (`s3s-fs`), refusals (size, signatures, expiry, reuse, quota), who may read a file, how
//! hostile bytes are served, previews of every supported format, a decompression bomb, and
//! the sweep.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Server, User, WAIT, s};

/// Bytes that differ at every offset.
pub(crate) fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// Asks to upload `size` bytes named `name`; the ticket.
async fn ask(server: &Server, user: &User, ws: &str, name: &str, size: usize, ty: &str) -> Value {
    let (status, ticket) = server
        .post(
            &user.token,
            "/files",
            json!({"filename": name, "size": size, "content_type": ty, "workspace_id": ws}),
        )
        .await;
    assert_eq!(status, 201, "{ticket}");
    ticket
}

/// An upload URL as a full URL (confab's own are paths).
fn absolute(server: &Server, url: &str) -> String {
    if url.starts_with('/') {
        format!("{}{url}", server.root())
    } else {
        url.to_owned()
    }
}

async fn put_bytes(server: &Server, url: &str, bytes: Vec<u8>) -> (u16, Value) {
    let response = tokio::time::timeout(
        WAIT,
        server.http.put(absolute(server, url)).body(bytes).send(),
    )
    .await
    .expect("answered in time")
    .expect("put");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Uploads `bytes` completely; the file's ID.
pub(crate) async fn upload(
    server: &Server,
    user: &User,
    ws: &str,
    name: &str,
    bytes: Vec<u8>,
) -> String {
    let ticket = ask(
        server,
        user,
        ws,
        name,
        bytes.len(),
        "application/octet-stream",
    )
    .await;
    let (status, body) = put_bytes(server, &s(&ticket["upload_url"]), bytes).await;
    assert_eq!(status, 200, "{body}");
    s(&ticket["file_id"])
}

async fn send_files(
    server: &Server,
    user: &User,
    channel: &str,
    cid: &str,
    files: &[&str],
) -> (u16, Value) {
    server
        .post(
            &user.token,
            &format!("/channels/{channel}/messages"),
            json!({"client_msg_id": cid, "body": "", "file_ids": files}),
        )
        .await
}

struct Fetched {
    status: u16,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
}

async fn fetch(server: &Server, url: &str, token: Option<&str>) -> Fetched {
    let mut request = server.http.get(absolute(server, url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = tokio::time::timeout(WAIT, request.send())
        .await
        .expect("answered in time")
        .expect("get");
    Fetched {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        bytes: response.bytes().await.expect("body").to_vec(),
    }
}

fn header<'a>(f: &'a Fetched, name: &str) -> &'a str {
    f.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The served-safely headers every download carries.
fn assert_safe_headers(f: &Fetched) {
    assert_eq!(header(f, "x-content-type-options"), "nosniff");
    assert_eq!(
        header(f, "content-security-policy"),
        "sandbox; default-src 'none'"
    );
    assert_eq!(header(f, "cross-origin-resource-policy"), "same-origin");
}

#[tokio::test]
async fn a_file_round_trips_byte_for_byte_on_local_disk() {
    let server = Server::start().await;
    let ada = server.register("ada").await;
    let bob = server.register("bob").await;
    let (ws, general) = server.workspace(&ada, &[&bob]).await;
    let mut bobs_socket = server.connect(&bob).await;
    let data = pattern(3 * 1024 * 1024 + 7);
    let file = upload(&server, &ada, &ws, "Q3 report (final).bin", data.clone()).await;

    let (status, sent) = send_files(&server, &ada, &general, "f1", &[&file]).await;
    assert_eq!(status, 201, "{sent}");
    let files = &sent["message"]["files"];
    assert_eq!(files[0]["id"], json!(file), "{sent}");
    assert_eq!(files[0]["size"], json!(data.len()));
    assert_eq!(files[0]["filename"], "Q3 report (final).bin");
    assert_eq!(files[0]["content_type"], "application/octet-stream");
    // The live event carries the files too.
    let event = bobs_socket.next_event_in(&general).await;
    assert_eq!(event["message"]["files"], *files, "{event}");
    // A retry is the same message with the same files.
    let (status, retried) = send_files(&server, &ada, &general, "f1", &[&file]).await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["message"]["id"], sent["message"]["id"]);
    assert_eq!(retried["message"]["files"], *files);

    let (status, meta) = server.get(&bob.token, &format!("/files/{file}")).await;
    assert_eq!(status, 200, "{meta}");
    assert_eq!(meta["channel_id"], json!(general));
    let got = fetch(&server, &s(&meta["download_url"]), None).await;
    assert_eq!(got.status, 200);
    assert!(got.bytes == data, "the bytes that went in come out");
    assert_safe_headers(&got);
    assert_eq!(
        header(&got, "content-disposition"),
        "attachment; filename=\"Q3 report (final).bin\"; filename*=UTF-8''Q3%20report%20%28final%29.bin"
    );
    // The web client's way: its session, no signature.
    let by_session = fetch(
        &server,
        &format!("/api/v1/files/{file}/content"),
        Some(&bob.token),
    )
    .await;
    assert_eq!(by_session.status, 200);
    assert!(by_session.bytes == data);
    // The channel lists it.
    let (_, listed) = server
        .get(&bob.token, &format!("/channels/{general}/files"))
        .await;
    assert_eq!(listed["files"][0]["file"]["id"], json!(file), "{listed}");
    assert_eq!(listed["files"][0]["message_id"], sent["message"]["id"]);
}

#[tokio::test]
async fn uploads_are_refused_past_their_size_signature_expiry_one_use_and_quota() {
    let server = Server::start_with(&[
        "--max-upload-bytes",
        "1000000",
        "--upload-quota-bytes",
        "1001500",
    ])
    .await;
    let ada = server.register("ada").await;
    let (ws, _) = server.workspace(&ada, &[]).await;

    // Declared over the limit.
    let (status, body) = server
        .post(
            &ada.token,
            "/files",
            json!({"filename": "big", "size": 1_000_001, "content_type": "x/y", "workspace_id": ws}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (413, &json!("file_too_large")),
        "{body}"
    );
    let (status, body) = server
        .post(
            &ada.token,
            "/files",
            json!({"filename": "empty", "size": 0, "content_type": "x/y", "workspace_id": ws}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("invalid_file")),
        "{body}"
    );

    // More bytes than declared: refused, nothing stored, the URL still good for the right ones.
    let ticket = ask(&server, &ada, &ws, "a.bin", 1000, "x/y").await;
    let url = s(&ticket["upload_url"]);
    let id = s(&ticket["file_id"]);
    let (status, body) = put_bytes(&server, &url, pattern(1001)).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (413, &json!("file_too_large")),
        "{body}"
    );
    // Sent without a length up front (chunked), cut off at the limit all the same.
    let chunked = futures_util::stream::iter(
        pattern(5000)
            .chunks(700)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let response = server
        .http
        .put(absolute(&server, &url))
        .body(reqwest::Body::wrap_stream(chunked))
        .send()
        .await
        .expect("put");
    assert_eq!(response.status().as_u16(), 413);
    let (_, meta) = server.get(&ada.token, &format!("/files/{id}")).await;
    assert!(meta.get("download_url").is_none(), "nothing stored: {meta}");
    assert!(
        !server.dir.join("data/files/files").join(&id).exists(),
        "no blob on disk"
    );
    let partial = std::fs::read_dir(server.dir.join("data/files/partial"))
        .expect("partial dir")
        .count();
    assert_eq!(partial, 0, "no partial file left behind");
    let (status, _) = put_bytes(&server, &url, pattern(999)).await;
    assert_eq!(status, 409, "too few bytes");
    // A tampered URL: another signature, another file.
    let mut tampered = url.clone();
    let last = tampered.pop().expect("a signature");
    tampered.push(if last == '0' { '1' } else { '0' });
    let (status, body) = put_bytes(&server, &tampered, pattern(1000)).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!("invalid_signature")),
        "{body}"
    );
    let other = ask(&server, &ada, &ws, "b.bin", 1000, "x/y").await;
    let swapped = url.replace(&id, &s(&other["file_id"]));
    let (status, _) = put_bytes(&server, &swapped, pattern(1000)).await;
    assert_eq!(status, 403, "a URL for one file does not upload another");
    // The right bytes: once.
    let (status, _) = put_bytes(&server, &url, pattern(1000)).await;
    assert_eq!(status, 200);
    let (status, body) = put_bytes(&server, &url, pattern(1000)).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!("upload_used")),
        "{body}"
    );

    // The quota: 1,000 + 1,000 (pending uploads count) used of 1,001,500; 999,999 more would
    // pass it, 999,500 would not.
    let (status, body) = server
        .post(
            &ada.token,
            "/files",
            json!({"filename": "c", "size": 999_999, "content_type": "x/y", "workspace_id": ws}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (413, &json!("quota_exceeded")),
        "{body}"
    );
    ask(&server, &ada, &ws, "d", 999_500, "x/y").await;
}

#[tokio::test]
async fn an_expired_upload_url_is_refused() {
    let server = Server::start_with(&["--upload-url-ttl-secs", "1"]).await;
    let ada = server.register("ada").await;
    let (ws, _) = server.workspace(&ada, &[]).await;
    let ticket = ask(&server, &ada, &ws, "late.bin", 10, "x/y").await;
    // Signed URLs expire by the clock (to the second): nothing to await but time.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, body) = put_bytes(&server, &s(&ticket["upload_url"]), pattern(10)).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!("url_expired")),
        "{body}"
    );
}

#[tokio::test]
async fn only_those_who_can_read_the_channel_can_read_its_files() {
    let server = Server::start().await;
    let ada = server.register("ada").await;
    let bob = server.register("bob").await;
    let eve = server.register("eve").await;
    let mallory = server.register("mallory").await;
    let (ws, general) = server.workspace(&ada, &[&bob, &eve]).await;
    let (other_ws, _) = server.workspace(&mallory, &[]).await;
    let secret = server.channel(&ada, &ws, "secret", true, &[&bob]).await;
    let file = upload(&server, &ada, &ws, "plans.bin", pattern(100)).await;
    assert_eq!(
        send_files(&server, &ada, &secret, "s", &[&file]).await.0,
        201
    );

    let (status, meta) = server.get(&bob.token, &format!("/files/{file}")).await;
    assert_eq!(status, 200, "{meta}");
    let bobs_url = s(&meta["download_url"]);
    assert_eq!(fetch(&server, &bobs_url, None).await.status, 200);
    // Not in the private channel, or not in the workspace: as if there were no such file.
    for outsider in [&eve, &mallory] {
        let (status, body) = server.get(&outsider.token, &format!("/files/{file}")).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (404, &json!("file_not_found"))
        );
        let direct = fetch(
            &server,
            &format!("/api/v1/files/{file}/content"),
            Some(&outsider.token),
        )
        .await;
        assert_eq!(direct.status, 404);
    }
    // A URL made for Bob does not work as anyone else's.
    let as_eve = bobs_url.replace(&bob.id, &eve.id);
    assert_eq!(fetch(&server, &as_eve, None).await.status, 403);
    // Bob leaves: his metadata and even the URL he was given stop working.
    let (status, _) = server
        .post(&bob.token, &format!("/channels/{secret}/leave"), json!({}))
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        server.get(&bob.token, &format!("/files/{file}")).await.0,
        404
    );
    assert_eq!(fetch(&server, &bobs_url, None).await.status, 404);

    // Attaching: never someone else's file, never one from another workspace.
    let adas = upload(&server, &ada, &ws, "mine.bin", pattern(10)).await;
    let (status, body) = send_files(&server, &bob, &general, "steal", &[&adas]).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("file_not_found")),
        "{body}"
    );
    // Ada joins Mallory's workspace and uploads there: that file stays there.
    let (_, invite) = server
        .post(
            &mallory.token,
            &format!("/workspaces/{other_ws}/invites"),
            json!({"max_uses": 1}),
        )
        .await;
    let code = s(&invite["invite"]["code"]);
    server
        .post(&ada.token, &format!("/invites/{code}/accept"), json!({}))
        .await;
    let adas_elsewhere = upload(&server, &ada, &other_ws, "elsewhere.bin", pattern(10)).await;
    let (status, body) = send_files(&server, &ada, &general, "cross", &[&adas_elsewhere]).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("file_not_found")),
        "{body}"
    );
    // A pending upload is not attachable yet; too many files is refused.
    let pending = ask(&server, &ada, &ws, "soon.bin", 10, "x/y").await;
    let (status, body) = send_files(&server, &ada, &general, "p", &[&s(&pending["file_id"])]).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (409, &json!("upload_incomplete")),
        "{body}"
    );
    let eleven: Vec<String> = (0..11).map(|_| s(&pending["file_id"])).collect();
    let eleven: Vec<&str> = eleven.iter().map(String::as_str).collect();
    let (status, body) = send_files(&server, &ada, &general, "many", &eleven).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!("too_many_files")),
        "{body}"
    );
}

#[tokio::test]
async fn hostile_bytes_are_served_as_attachments_that_cannot_run() {
    let server = Server::start().await;
    let ada = server.register("ada").await;
    let (ws, general) = server.workspace(&ada, &[]).await;
    // HTML and SVG at once, claiming to be a PNG.
    let polyglot = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(document.cookie)\">\
<html><body><script>fetch('/api/v1/me')</script></body></html></svg>"
        .to_vec();
    let ticket = ask(&server, &ada, &ws, "cat.png", polyglot.len(), "image/png").await;
    assert_eq!(
        put_bytes(&server, &s(&ticket["upload_url"]), polyglot.clone())
            .await
            .0,
        200
    );
    let file = s(&ticket["file_id"]);
    let (_, sent) = send_files(&server, &ada, &general, "p", &[&file]).await;
    assert_eq!(
        sent["message"]["files"][0]["content_type"], "application/octet-stream",
        "{sent}"
    );
    let (_, meta) = server.get(&ada.token, &format!("/files/{file}")).await;
    let got = fetch(&server, &s(&meta["download_url"]), None).await;
    assert_eq!(got.status, 200);
    assert!(got.bytes == polyglot);
    assert_eq!(header(&got, "content-type"), "application/octet-stream");
    assert!(header(&got, "content-disposition").starts_with("attachment;"));
    assert_safe_headers(&got);
    // A real PDF is shown inline, still sandboxed.
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    let id = upload(&server, &ada, &ws, "doc.pdf", pdf).await;
    send_files(&server, &ada, &general, "pdf", &[&id]).await;
    let (_, meta) = server.get(&ada.token, &format!("/files/{id}")).await;
    let got = fetch(&server, &s(&meta["download_url"]), None).await;
    assert_eq!(header(&got, "content-type"), "application/pdf");
    assert!(header(&got, "content-disposition").starts_with("inline;"));
    assert_safe_headers(&got);
}

fn encode(format: image::ImageFormat, w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(w, h, |x, y| {
        image::Rgba([(x % 256) as u8, (y % 256) as u8, 128, 255])
    });
    let img = image::DynamicImage::ImageRgba8(img);
    let img = if format == image::ImageFormat::Jpeg {
        image::DynamicImage::ImageRgb8(img.to_rgb8())
    } else {
        img
    };
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

/// Waits on `socket` for the message change that gives `file` its thumbnail.
async fn thumbnail_event(socket: &mut crate::harness::Ws, file: &str) -> Value {
    tokio::time::timeout(WAIT, async {
        loop {
            let frame = socket.next().await;
            let files = &frame["message"]["files"];
            if frame["kind"] == "message.updated"
                && files.as_array().is_some_and(|f| {
                    f.iter()
                        .any(|f| f["id"] == json!(file) && f["thumbnail"].is_object())
                })
            {
                return frame;
            }
        }
    })
    .await
    .expect("a thumbnail in time")
}

#[tokio::test]
async fn images_of_every_supported_format_get_thumbnails_live() {
    use image::ImageFormat::{Gif, Jpeg, Png, WebP};
    let server = Server::start().await;
    let ada = server.register("ada").await;
    let bob = server.register("bob").await;
    let (ws, general) = server.workspace(&ada, &[&bob]).await;
    let mut bobs_socket = server.connect(&bob).await;
    for (i, (format, ty)) in [
        (Png, "image/png"),
        (Jpeg, "image/jpeg"),
        (Gif, "image/gif"),
        (WebP, "image/webp"),
    ]
    .into_iter()
    .enumerate()
    {
        let bytes = encode(format, 1200, 800);
        let file = upload(&server, &ada, &ws, &format!("pic{i}"), bytes).await;
        let (status, sent) =
            send_files(&server, &ada, &general, &format!("img{i}"), &[&file]).await;
        assert_eq!(status, 201, "{sent}");
        let f = &sent["message"]["files"][0];
        assert_eq!(f["content_type"], ty, "{sent}");
        assert_eq!(
            (&f["width"], &f["height"]),
            (&json!(1200), &json!(800)),
            "{sent}"
        );
        // The thumbnail may already be there when the message is sent; if not, it comes live.
        if !f["thumbnail"].is_object() {
            thumbnail_event(&mut bobs_socket, &file).await;
        }
        let (_, meta) = server.get(&bob.token, &format!("/files/{file}")).await;
        assert_eq!(
            meta["file"]["thumbnail"],
            json!({"width": 360, "height": 240}),
            "{meta}"
        );
        let thumb = fetch(&server, &s(&meta["thumbnail_url"]), None).await;
        assert_eq!(thumb.status, 200);
        assert_safe_headers(&thumb);
        let decoded = image::load_from_memory(&thumb.bytes).expect("a thumbnail decodes");
        assert_eq!((decoded.width(), decoded.height()), (360, 240), "{ty}");
    }
}

#[tokio::test]
async fn an_upload_on_no_message_hears_its_preview_as_file_updated() {
    let server = Server::start().await;
    let ada = server.register("ada").await;
    let (ws, _) = server.workspace(&ada, &[]).await;
    let mut socket = server.connect(&ada).await;
    let file = upload(
        &server,
        &ada,
        &ws,
        "shot.png",
        encode(image::ImageFormat::Png, 720, 100),
    )
    .await;
    let frame = socket.next_of("file.updated").await;
    assert_eq!(frame["file"]["id"], json!(file), "{frame}");
    assert_eq!(
        frame["file"]["thumbnail"],
        json!({"width": 360, "height": 50})
    );
}

/// A PNG that claims 20,000 × 20,000 pixels, with real image data: 50 MB of one-bit rows
/// deflated to a few tens of KB, which a decoder without limits would expand to gigabytes.
fn decompression_bomb() -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, 20_000, 20_000);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().expect("header");
    let mut stream = writer.stream_writer().expect("stream");
    let row = vec![0u8; 2500];
    for _ in 0..20_000 {
        std::io::Write::write_all(&mut stream, &row).expect("row");
    }
    stream.finish().expect("finish");
    writer.finish().expect("done");
    out
}

#[tokio::test]
async fn a_decompression_bomb_gets_no_preview_and_costs_no_memory() {
    let server = Server::start().await;
    let ada = server.register("ada").await;
    let bob = server.register("bob").await;
    let (ws, general) = server.workspace(&ada, &[&bob]).await;
    let mut bobs_socket = server.connect(&bob).await;
    let bomb = decompression_bomb();
    assert!(
        bomb.len() < 1024 * 1024,
        "a bomb is small: {} bytes",
        bomb.len()
    );
    let before = server.rss_kib();
    let file = upload(&server, &ada, &ws, "bomb.png", bomb.clone()).await;
    let (status, sent) = send_files(&server, &ada, &general, "bomb", &[&file]).await;
    assert_eq!(status, 201, "{sent}");
    let f = &sent["message"]["files"][0];
    assert_eq!(f["content_type"], "image/png");
    assert!(
        f.get("width").is_none() && f.get("thumbnail").is_none(),
        "{sent}"
    );
    // Previews are made one at a time: once a later image has its thumbnail, the bomb's turn
    // (if it had one) is over.
    let next = upload(
        &server,
        &ada,
        &ws,
        "ok.png",
        encode(image::ImageFormat::Png, 400, 400),
    )
    .await;
    let (_, sent) = send_files(&server, &ada, &general, "ok", &[&next]).await;
    // Made before the send attached it, the preview came with the message.
    if !sent["message"]["files"][0]["thumbnail"].is_object() {
        thumbnail_event(&mut bobs_socket, &next).await;
    }
    let after = server.rss_kib();
    assert!(
        after < before + 64 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
    let (_, meta) = server.get(&bob.token, &format!("/files/{file}")).await;
    assert!(meta.get("thumbnail_url").is_none(), "{meta}");
    // The file itself is still there for whoever wants it.
    let got = fetch(&server, &s(&meta["download_url"]), None).await;
    assert_eq!(got.status, 200);
    assert!(got.bytes == bomb);
}

/// The first line of the answer on a raw connection, within [`WAIT`].
async fn status_line(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut answer = Vec::new();
    tokio::time::timeout(WAIT, async {
        let mut buf = [0u8; 1024];
        while !answer.windows(2).any(|w| w == b"\r\n") {
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed without an answer");
            answer.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("an answer in time");
    String::from_utf8_lossy(&answer).into_owned()
}

/// Polls `check` until it holds (background work has no event to await), failing after
/// [`WAIT`].
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn uploads_never_attached_and_deleted_messages_files_are_swept() {
    let server = Server::start_with(&[
        "--upload-url-ttl-secs",
        "1",
        // Time enough for the orphan's preview to be made first, even on a busy box.
        "--upload-grace-secs",
        "4",
        "--deleted-file-grace-secs",
        "1",
        "--file-sweep-interval-ms",
        "100",
    ])
    .await;
    let ada = server.register("ada").await;
    let (ws, general) = server.workspace(&ada, &[]).await;
    let blob = |id: &str| server.dir.join("data/files/files").join(id);
    let mut socket = server.connect(&ada).await;
    let orphan = upload(
        &server,
        &ada,
        &ws,
        "orphan.png",
        encode(image::ImageFormat::Png, 400, 100),
    )
    .await;
    assert!(blob(&orphan).exists());
    socket.next_of("file.updated").await;
    let thumb = server.dir.join("data/files/thumbs").join(&orphan);
    assert!(thumb.exists(), "the orphan has its preview");
    let never_sent = s(&ask(&server, &ada, &ws, "never.bin", 10, "x/y").await["file_id"]);
    let gone = upload(&server, &ada, &ws, "gone.bin", pattern(10)).await;
    let (_, sent) = send_files(&server, &ada, &general, "g", &[&gone]).await;
    let (_, meta) = server.get(&ada.token, &format!("/files/{gone}")).await;
    let url = s(&meta["download_url"]);
    // Deleting the message takes the file from every read path at once.
    let message = s(&sent["message"]["id"]);
    assert_eq!(
        server
            .delete(&ada.token, &format!("/messages/{message}"))
            .await
            .0,
        204
    );
    assert_eq!(
        server.get(&ada.token, &format!("/files/{gone}")).await.0,
        404
    );
    assert_eq!(fetch(&server, &url, None).await.status, 404);
    // Then the sweep takes both blobs.
    eventually("the orphan's blob is swept", || async {
        !blob(&orphan).exists()
    })
    .await;
    assert!(!thumb.exists(), "and its preview with it");
    eventually("the deleted file's blob is swept", || async {
        !blob(&gone).exists()
    })
    .await;
    assert_eq!(
        server.get(&ada.token, &format!("/files/{orphan}")).await.0,
        404
    );
    eventually("an upload whose bytes never came is swept", || async {
        server
            .get(&ada.token, &format!("/files/{never_sent}"))
            .await
            .0
            == 404
    })
    .await;
}

#[tokio::test]
async fn a_file_round_trips_through_s3_with_a_presigned_upload() {
    let s3 = confab_testkit::PrivateS3::start().expect("s3s-fs");
    let endpoint = s3.endpoint();
    let server = Server::start_with_env(
        &[
            "--s3-bucket",
            s3.bucket,
            "--s3-endpoint",
            &endpoint,
            "--upload-url-ttl-secs",
            "2",
            "--upload-grace-secs",
            "60",
            "--file-sweep-interval-ms",
            "200",
        ],
        &[
            ("AWS_ACCESS_KEY_ID", s3.access_key),
            ("AWS_SECRET_ACCESS_KEY", s3.secret_key),
        ],
    )
    .await;
    let ada = server.register("ada").await;
    let bob = server.register("bob").await;
    let (ws, general) = server.workspace(&ada, &[&bob]).await;
    let data = pattern(2 * 1024 * 1024 + 3);
    let ticket = ask(
        &server,
        &ada,
        &ws,
        "data.bin",
        data.len(),
        "application/octet-stream",
    )
    .await;
    let url = s(&ticket["upload_url"]);
    assert!(url.starts_with(&endpoint), "straight to the bucket: {url}");
    // And the web client's pages may send it there.
    let page = fetch(&server, "/", None).await;
    assert!(
        header(&page, "content-security-policy")
            .contains(&format!("connect-src 'self' {endpoint};")),
        "{:?}",
        page.headers
    );
    let file = s(&ticket["file_id"]);
    // The bucket refuses more bytes than the URL was signed for (a small body, sent whole
    // before the bucket can answer).
    let small = ask(&server, &ada, &ws, "small.bin", 10, "x/y").await;
    let (status, _) = put_bytes(&server, &s(&small["upload_url"]), pattern(11)).await;
    assert_eq!(status, 403);
    let small_id = s(&small["file_id"]);
    let (status, body) = server
        .post(
            &ada.token,
            &format!("/files/{small_id}/complete"),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (409, &json!("upload_incomplete")),
        "nothing was stored: {body}"
    );
    let (status, body) = server
        .post(&ada.token, &format!("/files/{file}/complete"), json!({}))
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (409, &json!("upload_incomplete")),
        "{body}"
    );
    let (status, _) = put_bytes(&server, &url, data.clone()).await;
    assert_eq!(status, 200);
    let (status, done) = server
        .post(&ada.token, &format!("/files/{file}/complete"), json!({}))
        .await;
    assert_eq!(status, 200, "{done}");
    let (status, sent) = send_files(&server, &ada, &general, "s3", &[&file]).await;
    assert_eq!(status, 201, "{sent}");
    let (_, meta) = server.get(&bob.token, &format!("/files/{file}")).await;
    let got = fetch(&server, &s(&meta["download_url"]), None).await;
    assert_eq!(got.status, 200);
    assert!(got.bytes == data, "the bytes that went in come out");
    assert_safe_headers(&got);
    // The upload URL still takes a PUT (S3 does not know it was used), but what it writes is
    // not the file: the file was moved out of its reach, and the object goes once the URL
    // expires.
    let mut other = data.clone();
    other.reverse();
    assert_eq!(put_bytes(&server, &url, other).await.0, 200);
    let again = fetch(&server, &s(&meta["download_url"]), None).await;
    assert!(again.bytes == data, "the file is what was completed");
    assert!(s3.object_path(&format!("uploads/{file}")).exists());
    eventually(
        "the late upload object is swept once its URL expired",
        || async { !s3.object_path(&format!("uploads/{file}")).exists() },
    )
    .await;
    // A send completes a finished direct upload by itself.
    let image = encode(image::ImageFormat::Png, 800, 400);
    let ticket = ask(&server, &ada, &ws, "pic.png", image.len(), "image/png").await;
    assert_eq!(
        put_bytes(&server, &s(&ticket["upload_url"]), image).await.0,
        200
    );
    let (status, sent) =
        send_files(&server, &ada, &general, "s3-pic", &[&s(&ticket["file_id"])]).await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(sent["message"]["files"][0]["width"], 800);
}

#[tokio::test]
async fn asking_to_upload_is_rate_limited_per_user() {
    let server =
        Server::start_with(&["--upload-rate-per-min", "1", "--upload-rate-burst", "2"]).await;
    let ada = server.register("ada").await;
    let bob = server.register("bob").await;
    let (ws, _) = server.workspace(&ada, &[&bob]).await;
    ask(&server, &ada, &ws, "1", 10, "x/y").await;
    ask(&server, &ada, &ws, "2", 10, "x/y").await;
    let (status, body) = server
        .post(
            &ada.token,
            "/files",
            json!({"filename": "3", "size": 10, "content_type": "x/y", "workspace_id": ws}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (429, &json!("rate_limited")),
        "{body}"
    );
    // Checking a pending upload (on S3, a request to the bucket) counts the same.
    let pending = ask(&server, &bob, &ws, "p", 10, "x/y").await;
    ask(&server, &bob, &ws, "b", 10, "x/y").await;
    let (status, body) = server
        .post(
            &bob.token,
            &format!("/files/{}/complete", s(&pending["file_id"])),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (429, &json!("rate_limited")),
        "{body}"
    );
}

#[tokio::test]
async fn a_download_url_expires() {
    let server = Server::start_with(&["--download-url-ttl-secs", "1"]).await;
    let ada = server.register("ada").await;
    let (ws, _) = server.workspace(&ada, &[]).await;
    let file = upload(&server, &ada, &ws, "a.bin", pattern(10)).await;
    let (_, meta) = server.get(&ada.token, &format!("/files/{file}")).await;
    let url = s(&meta["download_url"]);
    assert_eq!(fetch(&server, &url, None).await.status, 200);
    // Signed URLs expire by the clock (to the second): nothing to await but time.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let late = fetch(&server, &url, None).await;
    assert_eq!(late.status, 403);
    assert!(String::from_utf8_lossy(&late.bytes).contains("url_expired"));
}

#[tokio::test]
async fn an_upload_that_stalls_is_cut_off_and_can_be_sent_again() {
    use tokio::io::AsyncWriteExt;
    let server = Server::start_with(&["--http-body-timeout-ms", "300"]).await;
    let ada = server.register("ada").await;
    let (ws, _) = server.workspace(&ada, &[]).await;
    let ticket = ask(&server, &ada, &ws, "slow.bin", 1000, "x/y").await;
    let url = s(&ticket["upload_url"]);
    // Half the body, then nothing: a slowloris.
    let mut stream = tokio::net::TcpStream::connect(server.addr())
        .await
        .expect("connect");
    let head = format!(
        "PUT {url} HTTP/1.1\r\nHost: {}\r\nContent-Length: 1000\r\n\r\n",
        server.addr()
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(&pattern(500)).await.expect("half");
    let answer = status_line(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    drop(stream);
    // Half the body, then hanging up.
    let mut stream = tokio::net::TcpStream::connect(server.addr())
        .await
        .expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(&pattern(500)).await.expect("half");
    drop(stream);
    // Nothing was kept, and the URL works again for a whole body once the server has put the
    // abandoned upload back (it may still be doing so: a refusal then says `upload_used`).
    eventually("a whole body is taken", || async {
        put_bytes(&server, &url, pattern(1000)).await.0 == 200
    })
    .await;
    assert!(
        server
            .dir
            .join("data/files/files")
            .join(s(&ticket["file_id"]))
            .exists()
    );
}

#[tokio::test]
async fn a_retried_send_of_a_deleted_message_with_files_finds_its_original() {
    let server = Server::start().await;
    let ada = server.register("ada").await;
    let (ws, general) = server.workspace(&ada, &[]).await;
    let file = upload(&server, &ada, &ws, "a.bin", pattern(10)).await;
    let (_, sent) = send_files(&server, &ada, &general, "once", &[&file]).await;
    let id = s(&sent["message"]["id"]);
    assert_eq!(
        server
            .delete(&ada.token, &format!("/messages/{id}"))
            .await
            .0,
        204
    );
    let (status, retried) = send_files(&server, &ada, &general, "once", &[&file]).await;
    assert_eq!(
        status, 200,
        "the original, as a retry without files gets: {retried}"
    );
    assert_eq!(retried["message"]["id"], json!(id));
    assert_eq!(retried["message"]["deleted"], true);
    // Not a way to attach the deleted file anew.
    let (status, _) = send_files(&server, &ada, &general, "again", &[&file]).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_broken_upload_body_is_the_client_s_fault() {
    use tokio::io::AsyncWriteExt;
    let server = Server::start().await;
    let ada = server.register("ada").await;
    let (ws, _) = server.workspace(&ada, &[]).await;
    let ticket = ask(&server, &ada, &ws, "bad.bin", 1000, "x/y").await;
    let url = s(&ticket["upload_url"]);
    let mut stream = tokio::net::TcpStream::connect(server.addr())
        .await
        .expect("connect");
    let request = format!(
        "PUT {url} HTTP/1.1\r\nHost: {}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n",
        server.addr()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let answer = status_line(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let (status, _) = put_bytes(&server, &url, pattern(1000)).await;
    assert_eq!(status, 200, "and the URL still works");
}

#[tokio::test]
async fn uploads_in_flight_are_bounded_per_user() {
    use tokio::io::AsyncWriteExt;
    // Probes ask for uploads of their own, as many as the wait takes.
    let server =
        Server::start_with(&["--max-uploads-per-user", "1", "--upload-rate-per-min", "0"]).await;
    let ada = server.register("ada").await;
    let bob = server.register("bob").await;
    let (ws, _) = server.workspace(&ada, &[&bob]).await;
    let slow = ask(&server, &ada, &ws, "slow.bin", 1000, "x/y").await;
    // Ada's first upload, under way: half its body sent, the rest still coming.
    let mut stream = tokio::net::TcpStream::connect(server.addr())
        .await
        .expect("connect");
    let head = format!(
        "PUT {} HTTP/1.1\r\nHost: {}\r\nContent-Length: 1000\r\n\r\n",
        s(&slow["upload_url"]),
        server.addr()
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(&pattern(500)).await.expect("half");
    // Each probe is an upload of its own: one that the server took before the first upload
    // reached it is used up, and the next probe asks again.
    eventually("the first upload holds Ada's one slot", || async {
        let probe = ask(&server, &ada, &ws, "probe.bin", 10, "x/y").await;
        put_bytes(&server, &s(&probe["upload_url"]), pattern(10))
            .await
            .0
            == 429
    })
    .await;
    let second = ask(&server, &ada, &ws, "second.bin", 10, "x/y").await;
    assert_eq!(
        put_bytes(&server, &s(&second["upload_url"]), pattern(10))
            .await
            .0,
        429,
        "still held"
    );
    let bobs = ask(&server, &bob, &ws, "b.bin", 10, "x/y").await;
    assert_eq!(
        put_bytes(&server, &s(&bobs["upload_url"]), pattern(10))
            .await
            .0,
        200
    );
    // The first finishes; the slot comes back.
    stream.write_all(&pattern(1000)[500..]).await.expect("rest");
    eventually("Ada's next upload is taken", || async {
        put_bytes(&server, &s(&second["upload_url"]), pattern(10))
            .await
            .0
            == 200
    })
    .await;
}

#[tokio::test]
async fn images_past_the_decode_budget_get_no_preview() {
    let server = Server::start_with(&["--image-max-decode-bytes", "1048576"]).await;
    let ada = server.register("ada").await;
    let (ws, general) = server.workspace(&ada, &[]).await;
    let mut socket = server.connect(&ada).await;
    // 800 × 600 RGBA is 1.9 MB decoded: within the side limit, past the budget.
    let big = upload(
        &server,
        &ada,
        &ws,
        "big.png",
        encode(image::ImageFormat::Png, 800, 600),
    )
    .await;
    let small = upload(
        &server,
        &ada,
        &ws,
        "small.png",
        encode(image::ImageFormat::Png, 400, 400),
    )
    .await;
    let frame = socket.next_of("file.updated").await;
    assert_eq!(
        frame["file"]["id"],
        json!(small),
        "only the small one: {frame}"
    );
    let (_, sent) = send_files(&server, &ada, &general, "both", &[&big, &small]).await;
    let files = &sent["message"]["files"];
    assert!(
        files[0].get("thumbnail").is_none() && files[0].get("width").is_none(),
        "{sent}"
    );
    assert_eq!(files[1]["thumbnail"], json!({"width": 360, "height": 360}));
}
