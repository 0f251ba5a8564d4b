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
