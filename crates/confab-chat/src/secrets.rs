//! Opaque random tokens and password hashes. Tokens are shown once and stored as SHA-256;
//! passwords are hashed with Argon2id off the async runtime.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use sha2::{Digest, Sha256};

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

fn argon2() -> ChatResult<Argon2<'static>> {
    // OWASP's recommended Argon2id parameters: 19 MiB, two passes, one lane.
    let params = Params::new(19 * 1024, 2, 1, None)
        .map_err(|_| ChatError::Internal("configuring argon2"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub async fn hash_password(password: String) -> ChatResult<String> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|_| ChatError::Internal("drawing a salt"))?;
        let salt =
            SaltString::encode_b64(&salt).map_err(|_| ChatError::Internal("encoding a salt"))?;
        argon2()?
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|_| ChatError::Internal("hashing a password"))
    })
    .await
    .map_err(|_| ChatError::Internal("joining the hashing task"))?
}

/// Verifies a password. With no stored hash (unknown user) it still does the work against a
/// dummy, so response time does not reveal which usernames exist.
pub async fn verify_password(password: String, stored: Option<String>) -> ChatResult<bool> {
    tokio::task::spawn_blocking(move || {
        let argon = argon2()?;
        let dummy;
        let hash_text = match &stored {
            Some(h) => h.as_str(),
            None => {
                dummy = argon
                    .hash_password(
                        b"dummy-password",
                        &SaltString::encode_b64(&[7u8; 16])
                            .map_err(|_| ChatError::Internal("encoding a salt"))?,
                    )
                    .map(|h| h.to_string())
                    .map_err(|_| ChatError::Internal("hashing a password"))?;
                dummy.as_str()
            }
        };
        let parsed = PasswordHash::new(hash_text)
            .map_err(|_| ChatError::Internal("parsing a stored hash"))?;
        Ok(stored.is_some() && argon.verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(|_| ChatError::Internal("joining the hashing task"))?
}
