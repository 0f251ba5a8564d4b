//! Sample images made in the test (no binary fixtures), and the `/me` picture form.

use std::io::Cursor;

use super::TestApp;

/// A `w` × `h` photo, red on its left half and blue on its right, as JPEG.
pub fn sample_jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            image::Rgb([220, 30, 30])
        } else {
            image::Rgb([30, 30, 220])
        }
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&img)
        .unwrap();
    out
}

/// A `w` × `h` PNG of one colour.
pub fn sample_png(w: u32, h: u32, rgb: [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb(rgb));
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A `w` × `h` lossless WebP of one colour.
pub fn sample_webp(w: u32, h: u32, rgb: [u8; 3]) -> Vec<u8> {
    let img = image::RgbaImage::from_pixel(w, h, image::Rgba([rgb[0], rgb[1], rgb[2], 255]));
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::WebP)
        .unwrap();
    out
}

/// An EXIF block (APP1) with a camera make and a GPS position (35°N 139°E), and an orientation.
fn exif_app1(orientation: u16) -> Vec<u8> {
    // Little-endian TIFF: IFD0 with Make, Orientation and a pointer to the GPS IFD.
    let mut t: Vec<u8> = b"II*\0".to_vec();
    t.extend_from_slice(&8u32.to_le_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: u32| {
        t.extend_from_slice(&tag.to_le_bytes());
        t.extend_from_slice(&kind.to_le_bytes());
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&value.to_le_bytes());
    };
    // IFD0 at 8: 3 entries (2 + 36 + 4 bytes) → data from 50.
    t.extend_from_slice(&3u16.to_le_bytes());
    entry(&mut t, 0x010f, 2, 8, 50); // Make → "PhoneCo\0" at 50
    entry(&mut t, 0x0112, 3, 1, u32::from(orientation));
    entry(&mut t, 0x8825, 4, 1, 58); // GPS IFD at 58
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(b"PhoneCo\0");
    // GPS IFD at 58: LatitudeRef "N", Latitude (3 rationals at 88) → 2 + 24 + 4 = 30 → 88.
    t.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut t, 0x0001, 2, 2, u32::from(b'N'));
    entry(&mut t, 0x0002, 5, 3, 88);
    t.extend_from_slice(&0u32.to_le_bytes());
    for (n, d) in [(35u32, 1u32), (41, 1), (0, 1)] {
        t.extend_from_slice(&n.to_le_bytes());
        t.extend_from_slice(&d.to_le_bytes());
    }
    let mut app1 = vec![0xff, 0xe1];
    let len = u16::try_from(2 + 6 + t.len()).unwrap();
    app1.extend_from_slice(&len.to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&t);
    app1
}

/// A phone's photo: `sample_jpeg(w, h)` with EXIF (camera, GPS position, `orientation`) right
/// after the start marker.
pub fn jpeg_with_gps(w: u32, h: u32, orientation: u16) -> Vec<u8> {
    let plain = sample_jpeg(w, h);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&exif_app1(orientation));
    out.extend_from_slice(&plain[2..]);
    out
}

/// Whether JPEG bytes carry an EXIF block (an APP1 segment starting `Exif`).
pub fn has_exif(jpeg: &[u8]) -> bool {
    jpeg.windows(6).any(|w| w == b"Exif\0\0")
}

/// Sends the `/me` picture form (multipart, the token in the query) with `bytes` as `c`.
pub async fn upload_picture(
    app: &TestApp,
    c: &reqwest::Client,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let token = app.csrf(c, "/me").await;
    let form = reqwest::multipart::Form::new().part(
        "picture",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    );
    c.post(app.url(&format!("/me/picture?_csrf={token}")))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The `src` of the first `<img>` whose address starts with `/people/{id}/picture`, if any.
pub fn picture_src(html: &str, id: i64) -> Option<String> {
    let needle = format!("src=\"/people/{id}/picture");
    let at = html.find(&needle)? + 5;
    let end = html[at..].find('"')? + at;
    Some(html[at..end].replace("&amp;", "&"))
}
