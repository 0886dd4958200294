//! The confab binary's library half: configuration, wiring and the server lifecycle, so tests
//! and tools can start a whole confab in-process as `main` does.

pub mod admin;
pub mod backend;
pub mod config;
mod files;
mod http_serve;
mod notify;
pub mod server;
