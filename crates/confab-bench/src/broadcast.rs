//! The `broadcast` scenario: what an `@channel` in a large channel costs, and whether it
//! hurts anyone else. M members in `#general`, each with a notification to write for every
//! sink (a webhook whose delay outlasts the run, so nothing is delivered and every item
//! stays): K `@channel` messages one after another, each timed from its send to the outbox
//! having expanded it (the server's own `confab_notifications_pending{what="jobs"}` back at
//! zero, counted after the send), while another member sends plain messages in a channel of
//! two and times their acks; the same plain sends alone first, as the baseline.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde_json::json;

use crate::client::{Api, User};
use crate::report::Report;
use crate::server::Server;

#[derive(clap::Args, Debug, Clone)]
pub struct Params {
    /// Members of the channel the broadcasts go to.
    #[arg(long, default_value_t = 2_000)]
    pub members: usize,
    /// `@channel` messages, one at a time.
    #[arg(long, default_value_t = 10)]
    pub broadcasts: usize,
    /// Seconds of plain sends alone, before the broadcasts (the baseline).
    #[arg(long, default_value_t = 5)]
    pub baseline_seconds: u64,
}

/// Every member gets an item from the webhook sink, which delivers only after the run.
pub fn server_flags() -> Vec<String> {
    [
        "--notify-webhook-url",
        "http://127.0.0.1:9/never",
        "--notify-webhook-secret",
        "a webhook secret for the bench",
        "--notify-webhook-delay-ms",
        "3600000",
        "--notify-poll-ms",
        "50",
    ]
    .map(String::from)
    .to_vec()
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The outbox's pending jobs and when the server counted them (Unix seconds).
async fn pending_jobs(server: &Server) -> anyhow::Result<(f64, f64)> {
    let mut jobs = None;
    let mut at = None;
    for url in server.socket_metrics_urls() {
        let text = reqwest::get(url).await?.text().await?;
        for line in text.lines() {
            if let Some(v) = line.strip_prefix("confab_notifications_pending{what=\"jobs\"} ") {
                jobs = v.trim().parse::<f64>().ok();
            }
            if let Some(v) = line.strip_prefix("confab_notifications_counted_at_seconds ") {
                at = v.trim().parse::<f64>().ok();
            }
        }
    }
    Ok((
        jobs.context("confab_notifications_pending in /metrics")?,
        at.context("confab_notifications_counted_at_seconds in /metrics")?,
    ))
}

/// Plain sends one after another until `stop`: each ack's latency.
async fn plain_sends(
    api: &Api,
    user: &User,
    channel: &str,
    prefix: &str,
    stop: &AtomicBool,
) -> anyhow::Result<Vec<Duration>> {
    let mut acks = Vec::new();
    let mut k = 0;
    while !stop.load(Ordering::Acquire) {
        let sent = Instant::now();
        api.post(
            Some(&user.token),
            &format!("/channels/{channel}/messages"),
            json!({"client_msg_id": format!("{prefix}{k}"), "body": format!("plain {k}")}),
        )
        .await?;
        acks.push(sent.elapsed());
        k += 1;
    }
    Ok(acks)
}

pub async fn broadcast(server: &Server, params: Params) -> anyhow::Result<Report> {
    let api = Arc::new(Api::new(server.http()));
    let members = params.members.max(3);
    let (users, ws, general) = api.team(members).await?;
    let quiet = api.channel(&users[0], &ws, "quiet", &users[1..2]).await?;
    let bystander = users[1].clone();

    let stop = Arc::new(AtomicBool::new(false));
    let alone = {
        let (api, stop, quiet, who) = (api.clone(), stop.clone(), quiet.clone(), bystander.clone());
        tokio::spawn(async move { plain_sends(&api, &who, &quiet, "a", &stop).await })
    };
    tokio::time::sleep(Duration::from_secs(params.baseline_seconds)).await;
    stop.store(true, Ordering::Release);
    let mut baseline = alone.await??;

    stop.store(false, Ordering::Release);
    let during = {
        let (api, stop, quiet, who) = (api.clone(), stop.clone(), quiet.clone(), bystander.clone());
        tokio::spawn(async move { plain_sends(&api, &who, &quiet, "b", &stop).await })
    };
    let mut expansions = Vec::with_capacity(params.broadcasts);
    let mut acks = Vec::with_capacity(params.broadcasts);
    let started = Instant::now();
    for k in 0..params.broadcasts {
        let sent = Instant::now();
        let sent_unix = unix_now();
        api.post(
            Some(&users[0].token),
            &format!("/channels/{general}/messages"),
            json!({"client_msg_id": format!("c{k}"), "body": format!("@channel broadcast {k}")}),
        )
        .await?;
        acks.push(sent.elapsed());
        loop {
            let (jobs, at) = pending_jobs(server).await?;
            if jobs == 0.0 && at > sent_unix {
                break;
            }
            anyhow::ensure!(
                sent.elapsed() < Duration::from_secs(120),
                "broadcast {k} not expanded in 120 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        expansions.push(sent.elapsed());
    }
    let wall = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Release);
    let mut during = during.await??;

    let mut r = Report::new(
        "broadcast",
        json!({"members": members, "broadcasts": params.broadcasts}),
    );
    r.latencies(
        [
            "@channel send ack p50",
            "@channel send ack p95",
            "@channel send ack p99",
            "@channel send ack max",
        ],
        &mut acks,
        [None; 4],
    );
    r.latencies(
        [
            "@channel expanded p50",
            "@channel expanded p95",
            "@channel expanded p99",
            "@channel expanded max",
        ],
        &mut expansions,
        [None; 4],
    );
    r.add(
        "notifications written per second",
        ((members - 1) * params.broadcasts) as f64 / wall,
        "1/s",
        None,
    );
    r.latencies(
        [
            "plain send ack alone p50",
            "plain send ack alone p95",
            "plain send ack alone p99",
            "plain send ack alone max",
        ],
        &mut baseline,
        [None; 4],
    );
    r.latencies(
        [
            "plain send ack during p50",
            "plain send ack during p95",
            "plain send ack during p99",
            "plain send ack during max",
        ],
        &mut during,
        [None; 4],
    );
    Ok(r)
}
