//! Builders for what a test arranges: accounts, rooms (with their members and safety officers),
//! room posts and cabinet files, so a test reads as the story it tells:
//!
//! ```text
//! let admin = app.admin_client().await;
//! let hanako = app.user("hanako").signed_in().await;
//! app.room("family").named("家族の部屋").closed().managed_by("hanako").create(&admin).await;
//! let post = app.post_in("family", "お知らせ").submit(&hanako).await;
//! let file = app.file_in("family", "議事録.txt").upload(&hanako).await;
//! ```
//!
//! Accounts are made through the account service (there is no form that makes an account without
//! a mail round trip); everything else goes through the real HTTP forms, as a person would: the
//! admin's room form, the members and officers forms, the post editor, the cabinet's upload form.
//! A fixture therefore holds every invariant the app keeps (a room's first manager, an officer who
//! is a member, a post's revisions and announcements, a file's blob and quota), and every step
//! asserts that the app accepted it, so a broken arrangement fails where it happens.

use diesel::prelude::*;
use yui::db::schema::{files, post_revisions, room_posts, rooms};

use super::{PASSWORD, TestApp, location};

impl TestApp {
    /// An account to make: `app.user("hanako").signed_in().await`.
    pub fn user(&self, login: &str) -> UserBuilder<'_> {
        UserBuilder {
            app: self,
            login: login.to_owned(),
            admin: false,
        }
    }

    /// Logs an existing account in (password [`PASSWORD`]) on a fresh client.
    pub async fn sign_in(&self, login: &str) -> reqwest::Client {
        let c = self.client();
        self.login(&c, login, PASSWORD).await;
        c
    }

    /// Adds `login` to the room `room` with `role` (`guest`, `member`, `editor`, `chief_editor`,
    /// `manager`) through its members form, as `by` (a manager of the room or a site admin).
    pub async fn add_member(&self, by: &reqwest::Client, room: &str, login: &str, role: &str) {
        let path = format!("/rooms/{room}/members");
        let res = self
            .post_form(by, &path, &path, &[("login", login), ("role", role)])
            .await;
        assert_eq!(res.status(), 303, "{login} into {room} as {role}");
    }

    /// A room to make with the address `slug`. Unless told otherwise it is named `slug`,
    /// members-only (`members`), open, joined by invitation, with 一般 as the default role, a
    /// 100 MB quota, the blog on and no approval.
    pub fn room(&self, slug: &str) -> RoomBuilder<'_> {
        RoomBuilder {
            app: self,
            slug: slug.to_owned(),
            fields: vec![
                ("name", slug.to_owned()),
                ("visibility", "members".to_owned()),
                ("state", "open".to_owned()),
                ("default_role", "member".to_owned()),
                ("join_policy", "invite".to_owned()),
                ("quota_mb", "100".to_owned()),
                ("feature_blog", "on".to_owned()),
            ],
            members: Vec::new(),
            officers: Vec::new(),
        }
    }

    /// A post titled `title` to write in the room `room` (its body: `**本文**です。`).
    pub fn post_in(&self, room: &str, title: &str) -> PostBuilder<'_> {
        PostBuilder {
            app: self,
            room: room.to_owned(),
            fields: vec![
                ("title", title.to_owned()),
                ("body", "**本文**です。".to_owned()),
            ],
        }
    }

    /// A file named `name` to upload into the cabinet of the room `room` (its bytes: the name's,
    /// unless given; into the root folder, unless given).
    pub fn file_in(&self, room: &str, name: &str) -> FileBuilder<'_> {
        FileBuilder {
            app: self,
            room: room.to_owned(),
            name: name.to_owned(),
            bytes: name.as_bytes().to_vec(),
            folder: 0,
        }
    }

    /// Sends the cabinet's plain upload form (multipart, the CSRF token in the query, taken from
    /// the cabinet's page) with `files` into `folder` (0 = the root) of `room`, as `c`.
    pub async fn upload_form(
        &self,
        c: &reqwest::Client,
        room: &str,
        folder: i64,
        files: &[(&str, Vec<u8>)],
    ) -> reqwest::Response {
        let token = self.csrf(c, &format!("/rooms/{room}/files")).await;
        let mut form = reqwest::multipart::Form::new();
        for (name, bytes) in files {
            form = form.part(
                "files",
                reqwest::multipart::Part::bytes(bytes.clone()).file_name((*name).to_owned()),
            );
        }
        c.post(self.url(&format!(
            "/rooms/{room}/files/folder/{folder}/upload?_csrf={token}"
        )))
        .multipart(form)
        .send()
        .await
        .unwrap()
    }
}

/// An account to make (`TestApp::user`): a site member unless `admin`, mailed at
/// `<login>@example.test`, shown as `<login> さん`, with the password [`PASSWORD`].
#[must_use]
pub struct UserBuilder<'a> {
    app: &'a TestApp,
    login: String,
    admin: bool,
}

impl UserBuilder<'_> {
    /// A site administrator rather than a member.
    pub fn admin(mut self) -> Self {
        self.admin = true;
        self
    }

    /// Makes the account (through `services::account`).
    pub fn create(self) -> yui::models::user::User {
        self.app.create_user(&self.login, self.admin)
    }

    /// Makes the account and logs it in on a fresh client.
    pub async fn signed_in(self) -> reqwest::Client {
        let app = self.app;
        let login = self.login.clone();
        self.create();
        app.sign_in(&login).await
    }
}

/// A room to make (`TestApp::room`) through the site admin's form, then its members and safety
/// officers through the room's own forms, all sent by the admin who creates it.
#[must_use]
pub struct RoomBuilder<'a> {
    app: &'a TestApp,
    slug: String,
    /// The admin form's fields other than the slug, in the order they are sent.
    fields: Vec<(&'static str, String)>,
    /// `(login, role)`, added in this order after the room exists.
    members: Vec<(String, String)>,
    /// Logins made safety officers after the members are in.
    officers: Vec<String>,
}

/// A room the builder made.
#[derive(Debug, Clone)]
pub struct CreatedRoom {
    pub id: i64,
    pub slug: String,
}

impl CreatedRoom {
    /// The room's page, `/rooms/{slug}`.
    pub fn path(&self) -> String {
        format!("/rooms/{}", self.slug)
    }
}

impl RoomBuilder<'_> {
    /// Sets a form field as it would be typed, replacing any earlier value: for what the other
    /// methods do not say, and for input the form must refuse (`.field("visibility", "secret")`).
    pub fn field(mut self, name: &'static str, value: &str) -> Self {
        if name == "slug" {
            value.clone_into(&mut self.slug);
            return self;
        }
        self.fields.retain(|(k, _)| *k != name);
        self.fields.push((name, value.to_owned()));
        self
    }

    /// Sets several form fields (`field` for each).
    pub fn fields(self, fields: &[(&'static str, &str)]) -> Self {
        fields.iter().fold(self, |b, (k, v)| b.field(k, v))
    }

    /// The room's name (as shown, and in its mails' subjects).
    pub fn named(self, name: &str) -> Self {
        self.field("name", name)
    }

    /// The room's description.
    pub fn described(self, description: &str) -> Self {
        self.field("description", description)
    }

    /// Visible to everyone, visitors too (`public`).
    pub fn public(self) -> Self {
        self.field("visibility", "public")
    }

    /// Visible to its members only (`closed`).
    pub fn closed(self) -> Self {
        self.field("visibility", "closed")
    }

    /// Under preparation (準備中): only its managers see it.
    pub fn preparing(self) -> Self {
        self.field("state", "preparing")
    }

    /// Anyone logged in may join at once.
    pub fn open_to_join(self) -> Self {
        self.field("join_policy", "open")
    }

    /// Joining is asked for, and a manager decides.
    pub fn joined_on_request(self) -> Self {
        self.field("join_policy", "request")
    }

    /// Posts wait for approval (承認) by those who may publish.
    pub fn with_approval(self) -> Self {
        self.field("need_approval", "on")
    }

    /// Comments wait for approval.
    pub fn with_comment_approval(self) -> Self {
        self.field("comment_approval", "on")
    }

    /// The room's disk quota.
    pub fn quota_mb(self, mb: u32) -> Self {
        self.field("quota_mb", &mb.to_string())
    }

    /// Exactly these features (`blog`, `files`, `calendar`) are on.
    pub fn features(mut self, features: &[&str]) -> Self {
        self.fields.retain(|(k, _)| !k.starts_with("feature_"));
        for f in features {
            let name = match *f {
                "blog" => "feature_blog",
                "files" => "feature_files",
                "calendar" => "feature_calendar",
                other => panic!("no room feature {other:?}"),
            };
            self.fields.push((name, "on".to_owned()));
        }
        self
    }

    /// A sub-room of the room `parent` (its slug).
    pub fn under(self, parent: &str) -> Self {
        self.field("parent", parent)
    }

    /// The room's first manager (the admin form's `manager`).
    pub fn managed_by(self, login: &str) -> Self {
        self.field("manager", login)
    }

    /// Adds `login` with `role` (`guest`, `member`, `editor`, `chief_editor`, `manager`) once the
    /// room exists, through the room's members form.
    pub fn member(mut self, login: &str, role: &str) -> Self {
        self.members.push((login.to_owned(), role.to_owned()));
        self
    }

    /// Makes `login` (a member by then) a safety officer of the room, through the officers form.
    pub fn officer(mut self, login: &str) -> Self {
        self.officers.push(login.to_owned());
        self
    }

    /// Sends the admin's room form as `admin` and returns the answer, for tests of the form itself
    /// (members and officers need the room, so none may be asked for here).
    pub async fn try_create(self, admin: &reqwest::Client) -> reqwest::Response {
        assert!(
            self.members.is_empty() && self.officers.is_empty(),
            "try_create adds no members or officers: use create"
        );
        self.send(admin).await
    }

    /// Creates the room as the site admin `admin`, then adds its members and officers; asserts
    /// that every step was accepted.
    pub async fn create(self, admin: &reqwest::Client) -> CreatedRoom {
        let app = self.app;
        let slug = self.slug.clone();
        let members = self.members.clone();
        let officers = self.officers.clone();
        let res = self.send(admin).await;
        assert_eq!(res.status(), 303, "create room {slug}");
        let room = CreatedRoom {
            id: room_id(app, &slug),
            slug,
        };
        for (login, role) in &members {
            app.add_member(admin, &room.slug, login, role).await;
        }
        let path = format!("{}/members", room.path());
        for login in &officers {
            let res = app
                .post_form(
                    admin,
                    &path,
                    &format!("{}/officers/{login}", room.path()),
                    &[("officer", "on")],
                )
                .await;
            assert_eq!(res.status(), 303, "{login} officer of {}", room.slug);
        }
        room
    }

    async fn send(self, admin: &reqwest::Client) -> reqwest::Response {
        let mut fields: Vec<(&str, &str)> = vec![("slug", self.slug.as_str())];
        fields.extend(self.fields.iter().map(|(k, v)| (*k, v.as_str())));
        self.app
            .post_form(admin, "/admin/rooms/new", "/admin/rooms", &fields)
            .await
    }
}

/// The id of the room `slug`.
pub fn room_id(app: &TestApp, slug: &str) -> i64 {
    let slug = slug.to_owned();
    app.db(move |conn| {
        Ok(rooms::table
            .filter(rooms::slug.eq(slug))
            .select(rooms::id)
            .first(conn)?)
    })
}

/// A room post to write (`TestApp::post_in`) through the room's editor.
#[must_use]
pub struct PostBuilder<'a> {
    app: &'a TestApp,
    room: String,
    /// The editor's fields other than `action`.
    fields: Vec<(&'static str, String)>,
}

/// A post the builder wrote.
#[derive(Debug, Clone)]
pub struct CreatedPost {
    pub id: i64,
    /// Its page, `/rooms/{room}/posts/{id}`.
    pub path: String,
}

impl PostBuilder<'_> {
    fn field(mut self, name: &'static str, value: &str) -> Self {
        self.fields.retain(|(k, _)| *k != name);
        self.fields.push((name, value.to_owned()));
        self
    }

    /// The body (Markdown).
    pub fn body(self, markdown: &str) -> Self {
        self.field("body", markdown)
    }

    /// The language chosen in the editor (`ja`, `en`; unset: told by the text).
    pub fn lang(self, code: &str) -> Self {
        self.field("lang", code)
    }

    /// The start of publication (`datetime-local` in the site's time zone, `2099-01-01T09:00`).
    pub fn publish_at(self, at: &str) -> Self {
        self.field("publish_at", at)
    }

    /// The end of publication (`datetime-local`).
    pub fn publish_until(self, until: &str) -> Self {
        self.field("publish_until", until)
    }

    /// Saves it as a draft (一時保存), by `author`.
    pub async fn draft(self, author: &reqwest::Client) -> CreatedPost {
        self.save(author, "draft").await
    }

    /// Submits it as `author`: published at once where the author may publish, otherwise waiting
    /// for approval.
    pub async fn submit(self, author: &reqwest::Client) -> CreatedPost {
        self.save(author, "submit").await
    }

    /// Submits it as `author`, who may publish in the room, and asserts that it is live.
    pub async fn published(self, author: &reqwest::Client) -> CreatedPost {
        let app = self.app;
        let post = self.submit(author).await;
        assert!(is_live(app, post.id), "{} was published", post.path);
        post
    }

    /// Submits it as `author`, then `approver` approves the waiting version from the post's page;
    /// asserts that it is live.
    pub async fn approved_by(
        self,
        author: &reqwest::Client,
        approver: &reqwest::Client,
    ) -> CreatedPost {
        let app = self.app;
        let post = self.submit(author).await;
        let id = post.id;
        let revision: i64 = app.db(move |conn| {
            Ok(post_revisions::table
                .filter(post_revisions::post_id.eq(id))
                .filter(post_revisions::status.eq("pending"))
                .select(post_revisions::id)
                .first(conn)?)
        });
        let res = app
            .post_form(
                approver,
                &post.path,
                &format!("{}/approve", post.path),
                &[("revision", &revision.to_string())],
            )
            .await;
        assert_eq!(res.status(), 303, "{} approved", post.path);
        assert!(is_live(app, post.id), "{} was published", post.path);
        post
    }

    async fn save(self, author: &reqwest::Client, action: &str) -> CreatedPost {
        let posts = format!("/rooms/{}/posts", self.room);
        let mut fields: Vec<(&str, &str)> =
            self.fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        fields.push(("action", action));
        let res = self
            .app
            .post_form(author, &format!("{posts}/new"), &posts, &fields)
            .await;
        assert_eq!(res.status(), 303, "post saved in {}", self.room);
        let path = location(&res);
        let id = path
            .strip_prefix(&format!("{posts}/"))
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("not a post of {}: {path}", self.room));
        CreatedPost { id, path }
    }
}

/// Whether the post has a live (published) version.
fn is_live(app: &TestApp, post: i64) -> bool {
    let live: Option<i64> = app.db(move |conn| {
        Ok(room_posts::table
            .find(post)
            .select(room_posts::live_revision_id)
            .first(conn)?)
    });
    live.is_some()
}

/// A file to upload (`TestApp::file_in`) through the cabinet's plain upload form.
#[must_use]
pub struct FileBuilder<'a> {
    app: &'a TestApp,
    room: String,
    name: String,
    bytes: Vec<u8>,
    folder: i64,
}

/// A file the builder uploaded.
#[derive(Debug, Clone)]
pub struct UploadedFile {
    pub id: i64,
    pub name: String,
}

impl FileBuilder<'_> {
    /// The file's bytes.
    pub fn bytes(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.bytes = bytes.into();
        self
    }

    /// Into the folder with this id (0, the default, is the root).
    pub fn in_folder(mut self, folder: i64) -> Self {
        self.folder = folder;
        self
    }

    /// Uploads it as `c` and asserts it was stored.
    pub async fn upload(self, c: &reqwest::Client) -> UploadedFile {
        let res = self
            .app
            .upload_form(
                c,
                &self.room,
                self.folder,
                &[(self.name.as_str(), self.bytes.clone())],
            )
            .await;
        assert_eq!(res.status(), 303, "upload {}", self.name);
        let room = room_id(self.app, &self.room);
        let name = self.name.clone();
        let id = self.app.db(move |conn| {
            Ok(files::table
                .filter(files::room_id.eq(room))
                .filter(files::name.eq(name))
                .filter(files::deleted_at.is_null())
                .order(files::id.desc())
                .select(files::id)
                .first(conn)?)
        });
        UploadedFile {
            id,
            name: self.name,
        }
    }
}
