//! The type policy of downloads: the type a file is stored with (from its name) and the few types a
//! browser may show inline (everything else is a download, so no uploaded HTML or SVG ever runs in
//! the site's origin).

/// The image types a page may show (raster only: an SVG can carry script).
pub const IMAGE_TYPES: [&str; 6] = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
    "image/bmp",
];

/// Types a browser may show inline; everything else is downloaded (never rendered: no HTML, no SVG).
pub fn is_inline_type(content_type: &str) -> bool {
    content_type.starts_with("audio/")
        || content_type.starts_with("video/")
        || content_type == "application/pdf"
        || is_image_type(content_type)
}

/// Whether a post may show this file as an image.
pub fn is_image_type(content_type: &str) -> bool {
    IMAGE_TYPES.contains(&content_type)
}

/// The type a file is stored with, from its name.
pub fn content_type_for(name: &str) -> String {
    mime_guess::from_path(name)
        .first_raw()
        .unwrap_or("application/octet-stream")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_media_pdf_and_raster_images_are_inline() {
        for t in [
            "audio/mpeg",
            "video/mp4",
            "application/pdf",
            "image/png",
            "image/jpeg",
        ] {
            assert!(is_inline_type(t), "{t}");
        }
        for t in [
            "text/html",
            "image/svg+xml",
            "application/octet-stream",
            "text/plain",
        ] {
            assert!(!is_inline_type(t), "{t}");
        }
        assert_eq!(content_type_for("x.jpg.html"), "text/html");
        assert_eq!(content_type_for("曲.mp3"), "audio/mpeg");
    }
}
