//! An HTTP server standing in for a push service or a webhook's receiver: a real axum server
//! on 127.0.0.1 that answers every request with one status and hands each request to the
//! test. With a gate, it holds each request until the test lets it go, counting how many
//! it holds at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use tokio::sync::{Semaphore, mpsc};

use super::within;

pub struct Request {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Request {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header"))
    }
}

struct Shared {
    status: StatusCode,
    requests: mpsc::UnboundedSender<Request>,
    gate: Option<Arc<Semaphore>>,
    held: AtomicUsize,
    most_held: AtomicUsize,
}

pub struct Receiver {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    requests: mpsc::UnboundedReceiver<Request>,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start(status: StatusCode) -> Receiver {
        Self::start_gated(status, None).await
    }

    /// Each request waits for a permit of `gate` before it is answered.
    pub async fn start_gated(status: StatusCode, gate: Option<Arc<Semaphore>>) -> Receiver {
        let (tx, requests) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            status,
            requests: tx,
            gate,
            held: AtomicUsize::new(0),
            most_held: AtomicUsize::new(0),
        });
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("receiver serves");
        });
        Receiver {
            url,
            requests,
            shared,
            server,
        }
    }

    pub async fn next(&mut self) -> Request {
        within(self.requests.recv())
            .await
            .expect("receiver is running")
    }

    /// The most requests held at once by the gate.
    pub fn most_held(&self) -> usize {
        self.shared.most_held.load(Ordering::SeqCst)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn answer(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let held = shared.held.fetch_add(1, Ordering::SeqCst) + 1;
    shared.most_held.fetch_max(held, Ordering::SeqCst);
    let _ = shared.requests.send(Request {
        path: uri.path().to_owned(),
        headers,
        body,
    });
    if let Some(gate) = &shared.gate {
        // Bounded by the sink's request timeout, which gives up on us.
        if let Ok(permit) = gate.acquire().await {
            permit.forget();
        }
    }
    shared.held.fetch_sub(1, Ordering::SeqCst);
    shared.status
}
