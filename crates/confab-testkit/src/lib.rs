//! What confab's tests and its bench run beside confab, done once: scratch PostgreSQL
//! databases ([`ScratchDb`]), private PostgreSQL and Redis servers that a test may crash and
//! restart ([`PrivatePostgres`], [`PrivateRedis`]), an S3-compatible server ([`PrivateS3`]),
//! an SMTP server that hands tests what it receives ([`SmtpServer`]), starting `confab serve`
//! and reading its address ([`serve::start`]), and names and ports no other test uses.
//! It drives the servers' own tools (`psql`, `initdb`, `redis-server`, `s3s-fs`, Python's
//! `aiosmtpd`), so it needs no confab crate and no SQL driver.

mod postgres;
mod redis;
mod s3;
pub mod serve;
mod smtp;

pub use postgres::{PrivatePostgres, ScratchDb, psql};
pub use redis::PrivateRedis;
pub use s3::PrivateS3;
pub use smtp::{SmtpMessage, SmtpServer};

/// A name no other test (or test run) uses.
pub fn unique_name(what: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{what}_{}_{}_{}",
        std::process::id(),
        nanos,
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// A loopback port free now (the OS picked it; nothing holds it after this returns).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
