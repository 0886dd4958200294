//! The reconnect storm (SPEC §6): N clients, each in C channels of a workspace's pool, all on
//! one gateway, lose it (`kill -9`) while a writer sends; every client reconnects (to the
//! other gateway, with jittered backoff), waits for `hello` and catches up, either with
//! `POST /sync` (`sync`) or with each channel's changes feed (`feeds`, today's catch-up).
//! Measured: the kill to the last client current, per-client times, HTTP requests, retries
//! and errors, and that no acknowledged message is missing or doubled.
//!
//! Each mode is one storm on the same deployment and the same clients: the first kills
//! gateway 0 (the clients move to 1), the killed gateway is started again, the next kills
//! gateway 1, and so on. Registering 5,000 users and 100,000 memberships is the slow part
//! (a password hash each), so it is done once.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use confab_protocol::http::{MessageResponse, MessagesResponse, SendMessageRequest};
use confab_protocol::sync::{SyncRequest, SyncResponse};
use confab_protocol::ws::ServerFrame;
use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

use crate::client::{Api, Socket, User, connect};
use crate::report::{Report, percentile};
use crate::server::{Server, Topology, cpu_seconds_of};

#[derive(clap::Args, Debug, Clone)]
pub struct Params {
    /// Clients, each a user with one WebSocket.
    #[arg(long, default_value_t = 5_000)]
    pub clients: usize,
    /// Channels each client is in (besides the workspace's `#general`).
    #[arg(long, default_value_t = 20)]
    pub channels: usize,
    /// Channels in the workspace; each client is in `--channels` of them, picked at random
    /// (so each of 200 has about 500 members). Equal to `--channels`: all in the same ones.
    #[arg(long, default_value_t = 200)]
    pub pool: usize,
    /// Messages the writer sends per storm, round-robin over the pool.
    #[arg(long, default_value_t = 500)]
    pub messages: usize,
    /// The writer's rate (messages per second); the gateway is killed once a tenth of them
    /// are acknowledged, so most are sent during the outage.
    #[arg(long, default_value_t = 2_000)]
    pub rate: usize,
    /// How each client catches up; one storm per mode, in this order.
    #[arg(
        long = "catch-up",
        value_enum,
        value_delimiter = ',',
        default_value = "sync,feeds"
    )]
    pub catch_up: Vec<Mode>,
    /// HTTP requests in flight at once, for the whole bench process (setup and catch-up).
    /// Bounds the bench's connections: 5,000 sockets plus this many stay under its 20,000
    /// open files, and a real fleet's clients would not all be answered at once either.
    #[arg(long, default_value_t = 256)]
    pub concurrency: usize,
    /// A client's first reconnect waits a random time up to this, as real clients spread a
    /// storm; later attempts back off exponentially (100 ms doubling to 2 s, jittered).
    #[arg(long, default_value_t = 500)]
    pub jitter_ms: u64,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One `POST /sync` per client, repeated while `complete` is false.
    Sync,
    /// `GET /channels/{id}/messages?since=…&limit=200` per channel until `has_more` is false.
    Feeds,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Sync => "sync",
            Mode::Feeds => "feeds",
        }
    }
}

/// The storm needs a gateway to kill and another to reconnect to.
pub fn check(topology: &Topology) -> anyhow::Result<()> {
    if topology.gateways < 2 || topology.redis.is_none() {
        bail!(
            "storm kills the clients' gateway, so it needs a separate chat service and at least \
             two gateways: --gateways 2 --redis redis://127.0.0.1:6379"
        );
    }
    Ok(())
}

/// The server flags the storm adds to the bench's own: room for every socket on one gateway
/// (the bench's 19,000 cap already holds 5,000) and a send queue that a burst of catch-up
/// never fills.
pub fn server_flags() -> Vec<String> {
    vec!["--ws-send-queue".into(), "4096".into()]
}

/// A small deterministic generator (splitmix64): per client, so 5,000 clients' jitter is not
/// drawn from one clock.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// In [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// HTTP with a process-wide bound on requests in flight, retrying what the server says to
/// retry (503 `unavailable`, 429, with their `Retry-After`) and lost connections.
#[derive(Clone)]
struct Http {
    client: reqwest::Client,
    base: String,
    permits: Arc<Semaphore>,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    requests: usize,
    /// 503 or 429, waited out as `Retry-After` says.
    retries: usize,
    /// Failed connections, unreadable answers, refusals: every one is retried too.
    errors: usize,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.requests += o.requests;
        self.retries += o.retries;
        self.errors += o.errors;
    }
}

const ATTEMPTS: usize = 30;

impl Http {
    fn new(base: String, concurrency: usize) -> anyhow::Result<Http> {
        Ok(Http {
            client: reqwest::Client::builder()
                // Never more connections than requests in flight.
                .pool_max_idle_per_host(concurrency)
                .timeout(Duration::from_secs(30))
                .build()?,
            base,
            permits: Arc::new(Semaphore::new(concurrency)),
        })
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        request: impl Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
        rng: &mut Rng,
        counts: &mut Counts,
    ) -> anyhow::Result<T> {
        let mut backoff = Duration::from_millis(100);
        let mut last = String::new();
        for _ in 0..ATTEMPTS {
            let wait = {
                let _permit = self.permits.acquire().await?;
                counts.requests += 1;
                match request(&self.client, &self.base)
                    .bearer_auth(token)
                    .send()
                    .await
                {
                    Ok(resp) if resp.status().is_success() => match resp.json::<T>().await {
                        Ok(v) => return Ok(v),
                        Err(e) => {
                            counts.errors += 1;
                            last = format!("reading the answer: {e}");
                            backoff
                        }
                    },
                    Ok(resp) if resp.status() == 503 || resp.status() == 429 => {
                        counts.retries += 1;
                        let after = resp
                            .headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.parse::<u64>().ok())
                            .map(Duration::from_secs);
                        last = format!("{}", resp.status());
                        after.unwrap_or(backoff)
                    }
                    Ok(resp) => {
                        counts.errors += 1;
                        let status = resp.status();
                        last = format!("{status} {}", resp.text().await.unwrap_or_default());
                        if status.is_client_error() {
                            bail!("{last}");
                        }
                        backoff
                    }
                    Err(e) => {
                        counts.errors += 1;
                        last = format!("{e}");
                        backoff
                    }
                }
            };
            // Waiting holds no permit: others go ahead.
            tokio::time::sleep(wait.mul_f64(1.0 + 0.5 * rng.unit())).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
        bail!("gave up after {ATTEMPTS} attempts: {last}")
    }
}

/// What a socket's reader hands its client, stamped when read.
enum Frame {
    Text(Instant, String),
    Closed(Instant),
}

/// Reads `ws` for as long as it lives (answering pings), forwarding text frames; the client
/// takes them when it is ready, which is how it buffers events during catch-up.
fn spawn_reader(mut ws: Socket) -> mpsc::UnboundedReceiver<Frame> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Text(t) = msg
                && tx.send(Frame::Text(Instant::now(), t.to_string())).is_err()
            {
                return;
            }
        }
        let _ = tx.send(Frame::Closed(Instant::now()));
    });
    rx
}

/// What a storm's clients must reach: each channel's last sequence number once the writer
/// stopped, and the messages it had acknowledged.
struct Targets {
    last_seq: HashMap<String, i64>,
    acked: HashMap<String, Vec<String>>,
}

/// One storm as the clients see it.
struct Storm {
    mode: Mode,
    gateways: Vec<String>,
    targets: watch::Receiver<Option<Arc<Targets>>>,
    deadline: Instant,
    jitter: Duration,
}

/// One client through one storm.
#[derive(Default)]
struct ClientLog {
    lost: Option<Instant>,
    hello: Option<Instant>,
    caught_up: Option<Instant>,
    current: Option<Instant>,
    http: Counts,
    connect_failures: usize,
    /// Acknowledged messages in the client's channels it never received.
    missing: usize,
    /// A message twice in one round's catch-up answers, or an event twice on one socket.
    doubled: usize,
    /// A live event that skipped sequence numbers on its socket, or past the cursor.
    holes: usize,
    caught_up_messages: usize,
    /// Messages received live and in catch-up both (allowed: the `seq` rule drops one).
    overlap: usize,
    error: Option<String>,
}

struct Client {
    k: usize,
    user: User,
    channels: Vec<String>,
    cursors: HashMap<String, i64>,
    frames: mpsc::UnboundedReceiver<Frame>,
    at: usize,
    http: Http,
    rng: Rng,
}

/// A storm's per-client bookkeeping besides the log.
#[derive(Default)]
struct Seen {
    /// Each channel's cursor as it advanced this storm.
    history: HashMap<String, Vec<(i64, Instant)>>,
    live: HashSet<String>,
    caught_up: HashSet<String>,
    /// The last `seq` per channel on the current socket.
    socket_last: HashMap<String, i64>,
    /// Whether the cursors are from a completed catch-up, so a live event past them is a hole.
    settled: bool,
}

impl Client {
    fn advance(&mut self, seen: &mut Seen, channel: &str, to: i64, at: Instant) {
        let cursor = self.cursors.entry(channel.to_owned()).or_insert(0);
        if to > *cursor {
            *cursor = to;
            seen.history
                .entry(channel.to_owned())
                .or_default()
                .push((to, at));
        }
    }

    /// A live frame, by the protocol's rule: an event at or below the cursor is already
    /// known; one above it moves the cursor.
    fn live(&mut self, text: &str, at: Instant, seen: &mut Seen, log: &mut ClientLog) {
        let Ok(ServerFrame::Event(ev)) = serde_json::from_str::<ServerFrame>(text) else {
            return;
        };
        match seen.socket_last.get(&ev.channel_id) {
            Some(&last) if ev.seq <= last => log.doubled += 1,
            Some(&last) if ev.seq > last + 1 => log.holes += 1,
            _ => {}
        }
        seen.socket_last.insert(ev.channel_id.clone(), ev.seq);
        let cursor = self.cursors.get(&ev.channel_id).copied().unwrap_or(0);
        if seen.settled && ev.seq > cursor + 1 {
            log.holes += 1;
        }
        if ev.kind == "message.created"
            && let Some(m) = &ev.message
            && !seen.live.insert(m.id.clone())
        {
            log.doubled += 1;
        }
        self.advance(seen, &ev.channel_id, ev.seq, at);
    }

    fn caught_up_message(&mut self, id: &str, seen: &mut Seen, log: &mut ClientLog) {
        log.caught_up_messages += 1;
        if !seen.caught_up.insert(id.to_owned()) {
            log.doubled += 1;
        }
    }

    async fn sync(&mut self, seen: &mut Seen, log: &mut ClientLog) -> anyhow::Result<()> {
        loop {
            let body = SyncRequest {
                cursors: self.cursors.clone(),
                limit: Some(50),
            };
            let answer: SyncResponse = self
                .http
                .call(
                    &self.user.token,
                    |c, base| c.post(format!("{base}/sync")).json(&body),
                    &mut self.rng,
                    &mut log.http,
                )
                .await?;
            let at = Instant::now();
            if !answer.removed.is_empty() {
                bail!("sync says {} channels were removed", answer.removed.len());
            }
            for ch in &answer.channels {
                for m in &ch.messages {
                    self.caught_up_message(&m.id, seen, log);
                }
                self.advance(seen, &ch.channel.id, ch.next_cursor, at);
            }
            if answer.complete {
                return Ok(());
            }
        }
    }

    async fn feeds(&mut self, seen: &mut Seen, log: &mut ClientLog) -> anyhow::Result<()> {
        for channel in self.channels.clone() {
            loop {
                let since = self.cursors.get(&channel).copied().unwrap_or(0);
                let page: MessagesResponse = self
                    .http
                    .clone()
                    .call(
                        &self.user.token,
                        |c, base| {
                            c.get(format!(
                                "{base}/channels/{channel}/messages?since={since}&limit=200"
                            ))
                        },
                        &mut self.rng,
                        &mut log.http,
                    )
                    .await?;
                let at = Instant::now();
                for m in &page.messages {
                    self.caught_up_message(&m.id, seen, log);
                }
                let next = page.next_cursor.context("the feed gave no next_cursor")?;
                self.advance(seen, &channel, next, at);
                if !page.has_more {
                    break;
                }
            }
        }
        Ok(())
    }

    /// Connects to the gateway after the one it was on, then the next, with jittered
    /// exponential backoff, until one says `hello`.
    async fn reconnect(&mut self, storm: &Storm, log: &mut ClientLog) -> anyhow::Result<()> {
        tokio::time::sleep(storm.jitter.mul_f64(self.rng.unit())).await;
        let mut backoff = Duration::from_millis(100);
        loop {
            self.at = (self.at + 1) % storm.gateways.len();
            let addr = &storm.gateways[self.at];
            let url = format!("ws://{addr}/api/v1/ws");
            match tokio::time::timeout(
                Duration::from_secs(10),
                connect(&url, addr, &self.user.token, self.k),
            )
            .await
            {
                Ok(Ok(ws)) => {
                    log.hello = Some(Instant::now());
                    self.frames = spawn_reader(ws);
                    return Ok(());
                }
                _ => log.connect_failures += 1,
            }
            if Instant::now() > storm.deadline {
                bail!("no gateway took the socket");
            }
            tokio::time::sleep(backoff.mul_f64(0.5 + self.rng.unit())).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    /// Whether every cursor is at its target, and if so since when: the latest instant a
    /// channel's cursor first reached its target, and not before the catch-up ended.
    fn current_since(&self, seen: &Seen, targets: &Targets, floor: Instant) -> Option<Instant> {
        let mut since = floor;
        for channel in &self.channels {
            let target = targets.last_seq.get(channel).copied().unwrap_or(0);
            if self.cursors.get(channel).copied().unwrap_or(0) < target {
                return None;
            }
            if let Some(&(_, at)) = seen
                .history
                .get(channel)
                .and_then(|h| h.iter().find(|(c, _)| *c >= target))
            {
                since = since.max(at);
            }
        }
        Some(since)
    }

    async fn storm(&mut self, mut storm: Storm) -> ClientLog {
        let mut log = ClientLog::default();
        let mut seen = Seen {
            settled: true,
            ..Seen::default()
        };
        if let Err(e) = self.storm_inner(&mut storm, &mut seen, &mut log).await {
            log.error = Some(format!("client {}: {e:#}", self.k));
        }
        // Against what the writer had acknowledged in this client's channels.
        if let Some(targets) = storm.targets.borrow().clone() {
            for channel in &self.channels {
                for id in targets.acked.get(channel).into_iter().flatten() {
                    let (live, caught) = (seen.live.contains(id), seen.caught_up.contains(id));
                    if !live && !caught {
                        log.missing += 1;
                    }
                    if live && caught {
                        log.overlap += 1;
                    }
                }
            }
        }
        log
    }

    async fn storm_inner(
        &mut self,
        storm: &mut Storm,
        seen: &mut Seen,
        log: &mut ClientLog,
    ) -> anyhow::Result<()> {
        // Live on the doomed socket until it dies.
        loop {
            match self.frames.recv().await {
                Some(Frame::Text(at, text)) => self.live(&text, at, seen, log),
                Some(Frame::Closed(at)) => {
                    log.lost = Some(at);
                    break;
                }
                None => bail!("the socket's reader is gone"),
            }
        }
        seen.settled = false;
        seen.socket_last.clear();
        self.reconnect(storm, log).await?;
        // Events that arrive meanwhile wait in `frames`, to be applied after, as the
        // protocol says: the answer covers everything up to `hello`.
        match storm.mode {
            Mode::Sync => self.sync(seen, log).await?,
            Mode::Feeds => self.feeds(seen, log).await?,
        }
        let caught_up = Instant::now();
        log.caught_up = Some(caught_up);
        seen.settled = true;
        loop {
            // Everything already buffered first.
            while let Ok(frame) = self.frames.try_recv() {
                match frame {
                    Frame::Text(_, text) => self.live(&text, Instant::now(), seen, log),
                    Frame::Closed(_) => bail!("the new socket closed"),
                }
            }
            let targets = storm.targets.borrow().clone();
            if let Some(targets) = targets
                && let Some(at) = self.current_since(seen, &targets, caught_up)
            {
                log.current = Some(at);
                return Ok(());
            }
            tokio::select! {
                frame = self.frames.recv() => match frame {
                    Some(Frame::Text(_, text)) => self.live(&text, Instant::now(), seen, log),
                    _ => bail!("the new socket closed"),
                },
                changed = storm.targets.changed() => changed?,
                () = tokio::time::sleep_until(storm.deadline.into()) => bail!("not current in time"),
            }
        }
    }
}

/// `n` of `pool` channel indexes, distinct, for client `k`.
fn pick(k: usize, n: usize, pool: usize) -> Vec<usize> {
    if n >= pool {
        return (0..pool).collect();
    }
    let mut rng = Rng(k as u64 ^ 0x5EED);
    let mut chosen = Vec::with_capacity(n);
    while chosen.len() < n {
        let c = (rng.next() % pool as u64) as usize;
        if !chosen.contains(&c) {
            chosen.push(c);
        }
    }
    chosen
}

/// Each channel's last sequence number, as one `POST /sync` with no cursors says.
async fn last_seqs(http: &Http, user: &User) -> anyhow::Result<HashMap<String, i64>> {
    let body = SyncRequest::default();
    let answer: SyncResponse = http
        .call(
            &user.token,
            |c, base| c.post(format!("{base}/sync")).json(&body),
            &mut Rng(1),
            &mut Counts::default(),
        )
        .await?;
    Ok(answer
        .channels
        .into_iter()
        .map(|c| (c.channel.id, c.next_cursor))
        .collect())
}

/// Sends `messages` at `rate` over `channels` as `owner`, 32 at a time, each retried with
/// its `client_msg_id` until acknowledged; `tenth` fires once a tenth are. Returns
/// (channel, message ID) per acknowledged send and when the last was.
async fn write(
    http: Http,
    owner: User,
    channels: Arc<Vec<String>>,
    round: usize,
    messages: usize,
    rate: usize,
    tenth: tokio::sync::oneshot::Sender<()>,
) -> anyhow::Result<(Vec<(String, String)>, Instant)> {
    let next = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(AtomicUsize::new(0));
    let tenth = Arc::new(std::sync::Mutex::new(Some(tenth)));
    let start = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
    let mut tasks = Vec::new();
    for w in 0..32 {
        let (http, owner, channels, next, acked, tenth) = (
            http.clone(),
            owner.clone(),
            channels.clone(),
            next.clone(),
            acked.clone(),
            tenth.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(w as u64 + 77);
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= messages {
                    return anyhow::Ok(out);
                }
                tokio::time::sleep_until((start + interval * i as u32).into()).await;
                let channel = &channels[i % channels.len()];
                let body = SendMessageRequest {
                    client_msg_id: format!("storm{round}-{i}"),
                    body: format!("storm {round} message {i}"),
                    thread_root_id: None,
                    file_ids: Vec::new(),
                };
                let sent: MessageResponse = http
                    .call(
                        &owner.token,
                        |c, base| {
                            c.post(format!("{base}/channels/{channel}/messages"))
                                .json(&body)
                        },
                        &mut rng,
                        &mut Counts::default(),
                    )
                    .await?;
                out.push((channel.clone(), sent.message.id));
                if acked.fetch_add(1, Ordering::Relaxed) + 1 >= messages.div_ceil(10)
                    && let Some(tx) = tenth.lock().ok().and_then(|mut t| t.take())
                {
                    let _ = tx.send(());
                }
            }
        }));
    }
    let mut all = Vec::with_capacity(messages);
    for t in tasks {
        all.extend(t.await??);
    }
    Ok((all, Instant::now()))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub async fn storm(server: &mut Server, params: Params) -> anyhow::Result<Report> {
    anyhow::ensure!(
        params.channels >= 1 && params.channels <= params.pool,
        "--channels must be 1 to --pool"
    );
    anyhow::ensure!(params.clients >= 1 && params.messages >= 1);
    let setup_started = Instant::now();
    let api = Api::new(server.http());
    let http = Http::new(server.http(), params.concurrency)?;
    // The writer has connections of its own: behind the clients' catch-up requests in one
    // queue its sends would wait for the storm to end (and so would everyone's target).
    let writer_http = Http::new(server.http(), 32)?;
    // User 0 owns the workspace and the channels and is the writer; the others are clients.
    let (mut users, ws, general) = api.team(params.clients + 1).await?;
    let owner = users.remove(0);
    let mut pool = Vec::with_capacity(params.pool);
    for c in 0..params.pool {
        pool.push(api.channel(&owner, &ws, &format!("storm{c}"), &[]).await?);
    }
    let pool = Arc::new(pool);
    let memberships: Vec<Vec<String>> = (0..params.clients)
        .map(|k| {
            let mut chosen: Vec<String> = pick(k, params.channels, params.pool)
                .into_iter()
                .map(|c| pool[c].clone())
                .collect();
            chosen.push(general.clone());
            chosen
        })
        .collect();
    // Each client joins its channels itself, as people do; a write each.
    let joins: Vec<(usize, String)> = memberships
        .iter()
        .enumerate()
        .flat_map(|(k, chs)| {
            chs.iter()
                .filter(|c| **c != general)
                .map(move |c| (k, c.clone()))
        })
        .collect();
    futures_util::stream::iter(joins)
        .map(|(k, channel)| {
            let (http, token) = (http.clone(), users[k].token.clone());
            async move {
                http.call::<serde_json::Value>(
                    &token,
                    |c, base| c.post(format!("{base}/channels/{channel}/join")),
                    &mut Rng(k as u64),
                    &mut Counts::default(),
                )
                .await
            }
        })
        .buffer_unordered(params.concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()?;

    // Every client on gateway 0, its cursors from a first sync (what a page load does).
    let gateways = server.gateway_addrs();
    let url = format!("ws://{}/api/v1/ws", gateways[0]);
    let mut clients = Vec::with_capacity(params.clients);
    for (batch_start, batch) in users.chunks(200).enumerate().map(|(b, u)| (b * 200, u)) {
        let handles: Vec<_> = batch
            .iter()
            .enumerate()
            .map(|(i, user)| {
                let (url, addr, token) = (url.clone(), gateways[0].clone(), user.token.clone());
                let k = batch_start + i;
                tokio::spawn(async move { connect(&url, &addr, &token, k).await })
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            let k = batch_start + i;
            clients.push(Client {
                k,
                user: batch[i].clone(),
                channels: memberships[k].clone(),
                cursors: HashMap::new(),
                frames: spawn_reader(h.await??),
                at: 0,
                http: http.clone(),
                rng: Rng(k as u64 * 7919 + 1),
            });
        }
    }
    let first = futures_util::future::join_all(clients.iter_mut().map(|c| async move {
        let (mut seen, mut log) = (Seen::default(), ClientLog::default());
        c.sync(&mut seen, &mut log).await?;
        let mut listed: Vec<&String> = c.cursors.keys().collect();
        listed.sort();
        let mut expected: Vec<&String> = c.channels.iter().collect();
        expected.sort();
        anyhow::ensure!(listed == expected, "client {} is not in its channels", c.k);
        anyhow::Ok(())
    }))
    .await;
    first.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let setup = setup_started.elapsed();

    // Clients live in tasks of their own from now on, one storm per message.
    type Job = (Storm, tokio::sync::oneshot::Sender<ClientLog>);
    let mut inboxes: Vec<mpsc::UnboundedSender<Job>> = Vec::new();
    for mut client in clients {
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        inboxes.push(tx);
        tokio::spawn(async move {
            while let Some((storm, reply)) = rx.recv().await {
                let _ = reply.send(client.storm(storm).await);
            }
        });
    }

    let mut report = Report::new(
        "storm",
        json!({
            "clients": params.clients, "channels_per_client": params.channels,
            "pool": params.pool, "messages": params.messages, "rate": params.rate,
            "concurrency": params.concurrency, "jitter_ms": params.jitter_ms,
            "gateways": server.topology.gateways, "store": server.store_name(),
            "catch_up": params.catch_up.iter().map(|m| m.name()).collect::<Vec<_>>(),
        }),
    );
    report.add(
        "setup (users, joins, sockets)",
        setup.as_secs_f64(),
        "s",
        None,
    );
    let mut on = 0;
    for (round, &mode) in params.catch_up.iter().enumerate() {
        let (targets_tx, targets_rx) = watch::channel(None);
        let gateways = server.gateway_addrs();
        let deadline = Instant::now() + Duration::from_secs(180);
        let mut replies = Vec::with_capacity(inboxes.len());
        for inbox in &inboxes {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let storm = Storm {
                mode,
                gateways: gateways.clone(),
                targets: targets_rx.clone(),
                deadline,
                jitter: Duration::from_millis(params.jitter_ms),
            };
            inbox
                .send((storm, tx))
                .ok()
                .context("a client task ended")?;
            replies.push(rx);
        }
        let (tenth_tx, tenth_rx) = tokio::sync::oneshot::channel();
        let writer = tokio::spawn(write(
            writer_http.clone(),
            owner.clone(),
            pool.clone(),
            round,
            params.messages,
            params.rate,
            tenth_tx,
        ));
        let _ = tenth_rx.await;
        let cpu_before = server.cpu_seconds_without_gateway(on)?;
        let bench_cpu_before = cpu_seconds_of("/proc/self/stat")?;
        let killed = Instant::now();
        server.kill_gateway(on).await?;
        let (sent, writer_done) = writer.await??;
        let mut acked: HashMap<String, Vec<String>> = HashMap::new();
        for (channel, id) in sent {
            acked.entry(channel).or_default().push(id);
        }
        let last_seq = last_seqs(&http, &owner).await?;
        let _ = targets_tx.send(Some(Arc::new(Targets { last_seq, acked })));
        let mut logs = Vec::with_capacity(replies.len());
        for r in replies {
            logs.push(r.await.context("a client task ended")?);
        }
        let cpu = server.cpu_seconds_without_gateway(on)? - cpu_before;
        let bench_cpu = cpu_seconds_of("/proc/self/stat")? - bench_cpu_before;
        record(
            &mut report,
            mode,
            &logs,
            killed,
            writer_done,
            params.messages,
            cpu,
            bench_cpu,
        );
        if let Some(e) = logs.iter().find_map(|l| l.error.as_ref()) {
            eprintln!(
                "storm {}: {} clients failed, e.g. {e}",
                mode.name(),
                logs.iter().filter(|l| l.error.is_some()).count()
            );
        }
        // The killed gateway comes back, for the next storm to move the clients onto.
        server.restart_gateway(on).await?;
        on = (on + 1) % server.gateway_addrs().len();
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
fn record(
    r: &mut Report,
    mode: Mode,
    logs: &[ClientLog],
    killed: Instant,
    writer_done: Instant,
    messages: usize,
    cpu: f64,
    bench_cpu: f64,
) {
    let m = mode.name();
    let since = |t: Option<Instant>| t.map(|t| t.saturating_duration_since(killed));
    // Over the clients that became current; `clients current` says whether that is all.
    let current: Vec<Duration> = logs.iter().filter_map(|l| since(l.current)).collect();
    let target = match mode {
        Mode::Sync => Some("≤ 10,000 ms"),
        Mode::Feeds => None,
    };
    r.add(
        format!("{m}: kill → last client current"),
        current.iter().max().map_or(0.0, |d| ms(*d)),
        "ms",
        target,
    );
    r.add(
        format!("{m}: clients current"),
        current.len() as f64,
        "",
        None,
    );
    r.add(
        format!("{m}: writer's last ack after kill"),
        ms(writer_done.saturating_duration_since(killed)),
        "ms",
        None,
    );
    let mut hello: Vec<Duration> = logs.iter().filter_map(|l| since(l.hello)).collect();
    hello.sort_unstable();
    let mut to_current: Vec<Duration> = logs
        .iter()
        .filter_map(|l| Some(l.current?.saturating_duration_since(l.hello?)))
        .collect();
    to_current.sort_unstable();
    let mut to_caught_up: Vec<Duration> = logs
        .iter()
        .filter_map(|l| Some(l.caught_up?.saturating_duration_since(l.hello?)))
        .collect();
    to_caught_up.sort_unstable();
    let mut lost_to_current: Vec<Duration> = logs
        .iter()
        .filter_map(|l| Some(l.current?.saturating_duration_since(l.lost?)))
        .collect();
    lost_to_current.sort_unstable();
    for (what, samples) in [
        ("kill → hello", &hello),
        ("hello → caught up", &to_caught_up),
        ("hello → current", &to_current),
        ("socket lost → current", &lost_to_current),
    ] {
        for (q, name) in [(0.5, "p50"), (0.99, "p99")] {
            r.add(
                format!("{m}: {what} {name}"),
                ms(percentile(samples, q)),
                "ms",
                None,
            );
        }
    }
    let mut http = Counts::default();
    for l in logs {
        http.add(l.http);
    }
    let sum = |f: fn(&ClientLog) -> usize| logs.iter().map(f).sum::<usize>() as f64;
    r.add(
        format!("{m}: catch-up HTTP requests"),
        http.requests as f64,
        "",
        None,
    );
    r.add(
        format!("{m}: HTTP 503/429 retried"),
        http.retries as f64,
        "",
        None,
    );
    r.add(format!("{m}: HTTP errors"), http.errors as f64, "", None);
    r.add(
        format!("{m}: WebSocket connect failures"),
        sum(|l| l.connect_failures),
        "",
        None,
    );
    r.add(
        format!("{m}: clients failed"),
        sum(|l| usize::from(l.error.is_some())),
        "",
        Some("0"),
    );
    r.add(format!("{m}: messages written"), messages as f64, "", None);
    r.add(
        format!("{m}: messages caught up"),
        sum(|l| l.caught_up_messages),
        "",
        None,
    );
    r.add(
        format!("{m}: both live and caught up"),
        sum(|l| l.overlap),
        "",
        None,
    );
    r.add(
        format!("{m}: messages missing"),
        sum(|l| l.missing),
        "",
        Some("0"),
    );
    r.add(
        format!("{m}: messages doubled"),
        sum(|l| l.doubled),
        "",
        Some("0"),
    );
    r.add(
        format!("{m}: live sequence holes"),
        sum(|l| l.holes),
        "",
        Some("0"),
    );
    r.add(format!("{m}: server CPU (survivors)"), cpu, "s", None);
    r.add(format!("{m}: bench CPU"), bench_cpu, "s", None);
}
