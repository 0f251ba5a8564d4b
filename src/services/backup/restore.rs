//! Restoring an archive. A first pass reads the whole archive and checks every entry (kind, path,
//! size, SHA-256) against the manifest before anything is written; only then the target is checked
//! (empty, or `--force`) and a second pass loads the rows, writes the blobs (each hashed again
//! before it is renamed into place), checks the result and only at the very end makes the new
//! database the target's: a PostgreSQL transaction commits, a SQLite file built beside the target
//! is renamed over `yui.db`.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, Read, Write};
use std::path::{Component, Path, PathBuf};

use diesel::RunQueryDsl;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::sql_types::Text;
use diesel_migrations::MigrationHarness;
use sha2::Digest;

use super::catalog::{self, Column, Kind, SELF_REFERENCES, SKIPPED, TABLES};
use super::export::parse_timestamp;
use super::{FORMAT, FileEntry, HashingReader, MANIFEST, Manifest, Progress, hex};
use crate::db::{Backend, DbConn};
use crate::storage::Storage;

/// The largest `db/` entry or manifest a restore reads into memory (the writer makes them far
/// smaller; a bigger one is a forged archive).
const MAX_IN_MEMORY: u64 = 256 << 20;

/// What `yui restore` was asked to do.
#[derive(Debug, Clone)]
pub struct RestoreOptions {
    /// The archive.
    pub archive: PathBuf,
    /// The data directory to restore into.
    pub data_dir: PathBuf,
    /// The database to restore into (default: `yui.db` in `data_dir`).
    pub database_url: Option<String>,
    /// Restore over a non-empty target.
    pub force: bool,
    /// Only the database (`yui migrate-db`): `data_dir` is the site's own, whose blobs the rows
    /// must find there; no blob, `secret.key` or `yui.toml` is written and the directory may hold
    /// anything.
    pub database_only: bool,
    /// The passphrase of an encrypted archive.
    pub passphrase: Option<super::Passphrase>,
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct RestoreSummary {
    /// The verified manifest.
    pub manifest: Manifest,
    /// The database the site now lives in.
    pub database_url: String,
    /// Rows loaded.
    pub rows: u64,
    /// Blobs written.
    pub blobs: u64,
    /// Migrations run after loading (the archive was older than this binary).
    pub migrations_after: usize,
}

/// What an archive entry is, by its path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum EntryKind {
    Rows { table: String },
    Blob { sha256: String },
    Secret,
    Config,
    Manifest,
}

/// Checks an entry's path (plain relative components only, one of the layout's shapes).
fn classify(path: &Path) -> anyhow::Result<(String, EntryKind)> {
    let mut parts = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(p) => parts.push(p.to_str().ok_or_else(|| {
                anyhow::anyhow!("entry {} is not UTF-8: refused", path.display())
            })?),
            _ => anyhow::bail!(
                "entry {} has an absolute, `..` or `.` component: refused (nothing was written)",
                path.display()
            ),
        }
    }
    let text = parts.join("/");
    let kind = match parts.as_slice() {
        [m] if *m == MANIFEST => EntryKind::Manifest,
        ["config", "secret.key"] => EntryKind::Secret,
        ["config", "yui.toml"] => EntryKind::Config,
        ["db", table, file]
            if catalog::is_identifier(table)
                && file
                    .strip_suffix(".jsonl")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) =>
        {
            EntryKind::Rows {
                table: (*table).to_owned(),
            }
        }
        ["blobs", a, b, sha]
            if crate::storage::is_sha256_hex(sha) && sha[0..2] == **a && sha[2..4] == **b =>
        {
            EntryKind::Blob {
                sha256: (*sha).to_owned(),
            }
        }
        _ => anyhow::bail!("entry {text:?} is not part of a Yui backup: refused"),
    };
    Ok((text, kind))
}

type ArchiveReader = tar::Archive<zstd::Decoder<'static, std::io::BufReader<Box<dyn Read>>>>;

fn open_archive(
    path: &Path,
    passphrase: Option<&super::Passphrase>,
) -> anyhow::Result<ArchiveReader> {
    let bytes = super::crypt::reader(path, passphrase)?;
    Ok(tar::Archive::new(zstd::Decoder::new(bytes)?))
}

fn damaged(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("the archive is damaged or truncated ({e}): refused, nothing was written")
}

/// Reads the whole archive and checks every entry against the manifest; writes nothing.
pub fn verify_archive(
    path: &Path,
    passphrase: Option<&super::Passphrase>,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<Manifest> {
    let mut archive = open_archive(path, passphrase)?;
    let mut seen: Vec<FileEntry> = Vec::new();
    let mut paths = HashSet::new();
    let mut manifest: Option<Vec<u8>> = None;
    for entry in archive.entries().map_err(damaged)? {
        let mut entry = entry.map_err(damaged)?;
        let entry_path = entry.path().map_err(damaged)?.into_owned();
        let kind_of_entry = entry.header().entry_type();
        if kind_of_entry != tar::EntryType::Regular {
            anyhow::bail!(
                "entry {} is a {kind_of_entry:?}, not a regular file: refused (nothing was written)",
                entry_path.display()
            );
        }
        let (text, kind) = classify(&entry_path)?;
        if manifest.is_some() {
            anyhow::bail!("entry {text:?} follows the manifest: refused");
        }
        if !paths.insert(text.clone()) {
            anyhow::bail!("entry {text:?} appears twice: refused");
        }
        if kind == EntryKind::Manifest {
            if entry.size() > MAX_IN_MEMORY {
                anyhow::bail!("the manifest is implausibly large: refused");
            }
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(damaged)?;
            manifest = Some(bytes);
            continue;
        }
        let mut hashing = HashingReader::new(&mut entry);
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = hashing.read(&mut buf).map_err(damaged)?;
            if n == 0 {
                break;
            }
            progress(Progress::BlobBytes(n as u64));
        }
        let (size, sha256) = hashing.finish();
        if let EntryKind::Blob { sha256: name } = &kind
            && *name != sha256
        {
            anyhow::bail!(
                "blob {name} in the archive does not match its name (its bytes hash to {sha256}): the archive was altered; refused, nothing was written"
            );
        }
        seen.push(FileEntry {
            path: text,
            size,
            sha256,
        });
    }
    let bytes = manifest.ok_or_else(|| {
        anyhow::anyhow!("the archive has no manifest (truncated?): refused, nothing was written")
    })?;
    check_manifest(&bytes, &seen)
}

/// Checks the manifest against the entries the first pass found.
fn check_manifest(bytes: &[u8], seen: &[FileEntry]) -> anyhow::Result<Manifest> {
    let manifest: Manifest = serde_json::from_slice(bytes)
        .map_err(|e| anyhow::anyhow!("the manifest does not read ({e}): refused"))?;
    if manifest.format != FORMAT {
        anyhow::bail!(
            "the archive has format {}, this Yui reads format {FORMAT}: refused",
            manifest.format
        );
    }
    if manifest.entries.len() != seen.len() {
        anyhow::bail!(
            "the manifest lists {} entries, the archive holds {}: refused, nothing was written",
            manifest.entries.len(),
            seen.len()
        );
    }
    for (listed, found) in manifest.entries.iter().zip(seen) {
        if listed != found {
            anyhow::bail!(
                "entry {} does not match the manifest (size {} vs {}, SHA-256 {} vs {}): the archive was altered or damaged; refused, nothing was written",
                found.path,
                found.size,
                listed.size,
                found.sha256,
                listed.sha256
            );
        }
    }
    for table in &manifest.tables {
        if !TABLES.contains(&table.name.as_str()) {
            anyhow::bail!(
                "the manifest names table {:?}, which Yui does not have: refused",
                table.name
            );
        }
        if let Some(c) = table
            .columns
            .iter()
            .find(|c| !catalog::is_identifier(&c.name))
        {
            anyhow::bail!("the manifest names column {:?}: refused", c.name);
        }
    }
    for entry in seen {
        if let (_, EntryKind::Rows { table }) = classify(Path::new(&entry.path))?
            && !manifest.tables.iter().any(|t| t.name == table)
        {
            anyhow::bail!(
                "entry {} belongs to no table of the manifest: refused",
                entry.path
            );
        }
    }
    if !seen.iter().any(|e| e.path == "config/secret.key") {
        anyhow::bail!("the archive has no secret.key: refused");
    }
    let known = crate::db::migrate::known_versions_of(Backend::Sqlite)?;
    if !known.contains(&manifest.schema_version) {
        anyhow::bail!(
            "the archive's schema {} is not one this Yui knows (it was written by a newer Yui?): refused",
            manifest.schema_version
        );
    }
    Ok(manifest)
}

/// Whether a directory has anything in it.
fn dir_has_entries(dir: &Path) -> anyhow::Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut it) => Ok(it.next().is_some()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", dir.display())),
    }
}

/// Restores an archive: verifies it completely first, then writes. See the module documentation.
pub fn restore_archive(
    opts: &RestoreOptions,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<RestoreSummary> {
    let manifest = verify_archive(&opts.archive, opts.passphrase.as_ref(), progress)?;
    let url = opts
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", opts.data_dir.join("yui.db").display()));
    let backend = Backend::from_url(&url)?;
    // The target: empty, or --force.
    if !opts.force {
        if !opts.database_only && dir_has_entries(&opts.data_dir)? {
            anyhow::bail!(
                "{} is not empty: refused (pass --force to restore over it)",
                opts.data_dir.display()
            );
        }
        if backend == Backend::Postgres {
            let mut conn = crate::db::establish(&url)?;
            if !catalog::tables(&mut conn)?.is_empty() {
                anyhow::bail!(
                    "the database at --database-url has tables: refused (pass --force to replace them)"
                );
            }
        } else if Path::new(crate::db::sqlite_path(&url)).exists() {
            anyhow::bail!(
                "{} exists: refused (pass --force to replace it)",
                crate::db::sqlite_path(&url)
            );
        }
    }
    std::fs::create_dir_all(&opts.data_dir)?;
    let storage = Storage::new(&opts.data_dir, 0);
    storage.ensure_dirs()?;
    let mut target = Target::open(&url, backend, opts.force, &manifest.schema_version)?;
    let outcome = load(
        &opts.archive,
        opts.passphrase.as_ref(),
        &manifest,
        &storage,
        &mut target,
        opts.database_only,
        progress,
    );
    let (rows, blobs, secret, config) = match outcome {
        Ok(v) => v,
        Err(e) => {
            target.abandon();
            return Err(e);
        }
    };
    let migrations_after = target.commit()?;
    if opts.database_only {
        return Ok(RestoreSummary {
            manifest,
            database_url: url,
            rows,
            blobs,
            migrations_after,
        });
    }
    write_durably(&opts.data_dir.join("secret.key"), &secret, 0o600)?;
    let config = restored_config(config.as_deref(), opts.database_url.as_deref())?;
    if let Some(text) = config {
        write_durably(&opts.data_dir.join("yui.toml"), text.as_bytes(), 0o600)?;
    }
    Ok(RestoreSummary {
        manifest,
        database_url: url,
        rows,
        blobs,
        migrations_after,
    })
}

/// The archived `yui.toml` without its `[database]` table (a restored copy must never write to
/// the database the backup was taken from), pointing at `--database-url` when one was given.
fn restored_config(archived: Option<&[u8]>, url: Option<&str>) -> anyhow::Result<Option<String>> {
    let mut table = match archived {
        Some(bytes) => std::str::from_utf8(bytes)?
            .parse::<toml::Table>()
            .map_err(|e| anyhow::anyhow!("the archived yui.toml does not read: {e}"))?,
        None if url.is_some() => toml::Table::new(),
        None => return Ok(None),
    };
    table.remove("database");
    if let Some(url) = url {
        let mut db = toml::Table::new();
        db.insert("url".into(), toml::Value::String(url.to_owned()));
        table.insert("database".into(), toml::Value::Table(db));
    }
    Ok(Some(toml::to_string(&table)?))
}

/// Writes a small file by temp + fsync + rename + fsync(dir).
fn write_durably(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.restoring",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
    {
        let mut opts = File::options();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, mode);
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    std::fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// The database being restored into.
struct Target {
    conn: DbConn,
    /// SQLite: the file being built, and where it goes at the end.
    sqlite: Option<(PathBuf, PathBuf)>,
    /// Columns of each table on the target, once migrated to the archive's schema.
    columns: std::collections::HashMap<String, Vec<Column>>,
}

impl Target {
    fn open(url: &str, backend: Backend, force: bool, version: &str) -> anyhow::Result<Self> {
        let (mut conn, sqlite) = match backend {
            Backend::Sqlite => {
                let final_path = PathBuf::from(crate::db::sqlite_path(url));
                let dir = final_path.parent().unwrap_or(Path::new(".")).to_path_buf();
                std::fs::create_dir_all(&dir)?;
                let building = dir.join(format!(
                    ".{}.restoring",
                    final_path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .unwrap_or("yui.db")
                ));
                for suffix in ["", "-journal", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", building.display()));
                }
                let conn = crate::db::establish(&format!("sqlite://{}", building.display()))?;
                (conn, Some((building, final_path)))
            }
            Backend::Postgres => (crate::db::establish(url)?, None),
        };
        if let DbConn::Sqlite(c) = &mut conn {
            c.batch_execute("PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL;")?;
        }
        if let DbConn::Pg(c) = &mut conn {
            // One transaction for everything: DDL is transactional on PostgreSQL, so a failure
            // anywhere leaves the database as it was.
            AnsiTransactionManager::begin_transaction(c)?;
            if force {
                let schema: Vec<Single> =
                    diesel::sql_query("SELECT current_schema()::text AS v").load(&mut conn)?;
                let schema = schema.into_iter().next().map(|s| s.v).unwrap_or_default();
                if !catalog::is_identifier(&schema) {
                    anyhow::bail!("cannot replace schema {schema:?}");
                }
                conn.batch_execute(&format!(
                    "DROP SCHEMA \"{schema}\" CASCADE; CREATE SCHEMA \"{schema}\";"
                ))?;
            }
        }
        migrate_to(&mut conn, version)?;
        // An archive of an older schema (taken before an upgrade) fits a database migrated to
        // that schema, which lacks the tables later migrations add.
        let present = catalog::tables(&mut conn)?;
        let exists = |t: &&&str| present.iter().any(|p| p == **t);
        // Migrations seed rows (settings, the public space): the archive's rows replace them.
        for table in TABLES.iter().chain(SKIPPED).rev().filter(exists) {
            conn.batch_execute(&format!("DELETE FROM \"{table}\""))?;
        }
        let mut columns = std::collections::HashMap::new();
        for table in TABLES.iter().filter(exists) {
            columns.insert((*table).to_owned(), catalog::columns(&mut conn, table)?);
        }
        Ok(Self {
            conn,
            sqlite,
            columns,
        })
    }

    /// Throws away what was loaded (PostgreSQL: rollback; SQLite: the file being built).
    fn abandon(mut self) {
        if let DbConn::Pg(c) = &mut self.conn {
            let _ = AnsiTransactionManager::rollback_transaction(c);
        }
        if let Some((building, _)) = &self.sqlite {
            drop(self.conn);
            for suffix in ["", "-journal", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", building.display()));
            }
        }
    }

    /// Runs the migrations newer than the archive, then makes the new database the target's.
    fn commit(mut self) -> anyhow::Result<usize> {
        let after = match &mut self.conn {
            DbConn::Sqlite(c) => c
                .run_pending_migrations(crate::db::migrate::SQLITE)
                .map(|v| v.len()),
            DbConn::Pg(c) => c
                .run_pending_migrations(crate::db::migrate::POSTGRES)
                .map(|v| v.len()),
        };
        let after = match after {
            Ok(n) => n,
            Err(e) => {
                self.abandon();
                anyhow::bail!("migrating the restored database: {e}");
            }
        };
        match &mut self.conn {
            DbConn::Pg(c) => AnsiTransactionManager::commit_transaction(c)?,
            DbConn::Sqlite(_) => {}
        }
        if let Some((building, final_path)) = self.sqlite.take() {
            drop(self.conn);
            File::open(&building)?.sync_all()?;
            // A stale WAL beside the old file would be replayed into the new one.
            for suffix in ["-wal", "-shm", "-journal"] {
                let stale = format!("{}{suffix}", final_path.display());
                match std::fs::remove_file(&stale) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                    _ => {}
                }
            }
            std::fs::rename(&building, &final_path)?;
            File::open(final_path.parent().unwrap_or(Path::new(".")))?.sync_all()?;
        }
        Ok(after)
    }
}

#[derive(diesel::QueryableByName)]
struct Single {
    #[diesel(sql_type = Text)]
    v: String,
}

/// Runs migrations one by one until `version` is applied (the schema the archive's rows fit).
fn migrate_to(conn: &mut DbConn, version: &str) -> anyhow::Result<()> {
    loop {
        let applied = match conn {
            DbConn::Sqlite(c) => c.applied_migrations(),
            DbConn::Pg(c) => c.applied_migrations(),
        }
        .map_err(|e| anyhow::anyhow!("reading applied migrations: {e}"))?;
        if applied.iter().any(|v| v.to_string() == version) {
            return Ok(());
        }
        match conn {
            DbConn::Sqlite(c) => c.run_next_migration(crate::db::migrate::SQLITE).map(drop),
            DbConn::Pg(c) => c.run_next_migration(crate::db::migrate::POSTGRES).map(drop),
        }
        .map_err(|e| anyhow::anyhow!("migrating the new database to {version}: {e}"))?;
    }
}

type Loaded = (u64, u64, Vec<u8>, Option<Vec<u8>>);

/// The second pass: rows into the target, blobs into the store, the config kept for the end.
fn load(
    path: &Path,
    passphrase: Option<&super::Passphrase>,
    manifest: &Manifest,
    storage: &Storage,
    target: &mut Target,
    database_only: bool,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<Loaded> {
    if let Some(missing) = target
        .columns
        .keys()
        .find(|t| !manifest.tables.iter().any(|m| &m.name == *t))
    {
        anyhow::bail!(
            "the archive has no rows of table {missing}, which its schema {} has: refused",
            manifest.schema_version
        );
    }
    let mut archive = open_archive(path, passphrase)?;
    let mut listed = manifest.entries.iter();
    let mut loader = TableLoader::default();
    let mut rows = 0u64;
    let mut blobs = 0u64;
    let mut secret = None;
    let mut config = None;
    let mut db_done = false;
    for entry in archive.entries().map_err(damaged)? {
        let mut entry = entry.map_err(damaged)?;
        let (text, kind) = classify(&entry.path().map_err(damaged)?)?;
        if kind == EntryKind::Manifest {
            break;
        }
        let expected = listed
            .next()
            .filter(|e| e.path == text)
            .ok_or_else(|| anyhow::anyhow!("the archive changed since it was checked: refused"))?;
        if !matches!(kind, EntryKind::Rows { .. }) && !db_done {
            rows += loader.finish(target)?;
            finish_database(target, manifest)?;
            db_done = true;
        }
        match kind {
            EntryKind::Rows { table } => {
                if db_done {
                    anyhow::bail!("rows of {table} follow the blobs: refused");
                }
                let bytes = read_checked(&mut entry, expected)?;
                let table_entry = manifest
                    .tables
                    .iter()
                    .find(|t| t.name == table)
                    .ok_or_else(|| anyhow::anyhow!("no table {table} in the manifest"))?;
                if loader.table.as_deref() != Some(table.as_str()) {
                    rows += loader.finish(target)?;
                    loader.start(target, table_entry)?;
                }
                loader.load_chunk(target, &bytes)?;
                progress(Progress::Rows(rows + loader.rows));
            }
            EntryKind::Blob { .. } if database_only => {}
            EntryKind::Blob { sha256 } => {
                write_blob(storage, &sha256, &mut entry, expected, progress)?;
                blobs += 1;
            }
            EntryKind::Secret => secret = Some(read_checked(&mut entry, expected)?),
            EntryKind::Config => config = Some(read_checked(&mut entry, expected)?),
            EntryKind::Manifest => unreachable!("handled above"),
        }
    }
    if !db_done {
        rows += loader.finish(target)?;
        finish_database(target, manifest)?;
    }
    if listed.next().is_some() {
        anyhow::bail!("the archive changed since it was checked: refused");
    }
    check_blobs_present(target, storage)?;
    let secret = secret.ok_or_else(|| anyhow::anyhow!("the archive has no secret.key"))?;
    Ok((rows, blobs, secret, config))
}

/// Reads an entry into memory and checks it against its manifest line.
fn read_checked(entry: &mut impl Read, expected: &FileEntry) -> anyhow::Result<Vec<u8>> {
    if expected.size > MAX_IN_MEMORY {
        anyhow::bail!("entry {} is implausibly large: refused", expected.path);
    }
    let mut bytes = Vec::with_capacity(usize::try_from(expected.size).unwrap_or(0));
    entry.read_to_end(&mut bytes).map_err(damaged)?;
    if bytes.len() as u64 != expected.size || hex(&sha2::Sha256::digest(&bytes)) != expected.sha256
    {
        anyhow::bail!(
            "entry {} changed since it was checked: refused",
            expected.path
        );
    }
    Ok(bytes)
}

/// Streams a blob to `tmp/`, checks its hash, fsyncs it and renames it into the store.
fn write_blob(
    storage: &Storage,
    sha256: &str,
    entry: &mut impl Read,
    expected: &FileEntry,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<()> {
    let final_path = storage.blob_path(sha256);
    let tmp = storage.tmp_dir().join(format!("restore-{sha256}"));
    let mut out = File::create(&tmp)?;
    let mut hashing = HashingReader::new(entry);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = hashing.read(&mut buf).map_err(damaged)?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n])?;
        progress(Progress::BlobBytes(n as u64));
    }
    let (size, got) = hashing.finish();
    if size != expected.size || got != sha256 {
        drop(out);
        let _ = std::fs::remove_file(&tmp);
        anyhow::bail!("blob {sha256} changed since it was checked: refused");
    }
    out.sync_all()?;
    drop(out);
    let dir = final_path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    std::fs::rename(&tmp, &final_path)?;
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// Loads one table's chunks.
#[derive(Default)]
struct TableLoader {
    table: Option<String>,
    /// The archive's columns and the insert statement.
    columns: Vec<Column>,
    insert: String,
    /// For a table that refers to itself: the parent and id columns' positions, the ids loaded so
    /// far and rows waiting for a parent that comes later in the archive (a folder moved under a
    /// newer one). Rows load parents first, so partial unique indexes such as "one root folder
    /// per room" never see a row without its parent.
    self_ref: Option<(usize, usize)>,
    loaded: HashSet<i64>,
    waiting: std::collections::HashMap<i64, Vec<Vec<serde_json::Value>>>,
    expected: u64,
    rows: u64,
}

impl TableLoader {
    fn start(&mut self, target: &mut Target, table: &super::TableEntry) -> anyhow::Result<()> {
        let have = target
            .columns
            .get(&table.name)
            .ok_or_else(|| anyhow::anyhow!("no table {} on the target", table.name))?;
        let mut selects = Vec::with_capacity(table.columns.len());
        self.self_ref = None;
        for (i, column) in table.columns.iter().enumerate() {
            let there = have.iter().find(|c| c.name == column.name).ok_or_else(|| {
                anyhow::anyhow!(
                    "the archive has column {}.{}, which this database lacks",
                    table.name,
                    column.name
                )
            })?;
            if SELF_REFERENCES.contains(&(table.name.as_str(), column.name.as_str())) {
                let id = table
                    .columns
                    .iter()
                    .position(|c| c.name == "id")
                    .ok_or_else(|| anyhow::anyhow!("{} has no id column", table.name))?;
                self.self_ref = Some((i, id));
            }
            selects.push(match &target.conn {
                DbConn::Sqlite(_) => format!("json_extract(value, '$[{i}]')"),
                DbConn::Pg(_) => format!(
                    "CAST(r.v->>{i} AS {})",
                    match there.kind {
                        Kind::Int => "bigint",
                        Kind::Bool => "boolean",
                        Kind::Timestamp => "timestamp",
                        Kind::Text => "text",
                    }
                ),
            });
        }
        let list = table
            .columns
            .iter()
            .map(|c| format!("\"{}\"", c.name))
            .collect::<Vec<_>>()
            .join(", ");
        let from = match &target.conn {
            DbConn::Sqlite(_) => "FROM json_each(?)",
            DbConn::Pg(_) => "FROM json_array_elements(CAST($1 AS json)) AS r(v)",
        };
        self.insert = format!(
            "INSERT INTO \"{}\" ({list}) SELECT {} {from}",
            table.name,
            selects.join(", ")
        );
        self.table = Some(table.name.clone());
        self.columns.clone_from(&table.columns);
        self.loaded.clear();
        self.waiting.clear();
        self.expected = table.rows;
        self.rows = 0;
        Ok(())
    }

    fn load_chunk(&mut self, target: &mut Target, bytes: &[u8]) -> anyhow::Result<()> {
        let sqlite = matches!(target.conn, DbConn::Sqlite(_));
        // The batch is built as JSON text row by row: a whole chunk as `serde_json::Value`s
        // would take several times its 4 MiB.
        let mut batch = Batch::default();
        for line in bytes.lines() {
            let line = line?;
            if line.is_empty() {
                continue;
            }
            let serde_json::Value::Array(mut values) = serde_json::from_str(&line)? else {
                anyhow::bail!("a row of {:?} is not an array", self.table);
            };
            if values.len() != self.columns.len() {
                anyhow::bail!("a row of {:?} has the wrong number of values", self.table);
            }
            for (value, column) in values.iter_mut().zip(&self.columns) {
                convert(value, column.kind, sqlite)?;
            }
            self.rows += 1;
            let Some((parent, _)) = self.self_ref else {
                batch.push(&values)?;
                if batch.0.len() >= INSERT_BYTES {
                    self.insert(target, std::mem::take(&mut batch))?;
                }
                continue;
            };
            match values[parent].as_i64() {
                Some(p) if !self.loaded.contains(&p) => {
                    self.waiting.entry(p).or_default().push(values);
                }
                _ => self.release(values, &mut batch)?,
            }
        }
        self.insert(target, batch)
    }

    /// Inserts the batch's rows with one statement.
    fn insert(&self, target: &mut Target, batch: Batch) -> anyhow::Result<()> {
        let Some(json) = batch.finish() else {
            return Ok(());
        };
        diesel::sql_query(&self.insert)
            .bind::<Text, _>(json)
            .execute(&mut target.conn)?;
        Ok(())
    }

    /// Queues a row whose parent is in, then every row that was waiting for it.
    fn release(&mut self, row: Vec<serde_json::Value>, batch: &mut Batch) -> anyhow::Result<()> {
        let Some((_, id)) = self.self_ref else {
            return Ok(());
        };
        let mut stack = vec![row];
        while let Some(row) = stack.pop() {
            if let Some(id) = row[id].as_i64() {
                self.loaded.insert(id);
                if let Some(children) = self.waiting.remove(&id) {
                    stack.extend(children);
                }
            }
            batch.push(&row)?;
        }
        Ok(())
    }

    /// Checks the row count and that no row waits for a parent; returns the table's rows.
    fn finish(&mut self, _target: &mut Target) -> anyhow::Result<u64> {
        let Some(table) = self.table.take() else {
            return Ok(0);
        };
        if let Some(parent) = self.waiting.keys().next() {
            anyhow::bail!(
                "rows of {table} refer to parent {parent}, which is not in the archive: refused"
            );
        }
        if self.rows != self.expected {
            anyhow::bail!(
                "table {table}: the manifest says {} rows, the archive holds {}: refused",
                self.expected,
                self.rows
            );
        }
        Ok(self.rows)
    }
}

/// JSON text of rows bound to one insert. The database copies the text it is bound to and parses
/// it whole (`json_each`, `json_array_elements`), so an insert per archive chunk (4 MiB) held
/// several times that at once (most of `verify-backup`'s peak memory); a few hundred KiB per
/// statement is as fast.
const INSERT_BYTES: usize = 256 << 10;

/// Rows as one JSON array text, the insert's bound parameter.
#[derive(Default)]
struct Batch(Vec<u8>);

impl Batch {
    fn push(&mut self, row: &[serde_json::Value]) -> anyhow::Result<()> {
        self.0.push(if self.0.is_empty() { b'[' } else { b',' });
        serde_json::to_writer(&mut self.0, row)?;
        Ok(())
    }

    fn finish(mut self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        self.0.push(b']');
        String::from_utf8(self.0).ok()
    }
}

/// Turns an archive value into what the target backend's insert expects.
fn convert(value: &mut serde_json::Value, kind: Kind, sqlite: bool) -> anyhow::Result<()> {
    use serde_json::Value;
    match (kind, &*value) {
        (_, Value::Null) | (Kind::Int, Value::Number(_)) | (Kind::Text, Value::String(_)) => {}
        (Kind::Bool, Value::Bool(b)) => {
            if sqlite {
                *value = Value::from(i64::from(*b));
            }
        }
        (Kind::Timestamp, Value::String(s)) => {
            let t =
                parse_timestamp(s).ok_or_else(|| anyhow::anyhow!("{s:?} is not a timestamp"))?;
            // Diesel's own text form on SQLite (so stored text compares as it always did).
            *value = Value::String(
                t.format(if sqlite {
                    "%Y-%m-%d %H:%M:%S%.f"
                } else {
                    "%Y-%m-%dT%H:%M:%S%.f"
                })
                .to_string(),
            );
        }
        (kind, other) => anyhow::bail!("{other} is not a value of kind {kind:?}"),
    }
    Ok(())
}

/// After the last table: sequences (PostgreSQL), foreign keys and integrity (SQLite), row counts.
fn finish_database(target: &mut Target, manifest: &Manifest) -> anyhow::Result<()> {
    let conn = &mut target.conn;
    match conn {
        DbConn::Pg(_) => {
            for table in &manifest.tables {
                if table
                    .columns
                    .iter()
                    .any(|c| c.name == "id" && c.kind == Kind::Int)
                {
                    let name = &table.name;
                    diesel::sql_query(format!(
                        "SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), \
                         COALESCE((SELECT MAX(id) FROM \"{name}\"), 0) + 1, false)"
                    ))
                    .execute(conn)?;
                }
            }
        }
        DbConn::Sqlite(_) => {
            let broken: Vec<Single> = diesel::sql_query(
                "SELECT \"table\" || ' row ' || rowid || ' -> ' || parent AS v FROM pragma_foreign_key_check",
            )
            .load(conn)?;
            if let Some(first) = broken.first() {
                anyhow::bail!(
                    "the restored rows break {} foreign keys (first: {}): refused",
                    broken.len(),
                    first.v
                );
            }
            let integrity: Vec<Single> =
                diesel::sql_query("SELECT integrity_check AS v FROM pragma_integrity_check")
                    .load(conn)?;
            if integrity.len() != 1 || integrity[0].v != "ok" {
                anyhow::bail!(
                    "the restored database fails its integrity check: {}",
                    integrity
                        .into_iter()
                        .map(|r| r.v)
                        .collect::<Vec<_>>()
                        .join("; ")
                );
            }
        }
    }
    Ok(())
}

#[derive(diesel::QueryableByName)]
struct Sha {
    #[diesel(sql_type = Text)]
    sha256: String,
}

/// Every blob a file or a profile picture refers to is in the store (its hash was checked as it
/// was written).
fn check_blobs_present(target: &mut Target, storage: &Storage) -> anyhow::Result<()> {
    let pictures = if catalog::tables(&mut target.conn)?
        .iter()
        .any(|t| t == "user_pictures")
    {
        " UNION SELECT blob_sha256 AS sha256 FROM user_pictures"
    } else {
        ""
    };
    let shas: Vec<Sha> = diesel::sql_query(format!(
        "SELECT DISTINCT blob_sha256 AS sha256 FROM files{pictures}"
    ))
    .load(&mut target.conn)?;
    let missing: Vec<&str> = shas
        .iter()
        .map(|s| s.sha256.as_str())
        .filter(|s| !crate::storage::is_sha256_hex(s) || !storage.blob_path(s).is_file())
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "{} blobs that files or pictures refer to are not in the archive (first: {}): refused",
            missing.len(),
            missing[0]
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_paths_are_checked() {
        for bad in [
            "../etc/passwd",
            "/etc/passwd",
            "db/../../x",
            "blobs/aa/bb/../../../../x",
            "db/Users/000001.jsonl",
            "db/users/x.jsonl",
            "config/other",
            "blobs/00/00/0000000000000000000000000000000000000000000000000000000000000000x",
            "blobs/11/00/0000000000000000000000000000000000000000000000000000000000000000",
            "./manifest.json",
        ] {
            assert!(classify(Path::new(bad)).is_err(), "{bad}");
        }
        let sha = "ab".repeat(32);
        assert_eq!(
            classify(Path::new(&format!("blobs/ab/ab/{sha}")))
                .unwrap()
                .1,
            EntryKind::Blob {
                sha256: sha.clone()
            }
        );
        assert!(classify(Path::new("db/room_posts/000001.jsonl")).is_ok());
        assert!(classify(Path::new("manifest.json")).is_ok());
    }

    #[test]
    fn restored_config_drops_the_source_database() {
        let archived =
            b"[server]\nbind = \"0.0.0.0:80\"\n[database]\nurl = \"postgres://prod/yui\"\n";
        let out = restored_config(Some(archived), None).unwrap().unwrap();
        assert!(!out.contains("prod"), "{out}");
        assert!(out.contains("0.0.0.0:80"));
        let out = restored_config(Some(archived), Some("postgres://new/yui"))
            .unwrap()
            .unwrap();
        assert!(
            out.contains("postgres://new/yui") && !out.contains("prod"),
            "{out}"
        );
        assert!(restored_config(None, None).unwrap().is_none());
    }
}
