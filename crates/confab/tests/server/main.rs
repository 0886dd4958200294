//! Behaviour of the whole server: the real binary, real SQLite files, real WebSocket clients.

mod abuse;
mod access;
mod contract;
mod convergence;
mod conversations;
mod durability;
mod harness;
mod limits;
mod messaging;
mod ops;
mod ordering;
mod people;
mod sessions;
