//! A fleet under test: M chat services and N gateways on loopback, sharing one PostgreSQL
//! database and one Redis prefix; and private PostgreSQL and Redis servers for tests that
//! stop them.

use std::path::PathBuf;

use confab_testkit::{PrivatePostgres, PrivateRedis};
use serde_json::Value;

use crate::harness::{self, Server, User, Ws};
use confab_testkit::{ScratchDb, unique_name};

const SECRET: &str = "fleet-test-secret-0123456789";

/// Where the fleet's PostgreSQL and Redis are.
pub struct Backing {
    pub database_server_url: String,
    pub redis_url: String,
}

impl Backing {
    /// The machine's PostgreSQL and Redis (a fresh database and key prefix per fleet).
    pub fn shared() -> Backing {
        Backing {
            database_server_url: harness::database_url(),
            redis_url: harness::redis_url(),
        }
    }
}

pub struct Fleet {
    pub chats: Vec<Server>,
    pub gateways: Vec<Server>,
    _db: ScratchDb,
    dir: tempfile::TempDir,
    redis_url: String,
    prefix: String,
    /// Flags and environment every chat service gets besides the fleet's own.
    chat_extra: Vec<String>,
    chat_env: Vec<(String, String)>,
}

impl Fleet {
    pub async fn start(chats: usize, gateways: usize, backing: Backing) -> Fleet {
        Self::start_with(chats, gateways, backing, Vec::new(), Vec::new()).await
    }

    /// A fleet whose chat services also get `chat_extra` flags and `chat_env`.
    pub async fn start_with(
        chats: usize,
        gateways: usize,
        backing: Backing,
        chat_extra: Vec<String>,
        chat_env: Vec<(String, String)>,
    ) -> Fleet {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = ScratchDb::create(&backing.database_server_url).expect("a scratch database");
        let prefix = unique_name("fleet");
        let mut fleet = Fleet {
            chats: Vec::new(),
            gateways: Vec::new(),
            _db: db,
            dir,
            redis_url: backing.redis_url,
            prefix,
            chat_extra,
            chat_env,
        };
        for i in 0..chats {
            let args = fleet.chat_args();
            let env: Vec<(&str, &str)> = fleet
                .chat_env
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let server =
                Server::start_raw_env(&fleet.subdir(&format!("chat{i}")), args, &env).await;
            fleet.chats.push(server);
        }
        for i in 0..gateways {
            let server = fleet.start_gateway(i).await;
            fleet.gateways.push(server);
        }
        fleet
    }

    fn subdir(&self, name: &str) -> PathBuf {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        dir
    }

    fn common(&self) -> Vec<String> {
        [
            "--redis-url",
            &self.redis_url,
            "--redis-prefix",
            &self.prefix,
            "--cluster-secret",
            SECRET,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn chat_args(&self) -> Vec<String> {
        let mut args: Vec<String> = ["--role", "chat", "--database-url", &self._db.url()]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(["--database-max-connections".into(), "8".into()]);
        args.extend(self.common());
        args.extend(self.chat_extra.iter().cloned());
        args
    }

    async fn start_gateway(&self, i: usize) -> Server {
        let urls: Vec<String> = self.chats.iter().map(Server::root).collect();
        let mut args: Vec<String> = vec!["--role".into(), "gateway".into()];
        args.extend(["--chat-url".into(), urls.join(",")]);
        args.extend(self.common());
        Server::start_raw(&self.subdir(&format!("gateway{i}")), args).await
    }

    /// The HTTP API (any chat service would do).
    pub fn api(&self) -> &Server {
        &self.chats[0]
    }

    pub async fn connect(&self, gateway: usize, user: &User) -> Ws {
        Ws::connect(&self.gateways[gateway].ws_base, Some(&user.token), &[])
            .await
            .expect("websocket connects through the gateway")
    }
}

/// Collects `message.created` events of `channel` from `ws` until `n` have arrived; returns
/// (seq, message id, body) in arrival order. Other frames are skipped.
pub async fn created_events(ws: &mut Ws, channel: &str, n: usize) -> Vec<(i64, String, String)> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let ev: Value = ws.next_event_in(channel).await;
        if ev["kind"] == "message.created" {
            out.push((
                ev["seq"].as_i64().expect("seq"),
                harness::s(&ev["message"]["id"]),
                ev["message"]["body"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            ));
        }
    }
    out
}

/// Asserts sequence numbers follow each other with no hole and no repeat.
pub fn assert_gap_free(events: &[(i64, String, String)]) {
    for pair in events.windows(2) {
        assert_eq!(
            pair[1].0,
            pair[0].0 + 1,
            "a hole or repeat between seq {} and {}",
            pair[0].0,
            pair[1].0
        );
    }
}

/// A private Redis for the fleet, with the fleet's flags pointing at it.
pub fn private_redis() -> PrivateRedis {
    PrivateRedis::start().expect("a private redis-server")
}

/// A private PostgreSQL for a fleet to lose and get back.
pub fn private_postgres() -> PrivatePostgres {
    PrivatePostgres::start().expect("a private PostgreSQL")
}
