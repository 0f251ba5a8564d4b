//! Title, artist, album and track of audio files (ID3, Vorbis comments, MP4, RIFF INFO … through
//! lofty), read once when a file is stored, for the music player.

use super::mime::content_type_for;
use super::names::MAX_NAME_CHARS;

/// Tags of an audio file, when it has them.
#[derive(Debug, Default, Clone)]
pub struct AudioTags {
    /// Title.
    pub title: Option<String>,
    /// Artist.
    pub artist: Option<String>,
    /// Album.
    pub album: Option<String>,
    /// Track number.
    pub track: Option<i64>,
}

/// Reads title/artist/album/track from an audio file (ID3, Vorbis comments, MP4, RIFF INFO …).
/// A file without tags, or one lofty cannot read, simply has none. Blocking.
pub fn read_audio_tags(path: &std::path::Path) -> AudioTags {
    use lofty::file::TaggedFileExt;
    use lofty::tag::Accessor;
    let Some(probe) = lofty::probe::Probe::open(path)
        .ok()
        .and_then(|p| p.guess_file_type().ok())
    else {
        return AudioTags::default();
    };
    let Ok(tagged) = probe.read() else {
        return AudioTags::default();
    };
    let Some(tag) = tagged.primary_tag().or_else(|| tagged.first_tag()) else {
        return AudioTags::default();
    };
    let text = |v: Option<std::borrow::Cow<'_, str>>| {
        v.map(|s| s.trim().chars().take(MAX_NAME_CHARS).collect::<String>())
            .filter(|s| !s.is_empty())
    };
    AudioTags {
        title: text(tag.title()),
        artist: text(tag.artist()),
        album: text(tag.album()),
        track: tag.track().map(i64::from),
    }
}

/// The tags of an uploaded file: read for audio files (by their name's type), none otherwise.
/// Blocking.
pub fn tags_if_audio(name: &str, path: &std::path::Path) -> AudioTags {
    if content_type_for(name).starts_with("audio/") {
        read_audio_tags(path)
    } else {
        AudioTags::default()
    }
}

/// Everything the music API shows of an audio file: its tags, length, bit rate and whether it
/// carries a picture.
#[derive(Debug, Default, Clone)]
pub struct AudioDetails {
    /// Title, artist, album, track.
    pub tags: AudioTags,
    /// Album artist.
    pub album_artist: Option<String>,
    /// Genre.
    pub genre: Option<String>,
    /// Year.
    pub year: Option<i64>,
    /// Disc number.
    pub disc: Option<i64>,
    /// Length in milliseconds (0 when unknown).
    pub duration_ms: i64,
    /// Audio bit rate in kbit/s.
    pub bitrate_kbps: Option<i64>,
    /// Whether an embedded picture (cover) is there.
    pub has_picture: bool,
    /// Whether lofty could read the file at all.
    pub read_ok: bool,
}

fn open_tagged(path: &std::path::Path) -> Option<lofty::file::TaggedFile> {
    lofty::probe::Probe::open(path)
        .ok()?
        .guess_file_type()
        .ok()?
        .read()
        .ok()
}

/// Reads tags and properties of an audio file; a file lofty cannot read has none (`read_ok`
/// false). Blocking.
pub fn read_audio_details(path: &std::path::Path) -> AudioDetails {
    use lofty::file::{AudioFile, TaggedFileExt};
    use lofty::tag::{Accessor, ItemKey};
    let Some(tagged) = open_tagged(path) else {
        return AudioDetails::default();
    };
    let props = tagged.properties();
    let mut out = AudioDetails {
        duration_ms: i64::try_from(props.duration().as_millis()).unwrap_or(0),
        bitrate_kbps: props
            .audio_bitrate()
            .or_else(|| props.overall_bitrate())
            .map(i64::from),
        read_ok: true,
        ..AudioDetails::default()
    };
    // The primary tag first, then the others (a WAV may carry RIFF INFO beside ID3v2).
    let primary = tagged.primary_tag_type();
    let mut tags: Vec<&lofty::tag::Tag> = tagged.tags().iter().collect();
    tags.sort_by_key(|t| t.tag_type() != primary);
    let text = |v: Option<&str>| {
        v.map(|s| s.trim().chars().take(MAX_NAME_CHARS).collect::<String>())
            .filter(|s| !s.is_empty())
    };
    let first = |f: &dyn Fn(&lofty::tag::Tag) -> Option<String>| tags.iter().find_map(|t| f(t));
    out.tags = AudioTags {
        title: first(&|t| text(t.title().as_deref())),
        artist: first(&|t| text(t.artist().as_deref())),
        album: first(&|t| text(t.album().as_deref())),
        track: tags
            .iter()
            .find_map(|t| t.track())
            .map(i64::from)
            .filter(|t| *t > 0),
    };
    out.album_artist = first(&|t| text(t.get_string(&ItemKey::AlbumArtist)));
    out.genre = first(&|t| text(t.genre().as_deref()));
    out.year = tags
        .iter()
        .find_map(|t| t.year())
        .map(i64::from)
        .filter(|y| (1..=9999).contains(y));
    out.disc = tags.iter().find_map(|t| t.disk()).map(i64::from);
    out.has_picture = tagged.tags().iter().any(|t| !t.pictures().is_empty());
    out
}

/// The embedded picture of an audio file (the front cover if marked, else the first), with its
/// MIME type. Blocking.
pub fn embedded_picture(path: &std::path::Path) -> Option<(Vec<u8>, String)> {
    use lofty::file::TaggedFileExt;
    use lofty::picture::PictureType;
    let tagged = open_tagged(path)?;
    let pictures: Vec<&lofty::picture::Picture> = tagged
        .tags()
        .iter()
        .flat_map(lofty::tag::Tag::pictures)
        .collect();
    let pic = pictures
        .iter()
        .find(|p| p.pic_type() == PictureType::CoverFront)
        .or_else(|| pictures.first())?;
    let mime = pic
        .mime_type()
        .map_or("application/octet-stream", |m| m.as_str())
        .to_owned();
    Some((pic.data().to_vec(), mime))
}
