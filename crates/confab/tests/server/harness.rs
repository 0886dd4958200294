//! Test harness: the real `confab` binary on an ephemeral port with a fresh SQLite directory,
//! an HTTP client, and WebSocket clients. Every wait has a timeout so a hang fails fast.
//!
//! `CONFAB_TEST_STACK=postgres-redis` runs the same tests against PostgreSQL (a fresh database
//! per server, on the server at `CONFAB_TEST_DATABASE_URL`) and Redis (`CONFAB_TEST_REDIS_URL`,
//! a fresh key prefix per server) instead of SQLite and the in-process bus.

use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const WAIT: Duration = Duration::from_secs(20);

/// A running `confab serve` process.
pub struct Server {
    child: Child,
    pub base: String,
    pub ws_base: String,
    pub dir: PathBuf,
    args: Vec<String>,
    _tmp: Option<tempfile::TempDir>,
    _db: Option<std::sync::Arc<ScratchDb>>,
    pub http: reqwest::Client,
}

pub fn database_url() -> String {
    std::env::var("CONFAB_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("CONFAB_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub use confab_testkit::{ScratchDb, unique_name};

/// Flags that put a server on the stack `CONFAB_TEST_STACK` names, and the database to keep.
fn stack_args() -> (Vec<String>, Option<std::sync::Arc<ScratchDb>>) {
    match std::env::var("CONFAB_TEST_STACK").as_deref() {
        Ok("postgres-redis") => {
            let db = ScratchDb::create(&database_url()).expect("a scratch database");
            let args = vec![
                "--database-url".into(),
                db.url(),
                "--database-max-connections".into(),
                "4".into(),
                "--redis-url".into(),
                redis_url(),
                "--redis-prefix".into(),
                unique_name("confab-test"),
            ];
            (args, Some(std::sync::Arc::new(db)))
        }
        Ok("sqlite") | Err(_) => (Vec::new(), None),
        Ok(other) => panic!("unknown CONFAB_TEST_STACK {other:?}"),
    }
}

/// Defaults for tests: no rate limits and no per-user socket cap (a few users hold hundreds
/// of sockets in the fleet tests) unless a test sets them.
const TEST_ARGS: &[&str] = &[
    "--max-sockets-per-user",
    "100000",
    "--send-rate-per-sec",
    "0",
    "--auth-rate-per-min",
    "0",
    "--change-rate-per-sec",
    "0",
    "--create-rate-per-min",
    "0",
    "--presence-rate-per-min",
    "0",
    "--upload-rate-per-min",
    "0",
    "--search-rate-per-min",
    "0",
];

/// `args` and the test default of every flag they do not set.
fn with_test_defaults(args: Vec<String>) -> Vec<String> {
    let mut all = args.clone();
    for pair in TEST_ARGS.chunks(2) {
        if !args.iter().any(|a| a == pair[0]) {
            all.extend(pair.iter().map(|s| s.to_string()));
        }
    }
    all
}

impl Server {
    pub async fn start() -> Server {
        Self::start_with(&[]).await
    }

    pub async fn start_with(args: &[&str]) -> Server {
        Self::start_with_env(args, &[]).await
    }

    /// As `start_with`, with these environment variables set for the server.
    pub async fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Server {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().to_path_buf();
        // Test defaults for every flag the test does not set itself.
        let (mut all, db) = stack_args();
        all.extend(args.iter().map(|s| s.to_string()));
        let mut server = Self::spawn_env(&dir, with_test_defaults(all), true, env).await;
        server._tmp = Some(tmp);
        server._db = db;
        server
    }

    /// A server with exactly these flags (and the test defaults for rate limits), its files
    /// in `dir`: for tests that assemble a fleet themselves.
    #[allow(dead_code)] // for the fleet tests, which share this harness
    pub async fn start_raw(dir: &Path, args: Vec<String>) -> Server {
        Self::spawn(dir, with_test_defaults(args), true).await
    }

    /// As `start_raw`, with these environment variables set for the server.
    #[allow(dead_code)] // for the fleet tests, which share this harness
    pub async fn start_raw_env(dir: &Path, args: Vec<String>, env: &[(&str, &str)]) -> Server {
        Self::spawn_env(dir, with_test_defaults(args), true, env).await
    }

    /// Starts the process and reads its address; with `ready`, waits for it to say it serves
    /// its whole API too.
    async fn spawn(dir: &Path, args: Vec<String>, ready: bool) -> Server {
        Self::spawn_env(dir, args, ready, &[]).await
    }

    async fn spawn_env(dir: &Path, args: Vec<String>, ready: bool, env: &[(&str, &str)]) -> Server {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("server.log"))
            .expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_confab"));
        command.arg("serve");
        if !args.iter().any(|a| a == "--listen") {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        command
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(&args)
            .env("CONFAB_LOG", "warn")
            .envs(env.iter().copied())
            .stderr(log);
        let started = confab_testkit::serve::start(command, ready, WAIT)
            .await
            .expect("confab started");
        let (child, addr) = (started.child, started.addr);
        Server {
            child,
            base: format!("http://{addr}/api/v1"),
            ws_base: format!("ws://{addr}/api/v1/ws"),
            dir: dir.to_path_buf(),
            args,
            _tmp: None,
            _db: None,
            http: reqwest::Client::new(),
        }
    }

    pub fn root(&self) -> String {
        self.base.trim_end_matches("/api/v1").to_owned()
    }

    /// Damages a channel's row from outside, as a bad disk or a hand edit could: its `kind`
    /// becomes one confab does not know, so every read of the channel fails, while its
    /// membership rows still read.
    #[allow(dead_code)] // not every test binary uses it
    pub async fn damage_channel(&self, channel: &str) {
        use sqlx::Connection;
        match &self._db {
            Some(db) => {
                let mut conn = sqlx::PgConnection::connect(&db.url())
                    .await
                    .expect("connect");
                sqlx::query("ALTER TABLE channels DROP CONSTRAINT IF EXISTS channels_kind_check")
                    .execute(&mut conn)
                    .await
                    .expect("drop the check");
                sqlx::query("UPDATE channels SET kind = 'bogus' WHERE id = $1")
                    .bind(channel)
                    .execute(&mut conn)
                    .await
                    .expect("damage");
                conn.close().await.expect("close");
            }
            None => {
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(self.dir.join("data").join("confab.db"));
                let mut conn = sqlx::SqliteConnection::connect_with(&options)
                    .await
                    .expect("connect");
                sqlx::query("PRAGMA ignore_check_constraints = ON")
                    .execute(&mut conn)
                    .await
                    .expect("pragma");
                sqlx::query("UPDATE channels SET kind = 'bogus' WHERE id = ?")
                    .bind(channel)
                    .execute(&mut conn)
                    .await
                    .expect("damage");
                conn.close().await.expect("close");
            }
        }
    }

    /// Runs `confab admin <command…>` on this server's store (its data directory and flags),
    /// as an operator would beside it; what it prints.
    #[allow(dead_code)] // not every test binary uses it
    pub async fn admin(&self, command: &[&str]) -> String {
        let out = tokio::time::timeout(
            WAIT,
            Command::new(env!("CARGO_BIN_EXE_confab"))
                .arg("admin")
                .args(command)
                .arg("--data-dir")
                .arg(self.dir.join("data"))
                .args(&self.args)
                .env("CONFAB_LOG", "warn")
                .output(),
        )
        .await
        .expect("confab admin finished in time")
        .expect("run confab admin");
        assert!(
            out.status.success(),
            "confab admin {command:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// SIGKILL: no chance to flush anything.
    pub async fn kill9(&mut self) {
        self.child.start_kill().expect("kill");
        tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("died in time")
            .expect("wait");
    }

    /// The server process's resident memory, from `/proc`.
    pub fn rss_kib(&self) -> u64 {
        let pid = self.child.id().expect("running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    /// SIGTERM and wait for a clean exit; returns the exit status.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().expect("running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("exited in time")
            .expect("wait")
    }

    /// A new process on the same data directory and flags.
    pub async fn restart(mut self) -> Server {
        if self.child.id().is_some() {
            self.terminate().await;
        }
        let mut next = Self::spawn(&self.dir, self.args.clone(), true).await;
        next._tmp = self._tmp.take();
        next._db = self._db.take();
        next
    }

    /// The `host:port` it listens on.
    #[allow(dead_code)] // for the fleet tests, which share this harness
    pub fn addr(&self) -> String {
        self.root().trim_start_matches("http://").to_owned()
    }

    /// A new process on the same port, data directory and flags (a gateway's `chat_url`
    /// keeps pointing at it).
    #[allow(dead_code)] // for the fleet tests, which share this harness
    pub async fn restart_in_place(self) -> Server {
        self.restart_in_place_until(true).await
    }

    /// As `restart_in_place`, returning once it listens, ready or not (what it depends on may
    /// be down).
    #[allow(dead_code)] // for the fleet tests, which share this harness
    pub async fn restart_in_place_listening(self) -> Server {
        self.restart_in_place_until(false).await
    }

    async fn restart_in_place_until(mut self, ready: bool) -> Server {
        if self.child.id().is_some() {
            self.terminate().await;
        }
        let mut args = self.args.clone();
        if !args.iter().any(|a| a == "--listen") {
            args.extend(["--listen".to_owned(), self.addr()]);
        }
        let mut next = Self::spawn(&self.dir, args, ready).await;
        next._tmp = self._tmp.take();
        next._db = self._db.take();
        next
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        token: Option<&str>,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = tokio::time::timeout(WAIT, req.send())
            .await
            .expect("answered in time")
            .expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        self.request(reqwest::Method::POST, Some(token), path, Some(body))
            .await
    }

    pub async fn put_json(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        self.request(reqwest::Method::PUT, Some(token), path, Some(body))
            .await
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        self.request(reqwest::Method::PATCH, Some(token), path, Some(body))
            .await
    }

    pub async fn put(&self, token: &str, path: &str) -> (u16, Value) {
        self.request(reqwest::Method::PUT, Some(token), path, None)
            .await
    }

    pub async fn delete(&self, token: &str, path: &str) -> (u16, Value) {
        self.request(reqwest::Method::DELETE, Some(token), path, None)
            .await
    }

    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        self.request(reqwest::Method::GET, Some(token), path, None)
            .await
    }

    pub async fn register(&self, username: &str) -> User {
        let (status, body) = self
            .request(
                reqwest::Method::POST,
                None,
                "/auth/register",
                Some(json!({"username": username, "password": "correct horse"})),
            )
            .await;
        assert_eq!(status, 201, "register {username}: {body}");
        User {
            id: s(&body["user"]["id"]),
            token: s(&body["token"]),
        }
    }

    /// A workspace owned by `owner` with `members` added; returns (workspace_id, general_id).
    pub async fn workspace(&self, owner: &User, members: &[&User]) -> (String, String) {
        let (status, body) = self
            .post(&owner.token, "/workspaces", json!({"name": "Acme"}))
            .await;
        assert_eq!(status, 201, "{body}");
        let ws = s(&body["workspace"]["id"]);
        // As people join a workspace: invited, and accepting (a stranger cannot be added
        // directly).
        if !members.is_empty() {
            let (status, invite) = self
                .post(
                    &owner.token,
                    &format!("/workspaces/{ws}/invites"),
                    json!({"max_uses": members.len()}),
                )
                .await;
            assert_eq!(status, 201, "{invite}");
            let code = s(&invite["invite"]["code"]);
            for m in members {
                let (status, body) = self
                    .post(&m.token, &format!("/invites/{code}/accept"), json!({}))
                    .await;
                assert!(status == 200 || status == 201, "{status} {body}");
            }
        }
        (ws, s(&body["workspace"]["general_channel_id"]))
    }

    pub async fn channel(
        &self,
        creator: &User,
        ws: &str,
        name: &str,
        private: bool,
        members: &[&User],
    ) -> String {
        let (status, body) = self
            .post(
                &creator.token,
                &format!("/workspaces/{ws}/channels"),
                json!({"name": name, "private": private}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        let id = s(&body["channel"]["id"]);
        for m in members {
            let (status, body) = self
                .post(
                    &creator.token,
                    &format!("/channels/{id}/members"),
                    json!({"user_id": m.id}),
                )
                .await;
            assert_eq!(status, 201, "{body}");
        }
        id
    }

    pub async fn send(&self, user: &User, channel: &str, client_msg_id: &str, body: &str) -> Value {
        let (status, resp) = self
            .post(
                &user.token,
                &format!("/channels/{channel}/messages"),
                json!({"client_msg_id": client_msg_id, "body": body}),
            )
            .await;
        assert_eq!(status, 201, "{resp}");
        resp["message"].clone()
    }

    /// Every message of the changes feed after `cursor`, paging with `limit`; and the final
    /// cursor.
    pub async fn catch_up(
        &self,
        user: &User,
        channel: &str,
        mut cursor: i64,
        limit: u32,
    ) -> (Vec<Value>, i64) {
        let mut all = Vec::new();
        loop {
            let (status, page) = self
                .get(
                    &user.token,
                    &format!("/channels/{channel}/messages?since={cursor}&limit={limit}"),
                )
                .await;
            assert_eq!(status, 200, "{page}");
            all.extend(
                page["messages"]
                    .as_array()
                    .expect("messages")
                    .iter()
                    .cloned(),
            );
            cursor = page["next_cursor"].as_i64().expect("next_cursor");
            if !page["has_more"].as_bool().expect("has_more") {
                return (all, cursor);
            }
        }
    }

    pub async fn connect(&self, user: &User) -> Ws {
        Ws::connect(&self.ws_base, Some(&user.token), &[])
            .await
            .expect("websocket connects")
    }

    /// Sends a marker message and returns every frame `ws` receives up to and including its
    /// event: proof of what did, or did not, arrive before it.
    pub async fn frames_until_marker(
        &self,
        ws: &mut Ws,
        sender: &User,
        channel: &str,
        marker: &str,
    ) -> Vec<Value> {
        self.send(sender, channel, marker, marker).await;
        ws.frames_until(marker).await
    }

    pub async fn metrics(&self) -> String {
        let resp = self
            .http
            .get(format!("{}/metrics", self.root()))
            .send()
            .await
            .expect("metrics");
        resp.text().await.expect("metrics body")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failing test shows what the server logged.
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- server log (last 40 lines) ---");
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub token: String,
}

pub fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
        .to_owned()
}

/// A WebSocket client that has read its `hello`.
pub struct Ws {
    pub inner: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub hello: Value,
}

/// How a socket ended, as seen by the client.
#[derive(Debug, PartialEq)]
pub enum Ended {
    Close(Option<u16>),
    Dropped,
}

impl Ws {
    pub async fn connect(
        url: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Result<Ws, tungstenite::Error> {
        let mut request = url.into_client_request()?;
        if let Some(token) = token {
            request.headers_mut().insert(
                "authorization",
                format!("Bearer {token}").parse().expect("header"),
            );
        }
        for (k, v) in headers {
            let name: tungstenite::http::HeaderName = k.parse().expect("header name");
            request
                .headers_mut()
                .insert(name, v.parse().expect("header"));
        }
        let (inner, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
            .await
            .expect("handshake in time")?;
        let mut ws = Ws {
            inner,
            hello: Value::Null,
        };
        ws.hello = ws.next().await;
        assert_eq!(
            ws.hello["type"], "hello",
            "first frame is hello: {}",
            ws.hello
        );
        Ok(ws)
    }

    pub async fn send_json(&mut self, v: Value) {
        self.inner
            .send(Message::Text(v.to_string().into()))
            .await
            .expect("ws send");
    }

    pub async fn send_message(&mut self, channel: &str, client_msg_id: &str, body: &str) {
        self.send_json(json!({"type": "send", "channel_id": channel, "client_msg_id": client_msg_id, "body": body})).await;
    }

    /// The next JSON frame (pings are answered by the client library underneath).
    pub async fn next(&mut self) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.inner.next())
                .await
                .expect("a frame in time")
                .expect("socket open")
                .expect("frame");
            if let Message::Text(t) = msg {
                return serde_json::from_str(t.as_str()).expect("json frame");
            }
        }
    }

    /// The next frame of the given type, skipping others.
    /// Every frame up to and including the event of the message whose body is `marker`.
    pub async fn frames_until(&mut self, marker: &str) -> Vec<Value> {
        let mut frames = Vec::new();
        loop {
            let frame = self.next().await;
            let done = frame["type"] == "event" && frame["message"]["body"] == marker;
            frames.push(frame);
            if done {
                return frames;
            }
        }
    }

    pub async fn next_of(&mut self, ty: &str) -> Value {
        loop {
            let v = self.next().await;
            if v["type"] == ty {
                return v;
            }
        }
    }

    /// The next `event` frame of `channel` (skipping everything else).
    pub async fn next_event_in(&mut self, channel: &str) -> Value {
        loop {
            let v = self.next_of("event").await;
            if v["channel_id"] == channel {
                return v;
            }
        }
    }

    /// Reads until the server ends the socket, returning how it ended and the frames before.
    pub async fn until_closed(&mut self, within: Duration) -> (Ended, Vec<Value>) {
        let mut frames = Vec::new();
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let next = tokio::time::timeout_at(deadline, self.inner.next())
                .await
                .expect("socket ended in time");
            match next {
                None | Some(Err(_)) => return (Ended::Dropped, frames),
                Some(Ok(Message::Close(frame))) => {
                    return (
                        Ended::Close(frame.map(|f: CloseFrame| u16::from(f.code))),
                        frames,
                    );
                }
                Some(Ok(Message::Text(t))) => {
                    frames.push(serde_json::from_str(t.as_str()).unwrap_or(Value::Null))
                }
                Some(Ok(_)) => {}
            }
        }
    }
}
