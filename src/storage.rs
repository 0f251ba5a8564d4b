//! Content-addressed blob storage on disk (DESIGN.md §6). A blob is immutable and named by its
//! SHA-256 under `blobs/ab/cd/<sha256>`. Bytes arrive in `tmp/` (same filesystem), are hashed while
//! they stream, fsynced, and only then renamed into place (and the directory fsynced), so a blob that
//! a database row names is always complete. Resumable uploads keep their bytes in `uploads/<id>.part`.
//! Nothing here knows the database; the files service decides when a blob is referenced.

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

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
    /// Any other I/O failure.
    #[error("storage i/o: {0}")]
    Io(io::Error),
}

impl From<io::Error> for StoreError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::StorageFull || e.raw_os_error() == Some(28) {
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
}

/// The running SHA-256 of a resumable upload, so finishing it need not read the file again.
type RunningHash = (u64, Sha256);

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

/// Whether `s` is an upload id as `new_upload_id` makes them.
pub fn is_upload_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A fresh upload id: 128 random bits, hex.
pub fn new_upload_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
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

    /// Creates the directories (idempotent).
    pub fn ensure_dirs(&self) -> io::Result<()> {
        for d in [self.tmp_dir(), self.blobs_dir(), self.uploads_dir()] {
            create_dirs_durably(&d)?;
        }
        Ok(())
    }

    /// The path of a blob; `sha256` must be 64 lower-case hex digits.
    pub fn blob_path(&self, sha256: &str) -> PathBuf {
        debug_assert!(is_sha256_hex(sha256));
        self.blobs_dir()
            .join(&sha256[0..2])
            .join(&sha256[2..4])
            .join(sha256)
    }

    /// The part file of a resumable upload.
    pub fn upload_part(&self, id: &str) -> PathBuf {
        debug_assert!(is_upload_id(id));
        self.uploads_dir().join(format!("{id}.part"))
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
                    } else {
                        std::fs::remove_file(e.path())?;
                    }
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
    pub async fn stage<S, E>(&self, body: S, limit: u64) -> Result<Staged, StoreError>
    where
        S: Stream<Item = Result<actix_web::web::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let path = self
            .tmp_dir()
            .join(format!("{}.part", uuid::Uuid::new_v4().simple()));
        let result = self.write_new(&path, body, limit).await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&path).await;
        }
        result.map(|(sha256, size)| Staged { path, sha256, size })
    }

    async fn write_new<S, E>(
        &self,
        path: &Path,
        mut body: S,
        limit: u64,
    ) -> Result<(String, u64), StoreError>
    where
        S: Stream<Item = Result<actix_web::web::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let file = tokio::fs::File::create(path).await?;
        let mut out = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| StoreError::Interrupted(e.to_string()))?;
            size += chunk.len() as u64;
            if size > limit {
                return Err(StoreError::TooLarge);
            }
            hasher.update(&chunk);
            out.write_all(&chunk).await?;
        }
        out.flush().await?;
        out.into_inner().sync_all().await?;
        Ok((hex(&hasher.finalize()), size))
    }

    /// Stages bytes already in memory (the demo's sample files). Blocking.
    pub fn stage_bytes(&self, bytes: &[u8]) -> Result<Staged, StoreError> {
        use std::io::Write;
        let path = self
            .tmp_dir()
            .join(format!("{}.part", uuid::Uuid::new_v4().simple()));
        let write = || -> io::Result<()> {
            let mut f = std::fs::File::create(&path)?;
            f.write_all(bytes)?;
            f.sync_all()
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&path);
            return Err(e.into());
        }
        Ok(Staged {
            path,
            sha256: hex(&Sha256::digest(bytes)),
            size: bytes.len() as u64,
        })
    }

    /// Appends `body` to a resumable upload's part file, which must hold exactly `offset` bytes, up
    /// to `limit` bytes in all; fsyncs and returns the new length. A chunk cut off midway keeps what
    /// arrived (the client asks for the offset and resumes from there).
    pub async fn append_part<S, E>(
        &self,
        id: &str,
        offset: u64,
        mut body: S,
        limit: u64,
    ) -> Result<u64, StoreError>
    where
        S: Stream<Item = Result<actix_web::web::Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let path = self.upload_part(id);
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .await?;
        let on_disk = file.metadata().await?.len();
        if on_disk != offset {
            // A chunk that broke off after the database was last told: trust the file's length.
            file.set_len(offset.min(on_disk)).await?;
            if on_disk < offset {
                return Err(StoreError::Interrupted(format!(
                    "part has {on_disk} bytes, chunk starts at {offset}"
                )));
            }
        }
        let mut hash = self.take_hash(id, offset);
        let mut out = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut size = offset;
        let mut failure = None;
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    failure = Some(StoreError::Interrupted(e.to_string()));
                    break;
                }
            };
            if size + chunk.len() as u64 > limit {
                failure = Some(StoreError::TooLarge);
                break;
            }
            if let Some(h) = hash.as_mut() {
                h.update(&chunk);
            }
            if let Err(e) = out.write_all(&chunk).await {
                failure = Some(e.into());
                break;
            }
            size += chunk.len() as u64;
        }
        let flushed = out.flush().await;
        let file = out.into_inner();
        if let Err(e) = flushed {
            // What could not be written is lost; cut the part back to the last chunk boundary.
            file.set_len(offset).await?;
            return Err(e.into());
        }
        file.sync_all().await?;
        drop_from_cache(&file, offset);
        let size = file.metadata().await?.len();
        if let Some(h) = hash {
            self.put_hash(id, size, h);
        }
        match failure {
            Some(StoreError::Interrupted(_)) | None => Ok(size),
            Some(e) => Err(e),
        }
    }

    fn take_hash(&self, id: &str, offset: u64) -> Option<Sha256> {
        let mut map = self
            .hashes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.remove(id) {
            Some((at, h)) if at == offset => Some(h),
            _ if offset == 0 => Some(Sha256::new()),
            _ => None,
        }
    }

    fn put_hash(&self, id: &str, at: u64, h: Sha256) {
        let mut map = self
            .hashes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.insert(id.to_owned(), (at, h));
    }

    /// Turns a complete resumable upload's part file into staged bytes: the running hash when it
    /// covers the whole part, otherwise (after a restart) the part is read once more. Blocking.
    pub fn stage_part(&self, id: &str) -> Result<Staged, StoreError> {
        let path = self.upload_part(id);
        let size = std::fs::metadata(&path)?.len();
        let known = {
            let mut map = self
                .hashes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            map.remove(id)
        };
        let sha256 = match known {
            Some((at, h)) if at == size => hex(&h.finalize()),
            _ => hash_file(&path)?,
        };
        Ok(Staged { path, sha256, size })
    }

    /// Forgets a resumable upload: its running hash and its part file.
    pub fn discard_part(&self, id: &str) -> io::Result<()> {
        self.hashes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(id);
        remove_if_exists(&self.upload_part(id))
    }

    /// Makes sure the blob for `staged` is on disk: if it is missing, the staged file is renamed into
    /// place and its directory fsynced. Blocking; called inside the transaction that records the
    /// row, so garbage collection (which removes a blob in its own transaction) cannot slip between.
    pub fn ensure_blob(&self, staged: &Staged) -> io::Result<()> {
        let target = self.blob_path(&staged.sha256);
        if target.is_file() {
            return Ok(());
        }
        let dir = target
            .parent()
            .ok_or_else(|| io::Error::other("blob path has no parent"))?;
        create_dirs_durably(dir)?;
        std::fs::rename(&staged.path, &target)?;
        fsync_dir(dir)
    }

    /// Removes staged bytes that were not needed (the blob existed already) or not committed.
    pub fn discard(&self, staged: &Staged) {
        if let Err(e) = remove_if_exists(&staged.path) {
            tracing::warn!(error = %e, "could not remove staged upload");
        }
    }

    /// Deletes a blob's file (garbage collection, after its row is gone). Blocking.
    pub fn remove_blob(&self, sha256: &str) -> io::Result<()> {
        remove_if_exists(&self.blob_path(sha256))
    }

    /// Every blob on disk older than `min_age`, for the sweep that finds files without a row.
    pub fn old_blobs(&self, min_age: std::time::Duration) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        let now = std::time::SystemTime::now();
        let Ok(level1) = std::fs::read_dir(self.blobs_dir()) else {
            return Ok(out);
        };
        for a in level1 {
            for b in std::fs::read_dir(a?.path())? {
                for f in std::fs::read_dir(b?.path())? {
                    let f = f?;
                    let name = f.file_name().to_string_lossy().into_owned();
                    let old = f
                        .metadata()?
                        .modified()
                        .ok()
                        .and_then(|m| now.duration_since(m).ok())
                        .is_some_and(|age| age >= min_age);
                    if old && is_sha256_hex(&name) {
                        out.push(name);
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Tells the kernel that `file`'s bytes from `offset` on, already fsynced, will not be read soon, so
/// their page-cache pages are freed at once and reused for the next chunk. Without it a 4 GiB
/// upload fills the page cache, pushes out the database and hot files, and every chunk pays for
/// fresh pages: on the 2-core dev VM `bench/files` measured half the server CPU time per byte and
/// 1.5–2.4× the throughput for the resumable upload with it. Advice only: a failure changes nothing.
#[cfg(target_os = "linux")]
fn drop_from_cache(file: &impl std::os::fd::AsFd, offset: u64) {
    if let Err(e) = rustix::fs::fadvise(file, offset, None, rustix::fs::Advice::DontNeed) {
        tracing::debug!(error = %e, "posix_fadvise(DONTNEED) failed");
    }
}

#[cfg(not(target_os = "linux"))]
fn drop_from_cache<F>(_file: &F, _offset: u64) {}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// SHA-256 of a file, read in 1 MiB pieces. Blocking.
pub fn hash_file(path: &Path) -> io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; WRITE_BUFFER];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
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

    fn store() -> (tempfile::TempDir, Storage) {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::new(dir.path(), 0);
        s.ensure_dirs().unwrap();
        (dir, s)
    }

    fn chunks(
        parts: &[&'static [u8]],
    ) -> impl Stream<Item = Result<actix_web::web::Bytes, String>> + Unpin {
        futures_util::stream::iter(
            parts
                .iter()
                .map(|p| Ok(actix_web::web::Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
    }

    #[actix_web::test]
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

    #[actix_web::test]
    async fn over_the_limit_leaves_nothing() {
        let (_d, s) = store();
        let r = s.stage(chunks(&[b"12345", b"6"]), 5).await;
        assert!(matches!(r, Err(StoreError::TooLarge)));
        assert_eq!(std::fs::read_dir(s.tmp_dir()).unwrap().count(), 0);
    }

    #[actix_web::test]
    async fn a_part_resumes_at_its_offset_and_hashes_the_whole() {
        let (_d, s) = store();
        let id = new_upload_id();
        assert_eq!(
            s.append_part(&id, 0, chunks(&[b"hello "]), 11)
                .await
                .unwrap(),
            6
        );
        assert!(
            s.append_part(&id, 3, chunks(&[b"x"]), 11)
                .await
                .is_ok_and(|n| n == 4)
        );
        // The part was cut back to 3 bytes and one appended: resume from the real length.
        let n = s
            .append_part(&id, 4, chunks(&[b"lo world"]), 12)
            .await
            .unwrap();
        assert_eq!(n, 12);
        assert_eq!(std::fs::read(s.upload_part(&id)).unwrap(), b"helxlo world");
        let staged = s.stage_part(&id).unwrap();
        assert_eq!(staged.sha256, hash_file(&s.upload_part(&id)).unwrap());
    }

    #[test]
    fn sweep_empties_tmp() {
        let (_d, s) = store();
        std::fs::write(s.tmp_dir().join("x.part"), b"half").unwrap();
        assert_eq!(s.sweep_tmp().unwrap(), 1);
        assert_eq!(std::fs::read_dir(s.tmp_dir()).unwrap().count(), 0);
    }

    #[test]
    fn only_hex_names_are_blobs_or_uploads() {
        assert!(is_sha256_hex(&"a".repeat(64)));
        assert!(!is_sha256_hex(&format!("../{}", "a".repeat(61))));
        assert!(is_upload_id(&new_upload_id()));
        assert!(!is_upload_id("../../etc/passwd"));
    }
}
