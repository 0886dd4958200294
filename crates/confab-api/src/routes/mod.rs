//! One file per route group.

pub mod auth;
pub mod channels;
pub mod files;
pub mod messages;
pub mod notify;
pub mod profile;
pub mod search;
pub mod workspaces;
