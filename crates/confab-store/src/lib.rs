//! The system of record. [`Store`] is the one interface the chat service writes and reads
//! through; each backend (SQLite, PostgreSQL) implements it and passes the same
//! behaviour suite ([`testsuite`]). SQL lives in this crate and nowhere else.
//!
//! Every change in a channel takes the channel's next sequence number in the same transaction
//! that stores the change, and is recorded in the channel's change log, so the changes feed,
//! the gateways' hole-filling and reconnect catch-up all read one ordered history.

mod accounts;
mod changes;
mod channels;
mod drafts;
mod error;
mod feed;
mod files;
mod messages;
mod notify;
pub mod postgres;
mod reads;
mod rows;
mod search;
mod send_queue;
mod sessions;
mod sql;
pub mod sqlite;
#[cfg(feature = "testsuite")]
pub mod testsuite;
mod workspaces;

use confab_core::ChannelEvent;

pub use accounts::{AccountStore, NewUser, ProfileChange};
pub use channels::{ChannelStore, NewChannel};
pub use drafts::DraftStore;
pub use error::{Missing, StoreError};
pub use files::{FileState, FileStore, FilesPage, NewFile, StoredFile};
pub use messages::{ChangesPage, MessageStore, NewMessage, SendOutcome};
pub use notify::{
    DeliveryClaim, NewNotification, NotifyJob, NotifyStore, PendingNotification, PushSubscription,
    Settled, Withdrawn,
};
pub use reads::{ChannelView, ReadStore};
pub use search::{
    SEARCH_COUNT_CAP, SearchCursor, SearchHit, SearchOrder, SearchPage, SearchRequest, SearchStore,
};
pub use sessions::{NewSession, SessionInfo, SessionLifetime, SessionStore};
pub use workspaces::{JoinedWorkspace, NewInvite, NewWorkspace, WorkspaceStore};

pub type StoreResult<T> = Result<T, StoreError>;

/// Every area's trait, for code that calls a backend by its own type (a `dyn Store` needs no
/// import: its supertraits' methods are its own).
pub mod prelude {
    pub use crate::{
        AccountStore, ChannelStore, DraftStore, FileStore, MessageStore, NotifyStore, ReadStore,
        SearchStore, SessionStore, Store, WorkspaceStore,
    };
}

/// A change committed by a write, with the events it produced for the bus.
#[derive(Debug)]
pub struct Committed<T> {
    pub value: T,
    pub events: Vec<ChannelEvent>,
}

/// Everything the chat service stores and reads, by area.
pub trait Store:
    AccountStore
    + SessionStore
    + WorkspaceStore
    + ChannelStore
    + MessageStore
    + ReadStore
    + DraftStore
    + FileStore
    + SearchStore
    + NotifyStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: AccountStore
        + SessionStore
        + WorkspaceStore
        + ChannelStore
        + MessageStore
        + ReadStore
        + DraftStore
        + FileStore
        + SearchStore
        + NotifyStore
        + Send
        + Sync
        + 'static
{
}
