//! The OpenAPI document and the server cannot drift apart: schemathesis (PyPI, installed by
//! `scripts/test.sh`) runs every check it has over every operation of the real binary, on
//! whichever stack the suite runs on, with a fixed seed and example budget.
//!
//! Two runs, because real IDs and negative cases do not mix (a pinned ID would overwrite the
//! malformed one a negative case meant to send):
//! - **with real IDs**: positive cases only, every path parameter pinned to a workspace,
//!   channel, message, invite or person the setup made, so cases reach the handlers' logic;
//! - **free**: positive and negative cases with generated IDs, and the stateful phase, which
//!   chains calls through the IDs that responses return.
//!
//! Calls that end a session or take something away get their own caller or victim, so the
//! shared token stays good for the rest of the run. `contract_hooks.py` lists the answers
//! schemathesis flags that are rules JSON Schema cannot state, each for one operation and
//! one error code.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Server, User, s};

/// Cases per operation and phase; the seed makes a failure reproducible.
const MAX_EXAMPLES: &str = "20";
const SEED: &str = "1";
/// Each run takes seconds; this only stops a hung one.
const RUN_TIMEOUT: Duration = Duration::from_secs(600);

/// The run with real IDs (see the module's comment).
#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_the_server_as_its_openapi_document_describes_it_with_real_ids() {
    let server = Server::start().await;
    let setup = Setup::make(&server).await;
    let tmp = tempfile::tempdir().expect("temp dir");
    run(
        &server,
        tmp.path(),
        "with-real-ids",
        &setup.config(true),
        &["--mode", "positive", "--phases", "coverage,fuzzing"],
    )
    .await;
}

/// The second run, a test of its own so the two run side by side (each takes about a minute).
#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_the_server_as_its_openapi_document_describes_it_free() {
    let server = Server::start().await;
    let setup = Setup::make(&server).await;
    let tmp = tempfile::tempdir().expect("temp dir");
    run(
        &server,
        tmp.path(),
        "free",
        &setup.config(false),
        &["--mode", "all", "--phases", "coverage,fuzzing,stateful"],
    )
    .await;
}

/// Everything the runs point at: one admin's shared token, and for each destructive call a
/// caller or victim of its own.
struct Setup {
    admin: User,
    /// A second session of the admin's, for `logout`.
    admin_logout: String,
    member: User,
    /// Deactivated by `deactivate_user`.
    victim: User,
    /// Removed from the workspace by `remove_workspace_member`.
    leaver: User,
    /// Signs out their other sessions (`revoke_other_sessions`).
    revoker: User,
    /// Changes their password (`change_password`).
    passer: User,
    /// Revokes their second session (`revoke_session`).
    devicer: User,
    devicer_other_session: String,
    workspace: String,
    channel: String,
    /// Left by `leave`.
    left_channel: String,
    message: String,
    /// Deleted by `delete_message`.
    deleted_message: String,
    file: String,
    invite: String,
}

impl Setup {
    async fn make(server: &Server) -> Setup {
        let admin = server.register("admin").await;
        let member = server.register("member").await;
        let victim = server.register("victim").await;
        let leaver = server.register("leaver").await;
        let revoker = server.register("revoker").await;
        let passer = server.register("passer").await;
        let devicer = server.register("devicer").await;
        let (workspace, _) = server.workspace(&admin, &[&member, &victim, &leaver]).await;
        let channel = server
            .channel(&admin, &workspace, "plans", false, &[&member])
            .await;
        let left_channel = server
            .channel(&admin, &workspace, "leaving", false, &[])
            .await;
        let message = s(&server.send(&admin, &channel, "c1", "hello").await["id"]);
        let file = shared_file(server, &admin, &workspace, &channel).await;
        let deleted_message = s(&server.send(&admin, &channel, "c2", "bye").await["id"]);
        let (status, invite) = server
            .post(
                &admin.token,
                &format!("/workspaces/{workspace}/invites"),
                json!({}),
            )
            .await;
        assert_eq!(status, 201, "{invite}");
        let admin_logout = login(server, "admin").await;
        login(server, "devicer").await;
        let (status, sessions) = server.get(&devicer.token, "/me/sessions").await;
        assert_eq!(status, 200, "{sessions}");
        let devicer_other_session = sessions["sessions"]
            .as_array()
            .expect("sessions")
            .iter()
            .find(|session| session["current"] == false)
            .map(|session| s(&session["id"]))
            .expect("the second session");
        Setup {
            admin,
            admin_logout,
            member,
            victim,
            leaver,
            revoker,
            passer,
            devicer,
            devicer_other_session,
            workspace,
            channel,
            left_channel,
            message,
            deleted_message,
            file,
            invite: s(&invite["invite"]["code"]),
        }
    }

    /// The schemathesis configuration: the shared token, each operation's own caller, and with
    /// `pin`, the real IDs of its path parameters.
    fn config(&self, pin: bool) -> String {
        let hooks = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/server/contract_hooks.py"
        );
        let mut toml = format!(
            "hooks = {}\n\n[headers]\nAuthorization = {}\n\n",
            quoted(hooks),
            quoted(&format!("Bearer {}", self.admin.token))
        );
        let ws = self.workspace.as_str();
        let ch = self.channel.as_str();
        let msg = self.message.as_str();
        let operations: Vec<Operation> = vec![
            ("logout", Some(&self.admin_logout), vec![]),
            ("revoke_other_sessions", Some(&self.revoker.token), vec![]),
            ("change_password", Some(&self.passer.token), vec![]),
            (
                "revoke_session",
                Some(&self.devicer.token),
                vec![("session_id", &self.devicer_other_session)],
            ),
            ("deactivate_user", None, vec![("user_id", &self.victim.id)]),
            (
                "remove_workspace_member",
                None,
                vec![("id", ws), ("user_id", &self.leaver.id)],
            ),
            (
                "remove_member",
                None,
                vec![("id", ch), ("user_id", &self.member.id)],
            ),
            ("leave", None, vec![("id", &self.left_channel)]),
            ("delete_message", None, vec![("id", &self.deleted_message)]),
            ("get_message", None, vec![("id", msg)]),
            ("edit_message", None, vec![("id", msg)]),
            ("thread", None, vec![("id", msg)]),
            ("add_reaction", None, vec![("id", msg)]),
            ("remove_reaction", None, vec![("id", msg)]),
            ("get_channel", None, vec![("id", ch)]),
            ("update_channel", None, vec![("id", ch)]),
            ("join", None, vec![("id", ch)]),
            ("add_channel_member", None, vec![("id", ch)]),
            ("list", None, vec![("id", ch)]),
            ("send", None, vec![("id", ch)]),
            ("mark_read", None, vec![("id", ch)]),
            ("put_draft", None, vec![("id", ch)]),
            ("get_draft", None, vec![("id", ch)]),
            ("delete_draft", None, vec![("id", ch)]),
            ("list_channels", None, vec![("id", ws)]),
            ("create_channel", None, vec![("id", ws)]),
            ("open_dm", None, vec![("id", ws)]),
            ("create_invite", None, vec![("id", ws)]),
            ("add_workspace_member", None, vec![("id", ws)]),
            ("list_members", None, vec![("id", ws)]),
            ("get_user", None, vec![("id", &self.member.id)]),
            ("get_file", None, vec![("id", &self.file)]),
            ("complete_upload", None, vec![("id", &self.file)]),
            ("channel_files", None, vec![("id", ch)]),
            ("search", None, vec![("workspace_id", ws)]),
            (
                "accept_invite",
                Some(&self.member.token),
                vec![("code", &self.invite)],
            ),
        ];
        for (operation, token, parameters) in operations {
            let parameters = if pin { parameters } else { vec![] };
            if token.is_none() && parameters.is_empty() {
                continue;
            }
            toml.push_str(&format!(
                "[[operations]]\ninclude-operation-id = {}\n",
                quoted(operation)
            ));
            if let Some(token) = token {
                toml.push_str(&format!(
                    "headers = {{ Authorization = {} }}\n",
                    quoted(&format!("Bearer {token}"))
                ));
            }
            if !parameters.is_empty() {
                let pairs: Vec<String> = parameters
                    .iter()
                    .map(|(name, value)| format!("{name} = {}", quoted(value)))
                    .collect();
                toml.push_str(&format!("parameters = {{ {} }}\n", pairs.join(", ")));
            }
            toml.push('\n');
        }
        toml
    }
}

/// A file uploaded by `user` and shared in `channel`.
async fn shared_file(server: &Server, user: &User, workspace: &str, channel: &str) -> String {
    let (status, ticket) = server
        .post(
            &user.token,
            "/files",
            json!({"filename": "notes.txt", "size": 5, "content_type": "text/plain", "workspace_id": workspace}),
        )
        .await;
    assert_eq!(status, 201, "{ticket}");
    let url = format!("{}{}", server.root(), s(&ticket["upload_url"]));
    let put = server
        .http
        .put(url)
        .body("notes")
        .send()
        .await
        .expect("upload");
    assert_eq!(put.status().as_u16(), 200);
    let file = s(&ticket["file_id"]);
    let (status, sent) = server
        .post(
            &user.token,
            &format!("/channels/{channel}/messages"),
            json!({"client_msg_id": "with-file", "body": "notes", "file_ids": [file]}),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    file
}

/// An operation's ID, its own caller (else the admin), and the real IDs for its path
/// parameters.
type Operation<'a> = (&'a str, Option<&'a str>, Vec<(&'a str, &'a str)>);

/// A TOML basic string: JSON's escapes are TOML's for these ASCII values.
fn quoted(value: &str) -> String {
    Value::String(value.to_owned()).to_string()
}

/// How many operations the OpenAPI document describes.
async fn operation_count(server: &Server) -> usize {
    let (status, doc) = server
        .request(reqwest::Method::GET, None, "/openapi.json", None)
        .await;
    assert_eq!(status, 200);
    doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|path| path.as_object().expect("a path item").len())
        .sum()
}

async fn login(server: &Server, username: &str) -> String {
    let (status, body) = server
        .request(
            reqwest::Method::POST,
            None,
            "/auth/login",
            Some(json!({"username": username, "password": "correct horse"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    s(&body["token"])
}

async fn run(server: &Server, dir: &Path, name: &str, config: &str, args: &[&str]) {
    let config_path = dir.join(format!("{name}.toml"));
    std::fs::write(&config_path, config).expect("write the configuration");
    let root = server.root();
    let mut command = tokio::process::Command::new("schemathesis");
    command
        .arg("--config-file")
        .arg(&config_path)
        .arg("--no-color")
        .arg("run")
        .arg(format!("{root}/api/v1/openapi.json"))
        .args(["--url", &root, "--checks", "all", "--workers", "1"])
        .args(["--max-examples", MAX_EXAMPLES, "--seed", SEED])
        .args(["--generation-database", "none"])
        .args(args)
        // Its caches go to the working directory.
        .current_dir(dir)
        .kill_on_drop(true);
    let output = match tokio::time::timeout(RUN_TIMEOUT, command.output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "schemathesis is not installed: scripts/test.sh installs it \
             (pip install schemathesis==4.32.5)"
        ),
        Ok(Err(e)) => panic!("schemathesis did not start: {e}"),
        Err(_) => panic!("schemathesis ({name}) did not finish in {RUN_TIMEOUT:?}"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis ({name}) failed, {}:\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    // A run that tested nothing would also exit 0.
    let tested = format!("Tested: {}", operation_count(server).await);
    assert!(
        stdout.contains(&tested),
        "schemathesis ({name}) did not test every operation ({tested}):\n{stdout}"
    );
}
