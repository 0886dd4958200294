//! HTTP request and response bodies of `/api/v1` (SPEC §4). Request bodies refuse unknown
//! fields, so a misspelt optional field is an error rather than silently ignored.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{ChannelWire, MessageWire, UserWire, WorkspaceWire};

/// The token of an `Authorization: Bearer <token>` header value: the scheme in any case
/// (RFC 9110 §11.1), surrounding spaces ignored, never empty. The one parser for the API, the
/// WebSocket handshake and the internal RPC.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim_start().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(
        min_length = 2,
        max_length = 32,
        pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*$"
    )]
    pub username: String,
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 80,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*[^\s\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0𝅙𝅳-𝅺󠀀-󠿿][^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub display_name: Option<String>,
    #[serde(default)]
    #[schema(
        max_length = 254,
        pattern = r"^[^@\s\u0000-\u001f\u007f-\u009f]+@[^@\s\u0000-\u001f\u007f-\u009f]*\.[^@\s\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub email: Option<String>,
    /// What the client calls itself, for the user's list of devices (else its User-Agent);
    /// kept to its first 200 characters, without control characters.
    #[serde(default)]
    pub client_name: Option<String>,
    /// A workspace invite code, accepted on registering (required when the server's
    /// `registration` is `invite`).
    #[serde(default)]
    pub invite_code: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// The `device_token` an earlier sign-in from this device answered: it passes the
    /// account's slow-down after failed guesses elsewhere.
    #[serde(default)]
    pub device_token: Option<String>,
    /// What the client calls itself, for the user's list of devices (else its User-Agent);
    /// kept to its first 200 characters, without control characters.
    #[serde(default)]
    pub client_name: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeRequest {
    pub current_password: String,
    #[schema(min_length = 8, max_length = 256)]
    pub new_password: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// From the link `confab admin reset-password` printed.
    pub token: String,
    #[schema(min_length = 8, max_length = 256)]
    pub new_password: String,
}

/// One of the caller's signed-in sessions (devices).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionWire {
    pub id: String,
    pub client_name: String,
    /// The address it signed in from.
    pub created_from: String,
    pub created_at: String,
    pub last_seen_at: String,
    /// Whether it is the session making this request.
    pub current: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionsResponse {
    pub sessions: Vec<SessionWire>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RevokedResponse {
    /// How many sessions were signed out.
    pub revoked: usize,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuthResponse {
    pub user: UserWire,
    pub token: String,
    /// Keep it with the device and send it when signing in again (`LoginRequest`).
    pub device_token: String,
}

/// A browser signed in: who, with the session itself in an `HttpOnly` cookie.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BrowserSessionResponse {
    pub user: UserWire,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MeResponse {
    pub user: UserWire,
    /// Whether the caller administers the server (the first account does).
    pub server_admin: bool,
    pub workspaces: Vec<WorkspaceWire>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkspaceRequest {
    #[schema(
        min_length = 1,
        max_length = 80,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WorkspaceResponse {
    pub workspace: WorkspaceWire,
}

/// A workspace member, as the member list shows them.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberWire {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    /// `owner`, `admin`, `member` or `guest`.
    pub role: String,
    /// What they say they are up to, while it applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_text: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MembersResponse {
    pub members: Vec<MemberWire>,
    /// Where the next page starts (`after`), when there may be one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// A page of members: by username, after `after`.
#[derive(Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MembersQuery {
    /// The last username of the previous page.
    #[param(max_length = 32)]
    #[param(pattern = r"^[^\u0000]*$")]
    pub after: Option<String>,
    /// 100 when absent.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// `PATCH /me`: what is given changes, the rest stays.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    /// As at registration (utoipa takes only a literal pattern, hence the repetition).
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 80,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*[^\s\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0𝅙𝅳-𝅺󠀀-󠿿][^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub display_name: Option<String>,
    /// What you are up to ("In a meeting"); empty clears it. Setting it without
    /// `status_expires_in_minutes` keeps it until changed.
    #[serde(default)]
    #[schema(
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub status_text: Option<String>,
    /// The status clears itself after this many minutes (at most a year); only with
    /// `status_text`.
    #[serde(default, deserialize_with = "crate::integer::option_i64")]
    #[schema(minimum = 1, maximum = 525600)]
    pub status_expires_in_minutes: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserResponse {
    pub user: UserWire,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddWorkspaceMemberRequest {
    #[schema(format = Uuid)]
    pub user_id: String,
    /// `admin`, `member` (the default) or `guest`.
    #[serde(default)]
    #[schema(pattern = "^(admin|member|guest)$")]
    pub role: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInviteRequest {
    /// How many people may accept it; 100 when absent.
    #[serde(default, deserialize_with = "crate::integer::option_i64")]
    #[schema(minimum = 1, maximum = 10000)]
    pub max_uses: Option<i64>,
    /// How long it stays valid; 7 days when absent.
    #[serde(default, deserialize_with = "crate::integer::option_i64")]
    #[schema(minimum = 1, maximum = 720)]
    pub expires_in_hours: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InviteWire {
    pub code: String,
    pub workspace_id: String,
    pub expires_at: String,
    pub max_uses: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InviteResponse {
    pub invite: InviteWire,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelListItem {
    #[serde(flatten)]
    pub channel: ChannelWire,
    pub is_member: bool,
    pub last_read_seq: i64,
    pub unread_count: i64,
    pub mention_count: i64,
    /// Only when browsing: how many people are in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_count: Option<i64>,
}

#[derive(Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChannelsQuery {
    /// Only the public channels you are not in, with member counts ("Browse channels").
    pub browse: Option<bool>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelListResponse {
    pub channels: Vec<ChannelListItem>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannelRequest {
    /// Lowercase letters (of any script), digits, `-` and `_`.
    #[schema(
        min_length = 1,
        max_length = 80,
        pattern = r"^[^\s\u0000-\u002c\u002e\u002f\u003a-\u005e\u0060\u007b-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0]+$"
    )]
    pub name: String,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    #[schema(
        max_length = 250,
        pattern = r"^[^\u0000-\u0009\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub topic: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelResponse {
    pub channel: ChannelWire,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelMemberRequest {
    #[schema(format = Uuid)]
    pub user_id: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenDmRequest {
    /// The others in the conversation: at most 8 besides you; none is a DM with yourself.
    #[schema(value_type = Vec<uuid::Uuid>, max_items = 8)]
    pub user_ids: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessageRequest {
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._:-]+$")]
    pub client_msg_id: String,
    #[schema(
        min_length = 1,
        max_length = 40000,
        pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*[^\s\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
    )]
    pub body: String,
    #[serde(default)]
    #[schema(format = Uuid)]
    pub thread_root_id: Option<String>,
    /// Complete uploads of the sender's in this workspace, at most 10, shown in this order.
    /// With files, `body` may be empty.
    #[serde(default)]
    #[schema(value_type = Vec<uuid::Uuid>, max_items = 10)]
    pub file_ids: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessageResponse {
    pub message: MessageWire,
}

/// `since` (the changes feed) or `before` (history), not both; neither means the latest page.
#[derive(Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    /// The changes feed: everything after this cursor (0 from the start).
    #[param(minimum = 0)]
    pub since: Option<i64>,
    /// History: the messages before this sequence number.
    #[param(minimum = 1)]
    pub before: Option<i64>,
    /// History around a message (a permalink): the page holding the message with this
    /// sequence number, about half of it older and the rest newer.
    #[param(minimum = 1)]
    pub around: Option<i64>,
    /// 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessagesResponse {
    pub messages: Vec<MessageWire>,
    /// Only on the changes feed (`since`): where the next call continues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<i64>,
    /// Older messages exist (history), or more changes follow (the feed).
    pub has_more: bool,
    /// Only around a message: newer messages exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_newer: Option<bool>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TicketResponse {
    pub ticket: String,
    pub expires_at: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditMessageRequest {
    #[schema(
        min_length = 1,
        max_length = 40000,
        pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*[^\s\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f][^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
    )]
    pub body: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ThreadResponse {
    pub root: MessageWire,
    pub replies: Vec<MessageWire>,
    /// Whether the caller follows the thread (is notified of replies).
    pub following: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    #[serde(deserialize_with = "crate::integer::i64")]
    #[schema(minimum = 0)]
    pub seq: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReadResponse {
    pub last_read_seq: i64,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateChannelRequest {
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 80,
        pattern = r"^[^\s\u0000-\u002c\u002e\u002f\u003a-\u005e\u0060\u007b-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0]+$"
    )]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(
        max_length = 250,
        pattern = r"^[^\u0000-\u0009\u000b-\u001f\u007f-\u009f]*$"
    )]
    pub topic: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PresenceQuery {
    /// Comma-separated user IDs, at most 500.
    #[param(
        pattern = r"^,*([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(,+[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}){0,499})?,*$"
    )]
    pub ids: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PresenceWire {
    pub user_id: String,
    /// `online`, `idle` or `offline`.
    pub status: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PresenceResponse {
    pub presence: Vec<PresenceWire>,
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn bearer_tokens_parse_in_any_case_and_nothing_else_does() {
        for (header, token) in [
            ("Bearer abc", Some("abc")),
            ("bearer abc", Some("abc")),
            ("BEARER   abc  ", Some("abc")),
            ("Bearer", None),
            ("Bearer   ", None),
            ("Basic abc", None),
            ("Bearerabc", None),
            ("", None),
        ] {
            assert_eq!(bearer_token(header), token, "{header:?}");
        }
    }
}
