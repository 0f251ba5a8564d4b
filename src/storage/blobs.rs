//! What happens under `blobs/`: where a blob lives, putting staged bytes in place (and moving a
//! blob that cannot hold them to `quarantine/`), checking a blob's bytes against its name, and
//! the walks that `yui check --blobs` and garbage collection make over the store.

use std::io;
use std::path::{Path, PathBuf};

use sha2::Digest;

use super::{
    Staged, Storage, create_dirs_durably, fsync_dir, hash_prefix, hex, is_sha256_hex,
    remove_if_exists,
};

impl Storage {
    /// The path of a blob; `sha256` must be 64 lower-case hex digits.
    pub fn blob_path(&self, sha256: &str) -> PathBuf {
        debug_assert!(is_sha256_hex(sha256));
        self.blobs_dir()
            .join(&sha256[0..2])
            .join(&sha256[2..4])
            .join(sha256)
    }

    /// Makes sure the blob for `staged` is on disk: if it is missing, the staged file is renamed into
    /// place and its directory fsynced. Blocking; called inside the transaction that records the
    /// row, so garbage collection (which removes a blob in its own transaction) cannot slip between.
    /// A blob already there whose length is not `staged`'s cannot hold these bytes (it was damaged,
    /// or poisoned before issue #10 was fixed): it goes to `quarantine/` and the staged bytes,
    /// whose name is proven, take its place. Returns whether the staged file was used.
    pub fn ensure_blob(&self, staged: &Staged) -> io::Result<bool> {
        let target = self.blob_path(&staged.sha256);
        match std::fs::metadata(&target) {
            Ok(m) if m.is_file() && m.len() == staged.size => return Ok(false),
            Ok(m) if m.is_file() => {
                let to = self.quarantine(&target, &staged.sha256)?;
                tracing::warn!(
                    blob = %staged.sha256,
                    blob_bytes = m.len(),
                    upload_bytes = staged.size,
                    to = %to.display(),
                    "a blob's length does not match bytes with its SHA-256: quarantined and replaced"
                );
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let dir = target
            .parent()
            .ok_or_else(|| io::Error::other("blob path has no parent"))?;
        create_dirs_durably(dir)?;
        std::fs::rename(&staged.path, &target)?;
        fsync_dir(dir)?;
        Ok(true)
    }

    /// Moves a file out of `blobs/` into `quarantine/<name>.<unix seconds>[.n]` (never deleting it),
    /// fsyncing both directories; returns where it went. Blocking.
    pub fn quarantine(&self, path: &Path, name: &str) -> io::Result<PathBuf> {
        let dir = self.quarantine_dir();
        create_dirs_durably(&dir)?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let safe: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .take(80)
            .collect();
        let mut to = dir.join(format!("{safe}.{stamp}"));
        let mut n = 1;
        while to.exists() {
            n += 1;
            to = dir.join(format!("{safe}.{stamp}.{n}"));
        }
        std::fs::rename(path, &to)?;
        fsync_dir(&dir)?;
        if let Some(parent) = path.parent() {
            fsync_dir(parent)?;
        }
        Ok(to)
    }

    /// Every file under `blobs/` with its length, in directory order, for a scrub. Does not
    /// collect them: `visit` is called for each, so memory stays flat for any number. Blocking.
    pub fn each_blob_file(
        &self,
        mut visit: impl FnMut(&Path, &str, u64) -> io::Result<()>,
    ) -> io::Result<()> {
        walk_files(&self.blobs_dir(), 2, &mut visit)
    }

    /// Whether the file at `path` is the blob its name says: named by a SHA-256, at that name's
    /// place, holding bytes with that SHA-256. Reads it in 1 MiB pieces (memory stays flat for any
    /// size), telling `progress` how many bytes each piece had. Blocking.
    pub fn verify_blob(
        &self,
        path: &Path,
        name: &str,
        progress: impl FnMut(u64),
    ) -> io::Result<bool> {
        if !is_sha256_hex(name) || self.blob_path(name) != path {
            return Ok(false);
        }
        let f = std::fs::File::open(path)?;
        let len = f.metadata()?.len();
        let h = hash_prefix(&f, len, progress)?;
        Ok(hex(&h.finalize()) == name)
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

/// Calls `visit` for every regular file in `dir` and in its directories down to `depth` levels
/// (`blobs/ab/cd/<sha256>` is two). Entries that vanish meanwhile (garbage collection) are skipped.
fn walk_files(
    dir: &Path,
    depth: usize,
    visit: &mut dyn FnMut(&Path, &str, u64) -> io::Result<()>,
) -> io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let meta = match entry.metadata() {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        if meta.is_dir() && depth > 0 {
            walk_files(&entry.path(), depth - 1, visit)?;
        } else if meta.is_file() {
            visit(
                &entry.path(),
                &entry.file_name().to_string_lossy(),
                meta.len(),
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::tests::{chunks, store};

    #[tokio::test]
    async fn a_blob_of_the_wrong_length_is_quarantined_and_replaced() {
        let (_d, s) = store();
        let good = s.stage(chunks(&[b"the real bytes"]), 100).await.unwrap();
        // Poisoned: the name of the real bytes holding more than them.
        let target = s.blob_path(&good.sha256);
        create_dirs_durably(target.parent().unwrap()).unwrap();
        std::fs::write(&target, b"evil prefix + the real bytes").unwrap();
        assert!(s.ensure_blob(&good).unwrap(), "the staged bytes were used");
        assert_eq!(std::fs::read(&target).unwrap(), b"the real bytes");
        let quarantined: Vec<_> = std::fs::read_dir(s.quarantine_dir())
            .unwrap()
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .collect();
        assert_eq!(quarantined, [b"evil prefix + the real bytes".to_vec()]);
        // The same length is trusted here (the scrub is what reads every byte).
        let again = s.stage(chunks(&[b"the real bytes"]), 100).await.unwrap();
        assert!(!s.ensure_blob(&again).unwrap());
        s.discard(&again);
    }

    #[tokio::test]
    async fn verify_finds_a_blob_whose_bytes_do_not_match_its_name() {
        let (_d, s) = store();
        let a = s.stage(chunks(&[b"hello world"]), 100).await.unwrap();
        s.ensure_blob(&a).unwrap();
        let path = s.blob_path(&a.sha256);
        let mut seen = 0;
        assert!(s.verify_blob(&path, &a.sha256, |n| seen += n).unwrap());
        assert_eq!(seen, 11);
        std::fs::write(&path, b"hello worle").unwrap();
        assert!(!s.verify_blob(&path, &a.sha256, |_| {}).unwrap());
        assert!(
            !s.verify_blob(&path, "not-a-name", |_| {}).unwrap(),
            "a file that is not named like a blob is not one"
        );
        let mut listed = Vec::new();
        s.each_blob_file(|p, name, len| {
            listed.push((p.to_path_buf(), name.to_owned(), len));
            Ok(())
        })
        .unwrap();
        assert_eq!(listed, [(path, a.sha256.clone(), 11)]);
    }
}
