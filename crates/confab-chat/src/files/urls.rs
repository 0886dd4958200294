//! Signed file URLs that confab serves itself: an HMAC-SHA256 over what the URL may do
//! (method, file, expiry, and the declared size for an upload or the user for a download),
//! under a key of the server's (shared by a fleet), checked in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use confab_core::{ErrorCode, FileId, Timestamp, UserId};

use crate::error::{ChatError, ChatResult};

type HmacSha256 = Hmac<Sha256>;

/// What a signed URL lets its bearer do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Content,
    Thumbnail,
}

impl Variant {
    pub fn path(self) -> &'static str {
        match self {
            Variant::Content => "content",
            Variant::Thumbnail => "thumbnail",
        }
    }
}

pub struct UrlSigner {
    key: Vec<u8>,
}

impl UrlSigner {
    pub fn new(key: Vec<u8>) -> Self {
        Self { key }
    }

    fn mac(&self, what: &str) -> HmacSha256 {
        // A key of any length is accepted by HMAC.
        let mut mac = HmacSha256::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!());
        mac.update(what.as_bytes());
        mac
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn upload_text(file: &FileId, expires: i64, size: u64) -> String {
        format!("PUT\n{file}\n{expires}\n{size}")
    }

    fn download_text(file: &FileId, variant: Variant, expires: i64, user: &UserId) -> String {
        format!("GET\n{file}\n{}\n{expires}\n{user}", variant.path())
    }

    /// The query of an upload URL for exactly `size` bytes, valid until `expires` (seconds).
    pub fn upload_query(&self, file: &FileId, expires: i64, size: u64) -> String {
        let sig = self
            .mac(&Self::upload_text(file, expires, size))
            .finalize()
            .into_bytes();
        format!("expires={expires}&signature={}", Self::hex(&sig))
    }

    pub fn download_query(
        &self,
        file: &FileId,
        variant: Variant,
        expires: i64,
        user: &UserId,
    ) -> String {
        let sig = self
            .mac(&Self::download_text(file, variant, expires, user))
            .finalize()
            .into_bytes();
        format!(
            "expires={expires}&user={user}&signature={}",
            Self::hex(&sig)
        )
    }

    fn check(&self, text: &str, expires: i64, signature: &str) -> ChatResult<()> {
        let bad =
            || ChatError::refused(ErrorCode::InvalidSignature, "the URL's signature is wrong");
        let given = decode_hex(signature).ok_or_else(bad)?;
        self.mac(text).verify_slice(&given).map_err(|_| bad())?;
        if Timestamp::now().as_micros() / 1_000_000 > expires {
            return Err(ChatError::refused(
                ErrorCode::UrlExpired,
                "the URL has expired",
            ));
        }
        Ok(())
    }

    pub fn check_upload(
        &self,
        file: &FileId,
        expires: i64,
        size: u64,
        signature: &str,
    ) -> ChatResult<()> {
        self.check(&Self::upload_text(file, expires, size), expires, signature)
    }

    pub fn check_download(
        &self,
        file: &FileId,
        variant: Variant,
        expires: i64,
        user: &UserId,
        signature: &str,
    ) -> ChatResult<()> {
        self.check(
            &Self::download_text(file, variant, expires, user),
            expires,
            signature,
        )
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_every_part_and_expire() {
        let signer = UrlSigner::new(b"key".to_vec());
        let file = FileId::generate();
        let user = UserId::generate();
        let later = Timestamp::now().as_micros() / 1_000_000 + 60;
        let sig = |q: String| {
            q.rsplit_once("signature=")
                .map(|(_, s)| s.to_owned())
                .unwrap_or_default()
        };
        let up = sig(signer.upload_query(&file, later, 10));
        assert!(signer.check_upload(&file, later, 10, &up).is_ok());
        assert!(signer.check_upload(&file, later, 11, &up).is_err(), "size");
        assert!(
            signer.check_upload(&file, later + 1, 10, &up).is_err(),
            "expiry"
        );
        assert!(
            signer
                .check_upload(&FileId::generate(), later, 10, &up)
                .is_err(),
            "file"
        );
        assert!(
            signer.check_upload(&file, later, 10, "00").is_err(),
            "garbage"
        );
        let down = sig(signer.download_query(&file, Variant::Content, later, &user));
        assert!(
            signer
                .check_download(&file, Variant::Content, later, &user, &down)
                .is_ok()
        );
        assert!(
            signer
                .check_download(&file, Variant::Thumbnail, later, &user, &down)
                .is_err()
        );
        assert!(
            signer
                .check_download(&file, Variant::Content, later, &UserId::generate(), &down)
                .is_err()
        );
        let past = later - 120;
        let old = sig(signer.upload_query(&file, past, 10));
        let expired = signer.check_upload(&file, past, 10, &old);
        assert!(matches!(expired, Err(e) if e.code() == ErrorCode::UrlExpired));
        let other = UrlSigner::new(b"other".to_vec());
        assert!(other.check_upload(&file, later, 10, &up).is_err(), "key");
    }
}
