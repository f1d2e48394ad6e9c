//! What an upload is: its type read from its bytes, a safe file name, and for images their size
//! and a thumbnail. Pure functions; the image ones block and run on the blocking pool.

use std::io::BufReader;
use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::webp::WebPEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ExtendedColorType, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Bytes read from the start of a file to decide its type.
pub const SNIFF_BYTES: usize = 8192;

/// The raster formats Confab decodes for thumbnails and the only types ever served inline.
pub const SAFE_IMAGES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// The content type of a file from its first bytes, never from its name.
pub fn sniff(head: &[u8]) -> String {
    let inferred = infer::get(head).map(|k| k.mime_type());
    match inferred {
        Some("text/xml") | None if mentions_svg(head) => "image/svg+xml".to_owned(),
        Some(mime) => mime.to_owned(),
        None if is_text(head) => "text/plain".to_owned(),
        None => "application/octet-stream".to_owned(),
    }
}

fn mentions_svg(head: &[u8]) -> bool {
    head.windows(4).any(|w| w.eq_ignore_ascii_case(b"<svg"))
}

/// UTF-8 (perhaps cut mid-character at the end) without NULs or odd control bytes.
fn is_text(head: &[u8]) -> bool {
    let utf8 = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    utf8 && !head
        .iter()
        .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c))
}

pub use crate::domain::is_type_pattern;

fn type_matches(pattern: &str, mime: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some("*/") => true,
        Some(prefix) => mime.starts_with(prefix),
        None => pattern.eq_ignore_ascii_case(mime),
    }
}

/// Whether the allow and deny lists let `mime` in (an empty allow list allows every type).
pub fn accepts(allowed: &[String], denied: &[String], mime: &str) -> bool {
    (allowed.is_empty() || allowed.iter().any(|p| type_matches(p, mime)))
        && !denied.iter().any(|p| type_matches(p, mime))
}

/// How a stored file goes out: its Content-Type and whether a browser may show it inline.
/// Only the safe rasters are inline; markup and script types leave as opaque bytes, so neither
/// an SVG nor an HTML file can ever run in Confab's origin.
pub fn served_as(content_type: &str) -> (&str, bool) {
    if SAFE_IMAGES.contains(&content_type) {
        return (content_type, true);
    }
    let scriptable = ["html", "xml", "svg", "javascript", "ecmascript"]
        .iter()
        .any(|s| content_type.contains(s));
    if scriptable {
        ("application/octet-stream", false)
    } else {
        (content_type, false)
    }
}

/// A file name safe to store and to put in a header: the last path component, without control
/// or bidi characters, leading dots or `..`, at most 255 characters; "file" when nothing is left.
pub fn sanitize_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut name: String = base
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    while name.contains("..") {
        name = name.replace("..", ".");
    }
    let name = name
        .trim()
        .trim_start_matches('.')
        .trim_end_matches(['.', ' ']);
    let name = shorten(name, 255);
    if name.is_empty() {
        "file".to_owned()
    } else {
        name
    }
}

/// At most `max` characters, keeping a short extension.
fn shorten(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_owned();
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| e.chars().count() <= 16)
        .unwrap_or_default();
    let keep = if ext.is_empty() {
        max
    } else {
        max - ext.chars().count() - 1
    };
    let stem: String = name.chars().take(keep).collect();
    if ext.is_empty() {
        stem
    } else {
        format!("{stem}.{ext}")
    }
}

/// The decoder for a content type Confab makes thumbnails of.
pub fn image_format(content_type: &str) -> Option<ImageFormat> {
    match content_type {
        "image/png" => Some(ImageFormat::Png),
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/gif" => Some(ImageFormat::Gif),
        "image/webp" => Some(ImageFormat::WebP),
        _ => None,
    }
}

/// A stored image's displayed size and its thumbnail.
#[derive(Debug)]
pub struct ImageFacts {
    pub width: u32,
    pub height: u32,
    pub thumbnail: Thumbnail,
}

/// A re-encoded (so metadata-free) small copy of an image.
#[derive(Debug)]
pub struct Thumbnail {
    pub bytes: Vec<u8>,
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ImageRefused {
    #[error("the image is {width}x{height} pixels, more than the {max} allowed")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    #[error("the image is too large to decode: {0}")]
    OverLimit(String),
    #[error("the image cannot be decoded: {0}")]
    Undecodable(String),
    #[error("reading the image: {0}")]
    Io(#[from] std::io::Error),
}

impl From<image::ImageError> for ImageRefused {
    fn from(e: image::ImageError) -> Self {
        match e {
            image::ImageError::Limits(l) => ImageRefused::OverLimit(l.to_string()),
            image::ImageError::IoError(io) => ImageRefused::Io(io),
            other => ImageRefused::Undecodable(other.to_string()),
        }
    }
}

/// Reads the image at `path`: its size from the header (refused before any pixel is decoded when
/// it has more than `max_pixels`), then the pixels, turned upright per EXIF, and a thumbnail that
/// fits a `box_px` square (never enlarged). Blocking.
pub fn process_image(
    path: &Path,
    format: ImageFormat,
    box_px: u32,
    max_pixels: u64,
) -> Result<ImageFacts, ImageRefused> {
    let file = std::fs::File::open(path)?;
    let mut reader = ImageReader::with_format(BufReader::new(file), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(4));
    reader.limits(limits);
    // Reads the header only.
    let mut decoder = reader.into_decoder()?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(ImageRefused::TooManyPixels {
            width,
            height,
            max: max_pixels,
        });
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder)?;
    img.apply_orientation(orientation);
    let (width, height) = (img.width(), img.height());
    let small = if width > box_px || height > box_px {
        img.thumbnail(box_px, box_px)
    } else {
        img
    };
    Ok(ImageFacts {
        width,
        height,
        thumbnail: encode_thumbnail(&small)?,
    })
}

/// WebP (lossless) when the image has transparency, JPEG otherwise.
fn encode_thumbnail(img: &DynamicImage) -> Result<Thumbnail, ImageRefused> {
    let (w, h) = (img.width(), img.height());
    let mut bytes = Vec::new();
    let extension = if img.color().has_alpha() {
        WebPEncoder::new_lossless(&mut bytes).encode(
            img.to_rgba8().as_raw(),
            w,
            h,
            ExtendedColorType::Rgba8,
        )?;
        "webp"
    } else {
        JpegEncoder::new_with_quality(&mut bytes, 82).encode(
            img.to_rgb8().as_raw(),
            w,
            h,
            ExtendedColorType::Rgb8,
        )?;
        "jpg"
    };
    Ok(Thumbnail {
        bytes,
        extension,
        width: w,
        height: h,
    })
}

/// The Content-Type of a thumbnail, from the extension of its key.
pub fn thumbnail_type(key: &str) -> &'static str {
    if key.ends_with(".webp") {
        "image/webp"
    } else {
        "image/jpeg"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_paths_controls_and_dot_dot() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("C:\\Users\\me\\cat.png"), "cat.png");
        assert_eq!(sanitize_file_name("a\r\nb\u{0}.txt"), "ab.txt");
        assert_eq!(sanitize_file_name("evil\u{202e}gpj.exe"), "evilgpj.exe");
        assert_eq!(sanitize_file_name(".."), "file");
        assert_eq!(sanitize_file_name("a..b...c"), "a.b.c");
        assert_eq!(sanitize_file_name(".htaccess"), "htaccess");
        assert_eq!(sanitize_file_name(""), "file");
        let long = format!("{}.pdf", "x".repeat(400));
        let short = sanitize_file_name(&long);
        assert_eq!(short.chars().count(), 255);
        assert!(short.ends_with(".pdf"));
    }

    #[test]
    fn types_come_from_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png");
        assert_eq!(sniff(b"%PDF-1.4\n"), "application/pdf");
        assert_eq!(
            sniff(b"<html><script>alert(1)</script></html>"),
            "text/html"
        );
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?><svg xmlns=\"x\"/>"),
            "image/svg+xml"
        );
        assert_eq!(sniff(b"<svg onload=alert(1)>"), "image/svg+xml");
        assert_eq!(sniff("plain text, é".as_bytes()), "text/plain");
        assert_eq!(sniff(b"\0\x01\x02\x03"), "application/octet-stream");
    }

    #[test]
    fn only_safe_rasters_are_inline_and_markup_is_opaque() {
        assert_eq!(served_as("image/png"), ("image/png", true));
        assert_eq!(served_as("text/html"), ("application/octet-stream", false));
        assert_eq!(
            served_as("image/svg+xml"),
            ("application/octet-stream", false)
        );
        assert_eq!(served_as("application/pdf"), ("application/pdf", false));
    }

    #[test]
    fn allow_and_deny_lists_match_patterns() {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(accepts(&[], &[], "application/pdf"));
        assert!(accepts(&v(&["image/*"]), &[], "image/png"));
        assert!(!accepts(&v(&["image/*"]), &[], "application/pdf"));
        assert!(!accepts(&[], &v(&["application/pdf"]), "application/pdf"));
        assert!(!accepts(&v(&["*/*"]), &v(&["text/*"]), "text/html"));
        assert!(is_type_pattern("image/*") && is_type_pattern("application/vnd.ms-excel"));
        assert!(!is_type_pattern("image") && !is_type_pattern("/png"));
    }
}
