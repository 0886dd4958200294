//! `POST /sync` on the wire: every channel's catch-up in one call (docs/protocol.md).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{ChannelWire, MessageWire};

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    /// Your cursor (`next_cursor` as last stored) per channel ID; channels you hold none for
    /// come back with their state and no messages. At most 1,000.
    #[serde(default, deserialize_with = "crate::integer::map_i64")]
    #[schema(schema_with = cursors_schema)]
    pub cursors: HashMap<String, i64>,
    /// Messages per channel at most: 1 to 200, 50 when absent.
    #[serde(default, deserialize_with = "crate::integer::option_u32")]
    #[schema(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// `{channel ID: cursor}`: UUID keys, cursors from 0 to 2^53 − 1, at most 1,000 of them.
fn cursors_schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{AdditionalProperties, KnownFormat, SchemaFormat, Type};
    use utoipa::openapi::{ObjectBuilder, schema::SchemaType};
    let key = ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)));
    let cursor = ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Integer))
        .minimum(Some(0))
        // What JSON numbers carry exactly (and JavaScript's largest safe integer).
        .maximum(Some(9_007_199_254_740_991_i64));
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Object))
        .property_names(Some(key))
        .additional_properties(Some(AdditionalProperties::RefOr(cursor.into())))
        .max_properties(Some(1000))
        .build()
}

/// One channel you are in, as it is now.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SyncChannelWire {
    pub channel: ChannelWire,
    pub last_read_seq: i64,
    pub unread_count: i64,
    pub mention_count: i64,
    /// Every message changed after your cursor, in its current state, ascending by
    /// `version`, as the changes feed gives them.
    pub messages: Vec<MessageWire>,
    /// Your cursor for this channel from now on.
    pub next_cursor: i64,
    /// More changes follow: call again with `next_cursor` (or read the feed).
    pub has_more: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SyncResponse {
    /// Every channel you are in, in every workspace of yours.
    pub channels: Vec<SyncChannelWire>,
    /// Channels you sent a cursor for and are no longer in (or cannot see): drop them.
    pub removed: Vec<String>,
    /// No channel says `has_more`.
    pub complete: bool,
}
