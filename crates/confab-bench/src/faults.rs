//! The fault scenario: two chat services and two gateways on a private PostgreSQL and a
//! private Redis, clients sending steadily over WebSockets, and one fault every few seconds:
//! each process in turn killed (`kill -9`) or stopped (`SIGTERM`) and started again,
//! PostgreSQL crashed (`SIGQUIT`) and restarted, Redis killed and restarted. It measures what
//! a client lives through (how long until its next send is acknowledged after each fault, how
//! long a reconnect takes, send→ack over the run) and checks that nothing acknowledged was
//! lost or stored twice.
//!
//! The clients do what a real one should: a send unanswered, refused as unavailable or cut off
//! by a dropped socket is sent again with the same `client_msg_id` (so retries never
//! duplicate); a dropped socket reconnects to either gateway with a jittered backoff.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use confab_testkit::{PrivatePostgres, PrivateRedis, free_port};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;

use crate::client::{Api, Socket, User, connect, str_of};
use crate::report::Report;

#[derive(clap::Args, Debug, Clone)]
pub struct Params {
    /// Clients sending (half on each gateway at first).
    #[arg(long, default_value_t = 40)]
    pub clients: usize,
    /// Faults to inject, one every `--every-ms`, cycling through the kinds.
    #[arg(long, default_value_t = 12)]
    pub faults: usize,
    #[arg(long, default_value_t = 4000)]
    pub every_ms: u64,
    /// Pause between one client's acknowledged send and its next.
    #[arg(long, default_value_t = 100)]
    pub pause_ms: u64,
}

const SECRET: &str = "confab-bench-faults-secret";
/// A send unanswered this long is sent again (same `client_msg_id`).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);

/// The kinds of fault, in the order they are injected.
const KINDS: [&str; 6] = [
    "chat service kill -9",
    "gateway kill -9",
    "PostgreSQL crash",
    "chat service SIGTERM",
    "gateway SIGTERM",
    "Redis kill -9",
];

/// A small random fraction in [0, 1), for jitter.
fn unit_random() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    f64::from(nanos.wrapping_mul(2_654_435_761) % 1_000) / 1_000.0
}

fn signal(pid: u32, sig: &str) {
    let _ = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status();
}

/// A confab process on a fixed port, so that it can be started again in place.
struct Node {
    binary: PathBuf,
    args: Vec<String>,
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Node {
    async fn start(binary: &Path, args: Vec<String>) -> anyhow::Result<Node> {
        let mut node = Node {
            binary: binary.to_owned(),
            args,
            port: free_port()?,
            dir: tempfile::tempdir()?,
            child: None,
        };
        node.spawn().await?;
        Ok(node)
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    async fn spawn(&mut self) -> anyhow::Result<()> {
        let mut command = Command::new(&self.binary);
        command
            .arg("serve")
            .args(["--listen", &self.addr(), "--data-dir"])
            .arg(self.dir.path().join("data"))
            .args(&self.args)
            .env("CONFAB_LOG", "error")
            .stderr(std::process::Stdio::inherit());
        let child = confab_testkit::serve::start(command, true, Duration::from_secs(30))
            .await?
            .child;
        self.child = Some(child);
        Ok(())
    }

    async fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    async fn terminate(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(pid) = child.id() {
                signal(pid, "-TERM");
            }
            let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
            let _ = child.start_kill();
        }
    }
}

/// What one client lived through.
#[derive(Default)]
struct Log {
    /// When each send was acknowledged, and how long after its first attempt.
    acks: Vec<(Instant, Duration)>,
    /// `client_msg_id` → message ID, as acknowledged.
    acked: HashMap<String, String>,
    /// From losing a socket to the next `hello`.
    reconnects: Vec<Duration>,
}

/// The next ack or error for `cmid` on `ws`; `None` when the socket ended.
async fn answer(ws: &mut Socket, cmid: &str) -> Option<Value> {
    while let Some(frame) = ws.next().await {
        match frame {
            Ok(Message::Text(t)) => {
                let Ok(v) = serde_json::from_str::<Value>(t.as_str()) else {
                    continue;
                };
                if (v["type"] == "ack" || v["type"] == "error") && v["client_msg_id"] == cmid {
                    return Some(v);
                }
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
    None
}

async fn client(
    k: usize,
    user: User,
    channel: String,
    gateways: Vec<String>,
    pause: Duration,
    stop: Arc<AtomicBool>,
) -> Log {
    let mut log = Log::default();
    let mut at = k % gateways.len();
    let mut socket: Option<Socket> = None;
    let mut n = 0;
    while !stop.load(Ordering::Acquire) {
        n += 1;
        let cmid = format!("c{k}-{n}");
        let first = Instant::now();
        loop {
            if socket.is_none() {
                let lost = Instant::now();
                let mut backoff = Duration::from_millis(50);
                while socket.is_none() {
                    let url = format!("ws://{}/api/v1/ws", gateways[at]);
                    match tokio::time::timeout(
                        Duration::from_secs(5),
                        connect(&url, &gateways[at], &user.token, k),
                    )
                    .await
                    {
                        Ok(Ok(ws)) => socket = Some(ws),
                        _ => {
                            at = (at + 1) % gateways.len();
                            tokio::time::sleep(backoff.mul_f64(0.5 + unit_random())).await;
                            backoff = (backoff * 2).min(Duration::from_secs(1));
                        }
                    }
                }
                if n > 1 {
                    log.reconnects.push(lost.elapsed());
                }
            }
            let Some(ws) = socket.as_mut() else { continue };
            let frame =
                json!({"type": "send", "channel_id": channel, "client_msg_id": cmid, "body": cmid});
            if ws
                .send(Message::Text(frame.to_string().into()))
                .await
                .is_err()
            {
                socket = None;
                continue;
            }
            match tokio::time::timeout(ATTEMPT_TIMEOUT, answer(ws, &cmid)).await {
                Ok(Some(v)) if v["type"] == "ack" => {
                    log.acks.push((Instant::now(), first.elapsed()));
                    log.acked
                        .insert(cmid.clone(), v["message_id"].as_str().unwrap_or("").into());
                    break;
                }
                // Refused for now (unavailable, rate limited): again shortly.
                Ok(Some(_)) => {
                    tokio::time::sleep(Duration::from_millis(50).mul_f64(1.0 + unit_random()))
                        .await;
                }
                // The socket ended: reconnect (to the other gateway first) and send again.
                Ok(None) => {
                    socket = None;
                    at = (at + 1) % gateways.len();
                }
                // No answer in time: send again on the same socket.
                Err(_) => {}
            }
            if stop.load(Ordering::Acquire) && first.elapsed() > Duration::from_secs(30) {
                break;
            }
        }
        tokio::time::sleep(pause).await;
    }
    log
}

/// Every message of a channel, by paging its changes feed.
async fn stored_messages(api: &Api, user: &User, channel: &str) -> anyhow::Result<Vec<Value>> {
    let mut all = Vec::new();
    let mut cursor = 0;
    loop {
        let page = api
            .get(
                &user.token,
                &format!("/channels/{channel}/messages?since={cursor}&limit=200"),
            )
            .await?;
        all.extend(page["messages"].as_array().cloned().unwrap_or_default());
        cursor = page["next_cursor"].as_i64().context("next_cursor")?;
        if page["has_more"] != true {
            return Ok(all);
        }
    }
}

pub async fn faults(binary: &Path, params: Params) -> anyhow::Result<Report> {
    let mut pg = PrivatePostgres::start()?;
    let mut redis = PrivateRedis::start()?;
    let common = |role: &str| -> Vec<String> {
        [
            "--role",
            role,
            "--redis-url",
            &redis.url(),
            "--redis-prefix",
            "faults",
            "--cluster-secret",
            SECRET,
            "--send-rate-per-sec",
            "0",
            "--auth-rate-per-min",
            "0",
            "--change-rate-per-sec",
            "0",
            "--create-rate-per-min",
            "0",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let mut chat_args = common("chat");
    chat_args.extend(["--database-url".into(), pg.url()]);
    let mut chats = vec![
        Node::start(binary, chat_args.clone()).await?,
        Node::start(binary, chat_args).await?,
    ];
    let chat_urls: Vec<String> = chats
        .iter()
        .map(|c| format!("http://{}", c.addr()))
        .collect();
    let mut gateway_args = common("gateway");
    gateway_args.extend(["--chat-url".into(), chat_urls.join(",")]);
    let mut gateways = vec![
        Node::start(binary, gateway_args.clone()).await?,
        Node::start(binary, gateway_args).await?,
    ];
    let api = Api::new(format!("http://{}/api/v1", chats[0].addr()));
    let (users, _, general) = api.team(params.clients).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let gateway_addrs: Vec<String> = gateways.iter().map(Node::addr).collect();
    let tasks: Vec<_> = users
        .iter()
        .cloned()
        .enumerate()
        .map(|(k, user)| {
            tokio::spawn(client(
                k,
                user,
                general.clone(),
                gateway_addrs.clone(),
                Duration::from_millis(params.pause_ms),
                stop.clone(),
            ))
        })
        .collect();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(params.every_ms)).await;
    let mut faults = Vec::new();
    for i in 0..params.faults {
        let kind = KINDS[i % KINDS.len()];
        let which = (i / KINDS.len()) % 2;
        faults.push((kind, Instant::now()));
        match kind {
            "chat service kill -9" => {
                chats[which].kill9().await;
                chats[which].spawn().await?;
            }
            "chat service SIGTERM" => {
                chats[which].terminate().await;
                chats[which].spawn().await?;
            }
            "gateway kill -9" => {
                gateways[which].kill9().await;
                gateways[which].spawn().await?;
            }
            "gateway SIGTERM" => {
                gateways[which].terminate().await;
                gateways[which].spawn().await?;
            }
            // Both block while the server starts: off the runtime the clients run on.
            "PostgreSQL crash" => {
                pg = tokio::task::spawn_blocking(move || pg.restart().map(|()| pg)).await??;
            }
            _ => {
                redis =
                    tokio::task::spawn_blocking(move || redis.restart().map(|()| redis)).await??;
            }
        }
        tokio::time::sleep(Duration::from_millis(params.every_ms)).await;
    }
    stop.store(true, Ordering::Release);
    let mut logs = Vec::new();
    for task in tasks {
        logs.push(task.await?);
    }
    let run = started.elapsed();

    // Nothing acknowledged lost, nothing stored twice.
    let stored = stored_messages(&api, &users[0], &general).await?;
    let stored_ids: HashSet<String> = stored
        .iter()
        .filter_map(|m| str_of(&m["id"]).ok())
        .collect();
    let mut bodies: BTreeMap<String, usize> = BTreeMap::new();
    for m in &stored {
        *bodies
            .entry(m["body"].as_str().unwrap_or("").to_owned())
            .or_default() += 1;
    }
    let acked: Vec<&String> = logs.iter().flat_map(|l| l.acked.values()).collect();
    let lost = acked.iter().filter(|id| !stored_ids.contains(**id)).count();
    let duplicated = bodies.values().filter(|&&n| n > 1).count();

    let mut report = Report::new(
        "faults",
        json!({"clients": params.clients, "faults": params.faults, "every_ms": params.every_ms}),
    );
    report.add("acknowledged sends", acked.len() as f64, "", None);
    report.add("acknowledged sends lost", lost as f64, "", Some("0"));
    report.add("messages stored twice", duplicated as f64, "", Some("0"));
    report.add("run", run.as_secs_f64(), "s", None);
    let mut latencies: Vec<Duration> = logs
        .iter()
        .flat_map(|l| l.acks.iter().map(|a| a.1))
        .collect();
    report.latencies(
        [
            "send→ack p50",
            "send→ack p95",
            "send→ack p99",
            "send→ack max",
        ],
        &mut latencies,
        [None, None, None, None],
    );
    let mut reconnects: Vec<Duration> = logs
        .iter()
        .flat_map(|l| l.reconnects.iter().copied())
        .collect();
    if !reconnects.is_empty() {
        report.latencies(
            [
                "reconnect p50",
                "reconnect p95",
                "reconnect p99",
                "reconnect max",
            ],
            &mut reconnects,
            [None, None, None, Some("≤ 5,000 ms")],
        );
    }
    // A client that never had an ack again after a fault never recovered: that is counted,
    // not left out of the times below.
    let stranded = faults
        .iter()
        .map(|(_, at)| {
            logs.iter()
                .filter(|l| !l.acks.iter().any(|(t, _)| t > at))
                .count()
        })
        .sum::<usize>();
    report.add(
        "clients never acknowledged again after a fault",
        stranded as f64,
        "",
        Some("0"),
    );
    // Per fault: the longest any client waited, from the fault, for its next ack.
    for kind in KINDS {
        let worst = faults
            .iter()
            .filter(|(k, _)| *k == kind)
            .filter_map(|(_, at)| {
                logs.iter()
                    .filter_map(|l| l.acks.iter().find(|(t, _)| t > at).map(|(t, _)| *t - *at))
                    .max()
            })
            .max();
        if let Some(worst) = worst {
            report.add(
                kind,
                worst.as_secs_f64() * 1000.0,
                "ms to every client's next ack",
                Some("≤ 3,000 ms"),
            );
        }
    }
    for g in &mut gateways {
        g.kill9().await;
    }
    for c in &mut chats {
        c.kill9().await;
    }
    Ok(report)
}
