//! Content-addressed blob storage on disk (DESIGN.md §6). A blob is immutable and named by its
//! SHA-256 under `blobs/ab/cd/<sha256>`. Bytes arrive in `tmp/` (same filesystem), are hashed while
//! they stream, fsynced, and only then renamed into place (and the directory fsynced), so a blob that
//! a database row names is always complete. Resumable uploads keep their bytes in `uploads/<id>.part`,
//! appended to and finished only under an exclusive lock on that file (`PartLock`). A blob found
//! damaged is moved to `quarantine/`, never deleted. Nothing here knows the database; the files
//! service decides when a blob is referenced and which running hash may be trusted.
//!
//! This module holds the store itself: its directories, staging bytes in `tmp/` (streamed or in
//! memory), the start-up sweep, the free-space reserve and the hashing helpers. `parts` is the
//! resumable uploads' part files (the lock, appending, when a running hash counts); `blobs` is
//! what happens under `blobs/` (putting staged bytes in place, quarantine, the walks of the scrub
//! and of garbage collection).

mod blobs;
mod parts;

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use parts::RunningHash;
pub use parts::{PartHash, PartLock, is_upload_id, new_upload_id};

/// Bytes buffered before each write to disk: big enough that a 4 GiB upload is a few thousand
/// writes, small enough that memory stays flat.
const WRITE_BUFFER: usize = 1024 * 1024;

/// Why bytes could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// More bytes than allowed (size limit or quota).
    #[error("too large")]
    TooLarge,
    /// The disk is full, or below the configured reserve.
    #[error("storage full")]
    Full,
    /// The client's stream broke off (connection dropped).
    #[error("upload interrupted: {0}")]
    Interrupted(String),
    /// Another request holds the resumable upload's part (a chunk or a finish in flight).
    #[error("upload busy")]
    Busy,
    /// Any other I/O failure.
    #[error("storage i/o: {0}")]
    Io(io::Error),
}

impl From<io::Error> for StoreError {
    fn from(e: io::Error) -> Self {
        if crate::error::is_io_full(&e) {
            Self::Full
        } else {
            Self::Io(e)
        }
    }
}

/// Bytes that are complete and durable in `tmp/`, waiting to become a blob.
#[derive(Debug)]
pub struct Staged {
    /// Where they are now.
    pub path: PathBuf,
    /// Their SHA-256, lower-case hex.
    pub sha256: String,
    /// Their length.
    pub size: u64,
    /// A file in `tmp/` stays open and exclusively locked (`flock`) while its bytes wait, so a
    /// `yui serve` that starts on the same data directory sweeps `tmp/` around it instead of
    /// deleting another process's upload in flight. `None` for a resumable upload's part, which
    /// its `PartLock` guards.
    _claim: Option<std::fs::File>,
}

/// Makes a new, empty file in `dir` under a fresh name and locks it exclusively before anyone can
/// sweep it: a sweep that got in between our create and our lock removed the name, so we check
/// that the name still leads to our file and otherwise try a new one. Blocking.
fn claim_new_tmp(dir: &Path) -> io::Result<(PathBuf, std::fs::File)> {
    for _ in 0..3 {
        let path = dir.join(format!("{}.part", uuid::Uuid::new_v4().simple()));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => continue,
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        if still_at(&file, &path)? {
            return Ok((path, file));
        }
    }
    Err(io::Error::other("tmp/ is being swept; try again"))
}

/// Whether `path` still names the open `file` (it may have been renamed into `blobs/` or removed
/// between our open and our lock; a lock on a file no longer at that path guards nothing).
#[cfg(unix)]
fn still_at(file: &std::fs::File, path: &Path) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let held = file.metadata()?;
    match std::fs::metadata(path) {
        Ok(now) => Ok(now.dev() == held.dev() && now.ino() == held.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn still_at(_file: &std::fs::File, path: &Path) -> io::Result<bool> {
    Ok(path.is_file())
}

/// The blob store under one data directory.
#[derive(Clone)]
pub struct Storage {
    root: PathBuf,
    /// Free bytes to keep on the disk: an upload that would go below it is refused (507).
    min_free_bytes: u64,
    hashes: Arc<Mutex<HashMap<String, RunningHash>>>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("root", &self.root)
            .field("min_free_bytes", &self.min_free_bytes)
            .finish_non_exhaustive()
    }
}

/// Whether `s` is a SHA-256 in lower-case hex (so it can never name anything but a blob).
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn fsync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Creates `dir` and any missing parents, fsyncing each parent whose entries changed.
fn create_dirs_durably(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dirs_durably(parent)?;
        match std::fs::create_dir(dir) {
            Ok(()) => fsync_dir(parent)?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Storage {
    /// The store under `data_dir`, keeping `min_free_bytes` free on the disk.
    pub fn new(data_dir: &Path, min_free_bytes: u64) -> Self {
        Self {
            root: data_dir.to_path_buf(),
            min_free_bytes,
            hashes: Arc::default(),
        }
    }

    /// `tmp/`: bytes still arriving; emptied at start-up.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// `blobs/`.
    pub fn blobs_dir(&self) -> PathBuf {
        self.root.join("blobs")
    }

    /// `uploads/`: parts of resumable uploads (they survive a restart).
    pub fn uploads_dir(&self) -> PathBuf {
        self.root.join("uploads")
    }

    /// `quarantine/`: blobs whose bytes did not match their name, kept for a person to look at.
    pub fn quarantine_dir(&self) -> PathBuf {
        self.root.join("quarantine")
    }

    /// Creates the directories (idempotent).
    pub fn ensure_dirs(&self) -> io::Result<()> {
        for d in [self.tmp_dir(), self.blobs_dir(), self.uploads_dir()] {
            create_dirs_durably(&d)?;
        }
        Ok(())
    }

    /// Removes everything in `tmp/`: what is there at start-up was being written when the process
    /// died, and no row refers to it. Returns how many entries were removed.
    pub fn sweep_tmp(&self) -> io::Result<usize> {
        let mut n = 0;
        match std::fs::read_dir(self.tmp_dir()) {
            Ok(entries) => {
                for e in entries {
                    let e = e?;
                    if e.file_type()?.is_dir() {
                        std::fs::remove_dir_all(e.path())?;
                        n += 1;
                        continue;
                    }
                    // Another `yui serve` on this data directory may be writing it right now:
                    // its lock says so. What nobody holds is left from a process that ended.
                    let file = match std::fs::File::open(e.path()) {
                        Ok(f) => f,
                        Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
                        Err(err) => return Err(err),
                    };
                    match file.try_lock() {
                        Ok(()) => {}
                        Err(std::fs::TryLockError::WouldBlock) => continue,
                        Err(std::fs::TryLockError::Error(err)) => return Err(err),
                    }
                    remove_if_exists(&e.path())?;
                    n += 1;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(n)
    }

    /// Refuses (`Full`) when storing `incoming` more bytes would leave less than the reserve free.
    pub fn check_space(&self, incoming: u64) -> Result<(), StoreError> {
        if self.min_free_bytes == 0 {
            return Ok(());
        }
        let free = fs4::available_space(&self.root)?;
        if free < incoming.saturating_add(self.min_free_bytes) {
            return Err(StoreError::Full);
        }
        Ok(())
    }

    /// Streams `body` into a new file in `tmp/`, hashing as it goes, refusing more than `limit`
    /// bytes; fsyncs it. On any failure the partial file is removed.
    pub async fn stage<S, B, E>(&self, body: S, limit: u64) -> Result<Staged, StoreError>
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let tmp = self.tmp_dir();
        let (path, claim) = tokio::task::spawn_blocking(move || claim_new_tmp(&tmp))
            .await
            .map_err(io::Error::other)??;
        let writer = claim.try_clone()?;
        let result = self.write_new(writer, body, limit).await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&path).await;
        }
        result.map(|(sha256, size)| Staged {
            path,
            sha256,
            size,
            _claim: Some(claim),
        })
    }

    async fn write_new<S, B, E>(
        &self,
        file: std::fs::File,
        mut body: S,
        limit: u64,
    ) -> Result<(String, u64), StoreError>
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let file = tokio::fs::File::from_std(file);
        let mut out = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| StoreError::Interrupted(e.to_string()))?;
            let chunk = chunk.as_ref();
            size += chunk.len() as u64;
            if size > limit {
                return Err(StoreError::TooLarge);
            }
            hasher.update(chunk);
            out.write_all(chunk).await?;
        }
        out.flush().await?;
        out.into_inner().sync_all().await?;
        Ok((hex(&hasher.finalize()), size))
    }

    /// Stages bytes already in memory (the demo's sample files). Blocking.
    pub fn stage_bytes(&self, bytes: &[u8]) -> Result<Staged, StoreError> {
        use std::io::Write;
        let (path, mut claim) = claim_new_tmp(&self.tmp_dir())?;
        let write = |f: &mut std::fs::File| -> io::Result<()> {
            f.write_all(bytes)?;
            f.sync_all()
        };
        if let Err(e) = write(&mut claim) {
            let _ = std::fs::remove_file(&path);
            return Err(e.into());
        }
        Ok(Staged {
            path,
            sha256: hex(&Sha256::digest(bytes)),
            size: bytes.len() as u64,
            _claim: Some(claim),
        })
    }

    /// Stages a copy of a file on this machine (`yui import wordpress --uploads`), read in 1 MiB
    /// pieces and hashed as it is copied, refusing more than `limit` bytes. Blocking.
    pub fn stage_file(&self, source: &Path, limit: u64) -> Result<Staged, StoreError> {
        use std::io::{Read, Write};
        let (path, claim) = claim_new_tmp(&self.tmp_dir())?;
        let copy = |out: &std::fs::File| -> Result<(String, u64), StoreError> {
            let mut input = std::fs::File::open(source)?;
            let mut out = io::BufWriter::with_capacity(WRITE_BUFFER, out);
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 1024 * 1024];
            let mut size = 0u64;
            loop {
                let n = input.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                size += n as u64;
                if size > limit {
                    return Err(StoreError::TooLarge);
                }
                hasher.update(&buf[..n]);
                out.write_all(&buf[..n])?;
            }
            out.flush()?;
            out.get_ref().sync_all()?;
            Ok((hex(&hasher.finalize()), size))
        };
        match copy(&claim) {
            Ok((sha256, size)) => Ok(Staged {
                path,
                sha256,
                size,
                _claim: Some(claim),
            }),
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                Err(e)
            }
        }
    }

    /// Removes staged bytes that were not needed (the blob existed already) or not committed.
    pub fn discard(&self, staged: &Staged) {
        if let Err(e) = remove_if_exists(&staged.path) {
            tracing::warn!(error = %e, "could not remove staged upload");
        }
    }
}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// SHA-256 of a file, read in 1 MiB pieces. Blocking.
pub fn hash_file(path: &Path) -> io::Result<String> {
    let f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    Ok(hex(&hash_prefix(&f, len, |_| {})?.finalize()))
}

/// The SHA-256 state after the first `len` bytes of `file`, read with positioned reads in 1 MiB
/// pieces (the file's cursor is not used, so a locked part can be hashed through its own handle).
/// Fails if the file is shorter. Blocking.
fn hash_prefix(
    file: &std::fs::File,
    len: u64,
    mut progress: impl FnMut(u64),
) -> io::Result<Sha256> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; WRITE_BUFFER];
    let mut at = 0u64;
    while at < len {
        let want = usize::try_from((len - at).min(WRITE_BUFFER as u64)).unwrap_or(WRITE_BUFFER);
        let n = read_at(file, &mut buf[..want], at)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("file ends at {at} bytes, expected {len}"),
            ));
        }
        hasher.update(&buf[..n]);
        at += n as u64;
        progress(n as u64);
    }
    Ok(hasher)
}

#[cfg(unix)]
fn read_at(file: &std::fs::File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, at)
}

#[cfg(not(unix))]
fn read_at(file: &std::fs::File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    use std::io::{Read, Seek};
    let mut f = file;
    f.seek(io::SeekFrom::Start(at))?;
    f.read(buf)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh store in a temporary directory (for the tests of `parts` and `blobs` too).
    pub(super) fn store() -> (tempfile::TempDir, Storage) {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::new(dir.path(), 0);
        s.ensure_dirs().unwrap();
        (dir, s)
    }

    /// A body as the web layer hands it over: a stream of byte chunks.
    pub(super) fn chunks(
        parts: &[&'static [u8]],
    ) -> impl Stream<Item = Result<&'static [u8], String>> + Unpin {
        futures_util::stream::iter(parts.iter().map(|p| Ok(*p)).collect::<Vec<_>>())
    }

    #[tokio::test]
    async fn staged_bytes_become_one_blob_per_content() {
        let (_d, s) = store();
        let a = s.stage(chunks(&[b"hello ", b"world"]), 100).await.unwrap();
        assert_eq!(a.size, 11);
        assert_eq!(
            a.sha256,
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        s.ensure_blob(&a).unwrap();
        assert!(!a.path.exists(), "renamed into place");
        let b = s.stage(chunks(&[b"hello world"]), 100).await.unwrap();
        s.ensure_blob(&b).unwrap();
        assert!(b.path.exists(), "the same content is stored once");
        s.discard(&b);
        assert_eq!(
            std::fs::read(s.blob_path(&a.sha256)).unwrap(),
            b"hello world"
        );
        assert_eq!(std::fs::read_dir(s.tmp_dir()).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn over_the_limit_leaves_nothing() {
        let (_d, s) = store();
        let r = s.stage(chunks(&[b"12345", b"6"]), 5).await;
        assert!(matches!(r, Err(StoreError::TooLarge)));
        assert_eq!(std::fs::read_dir(s.tmp_dir()).unwrap().count(), 0);
    }

    /// One chunk the way the files service appends it: lock, resume the hash for the row's
    /// `token`, append, remember the hash under `new_token`.
    #[test]
    fn sweep_empties_tmp() {
        let (_d, s) = store();
        std::fs::write(s.tmp_dir().join("x.part"), b"half").unwrap();
        assert_eq!(s.sweep_tmp().unwrap(), 1);
        assert_eq!(std::fs::read_dir(s.tmp_dir()).unwrap().count(), 0);
    }

    /// A second `serve` starting on the same data directory sweeps `tmp/` around the bytes another
    /// process is still holding; once they are let go (the process ended), the next sweep takes them.
    #[test]
    fn sweep_leaves_bytes_another_process_holds() {
        let (d, s) = store();
        let other = Storage::new(d.path(), 0);
        let held = s.stage_bytes(b"in flight").unwrap();
        std::fs::write(s.tmp_dir().join("left.part"), b"from a crash").unwrap();
        assert_eq!(other.sweep_tmp().unwrap(), 1, "only the file nobody holds");
        assert!(held.path.is_file());
        let path = held.path.clone();
        drop(held);
        assert_eq!(other.sweep_tmp().unwrap(), 1);
        assert!(!path.exists());
    }

    #[test]
    fn only_hex_names_are_blobs_or_uploads() {
        assert!(is_sha256_hex(&"a".repeat(64)));
        assert!(!is_sha256_hex(&format!("../{}", "a".repeat(61))));
        assert!(is_upload_id(&new_upload_id()));
        assert!(!is_upload_id("../../etc/passwd"));
    }
}
