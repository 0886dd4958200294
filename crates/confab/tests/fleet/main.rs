//! Scale-out behaviour: gateways and chat services as separate processes of the real binary,
//! meeting on a real PostgreSQL and a real Redis, and surviving the restart or death of each.

#[allow(dead_code)]
#[path = "../server/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../server/receivers.rs"]
mod receivers;

mod delivery;
mod files;
mod fleet;
mod notify;
mod outages;
mod restarts;
