//! What both backends' searches write alike, from one text (this file compiles once in each
//! backend module): the statement builder (`$n` placeholders, which sqlx's SQLite driver
//! accepts too), the caller's access and the operators. What an index looks up is each
//! backend's own (`sqlite/search_query.rs`, `postgres/search.rs`); a list parameter is
//! `super::dialect::in_list`.

use crate::SearchRequest;

/// A value bound to a search statement.
pub(super) enum Bind {
    Text(String),
    Int(i64),
    /// A list, as the backend passes one (`super::dialect::in_list`).
    List(Vec<String>),
}

/// A search's SQL text and its values, built together so placeholders and binds agree.
#[derive(Default)]
pub(super) struct Sql {
    pub(super) text: String,
    pub(super) binds: Vec<Bind>,
}

impl Sql {
    pub(super) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    fn bind(&mut self, value: Bind) -> &mut Self {
        self.binds.push(value);
        self.text.push_str(&format!("${}", self.binds.len()));
        self
    }

    pub(super) fn text(&mut self, value: impl Into<String>) -> &mut Self {
        self.bind(Bind::Text(value.into()))
    }

    pub(super) fn int(&mut self, value: i64) -> &mut Self {
        self.bind(Bind::Int(value))
    }

    /// `column` is one of `values`.
    pub(super) fn in_list(&mut self, column: &str, values: &[impl AsRef<str>]) -> &mut Self {
        let values = values.iter().map(|v| v.as_ref().to_owned()).collect();
        self.push(column);
        let (before, after) = super::dialect::IN_LIST;
        self.push(before).bind(Bind::List(values)).push(after)
    }
}

/// The caller's access, as one condition on `channel` (the column holding a candidate's
/// channel): the workspace's channels they are in, and its public ones unless they are a
/// guest; nothing if they are not in the workspace. Then `in:#channel`, `in:@user` and the
/// `channel_id` parameter, which narrow the same channels.
pub(super) fn access(sql: &mut Sql, r: &SearchRequest, channel: &str) {
    let me = r.user_id.as_str();
    sql.push(channel)
        .push(" IN (SELECT c.id FROM channels c JOIN workspace_members wm ON wm.workspace_id = c.workspace_id AND wm.user_id = ")
        .text(me)
        .push(" WHERE c.workspace_id = ")
        .text(r.workspace_id.as_str())
        .push(" AND ((c.kind = 'public' AND wm.role <> 'guest') OR EXISTS (SELECT 1 FROM channel_members cm WHERE cm.channel_id = c.id AND cm.user_id = ")
        .text(me)
        .push("))");
    if !r.channel_ids.is_empty() {
        let ids: Vec<&str> = r.channel_ids.iter().map(|c| c.as_str()).collect();
        sql.push(" AND ").in_list("c.id", &ids);
    }
    if !r.in_channels.is_empty() || !r.in_dms_with.is_empty() {
        sql.push(" AND (false");
        if !r.in_channels.is_empty() {
            sql.push(" OR (c.kind <> 'dm' AND ")
                .in_list("c.name", &r.in_channels)
                .push(")");
        }
        if !r.in_dms_with.is_empty() {
            sql.push(" OR (c.kind = 'dm' AND EXISTS (SELECT 1 FROM channel_members dm JOIN users u ON u.id = dm.user_id WHERE dm.channel_id = c.id AND ")
                .in_list("u.username", &r.in_dms_with)
                .push("))");
        }
        sql.push(")");
    }
    sql.push(")");
}

/// `from:`, the days, `has:` and `is:thread`, each as ` AND …` on the message `m`.
pub(super) fn operators(sql: &mut Sql, r: &SearchRequest) {
    if !r.from_users.is_empty() || !r.from_ids.is_empty() {
        let ids: Vec<&str> = r.from_ids.iter().map(|u| u.as_str()).collect();
        sql.push(" AND (")
            .in_list("m.author_id", &ids)
            .push(" OR m.author_id IN (SELECT id FROM users WHERE ")
            .in_list("username", &r.from_users)
            .push("))");
    }
    if let Some(since) = r.since {
        sql.push(" AND m.created_at >= ").int(since.as_micros());
    }
    if let Some(until) = r.until {
        sql.push(" AND m.created_at < ").int(until.as_micros());
    }
    if r.has.file {
        sql.push(" AND m.file_count > 0");
    }
    if r.has.link {
        let like = super::dialect::LIKE_ANY_CASE;
        sql.push(&format!(
            " AND (m.body {like} '%http://%' OR m.body {like} '%https://%')"
        ));
    }
    if r.has.reaction {
        sql.push(" AND EXISTS (SELECT 1 FROM reactions r WHERE r.message_id = m.id)");
    }
    if r.is_thread {
        sql.push(" AND (m.thread_root_id IS NOT NULL OR m.reply_count > 0)");
    }
}
