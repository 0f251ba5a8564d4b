//! The Subsonic API at `/rest/` (issue #14): every way of signing in with a music app password
//! (and the ways that must fail: a wrong token, the login password, a WebDAV password, a revoked
//! one), the XML and JSON shapes of the main calls, songs only from cabinets one may read (a room
//! one is not in does not exist, ids guessed or not), streaming with exact ranges, stars and
//! playlists that never show what one can no longer read.

use diesel::prelude::*;
use md5::Digest as _;
use serde_json::Value;
use yui::db::schema::audio_meta;
use yui::sample_audio::{ToneTags, tone_wav};

use crate::app_passwords::make_app_password;
use crate::files::{Cabinet, cabinet_with, files_of};
use crate::support::*;

/// A tiny PNG (1×1), the cover embedded in tagged songs.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// A WAV tone with RIFF INFO tags, plus an `ID3v2` tag (genre, year, cover) written by lofty.
fn tagged_song(freq: f32, title: &str, artist: &str, album: &str, track: u32) -> Vec<u8> {
    use lofty::config::WriteOptions;
    use lofty::picture::{MimeType, Picture, PictureType};
    use lofty::tag::{Accessor, Tag, TagExt, TagType};
    let wav = tone_wav(
        freq,
        1,
        ToneTags {
            title,
            artist,
            album,
            track,
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("song.wav");
    std::fs::write(&path, &wav).unwrap();
    let mut tag = Tag::new(TagType::Id3v2);
    tag.set_title(title.to_owned());
    tag.set_artist(artist.to_owned());
    tag.set_album(album.to_owned());
    tag.set_track(track);
    tag.set_genre("合唱".to_owned());
    tag.set_year(2026);
    tag.push_picture(Picture::new_unchecked(
        PictureType::CoverFront,
        Some(MimeType::Png),
        None,
        PNG.to_vec(),
    ));
    tag.save_to_path(&path, WriteOptions::default()).unwrap();
    std::fs::read(&path).unwrap()
}

/// A WAV tone whose tags are empty (names stand in).
fn untagged_song() -> Vec<u8> {
    tone_wav(
        330.0,
        1,
        ToneTags {
            title: "",
            artist: "",
            album: "",
            track: 0,
        },
    )
}

fn with_query(app: &TestApp, path: &str, q: &[(&str, &str)]) -> String {
    format!(
        "{}?{}",
        app.url(path),
        serde_urlencoded::to_string(q).unwrap()
    )
}

fn md5_hex(s: &str) -> String {
    hex(&md5::Md5::digest(s.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        write!(s, "{b:02x}").unwrap();
        s
    })
}

/// A Subsonic client of `login` with an app password.
struct Sub<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    login: String,
    secret: String,
}

impl Sub<'_> {
    /// Calls `method` with `u`+`p` and `params`; the raw response.
    async fn call(&self, method: &str, params: &[(&str, &str)]) -> reqwest::Response {
        let mut q: Vec<(&str, &str)> = vec![
            ("u", &self.login),
            ("p", &self.secret),
            ("v", "1.16.1"),
            ("c", "yui-test"),
        ];
        q.extend_from_slice(params);
        self.http
            .get(with_query(self.app, &format!("/rest/{method}"), &q))
            .send()
            .await
            .unwrap()
    }

    /// `f=json`: the `subsonic-response` object.
    async fn json(&self, method: &str, params: &[(&str, &str)]) -> Value {
        let mut p = params.to_vec();
        p.push(("f", "json"));
        let res = self.call(method, &p).await;
        assert_eq!(res.status(), 200);
        let v: Value = res.json().await.unwrap();
        v["subsonic-response"].clone()
    }

    /// `f=json`, which must succeed.
    async fn ok(&self, method: &str, params: &[(&str, &str)]) -> Value {
        let v = self.json(method, params).await;
        assert_eq!(v["status"], "ok", "{method}: {v}");
        v
    }

    /// `f=json`, which must fail with `code`.
    async fn fails(&self, method: &str, params: &[(&str, &str)], code: i64) {
        let v = self.json(method, params).await;
        assert_eq!(v["status"], "failed", "{method} {params:?}: {v}");
        assert_eq!(v["error"]["code"], code, "{method} {params:?}: {v}");
    }
}

/// Makes a music app password for the signed-in `c`.
async fn music_password(app: &TestApp, c: &reqwest::Client, name: &str) -> String {
    let res = app
        .post_form(
            c,
            "/me",
            "/me/app-passwords",
            &[
                ("name", name),
                ("scope", "subsonic"),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    let marker = "id=\"new-app-password\">";
    let start = page.find(marker).unwrap() + marker.len();
    let end = page[start..].find('<').unwrap() + start;
    page[start..end].to_owned()
}

/// The cabinet `cab` (hanako a member) with two tagged songs of one album and an untagged one
/// named in Japanese; a closed room `other` (admin only) with one song; hanako's music client.
struct Music {
    c: Cabinet,
    other_song: i64,
}

async fn music() -> Music {
    let c = cabinet_with(Options::default(), 10).await;
    let res = c
        .app
        .upload_form(
            &c.hanako,
            "cab",
            0,
            &[
                (
                    "01 朝.wav",
                    tagged_song(440.0, "朝の歌", "結 合唱団", "四季", 1),
                ),
                (
                    "02 夜.wav",
                    tagged_song(550.0, "夜の歌", "結 合唱団", "四季", 2),
                ),
                ("ふるさと.wav", untagged_song()),
                ("メモ.txt", b"not a song".to_vec()),
            ],
        )
        .await;
    assert!(res.status().is_success() || res.status().is_redirection());
    c.app
        .room("other")
        .named("秘密の部屋")
        .closed()
        .quota_mb(10)
        .features(&["files"])
        .managed_by("admin")
        .create(&c.admin)
        .await;
    let res = c
        .app
        .upload_form(
            &c.admin,
            "other",
            0,
            &[("秘密.wav", tagged_song(660.0, "秘密", "誰か", "内緒", 1))],
        )
        .await;
    assert!(res.status().is_success() || res.status().is_redirection());
    let other_song = c.app.db(|conn| {
        use yui::db::schema::files;
        Ok(files::table
            .filter(files::name.eq("秘密.wav"))
            .select(files::id)
            .first::<i64>(conn)?)
    });
    Music { c, other_song }
}

async fn client(m: &Music) -> Sub<'_> {
    let secret = music_password(&m.c.app, &m.c.hanako, "phone").await;
    Sub {
        app: &m.c.app,
        http: reqwest::Client::new(),
        login: "hanako".into(),
        secret,
    }
}

fn song_ids(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|a| {
            a.iter()
                .map(|s| s["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[actix_web::test]
async fn subsonic_signs_in_only_with_a_live_music_app_password() {
    let m = music().await;
    let sub = client(&m).await;
    let app = &m.c.app;
    let http = reqwest::Client::new();
    let ping = |q: Vec<(&'static str, String)>| {
        let http = http.clone();
        let url = app.url("/rest/ping.view");
        async move {
            let mut q = q;
            q.push(("f", "json".into()));
            q.push(("v", "1.16.1".into()));
            q.push(("c", "test".into()));
            let url = format!("{url}?{}", serde_urlencoded::to_string(&q).unwrap());
            let v: Value = http.get(url).send().await.unwrap().json().await.unwrap();
            v["subsonic-response"].clone()
        }
    };
    let secret = sub.secret.clone();
    // Plain, `enc:` hex, token + salt, API key.
    let v = ping(vec![("u", "hanako".into()), ("p", secret.clone())]).await;
    assert_eq!(v["status"], "ok", "{v}");
    assert_eq!(v["version"], "1.16.1");
    assert_eq!(v["openSubsonic"], true);
    let hex = hex(secret.as_bytes());
    let v = ping(vec![("u", "hanako".into()), ("p", format!("enc:{hex}"))]).await;
    assert_eq!(v["status"], "ok", "{v}");
    let salt = "c19b2d";
    let token = md5_hex(&format!("{secret}{salt}"));
    let v = ping(vec![
        ("u", "hanako".into()),
        ("t", token.clone()),
        ("s", salt.into()),
    ])
    .await;
    assert_eq!(v["status"], "ok", "token: {v}");
    let v = ping(vec![("apiKey", secret.clone())]).await;
    assert_eq!(v["status"], "ok", "apiKey: {v}");
    // A wrong token, the wrong salt, the login password, a WebDAV password: 40.
    let bad_token = md5_hex(&format!("{secret}x{salt}"));
    for q in [
        vec![("u", "hanako".into()), ("t", bad_token), ("s", salt.into())],
        vec![
            ("u", "hanako".into()),
            ("t", token.clone()),
            ("s", "other".into()),
        ],
        vec![("u", "hanako".into()), ("p", PASSWORD.into())],
        vec![("u", "nobody".into()), ("p", secret.clone())],
    ] {
        let v = ping(q.clone()).await;
        assert_eq!(v["status"], "failed", "{q:?}: {v}");
        assert_eq!(v["error"]["code"], 40, "{q:?}: {v}");
    }
    let dav = make_app_password(app, &m.c.hanako, "drive").await;
    let v = ping(vec![("u", "hanako".into()), ("p", dav.clone())]).await;
    assert_eq!(
        v["error"]["code"], 40,
        "a WebDAV password opens no music: {v}"
    );
    let v = ping(vec![("apiKey", dav)]).await;
    assert_eq!(v["error"]["code"], 44, "{v}");
    // The music password's secret is kept sealed (never in clear), the drive's only hashed.
    let kept: Vec<(String, Option<String>)> = app.db(|conn| {
        use yui::db::schema::app_passwords;
        Ok(app_passwords::table
            .order(app_passwords::id)
            .select((app_passwords::scope, app_passwords::secret_sealed))
            .load(conn)?)
    });
    assert_eq!(kept.len(), 2);
    let sealed = kept[0].1.clone().unwrap();
    assert_eq!(kept[0].0, "subsonic");
    assert!(
        !sealed.contains(&secret) && sealed.len() > secret.len(),
        "{sealed}"
    );
    assert_eq!(kept[1], ("dav".to_owned(), None));
    let me =
        m.c.hanako
            .get(app.url("/me"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    assert!(
        me.contains("Subsonic") && me.contains(r#"value="subsonic""#),
        "/me offers music passwords"
    );
    // Missing or conflicting credentials.
    let v = ping(vec![]).await;
    assert_eq!(v["error"]["code"], 10, "{v}");
    let v = ping(vec![("u", "hanako".into())]).await;
    assert_eq!(v["error"]["code"], 10, "{v}");
    let v = ping(vec![("u", "hanako".into()), ("apiKey", secret.clone())]).await;
    assert_eq!(v["error"]["code"], 43, "{v}");
    // A signed-in browser's session cookie opens nothing here, GET or a cross-site POST.
    let res =
        m.c.hanako
            .get(app.url("/rest/ping?f=json"))
            .send()
            .await
            .unwrap();
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["subsonic-response"]["error"]["code"], 10, "{v}");
    let res =
        m.c.hanako
            .post(app.url("/rest/createPlaylist"))
            .header("Origin", "https://evil.example")
            .form(&[("name", "forged"), ("f", "json")])
            .send()
            .await
            .unwrap();
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["subsonic-response"]["error"]["code"], 10, "{v}");
    let lists: i64 = app.db(|conn| {
        use yui::db::schema::playlists;
        Ok(playlists::table.count().get_result(conn)?)
    });
    assert_eq!(lists, 0);
    // Failures count like failed logins.
    let failures: i64 = app.db(|conn| {
        use yui::db::schema::login_failures;
        Ok(login_failures::table.count().get_result(conn)?)
    });
    assert!(failures >= 6, "failures counted: {failures}");
    // Revoked: refused at once, by every mechanism.
    let id: i64 = app.db(|conn| {
        use yui::db::schema::app_passwords;
        Ok(app_passwords::table
            .filter(app_passwords::scope.eq("subsonic"))
            .select(app_passwords::id)
            .first(conn)?)
    });
    let res = app
        .post_form(
            &m.c.hanako,
            "/me",
            &format!("/me/app-passwords/{id}/revoke"),
            &[],
        )
        .await;
    assert!(res.status().is_success() || res.status().is_redirection());
    for q in [
        vec![("u", "hanako".into()), ("p", secret.clone())],
        vec![
            ("u", "hanako".into()),
            ("t", token.clone()),
            ("s", salt.into()),
        ],
    ] {
        let v = ping(q).await;
        assert_eq!(v["error"]["code"], 40, "revoked: {v}");
    }
    let v = ping(vec![("apiKey", secret.clone())]).await;
    assert_eq!(v["error"]["code"], 44, "revoked: {v}");
}

#[actix_web::test]
async fn subsonic_answers_xml_json_jsonp_and_form_posts_and_never_html() {
    let m = music().await;
    let sub = client(&m).await;
    // XML by default, with the namespace; both `ping` and `ping.view`.
    for method in ["ping", "ping.view"] {
        let res = sub.call(method, &[]).await;
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/xml")
        );
        let xml = res.text().await.unwrap();
        assert!(
            xml.contains(r"<subsonic-response ") && xml.contains(r#"status="ok""#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"xmlns="http://subsonic.org/restapi""#),
            "{xml}"
        );
    }
    let res = sub
        .call("ping", &[("f", "jsonp"), ("callback", "cb")])
        .await;
    let text = res.text().await.unwrap();
    assert!(text.starts_with("cb({\"subsonic-response\""), "{text}");
    // POST with a form body (OpenSubsonic formPost).
    let res = sub
        .http
        .post(m.c.app.url("/rest/getMusicFolders.view"))
        .form(&[
            ("u", "hanako"),
            ("p", sub.secret.as_str()),
            ("f", "json"),
            ("v", "1.16.1"),
            ("c", "test"),
        ])
        .send()
        .await
        .unwrap();
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["subsonic-response"]["status"], "ok", "{v}");
    // Unknown methods and failures: HTTP 200, status failed, never a page.
    let res = sub.call("noSuchMethod", &[]).await;
    assert_eq!(res.status(), 200);
    let xml = res.text().await.unwrap();
    assert!(
        xml.contains(r#"status="failed""#) && xml.contains(r#"code="0""#),
        "{xml}"
    );
    assert!(!xml.contains("<html"), "{xml}");
    sub.fails("getSong", &[], 10).await;
    let v = sub.ok("getPodcasts", &[]).await;
    assert!(v["podcasts"].is_object(), "{v}");
    // The extensions are public (OpenSubsonic), nothing else is.
    let v: Value = reqwest::Client::new()
        .get(m.c.app.url("/rest/getOpenSubsonicExtensions?f=json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = v["subsonic-response"]["openSubsonicExtensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["apiKeyAuthentication", "formPost"], "{v}");
    sub.fails("getSong", &[("id", "s999999")], 70).await;
    let res = reqwest::Client::new()
        .get(m.c.app.url("/rest/getSong.view?id=s1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let xml = res.text().await.unwrap();
    assert!(xml.contains(r#"code="10""#), "{xml}");
}

#[actix_web::test]
async fn subsonic_browses_searches_and_lists_the_readable_library() {
    let m = music().await;
    let sub = client(&m).await;
    let v = sub.ok("getMusicFolders", &[]).await;
    let folders = v["musicFolders"]["musicFolder"].as_array().unwrap().clone();
    assert_eq!(folders.len(), 1, "only the room she is in: {v}");
    assert_eq!(folders[0]["name"], "資料室");
    assert_eq!(folders[0]["id"], m.c.room_id);
    // Folder browsing: the cabinet's top holds the three songs (not the text file).
    let v = sub.ok("getIndexes", &[]).await;
    let child = &v["indexes"]["child"];
    assert_eq!(song_ids(child).len(), 3, "{v}");
    let titles: Vec<&str> = child
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.contains(&"朝の歌") && titles.contains(&"ふるさと"),
        "{titles:?}"
    );
    let parent = child[0]["parent"].as_str().unwrap().to_owned();
    let v = sub.ok("getMusicDirectory", &[("id", &parent)]).await;
    assert_eq!(v["directory"]["name"], "資料室");
    assert_eq!(song_ids(&v["directory"]["child"]).len(), 3);
    // ID3 browsing.
    let v = sub.ok("getArtists", &[]).await;
    let names: Vec<String> = v["artists"]["index"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["artist"].as_array().unwrap().clone())
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(names.contains(&"結 合唱団".to_owned()), "{names:?}");
    let artist = v["artists"]["index"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["artist"].as_array().unwrap().clone())
        .find(|a| a["name"] == "結 合唱団")
        .unwrap();
    let v = sub
        .ok("getArtist", &[("id", artist["id"].as_str().unwrap())])
        .await;
    let album = v["artist"]["album"][0].clone();
    assert_eq!(album["name"], "四季");
    assert_eq!(album["songCount"], 2);
    let v = sub
        .ok("getAlbum", &[("id", album["id"].as_str().unwrap())])
        .await;
    let songs = v["album"]["song"].as_array().unwrap().clone();
    assert_eq!(songs[0]["title"], "朝の歌");
    assert_eq!(songs[1]["title"], "夜の歌");
    assert_eq!(songs[0]["track"], 1);
    assert_eq!(songs[0]["genre"], "合唱");
    assert_eq!(songs[0]["year"], 2026);
    assert_eq!(songs[0]["duration"], 1);
    assert_eq!(songs[0]["suffix"], "wav");
    let id = songs[0]["id"].as_str().unwrap().to_owned();
    let v = sub.ok("getSong", &[("id", &id)]).await;
    assert_eq!(v["song"]["album"], "四季");
    // The untagged song falls back to its names.
    let v = sub.ok("search3", &[("query", "ふるさと")]).await;
    let s = &v["searchResult3"]["song"][0];
    assert_eq!(s["title"], "ふるさと", "{v}");
    assert_eq!(s["album"], "資料室", "{v}");
    // An empty query lists everything, paged.
    let mut seen = Vec::new();
    for offset in ["0", "1", "2", "3"] {
        let v = sub
            .ok(
                "search3",
                &[
                    ("query", ""),
                    ("songCount", "1"),
                    ("songOffset", offset),
                    ("artistCount", "0"),
                    ("albumCount", "0"),
                ],
            )
            .await;
        seen.extend(song_ids(&v["searchResult3"]["song"]));
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
    let v = sub.ok("search3", &[("query", "\"\"")]).await;
    assert_eq!(song_ids(&v["searchResult3"]["song"]).len(), 3);
    for kind in [
        "random",
        "newest",
        "alphabeticalByName",
        "alphabeticalByArtist",
    ] {
        let v = sub.ok("getAlbumList2", &[("type", kind)]).await;
        assert_eq!(
            v["albumList2"]["album"].as_array().unwrap().len(),
            2,
            "{kind}: {v}"
        );
    }
    let v = sub
        .ok("getAlbumList2", &[("type", "byGenre"), ("genre", "合唱")])
        .await;
    assert_eq!(v["albumList2"]["album"][0]["name"], "四季");
    sub.fails("getAlbumList2", &[], 10).await;
    let v = sub.ok("getRandomSongs", &[("size", "10")]).await;
    assert_eq!(song_ids(&v["randomSongs"]["song"]).len(), 3);
    let v = sub.ok("getGenres", &[]).await;
    assert_eq!(v["genres"]["genre"][0]["value"], "合唱");
    assert_eq!(v["genres"]["genre"][0]["songCount"], 2);
    // The XML shape: attributes, repeated elements, genre names as text.
    let xml = sub.call("getGenres", &[]).await.text().await.unwrap();
    assert!(
        xml.contains(r#"<genres><genre songCount="2" albumCount="1">合唱</genre></genres>"#),
        "{xml}"
    );
    let xml = sub
        .call("getAlbum", &[("id", album["id"].as_str().unwrap())])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        xml.contains(r"<album ") && xml.contains(r"<song ") && xml.contains(r#"title="朝の歌""#),
        "{xml}"
    );
    // Cover art: the embedded picture, by song or album.
    for cover in [id.as_str(), album["id"].as_str().unwrap()] {
        let res = sub.call("getCoverArt", &[("id", cover)]).await;
        assert_eq!(res.headers()["content-type"], "image/png");
        assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);
    }
    // Nested folders: Artist/Album/song.wav names an untagged song's artist and album, and the
    // folders are browsable from the index down.
    let mut parent = 0;
    for name in ["さくら楽団", "春の盤"] {
        let res =
            m.c.app
                .post_form(
                    &m.c.hanako,
                    "/rooms/cab/files",
                    &format!("/rooms/cab/files/folder/{parent}/mkdir"),
                    &[("name", name)],
                )
                .await;
        assert_eq!(res.status(), 303);
        parent = m.c.app.db(|conn| {
            use yui::db::schema::folders;
            Ok(folders::table
                .filter(folders::name.eq(name))
                .select(folders::id)
                .first(conn)?)
        });
    }
    let song = tone_wav(
        220.0,
        1,
        ToneTags {
            title: "",
            artist: "",
            album: "",
            track: 0,
        },
    );
    let res =
        m.c.app
            .upload_form(&m.c.hanako, "cab", parent, &[("春.wav", song)])
            .await;
    assert!(res.status().is_success() || res.status().is_redirection());
    let v = sub.ok("search3", &[("query", "春")]).await;
    let s = &v["searchResult3"]["song"][0];
    assert_eq!(
        (&s["artist"], &s["album"]),
        (&Value::from("さくら楽団"), &Value::from("春の盤")),
        "{v}"
    );
    assert_eq!(s["path"], "資料室/さくら楽団/春の盤/春.wav");
    let v = sub.ok("getIndexes", &[]).await;
    let entry = v["indexes"]["index"][0]["artist"][0].clone();
    assert_eq!(entry["name"], "さくら楽団", "{v}");
    let v = sub
        .ok(
            "getMusicDirectory",
            &[("id", entry["id"].as_str().unwrap())],
        )
        .await;
    let album_dir = v["directory"]["child"][0].clone();
    assert_eq!(
        (&album_dir["title"], &album_dir["isDir"]),
        (&Value::from("春の盤"), &Value::from(true)),
        "{v}"
    );
    let v = sub
        .ok(
            "getMusicDirectory",
            &[("id", album_dir["id"].as_str().unwrap())],
        )
        .await;
    assert_eq!(v["directory"]["child"][0]["title"], "春", "{v}");
    // Tags were read once per blob and kept.
    let kept: i64 =
        m.c.app
            .db(|conn| Ok(audio_meta::table.count().get_result(conn)?));
    assert_eq!(kept, 4, "four distinct blobs of hanako's room were read");
}

#[actix_web::test]
async fn subsonic_streams_exact_ranges_through_the_download_path() {
    let m = music().await;
    let sub = client(&m).await;
    let bytes = untagged_song();
    let v = sub.ok("search3", &[("query", "ふるさと")]).await;
    let id = v["searchResult3"]["song"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for method in ["stream", "stream.view", "download"] {
        let res = sub.call(method, &[("id", &id)]).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.bytes().await.unwrap().as_ref(), bytes.as_slice());
    }
    let res = sub
        .http
        .get(with_query(
            &m.c.app,
            "/rest/stream",
            &[("u", "hanako"), ("p", sub.secret.as_str()), ("id", &id)],
        ))
        .header("Range", "bytes=100-1099")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert!(res.headers().contains_key("etag"));
    assert_eq!(res.bytes().await.unwrap().as_ref(), &bytes[100..1100]);
    let res = sub
        .http
        .head(with_query(
            &m.c.app,
            "/rest/stream",
            &[("u", "hanako"), ("p", sub.secret.as_str()), ("id", &id)],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-length"].to_str().unwrap(),
        bytes.len().to_string()
    );
}

#[actix_web::test]
async fn subsonic_never_shows_a_room_one_cannot_read() {
    let m = music().await;
    let sub = client(&m).await;
    let other = format!("s{}", m.other_song);
    // Not listed anywhere.
    let v = sub.ok("search3", &[("query", "")]).await;
    assert!(
        !song_ids(&v["searchResult3"]["song"]).contains(&other),
        "{v}"
    );
    let v = sub
        .ok("getAlbumList2", &[("type", "alphabeticalByName")])
        .await;
    assert!(!v.to_string().contains("内緒"), "{v}");
    // Not reachable by a guessed id either.
    for method in ["getSong", "stream", "download", "getCoverArt"] {
        sub.fails(method, &[("id", &other)], 70).await;
    }
    let res = sub.call("stream", &[("id", &other)]).await;
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml"),
        "an error, not bytes"
    );
    let other_root: i64 = m.c.app.db(|conn| {
        use yui::db::schema::{folders, rooms};
        let room: i64 = rooms::table
            .filter(rooms::slug.eq("other"))
            .select(rooms::id)
            .first(conn)?;
        Ok(folders::table
            .filter(folders::room_id.eq(room))
            .filter(folders::parent_id.is_null())
            .select(folders::id)
            .first(conn)?)
    });
    sub.fails(
        "getMusicDirectory",
        &[("id", &format!("d{other_root}"))],
        70,
    )
    .await;
    sub.fails(
        "createPlaylist",
        &[("name", "盗み"), ("songId", &other)],
        70,
    )
    .await;
    sub.fails("star", &[("id", &other)], 70).await;
    // Hanako's own song, starred and in a playlist; then she leaves the room's members.
    let v = sub.ok("search3", &[("query", "朝の歌")]).await;
    let mine = v["searchResult3"]["song"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    sub.ok("star", &[("id", &mine)]).await;
    let v = sub.ok("getStarred2", &[]).await;
    assert_eq!(song_ids(&v["starred2"]["song"]), vec![mine.clone()]);
    let v = sub
        .ok("createPlaylist", &[("name", "ドライブ"), ("songId", &mine)])
        .await;
    assert_eq!(v["playlist"]["songCount"], 1, "{v}");
    let playlist = v["playlist"]["id"].as_str().unwrap().to_owned();
    let res =
        m.c.app
            .post_form(
                &m.c.admin,
                "/rooms/cab/members",
                "/rooms/cab/members/hanako",
                &[("action", "remove")],
            )
            .await;
    assert!(res.status().is_success() || res.status().is_redirection());
    let v = sub.ok("getMusicFolders", &[]).await;
    assert_eq!(
        v["musicFolders"]["musicFolder"]
            .as_array()
            .map_or(0, Vec::len),
        0,
        "{v}"
    );
    sub.fails("stream", &[("id", &mine)], 70).await;
    let v = sub.ok("getStarred2", &[]).await;
    assert!(song_ids(&v["starred2"]["song"]).is_empty(), "{v}");
    let v = sub.ok("getPlaylist", &[("id", &playlist)]).await;
    assert_eq!(v["playlist"]["songCount"], 0, "{v}");
    assert!(song_ids(&v["playlist"]["entry"]).is_empty(), "{v}");
}

#[actix_web::test]
async fn subsonic_playlists_are_per_member() {
    let m = music().await;
    let sub = client(&m).await;
    let v = sub.ok("search3", &[("query", "")]).await;
    let ids = song_ids(&v["searchResult3"]["song"]);
    let v = sub
        .ok(
            "createPlaylist",
            &[("name", "朝"), ("songId", &ids[0]), ("songId", &ids[1])],
        )
        .await;
    let pid = v["playlist"]["id"].as_str().unwrap().to_owned();
    assert_eq!(v["playlist"]["owner"], "hanako");
    sub.ok(
        "updatePlaylist",
        &[
            ("playlistId", &pid),
            ("name", "夕方"),
            ("songIdToAdd", &ids[2]),
            ("songIndexToRemove", "0"),
        ],
    )
    .await;
    let v = sub.ok("getPlaylist", &[("id", &pid)]).await;
    assert_eq!(v["playlist"]["name"], "夕方");
    assert_eq!(
        song_ids(&v["playlist"]["entry"]),
        vec![ids[1].clone(), ids[2].clone()]
    );
    let v = sub.ok("getPlaylists", &[]).await;
    assert_eq!(v["playlists"]["playlist"].as_array().unwrap().len(), 1);
    // The admin's client sees none of hanako's playlists and cannot touch them.
    let secret = music_password(&m.c.app, &m.c.admin, "car").await;
    let admin = Sub {
        app: &m.c.app,
        http: reqwest::Client::new(),
        login: "admin".into(),
        secret,
    };
    let v = admin.ok("getPlaylists", &[]).await;
    assert_eq!(
        v["playlists"]["playlist"].as_array().map_or(0, Vec::len),
        0,
        "{v}"
    );
    admin.fails("getPlaylist", &[("id", &pid)], 70).await;
    admin.fails("deletePlaylist", &[("id", &pid)], 70).await;
    sub.ok("scrobble", &[("id", &ids[0])]).await;
    sub.ok("deletePlaylist", &[("id", &pid)]).await;
    sub.fails("getPlaylist", &[("id", &pid)], 70).await;
    // The same bytes twice are read once.
    let before: i64 =
        m.c.app
            .db(|conn| Ok(audio_meta::table.count().get_result(conn)?));
    let res =
        m.c.app
            .upload_form(&m.c.hanako, "cab", 0, &[("複製.wav", untagged_song())])
            .await;
    assert!(res.status().is_success() || res.status().is_redirection());
    let v = sub.ok("search3", &[("query", "")]).await;
    assert_eq!(song_ids(&v["searchResult3"]["song"]).len(), 4);
    let after: i64 =
        m.c.app
            .db(|conn| Ok(audio_meta::table.count().get_result(conn)?));
    assert_eq!(before, after);
    assert_eq!(files_of(&m.c.app, m.c.room_id).len(), 5);
}

/// A real client library: py-sonic (token authentication, form POSTs) lists the music folders,
/// searches everything and streams a song, whose bytes must be the stored ones. CI installs it
/// (`.ci/run`, `YUI_PYSONIC_PYTHON`); otherwise it is installed with pip into a venv under the
/// target directory, and without python3 or the package the test skips loudly, unless
/// `YUI_REQUIRE_PYSONIC` is set.
#[actix_web::test]
async fn py_sonic_lists_searches_and_streams() {
    let required = std::env::var_os("YUI_REQUIRE_PYSONIC").is_some();
    let venv = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("py-sonic-venv");
    let python = std::env::var_os("YUI_PYSONIC_PYTHON")
        .map_or_else(|| venv.join("bin/python"), std::path::PathBuf::from);
    if !python.exists() {
        let made = std::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && std::process::Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "py-sonic==1.2.0"])
                .status()
                .is_ok_and(|s| s.success());
        if !made {
            assert!(
                !required,
                "YUI_REQUIRE_PYSONIC is set but py-sonic could not be installed"
            );
            eprintln!("*** SKIPPED: the py-sonic test needs python3 and pip install py-sonic ***");
            return;
        }
    }
    let m = music().await;
    let sub = client(&m).await;
    let script = r#"
import hashlib, json, sys
import libsonic
base, port, user, pw = sys.argv[1:5]
c = libsonic.Connection(base, user, pw, port=int(port), appName="py-sonic-test")
assert c.ping()
folders = [f["name"] for f in c.getMusicFolders()["musicFolders"]["musicFolder"]]
songs = c.search3("", artistCount=0, albumCount=0, songCount=50)["searchResult3"]["song"]
song = next(s for s in songs if s["title"] == "ふるさと")
data = c.stream(song["id"]).read()
print(json.dumps({"folders": folders, "songs": len(songs), "sha256": hashlib.sha256(data).hexdigest()}))
"#;
    let (host, port) = m.c.app.base.rsplit_once(':').unwrap();
    let args = vec![
        "-c".to_owned(),
        script.to_owned(),
        host.to_owned(),
        port.to_owned(),
        "hanako".to_owned(),
        sub.secret.clone(),
    ];
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "py-sonic failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["folders"], serde_json::json!(["資料室"]));
    assert_eq!(v["songs"], 3);
    assert_eq!(
        v["sha256"].as_str().unwrap(),
        crate::files::sha_hex(&untagged_song())
    );
}

/// The statements one call runs, as the fewest of three tries (the jobs loop may add its own).
async fn statements(sub: &Sub<'_>, method: &str, params: &[(&str, &str)]) -> u64 {
    let mut fewest = u64::MAX;
    for _ in 0..3 {
        // A write in this process: the kept library is stale, so the call loads it.
        sub.app.db(|_| Ok(()));
        let before = sub.app.core.db.statements();
        sub.ok(method, params).await;
        fewest = fewest.min(sub.app.core.db.statements() - before);
    }
    fewest
}

/// The library is loaded in a fixed number of statements, however many songs and folders.
#[actix_web::test]
async fn subsonic_calls_run_a_fixed_number_of_statements() {
    let m = music().await;
    let sub = client(&m).await;
    let calls: &[(&str, &[(&str, &str)])] = &[
        ("search3", &[("query", "")]),
        ("getAlbumList2", &[("type", "newest")]),
        ("getArtists", &[]),
        ("getIndexes", &[]),
    ];
    let mut before = Vec::new();
    for (method, params) in calls {
        before.push(statements(&sub, method, params).await);
    }
    let songs: Vec<(String, Vec<u8>)> = (0..12u8)
        .map(|i| {
            let name = format!("曲{i}.wav");
            let freq = 200.0 + f32::from(i) * 10.0;
            let bytes = tagged_song(
                freq,
                &format!("歌{i}"),
                &format!("歌手{}", i % 4),
                &format!("盤{}", i % 3),
                1,
            );
            (name, bytes)
        })
        .collect();
    let refs: Vec<(&str, Vec<u8>)> = songs.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    let res = m.c.app.upload_form(&m.c.hanako, "cab", 0, &refs).await;
    assert!(res.status().is_success() || res.status().is_redirection());
    // The first call reads the new songs' tags and keeps them.
    let v = sub
        .ok("search3", &[("query", ""), ("songCount", "100")])
        .await;
    assert_eq!(song_ids(&v["searchResult3"]["song"]).len(), 15);
    for ((method, params), n) in calls.iter().zip(before) {
        assert_eq!(
            statements(&sub, method, params).await,
            n,
            "{method} runs as many statements for 15 songs as for 3"
        );
    }
}

/// Two apps syncing a fresh library at once both get every song, and each blob's tags are kept
/// once (the one that loses the race to store them answers with what it read).
#[actix_web::test]
async fn two_first_syncs_at_once_both_succeed_and_keep_tags_once() {
    let m = music().await;
    let sub = client(&m).await;
    let (a, b) = futures_util::join!(
        sub.json("search3", &[("query", "")]),
        sub.json("search3", &[("query", "")])
    );
    for v in [a, b] {
        assert_eq!(v["status"], "ok", "{v}");
        assert_eq!(song_ids(&v["searchResult3"]["song"]).len(), 3, "{v}");
        assert_eq!(v["searchResult3"]["song"][0]["title"], "朝の歌", "{v}");
    }
    let kept: i64 =
        m.c.app
            .db(|conn| Ok(audio_meta::table.count().get_result(conn)?));
    assert_eq!(kept, 3);
}

/// One call's statements, as it comes (the library kept from a call just before, or not).
async fn statements_now(sub: &Sub<'_>, method: &str, params: &[(&str, &str)]) -> u64 {
    let before = sub.app.core.db.statements();
    sub.ok(method, params).await;
    sub.app.core.db.statements() - before
}

/// A music app's calls in a row load the library once: the next call within a moment answers
/// from the library kept in memory (only the sign-in reads), and a change made in this process
/// shows at once.
#[actix_web::test]
async fn calls_in_a_row_load_the_library_once_and_see_this_processs_changes_at_once() {
    let m = music().await;
    let sub = client(&m).await;
    let all = [("query", ""), ("songCount", "100")];
    let loaded = statements(&sub, "search3", &all).await;
    let kept = statements_now(&sub, "search3", &all).await;
    assert!(
        kept + 5 <= loaded,
        "the second call loads nothing: {kept} statements against {loaded}"
    );
    let paged = statements_now(&sub, "getAlbumList2", &[("type", "newest")]).await;
    assert!(paged + 5 <= loaded, "{paged} against {loaded}");
    // A star, an upload and a deletion here show in the very next call.
    let v = sub.ok("search3", &all).await;
    let first = song_ids(&v["searchResult3"]["song"])[0].clone();
    sub.ok("star", &[("id", &first)]).await;
    let v = sub.ok("getStarred2", &[]).await;
    assert_eq!(song_ids(&v["starred2"]["song"]), [first]);
    let res =
        m.c.app
            .upload_form(
                &m.c.hanako,
                "cab",
                0,
                &[(
                    "新曲.wav",
                    tagged_song(330.0, "新しい歌", "結 合唱団", "四季", 3),
                )],
            )
            .await;
    assert!(res.status().is_success() || res.status().is_redirection());
    let v = sub.ok("search3", &all).await;
    assert_eq!(song_ids(&v["searchResult3"]["song"]).len(), 4, "{v}");
}

/// Another `yui serve` on the same database changes the cabinet: this process shows the change
/// within `LibraryCache::TTL` (it cannot know of it sooner without asking the database).
#[actix_web::test]
async fn a_change_by_another_process_shows_within_a_second() {
    let m = music().await;
    let sub = client(&m).await;
    let all = [("query", ""), ("songCount", "100")];
    let titles = |v: &Value| -> Vec<String> {
        v["searchResult3"]["song"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["path"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let v = sub.ok("search3", &all).await;
    assert!(titles(&v).iter().any(|p| p.contains("ふるさと")), "{v}");
    // The other process: its own pool on the same database.
    let url = m.c.app.core.config.database.url.clone().unwrap();
    let other = yui::db::Db::connect(&url).unwrap();
    other
        .run_sync(true, |conn| {
            use yui::db::schema::files;
            diesel::update(files::table.filter(files::name.eq("ふるさと.wav")))
                .set((files::name.eq("故郷.wav"), files::name_key.eq("故郷.wav")))
                .execute(conn)?;
            Ok(())
        })
        .unwrap();
    let changed = std::time::Instant::now();
    loop {
        let v = sub.ok("search3", &all).await;
        if titles(&v).iter().any(|p| p.contains("故郷")) {
            break;
        }
        assert!(
            changed.elapsed()
                < yui::services::subsonic::LibraryCache::TTL
                    + std::time::Duration::from_millis(500),
            "still the old name after {:?}: {v}",
            changed.elapsed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
