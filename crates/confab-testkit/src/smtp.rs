//! An SMTP server of its own beside the tests: `aiosmtpd` (Python; the test command installs
//! it) on loopback, which accepts every message and hands it to the test whole, as sent.
//!
//! A recipient whose local part is `tempfail` is refused with 451 (try again later) and one
//! whose local part is `reject` with 550 (no such user), so tests can see how a sender treats
//! a relay's transient and permanent refusals.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// One message as the server received it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SmtpMessage {
    /// The envelope's `MAIL FROM`.
    pub mail_from: String,
    /// The envelope's accepted `RCPT TO`s.
    pub rcpt_tos: Vec<String>,
    /// The message, headers and body, as sent (decoded as UTF-8, lossily).
    pub data: String,
}

pub struct SmtpServer {
    pub port: u16,
    lines: Lines<BufReader<ChildStdout>>,
    /// Killed on drop (`kill_on_drop`); also exits when its stdin closes with us.
    _child: Child,
}

/// Runs the server, printing `{"ready": true}` once it listens and then one JSON line per
/// message. It stops when its stdin closes, so it cannot outlive the test process.
const SERVER: &str = r#"
import json, sys
from aiosmtpd.controller import Controller

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local == "tempfail":
            return "451 4.3.0 try again later"
        if local == "reject":
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.content.decode("utf-8", errors="replace")
        line = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "data": data}
        print(json.dumps(line), flush=True)
        return "250 OK"

controller = Controller(Handler(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print(json.dumps({"ready": True}), flush=True)
sys.stdin.read()
controller.stop()
"#;

impl SmtpServer {
    pub async fn start() -> anyhow::Result<SmtpServer> {
        let port = crate::free_port()?;
        let python = python();
        let mut child = Command::new(&python)
            .args(["-c", SERVER, &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("running {}", python.display()))?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let mut stderr = child.stderr.take().context("the server's stderr")?;
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await;
        if !matches!(ready, Ok(Ok(Some(ref line))) if line.contains("ready")) {
            let mut why = String::new();
            let _ =
                tokio::time::timeout(Duration::from_secs(5), stderr.read_to_string(&mut why)).await;
            bail!(
                "aiosmtpd did not start within 20 s with {} (the test command installs it; \
                 CONFAB_TEST_PYTHON names another python): {why}",
                python.display()
            );
        }
        // Its log goes to the test's output; unread, a full pipe would stall the server.
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("aiosmtpd: {line}");
            }
        });
        Ok(SmtpServer {
            port,
            lines,
            _child: child,
        })
    }

    /// `smtp://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The next message received, waiting at most `timeout` for it.
    pub async fn next_message(&mut self, timeout: Duration) -> anyhow::Result<SmtpMessage> {
        let line = tokio::time::timeout(timeout, self.lines.next_line())
            .await
            .with_context(|| format!("no message within {timeout:?}"))??
            .context("aiosmtpd exited")?;
        serde_json::from_str(&line).with_context(|| format!("aiosmtpd printed {line}"))
    }
}

/// The python that has aiosmtpd: `CONFAB_TEST_PYTHON` (the test command sets it), else the
/// test command's virtualenv under the workspace's `target/`, else `python3` from PATH.
fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("CONFAB_TEST_PYTHON") {
        return python.into();
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/smtp-venv/bin/python3");
    if venv.exists() {
        return venv;
    }
    "python3".into()
}
