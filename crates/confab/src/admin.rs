//! `confab admin …`: what an operator does from the server's shell, with the same
//! configuration as `confab serve` (so the same store), whether or not the server runs.

use std::sync::Arc;
use std::time::Duration;

use clap::Subcommand;
use confab_bus::{MemoryBus, MemoryPresence};
use confab_chat::ChatService;

use crate::config::Config;

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Prints a one-time link (valid one hour) with which USER sets a new password; using it
    /// signs every session of theirs out. No email is needed.
    ResetPassword {
        /// The username.
        user: String,
        #[command(flatten)]
        args: crate::config::ServeArgs,
    },
    /// Creates the account USER with no usable password, and prints a one-time link (valid
    /// one hour) with which they set one: for servers that take no registrations.
    CreateUser {
        user: String,
        #[command(flatten)]
        args: crate::config::ServeArgs,
    },
    /// Makes USER a server administrator (the first account registered is one already).
    GrantAdmin {
        user: String,
        #[command(flatten)]
        args: crate::config::ServeArgs,
    },
    /// Deactivates USER server-wide: they can no longer sign in and every session of theirs
    /// is signed out; what they wrote stays.
    Deactivate {
        user: String,
        #[command(flatten)]
        args: crate::config::ServeArgs,
    },
    /// Prints the bytes on disk of the search index and of the messages, one `BYTES<TAB>WHAT`
    /// line each; with `--analyze`, refreshes the planner's statistics first.
    Storage {
        #[arg(long)]
        analyze: bool,
        #[command(flatten)]
        args: crate::config::ServeArgs,
    },
}

impl AdminCommand {
    /// The configuration flags given with the command.
    pub fn args(&self) -> &crate::config::ServeArgs {
        match self {
            AdminCommand::ResetPassword { args, .. }
            | AdminCommand::CreateUser { args, .. }
            | AdminCommand::GrantAdmin { args, .. }
            | AdminCommand::Deactivate { args, .. }
            | AdminCommand::Storage { args, .. } => args,
        }
    }
}

/// How long a reset link works.
const RESET_VALID_FOR: Duration = Duration::from_secs(3600);

/// Runs an admin command; what it prints goes to stdout.
pub async fn run(config: &Config, command: AdminCommand) -> anyhow::Result<String> {
    let command_is_create = matches!(command, AdminCommand::CreateUser { .. });
    let store = crate::server::open_store(config).await?;
    // No bus: nothing published here has a subscriber in this process.
    let chat = ChatService::new(
        store.store(),
        Arc::new(MemoryBus::new()),
        Arc::new(MemoryPresence::new()),
        config.chat(),
    );
    let out = match command {
        AdminCommand::ResetPassword { user, .. } | AdminCommand::CreateUser { user, .. } => {
            let (token, expires_at) = match command_is_create {
                true => chat.create_user_with_reset(&user, RESET_VALID_FOR).await?,
                false => chat.issue_password_reset(&user, RESET_VALID_FOR).await?,
            };
            let base = config
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", config.listen));
            format!(
                "Give this to {user}; it works once, until {expires_at}:\n\
                 {base}/reset-password#token={token}\n\
                 (until the web client has that page: POST {base}/api/v1/auth/reset-password \
                 with {{\"token\": \"{token}\", \"new_password\": \"…\"}})\n",
                expires_at = expires_at.to_rfc3339(),
                base = base.trim_end_matches('/'),
            )
        }
        AdminCommand::GrantAdmin { user, .. } => {
            chat.grant_server_admin(&user).await?;
            format!("{user} now administers this server.\n")
        }
        AdminCommand::Deactivate { user, .. } => {
            let target = chat.user_named(&user).await?;
            chat.deactivate_user(None, &target.id).await?;
            format!(
                "{user} is deactivated: they cannot sign in, and their sessions are signed out \
                 (open sockets close within five minutes).\n"
            )
        }
        AdminCommand::Storage { analyze, .. } => {
            let mut out = String::new();
            if analyze {
                let started = std::time::Instant::now();
                chat.store().analyze().await?;
                out.push_str(&format!(
                    "analyzed in {} ms\n",
                    started.elapsed().as_millis()
                ));
            }
            for (what, bytes) in chat.store().storage().await? {
                out.push_str(&format!("{bytes}\t{what}\n"));
            }
            out
        }
    };
    store.close().await;
    Ok(out)
}
