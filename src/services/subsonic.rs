//! The Subsonic music API's library (issue #14, `/rest/`): the audio files of every cabinet the
//! account may read, as songs, albums, artists, folders and playlists. Which rooms count is
//! `rooms::list_visible` (through `authz`) narrowed to rooms with a cabinet, exactly the rooms the
//! WebDAV drive lists; a room the account cannot read does not exist here, and a song's bytes are
//! served only through `files::download`, which asks `authz` again.
//!
//! The whole library is loaded in a fixed number of queries (rooms, memberships, audio files
//! with their tags, live folders, stars) and kept for a moment (`LibraryCache`: until this
//! process writes anything, at most a second), so a music app's calls in a row load it once;
//! every answer comes from memory; albums and artists are
//! groupings of the songs, with ids derived from their names (`al…`, `ar…`), so an id from a room
//! one cannot read finds nothing. Tags are read lazily with lofty the first time a blob is met and
//! kept in `audio_meta` by the blob's SHA-256 (identical bytes are read once); what has no tags
//! falls back to the names of the file and its folders.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use sha2::Digest as _;

use super::{Actor, Core, files, rooms};
use crate::db::DbConn;
use crate::db::types::Feature;
use crate::error::{AppError, AppResult};
use crate::files::audio::read_audio_details;
use crate::models::file::{File, Folder};
use crate::models::music::{self as m, AudioMeta};
use crate::models::now;

/// File name endings served as songs (with an `audio/*` type).
const AUDIO_SUFFIXES: &[&str] = &["mp3", "flac", "m4a", "aac", "ogg", "oga", "opus", "wav"];
/// Longest playlist name and comment, in characters.
const MAX_PLAYLIST_TEXT: usize = 200;
/// Most entries a playlist may hold.
const MAX_PLAYLIST_ENTRIES: usize = 5_000;

/// A music folder: one per readable room that has songs.
#[derive(Debug, Clone)]
pub struct MusicFolder {
    /// The room's id.
    pub id: i64,
    /// The room's address.
    pub slug: String,
    /// The room's name.
    pub name: String,
    /// The cabinet's root folder.
    pub root: i64,
}

/// A song: an audio file with its tags (or names standing in for them).
#[derive(Debug, Clone)]
pub struct Song {
    /// The file's id (`s<id>` in the API).
    pub id: i64,
    /// Its room.
    pub room_id: i64,
    /// Its folder.
    pub folder_id: i64,
    /// The file's name.
    pub name: String,
    /// Title (else the name without its ending).
    pub title: String,
    /// Artist (else the folder above the album's, else the room's name).
    pub artist: String,
    /// Album (else the folder's name, else the room's name).
    pub album: String,
    /// Album artist (else the artist).
    pub album_artist: String,
    /// Genre.
    pub genre: Option<String>,
    /// Year.
    pub year: Option<i64>,
    /// Track number.
    pub track: Option<i64>,
    /// Disc number.
    pub disc: Option<i64>,
    /// Length in seconds.
    pub duration: i64,
    /// Bit rate in kbit/s.
    pub bitrate: Option<i64>,
    /// Size in bytes.
    pub size: i64,
    /// Stored type.
    pub content_type: String,
    /// The name's ending, lower case.
    pub suffix: String,
    /// When it was put in the cabinet.
    pub created: NaiveDateTime,
    /// Whether it carries a picture.
    pub has_picture: bool,
    /// Room name / folders / file name.
    pub path: String,
    /// `al…` of its album.
    pub album_id: String,
    /// `ar…` of its album artist.
    pub artist_id: String,
}

/// A folder of a cabinet (a directory of the API, `d<id>`).
#[derive(Debug, Clone)]
pub struct Dir {
    /// The folder's id.
    pub id: i64,
    /// Its room.
    pub room_id: i64,
    /// Its parent (`None`: the cabinet's root).
    pub parent: Option<i64>,
    /// Its name (the room's name for the root).
    pub name: String,
    /// When it was made.
    pub created: NaiveDateTime,
}

/// An album: songs sharing album artist and album name.
#[derive(Debug, Clone)]
pub struct Album {
    /// `al…`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its artist.
    pub artist: String,
    /// `ar…` of the artist.
    pub artist_id: String,
    /// Indexes into `Library::songs`, by disc and track.
    pub songs: Vec<usize>,
    /// A song with a picture, for the cover.
    pub cover: Option<i64>,
    /// The newest song's time.
    pub created: NaiveDateTime,
    /// The first song's year and genre.
    pub year: Option<i64>,
    /// Genre.
    pub genre: Option<String>,
    /// Total seconds.
    pub duration: i64,
}

/// An artist: album artists with their albums.
#[derive(Debug, Clone)]
pub struct Artist {
    /// `ar…`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Indexes into `Library::albums`, by name.
    pub albums: Vec<usize>,
    /// A song with a picture.
    pub cover: Option<i64>,
}

/// Everything one account may hear, loaded for one request.
#[derive(Debug, Clone, Default)]
pub struct Library {
    /// Music folders by room name.
    pub folders: Vec<MusicFolder>,
    /// Songs by file name.
    pub songs: Vec<Song>,
    /// Live folders of those rooms (roots included).
    pub dirs: HashMap<i64, Dir>,
    /// Albums by name.
    pub albums: Vec<Album>,
    /// Artists by name.
    pub artists: Vec<Artist>,
    /// The account's stars: item id → when.
    pub stars: HashMap<String, NaiveDateTime>,
    /// Folders that hold songs, themselves or below.
    with_songs: HashSet<i64>,
}

/// A short stable id for a name: the first 64 bits of its SHA-256, hex.
fn name_id(prefix: &str, name: &str) -> String {
    let digest = sha2::Sha256::digest(name.to_lowercase().as_bytes());
    format!("{prefix}{}", super::token::to_hex(&digest[..8]))
}

/// `s12` → 12.
pub fn song_id(id: &str) -> Option<i64> {
    id.strip_prefix('s')?.parse().ok()
}

/// `d12` → 12.
pub fn dir_id(id: &str) -> Option<i64> {
    id.strip_prefix('d')?.parse().ok()
}

/// Whether a file is served as a song.
fn is_song(f: &File) -> bool {
    let suffix = suffix_of(&f.name);
    f.content_type.starts_with("audio/") && AUDIO_SUFFIXES.contains(&suffix.as_str())
}

fn suffix_of(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, s)| s.to_ascii_lowercase())
        .unwrap_or_default()
}

/// What `load` found: the library (tags not read yet stand in by names) and blobs to read.
struct Loaded {
    rooms: Vec<(i64, String, String)>,
    files: Vec<(File, Option<AudioMeta>)>,
    folders: Vec<Folder>,
    stars: Vec<(String, NaiveDateTime)>,
}

fn load(conn: &mut DbConn, actor: &Actor) -> AppResult<Loaded> {
    let rooms: Vec<(i64, String, String)> = rooms::list_visible(conn, Some(actor))?
        .into_iter()
        .filter(|r| r.room.features.has(Feature::Files))
        .map(|r| (r.room.id, r.room.slug, r.room.name))
        .collect();
    let ids: Vec<i64> = rooms.iter().map(|r| r.0).collect();
    let files = m::audio_files(conn, &ids)?
        .into_iter()
        .filter(|(f, _)| is_song(f))
        .collect();
    let folders = m::live_folders(conn, &ids)?;
    let stars = m::stars(conn, actor.id)?;
    Ok(Loaded {
        rooms,
        files,
        folders,
        stars,
    })
}

/// Libraries kept for a moment: a music app asks many things in a row (Symfonium's sync pages
/// through `search3`), and each answer needs the account's whole library. An entry serves only
/// while this process has ended no write transaction since it was loaded (`Db::writes`: a star, an
/// upload, a membership changed here shows at once) and for at most `TTL`, so a change made by
/// another `yui serve` on the same database shows within `TTL`. At most `MAX_ENTRIES` accounts are
/// kept; expired entries go first, then the oldest.
#[derive(Debug, Default)]
pub struct LibraryCache {
    entries: std::sync::Mutex<HashMap<(i64, bool), CachedLibrary>>,
}

#[derive(Debug)]
struct CachedLibrary {
    at: std::time::Instant,
    writes: u64,
    library: std::sync::Arc<Library>,
}

impl LibraryCache {
    /// How long a library is trusted without this process writing.
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(1);
    /// Most accounts kept at once.
    pub const MAX_ENTRIES: usize = 32;

    fn key(actor: &Actor) -> (i64, bool) {
        (actor.id, actor.is_admin)
    }

    fn fresh(&self, actor: &Actor, writes: u64) -> Option<std::sync::Arc<Library>> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(&Self::key(actor))
            .filter(|e| e.writes == writes && e.at.elapsed() < Self::TTL)
            .map(|e| e.library.clone())
    }

    fn store(&self, actor: &Actor, writes: u64, library: std::sync::Arc<Library>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        entries.retain(|_, e| e.at.elapsed() < Self::TTL);
        if entries.len() >= Self::MAX_ENTRIES
            && let Some(oldest) = entries.iter().min_by_key(|(_, e)| e.at).map(|(k, _)| *k)
        {
            entries.remove(&oldest);
        }
        entries.insert(
            Self::key(actor),
            CachedLibrary {
                at: std::time::Instant::now(),
                writes,
                library,
            },
        );
    }
}

/// The account's library: kept in `Core::music` for a moment (`LibraryCache`), else loaded.
pub async fn library(core: &Core, actor: &Actor) -> AppResult<std::sync::Arc<Library>> {
    // Noted before loading: a write that ends while we load makes this entry stale at once.
    let writes = core.db.writes();
    if let Some(library) = core.music.fresh(actor, writes) {
        return Ok(library);
    }
    let library = std::sync::Arc::new(load_library(core, actor).await?);
    core.music.store(actor, writes, library.clone());
    Ok(library)
}

/// Loads the account's library, reading the tags of blobs met for the first time (on the
/// blocking pool, once per blob) and keeping them.
async fn load_library(core: &Core, actor: &Actor) -> AppResult<Library> {
    let a = actor.clone();
    let mut loaded = core.db.read_long(move |conn| load(conn, &a)).await?;
    let missing: Vec<String> = loaded
        .files
        .iter()
        .filter(|(_, meta)| meta.is_none())
        .map(|(f, _)| f.blob_sha256.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if !missing.is_empty() {
        let storage = core.storage.clone();
        let read: Vec<AudioMeta> = tokio::task::spawn_blocking(move || {
            missing
                .into_iter()
                .map(|sha| {
                    let d = read_audio_details(&storage.blob_path(&sha));
                    AudioMeta {
                        blob_sha256: sha,
                        title: d.tags.title,
                        artist: d.tags.artist,
                        album: d.tags.album,
                        album_artist: d.album_artist,
                        genre: d.genre,
                        year: d.year,
                        track: d.tags.track,
                        disc: d.disc,
                        duration_ms: d.duration_ms,
                        bitrate_kbps: d.bitrate_kbps,
                        has_picture: d.has_picture,
                        read_ok: d.read_ok,
                        read_at: now(),
                    }
                })
                .collect()
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("reading tags: {e}")))?;
        let rows = read.clone();
        // Two requests may read the same new blob at once; the one that loses the race to store
        // it still answers with what it read.
        if let Err(e) = core
            .db
            .write(move |conn| Ok(m::store_meta(conn, &rows)?))
            .await
        {
            tracing::warn!(error = %e, "storing audio tags");
        }
        let by_sha: HashMap<String, AudioMeta> = read
            .into_iter()
            .map(|r| (r.blob_sha256.clone(), r))
            .collect();
        for (f, meta) in &mut loaded.files {
            if meta.is_none() {
                *meta = by_sha.get(&f.blob_sha256).cloned();
            }
        }
    }
    Ok(build(loaded))
}

/// Folders whose every ancestor is live (a folder in the trash takes its subtree with it); a
/// room's root is named after the room.
fn live_dirs(loaded: &Loaded) -> HashMap<i64, Dir> {
    let room_names: HashMap<i64, &str> = loaded
        .rooms
        .iter()
        .map(|(id, _, name)| (*id, name.as_str()))
        .collect();
    let by_id: HashMap<i64, &Folder> = loaded.folders.iter().map(|f| (f.id, f)).collect();
    let mut dirs = HashMap::new();
    for f in &loaded.folders {
        let mut cur = f;
        for _ in 0..=files::MAX_DEPTH {
            let Some(parent) = cur.parent_id.and_then(|pid| by_id.get(&pid)) else {
                break;
            };
            cur = parent;
        }
        // A chain that stops at a folder with a parent met a folder in the trash (or too deep).
        if cur.parent_id.is_none() {
            let name = if f.parent_id.is_none() {
                room_names
                    .get(&f.room_id)
                    .map(|r| (*r).to_owned())
                    .unwrap_or_default()
            } else {
                f.name.clone()
            };
            dirs.insert(
                f.id,
                Dir {
                    id: f.id,
                    room_id: f.room_id,
                    parent: f.parent_id,
                    name,
                    created: f.created_at,
                },
            );
        }
    }
    dirs
}

/// Builds songs, folders, albums and artists from the rows.
fn build(loaded: Loaded) -> Library {
    let dirs = live_dirs(&loaded);
    let path_of = |folder: i64| -> Vec<String> {
        let mut parts = Vec::new();
        let mut cur = dirs.get(&folder);
        while let Some(d) = cur {
            parts.push(d.name.clone());
            cur = d.parent.and_then(|p| dirs.get(&p));
            if parts.len() > files::MAX_DEPTH + 1 {
                break;
            }
        }
        parts.reverse();
        parts
    };
    let mut songs = Vec::new();
    // Many songs share an album and an artist: each name is hashed once.
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut id_of = |prefix: &str, name: String| -> String {
        ids.entry(format!("{prefix}{name}"))
            .or_insert_with(|| name_id(prefix, &name))
            .clone()
    };
    for (f, meta) in loaded.files {
        if !dirs.contains_key(&f.folder_id) {
            continue;
        }
        let meta = meta.filter(|m| m.read_ok);
        let path = path_of(f.folder_id);
        // Artist/Album/track.mp3 is the usual layout; the room's name stands in at the top.
        let folder_name = path.last().cloned().unwrap_or_default();
        let above = if path.len() >= 3 {
            path[path.len() - 2].clone()
        } else {
            path.first().cloned().unwrap_or_default()
        };
        let stem = f
            .name
            .rsplit_once('.')
            .map_or(f.name.as_str(), |(s, _)| s)
            .to_owned();
        let m_ = meta.as_ref();
        let title = m_.and_then(|m| m.title.clone()).unwrap_or(stem);
        let artist = m_.and_then(|m| m.artist.clone()).unwrap_or(above);
        let album = m_.and_then(|m| m.album.clone()).unwrap_or(folder_name);
        let album_artist = m_
            .and_then(|m| m.album_artist.clone())
            .unwrap_or_else(|| artist.clone());
        let mut full = path.clone();
        full.push(f.name.clone());
        songs.push(Song {
            id: f.id,
            room_id: f.room_id,
            folder_id: f.folder_id,
            suffix: suffix_of(&f.name),
            album_id: id_of("al", format!("{album_artist}\u{0}{album}")),
            artist_id: id_of("ar", album_artist.clone()),
            title,
            artist,
            album,
            album_artist,
            genre: m_.and_then(|m| m.genre.clone()),
            year: m_.and_then(|m| m.year),
            track: m_.and_then(|m| m.track),
            disc: m_.and_then(|m| m.disc),
            duration: m_.map_or(0, |m| m.duration_ms / 1000),
            bitrate: m_.and_then(|m| m.bitrate_kbps),
            size: f.size,
            content_type: f.content_type,
            created: f.created_at,
            has_picture: m_.is_some_and(|m| m.has_picture),
            path: full.join("/"),
            name: f.name,
        });
    }
    let mut folders: Vec<MusicFolder> = loaded
        .rooms
        .iter()
        .filter_map(|(id, slug, name)| {
            let root = dirs
                .values()
                .find(|d| d.room_id == *id && d.parent.is_none())?
                .id;
            songs.iter().any(|s| s.room_id == *id).then(|| MusicFolder {
                id: *id,
                slug: slug.clone(),
                name: name.clone(),
                root,
            })
        })
        .collect();
    folders.sort_by(|a, b| a.name.cmp(&b.name));
    let (albums, artists) = group(&songs);
    let with_songs = folders_with_songs(&songs, &dirs);
    Library {
        with_songs,
        folders,
        songs,
        dirs,
        albums,
        artists,
        stars: loaded.stars.into_iter().collect(),
    }
}

/// The folders that hold songs, themselves or below (each song's folder and its parents).
fn folders_with_songs(songs: &[Song], dirs: &HashMap<i64, Dir>) -> HashSet<i64> {
    let mut out = HashSet::new();
    for s in songs {
        let mut cur = Some(s.folder_id);
        for _ in 0..=files::MAX_DEPTH + 1 {
            let Some(c) = cur else { break };
            if !out.insert(c) {
                // Its parents are in already.
                break;
            }
            cur = dirs.get(&c).and_then(|d| d.parent);
        }
    }
    out
}

fn group(songs: &[Song]) -> (Vec<Album>, Vec<Artist>) {
    let mut album_index: HashMap<&str, usize> = HashMap::new();
    let mut albums: Vec<Album> = Vec::new();
    for (i, s) in songs.iter().enumerate() {
        let idx = *album_index.entry(s.album_id.as_str()).or_insert_with(|| {
            albums.push(Album {
                id: s.album_id.clone(),
                name: s.album.clone(),
                artist: s.album_artist.clone(),
                artist_id: s.artist_id.clone(),
                songs: Vec::new(),
                cover: None,
                created: s.created,
                year: s.year,
                genre: s.genre.clone(),
                duration: 0,
            });
            albums.len() - 1
        });
        let a = &mut albums[idx];
        a.songs.push(i);
        a.duration += s.duration;
        a.created = a.created.max(s.created);
        if a.cover.is_none() && s.has_picture {
            a.cover = Some(s.id);
        }
    }
    for a in &mut albums {
        a.songs.sort_by_key(|&i| {
            let s = &songs[i];
            (
                s.disc.unwrap_or(0),
                s.track.unwrap_or(i64::MAX),
                s.name.clone(),
            )
        });
    }
    albums.sort_by_key(|a| a.name.to_lowercase());
    let mut artist_index: HashMap<String, usize> = HashMap::new();
    let mut artists: Vec<Artist> = Vec::new();
    for (i, a) in albums.iter().enumerate() {
        let idx = *artist_index.entry(a.artist_id.clone()).or_insert_with(|| {
            artists.push(Artist {
                id: a.artist_id.clone(),
                name: a.artist.clone(),
                albums: Vec::new(),
                cover: None,
            });
            artists.len() - 1
        });
        artists[idx].albums.push(i);
        if artists[idx].cover.is_none() {
            artists[idx].cover = a.cover;
        }
    }
    artists.sort_by_key(|a| a.name.to_lowercase());
    (albums, artists)
}

impl Library {
    /// A song by its API id.
    pub fn song(&self, id: &str) -> Option<&Song> {
        let id = song_id(id)?;
        self.songs.iter().find(|s| s.id == id)
    }

    /// An album by its API id.
    pub fn album(&self, id: &str) -> Option<&Album> {
        self.albums.iter().find(|a| a.id == id)
    }

    /// An artist by its API id.
    pub fn artist(&self, id: &str) -> Option<&Artist> {
        self.artists.iter().find(|a| a.id == id)
    }

    /// The room a song is in (its address).
    pub fn room_slug(&self, room_id: i64) -> Option<&str> {
        self.folders
            .iter()
            .find(|f| f.id == room_id)
            .map(|f| f.slug.as_str())
    }

    /// Songs of one music folder (all with `None`).
    pub fn songs_in(&self, folder: Option<i64>) -> impl Iterator<Item = (usize, &Song)> {
        self.songs
            .iter()
            .enumerate()
            .filter(move |(_, s)| folder.is_none_or(|f| s.room_id == f))
    }

    /// When the account starred an item.
    pub fn starred(&self, item: &str) -> Option<NaiveDateTime> {
        self.stars.get(item).copied()
    }

    /// The sub-folders and songs of a folder, each by name.
    pub fn children(&self, dir: i64) -> (Vec<&Dir>, Vec<&Song>) {
        let mut dirs: Vec<&Dir> = self
            .dirs
            .values()
            .filter(|d| d.parent == Some(dir) && self.with_songs.contains(&d.id))
            .collect();
        dirs.sort_by(|a, b| a.name.cmp(&b.name));
        let songs = self.songs.iter().filter(|s| s.folder_id == dir).collect();
        (dirs, songs)
    }

    /// Genres with their song and album counts, by name.
    pub fn genres(&self) -> Vec<(String, usize, usize)> {
        let mut map: HashMap<&str, (usize, HashSet<&str>)> = HashMap::new();
        for s in &self.songs {
            if let Some(g) = &s.genre {
                let e = map.entry(g.as_str()).or_default();
                e.0 += 1;
                e.1.insert(s.album_id.as_str());
            }
        }
        let mut out: Vec<(String, usize, usize)> = map
            .into_iter()
            .map(|(g, (n, albums))| (g.to_owned(), n, albums.len()))
            .collect();
        out.sort();
        out
    }
}

/// What a song's bytes are served from: `files::download`'s answer, after `authz` was asked again
/// for the song's room.
pub async fn open_song(core: &Core, actor: &Actor, id: &str) -> AppResult<files::Download> {
    let lib = library(core, actor).await?;
    let song = lib.song(id).ok_or(AppError::NotFound)?;
    let slug = lib
        .room_slug(song.room_id)
        .ok_or(AppError::NotFound)?
        .to_owned();
    let (c, a, file) = (core.clone(), actor.clone(), song.id);
    core.db
        .read(move |conn| files::download(&c, conn, Some(&a), &slug, file))
        .await
}

/// Stars or unstars songs, albums and artists the account can see (others are refused as a
/// whole: `NotFound`).
pub async fn set_stars(core: &Core, actor: &Actor, items: Vec<String>, on: bool) -> AppResult<()> {
    let lib = library(core, actor).await?;
    if items
        .iter()
        .any(|i| lib.song(i).is_none() && lib.album(i).is_none() && lib.artist(i).is_none() && on)
    {
        return Err(AppError::NotFound);
    }
    let uid = actor.id;
    core.db
        .write(move |conn| {
            if on {
                m::star(conn, uid, &items, now())?;
            } else {
                m::unstar(conn, uid, &items)?;
            }
            Ok(())
        })
        .await
}

/// A playlist as the account sees it: only songs it may still read.
#[derive(Debug, Clone)]
pub struct PlaylistView {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its comment.
    pub comment: String,
    /// Its owner's login.
    pub owner: String,
    /// When it was made and changed.
    pub created: NaiveDateTime,
    /// When it was last changed.
    pub changed: NaiveDateTime,
    /// Indexes into the library's songs, in order.
    pub songs: Vec<usize>,
}

fn view(lib: &Library, owner: &str, p: m::Playlist, file_ids: &[i64]) -> PlaylistView {
    let index: HashMap<i64, usize> = lib
        .songs
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id, i))
        .collect();
    PlaylistView {
        id: p.id,
        name: p.name,
        comment: p.comment,
        owner: owner.to_owned(),
        created: p.created_at,
        changed: p.updated_at,
        songs: file_ids
            .iter()
            .filter_map(|f| index.get(f).copied())
            .collect(),
    }
}

/// The account's playlists.
pub async fn playlists(
    core: &Core,
    actor: &Actor,
    owner: &str,
    lib: &Library,
) -> AppResult<Vec<PlaylistView>> {
    let uid = actor.id;
    let rows = core
        .db
        .read(move |conn| Ok(m::playlists_of(conn, uid)?))
        .await?;
    Ok(rows
        .into_iter()
        .map(|(p, ids)| view(lib, owner, p, &ids))
        .collect())
}

/// One of the account's playlists (another's, or none, is `NotFound`).
pub async fn playlist(
    core: &Core,
    actor: &Actor,
    owner: &str,
    lib: &Library,
    id: i64,
) -> AppResult<PlaylistView> {
    let uid = actor.id;
    let (p, ids) = core
        .db
        .read(move |conn| {
            let p = m::find_playlist(conn, uid, id)?.ok_or(AppError::NotFound)?;
            let ids = m::entries(conn, id)?;
            Ok((p, ids))
        })
        .await?;
    Ok(view(lib, owner, p, &ids))
}

/// A change to a playlist (`createPlaylist` / `updatePlaylist`).
#[derive(Debug, Clone, Default)]
pub struct PlaylistChange {
    /// New name.
    pub name: Option<String>,
    /// New comment.
    pub comment: Option<String>,
    /// Replace the songs with these (`createPlaylist` with `playlistId`, or a new playlist).
    pub replace: Option<Vec<String>>,
    /// Songs to add at the end.
    pub add: Vec<String>,
    /// Positions to remove (of the entries as the account sees them).
    pub remove: Vec<usize>,
}

fn clean_text(s: &str) -> AppResult<String> {
    let t = s.trim();
    if t.chars().count() > MAX_PLAYLIST_TEXT || t.chars().any(char::is_control) {
        return Err(AppError::Invalid(crate::error::FieldErrors::default()));
    }
    Ok(t.to_owned())
}

/// Makes a playlist (`id` None) or changes one of the account's; returns its id. Songs the account
/// cannot read are refused (`NotFound`); entries it can no longer read are kept as they are.
pub async fn save_playlist(
    core: &Core,
    actor: &Actor,
    lib: &Library,
    id: Option<i64>,
    change: PlaylistChange,
) -> AppResult<i64> {
    let resolve = |ids: &[String]| -> AppResult<Vec<i64>> {
        ids.iter()
            .map(|i| lib.song(i).map(|s| s.id).ok_or(AppError::NotFound))
            .collect()
    };
    let replace = change.replace.as_deref().map(resolve).transpose()?;
    let add = resolve(&change.add)?;
    let name = change.name.as_deref().map(clean_text).transpose()?;
    let comment = change.comment.as_deref().map(clean_text).transpose()?;
    if id.is_none() && name.as_deref().is_none_or(str::is_empty) {
        return Err(AppError::Invalid(crate::error::FieldErrors::default()));
    }
    let readable: HashSet<i64> = lib.songs.iter().map(|s| s.id).collect();
    let (uid, remove) = (actor.id, change.remove);
    core.db
        .write(move |conn| {
            let at = now();
            let pid = match id {
                Some(pid) => {
                    m::find_playlist(conn, uid, pid)?.ok_or(AppError::NotFound)?;
                    pid
                }
                None => m::insert_playlist(conn, uid, name.as_deref().unwrap_or(""), at)?,
            };
            m::update_playlist(conn, pid, name.as_deref(), comment.as_deref(), at)?;
            let mut entries = match replace {
                Some(r) => r,
                None => m::entries(conn, pid)?,
            };
            if !remove.is_empty() {
                // Positions count the entries the account sees; hidden ones stay where they are.
                let mut seen = 0;
                let mut keep = Vec::with_capacity(entries.len());
                for f in entries {
                    if readable.contains(&f) {
                        let drop_it = remove.contains(&seen);
                        seen += 1;
                        if drop_it {
                            continue;
                        }
                    }
                    keep.push(f);
                }
                entries = keep;
            }
            entries.extend(add);
            if entries.len() > MAX_PLAYLIST_ENTRIES {
                return Err(AppError::Invalid(crate::error::FieldErrors::default()));
            }
            m::set_entries(conn, pid, &entries)?;
            Ok(pid)
        })
        .await
}

/// Deletes one of the account's playlists.
pub async fn delete_playlist(core: &Core, actor: &Actor, id: i64) -> AppResult<()> {
    let uid = actor.id;
    core.db
        .write(move |conn| {
            m::find_playlist(conn, uid, id)?.ok_or(AppError::NotFound)?;
            Ok(m::delete_playlist(conn, id)?)
        })
        .await
}
