//! A folder download as a zip written while it is sent: stored entries (media and PDFs are
//! compressed already) with ZIP64, written on the blocking pool into a small channel that the
//! response reads, so memory stays flat for any size and a slow client slows the writer down.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::mpsc;

/// One entry: its path inside the zip (ending in `/` for a folder), and the blob holding its bytes
/// (empty for a folder).
pub type Entry = (String, PathBuf);

/// Writes `entries` as a zip into `sink`: stored entries (media and PDFs are
/// compressed already) with ZIP64, streamed, so memory stays flat for any size. Blocking; the
/// caller's `sink` decides where the bytes go.
pub fn write_zip(
    sink: impl io::Write,
    entries: &[Entry],
) -> Result<(), Box<dyn std::error::Error>> {
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new_stream(io::BufWriter::with_capacity(64 * 1024, sink));
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    for (name, blob) in entries {
        if name.ends_with('/') {
            zip.add_directory(name.as_str(), opts)?;
        } else {
            zip.start_file(name.as_str(), opts)?;
            let mut f = std::fs::File::open(blob)?;
            io::copy(&mut f, &mut zip)?;
        }
    }
    zip.finish()?;
    Ok(())
}

/// Starts writing `entries` as a zip on the blocking pool; the returned stream yields its bytes.
/// If writing fails midway (a blob unreadable), the stream ends with the error, so the client sees
/// a broken download rather than a short zip that looks complete.
pub fn zip_stream(entries: Vec<Entry>) -> ZipStream {
    let (tx, rx) = mpsc::channel::<io::Result<Vec<u8>>>(4);
    tokio::task::spawn_blocking(move || {
        let sink = ChannelWriter { tx: tx.clone() };
        if let Err(e) = write_zip(sink, &entries) {
            tracing::warn!(error = %e, "zip download stopped");
            let _ = tx.blocking_send(Err(io::Error::other(e.to_string())));
        }
    });
    ZipStream { rx }
}

/// The bytes of a zip being written (`zip_stream`), in pieces of up to 64 KiB.
#[derive(Debug)]
pub struct ZipStream {
    rx: mpsc::Receiver<io::Result<Vec<u8>>>,
}

impl futures_util::Stream for ZipStream {
    type Item = io::Result<Vec<u8>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().rx.poll_recv(cx)
    }
}

/// `std::io::Write` into the response stream: blocks (on the blocking pool) while the client is
/// slower than the disk, which is what keeps memory flat.
struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Vec<u8>>>,
}

impl io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tx
            .blocking_send(Ok(buf.to_vec()))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "client went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    #[tokio::test]
    async fn a_streamed_zip_holds_the_folders_and_the_blobs_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let blob = dir.path().join("blob");
        std::fs::write(&blob, b"hello").unwrap();
        let entries = vec![
            ("資料/".to_owned(), PathBuf::new()),
            ("資料/a.txt".to_owned(), blob),
        ];
        let mut bytes = Vec::new();
        let mut stream = zip_stream(entries);
        while let Some(piece) = stream.next().await {
            bytes.extend(piece.unwrap());
        }
        let mut zip = zip::ZipArchive::new(io::Cursor::new(bytes)).unwrap();
        assert_eq!(zip.len(), 2);
        assert!(zip.by_name("資料/").unwrap().is_dir());
        let mut text = String::new();
        io::Read::read_to_string(&mut zip.by_name("資料/a.txt").unwrap(), &mut text).unwrap();
        assert_eq!(text, "hello");
    }

    #[tokio::test]
    async fn a_blob_that_cannot_be_read_ends_the_stream_with_an_error() {
        let entries = vec![("gone.txt".to_owned(), PathBuf::from("/nonexistent/blob"))];
        let pieces: Vec<_> = zip_stream(entries).collect().await;
        assert!(pieces.last().unwrap().is_err());
    }
}
