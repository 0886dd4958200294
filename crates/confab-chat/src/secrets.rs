//! Opaque random tokens and password hashes. Tokens are shown once and stored as SHA-256;
//! passwords are hashed with Argon2id off the async runtime, on a few threads of their own.
//!
//! Why not `spawn_blocking` and `PasswordHasher`: each hash allocated and freed 19 MiB, which
//! the allocator kept (in arenas of up to 64 MiB, several per thread), and the blocking pool
//! grows a thread per concurrent hash: the server held ~1.5 GB after 200 registrations, 8 at a
//! time, and ~380 MB even with two threads. Now a fixed set of threads, one per core (at most
//! [`MAX_HASH_THREADS`]), each hash in memory its thread allocated once: hashing takes at most
//! 19 MiB per thread and a core's worth of CPU per thread; a burst waits in their queue.

use std::cell::RefCell;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::{mpsc, oneshot};

use crate::error::{ChatError, ChatResult};

/// A fresh 256-bit random token, hex-encoded.
pub fn random_token() -> ChatResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| ChatError::Internal("drawing random bytes"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn params() -> ChatResult<Params> {
    // OWASP's recommended Argon2id parameters: 19 MiB, two passes, one lane.
    Params::new(19 * 1024, 2, 1, None).map_err(|_| ChatError::Internal("configuring argon2"))
}

thread_local! {
    /// A hashing thread's Argon2 memory, allocated once and reused by every hash it computes.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Today's Argon2id of `password` with `salt`, into `out`, in this thread's memory.
fn argon2_into(params: &Params, password: &[u8], salt: &[u8], out: &mut [u8]) -> ChatResult<()> {
    argon2_with(
        Algorithm::Argon2id,
        Version::V0x13,
        params,
        password,
        salt,
        out,
    )
}

/// Argon2 with any stored variant's parameters. This thread keeps memory for today's
/// parameters; a hash stored with larger ones borrows what it needs only while it runs.
fn argon2_with(
    algorithm: Algorithm,
    version: Version,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> ChatResult<()> {
    let argon = Argon2::new(algorithm, version, params.clone());
    let needed = params.block_count();
    let mut hash = |blocks: &mut [Block]| {
        argon
            .hash_password_into_with_memory(password, salt, &mut *out, blocks)
            .map_err(|_| ChatError::Internal("hashing a password"))
    };
    if needed > self::params()?.block_count() {
        return hash(&mut vec![Block::default(); needed]);
    }
    BLOCKS.with_borrow_mut(|blocks| {
        if blocks.len() < needed {
            blocks.resize(needed, Block::default());
        }
        hash(&mut blocks[..needed])
    })
}

/// A PHC string (`$argon2id$v=19$m=…`), as `PasswordHasher::hash_password` writes them.
fn hash_in_thread(password: &[u8]) -> ChatResult<String> {
    let params = params()?;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| ChatError::Internal("drawing a salt"))?;
    let salt_text =
        SaltString::encode_b64(&salt).map_err(|_| ChatError::Internal("encoding a salt"))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(&params, password, &salt, &mut out)?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)
            .map_err(|_| ChatError::Internal("encoding argon2 parameters"))?,
        salt: Some(salt_text.as_salt()),
        hash: Some(Output::new(&out).map_err(|_| ChatError::Internal("encoding a hash"))?),
    };
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `stored` (any Argon2 variant, version and
/// parameters).
fn verify_in_thread(password: &[u8], stored: &str) -> ChatResult<bool> {
    let parsed =
        PasswordHash::new(stored).map_err(|_| ChatError::Internal("parsing a stored hash"))?;
    let params =
        Params::try_from(&parsed).map_err(|_| ChatError::Internal("reading argon2 parameters"))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(ChatError::Internal("a stored hash without salt or output"));
    };
    // Whatever Argon2 variant and version the hash was stored with, as the crate's own
    // verifier does.
    let algorithm = Algorithm::try_from(parsed.algorithm)
        .map_err(|_| ChatError::Internal("a stored hash that is not argon2"))?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|_| ChatError::Internal("a stored hash of an unknown argon2 version"))?
        .unwrap_or_default();
    let mut salt_buf = [0u8; 64];
    let salt = salt
        .decode_b64(&mut salt_buf)
        .map_err(|_| ChatError::Internal("decoding a stored salt"))?;
    let mut out = vec![0u8; expected.len()];
    argon2_with(algorithm, version, &params, password, salt, &mut out)?;
    let computed = Output::new(&out).map_err(|_| ChatError::Internal("encoding a hash"))?;
    // `Output` compares in constant time.
    Ok(computed == expected)
}

/// Most threads hashing passwords at once.
pub const MAX_HASH_THREADS: usize = 8;
/// Hashes waiting for a thread before callers wait to queue theirs.
const HASH_QUEUE: usize = 256;

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads' queue; `None` if not one of them could be started.
fn hash_queue() -> Option<&'static mpsc::Sender<Job>> {
    static QUEUE: OnceLock<Option<mpsc::Sender<Job>>> = OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let threads = std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .min(MAX_HASH_THREADS);
            let (queue, jobs) = mpsc::channel::<Job>(HASH_QUEUE);
            let jobs = Arc::new(Mutex::new(jobs));
            let started = (0..threads)
                .filter(|n| {
                    let jobs = jobs.clone();
                    std::thread::Builder::new()
                        .name(format!("confab-hash-{n}"))
                        .spawn(move || {
                            loop {
                                // The lock is held only while waiting, never while hashing.
                                let job = match jobs.lock() {
                                    Ok(mut jobs) => jobs.blocking_recv(),
                                    Err(poisoned) => poisoned.into_inner().blocking_recv(),
                                };
                                match job {
                                    // A panicking hash answers nobody (its caller gets an
                                    // error) but must not take the thread with it.
                                    Some(job) => {
                                        let _ = std::panic::catch_unwind(
                                            std::panic::AssertUnwindSafe(job),
                                        );
                                    }
                                    None => return,
                                }
                            }
                        })
                        .is_ok()
                })
                .count();
            (started > 0).then_some(queue)
        })
        .as_ref()
}

/// Runs `work` on a hashing thread.
async fn on_hash_thread<T: Send + 'static>(
    work: impl FnOnce() -> ChatResult<T> + Send + 'static,
) -> ChatResult<T> {
    let queue = hash_queue().ok_or(ChatError::Internal("starting the hashing threads"))?;
    let (reply, answer) = oneshot::channel();
    let job: Job = Box::new(move || {
        // A caller that has gone (its client hung up) is not worth a hash: under a login
        // flood this keeps the queue moving.
        if !reply.is_closed() {
            let _ = reply.send(work());
        }
    });
    queue
        .send(job)
        .await
        .map_err(|_| ChatError::Internal("queueing a password hash"))?;
    answer
        .await
        .map_err(|_| ChatError::Internal("joining the hashing thread"))?
}

pub async fn hash_password(password: String) -> ChatResult<String> {
    on_hash_thread(move || hash_in_thread(password.as_bytes())).await
}

/// Verifies a password. With no stored hash (unknown user) it still does the work against a
/// dummy, so response time does not reveal which usernames exist.
pub async fn verify_password(password: String, stored: Option<String>) -> ChatResult<bool> {
    on_hash_thread(move || match stored {
        Some(stored) => verify_in_thread(password.as_bytes(), &stored),
        None => {
            // The same work as a real check, so the answer's timing says nothing.
            let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
            argon2_into(&params()?, password.as_bytes(), &[7u8; 16], &mut out)?;
            Ok(false)
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[tokio::test]
    async fn hashes_verify_both_ways_with_the_argon2_crates_own_format() {
        let ours = hash_password("correct horse".to_owned())
            .await
            .expect("hash");
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let argon = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            params().expect("params"),
        );
        let parsed = PasswordHash::new(&ours).expect("parse");
        assert!(argon.verify_password(b"correct horse", &parsed).is_ok());
        assert!(argon.verify_password(b"wrong horse", &parsed).is_err());

        // A hash written by the crate's own hasher, as stored before hashing had threads of
        // its own, with other parameters than today's.
        let older = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 3, 1, None).expect("params"),
        )
        .hash_password(
            b"battery staple",
            &SaltString::encode_b64(&[3u8; 16]).expect("salt"),
        )
        .expect("older hash")
        .to_string();
        assert!(
            verify_password("battery staple".to_owned(), Some(older.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !verify_password("battery stapler".to_owned(), Some(older))
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn hashes_of_other_argon2_variants_versions_and_sizes_verify() {
        for (algorithm, version, memory_kib) in [
            (Algorithm::Argon2i, Version::V0x10, 8 * 1024),
            (Algorithm::Argon2d, Version::V0x13, 8 * 1024),
            // More memory than today's parameters: borrowed for the one hash.
            (Algorithm::Argon2id, Version::V0x13, 32 * 1024),
        ] {
            let stored = Argon2::new(
                algorithm,
                version,
                Params::new(memory_kib, 1, 1, None).expect("params"),
            )
            .hash_password(b"pw", &SaltString::encode_b64(&[5u8; 16]).expect("salt"))
            .expect("hash")
            .to_string();
            assert!(
                verify_password("pw".to_owned(), Some(stored.clone()))
                    .await
                    .expect("verify"),
                "{stored}"
            );
            assert!(
                !verify_password("px".to_owned(), Some(stored))
                    .await
                    .expect("verify")
            );
        }
    }

    #[tokio::test]
    async fn every_hash_gets_its_own_salt_and_unknown_users_never_verify() {
        let a = hash_password("same".to_owned()).await.expect("hash");
        let b = hash_password("same".to_owned()).await.expect("hash");
        assert_ne!(a, b);
        assert!(
            verify_password("same".to_owned(), Some(a))
                .await
                .expect("verify")
        );
        assert!(
            !verify_password("same".to_owned(), None)
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn a_burst_of_hashes_all_complete_on_the_bounded_threads() {
        let hashes = (0..6).map(|i| tokio::spawn(hash_password(format!("pw{i}"))));
        for (i, h) in hashes.enumerate() {
            let hash = h.await.expect("join").expect("hash");
            assert!(verify_in_thread(format!("pw{i}").as_bytes(), &hash).expect("verify"));
        }
    }
}
