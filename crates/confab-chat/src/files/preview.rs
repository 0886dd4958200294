//! Image previews. Untrusted images are decoded only within limits set before decoding
//! starts: the dimensions are read from the header first and refused past `max_side`, and
//! `image::Limits` bounds width, height and allocation for the decoder itself (whose
//! `max_alloc` is not strict for every format, hence the dimension check). A decompression
//! bomb fails cleanly and the file stays downloadable. Animations give their first frame.

use std::io::{BufReader, Cursor, Read, Seek};

use confab_core::files::{ImageKind, THUMBNAIL_SIDE};
use image::{ImageFormat, ImageReader, Limits};

#[derive(Clone, Copy, Debug)]
pub struct ImageLimits {
    /// Longest side decoded, in pixels.
    pub max_side: u32,
    /// Bytes a decode may allocate.
    pub max_alloc: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self {
            max_side: 12_000,
            // A 24-megapixel photo (6000 × 4000, RGB) is 72 MB decoded.
            max_alloc: 128 * 1024 * 1024,
        }
    }
}

fn format(kind: ImageKind) -> ImageFormat {
    match kind {
        ImageKind::Png => ImageFormat::Png,
        ImageKind::Jpeg => ImageFormat::Jpeg,
        ImageKind::Gif => ImageFormat::Gif,
        ImageKind::WebP => ImageFormat::WebP,
    }
}

fn limits(l: ImageLimits) -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(l.max_side);
    limits.max_image_height = Some(l.max_side);
    limits.max_alloc = Some(l.max_alloc);
    limits
}

/// The image's width and height from its header, if it is within `l`.
pub fn dimensions<R: Read + Seek>(
    reader: R,
    kind: ImageKind,
    l: ImageLimits,
) -> Option<(u32, u32)> {
    use image::ImageDecoder;
    let mut reader = ImageReader::with_format(BufReader::new(reader), format(kind));
    reader.limits(limits(l));
    let decoder = reader.into_decoder().ok()?;
    // What decoding allocates follows from the header (width × height × bytes per pixel of
    // its colour type, 16-bit ones included), so it is checked before a byte is decoded:
    // `max_alloc` alone is not strict for every decoder.
    (decoder.total_bytes() <= l.max_alloc).then(|| decoder.dimensions())
}

/// A preview made from an image: its bytes (JPEG for a JPEG, PNG otherwise) and its size.
pub struct Thumbnail {
    pub bytes: Vec<u8>,
    pub size: (u32, u32),
}

/// Decodes the image in `file` within `l` and scales it to at most [`THUMBNAIL_SIDE`] on its
/// long side: JPEG for photos, PNG (which keeps transparency) for the rest.
pub fn thumbnail(
    mut file: std::fs::File,
    kind: ImageKind,
    l: ImageLimits,
) -> Result<Thumbnail, String> {
    file.rewind().map_err(|e| e.to_string())?;
    let image = dimensions(&mut file, kind, l).ok_or("image too large or unreadable")?;
    file.rewind().map_err(|e| e.to_string())?;
    let mut reader = ImageReader::with_format(BufReader::new(file), format(kind));
    reader.limits(limits(l));
    let decoded = reader.decode().map_err(|e| e.to_string())?;
    let scaled = if image.0 > THUMBNAIL_SIDE || image.1 > THUMBNAIL_SIDE {
        decoded.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE)
    } else {
        decoded
    };
    let size = (scaled.width(), scaled.height());
    let mut bytes = Vec::new();
    if kind == ImageKind::Jpeg {
        let rgb = scaled.to_rgb8();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 80)
            .encode_image(&rgb)
            .map_err(|e| e.to_string())?;
    } else {
        scaled
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .map_err(|e| e.to_string())?;
    }
    Ok(Thumbnail { bytes, size })
}
