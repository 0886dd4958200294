//! The server's VAPID identity (RFC 8292): a P-256 key pair whose public half browsers are
//! given when they subscribe, and whose private half signs a short-lived ES256 JWT on every
//! push, so push services accept pushes to those subscriptions only from this server.
//!
//! A fleet shares one key (every node must sign for the same subscriptions), so it is kept in
//! a file or configuration, not made per process.

use std::io::Write;
use std::path::Path;

use base64ct::{Base64UrlUnpadded, Encoding};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum VapidError {
    #[error("VAPID private key is not a base64url P-256 scalar: {0}")]
    InvalidKey(String),
    #[error("VAPID key file {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("no randomness for a VAPID key: {0}")]
    Random(getrandom::Error),
}

/// How long a push's signature is valid; RFC 8292 allows at most 24 hours.
const JWT_LIFETIME_SECS: i64 = 12 * 60 * 60;

#[derive(Clone)]
pub struct VapidKeys {
    signing: SigningKey,
}

impl std::fmt::Debug for VapidKeys {
    // The private key stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKeys")
            .field("public", &self.public_key_base64url())
            .finish_non_exhaustive()
    }
}

impl VapidKeys {
    pub fn generate() -> Result<Self, VapidError> {
        let secret = random_secret_key().map_err(VapidError::Random)?;
        Ok(Self {
            signing: SigningKey::from(secret),
        })
    }

    /// From the 32-byte private scalar, base64url (padding and surrounding whitespace
    /// tolerated), as [`VapidKeys::private_key_base64url`] writes it and as other Web Push
    /// libraries print it.
    pub fn from_private_base64url(s: &str) -> Result<Self, VapidError> {
        let bytes = Base64UrlUnpadded::decode_vec(s.trim().trim_end_matches('='))
            .map_err(|e| VapidError::InvalidKey(e.to_string()))?;
        let signing =
            SigningKey::from_slice(&bytes).map_err(|e| VapidError::InvalidKey(e.to_string()))?;
        Ok(Self { signing })
    }

    /// The key in the file at `path`, or, when there is none, a new one written there first.
    /// The file is created readable by its owner only and appears whole or not at all; when
    /// two processes race to create it, both end up with the one that landed first.
    /// Blocking file I/O: call at startup, or from `spawn_blocking`.
    pub fn load_or_create(path: &Path) -> Result<Self, VapidError> {
        let file_error = |source| VapidError::File {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => return Self::from_private_base64url(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(file_error(e)),
        }
        let keys = Self::generate()?;
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        // A NamedTempFile is created with mode 0600 on Unix.
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(file_error)?;
        writeln!(tmp, "{}", keys.private_key_base64url()).map_err(file_error)?;
        tmp.as_file().sync_all().map_err(file_error)?;
        match tmp.persist_noclobber(path) {
            Ok(_) => {
                // The new name is durable only once its directory is.
                std::fs::File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(file_error)?;
                Ok(keys)
            }
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(path).map_err(file_error)?;
                Self::from_private_base64url(&text)
            }
            Err(e) => Err(file_error(e.error)),
        }
    }

    /// The uncompressed public point (65 bytes), base64url: what browsers pass to
    /// `pushManager.subscribe` as `applicationServerKey`.
    pub fn public_key_base64url(&self) -> String {
        let point = self.signing.verifying_key().to_encoded_point(false);
        Base64UrlUnpadded::encode_string(point.as_bytes())
    }

    pub fn private_key_base64url(&self) -> String {
        Base64UrlUnpadded::encode_string(&self.signing.to_bytes())
    }

    pub fn verifying_key(&self) -> &p256::ecdsa::VerifyingKey {
        self.signing.verifying_key()
    }

    /// The `Authorization` header for a push to a service at `audience` (the endpoint's
    /// origin), valid for 12 hours from `now_unix`.
    pub(crate) fn authorization(&self, audience: &str, contact: &str, now_unix: i64) -> String {
        format!(
            "vapid t={}, k={}",
            self.jwt(audience, contact, now_unix),
            self.public_key_base64url()
        )
    }

    fn jwt(&self, audience: &str, contact: &str, now_unix: i64) -> String {
        #[derive(Serialize)]
        struct Claims<'a> {
            aud: &'a str,
            exp: i64,
            sub: &'a str,
        }
        let header = Base64UrlUnpadded::encode_string(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = Claims {
            aud: audience,
            exp: now_unix + JWT_LIFETIME_SECS,
            sub: contact,
        };
        // Three plain fields always serialize.
        let claims = serde_json::to_vec(&claims).unwrap_or_default();
        let signing_input = format!("{header}.{}", Base64UrlUnpadded::encode_string(&claims));
        // ES256 in a JWS is the raw 64-byte r ‖ s (RFC 7518 §3.4), not DER.
        let signature: Signature = self.signing.sign(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            Base64UrlUnpadded::encode_string(&signature.to_bytes())
        )
    }
}

/// A uniformly random P-256 private key. Rejection sampling, as `SecretKey::random` does, but
/// drawing from getrandom directly: 32 random bytes are a valid scalar but for a chance of
/// about 2⁻³², so the loop runs once.
pub(crate) fn random_secret_key() -> Result<p256::SecretKey, getrandom::Error> {
    loop {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        if let Ok(key) = p256::SecretKey::from_slice(&bytes) {
            return Ok(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_base64url() -> Result<(), VapidError> {
        let keys = VapidKeys::generate()?;
        let again = VapidKeys::from_private_base64url(&keys.private_key_base64url())?;
        assert_eq!(again.public_key_base64url(), keys.public_key_base64url());
        let public = Base64UrlUnpadded::decode_vec(&keys.public_key_base64url())
            .map_err(|e| VapidError::InvalidKey(e.to_string()))?;
        assert_eq!(public.len(), 65);
        assert_eq!(public[0], 4, "uncompressed point");
        assert!(!format!("{keys:?}").contains(&keys.private_key_base64url()));
        for bad in ["", "!!!", "AAAA", &"A".repeat(43)] {
            assert!(VapidKeys::from_private_base64url(bad).is_err(), "{bad}");
        }
        Ok(())
    }

    #[test]
    fn load_or_create_makes_a_private_file_once() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("vapid.key");
        let created = VapidKeys::load_or_create(&path)?;
        let loaded = VapidKeys::load_or_create(&path)?;
        assert_eq!(
            created.public_key_base64url(),
            loaded.public_key_base64url()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)?.permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Only the key file is left: the temporary one was renamed, not copied.
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 1);
        Ok(())
    }
}
