//! Who is where in a workspace (a member's channels, the names of its channels, leaving it),
//! written once for both backends: one SQL text each, expanded over each backend's pools by
//! [`roster_methods!`].

/// The backend `$store`'s `RosterStore`, on its pools `$store.$write` and `$store.$read`.
macro_rules! roster_methods {
    ($store:ty, $write:ident, $read:ident) => {
        #[async_trait::async_trait]
        impl $crate::RosterStore for $store {
            async fn remove_workspace_member(&self, ws: &confab_core::WorkspaceId, user: &confab_core::UserId) -> $crate::StoreResult<bool> {
                // One SQL text for both engines. Their invites go first: one made just before
                // would otherwise let them back in.
                sqlx::query("DELETE FROM invites WHERE workspace_id = $1 AND created_by = $2")
                    .bind(ws.as_str())
                    .bind(user.as_str())
                    .execute(&self.$write)
                    .await
                    .ctx("removing a member's invites")?;
                let removed =
                    sqlx::query("DELETE FROM workspace_members WHERE workspace_id = $1 AND user_id = $2")
                        .bind(ws.as_str())
                        .bind(user.as_str())
                        .execute(&self.$write)
                        .await
                        .ctx("removing a workspace member")?
                        .rows_affected();
                Ok(removed > 0)
            }

            async fn workspace_channels_of(
                &self,
                ws: &confab_core::WorkspaceId,
                user: &confab_core::UserId,
            ) -> $crate::StoreResult<Vec<confab_core::ChannelId>> {
                    let ids: Vec<String> = sqlx::query_scalar(
                    "SELECT cm.channel_id FROM channel_members cm JOIN channels c ON c.id = cm.channel_id \
                     WHERE c.workspace_id = $1 AND cm.user_id = $2",
                )
                .bind(ws.as_str())
                .bind(user.as_str())
                .fetch_all(&self.$write)
                .await
                .ctx("listing a member's channels")?;
                Ok(ids.into_iter().map(confab_core::ChannelId::from_trusted).collect())
            }

            async fn channel_names(&self, ws: &confab_core::WorkspaceId) -> $crate::StoreResult<Vec<(confab_core::ChannelId, String)>> {
                    let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT id, name FROM channels WHERE workspace_id = $1 AND kind <> 'dm' AND name IS NOT NULL",
                )
                .bind(ws.as_str())
                .fetch_all(&self.$read)
                .await
                .ctx("listing channel names")?;
                Ok(rows
                    .into_iter()
                    .map(|(id, name)| (confab_core::ChannelId::from_trusted(id), name))
                    .collect())
            }
        }
    };
}

pub(crate) use roster_methods;
