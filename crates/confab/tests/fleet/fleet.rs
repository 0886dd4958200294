//! A fleet under test: M chat services and N gateways on loopback, sharing one PostgreSQL
//! database and one Redis prefix; and private PostgreSQL and Redis servers for tests that
//! stop them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use confab_bus::testsuite::RedisServer;
use serde_json::Value;

use crate::harness::{self, PgDatabase, Server, User, Ws, unique_name};

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
    _db: PgDatabase,
    dir: tempfile::TempDir,
    redis_url: String,
    prefix: String,
}

impl Fleet {
    pub async fn start(chats: usize, gateways: usize, backing: Backing) -> Fleet {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = PgDatabase::create(&backing.database_server_url);
        let prefix = unique_name("fleet");
        let mut fleet = Fleet {
            chats: Vec::new(),
            gateways: Vec::new(),
            _db: db,
            dir,
            redis_url: backing.redis_url,
            prefix,
        };
        for i in 0..chats {
            let args = fleet.chat_args();
            let server = Server::start_raw(&fleet.subdir(&format!("chat{i}")), args).await;
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

/// A PostgreSQL server of the test's own (initdb into a temporary directory, on a free
/// port), for tests that stop and restart it. Run as the `postgres` user, as PostgreSQL
/// refuses root.
pub struct PgServer {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<std::process::Child>,
}

fn pg_bin(name: &str) -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("PostgreSQL is installed (the test command installs it)")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    versions.sort();
    versions
        .last()
        .expect("a PostgreSQL version")
        .join("bin")
        .join(name)
}

/// `program` run as the `postgres` user directly (no `runuser` in between, which would not
/// pass our signals on).
fn as_postgres(program: PathBuf) -> std::process::Command {
    use std::os::unix::process::CommandExt;
    let id = |flag: &str| -> u32 {
        let out = std::process::Command::new("id")
            .args([flag, "postgres"])
            .output()
            .expect("id");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("the postgres user exists (the test command installs PostgreSQL)")
    };
    let mut c = std::process::Command::new(program);
    c.uid(id("-u")).gid(id("-g"));
    c
}

impl PgServer {
    pub fn start() -> PgServer {
        let dir = tempfile::Builder::new()
            .prefix("confab-pg")
            .tempdir()
            .expect("temp dir");
        let status = std::process::Command::new("chown")
            .args(["postgres:postgres"])
            .arg(dir.path())
            .status()
            .expect("chown");
        assert!(status.success());
        let out = as_postgres(pg_bin("initdb"))
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(dir.path().join("data"))
            .output()
            .expect("initdb");
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut server = PgServer {
            port,
            dir,
            child: None,
        };
        server.restart();
        server
    }

    /// The server's maintenance database URL (databases are created from it).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Immediate shutdown (SIGQUIT): no checkpoint, recovery from the WAL on the next start,
    /// as after a crash.
    pub fn crash(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = std::process::Command::new("kill")
                .args(["-QUIT", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }

    pub fn restart(&mut self) {
        self.crash();
        let child = as_postgres(pg_bin("postgres"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-p", &self.port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!(
                "unix_socket_directories={}",
                self.dir.path().display()
            ))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start postgres");
        self.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let ok = std::process::Command::new(pg_bin("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false);
            if ok {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "postgres did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.crash();
    }
}

/// A private Redis for the fleet, with the fleet's flags pointing at it.
pub fn private_redis() -> RedisServer {
    RedisServer::start()
}
