//! Room cabinets: folders, files, the blobs they point at, and resumable uploads in progress.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::last_insert_id;
use crate::db::DbConn;
use crate::db::schema::{blobs, files, folders, uploads, user_pictures, users};

/// A row of `folders`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = folders)]
pub struct Folder {
    pub id: i64,
    pub room_id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub name_key: String,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
    pub deleted_by: Option<i64>,
}

/// A row of `files`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = files)]
pub struct File {
    pub id: i64,
    pub room_id: i64,
    pub folder_id: i64,
    pub name: String,
    pub name_key: String,
    pub blob_sha256: String,
    pub size: i64,
    pub content_type: String,
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub track: Option<i64>,
    pub uploaded_by: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
    pub deleted_by: Option<i64>,
}

/// A new file row.
#[derive(Debug, Insertable)]
#[diesel(table_name = files)]
pub struct NewFile<'a> {
    pub room_id: i64,
    pub folder_id: i64,
    pub name: &'a str,
    pub name_key: &'a str,
    pub blob_sha256: &'a str,
    pub size: i64,
    pub content_type: &'a str,
    pub title: Option<&'a str>,
    pub artist: Option<&'a str>,
    pub album: Option<&'a str>,
    pub track: Option<i64>,
    pub uploaded_by: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A row of `uploads`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = uploads)]
pub struct Upload {
    pub id: String,
    pub room_id: i64,
    pub folder_id: i64,
    pub user_id: i64,
    pub name: String,
    pub size: i64,
    pub received: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Written afresh with every chunk (with `received`): who appended last.
    pub token: String,
}

/// The room's root folder, if it was made already.
pub fn root_folder(conn: &mut DbConn, room_id: i64) -> QueryResult<Option<Folder>> {
    folders::table
        .filter(folders::room_id.eq(room_id))
        .filter(folders::parent_id.is_null())
        .select(Folder::as_select())
        .first(conn)
        .optional()
}

/// Inserts a folder and returns its id.
pub fn insert_folder(
    conn: &mut DbConn,
    room_id: i64,
    parent_id: Option<i64>,
    name: &str,
    name_key: &str,
    created_by: i64,
    at: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(folders::table)
        .values((
            folders::room_id.eq(room_id),
            folders::parent_id.eq(parent_id),
            folders::name.eq(name),
            folders::name_key.eq(name_key),
            folders::created_by.eq(created_by),
            folders::created_at.eq(at),
        ))
        .execute(conn)?;
    last_insert_id(conn)
}

/// A folder of a room (in the trash or not).
pub fn find_folder(conn: &mut DbConn, room_id: i64, id: i64) -> QueryResult<Folder> {
    folders::table
        .filter(folders::id.eq(id))
        .filter(folders::room_id.eq(room_id))
        .select(Folder::as_select())
        .first(conn)
}

/// The live sub-folders of a folder, by name.
pub fn child_folders(conn: &mut DbConn, parent_id: i64) -> QueryResult<Vec<Folder>> {
    folders::table
        .filter(folders::parent_id.eq(parent_id))
        .filter(folders::deleted_at.is_null())
        .order(folders::name_key.asc())
        .select(Folder::as_select())
        .load(conn)
}

/// Every live folder of a room (for the move/copy target list and for zip downloads).
pub fn room_folders(conn: &mut DbConn, room_id: i64) -> QueryResult<Vec<Folder>> {
    folders::table
        .filter(folders::room_id.eq(room_id))
        .filter(folders::deleted_at.is_null())
        .order(folders::id.asc())
        .select(Folder::as_select())
        .load(conn)
}

/// The newest live files of a room whose type is one of `types` (the post editor's image picker),
/// at most `limit`; a file in a folder that is in the trash is still among them (the caller knows
/// the folders).
pub fn room_files_of_types(
    conn: &mut DbConn,
    room_id: i64,
    types: &[&str],
    limit: i64,
) -> QueryResult<Vec<File>> {
    files::table
        .filter(files::room_id.eq(room_id))
        .filter(files::deleted_at.is_null())
        .filter(files::content_type.eq_any(types))
        .order((files::created_at.desc(), files::id.desc()))
        .limit(limit)
        .select(File::as_select())
        .load(conn)
}

/// A file with its uploader's display name.
pub type FileWithUploader = (File, String);

/// The live files of a folder, by name, with who uploaded them.
pub fn folder_files(conn: &mut DbConn, folder_id: i64) -> QueryResult<Vec<FileWithUploader>> {
    files::table
        .inner_join(users::table.on(users::id.eq(files::uploaded_by)))
        .filter(files::folder_id.eq(folder_id))
        .filter(files::deleted_at.is_null())
        .order(files::name_key.asc())
        .select((File::as_select(), users::display_name))
        .load(conn)
}

/// Whether a live folder or file in `folder_id` already has this name key.
pub fn name_taken(
    conn: &mut DbConn,
    folder_id: i64,
    name_key: &str,
    except_file: Option<i64>,
    except_folder: Option<i64>,
) -> QueryResult<bool> {
    let mut f = files::table
        .filter(files::folder_id.eq(folder_id))
        .filter(files::name_key.eq(name_key))
        .filter(files::deleted_at.is_null())
        .select(files::id)
        .into_boxed();
    if let Some(id) = except_file {
        f = f.filter(files::id.ne(id));
    }
    if f.first::<i64>(conn).optional()?.is_some() {
        return Ok(true);
    }
    let mut d = folders::table
        .filter(folders::parent_id.eq(folder_id))
        .filter(folders::name_key.eq(name_key))
        .filter(folders::deleted_at.is_null())
        .select(folders::id)
        .into_boxed();
    if let Some(id) = except_folder {
        d = d.filter(folders::id.ne(id));
    }
    Ok(d.first::<i64>(conn).optional()?.is_some())
}

/// A file of a room (in the trash or not).
pub fn find_file(conn: &mut DbConn, room_id: i64, id: i64) -> QueryResult<File> {
    files::table
        .filter(files::id.eq(id))
        .filter(files::room_id.eq(room_id))
        .select(File::as_select())
        .first(conn)
}

/// Inserts a file row and returns its id.
pub fn insert_file(conn: &mut DbConn, new: &NewFile<'_>) -> QueryResult<i64> {
    diesel::insert_into(files::table)
        .values(new)
        .execute(conn)?;
    last_insert_id(conn)
}

/// Renames a file.
pub fn rename_file(
    conn: &mut DbConn,
    id: i64,
    name: &str,
    name_key: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(files::table.find(id))
        .set((
            files::name.eq(name),
            files::name_key.eq(name_key),
            files::updated_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// Renames a folder.
pub fn rename_folder(conn: &mut DbConn, id: i64, name: &str, name_key: &str) -> QueryResult<()> {
    diesel::update(folders::table.find(id))
        .set((folders::name.eq(name), folders::name_key.eq(name_key)))
        .execute(conn)
        .map(drop)
}

/// Moves a file into another folder.
pub fn move_file(conn: &mut DbConn, id: i64, folder_id: i64, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(files::table.find(id))
        .set((files::folder_id.eq(folder_id), files::updated_at.eq(at)))
        .execute(conn)
        .map(drop)
}

/// Moves a folder under another folder.
pub fn move_folder(conn: &mut DbConn, id: i64, parent_id: i64) -> QueryResult<()> {
    diesel::update(folders::table.find(id))
        .set(folders::parent_id.eq(parent_id))
        .execute(conn)
        .map(drop)
}

/// Puts a file in the trash (`Some`) or takes it out (`None`).
pub fn set_file_deleted(
    conn: &mut DbConn,
    id: i64,
    deleted: Option<(NaiveDateTime, i64)>,
) -> QueryResult<()> {
    diesel::update(files::table.find(id))
        .set((
            files::deleted_at.eq(deleted.map(|d| d.0)),
            files::deleted_by.eq(deleted.map(|d| d.1)),
        ))
        .execute(conn)
        .map(drop)
}

/// Puts a folder (and so everything in it) in the trash (`Some`) or takes it out (`None`).
pub fn set_folder_deleted(
    conn: &mut DbConn,
    id: i64,
    deleted: Option<(NaiveDateTime, i64)>,
) -> QueryResult<()> {
    diesel::update(folders::table.find(id))
        .set((
            folders::deleted_at.eq(deleted.map(|d| d.0)),
            folders::deleted_by.eq(deleted.map(|d| d.1)),
        ))
        .execute(conn)
        .map(drop)
}

/// The trash of a room: folders and files deleted on their own (not inside a deleted folder).
pub fn trash(conn: &mut DbConn, room_id: i64) -> QueryResult<(Vec<Folder>, Vec<File>)> {
    let dead_folders: Vec<Folder> = folders::table
        .filter(folders::room_id.eq(room_id))
        .filter(folders::deleted_at.is_not_null())
        .order(folders::deleted_at.desc())
        .select(Folder::as_select())
        .load(conn)?;
    let dead_files: Vec<File> = files::table
        .filter(files::room_id.eq(room_id))
        .filter(files::deleted_at.is_not_null())
        .order(files::deleted_at.desc())
        .select(File::as_select())
        .load(conn)?;
    Ok((dead_folders, dead_files))
}

/// Bytes a room's cabinet holds: every file not yet purged (the trash counts until it is
/// emptied) plus the declared size of uploads in progress.
pub fn room_usage(conn: &mut DbConn, room_id: i64) -> QueryResult<i64> {
    // `SUM(bigint)` is `numeric` on PostgreSQL; the cast keeps one integer type on both backends.
    let total =
        || diesel::dsl::sql::<diesel::sql_types::BigInt>("CAST(COALESCE(SUM(size), 0) AS BIGINT)");
    let stored: i64 = files::table
        .filter(files::room_id.eq(room_id))
        .select(total())
        .first(conn)?;
    let reserved: i64 = uploads::table
        .filter(uploads::room_id.eq(room_id))
        .select(total())
        .first(conn)?;
    Ok(stored + reserved)
}

/// Serialises the quota checks of one room until the transaction ends: every write that counts
/// `room_usage` and then adds bytes (an upload, a resumable upload's reservation, a copy) calls this
/// first. On PostgreSQL it takes the room row's lock (`FOR UPDATE`), because under READ COMMITTED
/// two transactions would both count the usage before either inserted and both pass; SQLite's
/// `BEGIN IMMEDIATE` already lets one writer in at a time.
pub fn lock_room_quota(conn: &mut DbConn, room_id: i64) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(_) => Ok(()),
        DbConn::Pg(c) => diesel::sql_query("SELECT id FROM rooms WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::BigInt, _>(room_id)
            .execute(c)
            .map(drop),
    }
}

/// Records that a blob is in use now: inserts its row or refreshes `last_used_at`, which keeps
/// garbage collection away from it. (On PostgreSQL the update takes the row lock that collection's
/// delete waits for.) Returns the size the row had before, `None` for a new row.
pub fn touch_blob(
    conn: &mut DbConn,
    sha256: &str,
    size: i64,
    at: NaiveDateTime,
) -> QueryResult<Option<i64>> {
    let updated = diesel::update(blobs::table.find(sha256))
        .set(blobs::last_used_at.eq(at))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(blobs::table)
            .values((
                blobs::sha256.eq(sha256),
                blobs::size.eq(size),
                blobs::last_used_at.eq(at),
            ))
            .execute(conn)?;
        return Ok(None);
    }
    blobs::table
        .find(sha256)
        .select(blobs::size)
        .first(conn)
        .map(Some)
}

/// Corrects a blob row's size (after its file was found damaged and replaced by proven bytes).
pub fn set_blob_size(conn: &mut DbConn, sha256: &str, size: i64) -> QueryResult<()> {
    diesel::update(blobs::table.find(sha256))
        .set(blobs::size.eq(size))
        .execute(conn)
        .map(drop)
}

/// Up to `limit` blobs that file rows (live or in the trash) refer to, in name order after
/// `after` (pages, so a scrub of any size reads a bounded list at a time).
pub fn referenced_blobs(conn: &mut DbConn, after: &str, limit: i64) -> QueryResult<Vec<String>> {
    files::table
        .filter(files::blob_sha256.gt(after))
        .select(files::blob_sha256)
        .distinct()
        .order(files::blob_sha256)
        .limit(limit)
        .load(conn)
}

/// Blobs no file and no profile picture refers to and nobody used since `before` (candidates for
/// collection).
pub fn unreferenced_blobs(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<Vec<String>> {
    blobs::table
        .filter(blobs::last_used_at.lt(before))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            files::table.filter(files::blob_sha256.eq(blobs::sha256)),
        )))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            user_pictures::table.filter(user_pictures::blob_sha256.eq(blobs::sha256)),
        )))
        .select(blobs::sha256)
        .load(conn)
}

/// Deletes a blob's row if it is still unreferenced and unused since `before`; `true` when it did,
/// and then the caller removes the file in the same transaction.
pub fn delete_blob_if_unused(
    conn: &mut DbConn,
    sha256: &str,
    before: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::delete(
        blobs::table
            .filter(blobs::sha256.eq(sha256))
            .filter(blobs::last_used_at.lt(before))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                files::table.filter(files::blob_sha256.eq(sha256)),
            )))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                user_pictures::table.filter(user_pictures::blob_sha256.eq(sha256)),
            ))),
    )
    .execute(conn)
    .map(|n| n > 0)
}

/// Whether a blob has a row.
pub fn blob_known(conn: &mut DbConn, sha256: &str) -> QueryResult<bool> {
    blobs::table
        .find(sha256)
        .select(blobs::sha256)
        .first::<String>(conn)
        .optional()
        .map(|o| o.is_some())
}

/// Folders that went to the trash before `before` (to be purged).
pub fn expired_folders(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<Vec<Folder>> {
    folders::table
        .filter(folders::deleted_at.lt(before))
        .select(Folder::as_select())
        .load(conn)
}

/// Files that went to the trash before `before` (to be purged).
pub fn expired_files(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<Vec<i64>> {
    files::table
        .filter(files::deleted_at.lt(before))
        .select(files::id)
        .load(conn)
}

/// Deletes a folder's whole subtree (rows only; blobs are collected later).
pub fn purge_folder_tree(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    let children: Vec<i64> = folders::table
        .filter(folders::parent_id.eq(id))
        .select(folders::id)
        .load(conn)?;
    for child in children {
        purge_folder_tree(conn, child)?;
    }
    diesel::delete(files::table.filter(files::folder_id.eq(id))).execute(conn)?;
    diesel::delete(uploads::table.filter(uploads::folder_id.eq(id))).execute(conn)?;
    diesel::delete(folders::table.find(id))
        .execute(conn)
        .map(drop)
}

/// Deletes a file row for good.
pub fn purge_file(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::delete(files::table.find(id))
        .execute(conn)
        .map(drop)
}

/// Records a new resumable upload.
pub fn insert_upload(conn: &mut DbConn, u: &Upload) -> QueryResult<()> {
    diesel::insert_into(uploads::table)
        .values((
            uploads::id.eq(&u.id),
            uploads::room_id.eq(u.room_id),
            uploads::folder_id.eq(u.folder_id),
            uploads::user_id.eq(u.user_id),
            uploads::name.eq(&u.name),
            uploads::size.eq(u.size),
            uploads::received.eq(u.received),
            uploads::created_at.eq(u.created_at),
            uploads::updated_at.eq(u.updated_at),
            uploads::token.eq(&u.token),
        ))
        .execute(conn)
        .map(drop)
}

/// An upload of a room by id.
pub fn find_upload(conn: &mut DbConn, room_id: i64, id: &str) -> QueryResult<Upload> {
    uploads::table
        .filter(uploads::id.eq(id))
        .filter(uploads::room_id.eq(room_id))
        .select(Upload::as_select())
        .first(conn)
}

/// Records how many bytes an upload's part holds, and the token of the chunk that brought them,
/// only if the row still says `old_received` and `old_token` (what the appender read under the
/// part's lock); `false` when another chunk or a finish got there first.
pub fn advance_upload(
    conn: &mut DbConn,
    id: &str,
    (old_received, old_token): (i64, &str),
    (received, token): (i64, &str),
    at: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        uploads::table
            .filter(uploads::id.eq(id))
            .filter(uploads::received.eq(old_received))
            .filter(uploads::token.eq(old_token)),
    )
    .set((
        uploads::received.eq(received),
        uploads::token.eq(token),
        uploads::updated_at.eq(at),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Deletes an upload row.
pub fn delete_upload(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    diesel::delete(uploads::table.find(id))
        .execute(conn)
        .map(drop)
}

/// Claims a finished upload: deletes its row only if it still holds `received` bytes under
/// `token` (what the finisher hashed); `false` when it was claimed, cancelled or appended to meanwhile.
pub fn claim_upload(conn: &mut DbConn, id: &str, received: i64, token: &str) -> QueryResult<bool> {
    diesel::delete(
        uploads::table
            .filter(uploads::id.eq(id))
            .filter(uploads::received.eq(received))
            .filter(uploads::token.eq(token)),
    )
    .execute(conn)
    .map(|n| n == 1)
}

/// Which of `ids` are uploads still in progress.
pub fn existing_uploads(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<String>> {
    uploads::table
        .filter(uploads::id.eq_any(ids))
        .select(uploads::id)
        .load(conn)
}

/// Uploads untouched since `before` (abandoned).
pub fn stale_uploads(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<Vec<String>> {
    uploads::table
        .filter(uploads::updated_at.lt(before))
        .select(uploads::id)
        .load(conn)
}

/// The live sub-folder of `parent_id` with this name key (WebDAV paths name folders).
pub fn live_child_folder(
    conn: &mut DbConn,
    parent_id: i64,
    name_key: &str,
) -> QueryResult<Option<Folder>> {
    folders::table
        .filter(folders::parent_id.eq(parent_id))
        .filter(folders::name_key.eq(name_key))
        .filter(folders::deleted_at.is_null())
        .select(Folder::as_select())
        .first(conn)
        .optional()
}

/// The live file of `folder_id` with this name key.
pub fn live_file_named(
    conn: &mut DbConn,
    folder_id: i64,
    name_key: &str,
) -> QueryResult<Option<File>> {
    files::table
        .filter(files::folder_id.eq(folder_id))
        .filter(files::name_key.eq(name_key))
        .filter(files::deleted_at.is_null())
        .select(File::as_select())
        .first(conn)
        .optional()
}

/// The newest live file of a folder (the copy a copy just made).
pub fn newest_file_in(conn: &mut DbConn, folder_id: i64) -> QueryResult<Option<File>> {
    files::table
        .filter(files::folder_id.eq(folder_id))
        .filter(files::deleted_at.is_null())
        .order(files::id.desc())
        .select(File::as_select())
        .first(conn)
        .optional()
}

/// The newest live sub-folder of a folder (the copy a copy just made).
pub fn newest_folder_in(conn: &mut DbConn, parent_id: i64) -> QueryResult<Option<Folder>> {
    folders::table
        .filter(folders::parent_id.eq(parent_id))
        .filter(folders::deleted_at.is_null())
        .order(folders::id.desc())
        .select(Folder::as_select())
        .first(conn)
        .optional()
}
