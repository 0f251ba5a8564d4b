//! The Subsonic API's rows (issue #14): tags of audio blobs (`audio_meta`), per-member stars and
//! playlists, and the audio files of a set of rooms in one query.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::file::{File, Folder};
use super::last_insert_id;
use crate::db::DbConn;
use crate::db::schema::{audio_meta, files, folders, playlist_entries, playlists, subsonic_stars};

/// A row of `audio_meta`: what lofty read from a blob.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audio_meta)]
pub struct AudioMeta {
    pub blob_sha256: String,
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub album_artist: Option<String>,
    pub genre: Option<String>,
    pub year: Option<i64>,
    pub track: Option<i64>,
    pub disc: Option<i64>,
    pub duration_ms: i64,
    pub bitrate_kbps: Option<i64>,
    pub has_picture: bool,
    pub read_ok: bool,
    pub read_at: NaiveDateTime,
}

/// The live audio files (`audio/*` types) of these rooms, with their tags when read, by name.
pub fn audio_files(
    conn: &mut DbConn,
    room_ids: &[i64],
) -> QueryResult<Vec<(File, Option<AudioMeta>)>> {
    files::table
        .left_join(audio_meta::table.on(audio_meta::blob_sha256.eq(files::blob_sha256)))
        .filter(files::room_id.eq_any(room_ids))
        .filter(files::deleted_at.is_null())
        .filter(files::content_type.like("audio/%"))
        .order((files::name_key.asc(), files::id.asc()))
        .select((File::as_select(), Option::<AudioMeta>::as_select()))
        .load(conn)
}

/// The live folders (not deleted themselves) of these rooms.
pub fn live_folders(conn: &mut DbConn, room_ids: &[i64]) -> QueryResult<Vec<Folder>> {
    folders::table
        .filter(folders::room_id.eq_any(room_ids))
        .filter(folders::deleted_at.is_null())
        .select(Folder::as_select())
        .load(conn)
}

/// Stores tags read from blobs, skipping blobs another request stored meanwhile.
pub fn store_meta(conn: &mut DbConn, rows: &[AudioMeta]) -> QueryResult<()> {
    let shas: Vec<&str> = rows.iter().map(|r| r.blob_sha256.as_str()).collect();
    let known: Vec<String> = audio_meta::table
        .filter(audio_meta::blob_sha256.eq_any(&shas))
        .select(audio_meta::blob_sha256)
        .load(conn)?;
    let fresh: Vec<&AudioMeta> = rows
        .iter()
        .filter(|r| !known.contains(&r.blob_sha256))
        .collect();
    for row in fresh {
        diesel::insert_into(audio_meta::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// A member's stars: item and when.
pub fn stars(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<(String, NaiveDateTime)>> {
    subsonic_stars::table
        .filter(subsonic_stars::user_id.eq(user_id))
        .select((subsonic_stars::item, subsonic_stars::created_at))
        .load(conn)
}

/// Stars `items` for a member (an item already starred stays as it was).
pub fn star(
    conn: &mut DbConn,
    user_id: i64,
    items: &[String],
    at: NaiveDateTime,
) -> QueryResult<()> {
    let known: Vec<String> = subsonic_stars::table
        .filter(subsonic_stars::user_id.eq(user_id))
        .filter(subsonic_stars::item.eq_any(items))
        .select(subsonic_stars::item)
        .load(conn)?;
    for item in items.iter().filter(|i| !known.contains(i)) {
        diesel::insert_into(subsonic_stars::table)
            .values((
                subsonic_stars::user_id.eq(user_id),
                subsonic_stars::item.eq(item),
                subsonic_stars::created_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Removes a member's stars of `items`.
pub fn unstar(conn: &mut DbConn, user_id: i64, items: &[String]) -> QueryResult<()> {
    diesel::delete(
        subsonic_stars::table
            .filter(subsonic_stars::user_id.eq(user_id))
            .filter(subsonic_stars::item.eq_any(items)),
    )
    .execute(conn)
    .map(drop)
}

/// A row of `playlists`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = playlists)]
pub struct Playlist {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub comment: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A member's playlists with their entries' file ids in order (two queries).
pub fn playlists_of(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<(Playlist, Vec<i64>)>> {
    let lists: Vec<Playlist> = playlists::table
        .filter(playlists::user_id.eq(user_id))
        .order(playlists::name.asc())
        .select(Playlist::as_select())
        .load(conn)?;
    let ids: Vec<i64> = lists.iter().map(|p| p.id).collect();
    let entries: Vec<(i64, i64)> = playlist_entries::table
        .filter(playlist_entries::playlist_id.eq_any(&ids))
        .order((playlist_entries::playlist_id, playlist_entries::position))
        .select((playlist_entries::playlist_id, playlist_entries::file_id))
        .load(conn)?;
    Ok(lists
        .into_iter()
        .map(|p| {
            let files = entries
                .iter()
                .filter(|(pid, _)| *pid == p.id)
                .map(|(_, f)| *f)
                .collect();
            (p, files)
        })
        .collect())
}

/// One of a member's playlists (another member's id is `None`).
pub fn find_playlist(conn: &mut DbConn, user_id: i64, id: i64) -> QueryResult<Option<Playlist>> {
    playlists::table
        .filter(playlists::id.eq(id))
        .filter(playlists::user_id.eq(user_id))
        .select(Playlist::as_select())
        .first(conn)
        .optional()
}

/// Makes a playlist; returns its id.
pub fn insert_playlist(
    conn: &mut DbConn,
    user_id: i64,
    name: &str,
    at: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(playlists::table)
        .values((
            playlists::user_id.eq(user_id),
            playlists::name.eq(name),
            playlists::comment.eq(""),
            playlists::created_at.eq(at),
            playlists::updated_at.eq(at),
        ))
        .execute(conn)?;
    last_insert_id(conn)
}

/// Renames a playlist or changes its comment.
pub fn update_playlist(
    conn: &mut DbConn,
    id: i64,
    name: Option<&str>,
    comment: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let target = playlists::table.filter(playlists::id.eq(id));
    if let Some(n) = name {
        diesel::update(target)
            .set(playlists::name.eq(n))
            .execute(conn)?;
    }
    if let Some(c) = comment {
        diesel::update(target)
            .set(playlists::comment.eq(c))
            .execute(conn)?;
    }
    diesel::update(target)
        .set(playlists::updated_at.eq(at))
        .execute(conn)
        .map(drop)
}

/// The file ids of a playlist's entries in order.
pub fn entries(conn: &mut DbConn, playlist_id: i64) -> QueryResult<Vec<i64>> {
    playlist_entries::table
        .filter(playlist_entries::playlist_id.eq(playlist_id))
        .order(playlist_entries::position)
        .select(playlist_entries::file_id)
        .load(conn)
}

/// Replaces a playlist's entries.
pub fn set_entries(conn: &mut DbConn, playlist_id: i64, file_ids: &[i64]) -> QueryResult<()> {
    diesel::delete(playlist_entries::table.filter(playlist_entries::playlist_id.eq(playlist_id)))
        .execute(conn)?;
    for (pos, file_id) in file_ids.iter().enumerate() {
        diesel::insert_into(playlist_entries::table)
            .values((
                playlist_entries::playlist_id.eq(playlist_id),
                playlist_entries::position.eq(i64::try_from(pos).unwrap_or(i64::MAX)),
                playlist_entries::file_id.eq(file_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Deletes a playlist and its entries.
pub fn delete_playlist(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::delete(playlist_entries::table.filter(playlist_entries::playlist_id.eq(id)))
        .execute(conn)?;
    diesel::delete(playlists::table.filter(playlists::id.eq(id)))
        .execute(conn)
        .map(drop)
}
