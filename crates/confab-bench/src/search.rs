//! The `search` scenario: a workspace's history of N messages written through the WebSocket
//! send path as fast as acks come back (S sockets, each keeping a window of W unacknowledged
//! sends, spread over C channels), then `GET /search` by query class, one query at a time
//! (and, with `--concurrency`, several at once), as a member who can read every channel:
//! latency per class measured here, result counts, and the index's size on disk.
//!
//! The texts come from a deterministic generator ([`Corpus`]): chat lines of 5 to 20 words
//! drawn Zipf-like from a synthetic vocabulary built from syllables, with real English words
//! among the most frequent; some lines Chinese/Japanese, some carrying code-like tokens; and
//! words, CJK words and phrases planted in messages chosen by their number, so that the
//! queries know how many messages they should find.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::client::{Api, User, connect};
use crate::report::{Report, percentile};
use crate::server::{Server, cpu_seconds_of};

#[derive(clap::Args, Debug, Clone)]
pub struct Params {
    /// Messages to write before searching.
    #[arg(long, default_value_t = 1_000_000)]
    pub messages: usize,
    /// Searches per query class, in each run.
    #[arg(long, default_value_t = 200)]
    pub queries: usize,
    /// Searches in flight at once in a second run after the one-at-a-time one (1: no second
    /// run).
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
    /// Sockets (one user each) writing the history.
    #[arg(long, default_value_t = 64)]
    pub senders: usize,
    /// Unacknowledged sends per socket.
    #[arg(long, default_value_t = 16)]
    pub window: usize,
    /// Channels of the workspace the history is spread over.
    #[arg(long, default_value_t = 50)]
    pub channels: usize,
    /// The text generator's seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// On PostgreSQL, search straight after writing, without the `ANALYZE` the bench
    /// otherwise runs first (a history written in minutes has not given autovacuum the time
    /// a server's months of history would: its planner statistics are missing or stale).
    #[arg(long)]
    pub no_analyze: bool,
}

/// The server's flags for this scenario: no search rate limit (one user asks every query),
/// and room for bursts of events on the writing sockets.
pub fn server_flags() -> Vec<String> {
    vec![
        "--search-rate-per-min".into(),
        "0".into(),
        "--ws-send-queue".into(),
        "4096".into(),
    ]
}

/// Results asked for per search (the server's default page).
const LIMIT: usize = 20;
/// The server counts matches up to this many (`total_estimate`).
const COUNT_CAP: usize = 1000;
/// Channels each sender is in (besides those it joins so that every channel has a sender).
const CHANNELS_PER_SENDER: usize = 2;
const MIB: f64 = 1024.0 * 1024.0;

pub async fn search(server: &Server, p: Params) -> anyhow::Result<Report> {
    anyhow::ensure!(
        p.messages >= 1000,
        "search needs at least 1,000 messages (planted words are spread over them)"
    );
    anyhow::ensure!(
        p.senders > 0 && p.window > 0 && p.channels > 0 && p.queries > 0 && p.concurrency > 0,
        "senders, window, channels, queries and concurrency must be at least 1"
    );
    let corpus = Arc::new(Corpus::new(p.seed, p.messages));
    let api = Api::new(server.http());
    // User 0 owns the workspace and every channel, and searches; the others write.
    let (users, ws, _) = api.team(p.senders + 1).await?;
    let searcher = users[0].clone();
    let senders = &users[1..];
    let channel_names: Vec<String> = (0..p.channels).map(|c| format!("chan-{c:02}")).collect();
    let memberships = memberships(p.senders, p.channels);
    let mut channel_ids = Vec::with_capacity(p.channels);
    for (c, name) in channel_names.iter().enumerate() {
        let members: Vec<User> = memberships
            .iter()
            .filter(|(_, ch)| *ch == c)
            .map(|(s, _)| senders[*s].clone())
            .collect();
        channel_ids.push(api.channel(&searcher, &ws, name, &members).await?);
    }
    let sender_channels: Vec<Vec<String>> = (0..p.senders)
        .map(|s| {
            memberships
                .iter()
                .filter(|(m, _)| *m == s)
                .map(|(_, c)| channel_ids[*c].clone())
                .collect()
        })
        .collect();

    let populated = populate(server, &corpus, senders, &sender_channels, p.window).await?;
    let analyzed = match server.database_url() {
        Some(_) if !p.no_analyze => Some(analyze(server).await?),
        _ => None,
    };
    let size = index_size(server).await?;

    let classes = classes(&corpus, &channel_names, &channel_ids);
    let target = Arc::new(Target {
        http: reqwest::Client::new(),
        url: format!("{}/search", server.http()),
        token: searcher.token.clone(),
        workspace: ws.clone(),
    });
    // Every query once, its first page checked against what was planted, before any is
    // timed: a search that errs or finds what cannot be stops the run here.
    for class in &classes {
        for probe in &class.probes {
            let answer = target.ask(&probe.q).await?.1;
            check(class.name, probe, &answer)?;
        }
    }

    let order: Vec<(usize, usize)> = (0..p.queries)
        .flat_map(|k| (0..classes.len()).map(move |c| (c, k)))
        .collect();
    let sequential = run(server, &target, &classes, &order, 1).await?;
    let concurrent = if p.concurrency > 1 {
        Some(run(server, &target, &classes, &order, p.concurrency).await?)
    } else {
        None
    };

    let query_strings: serde_json::Map<String, Value> = classes
        .iter()
        .map(|c| {
            (
                c.name.to_owned(),
                json!(c.probes.iter().map(|p| p.q.as_str()).collect::<Vec<_>>()),
            )
        })
        .collect();
    let mut r = Report::new(
        "search",
        json!({"messages": p.messages, "queries_per_class": p.queries, "concurrency": p.concurrency,
               "senders": p.senders, "window": p.window, "channels": p.channels, "seed": p.seed,
               "channels_per_sender": CHANNELS_PER_SENDER, "vocabulary": corpus.vocab.len(),
               "limit": LIMIT, "sort": "recent (default)", "store": server.store_name(),
               "gateways": server.topology.gateways, "index_size_by": size.method,
               "postgres_analyzed_before_searching": analyzed.is_some(),
               "query_strings": query_strings}),
    );
    add_populate(&mut r, populated);
    if let Some(t) = analyzed {
        r.add(
            "postgres: ANALYZE after writing",
            t.as_secs_f64(),
            "s",
            None,
        );
    }
    for (name, value, unit) in &size.rows {
        r.add(format!("index size: {name}"), *value, unit, None);
    }
    if size.index_bytes > 0.0 {
        r.add(
            "index size: search index per message",
            size.index_bytes / p.messages as f64,
            "B/msg",
            None,
        );
    }
    add_run(&mut r, "one at a time", &classes, &sequential, true);
    if let Some(c) = &concurrent {
        add_run(
            &mut r,
            &format!("{} at once", p.concurrency),
            &classes,
            c,
            false,
        );
    }
    Ok(r)
}

/// Which sender (by number) is in which channel: every sender in `CHANNELS_PER_SENDER`
/// channels (fewer if there are fewer), every channel with at least one sender.
fn memberships(senders: usize, channels: usize) -> BTreeSet<(usize, usize)> {
    let mut set = BTreeSet::new();
    for k in 0..senders.max(channels) {
        for j in 0..CHANNELS_PER_SENDER.min(channels) {
            set.insert((
                k % senders,
                (k + j * channels / CHANNELS_PER_SENDER) % channels,
            ));
        }
    }
    set
}

// ---------------------------------------------------------------------------------------
// Populating.

struct Populated {
    sent: usize,
    wall: Duration,
    acks: Vec<Duration>,
    cpu: f64,
    bench_cpu: f64,
}

/// Writes every message of `corpus`, each sender taking the next number as its window has
/// room and sending it into its channels in turn. Any error frame, or an ack that does not
/// come within a minute, stops the run.
async fn populate(
    server: &Server,
    corpus: &Arc<Corpus>,
    senders: &[User],
    channels: &[Vec<String>],
    window: usize,
) -> anyhow::Result<Populated> {
    let mut sockets = Vec::with_capacity(senders.len());
    for (k, user) in senders.iter().enumerate() {
        let (ws_url, addr) = server.ws_at(k);
        sockets.push(connect(&ws_url, &addr, &user.token, k).await?);
    }
    let next = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(AtomicUsize::new(0));
    let total = corpus.n;
    let cpu_before = server.cpu_seconds()?;
    let bench_cpu_before = cpu_seconds_of("/proc/self/stat")?;
    let started = Instant::now();
    let progress = {
        let acked = acked.clone();
        tokio::spawn(async move {
            let mut shown = 0;
            loop {
                tokio::time::sleep(Duration::from_secs(10)).await;
                let done = acked.load(Ordering::Relaxed);
                if done * 10 / total > shown {
                    shown = done * 10 / total;
                    eprintln!(
                        "search: {done} of {total} messages written in {:.0} s",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        })
    };
    let mut tasks = Vec::new();
    for (socket, channels) in sockets.into_iter().zip(channels.iter().cloned()) {
        let (corpus, next, acked) = (corpus.clone(), next.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let (mut sink, mut stream) = socket.split();
            let mut latencies = Vec::new();
            let mut in_flight: VecDeque<(usize, Instant)> = VecDeque::new();
            let mut turn = 0usize;
            let mut exhausted = false;
            loop {
                while !exhausted && in_flight.len() < window {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= corpus.n {
                        exhausted = true;
                        break;
                    }
                    let channel = &channels[turn % channels.len()];
                    turn += 1;
                    let frame = json!({"type": "send", "channel_id": channel,
                                       "client_msg_id": format!("s{i}"), "body": corpus.message(i).text});
                    in_flight.push_back((i, Instant::now()));
                    sink.send(Message::Text(frame.to_string().into()))
                        .await
                        .with_context(|| format!("sending message {i}"))?;
                }
                if in_flight.is_empty() {
                    return anyhow::Ok(latencies);
                }
                let frame = tokio::time::timeout(Duration::from_secs(60), stream.next())
                    .await
                    .context("no ack within 60 s")?;
                match frame {
                    Some(Ok(Message::Text(t))) => match frame_type(t.as_str()) {
                        Some("ack") => {
                            // Sends from one socket are acknowledged in order.
                            if let Some((_, at)) = in_flight.pop_front() {
                                latencies.push(at.elapsed());
                                acked.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Some("error") => bail!(
                            "a send was refused (oldest unacknowledged: message {:?}): {}",
                            in_flight.front().map(|(i, _)| i),
                            t.as_str()
                        ),
                        _ => {}
                    },
                    Some(Ok(_)) => {}
                    other => bail!("a sending socket ended: {other:?}"),
                }
            }
        }));
    }
    let mut acks = Vec::with_capacity(total);
    let mut failure = None;
    for t in tasks {
        match t.await? {
            Ok(l) => acks.extend(l),
            Err(e) => failure = failure.or(Some(e)),
        }
    }
    progress.abort();
    if let Some(e) = failure {
        return Err(e.context("populating"));
    }
    let wall = started.elapsed();
    anyhow::ensure!(
        acks.len() == total,
        "{} of {total} messages were acknowledged",
        acks.len()
    );
    Ok(Populated {
        sent: acks.len(),
        wall,
        acks,
        cpu: server.cpu_seconds()? - cpu_before,
        bench_cpu: cpu_seconds_of("/proc/self/stat")? - bench_cpu_before,
    })
}

/// The `type` of a server frame (the first field: serde writes the tag first).
fn frame_type(frame: &str) -> Option<&str> {
    let head = frame.get(..64).unwrap_or(frame);
    let start = head.find("\"type\":\"")? + 8;
    let len = head[start..].find('"')?;
    Some(&head[start..start + len])
}

fn add_populate(r: &mut Report, p: Populated) {
    let secs = p.wall.as_secs_f64();
    r.add("populate: messages written", p.sent as f64, "msgs", None);
    r.add("populate: wall time", secs, "s", None);
    r.add("populate: send rate", p.sent as f64 / secs, "sends/s", None);
    let mut acks = p.acks;
    add_latencies(r, "populate: send→ack", &mut acks);
    r.add("populate: server CPU used", p.cpu, "s", None);
    r.add("populate: bench CPU used", p.bench_cpu, "s", None);
}

/// p50, p99 and max of `samples`, in milliseconds.
fn add_latencies(r: &mut Report, prefix: &str, samples: &mut [Duration]) {
    samples.sort_unstable();
    for (name, q) in [("p50", 0.5), ("p99", 0.99), ("max", 1.0)] {
        r.add(
            format!("{prefix} {name}"),
            percentile(samples, q).as_secs_f64() * 1000.0,
            "ms",
            None,
        );
    }
}

/// `ANALYZE` on the scratch database, as autovacuum would have by the time a server holds
/// such a history (`confab admin storage --analyze`); its time, as the server reports it.
async fn analyze(server: &Server) -> anyhow::Result<Duration> {
    let out = server.admin("storage", &["--analyze"]).await?;
    let ms: u64 = out
        .lines()
        .find_map(|l| {
            l.strip_prefix("analyzed in ")?
                .strip_suffix(" ms")?
                .parse()
                .ok()
        })
        .context("confab admin storage --analyze said nothing of analyzing")?;
    Ok(Duration::from_millis(ms))
}

// ---------------------------------------------------------------------------------------
// Index size.

struct Size {
    /// How the sizes were found.
    method: String,
    rows: Vec<(String, f64, &'static str)>,
    /// The search index's bytes (0 if unknown).
    index_bytes: f64,
}

/// The store's own account of its size (`confab admin storage`: SQLite's `dbstat` pages per
/// table, PostgreSQL's relation sizes), beside SQLite's files.
async fn index_size(server: &Server) -> anyhow::Result<Size> {
    let out = server.admin("storage", &[]).await?;
    let mut rows = Vec::new();
    let mut index_bytes = 0.0;
    if server.database_url().is_none() {
        let path = server.data_dir().join("confab.db");
        for (label, file) in [
            ("confab.db file", path.clone()),
            ("confab.db-wal file", path.with_extension("db-wal")),
        ] {
            let bytes = std::fs::metadata(&file)
                .map(|m| m.len() as f64)
                .unwrap_or(0.0);
            rows.push((label.to_owned(), bytes / MIB, "MiB"));
        }
    }
    for line in out.lines() {
        let Some((bytes, what)) = line.split_once('\t') else {
            continue;
        };
        let bytes: f64 = bytes.parse().with_context(|| format!("a size: {line}"))?;
        if what == "search index in all" || what.starts_with("message_search in all") {
            index_bytes = bytes;
        }
        rows.push((what.to_owned(), bytes / MIB, "MiB"));
    }
    if index_bytes == 0.0 {
        bail!("confab admin storage gave no search index size:\n{out}");
    }
    let method = if server.database_url().is_some() {
        "PostgreSQL pg_total_relation_size / pg_relation_size (confab admin storage)"
    } else {
        "SQLite dbstat, pages per table and its indexes (confab admin storage)"
    };
    Ok(Size {
        method: method.into(),
        rows,
        index_bytes,
    })
}

// ---------------------------------------------------------------------------------------
// Queries.

/// What a query's first page must look like.
#[derive(Clone, Debug)]
enum Expect {
    /// At least one result.
    Some,
    /// At least one, and no more than the `planted` count (nothing else holds the text; the
    /// count is capped at 1,000 anyway).
    AtMostPlanted,
    /// At least one, every one in this channel (an ID).
    InChannel(String),
}

#[derive(Clone, Debug)]
struct Probe {
    q: String,
    /// Messages the generator planted the searched text in, where it did.
    planted: Option<usize>,
    expect: Expect,
}

struct Class {
    name: &'static str,
    probes: Vec<Probe>,
}

fn probe(q: impl Into<String>, planted: Option<usize>, expect: Expect) -> Probe {
    Probe {
        q: q.into(),
        planted,
        expect,
    }
}

/// The query classes, each with several query strings it cycles through.
fn classes(corpus: &Corpus, channel_names: &[String], channel_ids: &[String]) -> Vec<Class> {
    let top: Vec<&str> = corpus.vocab.iter().take(10).map(String::as_str).collect();
    // Frequent synthetic words (the real ones are known to be in REAL_WORDS).
    let synthetic: Vec<&str> = corpus
        .vocab
        .iter()
        .map(String::as_str)
        .filter(|w| !REAL_WORDS.contains(w))
        .collect();
    let some = |q: String| probe(q, None, Expect::Some);

    let common = top.iter().map(|w| some((*w).to_owned())).collect();
    let pairs = [
        (0, 1),
        (6, 1),
        (2, 3),
        (4, 6),
        (3, 5),
        (0, 7),
        (8, 9),
        (6, 9),
    ];
    let two = pairs
        .iter()
        .map(|&(a, b)| some(format!("{} {}", top[a], top[b])))
        .collect();
    let mut prefixes: Vec<String> = vec!["depl".into(), "meet".into(), "revi".into()];
    prefixes.extend(
        synthetic
            .iter()
            .filter(|w| w.len() >= 6)
            .take(5)
            .enumerate()
            .map(|(k, w)| w[..3 + k % 2].to_owned()),
    );
    let mut infixes: Vec<String> = vec!["ploy".into(), "eeti".into(), "unni".into()];
    infixes.extend(
        synthetic
            .iter()
            .filter(|w| w.len() >= 7)
            .take(5)
            .map(|w| w[2..6].to_owned()),
    );
    let rare = RARE
        .iter()
        .enumerate()
        .map(|(k, w)| probe(*w, Some(corpus.rare_count(k)), Expect::AtMostPlanted))
        .collect();
    let cjk = CJK_PLANTED
        .iter()
        .map(|(w, residue)| {
            probe(
                *w,
                Some(count_residue(corpus.n, CJK_EVERY, *residue)),
                Expect::AtMostPlanted,
            )
        })
        .collect();
    let phrases = PHRASES
        .iter()
        .map(|(ph, residue)| {
            probe(
                format!("\"{ph}\""),
                Some(count_residue(corpus.n, PHRASE_EVERY, *residue)),
                Expect::Some,
            )
        })
        .collect();
    let operator = (0..8)
        .map(|k| {
            let c = (k * 7) % channel_names.len();
            probe(
                format!("{} in:#{}", top[(k * 3) % top.len()], channel_names[c]),
                None,
                Expect::InChannel(channel_ids[c].clone()),
            )
        })
        .collect();
    let code = corpus.code_samples(8).into_iter().map(some).collect();
    let dedupe = |v: Vec<String>| {
        let mut seen = HashSet::new();
        v.into_iter()
            .filter(|s| seen.insert(s.clone()))
            .map(some)
            .collect()
    };
    vec![
        Class {
            name: "common word",
            probes: common,
        },
        Class {
            name: "rare word",
            probes: rare,
        },
        Class {
            name: "two common words",
            probes: two,
        },
        Class {
            name: "prefix",
            probes: dedupe(prefixes),
        },
        Class {
            name: "infix",
            probes: dedupe(infixes),
        },
        Class {
            name: "CJK word",
            probes: cjk,
        },
        Class {
            name: "phrase",
            probes: phrases,
        },
        Class {
            name: "word in:#channel",
            probes: operator,
        },
        Class {
            name: "code token",
            probes: code,
        },
    ]
}

struct Target {
    http: reqwest::Client,
    url: String,
    token: String,
    workspace: String,
}

/// What one search answered.
struct Answer {
    results: usize,
    total: u64,
    channels: Vec<String>,
    /// Results the server marked no match in.
    unhighlighted: usize,
}

impl Target {
    /// One search: its time (request sent to the whole body read) and its answer.
    async fn ask(&self, q: &str) -> anyhow::Result<(Duration, Answer)> {
        let started = Instant::now();
        let response = self
            .http
            .get(&self.url)
            .bearer_auth(&self.token)
            .query(&[
                ("workspace_id", self.workspace.as_str()),
                ("q", q),
                ("limit", "20"),
            ])
            .send()
            .await
            .with_context(|| format!("searching {q:?}"))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .with_context(|| format!("searching {q:?}"))?;
        let elapsed = started.elapsed();
        if !status.is_success() {
            bail!("search {q:?}: {status} {}", String::from_utf8_lossy(&body));
        }
        let v: Value = serde_json::from_slice(&body)
            .with_context(|| format!("search {q:?}: the answer is not JSON"))?;
        let results = v["results"]
            .as_array()
            .with_context(|| format!("search {q:?}: no results in {v}"))?;
        let total = v["total_estimate"]
            .as_u64()
            .with_context(|| format!("search {q:?}: no total_estimate"))?;
        Ok((
            elapsed,
            Answer {
                results: results.len(),
                total,
                channels: results
                    .iter()
                    .map(|r| r["channel_id"].as_str().unwrap_or("").to_owned())
                    .collect(),
                unhighlighted: results
                    .iter()
                    .filter(|r| r["highlights"].as_array().is_none_or(Vec::is_empty))
                    .count(),
            },
        ))
    }
}

/// Whether a first page is one the history can give.
fn check(class: &str, p: &Probe, a: &Answer) -> anyhow::Result<()> {
    let what = format!("{class} query {:?}", p.q);
    anyhow::ensure!(
        a.results <= LIMIT,
        "{what}: {} results on a page of {LIMIT}",
        a.results
    );
    anyhow::ensure!(
        a.total as usize >= a.results,
        "{what}: total_estimate {} below the {} results given",
        a.total,
        a.results
    );
    anyhow::ensure!(a.results >= 1, "{what}: found nothing");
    match &p.expect {
        Expect::Some => {}
        Expect::AtMostPlanted => {
            let planted = p.planted.unwrap_or(0);
            anyhow::ensure!(
                a.results <= planted && a.total as usize <= planted,
                "{what}: {} results (total_estimate {}) but it is in only {planted} messages",
                a.results,
                a.total
            );
        }
        Expect::InChannel(id) => {
            let stray = a.channels.iter().filter(|c| *c != id).count();
            anyhow::ensure!(stray == 0, "{what}: {stray} results from other channels");
        }
    }
    if let Some(planted) = p.planted
        && (a.total as usize) < planted.min(COUNT_CAP)
    {
        eprintln!(
            "search: {what} counts {} matches, but it was planted in {planted} messages",
            a.total
        );
    }
    Ok(())
}

/// One class's searches in a run.
#[derive(Default)]
struct Tally {
    times: Vec<Duration>,
    results: usize,
    total: u64,
    unhighlighted: usize,
}

struct Run {
    tallies: Vec<Tally>,
    wall: Duration,
    cpu: f64,
}

/// Asks each `(class, k)` of `order` (query `k` of the class, cycling through its strings),
/// `parallel` at a time.
async fn run(
    server: &Server,
    target: &Arc<Target>,
    classes: &[Class],
    order: &[(usize, usize)],
    parallel: usize,
) -> anyhow::Result<Run> {
    let cpu_before = server.cpu_seconds()?;
    let started = Instant::now();
    let answers: Vec<anyhow::Result<(usize, Duration, Answer)>> =
        futures_util::stream::iter(order.iter().map(|&(c, k)| {
            let probes = &classes[c].probes;
            let q = probes[k % probes.len()].q.clone();
            let target = target.clone();
            async move {
                let (t, a) = target.ask(&q).await?;
                anyhow::Ok((c, t, a))
            }
        }))
        .buffer_unordered(parallel)
        .collect()
        .await;
    let wall = started.elapsed();
    let cpu = server.cpu_seconds()? - cpu_before;
    let mut tallies: Vec<Tally> = classes.iter().map(|_| Tally::default()).collect();
    for answer in answers {
        let (c, t, a) = answer?;
        let tally = &mut tallies[c];
        tally.times.push(t);
        tally.results += a.results;
        tally.total += a.total;
        tally.unhighlighted += a.unhighlighted;
    }
    Ok(Run { tallies, wall, cpu })
}

fn add_run(r: &mut Report, run_name: &str, classes: &[Class], run: &Run, per_class: bool) {
    let count: usize = run.tallies.iter().map(|t| t.times.len()).sum();
    if per_class {
        for (class, t) in classes.iter().zip(&run.tallies) {
            let mut times = t.times.clone();
            let n = times.len().max(1) as f64;
            let name = format!("{run_name}: {}", class.name);
            add_latencies(r, &name, &mut times);
            r.add(
                format!("{name} mean results"),
                t.results as f64 / n,
                "results",
                None,
            );
            r.add(
                format!("{name} mean total_estimate"),
                t.total as f64 / n,
                "matches",
                None,
            );
            let planted: Vec<usize> = class.probes.iter().filter_map(|p| p.planted).collect();
            if !planted.is_empty() {
                r.add(
                    format!("{name} planted in (mean per query string)"),
                    planted.iter().sum::<usize>() as f64 / planted.len() as f64,
                    "msgs",
                    None,
                );
            }
        }
    }
    let mut all: Vec<Duration> = run
        .tallies
        .iter()
        .flat_map(|t| t.times.iter().copied())
        .collect();
    let secs = run.wall.as_secs_f64();
    r.add(
        format!("{run_name}: searches"),
        count as f64,
        "queries",
        None,
    );
    r.add(format!("{run_name}: wall time"), secs, "s", None);
    r.add(
        format!("{run_name}: searches per second"),
        count as f64 / secs,
        "queries/s",
        None,
    );
    add_latencies(r, &format!("{run_name}: all classes"), &mut all);
    r.add(
        format!("{run_name}: server CPU per search"),
        run.cpu / count.max(1) as f64 * 1000.0,
        "ms",
        None,
    );
    r.add(
        format!("{run_name}: results with no highlight"),
        run.tallies.iter().map(|t| t.unhighlighted).sum::<usize>() as f64,
        "results",
        None,
    );
}

// ---------------------------------------------------------------------------------------
// The text generator.

/// Real English words, mixed in among the most frequent (at ranks 0, 2, 4, …).
const REAL_WORDS: &[&str] = &[
    "the",
    "to",
    "we",
    "deploy",
    "is",
    "and",
    "deployment",
    "running",
    "meeting",
    "review",
    "deployed",
    "build",
    "for",
    "on",
    "fix",
    "test",
    "release",
    "merge",
    "staging",
    "production",
    "today",
    "tomorrow",
    "broken",
    "thanks",
    "please",
    "check",
    "update",
    "server",
    "branch",
    "ticket",
    "customer",
    "rollback",
    "config",
    "error",
    "logs",
];
/// Synthetic words besides the real ones.
const VOCAB: usize = 20_000;
/// The Zipf exponent: the word of rank r is drawn with weight 1 / (r + 1)^s.
const ZIPF_S: f64 = 1.0;
/// Words each planted in `RARE_COPIES` messages (no other message holds one: the vocabulary
/// has no digits, and none is inside another).
const RARE: &[&str] = &[
    "quokka7",
    "axolotl3",
    "pangolin5",
    "narwhal9",
    "okapi2",
    "tapir4",
    "wombat8",
    "capybara6",
    "fossa1",
    "dugong0",
    "kinkajou5",
    "numbat3",
    "saola8",
    "zorilla2",
    "gerenuk7",
    "bilby4",
    "tarsier6",
    "quoll9",
    "vaquita1",
    "markhor5",
];
const RARE_COPIES: usize = 10;
/// CJK words, each planted in the messages whose number is this residue modulo
/// `CJK_EVERY` (their characters are kept out of the random CJK text, so only those hold
/// them).
const CJK_PLANTED: &[(&str, usize)] = &[("上海", 17), ("東京", 517)];
const CJK_EVERY: usize = 1000;
/// Phrases, each planted in the messages whose number is this residue modulo `PHRASE_EVERY`.
const PHRASES: &[(&str, usize)] = &[
    ("rolling back the hotfix", 101),
    ("merge conflict in staging", 233),
    ("quarterly planning meeting", 379),
];
const PHRASE_EVERY: usize = 500;
/// Shares of messages in Chinese/Japanese and with a code-like token.
const CJK_SHARE: f64 = 0.05;
const CODE_SHARE: f64 = 0.02;

const ONSETS: &[&str] = &[
    "", "b", "bl", "br", "c", "ch", "cl", "cr", "d", "dr", "f", "fl", "fr", "g", "gl", "gr", "h",
    "j", "k", "l", "m", "n", "p", "pl", "pr", "qu", "r", "s", "sh", "sk", "sl", "sp", "st", "t",
    "th", "tr", "v", "w", "wh", "z",
];
const VOWELS: &[&str] = &[
    "a", "e", "i", "o", "u", "ai", "ea", "ee", "io", "oo", "ou", "y",
];
const CODAS: &[&str] = &[
    "", "", "", "n", "r", "s", "t", "l", "m", "nd", "nt", "st", "ck", "ng", "x", "rk",
];
const SUFFIXES: &[&str] = &["ing", "er", "ed", "tion", "ment", "ly", "s"];
/// Common Han characters (simplified and Japanese); kana are added to them.
const HAN: &str = "的一是不了人我在有他这中大来们到说国和地也子时道出而要于就下得可你年生自会那后能对着事其里所去行过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前面又定见只主没公从已想实开意把现问力理尔点文几因样本高月长工身由向间明手知政物两外水关话老最新头重很正私駅電車会社仕事今明時間週末予確認連絡資料議題";

/// splitmix64: a seed spread over all 64 bits.
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xorshift64*: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(splitmix(seed) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// Messages whose number below `n` is `residue` modulo `every`.
fn count_residue(n: usize, every: usize, residue: usize) -> usize {
    if n > residue {
        (n - 1 - residue) / every + 1
    } else {
        0
    }
}

/// One generated message.
struct Generated {
    text: String,
    /// The code-like token it holds, if any.
    code: Option<String>,
}

/// The history's texts: message `i`'s text is a function of the seed and `i` alone, so any
/// sender may write any message.
struct Corpus {
    seed: u64,
    n: usize,
    /// By rank, the most frequent first.
    vocab: Vec<String>,
    /// Cumulative Zipf weights over `vocab`, the last 1.
    cdf: Vec<f64>,
    cjk: Vec<char>,
    /// Message number → the `RARE` words (by number) planted in it.
    rare: HashMap<usize, Vec<usize>>,
}

impl Corpus {
    fn new(seed: u64, n: usize) -> Self {
        let mut rng = Rng::new(seed ^ 0x0CAB_0CAB);
        let mut seen: HashSet<String> = REAL_WORDS.iter().map(|w| (*w).to_owned()).collect();
        let mut synthetic = Vec::with_capacity(VOCAB);
        while synthetic.len() < VOCAB {
            let syllables = match rng.below(20) {
                0..=1 => 1,
                2..=10 => 2,
                11..=17 => 3,
                _ => 4,
            };
            let mut w = String::new();
            for _ in 0..syllables {
                w.push_str(rng.pick(ONSETS));
                w.push_str(rng.pick(VOWELS));
                w.push_str(rng.pick(CODAS));
            }
            if rng.below(5) == 0 {
                w.push_str(rng.pick(SUFFIXES));
            }
            if w.len() >= 2 && seen.insert(w.clone()) {
                synthetic.push(w);
            }
        }
        let mut vocab = Vec::with_capacity(VOCAB + REAL_WORDS.len());
        let mut real = REAL_WORDS.iter();
        let mut synth = synthetic.into_iter();
        loop {
            // Real words at the even ranks until they run out.
            let next = if vocab.len() % 2 == 0 {
                real.next()
                    .map(|w| (*w).to_owned())
                    .or_else(|| synth.next())
            } else {
                synth
                    .next()
                    .or_else(|| real.next().map(|w| (*w).to_owned()))
            };
            match next {
                Some(w) => vocab.push(w),
                None => break,
            }
        }
        let mut cdf = Vec::with_capacity(vocab.len());
        let mut sum = 0.0;
        for r in 0..vocab.len() {
            sum += 1.0 / ((r + 1) as f64).powf(ZIPF_S);
            cdf.push(sum);
        }
        for c in &mut cdf {
            *c /= sum;
        }
        let excluded: HashSet<char> = CJK_PLANTED.iter().flat_map(|(w, _)| w.chars()).collect();
        let mut cjk_seen = HashSet::new();
        let cjk: Vec<char> = HAN
            .chars()
            .chain('\u{3041}'..='\u{3093}') // hiragana ぁ to ん
            .chain('\u{30A1}'..='\u{30F3}') // katakana ァ to ン
            .filter(|c| !excluded.contains(c) && cjk_seen.insert(*c))
            .collect();
        let mut rare: HashMap<usize, Vec<usize>> = HashMap::new();
        let step = n / RARE_COPIES;
        for k in 0..RARE.len() {
            for j in 0..RARE_COPIES {
                rare.entry((j * step + k * 101 + 7) % n)
                    .or_default()
                    .push(k);
            }
        }
        Corpus {
            seed,
            n,
            vocab,
            cdf,
            cjk,
            rare,
        }
    }

    /// Messages `RARE[k]` is planted in.
    fn rare_count(&self, k: usize) -> usize {
        self.rare.values().filter(|ks| ks.contains(&k)).count()
    }

    fn zipf(&self, rng: &mut Rng) -> &str {
        let u = rng.unit();
        let r = self
            .cdf
            .partition_point(|&c| c < u)
            .min(self.vocab.len() - 1);
        &self.vocab[r]
    }

    fn code_token(&self, rng: &mut Rng) -> String {
        match rng.below(4) {
            0 => format!("v{}.{}.{}", rng.below(4), rng.below(20), rng.below(30)),
            1 => format!("{}_{}", self.zipf(rng), self.zipf(rng)),
            2 => format!(
                "10.{}.{}.{}",
                rng.below(256),
                rng.below(256),
                rng.below(256)
            ),
            _ => format!("#{}", 100 + rng.below(9900)),
        }
    }

    /// The first `k` distinct code-like tokens of the history (tokens it is known to hold).
    fn code_samples(&self, k: usize) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for i in 0..self.n {
            if out.len() >= k {
                break;
            }
            if let Some(t) = self.message(i).code
                && !out.contains(&t)
            {
                out.push(t);
            }
        }
        out
    }

    /// Message `i`.
    fn message(&self, i: usize) -> Generated {
        let mut rng = Rng::new(self.seed ^ (i as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
        let cjk_word = CJK_PLANTED
            .iter()
            .find(|(_, r)| i % CJK_EVERY == *r)
            .map(|(w, _)| *w);
        let phrase = PHRASES
            .iter()
            .find(|(_, r)| i % PHRASE_EVERY == *r)
            .map(|(p, _)| *p);
        let roll = rng.unit();
        let mut code = None;
        let mut words: Vec<String> = if cjk_word.is_some() || (phrase.is_none() && roll < CJK_SHARE)
        {
            vec![self.cjk_line(&mut rng, cjk_word)]
        } else {
            let count = 5 + rng.below(16);
            let mut words: Vec<String> =
                (0..count).map(|_| self.zipf(&mut rng).to_owned()).collect();
            if roll < CJK_SHARE + CODE_SHARE {
                let t = self.code_token(&mut rng);
                words.insert(rng.below(words.len() + 1), t.clone());
                code = Some(t);
            }
            if let Some(p) = phrase {
                words.insert(rng.below(words.len() + 1), p.to_owned());
            }
            words
        };
        for &k in self.rare.get(&i).into_iter().flatten() {
            words.insert(rng.below(words.len() + 1), RARE[k].to_owned());
        }
        if let Some(first) = words.first_mut()
            && rng.below(2) == 0
        {
            let mut chars = first.chars();
            if let Some(c) = chars.next() {
                *first = c.to_uppercase().chain(chars).collect();
            }
        }
        let mut text = words.join(" ");
        text.push_str(rng.pick(&["", "", "", ".", "?", "!"]));
        Generated { text, code }
    }

    /// 8 to 30 random CJK characters, no spaces, with `planted` somewhere among them.
    fn cjk_line(&self, rng: &mut Rng, planted: Option<&str>) -> String {
        let len = 8 + rng.below(23);
        let mut chars: Vec<char> = (0..len).map(|_| rng.pick(&self.cjk)).collect();
        if let Some(w) = planted {
            let at = rng.below(chars.len() + 1);
            chars.splice(at..at, w.chars());
        }
        let mut s: String = chars.into_iter().collect();
        if rng.below(2) == 0 {
            s.push('。');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_plants_what_it_says() {
        let n = 20_000;
        let a = Corpus::new(1, n);
        let b = Corpus::new(1, n);
        assert_eq!(a.vocab.len(), VOCAB + REAL_WORDS.len());
        assert_eq!((a.vocab[0].as_str(), a.vocab[2].as_str()), ("the", "to"));
        let mut rare = vec![0; RARE.len()];
        let mut cjk = vec![0; CJK_PLANTED.len()];
        let mut phrases = vec![0; PHRASES.len()];
        let (mut cjk_lines, mut code) = (0, 0);
        for i in 0..n {
            let m = a.message(i);
            assert_eq!(m.text, b.message(i).text);
            let words = m.text.split_whitespace().count();
            assert!(words >= 1 && m.text.chars().count() <= 400, "{}", m.text);
            let lower = m.text.to_lowercase();
            for (k, w) in RARE.iter().enumerate() {
                rare[k] += usize::from(lower.contains(w));
            }
            for (k, (w, _)) in CJK_PLANTED.iter().enumerate() {
                cjk[k] += usize::from(m.text.contains(w));
            }
            for (k, (p, _)) in PHRASES.iter().enumerate() {
                phrases[k] += usize::from(lower.contains(p));
            }
            cjk_lines += usize::from(
                m.text
                    .chars()
                    .any(|c| ('\u{3041}'..='\u{9FFF}').contains(&c)),
            );
            code += usize::from(m.code.is_some());
        }
        for (k, got) in rare.iter().enumerate() {
            assert_eq!(*got, RARE_COPIES);
            assert_eq!(a.rare_count(k), RARE_COPIES);
        }
        for (k, (_, r)) in CJK_PLANTED.iter().enumerate() {
            assert_eq!(cjk[k], count_residue(n, CJK_EVERY, *r));
        }
        for (k, (_, r)) in PHRASES.iter().enumerate() {
            assert_eq!(phrases[k], count_residue(n, PHRASE_EVERY, *r));
        }
        // About 5% and 2% (the planted CJK words add 0.2%).
        assert!((800..1300).contains(&cjk_lines), "{cjk_lines} CJK lines");
        assert!((250..550).contains(&code), "{code} lines with code");
        assert_eq!(a.code_samples(8).len(), 8);
    }

    #[test]
    fn every_channel_has_a_sender_and_every_sender_channels() {
        for (s, c) in [(64, 50), (8, 50), (1, 1), (3, 2), (50, 50)] {
            let m = memberships(s, c);
            for sender in 0..s {
                let n = m.iter().filter(|(x, _)| *x == sender).count();
                assert!(n >= CHANNELS_PER_SENDER.min(c), "{s} {c}: sender {sender}");
            }
            for channel in 0..c {
                assert!(m.iter().any(|(_, x)| *x == channel), "{s} {c}: {channel}");
            }
        }
    }

    #[test]
    fn frame_types() {
        assert_eq!(
            frame_type(r#"{"type":"ack","client_msg_id":"s1"}"#),
            Some("ack")
        );
        assert_eq!(frame_type(r#"{"type":"error","code":"x"}"#), Some("error"));
        assert_eq!(frame_type("{}"), None);
    }
}
