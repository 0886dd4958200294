//! What notification tests run beside the server: an HTTP receiver on loopback (for the
//! webhook and a push service) that records every request, a check of webhook signatures,
//! and a wait for the server to have nothing left to deliver. Shared by the server and
//! fleet tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::harness::{Server, WAIT, s};

pub const SECRET: &str = "a webhook secret of some length";

/// One request a receiver got.
#[derive(Debug)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("json body")
    }
}

/// An HTTP server on loopback that records every request and answers `status`.
pub struct Receiver {
    pub url: String,
    pub status: Arc<AtomicU16>,
    rx: mpsc::UnboundedReceiver<Received>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let (tx, rx) = mpsc::unbounded_channel();
        let status = Arc::new(AtomicU16::new(201));
        let answer = status.clone();
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                let tx = tx.clone();
                let answer = answer.clone();
                async move {
                    let _ = tx.send(Received {
                        path: uri.path().to_owned(),
                        headers,
                        body,
                    });
                    StatusCode::from_u16(answer.load(Ordering::SeqCst)).unwrap_or(StatusCode::OK)
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a receiver");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url, status, rx }
    }

    pub async fn next(&mut self) -> Received {
        tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .expect("a request in time")
            .expect("receiver running")
    }

    /// Whatever arrived and was not read yet.
    pub fn rest(&mut self) -> Vec<Received> {
        let mut out = Vec::new();
        while let Ok(r) = self.rx.try_recv() {
            out.push(r);
        }
        out
    }
}

/// Waits until the server, counting after this call began, has nothing left to expand or
/// deliver.
pub async fn settled(server: &Server) {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let metrics = server.metrics().await;
        let value = |name: &str| {
            metrics
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse::<f64>().ok())
        };
        let items = value("confab_notifications_pending{what=\"items\"}");
        let jobs = value("confab_notifications_pending{what=\"jobs\"}");
        let counted = value("confab_notifications_counted_at_seconds").unwrap_or(0.0);
        if counted > since && items == Some(0.0) && jobs == Some(0.0) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "notifications still pending: {items:?} {jobs:?}"
        );
        // The worker counts once a round (every 50 ms here): look again soon.
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A webhook delivery, checked for a valid signature: (recipient id, bodies).
pub fn webhook(r: &Received) -> (String, Vec<String>) {
    assert_eq!(r.path, "/hook");
    let ts = r.headers[confab_notify::TIMESTAMP_HEADER]
        .to_str()
        .expect("timestamp");
    let sig = r.headers[confab_notify::SIGNATURE_HEADER]
        .to_str()
        .expect("signature");
    let now = ts.parse::<i64>().expect("unix seconds");
    assert!(
        confab_notify::verify_signature(SECRET.as_bytes(), ts, &r.body, sig, now, 300),
        "a valid signature"
    );
    assert!(
        !confab_notify::verify_signature(b"another secret entirely", ts, &r.body, sig, now, 300),
        "not valid under another secret"
    );
    let v = r.json();
    let bodies = v["notifications"]
        .as_array()
        .expect("notifications")
        .iter()
        .map(|n| n["body"].as_str().unwrap_or("").to_owned())
        .collect();
    (s(&v["user"]["id"]), bodies)
}
