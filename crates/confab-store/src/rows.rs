//! Turning rows into the domain values both backends read the same way (users, workspaces,
//! channels), from either driver's rows; each backend keeps what differs (messages,
//! whose reactions and mentions each dialect aggregates its own way).

use confab_core::{
    Channel, ChannelKind, Mentions, Role, Timestamp, User, UserId, ValidationError, Workspace,
};
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::error::DbContext;
use crate::{StoreError, StoreResult};

pub(crate) const USER_COLUMNS: &str =
    "id, username, display_name, email, created_at, status_text, status_expires_at";
pub(crate) const WORKSPACE_COLUMNS: &str = "w.id, w.name, w.general_channel_id, w.created_at";
pub(crate) const CHANNEL_COLUMNS: &str = "c.id, c.workspace_id, c.kind, c.name, c.topic, c.dm_key, c.created_by, c.created_at, c.last_seq";

/// `messages.mentions_channel` bit flags, the same in both schemas.
pub(crate) const MENTIONS_CHANNEL: i64 = 1;
pub(crate) const MENTIONS_HERE: i64 = 2;

/// Stored between a message's named mentions and the members `@here` reached, in
/// `messages.mention_ids` (both schemas): the mention counts match either part, reads keep only
/// the first. Never a user ID.
const HERE_SEPARATOR: &str = "*";

/// What `messages.mention_ids` holds for `m`, in order.
pub(crate) fn mention_id_list(m: &Mentions) -> Vec<&str> {
    let mut ids: Vec<&str> = m.user_ids.iter().map(UserId::as_str).collect();
    if !m.here_ids.is_empty() {
        ids.push(HERE_SEPARATOR);
        ids.extend(m.here_ids.iter().map(UserId::as_str));
    }
    ids
}

/// An ID read back from the store, validated as one from any wire is: a damaged row is an
/// internal error, never an ID nobody issued.
pub(crate) fn stored_id<T: TryFrom<String, Error = ValidationError>>(
    raw: String,
) -> StoreResult<T> {
    T::try_from(raw).map_err(|e| StoreError::Internal {
        context: "reading a stored id",
        source: sqlx::Error::Decode(Box::new(e)),
    })
}

/// The named mentions of a stored `mention_ids` list.
pub(crate) fn named_mentions<S: AsRef<str>>(
    ids: impl IntoIterator<Item = S>,
) -> StoreResult<Vec<UserId>> {
    ids.into_iter()
        .take_while(|id| id.as_ref() != HERE_SEPARATOR)
        .map(|id| stored_id(id.as_ref().to_owned()))
        .collect()
}

/// The columns types these values are made of, read by name from either driver's rows.
pub(crate) trait DomainRow {
    fn text(&self, column: &str) -> Result<String, sqlx::Error>;
    fn opt_text(&self, column: &str) -> Result<Option<String>, sqlx::Error>;
    fn int(&self, column: &str) -> Result<i64, sqlx::Error>;
    fn opt_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error>;
}

macro_rules! domain_row {
    ($row:ty) => {
        impl DomainRow for $row {
            fn text(&self, column: &str) -> Result<String, sqlx::Error> {
                self.try_get(column)
            }
            fn opt_text(&self, column: &str) -> Result<Option<String>, sqlx::Error> {
                self.try_get(column)
            }
            fn int(&self, column: &str) -> Result<i64, sqlx::Error> {
                self.try_get(column)
            }
            fn opt_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error> {
                self.try_get(column)
            }
        }
    };
}

domain_row!(SqliteRow);
domain_row!(PgRow);

pub(crate) fn user<R: DomainRow>(row: &R) -> Result<User, StoreError> {
    Ok(User {
        id: stored_id(row.text("id").ctx("reading a user")?)?,
        username: row.text("username").ctx("reading a user")?,
        display_name: row.text("display_name").ctx("reading a user")?,
        email: row.opt_text("email").ctx("reading a user")?,
        created_at: Timestamp::from_micros(row.int("created_at").ctx("reading a user")?),
        status_text: row.text("status_text").ctx("reading a user")?,
        status_expires_at: row
            .opt_int("status_expires_at")
            .ctx("reading a user")?
            .map(Timestamp::from_micros),
    })
}

pub(crate) fn workspace<R: DomainRow>(row: &R) -> Result<Workspace, StoreError> {
    Ok(Workspace {
        id: stored_id(row.text("id").ctx("reading a workspace")?)?,
        name: row.text("name").ctx("reading a workspace")?,
        general_channel_id: stored_id(row.text("general_channel_id").ctx("reading a workspace")?)?,
        created_at: Timestamp::from_micros(row.int("created_at").ctx("reading a workspace")?),
    })
}

pub(crate) fn role(raw: &str) -> Result<Role, StoreError> {
    Role::parse(raw).ok_or(StoreError::Internal {
        context: "reading a role",
        source: sqlx::Error::Decode(format!("unknown role {raw:?}").into()),
    })
}

pub(crate) fn channel<R: DomainRow>(row: &R) -> Result<Channel, StoreError> {
    let kind = row.text("kind").ctx("reading a channel")?;
    let kind = ChannelKind::parse(&kind).ok_or(StoreError::Internal {
        context: "reading a channel",
        source: sqlx::Error::Decode(format!("unknown channel kind {kind:?}").into()),
    })?;
    let dm_key = row.opt_text("dm_key").ctx("reading a channel")?;
    Ok(Channel {
        id: stored_id(row.text("id").ctx("reading a channel")?)?,
        workspace_id: stored_id(row.text("workspace_id").ctx("reading a channel")?)?,
        kind,
        name: row.opt_text("name").ctx("reading a channel")?,
        topic: row.text("topic").ctx("reading a channel")?,
        created_by: stored_id(row.text("created_by").ctx("reading a channel")?)?,
        created_at: Timestamp::from_micros(row.int("created_at").ctx("reading a channel")?),
        last_seq: row.int("last_seq").ctx("reading a channel")?,
        dm_members: dm_key
            .map(|k| k.split(',').map(|id| stored_id(id.to_owned())).collect())
            .transpose()?
            .unwrap_or_default(),
    })
}

/// A message's file as both backends read it: `(id, filename, size, content_type, width,
/// height, thumb_width, thumb_height)`, in that order.
pub(crate) type FileColumns = (
    String,
    String,
    i64,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// A message's files from the JSON array of [`FileColumns`] both backends select (`None` for
/// a message without files).
pub(crate) fn files_json(json: Option<String>) -> StoreResult<Vec<confab_core::FileInfo>> {
    let Some(json) = json else {
        return Ok(Vec::new());
    };
    serde_json::from_str::<Vec<FileColumns>>(&json)
        .map_err(|e| StoreError::Internal {
            context: "reading a message's files",
            source: sqlx::Error::Decode(Box::new(e)),
        })?
        .into_iter()
        .map(file_info)
        .collect()
}

/// The `files` column of a message read: its files as JSON, looked up only when it has some.
/// One text for both engines (`json_array` and `json_group_array` are SQLite's, `json_build_array`
/// and `json_agg` PostgreSQL's): `{array}` and `{agg}` name them.
pub(crate) fn files_column(array: &str, agg: &str) -> String {
    format!(
        "CASE WHEN m.file_count > 0 THEN (SELECT {agg}({array}(f.id, f.filename, f.size, \
           f.content_type, f.width, f.height, f.thumb_width, f.thumb_height) ORDER BY f.position) \
           FROM files f WHERE f.message_id = m.id AND f.state = 'complete') END"
    )
}

pub(crate) fn file_info(
    (id, filename, size, content_type, w, h, tw, th): FileColumns,
) -> StoreResult<confab_core::FileInfo> {
    let px = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
    Ok(confab_core::FileInfo {
        id: stored_id(id)?,
        filename,
        size: u64::try_from(size).unwrap_or(0),
        content_type: content_type.unwrap_or_else(|| "application/octet-stream".into()),
        width: px(w),
        height: px(h),
        thumbnail: px(tw).zip(px(th)),
    })
}

#[cfg(test)]
mod tests {
    use confab_core::UserId;

    use super::stored_id;
    use crate::StoreError;

    /// An ID read back is validated like one from a wire: a damaged one is an internal
    /// error, and a stored uppercase one reads as the canonical ID.
    #[test]
    fn stored_ids_are_validated() {
        let id = UserId::generate();
        assert_eq!(stored_id::<UserId>(id.to_string()).ok(), Some(id.clone()));
        assert_eq!(
            stored_id::<UserId>(id.as_str().to_uppercase()).ok(),
            Some(id)
        );
        for damaged in ["", "general", "../etc/passwd"] {
            assert!(matches!(
                stored_id::<UserId>(damaged.to_owned()),
                Err(StoreError::Internal { .. })
            ));
        }
    }
}
