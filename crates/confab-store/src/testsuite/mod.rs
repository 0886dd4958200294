//! The store behaviour suite: written once against [`Store`], instantiated for every backend
//! with [`store_behaviour_suite!`](crate::store_behaviour_suite), so no backend can drift from
//! the others.

mod accounts;
mod channels;
mod drafts;
mod feed;
mod files;
mod messages;
mod notify;
mod reads;
mod search;
mod sends;
mod workspaces;

pub use accounts::*;
pub use channels::*;
pub use drafts::*;
pub use feed::*;
pub use files::*;
pub use messages::*;
pub use notify::*;
pub use reads::*;
pub use search::*;
pub use sends::*;
pub use workspaces::*;

use std::any::Any;
use std::collections::BTreeSet;
use std::sync::Arc;

use confab_core::{
    Change, ChannelId, ChannelKind, Mentions, MessageId, Role, SessionId, Timestamp, UserId,
    WorkspaceId,
};

use crate::{
    NewChannel, NewInvite, NewMessage, NewSession, NewUser, NewWorkspace, SessionLifetime, Store,
    StoreError,
};

/// A store under test and whatever must live as long as it (a temporary directory, a scratch
/// database).
pub struct Fixture {
    pub store: Arc<dyn Store>,
    pub guard: Box<dyn Any + Send>,
}

/// Instantiates every behaviour test for a backend. `$make` is an expression evaluating to a
/// future of a fresh [`Fixture`]; it is evaluated once per test.
#[macro_export]
macro_rules! store_behaviour_suite {
    ($make:expr) => {
        $crate::store_behaviour_suite!(@tests $make;
            users_are_unique_by_username,
            sessions_resolve_until_deleted,
            sessions_expire_idle_and_absolutely,
            sessions_are_listed_and_revoked_one_or_all_others,
            tickets_are_single_use_expire_and_die_with_their_session,
            devices_are_remembered_twenty_at_most,
            workspace_creation_makes_owner_and_general,
            workspace_members_join_general_but_guests_do_not,
            invites_add_members_until_used_up_or_expired,
            workspace_members_page_by_username,
            channel_names_are_unique_per_workspace,
            channel_list_shows_public_and_own_channels,
            channel_access_reads_role_and_membership_at_once,
            browsing_lists_public_channels_one_is_not_in_with_member_counts,

            dms_are_found_by_member_set,
            membership_changes_take_sequence_numbers,
            sends_take_gap_free_sequence_numbers,
            retried_sends_return_the_original,
            non_members_cannot_send_and_nothing_is_written,
            concurrent_sends_are_gap_free,
            mixed_concurrent_sends_commit_independently,
            bursts_of_sends_and_replies_store_exactly_what_was_sent,
            a_burst_of_long_messages_is_stored_whole,

            changes_feed_pages_and_cursor,
            feed_pages_at_every_size_add_up_to_one_full_read,
            history_pages_newest_first,
            changes_after_replays_every_kind,
            thread_replies_attach_to_the_root,
            edits_and_deletes_are_changes,
            deleting_a_reply_updates_its_root,
            reactions_are_idempotent_changes,
            read_cursors_only_move_forward,
            unread_and_mention_counts,
            channel_updates_are_changes,
            here_recipients_count_but_are_never_read_back,
            reactions_and_repliers_are_bounded,
            mention_names_resolve_within_the_workspace,
            drafts_are_kept_per_composer_and_cleared_by_sending,
            drafts_beyond_the_limit_forget_the_oldest,
            profiles_change_only_what_is_given,
            files_attach_once_to_their_authors_sends_and_go_with_the_message,
            thumbnails_change_the_message_they_are_on,
            quotas_count_live_files_in_one_transaction,
            the_sweep_claims_unattached_and_deleted_files_only,
            channel_files_page_newest_first,
            two_sends_racing_for_one_file_attach_it_once,
            upload_objects_are_forgotten_once_their_urls_close,
            search_finds_parts_of_words_accents_stems_code_and_cjk,
            search_index_follows_edits_and_deletes_at_once,
            search_finds_only_what_the_caller_may_read_now,
            search_operators_filter_by_channel_person_date_and_kind,
            search_pages_add_up_to_every_match_once,
            search_counts_estimate_only_what_the_caller_may_read,
            messages_that_may_notify_leave_a_job_in_their_transaction,
            jobs_and_deliveries_are_claimed_by_one_worker_at_a_time,
            a_broadcast_completes_whole_in_one_transaction,
            deleting_a_message_drops_its_pending_notifications,
            notification_preferences_round_trip,
            thread_followers_are_starters_repliers_and_who_chose,
            push_subscriptions_belong_to_a_live_session
        );
    };
    (@tests $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let fixture: $crate::testsuite::Fixture = $make.await;
                $crate::testsuite::$name(&*fixture.store).await;
                drop(fixture);
            }
        )*
    };
}

fn expect<T>(r: Result<T, StoreError>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: {e:?}"),
    }
}

async fn user(store: &dyn Store, name: &str) -> UserId {
    let id = UserId::generate();
    expect(
        store
            .create_user(NewUser {
                id: id.clone(),
                username: name.to_owned(),
                display_name: name.to_uppercase(),
                email: None,
                password_hash: "hash".to_owned(),
                created_at: Timestamp::now(),
            })
            .await,
        "create user",
    );
    id
}

async fn workspace(store: &dyn Store, owner: &UserId) -> (WorkspaceId, ChannelId) {
    let id = WorkspaceId::generate();
    let general = ChannelId::generate();
    expect(
        store
            .create_workspace(NewWorkspace {
                id: id.clone(),
                name: "Acme".to_owned(),
                owner: owner.clone(),
                general_channel_id: general.clone(),
                created_at: Timestamp::now(),
            })
            .await,
        "create workspace",
    );
    (id, general)
}

/// A user owning a fresh workspace, and its `#general`: the start of most tests outside the
/// suite too.
pub async fn owner_with_general(store: &dyn Store, name: &str) -> (UserId, ChannelId) {
    let owner = user(store, name).await;
    let (_, general) = workspace(store, &owner).await;
    (owner, general)
}

/// Adds `user` to the workspace as a member (and so to `#general`).
async fn add_member(store: &dyn Store, ws: &WorkspaceId, user: &UserId) {
    expect(
        store
            .add_workspace_member(ws, user, Role::Member, Timestamp::now())
            .await,
        "add a member",
    );
}

fn new_channel(ws: &WorkspaceId, creator: &UserId, name: &str, kind: ChannelKind) -> NewChannel {
    NewChannel {
        id: ChannelId::generate(),
        workspace_id: ws.clone(),
        kind,
        name: (kind != ChannelKind::Dm).then(|| name.to_owned()),
        topic: String::new(),
        created_by: creator.clone(),
        created_at: Timestamp::now(),
        other_members: Vec::new(),
    }
}

fn new_message(
    channel: &ChannelId,
    author: &UserId,
    client_msg_id: &str,
    body: &str,
) -> NewMessage {
    NewMessage {
        id: MessageId::generate(),
        channel_id: channel.clone(),
        author_id: author.clone(),
        client_msg_id: client_msg_id.to_owned(),
        body: body.to_owned(),
        thread_root_id: None,
        mentions: Mentions::default(),
        ts: Timestamp::now(),
        files: Vec::new(),
    }
}

/// A public channel created by `creator`.
async fn public_channel(
    store: &dyn Store,
    ws: &WorkspaceId,
    creator: &UserId,
    name: &str,
) -> confab_core::Channel {
    expect(
        store
            .create_channel(new_channel(ws, creator, name, ChannelKind::Public))
            .await,
        "create channel",
    )
    .value
}

/// The message a send created.
async fn stored(store: &dyn Store, m: NewMessage) -> confab_core::Message {
    expect(store.send_message(m).await, "send").message
}

async fn send(store: &dyn Store, channel: &ChannelId, author: &UserId, cid: &str) -> i64 {
    stored(store, new_message(channel, author, cid, cid))
        .await
        .seq
}
