//! The `uploads` scenario: N uploads of S MiB at once (each `POST /files`, then its bytes
//! streamed by `PUT` to the signed URL), then M one after another, while a thread reads the
//! server's resident memory every 50 ms. Measured: throughput, per-upload times, the peak RSS
//! over what it was before (SPEC: 50 concurrent 25 MiB uploads without buffering any whole in
//! memory), failures, and uploads read back and compared byte for byte.
//!
//! The bench buffers nothing whole either: every body is a stream of slices of one shared
//! pattern, each upload starting at its own offset in it, so a file stored under another's ID
//! or out of order does not read back as its own.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::json;

use crate::client::{Api, User, str_of};
use crate::report::Report;
use crate::server::{Server, cpu_seconds_of, rss_of};

const MIB: u64 = 1024 * 1024;
/// The server's own default `max_upload_bytes`; larger uploads raise it.
const DEFAULT_MAX_UPLOAD: u64 = 25 * MIB;
/// Bytes per body chunk handed to the HTTP client.
const CHUNK: usize = 64 * 1024;
/// The pattern's period: not a multiple of `CHUNK`, so chunks start at ever-changing offsets.
const PERIOD: usize = 1024 * 1024 + 7;
/// How far apart consecutive uploads start in the pattern.
const SHIFT: usize = 7_919;
const SAMPLE_EVERY: Duration = Duration::from_millis(50);

#[derive(clap::Args, Debug, Clone)]
pub struct Params {
    /// Uploads in flight at once.
    #[arg(long, default_value_t = 50)]
    pub concurrent: usize,
    /// Size of each upload, in MiB.
    #[arg(long, default_value_t = 25)]
    pub size_mib: u64,
    /// Uploads one after another after the concurrent ones, for one upload's throughput
    /// alone (0: none).
    #[arg(long, default_value_t = 1)]
    pub sequential: usize,
    /// Users the uploads are spread over, round-robin.
    #[arg(long, default_value_t = 1)]
    pub users: usize,
    /// Read every upload back and compare it (by default the first of each phase).
    #[arg(long)]
    pub verify_all: bool,
}

impl Params {
    fn size(&self) -> u64 {
        self.size_mib * MIB
    }
}

/// The server's flags for this scenario: no upload rate limit and no bound on one user's
/// uploads in flight (the bench is a load, not an abuser), and room for uploads larger than
/// the default limit.
pub fn server_flags(p: &Params) -> Vec<String> {
    vec![
        "--upload-rate-per-min".into(),
        "0".into(),
        "--max-uploads-per-user".into(),
        "0".into(),
        "--max-uploads-in-flight".into(),
        "0".into(),
        "--max-upload-bytes".into(),
        p.size().max(DEFAULT_MAX_UPLOAD).to_string(),
    ]
}

/// Where the HTTP client sends requests, and as whom.
struct Target {
    api: Api,
    /// `http://host:port`, for the server's path-only upload URLs.
    origin: String,
    users: Vec<User>,
    workspace: String,
    size: u64,
}

/// One phase's uploads: each one's number, file ID and time (`POST` to the `PUT`'s 200).
struct Phase {
    done: Vec<(usize, String, Duration)>,
    failed: usize,
    wall: Duration,
    rss_before: u64,
    rss_peak: u64,
    /// CPU seconds used by the server and by this process (they share the box's cores).
    cpu: f64,
    bench_cpu: f64,
}

pub async fn uploads(server: &Server, p: Params) -> anyhow::Result<Report> {
    anyhow::ensure!(
        p.size_mib > 0 && p.users > 0,
        "uploads need a size and a user"
    );
    let api = Api::new(server.http());
    let (users, workspace, _) = api.team(p.users).await?;
    let target = Arc::new(Target {
        api,
        origin: format!("http://{}", server.addr),
        users,
        workspace,
        size: p.size(),
    });
    let concurrent = phase(server, &target, 0..p.concurrent, p.concurrent).await?;
    let sequential = phase(
        server,
        &target,
        p.concurrent..p.concurrent + p.sequential,
        1,
    )
    .await?;
    let (mut read_back, mut intact) = (0, 0);
    for ph in [&concurrent, &sequential] {
        let take = if p.verify_all { ph.done.len() } else { 1 };
        for (n, id, _) in ph.done.iter().take(take) {
            read_back += 1;
            match read_and_compare(&target, *n, id).await {
                Ok(()) => intact += 1,
                Err(e) => eprintln!("upload {n} ({id}) did not read back: {e:#}"),
            }
        }
    }

    let mut r = Report::new(
        "uploads",
        json!({"concurrent": p.concurrent, "size_mib": p.size_mib, "sequential": p.sequential,
               "users": p.users, "store": server.store_name(), "gateways": server.topology.gateways}),
    );
    if p.concurrent > 0 {
        add_phase(&mut r, "concurrent", &concurrent, p.size(), true);
    }
    if p.sequential > 0 {
        add_phase(&mut r, "one at a time", &sequential, p.size(), false);
    }
    r.add("uploads read back", read_back as f64, "", None);
    r.add("uploads read back intact", intact as f64, "", None);
    Ok(r)
}

fn add_phase(r: &mut Report, name: &str, ph: &Phase, size: u64, headline: bool) {
    let mib = |bytes: u64| bytes as f64 / MIB as f64;
    let bytes = ph.done.len() as u64 * size;
    let secs = ph.wall.as_secs_f64();
    r.add(
        format!("{name}: uploads answered 200"),
        ph.done.len() as f64,
        "",
        None,
    );
    r.add(
        format!("{name}: uploads failed"),
        ph.failed as f64,
        "",
        None,
    );
    r.add(format!("{name}: bytes stored"), mib(bytes), "MiB", None);
    r.add(format!("{name}: wall time"), secs, "s", None);
    r.add(
        format!("{name}: throughput"),
        if secs > 0.0 { mib(bytes) / secs } else { 0.0 },
        "MiB/s",
        None,
    );
    let mut times: Vec<Duration> = ph.done.iter().map(|(_, _, t)| *t).collect();
    if let [one] = times[..] {
        r.add(
            format!("{name}: upload time"),
            one.as_secs_f64() * 1000.0,
            "ms",
            None,
        );
    } else {
        r.latencies(
            ["p50", "p95", "p99", "max"].map(|q| format!("{name}: upload {q}")),
            &mut times,
            [None; 4],
        );
    }
    r.add(
        format!("{name}: server RSS before"),
        mib(ph.rss_before),
        "MiB",
        None,
    );
    r.add(
        format!("{name}: server RSS peak"),
        mib(ph.rss_peak),
        "MiB",
        None,
    );
    r.add(
        format!("{name}: server RSS growth at peak"),
        mib(ph.rss_peak.saturating_sub(ph.rss_before)),
        "MiB",
        headline.then_some("≪ N × size: none buffered whole"),
    );
    r.add(format!("{name}: server CPU used"), ph.cpu, "s", None);
    r.add(format!("{name}: bench CPU used"), ph.bench_cpu, "s", None);
}

/// Uploads numbered `numbers`, `parallel` at a time, with the server's RSS sampled
/// throughout. A failed upload is counted and told on stderr; the others go on.
async fn phase(
    server: &Server,
    target: &Arc<Target>,
    numbers: std::ops::Range<usize>,
    parallel: usize,
) -> anyhow::Result<Phase> {
    let pid = server.http_pid();
    let rss_before = rss_of(pid)?;
    let cpu_before = server.cpu_seconds()?;
    let bench_cpu_before = cpu_seconds_of("/proc/self/stat")?;
    let sampler = Sampler::start(pid);
    let started = Instant::now();
    let results: Vec<(usize, anyhow::Result<(String, Duration)>)> =
        futures_util::stream::iter(numbers)
            .map(|n| {
                let target = target.clone();
                async move {
                    let result = tokio::spawn(async move { upload(&target, n).await }).await;
                    (n, result.map_err(anyhow::Error::from).and_then(|r| r))
                }
            })
            .buffer_unordered(parallel.max(1))
            .collect()
            .await;
    let wall = started.elapsed();
    let rss_peak = sampler.stop().await?.max(rss_before);
    let cpu = server.cpu_seconds()? - cpu_before;
    let bench_cpu = cpu_seconds_of("/proc/self/stat")? - bench_cpu_before;
    let (mut done, mut failed) = (Vec::new(), 0);
    for (n, result) in results {
        match result {
            Ok((id, time)) => done.push((n, id, time)),
            Err(e) => {
                failed += 1;
                eprintln!("upload {n} failed: {e:#}");
            }
        }
    }
    done.sort_by_key(|(n, _, _)| *n);
    Ok(Phase {
        done,
        failed,
        wall,
        rss_before,
        rss_peak,
        cpu,
        bench_cpu,
    })
}

/// Upload `n`: asks for an upload URL, then streams its bytes there. Returns the file's ID
/// and the time from the ask to the 200.
async fn upload(t: &Target, n: usize) -> anyhow::Result<(String, Duration)> {
    let user = &t.users[n % t.users.len()];
    let started = Instant::now();
    let ticket = t
        .api
        .post(
            Some(&user.token),
            "/files",
            json!({"filename": format!("bench-{n}.bin"), "size": t.size,
                   "content_type": "application/octet-stream", "workspace_id": t.workspace}),
        )
        .await?;
    let id = str_of(&ticket["file_id"])?;
    let url = str_of(&ticket["upload_url"])?;
    let url = if url.starts_with('/') {
        format!("{}{url}", t.origin)
    } else {
        url
    };
    let response = t
        .api
        .http
        .put(url)
        .header(reqwest::header::CONTENT_LENGTH, t.size)
        .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
        .body(reqwest::Body::wrap_stream(body(n, t.size)))
        .send()
        .await
        .context("PUT")?;
    let status = response.status();
    let answer = response.text().await.unwrap_or_default();
    if status != reqwest::StatusCode::OK {
        bail!("PUT: {status} {answer}");
    }
    Ok((id, started.elapsed()))
}

/// Upload `n`'s body: `size` bytes in `CHUNK`s, each a slice of the shared pattern (nothing
/// copied, nothing allocated per upload).
fn body(
    n: usize,
    size: u64,
) -> impl futures_util::Stream<Item = Result<&'static [u8], std::io::Error>> + Send + 'static {
    let chunks = size.div_ceil(CHUNK as u64);
    futures_util::stream::iter((0..chunks).map(move |k| {
        let offset = k * CHUNK as u64;
        let len = (size - offset).min(CHUNK as u64) as usize;
        let start = start_of(n, offset);
        Ok(&pattern()[start..start + len])
    }))
}

/// Where byte `offset` of upload `n` is in the pattern.
fn start_of(n: usize, offset: u64) -> usize {
    ((offset + (n * SHIFT) as u64) % PERIOD as u64) as usize
}

/// Two periods of splitmix64 output, so any `CHUNK` from any start in the first period is
/// one slice.
fn pattern() -> &'static [u8] {
    static PATTERN: OnceLock<Vec<u8>> = OnceLock::new();
    PATTERN.get_or_init(|| {
        let mut state = 0x5EED_u64;
        let period: Vec<u8> = (0..PERIOD.div_ceil(8))
            .flat_map(|_| {
                state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                (z ^ (z >> 31)).to_le_bytes()
            })
            .take(PERIOD)
            .collect();
        [period.as_slice(), period.as_slice()].concat()
    })
}

/// Downloads file `id` (as upload `n`'s uploader) and compares it with what was sent, as it
/// streams in.
async fn read_and_compare(t: &Target, n: usize, id: &str) -> anyhow::Result<()> {
    let user = &t.users[n % t.users.len()];
    let mut response = t
        .api
        .http
        .get(format!("{}/api/v1/files/{id}/content", t.origin))
        .bearer_auth(&user.token)
        .send()
        .await?;
    let status = response.status();
    if !status.is_success() {
        bail!("GET content: {status}");
    }
    let mut offset = 0u64;
    while let Some(chunk) = response.chunk().await? {
        anyhow::ensure!(
            offset + chunk.len() as u64 <= t.size,
            "more than {} bytes",
            t.size
        );
        let mut pos = 0;
        while pos < chunk.len() {
            let start = start_of(n, offset + pos as u64);
            let len = (chunk.len() - pos).min(PERIOD - start);
            anyhow::ensure!(
                chunk[pos..pos + len] == pattern()[start..start + len],
                "bytes differ within {len} bytes of offset {}",
                offset + pos as u64
            );
            pos += len;
        }
        offset += chunk.len() as u64;
    }
    anyhow::ensure!(offset == t.size, "{offset} of {} bytes", t.size);
    Ok(())
}

/// A thread reading a process's RSS every `SAMPLE_EVERY`, keeping the largest. A thread of
/// its own, so the uploads keeping the bench's runtime busy cannot delay its samples.
struct Sampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<anyhow::Result<u64>>,
}

impl Sampler {
    fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peak = 0;
            loop {
                peak = peak.max(rss_of(pid)?);
                if flag.load(Ordering::Acquire) {
                    return Ok(peak);
                }
                std::thread::sleep(SAMPLE_EVERY);
            }
        });
        Self { stop, thread }
    }

    /// The peak, including one last sample taken now.
    async fn stop(self) -> anyhow::Result<u64> {
        self.stop.store(true, Ordering::Release);
        let thread = self.thread;
        tokio::task::spawn_blocking(move || thread.join())
            .await?
            .map_err(|_| anyhow::anyhow!("the RSS sampler panicked"))?
    }
}
