//! The deployment under test: one `confab serve` process the bench starts on a fresh data
//! directory (or a chat service and G gateways meeting on Redis), optionally on a scratch
//! PostgreSQL database, and what `/proc` says about its processes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

/// How to deploy confab for a run.
#[derive(Clone, Debug, Default)]
pub struct Topology {
    /// 0: one process (role `all`); otherwise one chat service and this many gateways.
    pub gateways: usize,
    /// A PostgreSQL server URL: the run gets a scratch database on it (dropped after).
    pub postgres: Option<String>,
    /// Redis for the bus and presence (needed with gateways).
    pub redis: Option<String>,
}

pub struct Server {
    main: Proc,
    gateways: Vec<Proc>,
    /// The all-role process or the chat service: where HTTP goes.
    pub addr: String,
    database: Option<confab_testkit::ScratchDb>,
    pub topology: Topology,
    /// What a gateway is started with, so that a killed one can be started again.
    binary: PathBuf,
    gateway_args: Vec<String>,
}

struct Proc {
    child: Child,
    pid: u32,
    addr: String,
    /// Holds the process's data directory (`data` inside it) until the process is gone.
    dir: tempfile::TempDir,
}

const SECRET: &str = "confab-bench-cluster-secret";

impl Server {
    /// Deploys `binary` as `topology` says, with limits lifted so the bench measures the
    /// server, not its guards.
    pub async fn start(
        binary: &Path,
        extra: &[String],
        topology: Topology,
    ) -> anyhow::Result<Server> {
        let database = topology
            .postgres
            .as_deref()
            .map(confab_testkit::ScratchDb::create)
            .transpose()?;
        let mut main_args: Vec<String> = extra.to_vec();
        if let Some(db) = &database {
            main_args.extend(["--database-url".into(), db.url()]);
        }
        let prefix = format!("confab-bench-{}", std::process::id());
        let shared: Vec<String> = match &topology.redis {
            Some(url) => vec![
                "--redis-url".into(),
                url.clone(),
                "--redis-prefix".into(),
                prefix,
                "--cluster-secret".into(),
                SECRET.into(),
            ],
            None if topology.gateways > 0 => bail!("gateways need --redis"),
            None => Vec::new(),
        };
        main_args.extend(shared.iter().cloned());
        if topology.gateways > 0 {
            main_args.extend(["--role".into(), "chat".into()]);
        }
        let main = Proc::start(binary, &main_args).await?;
        let mut gateways = Vec::new();
        let mut gateway_args: Vec<String> = extra.to_vec();
        gateway_args.extend(shared.iter().cloned());
        gateway_args.extend([
            "--role".into(),
            "gateway".into(),
            "--chat-url".into(),
            format!("http://{}", main.addr),
        ]);
        for _ in 0..topology.gateways {
            gateways.push(Proc::start(binary, &gateway_args).await?);
        }
        Ok(Server {
            addr: main.addr.clone(),
            main,
            gateways,
            database,
            topology,
            binary: binary.to_owned(),
            gateway_args,
        })
    }

    /// The gateways' listening addresses, in order.
    pub fn gateway_addrs(&self) -> Vec<String> {
        self.gateways.iter().map(|p| p.addr.clone()).collect()
    }

    /// `kill -9` gateway `i`: its sockets are closed by the kernel, nothing is flushed.
    pub async fn kill_gateway(&mut self, i: usize) -> anyhow::Result<()> {
        let p = self.gateways.get_mut(i).context("no such gateway")?;
        p.child.start_kill()?;
        p.child.wait().await?;
        Ok(())
    }

    /// Starts gateway `i` again, as it was started (on a new port).
    pub async fn restart_gateway(&mut self, i: usize) -> anyhow::Result<()> {
        let fresh = Proc::start(&self.binary, &self.gateway_args).await?;
        let old = std::mem::replace(self.gateways.get_mut(i).context("no such gateway")?, fresh);
        old.stop().await;
        Ok(())
    }

    fn all(&self) -> impl Iterator<Item = &Proc> {
        std::iter::once(&self.main).chain(&self.gateways)
    }

    /// The processes holding sockets.
    fn socket_holders(&self) -> Vec<&Proc> {
        if self.gateways.is_empty() {
            vec![&self.main]
        } else {
            self.gateways.iter().collect()
        }
    }

    pub fn http(&self) -> String {
        format!("http://{}/api/v1", self.addr)
    }

    /// The WebSocket URL and address of socket holder `k` (round-robin).
    pub fn ws_at(&self, k: usize) -> (String, String) {
        let holders = self.socket_holders();
        let p = holders[k % holders.len()];
        (format!("ws://{}/api/v1/ws", p.addr), p.addr.clone())
    }

    pub fn socket_holder_count(&self) -> usize {
        self.socket_holders().len()
    }

    /// The `/metrics` URLs of the socket holders.
    pub fn socket_metrics_urls(&self) -> Vec<String> {
        self.socket_holders()
            .iter()
            .map(|p| format!("http://{}/metrics", p.addr))
            .collect()
    }

    /// The process answering HTTP (the all-role process or the chat service).
    pub fn http_pid(&self) -> u32 {
        self.main.pid
    }

    /// Resident memory of the socket holders, in bytes.
    pub fn rss_bytes(&self) -> anyhow::Result<u64> {
        self.socket_holders().iter().map(|p| p.rss_bytes()).sum()
    }

    /// CPU time used so far by every confab process (user + system), in seconds.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        self.all().map(|p| p.cpu_seconds()).sum()
    }

    /// Like `cpu_seconds`, without gateway `i` (about to be killed, or dead).
    pub fn cpu_seconds_without_gateway(&self, i: usize) -> anyhow::Result<f64> {
        std::iter::once(&self.main)
            .chain(
                self.gateways
                    .iter()
                    .enumerate()
                    .filter(|(g, _)| *g != i)
                    .map(|(_, p)| p),
            )
            .map(|p| p.cpu_seconds())
            .sum()
    }

    /// The all-role process's (or the chat service's) data directory: where SQLite's
    /// `confab.db` is when there is no `--postgres`.
    pub fn data_dir(&self) -> PathBuf {
        self.main.dir.path().join("data")
    }

    /// `confab admin COMMAND` on this deployment's store (its data directory and database),
    /// with `args` after the command; what it printed.
    pub async fn admin(&self, command: &str, args: &[&str]) -> anyhow::Result<String> {
        let mut cmd = Command::new(&self.binary);
        cmd.args(["admin", command])
            .args(args)
            .arg("--data-dir")
            .arg(self.data_dir());
        if let Some(url) = self.database_url() {
            cmd.args(["--database-url", &url]);
        }
        let out = cmd.output().await.context("running confab admin")?;
        if !out.status.success() {
            bail!(
                "confab admin {command}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The scratch PostgreSQL database's URL, when the store is PostgreSQL.
    pub fn database_url(&self) -> Option<String> {
        self.database.as_ref().map(confab_testkit::ScratchDb::url)
    }

    pub fn store_name(&self) -> &'static str {
        if self.database.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    pub async fn stop(self) {
        for p in self.gateways {
            p.stop().await;
        }
        self.main.stop().await;
        drop(self.database);
    }
}

impl Proc {
    async fn start(binary: &Path, extra: &[String]) -> anyhow::Result<Proc> {
        let dir = tempfile::tempdir()?;
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .args([
                "--send-rate-per-sec",
                "0",
                "--auth-rate-per-min",
                "0",
                "--max-connections",
                "19000",
                // The bench's few users hold thousands of sockets each and change, create
                // and subscribe as fast as they can: a load, not an attack.
                "--max-sockets-per-user",
                "19000",
                "--change-rate-per-sec",
                "0",
                "--create-rate-per-min",
                "0",
                "--presence-rate-per-min",
                "0",
            ])
            .args(extra)
            .env("CONFAB_LOG", "warn")
            .stderr(std::process::Stdio::inherit());
        let started = confab_testkit::serve::start(command, true, Duration::from_secs(30))
            .await
            .with_context(|| format!("starting {}", binary.display()))?;
        let (child, addr) = (started.child, started.addr);
        let pid = child.id().context("server pid")?;
        Ok(Proc {
            child,
            pid,
            addr,
            dir,
        })
    }

    /// Resident memory, in bytes.
    fn rss_bytes(&self) -> anyhow::Result<u64> {
        rss_of(self.pid)
    }

    /// CPU time used so far (user + system), in seconds.
    fn cpu_seconds(&self) -> anyhow::Result<f64> {
        cpu_seconds_of(&format!("/proc/{}/stat", self.pid))
    }

    async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        // For looking at the store after a run (query plans, sizes): kept, and said where.
        if std::env::var_os("CONFAB_BENCH_KEEP_DATA").is_some() {
            eprintln!("kept the data directory {}", self.dir.keep().display());
        }
    }
}

/// Resident memory of process `pid`, in bytes (`VmRSS` in `/proc/PID/status`).
pub fn rss_of(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .context("VmRSS")?
        .parse()?;
    Ok(kb * 1024)
}

/// User + system CPU time, in seconds, from a `/proc/…/stat` file (a process's or, as
/// `/proc/thread-self/stat`, the calling thread's).
pub fn cpu_seconds_of(stat_path: &str) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(stat_path)?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("stat format")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11).context("utime")?.parse::<u64>()?
        + fields.get(12).context("stime")?.parse::<u64>()?;
    Ok(ticks as f64 / clock_ticks())
}

/// `sysconf(_SC_CLK_TCK)`; 100 on every Linux we run on.
fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}
