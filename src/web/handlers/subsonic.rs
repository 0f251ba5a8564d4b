//! The Subsonic API at `/rest/{method}` (issue #14): its parameters (query string, or a form body
//! for POST: the `OpenSubsonic` `formPost`), authentication with an app password of scope `subsonic`
//! (`u`+`p` plain or `enc:` hex, `u`+`t`+`s` token, `OpenSubsonic` `apiKey`; never the login
//! password, never a cookie), and the answer as XML, JSON or JSONP. Every failure is HTTP 200
//! with `status="failed"` and one of the documented codes, never an HTML page. What is answered
//! comes from `services::subsonic`; songs and cover art are sent through the cabinet's download
//! path (`files::send_blob`: Range, `ETag`, HEAD, constant memory).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDateTime;
use futures_util::StreamExt;
use serde_json::{Map, Value, json};

use crate::db::types::AppPasswordScope;
use crate::error::AppError;
use crate::models::user::User;
use crate::services::Actor;
use crate::services::app_passwords::{self, Proof, Refused};
use crate::services::subsonic::{self as lib, Album, Artist, Dir, Library, Song};
use crate::web::AppState;
use crate::web::extract::Ctx;

/// The Subsonic API version answered.
const API_VERSION: &str = "1.16.1";
/// Longest form body read for a POST.
const MAX_BODY: usize = 256 * 1024;
/// Most items one list answer holds.
const MAX_PAGE: usize = 500;

/// The documented error codes.
#[derive(Debug, Clone, Copy)]
enum Code {
    Generic = 0,
    MissingParam = 10,
    WrongCredentials = 40,
    ConflictingAuth = 43,
    InvalidApiKey = 44,
    NotAuthorized = 50,
    NotFound = 70,
}

/// A failed call: its code and message.
#[derive(Debug)]
struct Failure(Code, String);

impl Failure {
    fn missing(name: &str) -> Self {
        Self(
            Code::MissingParam,
            format!("Required parameter is missing: {name}"),
        )
    }
    fn not_found(what: &str) -> Self {
        Self(Code::NotFound, format!("{what} not found"))
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound | AppError::Gone(_) => Self::not_found("Requested data"),
            AppError::Forbidden | AppError::Unauthenticated => {
                Self(Code::NotAuthorized, "Not authorized".into())
            }
            AppError::Invalid(_) => Self(Code::Generic, "Invalid value".into()),
            other => {
                tracing::error!(error = %other, "subsonic");
                Self(Code::Generic, "Server error".into())
            }
        }
    }
}

/// The request's parameters: the query string, then a form body's.
#[derive(Debug, Default)]
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }
    fn require(&self, key: &str) -> Result<&str, Failure> {
        self.get(key).ok_or_else(|| Failure::missing(key))
    }
    fn number(&self, key: &str, default: usize) -> usize {
        self.get(key)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(default)
    }
    fn int(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(|v| v.parse().ok())
    }
}

/// How the answer is written.
#[derive(Debug, Clone)]
enum Format {
    Xml,
    Json,
    Jsonp(String),
}

impl Format {
    fn of(p: &Params) -> Self {
        match p.get("f") {
            Some("json") => Self::Json,
            Some("jsonp") => {
                let cb: String = p
                    .get("callback")
                    .unwrap_or("callback")
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$'))
                    .take(100)
                    .collect();
                Self::Jsonp(if cb.is_empty() { "callback".into() } else { cb })
            }
            _ => Self::Xml,
        }
    }
}

fn envelope(status: &str, body: Map<String, Value>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("status".into(), json!(status));
    m.insert("version".into(), json!(API_VERSION));
    m.insert("type".into(), json!("yui"));
    m.insert("serverVersion".into(), json!(env!("CARGO_PKG_VERSION")));
    m.insert("openSubsonic".into(), json!(true));
    m.extend(body);
    m
}

fn xml_escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// One element: scalars are attributes, `value` is the text, objects and arrays are children
/// (an array's items repeat the element name), as the Subsonic XML schema has them.
fn xml_element(name: &str, v: &Value, out: &mut String) {
    out.push('<');
    out.push_str(name);
    let Value::Object(map) = v else {
        out.push('>');
        if let Some(t) = scalar_text(v) {
            xml_escape(&t, out);
        }
        out.push_str("</");
        out.push_str(name);
        out.push('>');
        return;
    };
    let mut text = None;
    for (k, v) in map {
        if k == "value" {
            text = scalar_text(v);
        } else if let Some(t) = scalar_text(v) {
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            xml_escape(&t, out);
            out.push('"');
        }
    }
    let children: Vec<(&String, &Value)> = map
        .iter()
        .filter(|(_, v)| v.is_object() || v.is_array())
        .collect();
    if children.is_empty() && text.is_none() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    if let Some(t) = text {
        xml_escape(&t, out);
    }
    for (k, v) in children {
        match v {
            Value::Array(items) => {
                for item in items {
                    xml_element(k, item, out);
                }
            }
            v => xml_element(k, v, out),
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn respond(format: &Format, status: &str, body: Map<String, Value>) -> HttpResponse {
    let whole = envelope(status, body);
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CACHE_CONTROL, "private, no-store"));
    match format {
        Format::Xml => {
            let mut out = String::from(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
            let mut root = whole;
            root.insert("xmlns".into(), json!("http://subsonic.org/restapi"));
            xml_element("subsonic-response", &Value::Object(root), &mut out);
            res.content_type("text/xml; charset=utf-8").body(out)
        }
        Format::Json => res
            .content_type("application/json")
            .body(json!({ "subsonic-response": whole }).to_string()),
        Format::Jsonp(cb) => res
            .content_type("text/javascript")
            .body(format!("{cb}({});", json!({ "subsonic-response": whole }))),
    }
}

fn fail(format: &Format, f: &Failure) -> HttpResponse {
    let mut body = Map::new();
    body.insert(
        "error".into(),
        json!({ "code": f.0 as i64, "message": f.1 }),
    );
    respond(format, "failed", body)
}

/// Reads the query string and, for a form POST, the body (at most `MAX_BODY`).
async fn params(req: &HttpRequest, mut payload: web::Payload) -> Result<Params, Failure> {
    let bad = || Failure(Code::Generic, "Malformed parameters".into());
    let mut all: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).map_err(|_| bad())?;
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if req.method() == actix_web::http::Method::POST && is_form {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| bad())?;
            if body.len() + chunk.len() > MAX_BODY {
                return Err(Failure(Code::Generic, "Request too large".into()));
            }
            body.extend_from_slice(&chunk);
        }
        let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(|_| bad())?;
        all.extend(form);
    }
    Ok(Params(all))
}

/// `p`'s `enc:` form is the password's UTF-8 bytes in hex.
fn decode_password(p: &str) -> Option<String> {
    let Some(hex) = p.strip_prefix("enc:") else {
        return Some(p.to_owned());
    };
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// Who is calling: checks `apiKey`, or `u` with `p` or `t`+`s`, against the account's
/// Subsonic app passwords; a failure counts against the login limits.
async fn authenticate(
    state: &AppState,
    ctx: &Ctx,
    req: &HttpRequest,
    p: &Params,
) -> Result<User, Failure> {
    let (login, proof) = match (p.get("apiKey"), p.get("u")) {
        (Some(_), Some(_)) => {
            return Err(Failure(
                Code::ConflictingAuth,
                "Multiple conflicting authentication mechanisms provided".into(),
            ));
        }
        (Some(key), None) => (None, Proof::ApiKey(key.to_owned())),
        (None, Some(u)) => {
            let proof = match (p.get("p"), p.get("t"), p.get("s")) {
                (Some(pw), _, _) => Proof::Password(decode_password(pw).unwrap_or_default()),
                (None, Some(t), Some(s)) => Proof::Token {
                    token: t.to_owned(),
                    salt: s.to_owned(),
                },
                (None, Some(_), None) => return Err(Failure::missing("s")),
                _ => return Err(Failure::missing("p")),
            };
            (Some(u.to_owned()), proof)
        }
        (None, None) => return Err(Failure::missing("u")),
    };
    let api_key = matches!(proof, Proof::ApiKey(_));
    let client = p
        .get("c")
        .map(str::to_owned)
        .or_else(|| {
            req.headers()
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    match app_passwords::check(
        &state.core,
        login,
        proof,
        ctx.ip_key(),
        client,
        AppPasswordScope::Subsonic,
    )
    .await
    {
        Ok(Ok(user)) => Ok(user),
        Ok(Err(Refused::Wrong)) if api_key => {
            Err(Failure(Code::InvalidApiKey, "Invalid API key".into()))
        }
        Ok(Err(Refused::Wrong)) => Err(Failure(
            Code::WrongCredentials,
            "Wrong username or password (use a music app password from your profile page)".into(),
        )),
        Ok(Err(Refused::Limited)) => Err(Failure(
            Code::Generic,
            "Too many failed sign-ins; try again later".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// `GET`/`POST /rest/{method}` (with or without `.view`).
pub async fn serve(
    state: web::Data<AppState>,
    ctx: Ctx,
    req: HttpRequest,
    method: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let method = method.into_inner();
    let method = method.strip_suffix(".view").unwrap_or(&method).to_owned();
    let p = match params(&req, payload).await {
        Ok(p) => p,
        Err(f) => return fail(&Format::Xml, &f),
    };
    let format = Format::of(&p);
    if method == "getOpenSubsonicExtensions" {
        // OpenSubsonic: answered without credentials, so an app can learn what it may use.
        return respond(&format, "ok", extensions());
    }
    let user = match authenticate(&state, &ctx, &req, &p).await {
        Ok(u) => u,
        Err(f) => return fail(&format, &f),
    };
    let call = Call {
        state: &state,
        actor: Actor::from(&user),
        user: &user,
        p: &p,
        req: &req,
    };
    match call.run(&method).await {
        Ok(Answer::Body(body)) => respond(&format, "ok", body),
        Ok(Answer::Raw(res)) => res,
        Err(f) => fail(&format, &f),
    }
}

/// What a method answers: a `subsonic-response` body, or bytes (songs, pictures).
enum Answer {
    Body(Map<String, Value>),
    Raw(HttpResponse),
}

fn body(key: &str, v: Value) -> Answer {
    let mut m = Map::new();
    m.insert(key.into(), v);
    Answer::Body(m)
}

/// The element of an always-empty answer for a method about something Yui does not keep.
fn nothing_kept(method: &str) -> Option<&'static str> {
    Some(match method {
        "getArtistInfo" => "artistInfo",
        "getArtistInfo2" => "artistInfo2",
        "getAlbumInfo" | "getAlbumInfo2" => "albumInfo",
        "getSimilarSongs" => "similarSongs",
        "getSimilarSongs2" => "similarSongs2",
        "getTopSongs" => "topSongs",
        "getNowPlaying" => "nowPlaying",
        "getPodcasts" => "podcasts",
        "getNewestPodcasts" => "newestPodcasts",
        "getInternetRadioStations" => "internetRadioStations",
        "getShares" => "shares",
        "getBookmarks" => "bookmarks",
        "getPlayQueue" => "playQueue",
        "getLyrics" => "lyrics",
        _ => return None,
    })
}

/// The `OpenSubsonic` extensions served.
fn extensions() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "openSubsonicExtensions".into(),
        json!([
            { "name": "apiKeyAuthentication", "versions": [1] },
            { "name": "formPost", "versions": [1] },
        ]),
    );
    m
}

fn empty() -> Answer {
    Answer::Body(Map::new())
}

fn iso(t: NaiveDateTime) -> String {
    t.and_utc().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Inserts `key: value` when there is a value.
fn opt<T: Into<Value>>(m: &mut Map<String, Value>, key: &str, v: Option<T>) {
    if let Some(v) = v {
        m.insert(key.into(), v.into());
    }
}

fn song_json(l: &Library, s: &Song) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(format!("s{}", s.id)));
    m.insert("parent".into(), json!(format!("d{}", s.folder_id)));
    m.insert("isDir".into(), json!(false));
    m.insert("title".into(), json!(s.title));
    m.insert("album".into(), json!(s.album));
    m.insert("artist".into(), json!(s.artist));
    opt(&mut m, "track", s.track);
    opt(&mut m, "year", s.year);
    opt(&mut m, "genre", s.genre.clone());
    if s.has_picture {
        m.insert("coverArt".into(), json!(format!("s{}", s.id)));
    }
    m.insert("size".into(), json!(s.size));
    m.insert("contentType".into(), json!(s.content_type));
    m.insert("suffix".into(), json!(s.suffix));
    m.insert("duration".into(), json!(s.duration));
    opt(&mut m, "bitRate", s.bitrate);
    m.insert("path".into(), json!(s.path));
    opt(&mut m, "discNumber", s.disc);
    m.insert("created".into(), json!(iso(s.created)));
    m.insert("albumId".into(), json!(s.album_id));
    m.insert("artistId".into(), json!(s.artist_id));
    m.insert("type".into(), json!("music"));
    m.insert("mediaType".into(), json!("song"));
    m.insert("isVideo".into(), json!(false));
    opt(&mut m, "starred", l.starred(&format!("s{}", s.id)).map(iso));
    Value::Object(m)
}

fn dir_json(d: &Dir) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(format!("d{}", d.id)));
    opt(&mut m, "parent", d.parent.map(|p| format!("d{p}")));
    m.insert("isDir".into(), json!(true));
    m.insert("title".into(), json!(d.name));
    m.insert("created".into(), json!(iso(d.created)));
    Value::Object(m)
}

fn album_json(l: &Library, a: &Album) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(a.id));
    m.insert("name".into(), json!(a.name));
    m.insert("title".into(), json!(a.name));
    m.insert("artist".into(), json!(a.artist));
    m.insert("artistId".into(), json!(a.artist_id));
    opt(&mut m, "coverArt", a.cover.map(|c| format!("s{c}")));
    m.insert("songCount".into(), json!(a.songs.len()));
    m.insert("duration".into(), json!(a.duration));
    m.insert("created".into(), json!(iso(a.created)));
    opt(&mut m, "year", a.year);
    opt(&mut m, "genre", a.genre.clone());
    opt(&mut m, "starred", l.starred(&a.id).map(iso));
    m
}

fn artist_json(l: &Library, a: &Artist) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(a.id));
    m.insert("name".into(), json!(a.name));
    m.insert("albumCount".into(), json!(a.albums.len()));
    opt(&mut m, "coverArt", a.cover.map(|c| format!("s{c}")));
    opt(&mut m, "starred", l.starred(&a.id).map(iso));
    m
}

/// The index letter of a name: its first letter in upper case, `#` for anything else.
fn index_letter(name: &str) -> String {
    match name.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => c.to_ascii_uppercase().to_string(),
        _ => "#".into(),
    }
}

/// Groups `(name, entry)` pairs under their index letters, in order.
fn indexed(items: Vec<(String, Value)>) -> Vec<Value> {
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    let mut sorted = items;
    sorted.sort_by(|a, b| {
        (index_letter(&a.0), a.0.to_lowercase()).cmp(&(index_letter(&b.0), b.0.to_lowercase()))
    });
    for (name, v) in sorted {
        let letter = index_letter(&name);
        match groups.last_mut() {
            Some((l, list)) if *l == letter => list.push(v),
            _ => groups.push((letter, vec![v])),
        }
    }
    groups
        .into_iter()
        .map(|(name, artist)| json!({ "name": name, "artist": artist }))
        .collect()
}

fn page<T: Clone>(items: &[T], offset: usize, size: usize) -> Vec<T> {
    items
        .iter()
        .skip(offset)
        .take(size.min(MAX_PAGE))
        .cloned()
        .collect()
}

/// One authenticated call.
struct Call<'a> {
    state: &'a AppState,
    actor: Actor,
    user: &'a User,
    p: &'a Params,
    req: &'a HttpRequest,
}

impl Call<'_> {
    async fn library(&self) -> Result<std::sync::Arc<Library>, Failure> {
        Ok(lib::library(&self.state.core, &self.actor).await?)
    }

    #[expect(
        clippy::too_many_lines,
        reason = "one arm per API method: the dispatch table"
    )]
    async fn run(&self, method: &str) -> Result<Answer, Failure> {
        match method {
            "ping" => Ok(empty()),
            "getLicense" => Ok(body(
                "license",
                json!({ "valid": true, "email": "", "licenseExpires": "2099-12-31T00:00:00.000Z" }),
            )),
            "getUser" => self.get_user().await,
            "getScanStatus" => {
                let l = self.library().await?;
                Ok(body(
                    "scanStatus",
                    json!({ "scanning": false, "count": l.songs.len() }),
                ))
            }
            "getMusicFolders" => {
                let l = self.library().await?;
                let list: Vec<Value> = l
                    .folders
                    .iter()
                    .map(|f| json!({ "id": f.id, "name": f.name }))
                    .collect();
                Ok(body("musicFolders", json!({ "musicFolder": list })))
            }
            "getIndexes" => self.get_indexes().await,
            "getMusicDirectory" => self.get_music_directory().await,
            "getArtists" => self.get_artists().await,
            "getArtist" => self.get_artist().await,
            "getAlbum" => self.get_album().await,
            "getSong" => {
                let id = self.p.require("id")?;
                let l = self.library().await?;
                let s = l.song(id).ok_or_else(|| Failure::not_found("Song"))?;
                Ok(body("song", song_json(&l, s)))
            }
            "getAlbumList2" | "getAlbumList" => self.get_album_list(method).await,
            "search3" | "search2" => self.search(method).await,
            "getRandomSongs" => self.get_random_songs().await,
            "getGenres" => {
                let l = self.library().await?;
                let list: Vec<Value> = l
                    .genres()
                    .into_iter()
                    .map(|(g, songs, albums)| {
                        json!({ "value": g, "songCount": songs, "albumCount": albums })
                    })
                    .collect();
                Ok(body("genres", json!({ "genre": list })))
            }
            "getSongsByGenre" => {
                let genre = self.p.require("genre")?;
                let l = self.library().await?;
                let songs: Vec<Value> = l
                    .songs_in(self.p.int("musicFolderId"))
                    .filter(|(_, s)| s.genre.as_deref() == Some(genre))
                    .map(|(_, s)| song_json(&l, s))
                    .collect();
                let songs = page(
                    &songs,
                    self.p.number("offset", 0),
                    self.p.number("count", 10),
                );
                Ok(body("songsByGenre", json!({ "song": songs })))
            }
            "stream" | "download" => self.stream().await,
            "getCoverArt" => self.cover_art().await,
            "star" | "unstar" => {
                let mut items = self.p.all("id");
                items.extend(self.p.all("albumId"));
                items.extend(self.p.all("artistId"));
                if items.is_empty() {
                    return Err(Failure::missing("id"));
                }
                lib::set_stars(&self.state.core, &self.actor, items, method == "star").await?;
                Ok(empty())
            }
            "getStarred2" | "getStarred" => self.get_starred(method).await,
            "getPlaylists" => {
                let l = self.library().await?;
                let lists = lib::playlists(&self.state.core, &self.actor, &self.user.login, &l)
                    .await?
                    .iter()
                    .map(|p| Value::Object(playlist_json(&l, p)))
                    .collect::<Vec<_>>();
                Ok(body("playlists", json!({ "playlist": lists })))
            }
            "getPlaylist" => {
                let id = self
                    .p
                    .require("id")?
                    .parse::<i64>()
                    .map_err(|_| Failure::not_found("Playlist"))?;
                self.playlist_answer(id).await
            }
            "createPlaylist" => self.create_playlist().await,
            "updatePlaylist" => self.update_playlist().await,
            "deletePlaylist" => {
                let id = self
                    .p
                    .require("id")?
                    .parse::<i64>()
                    .map_err(|_| Failure::not_found("Playlist"))?;
                lib::delete_playlist(&self.state.core, &self.actor, id).await?;
                Ok(empty())
            }
            // Plays are accepted; Yui keeps no listening history.
            "scrobble" => {
                self.p.require("id")?;
                Ok(empty())
            }
            // What Yui does not keep (podcasts, radio, shares, bookmarks, play queues, lyrics,
            // artist and album notes): an empty answer, which apps show as "nothing yet",
            // rather than an error they report.
            other if nothing_kept(other).is_some() => {
                Ok(body(nothing_kept(other).unwrap_or_default(), json!({})))
            }
            other => Err(Failure(
                Code::Generic,
                format!(
                    "Unknown method: {}",
                    other.chars().take(60).collect::<String>()
                ),
            )),
        }
    }

    async fn get_user(&self) -> Result<Answer, Failure> {
        let name = self.p.get("username").unwrap_or(&self.user.login);
        if name != self.user.login {
            return Err(Failure(Code::NotAuthorized, "Not authorized".into()));
        }
        let l = self.library().await?;
        let folders: Vec<i64> = l.folders.iter().map(|f| f.id).collect();
        Ok(body(
            "user",
            json!({
                "username": self.user.login,
                "email": "",
                "scrobblingEnabled": true,
                "adminRole": false,
                "settingsRole": false,
                "downloadRole": true,
                "uploadRole": false,
                "playlistRole": true,
                "coverArtRole": true,
                "commentRole": false,
                "podcastRole": false,
                "streamRole": true,
                "jukeboxRole": false,
                "shareRole": false,
                "videoConversionRole": false,
                "folder": folders,
            }),
        ))
    }

    async fn get_indexes(&self) -> Result<Answer, Failure> {
        let l = self.library().await?;
        let only = self.p.int("musicFolderId");
        let mut entries = Vec::new();
        let mut children = Vec::new();
        for f in l.folders.iter().filter(|f| only.is_none_or(|o| o == f.id)) {
            let (dirs, songs) = l.children(f.root);
            for d in dirs {
                entries.push((
                    d.name.clone(),
                    json!({ "id": format!("d{}", d.id), "name": d.name }),
                ));
            }
            children.extend(songs.into_iter().map(|s| song_json(&l, s)));
        }
        let last = l.songs.iter().map(|s| s.created).max();
        Ok(body(
            "indexes",
            json!({
                "lastModified": last.map_or(0, |t| t.and_utc().timestamp_millis()),
                "ignoredArticles": "",
                "index": indexed(entries),
                "child": children,
            }),
        ))
    }

    async fn get_music_directory(&self) -> Result<Answer, Failure> {
        let id = self.p.require("id")?;
        let l = self.library().await?;
        let dir = lib::dir_id(id)
            .and_then(|d| l.dirs.get(&d))
            .filter(|d| l.folders.iter().any(|f| f.id == d.room_id))
            .ok_or_else(|| Failure::not_found("Directory"))?;
        let (dirs, songs) = l.children(dir.id);
        let mut child: Vec<Value> = dirs.into_iter().map(dir_json).collect();
        child.extend(songs.into_iter().map(|s| song_json(&l, s)));
        let mut m = Map::new();
        m.insert("id".into(), json!(format!("d{}", dir.id)));
        opt(&mut m, "parent", dir.parent.map(|p| format!("d{p}")));
        m.insert("name".into(), json!(dir.name));
        m.insert("child".into(), Value::Array(child));
        Ok(body("directory", Value::Object(m)))
    }

    async fn get_artists(&self) -> Result<Answer, Failure> {
        let l = self.library().await?;
        let only = self.p.int("musicFolderId");
        let entries = l
            .artists
            .iter()
            .filter(|a| {
                only.is_none_or(|o| {
                    a.albums
                        .iter()
                        .any(|&i| l.albums[i].songs.iter().any(|&s| l.songs[s].room_id == o))
                })
            })
            .map(|a| (a.name.clone(), Value::Object(artist_json(&l, a))))
            .collect();
        Ok(body(
            "artists",
            json!({ "ignoredArticles": "", "index": indexed(entries) }),
        ))
    }

    async fn get_artist(&self) -> Result<Answer, Failure> {
        let id = self.p.require("id")?;
        let l = self.library().await?;
        let a = l.artist(id).ok_or_else(|| Failure::not_found("Artist"))?;
        let mut m = artist_json(&l, a);
        let albums: Vec<Value> = a
            .albums
            .iter()
            .map(|&i| Value::Object(album_json(&l, &l.albums[i])))
            .collect();
        m.insert("album".into(), Value::Array(albums));
        Ok(body("artist", Value::Object(m)))
    }

    async fn get_album(&self) -> Result<Answer, Failure> {
        let id = self.p.require("id")?;
        let l = self.library().await?;
        let a = l.album(id).ok_or_else(|| Failure::not_found("Album"))?;
        let mut m = album_json(&l, a);
        let songs: Vec<Value> = a
            .songs
            .iter()
            .map(|&i| song_json(&l, &l.songs[i]))
            .collect();
        m.insert("song".into(), Value::Array(songs));
        Ok(body("album", Value::Object(m)))
    }

    async fn get_album_list(&self, method: &str) -> Result<Answer, Failure> {
        let kind = self.p.require("type")?.to_owned();
        let l = self.library().await?;
        let only = self.p.int("musicFolderId");
        let mut albums: Vec<&Album> = l
            .albums
            .iter()
            .filter(|a| only.is_none_or(|o| a.songs.iter().any(|&s| l.songs[s].room_id == o)))
            .collect();
        match kind.as_str() {
            "random" => {
                use rand::seq::SliceRandom as _;
                albums.shuffle(&mut rand::rng());
            }
            "newest" | "recent" => albums.sort_by_key(|a| std::cmp::Reverse(a.created)),
            "alphabeticalByName" => {}
            "alphabeticalByArtist" => albums.sort_by(|a, b| {
                (a.artist.to_lowercase(), a.name.to_lowercase())
                    .cmp(&(b.artist.to_lowercase(), b.name.to_lowercase()))
            }),
            "byGenre" => {
                let genre = self.p.require("genre")?;
                albums.retain(|a| a.genre.as_deref() == Some(genre));
            }
            "byYear" => {
                let from = self.p.int("fromYear").unwrap_or(0);
                let to = self.p.int("toYear").unwrap_or(9999);
                let (lo, hi) = (from.min(to), from.max(to));
                albums.retain(|a| a.year.is_some_and(|y| (lo..=hi).contains(&y)));
                albums.sort_by_key(|a| a.year);
                if from > to {
                    albums.reverse();
                }
            }
            "starred" => albums.retain(|a| l.starred(&a.id).is_some()),
            // Yui keeps no play counts or ratings.
            "frequent" | "highest" => albums.clear(),
            _ => return Err(Failure(Code::Generic, format!("Unknown list type: {kind}"))),
        }
        let list: Vec<Value> = page(
            &albums,
            self.p.number("offset", 0),
            self.p.number("size", 10),
        )
        .into_iter()
        .map(|a| {
            let mut m = album_json(&l, a);
            if method == "getAlbumList" {
                // The folder-based list names albums as directories.
                m.insert("isDir".into(), json!(true));
                m.insert("parent".into(), json!(a.artist_id));
            }
            Value::Object(m)
        })
        .collect();
        let key = if method == "getAlbumList" {
            "albumList"
        } else {
            "albumList2"
        };
        Ok(body(key, json!({ "album": list })))
    }

    async fn search(&self, method: &str) -> Result<Answer, Failure> {
        let raw = self.p.get("query").unwrap_or("");
        // Some apps send `""` for "everything".
        let q = raw.trim().trim_matches('"').trim().to_lowercase();
        let l = self.library().await?;
        let only = self.p.int("musicFolderId");
        let hit = |s: &str| q.is_empty() || s.to_lowercase().contains(&q);
        let p = self.p;
        // Each list is paged before it is written out: an empty query pages through everything.
        let artists: Vec<Value> = l
            .artists
            .iter()
            .filter(|a| hit(&a.name))
            .filter(|a| {
                only.is_none_or(|o| {
                    a.albums
                        .iter()
                        .any(|&i| l.albums[i].songs.iter().any(|&s| l.songs[s].room_id == o))
                })
            })
            .skip(p.number("artistOffset", 0))
            .take(p.number("artistCount", 20).min(MAX_PAGE))
            .map(|a| Value::Object(artist_json(&l, a)))
            .collect();
        let albums: Vec<Value> = l
            .albums
            .iter()
            .filter(|a| hit(&a.name) || hit(&a.artist))
            .filter(|a| only.is_none_or(|o| a.songs.iter().any(|&s| l.songs[s].room_id == o)))
            .skip(p.number("albumOffset", 0))
            .take(p.number("albumCount", 20).min(MAX_PAGE))
            .map(|a| Value::Object(album_json(&l, a)))
            .collect();
        let songs: Vec<Value> = l
            .songs_in(only)
            .filter(|(_, s)| hit(&s.title) || hit(&s.artist) || hit(&s.album) || hit(&s.name))
            .skip(p.number("songOffset", 0))
            .take(p.number("songCount", 20).min(MAX_PAGE))
            .map(|(_, s)| song_json(&l, s))
            .collect();
        let key = if method == "search2" {
            "searchResult2"
        } else {
            "searchResult3"
        };
        Ok(body(
            key,
            json!({
                "artist": artists,
                "album": albums,
                "song": songs,
            }),
        ))
    }

    async fn get_random_songs(&self) -> Result<Answer, Failure> {
        use rand::seq::SliceRandom as _;
        let l = self.library().await?;
        let genre = self.p.get("genre");
        let from = self.p.int("fromYear");
        let to = self.p.int("toYear");
        let mut songs: Vec<&Song> = l
            .songs_in(self.p.int("musicFolderId"))
            .map(|(_, s)| s)
            .filter(|s| genre.is_none_or(|g| s.genre.as_deref() == Some(g)))
            .filter(|s| from.is_none_or(|f| s.year.is_some_and(|y| y >= f)))
            .filter(|s| to.is_none_or(|t| s.year.is_some_and(|y| y <= t)))
            .collect();
        songs.shuffle(&mut rand::rng());
        let list: Vec<Value> = songs
            .into_iter()
            .take(self.p.number("size", 10).min(MAX_PAGE))
            .map(|s| song_json(&l, s))
            .collect();
        Ok(body("randomSongs", json!({ "song": list })))
    }

    async fn get_starred(&self, method: &str) -> Result<Answer, Failure> {
        let l = self.library().await?;
        let artists: Vec<Value> = l
            .artists
            .iter()
            .filter(|a| l.starred(&a.id).is_some())
            .map(|a| Value::Object(artist_json(&l, a)))
            .collect();
        let albums: Vec<Value> = l
            .albums
            .iter()
            .filter(|a| l.starred(&a.id).is_some())
            .map(|a| Value::Object(album_json(&l, a)))
            .collect();
        let songs: Vec<Value> = l
            .songs
            .iter()
            .filter(|s| l.starred(&format!("s{}", s.id)).is_some())
            .map(|s| song_json(&l, s))
            .collect();
        let key = if method == "getStarred" {
            "starred"
        } else {
            "starred2"
        };
        Ok(body(
            key,
            json!({ "artist": artists, "album": albums, "song": songs }),
        ))
    }

    /// The song (or the cover's song of an album or artist) an id names.
    fn picture_song(l: &Library, id: &str) -> Option<String> {
        if l.song(id).is_some() {
            return Some(id.to_owned());
        }
        l.album(id)
            .and_then(|a| a.cover)
            .or_else(|| l.artist(id).and_then(|a| a.cover))
            .map(|s| format!("s{s}"))
    }

    async fn stream(&self) -> Result<Answer, Failure> {
        let id = self.p.require("id")?;
        let d = lib::open_song(&self.state.core, &self.actor, id).await?;
        // No transcoding: the stored bytes, with ranges (seeking) as the cabinet serves them.
        let res = super::files::send_blob(self.req, d, true).await?;
        Ok(Answer::Raw(res))
    }

    async fn cover_art(&self) -> Result<Answer, Failure> {
        let id = self.p.require("id")?;
        let l = self.library().await?;
        let song = Self::picture_song(&l, id).ok_or_else(|| Failure::not_found("Cover art"))?;
        let d = lib::open_song(&self.state.core, &self.actor, &song).await?;
        let etag = format!("\"{}-cover\"", d.sha256);
        if self
            .req
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == etag)
        {
            return Ok(Answer::Raw(
                HttpResponse::NotModified()
                    .insert_header((header::ETAG, etag))
                    .finish(),
            ));
        }
        let path = d.path.clone();
        let pic = web::block(move || crate::files::audio::embedded_picture(&path))
            .await
            .map_err(|e| Failure::from(AppError::Internal(anyhow::anyhow!("{e}"))))?
            .ok_or_else(|| Failure::not_found("Cover art"))?;
        let (bytes, mime) = pic;
        // Only raster images are sent as what they say they are.
        let mime = if matches!(
            mime.as_str(),
            "image/jpeg" | "image/png" | "image/gif" | "image/webp" | "image/bmp"
        ) {
            mime
        } else {
            "application/octet-stream".into()
        };
        Ok(Answer::Raw(
            HttpResponse::Ok()
                .content_type(mime)
                .insert_header((header::ETAG, etag))
                .insert_header((header::CACHE_CONTROL, "private, max-age=86400"))
                .insert_header((
                    header::CONTENT_SECURITY_POLICY,
                    "sandbox; default-src 'none'",
                ))
                .body(bytes),
        ))
    }

    async fn playlist_answer(&self, id: i64) -> Result<Answer, Failure> {
        let l = self.library().await?;
        let p = lib::playlist(&self.state.core, &self.actor, &self.user.login, &l, id).await?;
        let mut m = playlist_json(&l, &p);
        let entries: Vec<Value> = p
            .songs
            .iter()
            .map(|&i| song_json(&l, &l.songs[i]))
            .collect();
        m.insert("entry".into(), Value::Array(entries));
        Ok(body("playlist", Value::Object(m)))
    }

    async fn create_playlist(&self) -> Result<Answer, Failure> {
        let existing = self.p.int("playlistId");
        let name = self.p.get("name").map(str::to_owned);
        if existing.is_none() && name.is_none() {
            return Err(Failure::missing("name"));
        }
        let l = self.library().await?;
        let change = lib::PlaylistChange {
            name,
            replace: Some(self.p.all("songId")),
            ..lib::PlaylistChange::default()
        };
        let id = lib::save_playlist(&self.state.core, &self.actor, &l, existing, change).await?;
        self.playlist_answer(id).await
    }

    async fn update_playlist(&self) -> Result<Answer, Failure> {
        let id = self
            .p
            .require("playlistId")?
            .parse::<i64>()
            .map_err(|_| Failure::not_found("Playlist"))?;
        let l = self.library().await?;
        let change = lib::PlaylistChange {
            name: self.p.get("name").map(str::to_owned),
            comment: self.p.get("comment").map(str::to_owned),
            replace: None,
            add: self.p.all("songIdToAdd"),
            remove: self
                .p
                .all("songIndexToRemove")
                .iter()
                .filter_map(|i| i.parse().ok())
                .collect(),
        };
        lib::save_playlist(&self.state.core, &self.actor, &l, Some(id), change).await?;
        Ok(empty())
    }
}

fn playlist_json(l: &Library, p: &lib::PlaylistView) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(p.id.to_string()));
    m.insert("name".into(), json!(p.name));
    m.insert("comment".into(), json!(p.comment));
    m.insert("owner".into(), json!(p.owner));
    m.insert("public".into(), json!(false));
    m.insert("songCount".into(), json!(p.songs.len()));
    let duration: i64 = p.songs.iter().map(|&i| l.songs[i].duration).sum();
    m.insert("duration".into(), json!(duration));
    m.insert("created".into(), json!(iso(p.created)));
    m.insert("changed".into(), json!(iso(p.changed)));
    opt(
        &mut m,
        "coverArt",
        p.songs
            .iter()
            .find(|&&i| l.songs[i].has_picture)
            .map(|&i| format!("s{}", l.songs[i].id)),
    );
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_puts_scalars_in_attributes_and_lists_as_repeated_elements() {
        let mut out = String::new();
        xml_element(
            "r",
            &json!({ "a": "x&\"y", "n": 3, "child": [{ "id": 1 }, { "id": 2 }], "genre": { "value": "ロック", "songCount": 1 } }),
            &mut out,
        );
        assert_eq!(
            out,
            r#"<r a="x&amp;&quot;y" n="3"><child id="1"/><child id="2"/><genre songCount="1">ロック</genre></r>"#
        );
    }

    #[test]
    fn enc_passwords_are_hex_utf8() {
        assert_eq!(
            decode_password("enc:736563726574").as_deref(),
            Some("secret")
        );
        assert_eq!(decode_password("plain").as_deref(), Some("plain"));
        assert_eq!(decode_password("enc:7"), None);
        assert_eq!(decode_password("enc:zz"), None);
    }
}
