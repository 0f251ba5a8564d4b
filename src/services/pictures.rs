//! Profile pictures (issue #15): a member uploads a JPEG, PNG or WebP photo on `/me`; the server
//! decodes it under limits (`image::Limits`: no decompression bombs), turns it upright by its EXIF
//! orientation (phones' photos), crops the centre square, resizes it to `SIZE` pixels and encodes
//! a new JPEG. Nothing of the original file survives but its pixels: EXIF (GPS position, camera,
//! time) is gone. The result is a content-addressed blob (`storage`) named by `user_pictures`;
//! replacing or removing a picture only drops that reference, and garbage collection takes the
//! old blob once nothing else refers to it. Who may see a picture is `authz::authorize_picture`.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

use super::authz::{Action, authorize, authorize_picture};
use super::{Actor, Core};
use crate::db::DbConn;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::{now, picture, room, user};
use crate::storage::{Storage, StoreError};

/// The side of the stored square picture, in pixels (the one size served; CSS shows it smaller).
pub const SIZE: u32 = 256;
/// The largest upload taken (a phone's photo is a few MB); more is refused without being decoded.
pub const MAX_UPLOAD_BYTES: usize = 16 * 1024 * 1024;
/// The widest and tallest image decoded: a file that declares more is a decompression bomb or no
/// photo anyone takes (a 48-megapixel phone photo is 8000 × 6000).
pub const MAX_SIDE: u32 = 8000;
/// The most memory a decoder may take for one image (8000 × 8000 RGBA is 244 MiB).
const MAX_ALLOC: u64 = 256 * 1024 * 1024;
/// The JPEG quality of the stored picture.
const QUALITY: u8 = 85;

/// One decode at a time: each may hold a few hundred MB for a moment, and pictures change rarely.
static DECODES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Why an upload could not become a picture (each a message under the form's field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PictureProblem {
    /// No file was chosen, or it has no bytes.
    Empty,
    /// The upload is over `MAX_UPLOAD_BYTES`.
    TooLarge,
    /// The bytes are not a JPEG, PNG or WebP image.
    NotAnImage,
    /// A JPEG, PNG or WebP whose data is broken or cut off.
    Corrupt,
    /// Its declared size is over `MAX_SIDE`, or decoding it would take too much memory.
    TooManyPixels,
}

impl PictureProblem {
    /// The translation key of the message.
    pub fn message(self) -> &'static str {
        match self {
            Self::Empty => "picture.error_empty",
            Self::TooLarge => "picture.error_too_large",
            Self::NotAnImage => "picture.error_not_image",
            Self::Corrupt => "picture.error_corrupt",
            Self::TooManyPixels => "picture.error_too_many_pixels",
        }
    }

    fn into_error(self) -> AppError {
        let mut errors = FieldErrors::default();
        errors.add("picture", self.message());
        AppError::Invalid(errors)
    }
}

/// What the upload form delivered.
#[derive(Debug)]
pub enum Upload {
    /// The file's bytes (at most `MAX_UPLOAD_BYTES`).
    Bytes(Vec<u8>),
    /// More than `MAX_UPLOAD_BYTES` arrived (the rest was read and dropped).
    TooLarge,
}

/// The decoder limits of an upload.
fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(MAX_SIDE);
    l.max_image_height = Some(MAX_SIDE);
    l.max_alloc = Some(MAX_ALLOC);
    l
}

fn problem_of(e: &image::ImageError) -> PictureProblem {
    match e {
        image::ImageError::Limits(_) => PictureProblem::TooManyPixels,
        image::ImageError::Unsupported(_) => PictureProblem::NotAnImage,
        _ => PictureProblem::Corrupt,
    }
}

/// Decodes `bytes` (JPEG, PNG or WebP, recognised by their content, not a name) under the
/// limits, turns the image upright, crops its centre square, resizes it to `SIZE` and encodes it
/// as a new JPEG without any metadata. Pure and blocking (a large photo takes a while).
pub fn make_picture(bytes: &[u8]) -> Result<Vec<u8>, PictureProblem> {
    if bytes.is_empty() {
        return Err(PictureProblem::Empty);
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| PictureProblem::NotAnImage)?;
    if !matches!(
        reader.format(),
        Some(ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)
    ) {
        return Err(PictureProblem::NotAnImage);
    }
    if reader.format() == Some(ImageFormat::Jpeg) && !jpeg_is_complete(bytes) {
        return Err(PictureProblem::Corrupt);
    }
    reader.limits(limits());
    let mut decoder = reader.into_decoder().map_err(|e| problem_of(&e))?;
    // A photo whose orientation cannot be read is shown as it is stored.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| problem_of(&e))?;
    img.apply_orientation(orientation);
    let (w, h) = (img.width(), img.height());
    if w == 0 || h == 0 {
        return Err(PictureProblem::Corrupt);
    }
    let side = w.min(h);
    let square = img.crop_imm((w - side) / 2, (h - side) / 2, side, side);
    let small = square.resize_exact(SIZE, SIZE, image::imageops::FilterType::CatmullRom);
    let rgb = flatten_on_white(&small);
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, QUALITY)
        .encode_image(&rgb)
        .map_err(|_| PictureProblem::Corrupt)?;
    Ok(out)
}

/// Whether a JPEG's last scan is followed by its end marker. The decoder is lenient and paints a
/// photo cut off in transfer grey below the cut; such a picture is refused instead. (Entropy-coded
/// data never holds `FF DA` or `FF D9`, and a camera's EXIF thumbnail, with its own markers, comes
/// before the main image's scans.)
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xff, 0xda]);
    let last_end = bytes.windows(2).rposition(|w| w == [0xff, 0xd9]);
    matches!((last_scan, last_end), (Some(scan), Some(end)) if end > scan)
}

/// The image's pixels on a white background (a transparent PNG's see-through parts turn white,
/// not black, since JPEG has no transparency).
fn flatten_on_white(img: &DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [red, green, blue, alpha] = rgba.get_pixel(x, y).0;
        let over = |channel: u8| {
            let (channel, alpha) = (u32::from(channel), u32::from(alpha));
            u8::try_from((channel * alpha + 255 * (255 - alpha) + 127) / 255).unwrap_or(u8::MAX)
        };
        image::Rgb([over(red), over(green), over(blue)])
    })
}

/// Makes `upload` the actor's picture, replacing any older one. Refusals are field errors of
/// `picture` (`AppError::Invalid`); the picture the member had stays as it was.
pub async fn set_picture(core: &Core, actor: &Actor, upload: Upload) -> AppResult<()> {
    authorize(Some(actor), Action::EditOwnProfile)?;
    let bytes = match upload {
        Upload::TooLarge => return Err(PictureProblem::TooLarge.into_error()),
        Upload::Bytes(b) if b.is_empty() => return Err(PictureProblem::Empty.into_error()),
        Upload::Bytes(b) => b,
    };
    let jpeg = {
        let _turn = DECODES
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        tokio::task::spawn_blocking(move || make_picture(&bytes))
            .await
            .map_err(|e| AppError::Internal(e.into()))?
            .map_err(PictureProblem::into_error)?
    };
    let storage = core.storage.clone();
    let staged = tokio::task::spawn_blocking(move || {
        storage.check_space(jpeg.len() as u64)?;
        storage.stage_bytes(&jpeg)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(AppError::from)?;
    let (storage, user_id) = (core.storage.clone(), actor.id);
    let staged = std::sync::Arc::new(staged);
    let kept = staged.clone();
    let result = core
        .db
        .write(move |conn| commit(&storage, conn, user_id, &kept))
        .await;
    // Bytes the blob store already had (the same picture again) are not needed.
    core.storage.discard(&staged);
    result
}

/// Records the staged picture as `user_id`'s, in the write transaction: the blob's row is touched
/// (so garbage collection leaves it), its bytes put in place, then the reference replaced.
fn commit(
    storage: &Storage,
    conn: &mut DbConn,
    user_id: i64,
    staged: &crate::storage::Staged,
) -> AppResult<()> {
    use crate::models::file as m;
    picture::lock_user(conn, user_id)?;
    let size = i64::try_from(staged.size).map_err(|_| AppError::PayloadTooLarge)?;
    let at = now();
    let known_size = m::touch_blob(conn, &staged.sha256, size, at)?;
    storage.ensure_blob(staged).map_err(StoreError::from)?;
    if known_size.is_some_and(|n| n != size) {
        m::set_blob_size(conn, &staged.sha256, size)?;
    }
    picture::set(conn, user_id, &staged.sha256, at)?;
    Ok(())
}

/// Removes the actor's picture (their pages show the placeholder again); `true` when there was one.
pub fn remove_picture(conn: &mut DbConn, actor: &Actor) -> AppResult<bool> {
    authorize(Some(actor), Action::EditOwnProfile)?;
    picture::lock_user(conn, actor.id)?;
    Ok(picture::remove(conn, actor.id)?)
}

/// A picture to send: where its bytes are and its SHA-256 (the `ETag`).
#[derive(Debug, Clone)]
pub struct PictureFile {
    /// The blob's file.
    pub path: std::path::PathBuf,
    /// Its SHA-256 (never changes for these bytes).
    pub sha256: String,
}

/// `person_id`'s picture, if `actor` may see it (`authz::authorize_picture`: whoever may see their
/// profile page); 404 for no picture, a disabled account, or someone the actor may not see.
pub fn picture_of(
    core: &Core,
    conn: &mut DbConn,
    actor: Option<&Actor>,
    person_id: i64,
) -> AppResult<PictureFile> {
    let person = user::find_opt(conn, person_id)?
        .filter(|u| !u.disabled)
        .ok_or(AppError::NotFound)?;
    let shares_room = match actor {
        Some(a) if !a.is_admin && a.id != person.id => {
            !room::shared_rooms(conn, person.id, Some(a.id))?.is_empty()
        }
        _ => false,
    };
    authorize_picture(actor, person.id, shares_room)?;
    let sha256 = picture::find(conn, person.id)?.ok_or(AppError::NotFound)?;
    if !crate::storage::is_sha256_hex(&sha256) {
        return Err(AppError::Internal(anyhow::anyhow!(
            "user_pictures names {sha256:?}, which is not a SHA-256"
        )));
    }
    Ok(PictureFile {
        path: core.storage.blob_path(&sha256),
        sha256,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, _| {
            if x < w / 2 {
                image::Rgb([255, 0, 0])
            } else {
                image::Rgb([0, 0, 255])
            }
        });
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&img)
            .unwrap();
        out
    }

    #[test]
    fn a_photo_becomes_a_square_jpeg_of_the_centre() {
        let out = make_picture(&jpeg(600, 300)).unwrap();
        let img = image::load_from_memory(&out).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (SIZE, SIZE));
        // The centre square of a red | blue photo is red | blue too.
        assert!(img.get_pixel(10, 128).0[0] > 200);
        assert!(img.get_pixel(245, 128).0[2] > 200);
    }

    #[test]
    fn transparency_turns_white() {
        let img = image::RgbaImage::from_pixel(40, 40, image::Rgba([0, 0, 0, 0]));
        let mut png = Vec::new();
        img.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        let out = make_picture(&png).unwrap();
        let px = image::load_from_memory(&out).unwrap().to_rgb8();
        assert!(px.get_pixel(128, 128).0.iter().all(|c| *c > 245));
    }

    #[test]
    fn what_is_not_a_picture_says_why() {
        assert_eq!(make_picture(b""), Err(PictureProblem::Empty));
        assert_eq!(
            make_picture(b"just some text"),
            Err(PictureProblem::NotAnImage)
        );
        let mut cut = jpeg(64, 64);
        cut.truncate(200);
        assert_eq!(make_picture(&cut), Err(PictureProblem::Corrupt));
    }
}
