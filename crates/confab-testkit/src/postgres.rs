//! PostgreSQL beside the tests: scratch databases on a running server, and private servers.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Runs one SQL command with `psql` against `server_url`.
pub fn psql(server_url: &str, sql: &str) -> anyhow::Result<()> {
    let out = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            server_url,
            "-c",
            sql,
        ])
        .output()
        .context("running psql (the test command installs PostgreSQL)")?;
    if !out.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// `url` with its database replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(at) => url.split_at(at),
        None => (url, ""),
    };
    let authority = base.find("://").map_or(0, |at| at + 3);
    let base = match base[authority..].find('/') {
        Some(at) => &base[..authority + at],
        None => base,
    };
    format!("{base}/{database}{query}")
}

/// A fresh database on the server at `server_url`, dropped with the value.
pub struct ScratchDb {
    server_url: String,
    name: String,
}

impl ScratchDb {
    pub fn create(server_url: &str) -> anyhow::Result<ScratchDb> {
        let name = crate::unique_name("confab_t");
        psql(server_url, &format!("CREATE DATABASE {name}"))?;
        Ok(ScratchDb {
            server_url: server_url.to_owned(),
            name,
        })
    }

    /// The database's URL: the server's URL with its database name replaced (its query, such
    /// as `?sslmode=…`, kept).
    pub fn url(&self) -> String {
        with_database(&self.server_url, &self.name)
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        // FORCE: a pool the test left open must not keep the database.
        let _ = psql(
            &self.server_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// A PostgreSQL server of its own, on a free port and a temporary directory, run as the
/// `postgres` user (PostgreSQL refuses root), so that a test can crash and restart it.
pub struct PrivatePostgres {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<std::process::Child>,
}

fn pg_bin(name: &str) -> anyhow::Result<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .context("PostgreSQL is installed (the test command installs it)")?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    versions.sort();
    Ok(versions
        .last()
        .context("a PostgreSQL version")?
        .join("bin")
        .join(name))
}

/// `program` run as the `postgres` user directly (no `runuser` in between, which would not
/// pass signals on).
fn as_postgres(program: &Path) -> anyhow::Result<Command> {
    use std::os::unix::process::CommandExt;
    let id = |flag: &str| -> anyhow::Result<u32> {
        let out = Command::new("id").args([flag, "postgres"]).output()?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .context("the postgres user exists (the test command installs PostgreSQL)")
    };
    let mut c = Command::new(program);
    c.uid(id("-u")?).gid(id("-g")?);
    Ok(c)
}

impl PrivatePostgres {
    pub fn start() -> anyhow::Result<PrivatePostgres> {
        let dir = tempfile::Builder::new().prefix("confab-pg").tempdir()?;
        let chown = Command::new("chown")
            .arg("postgres:postgres")
            .arg(dir.path())
            .status()?;
        anyhow::ensure!(chown.success(), "chown postgres: {chown}");
        let out = as_postgres(&pg_bin("initdb")?)?
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(dir.path().join("data"))
            .output()?;
        if !out.status.success() {
            bail!("initdb: {}", String::from_utf8_lossy(&out.stderr));
        }
        let mut server = PrivatePostgres {
            port: crate::free_port()?,
            dir,
            child: None,
        };
        server.restart()?;
        Ok(server)
    }

    /// The server's maintenance database URL (databases are created from it).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Immediate shutdown (SIGQUIT): no checkpoint, recovery from the WAL on the next start,
    /// as after a crash.
    pub fn crash(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-QUIT", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }

    /// Starts it (again, after a crash) on the same port and waits until it answers.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.crash();
        let child = as_postgres(&pg_bin("postgres")?)?
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-p", &self.port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!(
                "unix_socket_directories={}",
                self.dir.path().display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting postgres")?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        let ready = pg_bin("pg_isready")?;
        while !Command::new(&ready)
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .output()
            .is_ok_and(|o| o.status.success())
        {
            if Instant::now() > deadline {
                bail!("postgres did not start within 30 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.crash();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_database_url_keeps_its_server_and_query() {
        for (server, want) in [
            ("postgres://u@h:5432/postgres", "postgres://u@h:5432/x"),
            (
                "postgres://u@h:5432/postgres?sslmode=disable",
                "postgres://u@h:5432/x?sslmode=disable",
            ),
            ("postgres://u@h:5432", "postgres://u@h:5432/x"),
        ] {
            assert_eq!(super::with_database(server, "x"), want);
        }
    }
}
