//! The five scenarios. Every time is taken inside this process (no cross-process clocks);
//! memory and CPU of the server come from `/proc`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::sync::{Mutex, mpsc};
use tokio_tungstenite::tungstenite::Message;

use crate::client::{Api, Socket, User, connect};
use crate::report::Report;
use crate::server::Server;

/// Opens `n` sockets round-robin over `users`, `parallel` handshakes at a time, spread over
/// the socket-holding processes, or all on holder `pin`.
async fn open_sockets(
    server: &Server,
    users: &[User],
    n: usize,
    parallel: usize,
    pin: Option<usize>,
) -> anyhow::Result<Vec<Socket>> {
    let mut sockets = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let batch: Vec<_> = (i..(i + parallel).min(n))
            .map(|k| {
                let (ws, addr) = server.ws_at(pin.unwrap_or(k));
                let token = users[k % users.len()].token.clone();
                tokio::spawn(async move { connect(&ws, &addr, &token, k).await })
            })
            .collect();
        for handle in batch {
            sockets.push(handle.await??);
        }
        i += parallel;
    }
    Ok(sockets)
}

/// Keeps a socket alive (answering pings) and hands each text frame to `on_text`.
fn read_forever(mut socket: Socket, mut on_text: impl FnMut(&str) + Send + 'static) {
    tokio::spawn(async move {
        while let Some(Ok(msg)) = socket.next().await {
            if let Message::Text(t) = msg {
                on_text(t.as_str());
            }
        }
    });
}

/// Opens `n` reading sockets like `open_sockets`, each read from the moment it connects (a
/// socket left unread stops answering pings and is rightly dropped by the server).
async fn open_readers<F>(
    server: &Server,
    users: &[User],
    n: usize,
    parallel: usize,
    reader: impl Fn() -> F,
) -> anyhow::Result<()>
where
    F: FnMut(&str) + Send + 'static,
{
    let mut i = 0;
    while i < n {
        let batch: Vec<_> = (i..(i + parallel).min(n))
            .map(|k| {
                let (ws, addr) = server.ws_at(k);
                let token = users[k % users.len()].token.clone();
                let on_text = reader();
                tokio::spawn(async move {
                    read_forever(connect(&ws, &addr, &token, k).await?, on_text);
                    anyhow::Ok(())
                })
            })
            .collect();
        for handle in batch {
            handle.await??;
        }
        i += parallel;
    }
    Ok(())
}

/// The servers' own count of open sockets, from `/metrics`.
async fn open_sockets_metric(server: &Server) -> anyhow::Result<f64> {
    let mut total = 0.0;
    for url in server.socket_metrics_urls() {
        let text = reqwest::get(url).await?.text().await?;
        total += text
            .lines()
            .find_map(|l| l.strip_prefix("confab_open_sockets "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .context("confab_open_sockets in /metrics")?;
    }
    Ok(total)
}

/// The number after `marker` in a frame, for frames this bench sent (`"body":"marker-N"`).
fn marked(frame: &str, marker: &str) -> Option<usize> {
    let start = frame.find(marker)? + marker.len();
    let digits: String = frame[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

pub async fn idle(server: &Server, connections: usize) -> anyhow::Result<Report> {
    let api = Api::new(server.http());
    let (users, _, _) = api.team(10).await?;
    // One socket first, so what a first connection initialises is not counted per socket.
    open_readers(server, &users, 1, 1, || |_: &str| {}).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = server.rss_bytes()?;
    let started = Instant::now();
    open_readers(server, &users, connections, 200, || |_: &str| {}).await?;
    let connect_secs = started.elapsed().as_secs_f64();
    // Settle past a ping round, so every socket has been pinged and answered.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = server.rss_bytes()?;
    let open = open_sockets_metric(server).await?;
    anyhow::ensure!(
        open as usize == connections + 1,
        "the server holds {open} sockets, not {}",
        connections + 1
    );
    let mut r = Report::new("idle", json!({"connections": connections}));
    r.add("server RSS before", before as f64 / 1048576.0, "MiB", None);
    r.add(
        "server RSS with sockets",
        after as f64 / 1048576.0,
        "MiB",
        None,
    );
    r.add("sockets open on the server", open, "", None);
    r.add(
        "memory per idle socket",
        (after.saturating_sub(before)) as f64 / connections as f64 / 1024.0,
        "KiB",
        Some("<= 8 KiB at 15k"),
    );
    r.add(
        "connect rate",
        connections as f64 / connect_secs,
        "conn/s",
        None,
    );
    Ok(r)
}

pub async fn fanout(server: &Server, members: usize, messages: usize) -> anyhow::Result<Report> {
    let api = Api::new(server.http());
    let (users, _, general) = api.team(members.clamp(2, 20)).await?;
    let remaining: Arc<Vec<AtomicUsize>> =
        Arc::new((0..messages).map(|_| AtomicUsize::new(members)).collect());
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(usize, Instant)>();
    open_readers(server, &users, members, 200, || {
        let (remaining, done_tx) = (remaining.clone(), done_tx.clone());
        move |text: &str| {
            if let Some(k) = marked(text, "\"body\":\"fanout-")
                && k < remaining.len()
                && remaining[k].fetch_sub(1, Ordering::AcqRel) == 1
            {
                let _ = done_tx.send((k, Instant::now()));
            }
        }
    })
    .await?;
    anyhow::ensure!(
        open_sockets_metric(server).await? as usize == members,
        "some member sockets were dropped"
    );
    let sender = &users[0];
    let cpu_before = server.cpu_seconds()?;
    let started = Instant::now();
    let mut last_delivery = Vec::with_capacity(messages);
    for k in 0..messages {
        let sent = Instant::now();
        api.post(
            Some(&sender.token),
            &format!("/channels/{general}/messages"),
            json!({"client_msg_id": format!("f{k}"), "body": format!("fanout-{k}")}),
        )
        .await?;
        let (got, at) = tokio::time::timeout(Duration::from_secs(60), done_rx.recv())
            .await
            .context("fan-out did not complete in 60 s")?
            .context("collector closed")?;
        anyhow::ensure!(got == k, "message {got} completed while waiting for {k}");
        last_delivery.push(at.duration_since(sent));
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = server.cpu_seconds()? - cpu_before;
    let deliveries = (members * messages) as f64;
    let mut r = Report::new("fanout", json!({"members": members, "messages": messages}));
    r.latencies(
        [
            "last delivery p50",
            "last delivery p95",
            "last delivery p99",
            "last delivery max",
        ],
        &mut last_delivery,
        [None, None, None, Some("<= 100 ms at 10k members")],
    );
    r.add(
        "deliveries per second (wall)",
        deliveries / wall,
        "1/s",
        None,
    );
    r.add("server CPU used", cpu, "s", None);
    r.add(
        "deliveries per server CPU-second",
        if cpu > 0.0 { deliveries / cpu } else { 0.0 },
        "1/s",
        Some(">= 150k per core"),
    );
    Ok(r)
}

/// Shared timing tables: send instant per message, filled by the sender, read by readers.
type Sent = Arc<std::sync::Mutex<Vec<Option<Instant>>>>;

pub async fn latency(
    server: &Server,
    rate: usize,
    seconds: u64,
    channels: usize,
    senders: usize,
) -> anyhow::Result<Report> {
    let api = Api::new(server.http());
    let (users, ws, _) = api.team(2).await?;
    let mut channel_ids = Vec::new();
    for c in 0..channels.max(1) {
        channel_ids.push(
            api.channel(&users[0], &ws, &format!("lat{c}"), &users)
                .await?,
        );
    }
    let total = rate * seconds as usize;
    let sent: Sent = Arc::new(std::sync::Mutex::new(vec![None; total]));
    let acks = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let deliveries = Arc::new(std::sync::Mutex::new(Vec::with_capacity(total)));
    let delivered = Arc::new(AtomicUsize::new(0));
    // The receiver is another user's socket in every channel, on the last gateway; senders
    // are on the first, so with two or more gateways every delivery crosses gateways.
    let holders = server.socket_holder_count();
    let receiver = open_sockets(server, &users[1..], 1, 1, Some(holders - 1))
        .await?
        .pop()
        .context("receiver")?;
    {
        let (sent, deliveries, delivered) = (sent.clone(), deliveries.clone(), delivered.clone());
        read_forever(receiver, move |text| {
            let now = Instant::now();
            let Some(i) = marked(text, "\"body\":\"lat-") else {
                return;
            };
            let at = sent.lock().ok().and_then(|s| s.get(i).copied().flatten());
            if let (Some(at), Ok(mut d)) = (at, deliveries.lock()) {
                d.push(now.duration_since(at));
                delivered.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    let mut sinks = Vec::new();
    for s in open_sockets(server, &users[..1], senders.max(1), 16, Some(0)).await? {
        let (sink, mut stream) = s.split();
        sinks.push(sink);
        let (sent, acks) = (sent.clone(), acks.clone());
        tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                let Message::Text(t) = msg else { continue };
                let now = Instant::now();
                if let Some(i) = marked(t.as_str(), "\"client_msg_id\":\"l")
                    && let Some(at) = sent.lock().ok().and_then(|s| s.get(i).copied().flatten())
                {
                    acks.lock().await.push(now.duration_since(at));
                }
            }
        });
    }
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for i in 0..total {
        tick.tick().await;
        let channel = &channel_ids[i % channel_ids.len()];
        let frame = json!({"type": "send", "channel_id": channel, "client_msg_id": format!("l{i}"), "body": format!("lat-{i}")});
        if let Ok(mut sent) = sent.lock() {
            sent[i] = Some(Instant::now());
        }
        let n = sinks.len();
        sinks[i % n]
            .send(Message::Text(frame.to_string().into()))
            .await?;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while (delivered.load(Ordering::Relaxed) < total || acks.lock().await.len() < total)
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut r = Report::new(
        "latency",
        json!({"rate": rate, "seconds": seconds, "channels": channels, "sender_sockets": senders, "gateways": holders, "separate_chat_service": server.topology.gateways > 0, "store": server.store_name()}),
    );
    let mut acks = acks.lock().await.clone();
    let mut deliveries = deliveries.lock().map(|d| d.clone()).unwrap_or_default();

    r.add("messages acknowledged", acks.len() as f64, "", None);
    r.add("messages delivered", deliveries.len() as f64, "", None);
    r.latencies(
        [
            "send→ack p50",
            "send→ack p95",
            "send→ack p99",
            "send→ack max",
        ],
        &mut acks,
        [None, None, None, None],
    );
    r.latencies(
        [
            "send→delivery p50",
            "send→delivery p95",
            "send→delivery p99",
            "send→delivery max",
        ],
        &mut deliveries,
        [Some("<= 5 ms"), None, Some("<= 25 ms"), None],
    );
    Ok(r)
}

pub async fn throughput(
    server: &Server,
    seconds: u64,
    senders: usize,
    window: usize,
) -> anyhow::Result<Report> {
    let api = Api::new(server.http());
    // One user per socket, each sending into a channel of their own: every message is
    // delivered once (to its author's socket) besides its ack, so this measures the write
    // path, not fan-out (the fanout scenario does that).
    let (users, ws, _) = api.team(senders.max(1)).await?;
    let mut channels = Vec::with_capacity(senders);
    for (n, owner) in users.iter().enumerate().take(senders) {
        channels.push(
            api.channel(owner, &ws, &format!("tp{n}"), std::slice::from_ref(owner))
                .await?,
        );
    }
    let sockets = open_sockets(server, &users, senders, 50, None).await?;
    let stop_at = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for (n, socket) in sockets.into_iter().enumerate() {
        let general = channels[n].clone();

        tasks.push(tokio::spawn(async move {
            let (mut sink, mut stream) = socket.split();
            let mut latencies = Vec::new();
            let mut in_flight = std::collections::VecDeque::new();
            let mut i = 0usize;
            loop {
                while in_flight.len() < window && Instant::now() < stop_at {
                    let frame = json!({"type": "send", "channel_id": general, "client_msg_id": format!("t{n}-{i}"), "body": "throughput"});
                    in_flight.push_back(Instant::now());
                    if sink.send(Message::Text(frame.to_string().into())).await.is_err() {
                        return latencies;
                    }
                    i += 1;
                }
                if in_flight.is_empty() {
                    return latencies;
                }
                match stream.next().await {
                    Some(Ok(Message::Text(t))) if t.as_str().contains("\"type\":\"ack\"") => {
                        // Sends from one socket are acknowledged in order.
                        if let Some(at) = in_flight.pop_front() {
                            latencies.push(at.elapsed());
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => return latencies,
                }
            }
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await?);
    }
    let wall = started.elapsed().as_secs_f64();
    let mut r = Report::new(
        "throughput",
        json!({"seconds": seconds, "sender_sockets": senders, "window": window, "store": server.store_name(), "gateways": server.topology.gateways}),
    );
    r.add("durable sends acknowledged", all.len() as f64, "", None);
    r.add(
        "durable sends per second",
        all.len() as f64 / wall,
        "1/s",
        Some(">= 30k SQLite, >= 20k PostgreSQL"),
    );
    r.latencies(
        ["ack p50", "ack p95", "ack p99", "ack max"],
        &mut all,
        [None, None, None, None],
    );
    Ok(r)
}

pub async fn catchup(server: &Server, clients: usize, missed: usize) -> anyhow::Result<Report> {
    let api = Api::new(server.http());
    let (users, _, general) = api.team(2).await?;
    // Fill the channel with `missed` changes, over one pipelining socket.
    let mut filler = open_sockets(server, &users[..1], 1, 1, None)
        .await?
        .pop()
        .context("filler")?;
    for i in 0..missed {
        let frame = json!({"type": "send", "channel_id": general, "client_msg_id": format!("c{i}"), "body": format!("catch up {i}")});
        filler.send(Message::Text(frame.to_string().into())).await?;
    }
    let mut acked = 0;
    while acked < missed {
        match tokio::time::timeout(Duration::from_secs(60), filler.next()).await? {
            Some(Ok(Message::Text(t))) if t.as_str().contains("\"type\":\"ack\"") => acked += 1,
            Some(Ok(_)) => {}
            other => anyhow::bail!("filler socket ended: {other:?}"),
        }
    }
    let reader = users[1].clone();
    let start = Arc::new(tokio::sync::Barrier::new(clients));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (server_ws, addr) = server.ws_at(c);
        let (api, general, reader, start) =
            (api.clone(), general.clone(), reader.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            let t0 = Instant::now();
            // Reconnect, then read everything after the cursor (here: from the start).
            let socket = connect(&server_ws, &addr, &reader.token, c).await?;
            let (mut cursor, mut got) = (0i64, 0usize);
            loop {
                let page = api
                    .get(
                        &reader.token,
                        &format!("/channels/{general}/messages?since={cursor}&limit=200"),
                    )
                    .await?;
                got += page["messages"].as_array().map(Vec::len).unwrap_or(0);
                cursor = page["next_cursor"].as_i64().context("next_cursor")?;
                if !page["has_more"].as_bool().unwrap_or(false) {
                    break;
                }
            }
            drop(socket);
            anyhow::Ok((t0.elapsed(), got))
        }));
    }
    let mut times = Vec::new();
    for t in tasks {
        let (elapsed, got) = t.await??;
        anyhow::ensure!(
            got >= missed,
            "a client caught up {got} of {missed} messages"
        );
        times.push(elapsed);
    }
    let mut r = Report::new(
        "catchup",
        json!({"clients": clients, "missed_changes": missed}),
    );
    r.latencies(
        [
            "catch-up p50",
            "catch-up p95",
            "catch-up p99",
            "catch-up max",
        ],
        &mut times,
        [
            None,
            None,
            Some("<= 50 ms per client for 1,000 changes"),
            None,
        ],
    );
    Ok(r)
}
