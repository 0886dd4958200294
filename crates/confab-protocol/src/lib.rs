//! confab's public wire format. Everything a client sends or receives is one of these types,
//! so a change to the domain never silently changes the wire. `confab-bench` and the tests
//! speak the protocol through these same types.

pub mod drafts;
pub mod files;
pub mod http;
mod integer;
pub mod internal;
pub mod notify;
pub mod origin;
pub mod search;
pub mod sync;
mod wire;
pub mod ws;

pub use wire::{ChannelWire, MentionsWire, MessageWire, ReactionWire, UserWire, WorkspaceWire};
