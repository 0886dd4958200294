//! Starting `confab serve` and reading what it says it is doing: its first stdout line is
//! `confab listening on http://ADDR` (as soon as it listens), its second `confab ready` (once
//! it serves its whole API). The tests' harness, the fleet and the bench start it through
//! this one reader.

use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A `confab serve` that said where it listens.
pub struct Started {
    pub child: Child,
    /// `HOST:PORT`.
    pub addr: String,
}

/// Spawns `command` (a `confab serve …` its caller built, with its own stderr) with its
/// stdout piped and the process killed when dropped; waits up to `within` for the address,
/// and with `ready` also for `confab ready`.
pub async fn start(mut command: Command, ready: bool, within: Duration) -> anyhow::Result<Started> {
    let mut child = command
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting confab")?;
    let stdout = child.stdout.take().context("confab's stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(within, lines.next_line())
        .await
        .with_context(|| format!("confab did not listen within {within:?}"))??
        .context("confab exited before it listened")?;
    let Some(addr) = line.strip_prefix("confab listening on http://") else {
        bail!("unexpected first line from confab: {line:?}");
    };
    let addr = addr.trim().to_owned();
    if ready {
        let line = tokio::time::timeout(within, lines.next_line())
            .await
            .with_context(|| format!("confab was not ready within {within:?}"))??;
        if line.as_deref() != Some("confab ready") {
            bail!("unexpected second line from confab: {line:?}");
        }
    }
    // Keep reading, so a full pipe never blocks the server.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Started { child, addr })
}
