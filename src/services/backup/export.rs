//! Writing an archive: the database in one read snapshot, then the blobs, the configuration and
//! the manifest, streamed through zstd into a temporary file that is fsynced and renamed into place
//! only when complete (a killed backup leaves no archive under the final name).

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use diesel::RunQueryDsl;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::sql_types::{BigInt, Text};

use super::catalog::{self, Column, Kind, TABLES};
use super::crypt::{ENCRYPTED_SUFFIX, Passphrase, Sink};
use super::{
    CHUNK_BYTES, FORMAT, FileEntry, HashingReader, MANIFEST, Manifest, Progress, TableEntry,
    sha256_hex,
};
use crate::db::DbConn;
use crate::storage::Storage;

/// Rows read from the database per query (SQLite) or cursor fetch (PostgreSQL).
const BATCH: i64 = 1000;

/// What a finished backup wrote.
#[derive(Debug, Clone)]
pub struct BackupSummary {
    /// The archive's final path.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Tables exported.
    pub tables: usize,
    /// Rows exported.
    pub rows: u64,
    /// Blobs copied.
    pub blobs: u64,
    /// Their bytes (before compression).
    pub blob_bytes: u64,
    /// The schema version of the snapshot.
    pub schema_version: String,
    /// The blobs files referred to in the snapshot (`(sha256, size)`, sorted), whether or not
    /// they were copied.
    pub blob_refs: Vec<(String, i64)>,
}

type Encoder = zstd::Encoder<'static, Sink>;

/// The archive being written, with the entries written so far (for the manifest).
struct ArchiveWriter {
    builder: tar::Builder<Encoder>,
    entries: Vec<FileEntry>,
    mtime: u64,
}

impl ArchiveWriter {
    fn header(&self, size: u64) -> tar::Header {
        let mut header = tar::Header::new_gnu();
        header.set_size(size);
        header.set_mode(0o600);
        header.set_mtime(self.mtime);
        header.set_entry_type(tar::EntryType::Regular);
        header
    }

    /// Adds an entry held in memory.
    fn add_bytes(&mut self, path: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let mut header = self.header(bytes.len() as u64);
        self.builder.append_data(&mut header, path, bytes)?;
        self.entries.push(FileEntry {
            path: path.to_owned(),
            size: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        });
        Ok(())
    }

    /// Streams `size` bytes from `reader` into an entry; returns their SHA-256.
    fn add_reader(&mut self, path: &str, size: u64, reader: impl Read) -> anyhow::Result<String> {
        let mut header = self.header(size);
        let mut hashing = HashingReader::new(reader.take(size));
        self.builder.append_data(&mut header, path, &mut hashing)?;
        let (count, sha256) = hashing.finish();
        if count != size {
            anyhow::bail!("{path}: expected {size} bytes, read {count}");
        }
        self.entries.push(FileEntry {
            path: path.to_owned(),
            size,
            sha256: sha256.clone(),
        });
        Ok(sha256)
    }
}

/// Removes the temporary archive unless the backup completed.
struct PartialFile {
    path: PathBuf,
    done: bool,
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Writes a backup of the site (database on `conn`, blobs and `secret.key` under `data_dir`, the
/// configuration file if any) into a new archive `yui-backup-….tar.zst` in `to_dir`. Blocking;
/// run it off async workers.
pub fn write_backup(
    conn: &mut DbConn,
    data_dir: &Path,
    config_file: Option<&Path>,
    to_dir: &Path,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<BackupSummary> {
    write_backup_with(
        conn,
        &BackupOptions {
            data_dir,
            config_file,
            to_dir,
            name_prefix: "yui-backup",
            blobs: true,
            passphrase: None,
        },
        progress,
    )
}

/// What `write_backup_with` writes, and where.
#[derive(Debug, Clone, Copy)]
pub struct BackupOptions<'a> {
    /// The site's data directory (blobs, `secret.key`).
    pub data_dir: &'a Path,
    /// The configuration file (default: `yui.toml` in the data directory, if present).
    pub config_file: Option<&'a Path>,
    /// The directory the archive goes to.
    pub to_dir: &'a Path,
    /// The start of the archive's name (`yui-backup` for backups the schedule prunes).
    pub name_prefix: &'a str,
    /// Whether the blobs go in (`migrate-db` copies only the database: the blobs stay where they are).
    pub blobs: bool,
    /// Encrypt the archive with this passphrase (`….tar.zst.age`).
    pub passphrase: Option<&'a Passphrase>,
}

/// Writes an archive as `opts` says (see `write_backup`). On any failure the temporary archive is
/// removed; a full disk under `to_dir` says so.
pub fn write_backup_with(
    conn: &mut DbConn,
    opts: &BackupOptions<'_>,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<BackupSummary> {
    write_archive(conn, opts, progress).map_err(|e| {
        let full = e.chain().any(|cause| {
            cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(crate::error::is_io_full)
        });
        if full {
            e.context(format!(
                "the disk of {} is full: no archive was written and nothing was left there; \
                 free some space or back up to another directory (--to)",
                opts.to_dir.display()
            ))
        } else {
            e
        }
    })
}

fn write_archive(
    conn: &mut DbConn,
    opts: &BackupOptions<'_>,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<BackupSummary> {
    let BackupOptions {
        data_dir,
        config_file,
        to_dir,
        name_prefix,
        blobs: with_blobs,
        passphrase,
    } = *opts;
    let suffix = if passphrase.is_some() {
        ENCRYPTED_SUFFIX
    } else {
        ".tar.zst"
    };
    std::fs::create_dir_all(to_dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", to_dir.display()))?;
    let now = chrono::Utc::now();
    let name = free_name(to_dir, name_prefix, now, suffix);
    let final_path = to_dir.join(&name);
    let mut partial = PartialFile {
        path: to_dir.join(format!(".{name}.{}.partial", std::process::id())),
        done: false,
    };
    let mut options = File::options();
    options.write(true).create_new(true);
    // The archive holds secret.key and every member's data: readable by the owner only.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(&partial.path)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", partial.path.display()))?;
    let sink = Sink::new(BufWriter::with_capacity(1 << 20, file), passphrase)?;
    let mut encoder = zstd::Encoder::new(sink, 3)?;
    // zstd's own frame checksum on top of the manifest's: `zstd -t` can test an archive too.
    encoder.include_checksum(true)?;
    // One worker: compression overlaps reading and hashing (like `tar | zstd`, two processes).
    encoder.multithread(1)?;
    // Small jobs keep its buffers (and the process's peak RSS) small; the default is 8 MiB per job.
    encoder.set_parameter(zstd::zstd_safe::CParameter::JobSize(1 << 20))?;
    let mut writer = ArchiveWriter {
        builder: tar::Builder::new(encoder),
        entries: Vec::new(),
        mtime: u64::try_from(now.timestamp()).unwrap_or(0),
    };

    let snapshot = read_snapshot(conn, &mut writer, progress)?;
    let storage = Storage::new(data_dir, 0);
    let (blob_count, blob_bytes) = if with_blobs {
        copy_blobs(&storage, &snapshot.blobs, &mut writer, progress)?
    } else {
        (0, 0)
    };

    let secret = data_dir.join("secret.key");
    let key = std::fs::read(&secret)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", secret.display()))?;
    writer.add_bytes("config/secret.key", &key)?;
    let default_config = data_dir.join("yui.toml");
    let config_file = config_file.unwrap_or(&default_config);
    if config_file.exists() {
        let text = std::fs::read(config_file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", config_file.display()))?;
        writer.add_bytes("config/yui.toml", &text)?;
    }

    let rows = snapshot.tables.iter().map(|t| t.rows).sum();
    let tables = snapshot.tables.len();
    let manifest = Manifest {
        format: FORMAT,
        yui_version: env!("CARGO_PKG_VERSION").to_owned(),
        schema_version: snapshot.schema_version.clone(),
        source_backend: match conn.backend() {
            crate::db::Backend::Sqlite => "sqlite",
            crate::db::Backend::Postgres => "postgres",
        }
        .to_owned(),
        created_at: now.to_rfc3339(),
        tables: snapshot.tables,
        entries: std::mem::take(&mut writer.entries),
    };
    let manifest_bytes = serde_json::to_vec_pretty(&manifest)?;
    writer.add_bytes(MANIFEST, &manifest_bytes)?;

    let encoder = writer.builder.into_inner()?;
    let mut buffered = encoder.finish()?.finish()?;
    buffered.flush()?;
    let file = buffered
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error)?;
    file.sync_all()?;
    let bytes = file.metadata()?.len();
    drop(file);
    std::fs::rename(&partial.path, &final_path)?;
    partial.done = true;
    File::open(to_dir)?.sync_all()?;
    Ok(BackupSummary {
        path: final_path,
        bytes,
        tables,
        rows,
        blobs: blob_count,
        blob_bytes,
        schema_version: snapshot.schema_version,
        blob_refs: snapshot.blobs,
    })
}

/// `<prefix>-YYYYMMDD-HHMMSS<suffix>`, or with `-2`, `-3`… when that name is taken in `dir`.
fn free_name(dir: &Path, prefix: &str, now: chrono::DateTime<chrono::Utc>, suffix: &str) -> String {
    let stem = format!("{prefix}-{}", now.format("%Y%m%d-%H%M%S"));
    let mut name = format!("{stem}{suffix}");
    let mut n = 1;
    while dir.join(&name).exists() {
        n += 1;
        name = format!("{stem}-{n}{suffix}");
    }
    name
}

/// What the snapshot phase found.
struct Snapshot {
    schema_version: String,
    tables: Vec<TableEntry>,
    blobs: Vec<(String, i64)>,
}

#[derive(diesel::QueryableByName)]
struct KeyedLine {
    #[diesel(sql_type = BigInt)]
    k: i64,
    #[diesel(sql_type = Text)]
    line: String,
}

#[derive(diesel::QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

#[derive(diesel::QueryableByName)]
struct BlobRow {
    #[diesel(sql_type = Text)]
    sha256: String,
    #[diesel(sql_type = BigInt)]
    size: i64,
}

/// Exports every table in one read transaction: a deferred transaction on SQLite (WAL keeps its
/// snapshot while the site writes on), `REPEATABLE READ READ ONLY` on PostgreSQL.
fn read_snapshot(
    conn: &mut DbConn,
    writer: &mut ArchiveWriter,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<Snapshot> {
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction(c)?,
        DbConn::Pg(c) => AnsiTransactionManager::begin_transaction_sql(
            c,
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        )?,
    }
    let result = (|| {
        catalog::check_known(conn)?;
        let schema_version = catalog::schema_version(conn)?;
        // A database of an older schema (the backup before an upgrade) lacks the tables later
        // migrations add; restore migrates a fresh database to the same schema, which lacks them too.
        let present = catalog::tables(conn)?;
        let mut tables = Vec::with_capacity(TABLES.len());
        let mut total = 0;
        for table in TABLES.iter().filter(|t| present.iter().any(|p| p == *t)) {
            let columns = catalog::columns(conn, table)?;
            let rows = export_table(conn, table, &columns, writer, &mut |n| {
                progress(Progress::Rows(total + n));
            })?;
            total += rows;
            tables.push(TableEntry {
                name: (*table).to_owned(),
                columns,
                rows,
            });
        }
        Ok(Snapshot {
            schema_version,
            tables,
            blobs: referenced_blobs(conn)?,
        })
    })();
    if let Err(e) = <DbConn as diesel::Connection>::TransactionManager::rollback_transaction(conn) {
        tracing::warn!(error = %e, "ending the backup's read transaction failed");
    }
    result
}

/// The blobs that files and profile pictures refer to, `(sha256, size)` sorted by name. Only these
/// go into a backup: garbage collection may remove an unreferenced one while the copy runs.
pub fn referenced_blobs(conn: &mut DbConn) -> anyhow::Result<Vec<(String, i64)>> {
    // A database of an older schema (the backup before an upgrade) has no `user_pictures` yet.
    let pictures = if catalog::tables(conn)?.iter().any(|t| t == "user_pictures") {
        " OR EXISTS (SELECT 1 FROM user_pictures p WHERE p.blob_sha256 = b.sha256)"
    } else {
        ""
    };
    let rows: Vec<BlobRow> = diesel::sql_query(format!(
        "SELECT b.sha256 AS sha256, b.size AS size FROM blobs b \
         WHERE EXISTS (SELECT 1 FROM files f WHERE f.blob_sha256 = b.sha256){pictures}"
    ))
    .load(conn)?;
    let mut blobs: Vec<(String, i64)> = rows.into_iter().map(|b| (b.sha256, b.size)).collect();
    // Sorted here, not by SQL: PostgreSQL's collation need not be byte order.
    blobs.sort();
    Ok(blobs)
}

fn quoted(name: &str) -> String {
    format!("\"{name}\"")
}

/// Exports one table as JSON lines in entries of at most `CHUNK_BYTES`; returns its row count.
fn export_table(
    conn: &mut DbConn,
    table: &str,
    columns: &[Column],
    writer: &mut ArchiveWriter,
    progress: &mut dyn FnMut(u64),
) -> anyhow::Result<u64> {
    let list = columns
        .iter()
        .map(|c| quoted(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let mut chunk = Vec::with_capacity(CHUNK_BYTES + 64 * 1024);
    let mut chunk_no = 0u32;
    let mut rows = 0u64;
    let mut flush = |chunk: &mut Vec<u8>, writer: &mut ArchiveWriter| -> anyhow::Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        chunk_no += 1;
        writer.add_bytes(&format!("db/{table}/{chunk_no:06}.jsonl"), chunk)?;
        chunk.clear();
        Ok(())
    };
    let push = |line: &str, chunk: &mut Vec<u8>| -> anyhow::Result<()> {
        let value = normalize(table, columns, line)?;
        serde_json::to_writer(&mut *chunk, &value)?;
        chunk.push(b'\n');
        Ok(())
    };
    match conn {
        DbConn::Sqlite(_) => {
            // Keyset paging on rowid (every table here is a rowid table): each page is one
            // index range, and the read transaction keeps all pages in one snapshot.
            let sql = format!(
                "SELECT rowid AS k, json_array({list}) AS line FROM {} WHERE rowid > ? ORDER BY rowid LIMIT {BATCH}",
                quoted(table)
            );
            let mut after = i64::MIN;
            loop {
                let page: Vec<KeyedLine> = diesel::sql_query(&sql)
                    .bind::<BigInt, _>(after)
                    .load(conn)?;
                let Some(end) = page.last().map(|r| r.k) else {
                    break;
                };
                for row in &page {
                    push(&row.line, &mut chunk)?;
                }
                rows += page.len() as u64;
                after = end;
                if chunk.len() >= CHUNK_BYTES {
                    flush(&mut chunk, writer)?;
                }
                progress(rows);
            }
        }
        DbConn::Pg(_) => {
            // A cursor: PostgreSQL would otherwise send the whole result at once.
            diesel::sql_query(format!(
                "DECLARE yui_backup NO SCROLL CURSOR FOR SELECT json_build_array({list})::text AS line FROM {}",
                quoted(table)
            ))
            .execute(conn)?;
            loop {
                let page: Vec<Line> =
                    diesel::sql_query(format!("FETCH {BATCH} FROM yui_backup")).load(conn)?;
                if page.is_empty() {
                    break;
                }
                for row in &page {
                    push(&row.line, &mut chunk)?;
                }
                rows += page.len() as u64;
                if chunk.len() >= CHUNK_BYTES {
                    flush(&mut chunk, writer)?;
                }
                progress(rows);
            }
            diesel::sql_query("CLOSE yui_backup").execute(conn)?;
        }
    }
    flush(&mut chunk, writer)?;
    Ok(rows)
}

/// Formats of timestamps as the backends write them as text.
const TIMESTAMP_FORMATS: &[&str] = &["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"];

/// Parses a stored timestamp in either backend's text form.
pub(super) fn parse_timestamp(text: &str) -> Option<chrono::NaiveDateTime> {
    TIMESTAMP_FORMATS
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(text, f).ok())
}

/// Turns one row as the backend printed it into the archive's neutral form (booleans as JSON
/// booleans, timestamps as `YYYY-MM-DDTHH:MM:SS[.f]`), refusing a value of the wrong kind.
fn normalize(table: &str, columns: &[Column], line: &str) -> anyhow::Result<serde_json::Value> {
    use serde_json::Value;
    let Value::Array(values) = serde_json::from_str::<Value>(line)? else {
        anyhow::bail!("{table}: a row did not read as an array");
    };
    if values.len() != columns.len() {
        anyhow::bail!(
            "{table}: a row has {} values for {} columns",
            values.len(),
            columns.len()
        );
    }
    let mut out = Vec::with_capacity(values.len());
    for (value, column) in values.into_iter().zip(columns) {
        let name = &column.name;
        let value = match (column.kind, value) {
            (_, Value::Null) => Value::Null,
            (Kind::Int, Value::Number(n)) if n.is_i64() => Value::Number(n),
            (Kind::Bool, Value::Bool(b)) => Value::Bool(b),
            (Kind::Bool, Value::Number(n)) if n.as_i64() == Some(0) => Value::Bool(false),
            (Kind::Bool, Value::Number(n)) if n.as_i64() == Some(1) => Value::Bool(true),
            (Kind::Timestamp, Value::String(s)) => {
                let t = parse_timestamp(&s)
                    .ok_or_else(|| anyhow::anyhow!("{table}.{name}: {s:?} is not a timestamp"))?;
                Value::String(t.format("%Y-%m-%dT%H:%M:%S%.f").to_string())
            }
            (Kind::Text, Value::String(s)) => Value::String(s),
            (kind, other) => {
                anyhow::bail!("{table}.{name}: {other} is not a value of kind {kind:?}")
            }
        };
        out.push(value);
    }
    Ok(Value::Array(out))
}

/// Copies the blobs into the archive, checking each one's bytes against its name on the way.
fn copy_blobs(
    storage: &Storage,
    blobs: &[(String, i64)],
    writer: &mut ArchiveWriter,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<(u64, u64)> {
    let total: i64 = blobs.iter().map(|(_, size)| size).sum();
    progress(Progress::BlobsStart(u64::try_from(total).unwrap_or(0)));
    let mut bytes = 0;
    for (sha256, _) in blobs {
        if !crate::storage::is_sha256_hex(sha256) {
            anyhow::bail!("the blobs table names {sha256:?}, which is not a SHA-256");
        }
        let path = storage.blob_path(sha256);
        let file = File::open(&path).map_err(|e| {
            anyhow::anyhow!(
                "blob {sha256} is missing from {} ({e}); `yui check --blobs` lists what is damaged",
                path.display()
            )
        })?;
        let size = file.metadata()?.len();
        let got = writer.add_reader(
            &format!("blobs/{}/{}/{sha256}", &sha256[0..2], &sha256[2..4]),
            size,
            CountingReader {
                inner: std::io::BufReader::with_capacity(1 << 20, file),
                progress: &mut *progress,
            },
        )?;
        if &got != sha256 {
            anyhow::bail!(
                "blob {sha256} is damaged (its bytes hash to {got}); run `yui check --blobs`, which quarantines it"
            );
        }
        bytes += size;
    }
    Ok((blobs.len() as u64, bytes))
}

/// Reports copied bytes to the progress bar.
struct CountingReader<'a, R> {
    inner: R,
    progress: &'a mut dyn FnMut(Progress),
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.progress)(Progress::BlobBytes(n as u64));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(kinds: &[Kind]) -> Vec<Column> {
        kinds
            .iter()
            .enumerate()
            .map(|(i, k)| Column {
                name: format!("c{i}"),
                kind: *k,
            })
            .collect()
    }

    #[test]
    fn rows_are_normalized_the_same_from_either_backend() {
        let columns = cols(&[
            Kind::Int,
            Kind::Bool,
            Kind::Timestamp,
            Kind::Text,
            Kind::Int,
        ]);
        let sqlite = normalize(
            "t",
            &columns,
            r#"[1, 1, "2026-12-07 12:00:00.5", "x", null]"#,
        )
        .unwrap();
        let pg = normalize(
            "t",
            &columns,
            r#"[1, true, "2026-12-07T12:00:00.5", "x", null]"#,
        )
        .unwrap();
        assert_eq!(sqlite, pg);
        assert_eq!(
            sqlite.to_string(),
            r#"[1,true,"2026-12-07T12:00:00.500","x",null]"#
        );
        assert!(normalize("t", &columns, r#"[1, 2, "2026-12-07 12:00:00", "x", null]"#).is_err());
        assert!(
            normalize(
                "t",
                &columns,
                r#"["1", true, "2026-12-07 12:00:00", "x", null]"#
            )
            .is_err()
        );
        assert!(normalize("t", &columns, r#"[1, true, "yesterday", "x", null]"#).is_err());
        assert!(normalize("t", &columns, r"[1, true]").is_err());
    }
}
