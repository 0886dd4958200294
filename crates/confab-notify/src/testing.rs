//! A browser's half of Web Push, for tests: a subscription's key pair and auth secret, and
//! decrypting what a push service would hand the browser. Real cryptography, no stand-ins, so
//! a test that decrypts a push has checked the encryption end to end.

use base64ct::{Base64UrlUnpadded, Encoding};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use web_push_native::Auth;

use crate::PushTarget;
use crate::vapid::random_secret_key;

/// What `pushManager.subscribe` makes in a browser, less the endpoint.
pub struct Subscription {
    pub secret: p256::SecretKey,
    pub auth: [u8; 16],
}

impl Subscription {
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut auth = [0u8; 16];
        getrandom::fill(&mut auth)?;
        Ok(Self {
            secret: random_secret_key()?,
            auth,
        })
    }

    /// The uncompressed public key, base64url, as `PushSubscription.toJSON().keys.p256dh`.
    pub fn p256dh(&self) -> String {
        let point = self.secret.public_key().to_encoded_point(false);
        Base64UrlUnpadded::encode_string(point.as_bytes())
    }

    pub fn auth_base64url(&self) -> String {
        Base64UrlUnpadded::encode_string(&self.auth)
    }

    /// This subscription registered as `id`, pushed to at `endpoint`.
    pub fn target(&self, id: &str, endpoint: &str) -> PushTarget {
        PushTarget {
            id: id.into(),
            endpoint: endpoint.into(),
            p256dh: self.p256dh(),
            auth: self.auth_base64url(),
        }
    }

    pub fn decrypt(&self, body: &[u8]) -> Result<Vec<u8>, String> {
        decrypt_push(body, &self.secret, &self.auth)
    }
}

/// The plaintext of an aes128gcm push body (RFC 8291), as the browser holding `ua_private`
/// and `auth` reads it.
pub fn decrypt_push(
    body: &[u8],
    ua_private: &p256::SecretKey,
    auth: &[u8; 16],
) -> Result<Vec<u8>, String> {
    web_push_native::decrypt(body.to_vec(), ua_private, &Auth::clone_from_slice(auth))
        .map_err(|e| e.to_string())
}
