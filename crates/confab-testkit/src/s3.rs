//! An S3-compatible server of its own beside the tests: `s3s-fs` (the test command installs
//! it), on loopback, storing under a scratch directory, with one bucket and one key pair. It
//! verifies SigV4 signatures, presigned URLs included, as S3 does.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

pub struct PrivateS3 {
    pub port: u16,
    pub bucket: &'static str,
    pub access_key: &'static str,
    pub secret_key: &'static str,
    child: std::process::Child,
    _root: tempfile::TempDir,
}

impl PrivateS3 {
    pub fn start() -> anyhow::Result<PrivateS3> {
        let root = tempfile::tempdir()?;
        let bucket = "confab-test";
        std::fs::create_dir(root.path().join(bucket))?;
        let port = crate::free_port()?;
        let (access_key, secret_key) = ("confabtestkey", "confabtestsecret");
        let child = Command::new("s3s-fs")
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", access_key, "--secret-key", secret_key])
            .arg(root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("s3s-fs is installed (the test command installs it)")?;
        let server = PrivateS3 {
            port,
            bucket,
            access_key,
            secret_key,
            child,
            _root: root,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("s3s-fs did not start within 20 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Where s3s-fs keeps the object `key` of the bucket.
    pub fn object_path(&self, key: &str) -> std::path::PathBuf {
        self._root.path().join(self.bucket).join(key)
    }
}

impl Drop for PrivateS3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
