//! Behaviour of the whole server: the real binary, real SQLite files, real WebSocket clients.

mod abuse;
mod access;
mod authorization;
mod contract;
mod convergence;
mod drafts;
mod durability;
mod files;
mod harness;
mod history;
mod limits;
mod messaging;
mod notify;
mod ops;
mod ordering;
mod people;
mod presence;
mod receivers;
mod search;
mod sessions;
mod threads;
mod web;
mod websocket_limits;
