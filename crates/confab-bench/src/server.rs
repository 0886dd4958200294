//! The server under test: a `confab serve` process the bench starts on a fresh data directory,
//! and what `/proc` says about it.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct Server {
    child: Child,
    pub pid: u32,
    pub addr: String,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts `binary` with limits lifted so the bench measures the server, not its guards.
    pub async fn start(binary: &Path, extra: &[String]) -> anyhow::Result<Server> {
        let dir = tempfile::tempdir()?;
        let mut child = Command::new(binary)
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
            ])
            .args(extra)
            .env("CONFAB_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let pid = child.id().context("server pid")?;
        let stdout = child.stdout.take().context("server stdout")?;
        let line = tokio::time::timeout(
            Duration::from_secs(30),
            BufReader::new(stdout).lines().next_line(),
        )
        .await
        .context("server did not start in 30 s")??
        .context("server exited before listening")?;
        let Some(addr) = line
            .rsplit("http://")
            .next()
            .map(str::trim)
            .map(str::to_owned)
        else {
            bail!("unexpected first line {line:?}");
        };
        Ok(Server {
            child,
            pid,
            addr,
            _dir: dir,
        })
    }

    pub fn http(&self) -> String {
        format!("http://{}/api/v1", self.addr)
    }

    pub fn ws(&self) -> String {
        format!("ws://{}/api/v1/ws", self.addr)
    }

    /// Resident memory, in bytes.
    pub fn rss_bytes(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .context("VmRSS")?
            .parse()?;
        Ok(kb * 1024)
    }

    /// CPU time used so far (user + system), in seconds.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid))?;
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

    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
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
