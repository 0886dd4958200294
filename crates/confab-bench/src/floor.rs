//! The `floor` scenario: what this machine allows with no confab at all, so that confab's
//! numbers can be read against the box's own ceiling. Two measurements over loopback TCP:
//!
//! - fan-out: writer threads write one frame-sized payload to each of N sockets per message
//!   (plain blocking `write`s, no framing, no queues, no tasks), readers drain them; the
//!   writers' CPU per write and the time until the last byte of each message arrived;
//! - round trips: M sockets each keep one request in flight against an echo task that answers
//!   every request at once (no parsing, no storage); completed round trips per second;
//! - disk writes (`--disk-mib`, off by default): K threads each write their share of the
//!   bytes to a file of their own in the temporary directory (where the bench puts the
//!   server's data directory) in 1 MiB `write`s and `fsync` it, as the server stores an
//!   upload; MiB per second from the first write to the last `fsync`.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::client::tcp_connect;
use crate::report::Report;
use crate::server::cpu_seconds_of;

/// Connections opened at once.
const PARALLEL: usize = 200;
/// Request and reply sizes of the round-trip floor: about a `send` frame and its `ack`.
const REQUEST: usize = 200;
const REPLY: usize = 100;
/// Pause between fan-out messages, so each starts with drained sockets (the fan-out scenario
/// waits for an HTTP send between messages too).
const GAP: Duration = Duration::from_millis(20);
/// The longest wait for the reader process: to connect, or to receive one message.
const WAIT: Duration = Duration::from_secs(60);

#[derive(clap::Args)]
pub struct Params {
    /// Sockets written to per message.
    #[arg(long, default_value_t = 10_000)]
    pub sockets: usize,
    #[arg(long, default_value_t = 20)]
    pub messages: usize,
    /// Bytes written per socket per message (a message.created event frame is ~400).
    #[arg(long, default_value_t = 400)]
    pub bytes: usize,
    /// Writer threads sharing the sockets.
    #[arg(long, default_value_t = 1)]
    pub writers: usize,
    /// Sockets for the round-trip measurement (0: skip it).
    #[arg(long, default_value_t = 512)]
    pub round_trip_sockets: usize,
    /// How long the round-trip measurement runs.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// MiB written for the disk-write measurement (0: skip it).
    #[arg(long, default_value_t = 0)]
    pub disk_mib: u64,
    /// Files written at once for the disk-write measurement, each its share of `--disk-mib`.
    #[arg(long, default_value_t = 1)]
    pub disk_files: usize,
}

pub async fn floor(p: Params) -> anyhow::Result<Report> {
    let mut r = Report::new(
        "floor",
        json!({"sockets": p.sockets, "messages": p.messages, "bytes": p.bytes,
               "writers": p.writers, "round_trip_sockets": p.round_trip_sockets,
               "seconds": p.seconds, "disk_mib": p.disk_mib, "disk_files": p.disk_files}),
    );
    if p.sockets > 0 {
        fan_out_rows(&p, &mut r).await?;
    }
    if p.round_trip_sockets > 0 {
        let rate = round_trips(p.round_trip_sockets, p.seconds).await?;
        r.add(
            "round trips per second",
            rate,
            "1/s",
            Some("durable sends: >= 20k (PostgreSQL), 30k (SQLite)"),
        );
    }
    if p.disk_mib > 0 {
        let (mib, files) = (p.disk_mib, p.disk_files.max(1));
        let rate = tokio::task::spawn_blocking(move || disk_writes(mib, files)).await??;
        r.add(
            format!("disk write + fsync, {files} file(s) at once"),
            rate,
            "MiB/s",
            Some("uploads: throughput"),
        );
    }
    Ok(r)
}

/// The fan-out measurement's rows (`--sockets` > 0).
async fn fan_out_rows(p: &Params, r: &mut Report) -> anyhow::Result<()> {
    anyhow::ensure!(p.messages > 0 && p.bytes > 0 && p.writers > 0);
    let (cpu, mut last) = fan_out(p).await?;
    let writes = (p.sockets * p.messages) as f64;
    r.add(
        "writer CPU per write",
        cpu / writes * 1e6,
        "µs",
        Some("confab: server CPU per delivery"),
    );
    r.add(
        "writes per writer CPU-second",
        if cpu > 0.0 { writes / cpu } else { 0.0 },
        "1/s",
        Some("fan-out target: >= 150k per core"),
    );
    r.latencies(
        [
            "last byte p50",
            "last byte p95",
            "last byte p99",
            "last byte max",
        ],
        &mut last,
        [None, None, None, Some("fan-out target: <= 100 ms")],
    );
    Ok(())
}

/// `files` threads each write `mib / files` MiB (at least 1) to a fresh file in the temporary
/// directory and `fsync` it; MiB per second over all of them, from the first write to the last
/// `fsync`. The files go with the directory.
fn disk_writes(mib: u64, files: usize) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let share = (mib / files as u64).max(1);
    let go = Arc::new(Barrier::new(files + 1));
    let writers: Vec<_> = (0..files)
        .map(|k| {
            let (go, path) = (go.clone(), dir.path().join(format!("floor-{k}")));
            std::thread::spawn(move || -> anyhow::Result<()> {
                // Not zeros, in case a file system would make less of them.
                let block: Vec<u8> = (0..1024 * 1024).map(|i| (i * 31 + k) as u8).collect();
                let mut file = std::fs::File::create(path)?;
                go.wait();
                for _ in 0..share {
                    file.write_all(&block)?;
                }
                file.sync_all()?;
                Ok(())
            })
        })
        .collect();
    go.wait();
    let started = Instant::now();
    for w in writers {
        w.join()
            .map_err(|_| anyhow::anyhow!("a disk writer panicked"))??;
    }
    Ok((share * files as u64) as f64 / started.elapsed().as_secs_f64())
}

/// A listener whose backlog holds every connection `connect` has in flight: the readers
/// send nothing, so a handshake dropped past a short backlog would leave a connection open
/// on their side only, and the run waiting for it.
fn listener() -> anyhow::Result<TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    Ok(socket.listen(4096)?)
}

/// Accepts `n` connections on `listener`, each without Nagle.
async fn accept(listener: TcpListener, n: usize) -> anyhow::Result<Vec<TcpStream>> {
    let mut accepted = Vec::with_capacity(n);
    while accepted.len() < n {
        let (s, _) = listener.accept().await?;
        s.set_nodelay(true)?;
        accepted.push(s);
    }
    Ok(accepted)
}

/// Opens `n` connections to `addr`, `PARALLEL` at a time.
async fn connect(addr: SocketAddr, n: usize) -> anyhow::Result<Vec<TcpStream>> {
    let mut connected = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let batch: Vec<_> = (i..(i + PARALLEL).min(n))
            .map(|k| tokio::spawn(tcp_connect(addr, k)))
            .collect();
        for handle in batch {
            connected.push(handle.await??);
        }
        i += PARALLEL;
    }
    Ok(connected)
}

/// `n` connected pairs in this process: the accepted ends and the connecting ends.
async fn pairs(n: usize) -> anyhow::Result<(Vec<TcpStream>, Vec<TcpStream>)> {
    let listener = listener()?;
    let addr = listener.local_addr()?;
    let accepted = tokio::spawn(accept(listener, n));
    let connected = connect(addr, n).await?;
    Ok((accepted.await??, connected))
}

/// The reading side of the fan-out floor, run as a child process (as the fan-out scenario's
/// readers are a process apart from the server, and one process could not hold both ends of
/// 10k connections): connects `sockets` times to `addr`, prints `ready`, then prints `done`
/// each time another `bytes_per_message` × `sockets` bytes have arrived.
pub async fn reader(
    addr: SocketAddr,
    sockets: usize,
    bytes_per_message: usize,
) -> anyhow::Result<()> {
    let per_message = (sockets * bytes_per_message) as u64;
    let received = Arc::new(AtomicU64::new(0));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    for mut s in connect(addr, sockets).await? {
        let (received, done_tx) = (received.clone(), done_tx.clone());
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            while let Ok(n @ 1..) = s.read(&mut buf).await {
                let before = received.fetch_add(n as u64, Ordering::AcqRel);
                if before / per_message != (before + n as u64) / per_message {
                    let _ = done_tx.send(());
                }
            }
        });
    }
    drop(done_tx);
    // A few bytes into a pipe per message: a blocking write is fine here.
    let mut out = std::io::stdout();
    writeln!(out, "ready")?;
    out.flush()?;
    while done_rx.recv().await.is_some() {
        writeln!(out, "done")?;
        out.flush()?;
    }
    Ok(())
}

/// Returns the writers' CPU seconds and each message's time to its last byte.
async fn fan_out(p: &Params) -> anyhow::Result<(f64, Vec<Duration>)> {
    let listener = listener()?;
    let addr = listener.local_addr()?;
    let accepted = tokio::spawn(accept(listener, p.sockets));
    let mut child = Reader(
        std::process::Command::new(std::env::current_exe()?)
            .args(["floor-reader", "--connect", &addr.to_string()])
            .args(["--sockets", &p.sockets.to_string()])
            .args(["--bytes", &p.bytes.to_string()])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()?,
    );
    // The reader's lines, through a thread of their own, so every wait for one has a
    // deadline (a reader that died or lost its sockets must not hang the run).
    let stdout = child.0.stdout.take().context("reader's stdout")?;
    let (line_tx, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
            if line_tx.send(line).is_err() {
                break;
            }
        }
    });
    let accepted = tokio::time::timeout(WAIT, accepted)
        .await
        .context("the reader process did not connect")???;
    expect_line(&lines, "ready")?;
    // Blocking sockets, off the runtime: the writers are plain threads making plain syscalls.
    let mut shares: Vec<Vec<std::net::TcpStream>> = (0..p.writers).map(|_| Vec::new()).collect();
    for (k, s) in accepted.into_iter().enumerate() {
        let s = s.into_std()?;
        s.set_nonblocking(false)?;
        shares[k % p.writers].push(s);
    }
    let (messages, payload) = (p.messages, vec![b'x'; p.bytes]);
    let result = tokio::task::spawn_blocking(move || {
        let go = Arc::new(Barrier::new(shares.len() + 1));
        let done = Arc::new(Barrier::new(shares.len() + 1));
        let writers: Vec<_> = shares
            .into_iter()
            .map(|mut sockets| {
                let (go, done, payload) = (go.clone(), done.clone(), payload.clone());
                std::thread::spawn(move || -> anyhow::Result<f64> {
                    // Over the whole run: the clock-tick resolution is 10 ms, and waiting at
                    // a barrier costs next to nothing.
                    let before = cpu_seconds_of("/proc/thread-self/stat");
                    // A failed write ends the writing, not the barriers: the others wait there.
                    let mut failed = None;
                    for _ in 0..messages {
                        go.wait();
                        if failed.is_none() {
                            failed = sockets.iter_mut().find_map(|s| s.write_all(&payload).err());
                        }
                        done.wait();
                    }
                    if let Some(error) = failed {
                        return Err(error.into());
                    }
                    Ok(cpu_seconds_of("/proc/thread-self/stat")? - before?)
                })
            })
            .collect();
        let mut last = Vec::with_capacity(messages);
        for _ in 0..messages {
            std::thread::sleep(GAP);
            let started = Instant::now();
            go.wait();
            done.wait();
            // Timed at the reader's word: the pipe adds microseconds to a 100 ms figure.
            expect_line(&lines, "done")?;
            last.push(started.elapsed());
        }
        let mut cpu = 0.0;
        for w in writers {
            cpu += w
                .join()
                .map_err(|_| anyhow::anyhow!("a writer panicked"))??;
        }
        Ok((cpu, last))
    })
    .await?;
    drop(child);
    result
}

/// Waits up to `WAIT` for the reader process to say `what`.
fn expect_line(lines: &std::sync::mpsc::Receiver<String>, what: &str) -> anyhow::Result<()> {
    match lines.recv_timeout(WAIT) {
        Ok(line) if line == what => Ok(()),
        Ok(line) => anyhow::bail!("the reader process said {line:?}, not {what:?}"),
        Err(_) => anyhow::bail!("the reader process did not say {what:?} within {WAIT:?}"),
    }
}

/// The reader process, ended with its owner.
struct Reader(std::process::Child);

impl Drop for Reader {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Round trips per second over `n` sockets, each with one request in flight.
async fn round_trips(n: usize, seconds: u64) -> anyhow::Result<f64> {
    let (accepted, connected) = pairs(n).await?;
    for mut s in accepted {
        tokio::spawn(async move {
            let (mut req, reply) = ([0u8; REQUEST], [b'a'; REPLY]);
            while s.read_exact(&mut req).await.is_ok() {
                if s.write_all(&reply).await.is_err() {
                    break;
                }
            }
        });
    }
    let completed = Arc::new(AtomicU64::new(0));
    let stop_at = Instant::now() + Duration::from_secs(seconds.max(1));
    let clients: Vec<_> = connected
        .into_iter()
        .map(|mut s| {
            let completed = completed.clone();
            tokio::spawn(async move {
                let (req, mut reply) = ([b'r'; REQUEST], [0u8; REPLY]);
                while Instant::now() < stop_at {
                    s.write_all(&req).await?;
                    s.read_exact(&mut reply).await?;
                    completed.fetch_add(1, Ordering::Relaxed);
                }
                anyhow::Ok(())
            })
        })
        .collect();
    let started = Instant::now();
    for c in clients {
        c.await??;
    }
    Ok(completed.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}
