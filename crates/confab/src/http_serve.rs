//! The HTTP/1 accept loop, in place of `axum::serve`, which offers no timeouts: a connection
//! must finish each request's headers within the header timeout, counted from the moment it
//! connects or goes idle after a response. So neither a slowloris that never finishes its
//! headers nor an idle keep-alive connection holds a file descriptor for long. WebSocket
//! upgrades leave the loop once upgraded, and their own pings and idle timeout take over.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_service::Service;

/// Backs off after `accept` fails (out of file descriptors, say) rather than spin.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// Serves the router in `app` (each request by the one current when it arrives: a starting
/// server swaps in its whole API once ready) until `stop`, then lets in-flight requests
/// finish and returns.
pub(crate) async fn serve(
    listener: TcpListener,
    app: watch::Receiver<Router>,
    header_timeout: Duration,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let connections = TaskTracker::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                    continue;
                }
            },
        };
        // Frames are small and latency-sensitive: never hold one back waiting for the peer's
        // ACK of the previous (Nagle), which cost ~12 ms per ack under load.
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::warn!(%error, "could not set TCP_NODELAY");
        }
        // The client's address for the handlers (per-address limits), as axum's
        // `into_make_service_with_connect_info` would give it.
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            // A `Router` is always ready and cheap to clone (one `Arc`).
            let mut router = app.borrow().clone();
            router.call(req)
        });
        let conn = builder
            .serve_connection(TokioIo::new(tcp), service)
            .with_upgrades();
        let stop = stop.clone();
        connections.spawn(async move {
            tokio::pin!(conn);
            let result = tokio::select! {
                result = conn.as_mut() => result,
                _ = stop.cancelled() => {
                    // Finish the request under way, then close.
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(error) = result {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
        });
    }
    connections.close();
    connections.wait().await;
    Ok(())
}
