//! Resumable uploads' part files (`uploads/<id>.part`): the exclusive lock a chunk, finish or
//! cancel holds (`PartLock`), appending a chunk at its offset, and the proven-hash rule: the
//! running SHA-256 this process kept after its own last chunk stands for the part's bytes only
//! while the upload's row carries the token written with it (`trusted`), else the part is hashed
//! from disk. The tokens themselves live in the database; the files service passes them in.

use std::io;
use std::path::{Path, PathBuf};

use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{
    Staged, Storage, StoreError, WRITE_BUFFER, hash_prefix, hex, remove_if_exists, still_at,
};

/// The running SHA-256 of part of a resumable upload (opaque outside this module).
pub struct PartHash(Sha256);

impl std::fmt::Debug for PartHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PartHash")
    }
}

/// What this process knows after its own last chunk of an upload: the SHA-256 of the part's first
/// `at` bytes, valid only while the upload's row still carries `token` (the one this process wrote
/// with those bytes), so finishing need not read the file again.
pub(super) struct RunningHash {
    token: String,
    at: u64,
    hasher: Sha256,
}

/// The running hash may stand for the part's bytes only when the row still carries the token and
/// offset this process wrote with it: every append writes a fresh token under the part's lock, so
/// an equal token proves that nobody (no other request, no other process) appended, cut back or
/// rewrote the part since. Anything else means the bytes must be hashed from disk.
fn trusted(entry: Option<RunningHash>, token: &str, offset: u64) -> Option<Sha256> {
    entry
        .filter(|r| !r.token.is_empty() && r.token == token && r.at == offset)
        .map(|r| r.hasher)
}

/// A resumable upload's part file, open and exclusively locked (`flock`, which excludes other
/// processes and other opens in this one). Whoever holds it is the only one appending to, hashing
/// or finishing that upload; dropping it releases the lock.
#[derive(Debug)]
pub struct PartLock {
    file: std::fs::File,
    path: PathBuf,
}

impl PartLock {
    /// The bytes in the part now.
    pub fn len(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    /// Whether the part is empty.
    pub fn is_empty(&self) -> io::Result<bool> {
        self.len().map(|n| n == 0)
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PartLock {
    /// An empty part is never worth keeping (the next chunk or finish makes it again): one made by
    /// a request that then found the upload finished, cancelled or not its own goes away here,
    /// while the lock is still held.
    fn drop(&mut self) {
        if self.file.metadata().is_ok_and(|m| m.len() == 0)
            && still_at(&self.file, &self.path).unwrap_or(false)
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Whether `s` is an upload id as `new_upload_id` makes them.
pub fn is_upload_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A fresh upload id: 128 random bits, hex.
pub fn new_upload_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Storage {
    /// The part file of a resumable upload.
    pub fn upload_part(&self, id: &str) -> PathBuf {
        debug_assert!(is_upload_id(id));
        self.uploads_dir().join(format!("{id}.part"))
    }

    /// Opens and locks a resumable upload's part file (made empty when missing). `Busy` when
    /// another request, in this process or another, holds it. Blocking.
    pub fn lock_part(&self, id: &str) -> Result<PartLock, StoreError> {
        let path = self.upload_part(id);
        // A finish may rename the part away between our open and our lock; then open again.
        for _ in 0..3 {
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => return Err(StoreError::Busy),
                Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
            }
            if still_at(&file, &path)? {
                return Ok(PartLock { file, path });
            }
        }
        Err(StoreError::Busy)
    }

    /// The SHA-256 of the part's first `offset` bytes, to go on appending from there: the running
    /// hash this process kept when the row's `token` proves it is of these bytes (`trusted`),
    /// otherwise read from the file (another process appended, or this one restarted).
    pub async fn resume_hash(
        &self,
        part: &PartLock,
        id: &str,
        token: &str,
        offset: u64,
    ) -> Result<PartHash, StoreError> {
        if let Some(h) = trusted(self.take_hash(id), token, offset) {
            return Ok(PartHash(h));
        }
        if offset == 0 {
            return Ok(PartHash(Sha256::new()));
        }
        let file = part.file.try_clone()?;
        let hasher = tokio::task::spawn_blocking(move || hash_prefix(&file, offset, |_| {}))
            .await
            .map_err(|e| StoreError::Io(io::Error::other(e)))??;
        Ok(PartHash(hasher))
    }

    /// Appends `body` to a locked part at `offset` (bytes past it, from a chunk the database never
    /// recorded, are cut off first), up to `limit` bytes in all, hashing into `hash`; fsyncs and
    /// returns the new length with the hash of all of it. A chunk cut off midway keeps what
    /// arrived (the client asks for the offset and resumes from there); on any other failure the
    /// part is cut back to `offset`.
    pub async fn append_part<S, B, E>(
        &self,
        part: &PartLock,
        offset: u64,
        hash: PartHash,
        mut body: S,
        limit: u64,
    ) -> Result<(u64, PartHash), StoreError>
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        use tokio::io::AsyncSeekExt;
        let on_disk = part.len()?;
        if on_disk < offset {
            return Err(StoreError::Interrupted(format!(
                "part has {on_disk} bytes, chunk starts at {offset}"
            )));
        }
        if on_disk > offset {
            part.file.set_len(offset)?;
        }
        let mut file = tokio::fs::File::from_std(part.file.try_clone()?);
        file.seek(io::SeekFrom::Start(offset)).await?;
        let mut hasher = hash.0;
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
            let chunk = chunk.as_ref();
            if size + chunk.len() as u64 > limit {
                failure = Some(StoreError::TooLarge);
                break;
            }
            hasher.update(chunk);
            if let Err(e) = out.write_all(chunk).await {
                failure = Some(e.into());
                break;
            }
            size += chunk.len() as u64;
        }
        let flushed = out.flush().await;
        let file = out.into_inner();
        let kept = match (flushed, failure) {
            (Ok(()), None | Some(StoreError::Interrupted(_))) => Ok(()),
            (Err(e), _) => Err(e.into()),
            (Ok(()), Some(e)) => Err(e),
        };
        if let Err(e) = kept {
            // Nothing of a refused or failed chunk stays: the part is what the row says.
            part.file.set_len(offset)?;
            return Err(e);
        }
        file.sync_all().await?;
        drop_from_cache(&file, offset);
        let on_disk = part.len()?;
        if on_disk != size {
            part.file.set_len(offset)?;
            return Err(StoreError::Io(io::Error::other(format!(
                "part has {on_disk} bytes after appending up to {size}"
            ))));
        }
        Ok((size, PartHash(hasher)))
    }

    /// Keeps the running hash of an upload's first `at` bytes, valid while its row carries `token`.
    pub fn remember_hash(&self, id: &str, token: &str, at: u64, hash: PartHash) {
        self.hashes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(
                id.to_owned(),
                RunningHash {
                    token: token.to_owned(),
                    at,
                    hasher: hash.0,
                },
            );
    }

    /// The uploads this process keeps a running hash for.
    pub fn hashed_uploads(&self) -> Vec<String> {
        self.hashes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }

    /// Forgets the running hash of an upload that is over (finished or cancelled, perhaps by
    /// another process).
    pub fn forget_hash(&self, id: &str) {
        self.take_hash(id);
    }

    fn take_hash(&self, id: &str) -> Option<RunningHash> {
        self.hashes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(id)
    }

    /// Turns a locked, complete part of `size` bytes into staged bytes named by their SHA-256: the
    /// running hash when the row's `token` proves it covers exactly these bytes, otherwise the part
    /// is read once more. Blocking.
    pub fn stage_part(
        &self,
        part: &PartLock,
        id: &str,
        token: &str,
        size: u64,
    ) -> Result<Staged, StoreError> {
        let on_disk = part.len()?;
        if on_disk != size {
            return Err(StoreError::Interrupted(format!(
                "part has {on_disk} bytes, expected {size}"
            )));
        }
        let hasher = match trusted(self.take_hash(id), token, size) {
            Some(h) => h,
            None => hash_prefix(&part.file, size, |_| {})?,
        };
        Ok(Staged {
            path: part.path.clone(),
            sha256: hex(&hasher.finalize()),
            size,
            _claim: None,
        })
    }

    /// Ends a locked upload: forgets its running hash and removes its part (if a finish did not
    /// rename it into `blobs/` already), then releases the lock. Blocking.
    pub fn remove_part(&self, part: PartLock, id: &str) -> io::Result<()> {
        self.take_hash(id);
        if still_at(&part.file, &part.path)? {
            remove_if_exists(&part.path)?;
        }
        drop(part);
        Ok(())
    }

    /// Forgets a resumable upload without its lock (abandoned for days): its running hash and its
    /// part file.
    pub fn discard_part(&self, id: &str) -> io::Result<()> {
        self.take_hash(id);
        remove_if_exists(&self.upload_part(id))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::hash_file;
    use crate::storage::tests::{chunks, store};

    async fn chunk(
        s: &Storage,
        id: &str,
        (offset, token): (u64, &str),
        bytes: &'static [u8],
        new_token: &str,
    ) -> u64 {
        let part = s.lock_part(id).unwrap();
        let h = s.resume_hash(&part, id, token, offset).await.unwrap();
        let (n, h) = s
            .append_part(&part, offset, h, chunks(&[bytes]), 100)
            .await
            .unwrap();
        s.remember_hash(id, new_token, n, h);
        n
    }

    #[tokio::test]
    async fn a_part_resumes_at_its_offset_and_hashes_the_whole() {
        let (_d, s) = store();
        let id = new_upload_id();
        assert_eq!(chunk(&s, &id, (0, ""), b"hello ", "t1").await, 6);
        // Bytes past the offset (a chunk the database never recorded) are cut off first.
        std::fs::OpenOptions::new()
            .append(true)
            .open(s.upload_part(&id))
            .and_then(|mut f| io::Write::write_all(&mut f, b"junk"))
            .unwrap();
        assert_eq!(chunk(&s, &id, (6, "t1"), b"world", "t2").await, 11);
        assert_eq!(std::fs::read(s.upload_part(&id)).unwrap(), b"hello world");
        let part = s.lock_part(&id).unwrap();
        let staged = s.stage_part(&part, &id, "t2", 11).unwrap();
        assert_eq!(staged.sha256, hash_file(&s.upload_part(&id)).unwrap());
        assert_eq!(staged.size, 11);
    }

    #[test]
    fn a_running_hash_counts_only_for_its_own_token_and_offset() {
        let entry = |token: &str, at| {
            Some(RunningHash {
                token: token.to_owned(),
                at,
                hasher: Sha256::new(),
            })
        };
        assert!(trusted(entry("t1", 5), "t1", 5).is_some());
        assert!(
            trusted(entry("t1", 5), "t2", 5).is_none(),
            "another appender"
        );
        assert!(trusted(entry("t1", 5), "t1", 4).is_none(), "another offset");
        assert!(trusted(entry("", 0), "", 0).is_none(), "a row nobody wrote");
        assert!(trusted(None, "t1", 5).is_none());
    }

    #[tokio::test]
    async fn a_hash_left_stale_by_another_process_is_not_trusted() {
        // Two stores over one directory are two `yui serve` processes.
        let (d, a) = store();
        let b = Storage::new(d.path(), 0);
        let id = new_upload_id();
        assert_eq!(chunk(&a, &id, (0, ""), b"hello world", "t1").await, 11);
        // B's chunk finds no hash of its own: it reads the part's first bytes from disk.
        assert_eq!(chunk(&b, &id, (11, "t1"), b"!", "t2").await, 12);
        // Another writer cut the part back and wrote other bytes of the same length; A still
        // holds a hash for 11 bytes under t1, but the row now says t3.
        std::fs::write(a.upload_part(&id), b"HELLO WORLD").unwrap();
        let part = a.lock_part(&id).unwrap();
        let staged = a.stage_part(&part, &id, "t3", 11).unwrap();
        assert_eq!(staged.sha256, hex(&Sha256::digest(b"HELLO WORLD")));
        drop(part);
        // B's hash for 12 bytes under t2 is right, and B may trust it.
        std::fs::write(a.upload_part(&id), b"hello world!").unwrap();
        let part = b.lock_part(&id).unwrap();
        let staged = b.stage_part(&part, &id, "t2", 12).unwrap();
        assert_eq!(staged.sha256, hex(&Sha256::digest(b"hello world!")));
    }

    #[test]
    fn a_part_has_one_holder_across_opens_and_stores() {
        let (d, a) = store();
        let b = Storage::new(d.path(), 0);
        let id = new_upload_id();
        let held = a.lock_part(&id).unwrap();
        assert!(matches!(a.lock_part(&id), Err(StoreError::Busy)));
        assert!(matches!(b.lock_part(&id), Err(StoreError::Busy)));
        drop(held);
        let again = b.lock_part(&id).unwrap();
        // A part renamed away (a finish) is not what a later lock holds.
        std::fs::rename(b.upload_part(&id), d.path().join("elsewhere")).unwrap();
        drop(again);
        let fresh = a.lock_part(&id).unwrap();
        assert!(fresh.is_empty().unwrap());
        a.remove_part(fresh, &id).unwrap();
        assert!(!a.upload_part(&id).exists());
        assert!(d.path().join("elsewhere").exists());
    }

    #[tokio::test]
    async fn a_refused_chunk_leaves_the_part_as_it_was() {
        let (_d, s) = store();
        let id = new_upload_id();
        assert_eq!(chunk(&s, &id, (0, ""), b"12345", "t1").await, 5);
        let part = s.lock_part(&id).unwrap();
        let h = s.resume_hash(&part, &id, "t1", 5).await.unwrap();
        let r = s
            .append_part(&part, 5, h, chunks(&[b"67", b"890"]), 8)
            .await;
        assert!(matches!(r, Err(StoreError::TooLarge)));
        assert_eq!(std::fs::read(s.upload_part(&id)).unwrap(), b"12345");
    }
}
