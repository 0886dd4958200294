//! Files as the domain sees them: the name a file is shown under, what its bytes are (sniffed,
//! never taken from the client), whether a browser may show it inline, and the
//! `Content-Disposition` it is served with.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::ids::FileId;

/// A file as messages carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    pub id: FileId,
    pub filename: String,
    pub size: u64,
    /// Sniffed from the bytes.
    pub content_type: String,
    /// For images, read from the header when the upload completed.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// The thumbnail's size once one was made (at most [`THUMBNAIL_SIDE`] on the long side).
    pub thumbnail: Option<(u32, u32)>,
}

/// Thumbnails' longest side, in pixels.
pub const THUMBNAIL_SIDE: u32 = 360;

/// Files one message may carry.
pub const MAX_FILES_PER_MESSAGE: usize = 10;

/// The name a file is shown and downloaded under: 1 to 255 characters, trimmed, no control
/// or bidirectional-override characters. Never used as a path: blobs are stored by ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileName(String);

impl FileName {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = raw.trim();
        let chars = name.chars().count();
        let bad = |c: char| c.is_control() || crate::names::is_bidi_control(c);
        if chars == 0 || chars > 255 || name.chars().any(bad) {
            return Err(ValidationError::FileName);
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Raster image formats confab previews.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageKind {
    Png,
    Jpeg,
    Gif,
    WebP,
}

/// What a file's bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sniffed {
    /// The MIME type served; `application/octet-stream` when nothing matched.
    pub content_type: &'static str,
    /// Safe to show in a browser: raster images and PDF, nothing that can run script.
    pub inline: bool,
    pub image: Option<ImageKind>,
}

/// Bytes enough to sniff any type `infer` knows.
pub const SNIFF_BYTES: usize = 8 * 1024;

/// Sniffs the type of a file from its first bytes ([`SNIFF_BYTES`] suffice). Whatever the
/// client declared is ignored: a "PNG" that is HTML is served as an attachment.
pub fn sniff(prefix: &[u8]) -> Sniffed {
    let found = infer::get(prefix).map(|t| t.mime_type());
    let image = match found {
        Some("image/png") => Some(ImageKind::Png),
        Some("image/jpeg") => Some(ImageKind::Jpeg),
        Some("image/gif") => Some(ImageKind::Gif),
        Some("image/webp") => Some(ImageKind::WebP),
        _ => None,
    };
    let inline = image.is_some() || found == Some("application/pdf");
    Sniffed {
        content_type: found.unwrap_or("application/octet-stream"),
        inline,
        image,
    }
}

/// Whether a stored (sniffed) content type may be served inline.
pub fn served_inline(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "application/pdf"
    )
}

/// `Content-Disposition` for serving `filename` (RFC 6266): an ASCII fallback in `filename`
/// with anything unsafe replaced, and the exact name, percent-encoded, in `filename*`.
pub fn content_disposition(filename: &str, inline: bool) -> String {
    let kind = if inline { "inline" } else { "attachment" };
    let fallback: String = filename
        .chars()
        .map(|c| match c {
            ' '..='~' if !matches!(c, '"' | '\\' | '/' | '%' | ';') => c,
            _ => '_',
        })
        .collect();
    let mut encoded = String::with_capacity(filename.len() * 3);
    for b in filename.bytes() {
        // RFC 5987 attr-char: ALPHA / DIGIT / "!#$&+-.^_`|~"
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            FileName::parse("  report.pdf ").map(FileName::into_inner),
            Ok("report.pdf".into())
        );
        assert!(FileName::parse("").is_err());
        assert!(FileName::parse("a\nb").is_err());
        assert!(FileName::parse("evil\u{202e}fdp.exe").is_err());
        assert!(FileName::parse(&"x".repeat(256)).is_err());
        assert!(FileName::parse(&"é".repeat(255)).is_ok());
    }

    #[test]
    fn only_raster_images_and_pdf_are_inline() {
        let png = [
            0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d,
        ];
        assert_eq!(sniff(&png).content_type, "image/png");
        assert!(sniff(&png).inline);
        assert_eq!(sniff(b"%PDF-1.7\n").content_type, "application/pdf");
        assert!(sniff(b"%PDF-1.7\n").inline);
        for hostile in [
            &b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"[..],
            b"<!DOCTYPE html><html><script>alert(1)</script>",
            b"<?xml version='1.0'?><x/>",
            b"plain text",
        ] {
            assert!(
                !sniff(hostile).inline,
                "{:?}",
                String::from_utf8_lossy(hostile)
            );
            assert!(sniff(hostile).image.is_none());
        }
        assert!(!served_inline("image/svg+xml"));
        assert!(!served_inline("text/html"));
        assert!(served_inline("image/webp"));
    }

    #[test]
    fn dispositions_quote_nothing_a_header_could_break_on() {
        assert_eq!(
            content_disposition("a b.png", true),
            "inline; filename=\"a b.png\"; filename*=UTF-8''a%20b.png"
        );
        let d = content_disposition("\"evil\";\r\nX: 1 é/..\\.txt", false);
        assert!(d.starts_with("attachment; filename=\"_evil__"));
        assert!(!d.contains('\r') && !d.contains('\n'));
        assert!(d.contains("%C3%A9%2F..%5C.txt"));
    }
}
