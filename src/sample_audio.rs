//! Short generated audio files with tags, for `yui demo` and the tests: a sine tone as 16-bit mono
//! WAV with a RIFF `INFO` list (title, artist, album, track), so nothing needs to be downloaded.

/// Sample rate of generated tones.
const RATE: u32 = 8_000;

/// Tags written into the file.
#[derive(Debug, Clone, Copy)]
pub struct ToneTags<'a> {
    /// `INAM`.
    pub title: &'a str,
    /// `IART`.
    pub artist: &'a str,
    /// `IPRD`.
    pub album: &'a str,
    /// `ITRK`.
    pub track: u32,
}

fn chunk(out: &mut Vec<u8>, id: [u8; 4], data: &[u8]) {
    out.extend_from_slice(&id);
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
}

fn info_text(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

/// A WAV file: `seconds` of a `freq` Hz tone with the given tags.
pub fn tone_wav(freq: f32, seconds: u32, tags: ToneTags<'_>) -> Vec<u8> {
    let n = RATE * seconds;
    let mut pcm = Vec::with_capacity(n as usize * 2);
    for i in 0..n {
        #[expect(
            clippy::cast_precision_loss,
            reason = "sample index to time; 8 kHz × a few seconds is far below f32's exact range"
        )]
        let t = i as f32 / RATE as f32;
        // A soft fade in and out, so the tone does not click.
        #[expect(clippy::cast_precision_loss, reason = "as above")]
        let edge = (t.min(seconds as f32 - t) * 20.0).clamp(0.0, 1.0);
        #[expect(
            clippy::cast_possible_truncation,
            reason = "the value is within ±8000 by construction"
        )]
        let s = ((t * freq * std::f32::consts::TAU).sin() * 8_000.0 * edge) as i16;
        pcm.extend_from_slice(&s.to_le_bytes());
    }
    let mut fmt = Vec::with_capacity(16);
    fmt.extend_from_slice(&1u16.to_le_bytes()); // PCM
    fmt.extend_from_slice(&1u16.to_le_bytes()); // mono
    fmt.extend_from_slice(&RATE.to_le_bytes());
    fmt.extend_from_slice(&(RATE * 2).to_le_bytes()); // byte rate
    fmt.extend_from_slice(&2u16.to_le_bytes()); // block align
    fmt.extend_from_slice(&16u16.to_le_bytes()); // bits
    let mut info = b"INFO".to_vec();
    chunk(&mut info, *b"INAM", &info_text(tags.title));
    chunk(&mut info, *b"IART", &info_text(tags.artist));
    chunk(&mut info, *b"IPRD", &info_text(tags.album));
    chunk(&mut info, *b"ITRK", &info_text(&tags.track.to_string()));
    let mut body = b"WAVE".to_vec();
    chunk(&mut body, *b"fmt ", &fmt);
    chunk(&mut body, *b"data", &pcm);
    chunk(&mut body, *b"LIST", &info);
    let mut out = Vec::with_capacity(body.len() + 8);
    chunk(&mut out, *b"RIFF", &body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tones_carry_their_tags() {
        let wav = tone_wav(
            440.0,
            1,
            ToneTags {
                title: "朝の歌",
                artist: "結 合唱団",
                album: "デモ",
                track: 2,
            },
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.part");
        std::fs::write(&path, &wav).unwrap();
        let tags = crate::files::audio::read_audio_tags(&path);
        assert_eq!(tags.title.as_deref(), Some("朝の歌"));
        assert_eq!(tags.artist.as_deref(), Some("結 合唱団"));
        assert_eq!(tags.album.as_deref(), Some("デモ"));
        assert_eq!(tags.track, Some(2));
    }
}
