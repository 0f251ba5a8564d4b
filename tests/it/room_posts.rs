//! Room posts and the approval workflow (承認 / 差し戻し) over HTTP, with mail read from the SMTP sink.

use crate::support::*;

struct Council {
    app: TestApp,
    chief: reqwest::Client,
    member: reqwest::Client,
    guest: reqwest::Client,
    editor: reqwest::Client,
}

/// A members-only room "council" with approval on, managed by `manager`, with one account per role,
/// and an open room "square" without approval.
async fn council() -> Council {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.user("manager").create();
    let chief = app.user("chief").signed_in().await;
    let editor = app.user("editor").signed_in().await;
    let member = app.user("member").signed_in().await;
    let guest = app.user("guest").signed_in().await;
    one_of_each_role(app.room("council").with_approval())
        .create(&admin)
        .await;
    one_of_each_role(app.room("square")).create(&admin).await;
    Council {
        app,
        chief,
        member,
        guest,
        editor,
    }
}

/// A council room: managed by `manager`, with `chief`, `editor`, `member` and `guest` in the role
/// each is named after.
fn one_of_each_role(room: RoomBuilder<'_>) -> RoomBuilder<'_> {
    room.managed_by("manager")
        .member("chief", "chief_editor")
        .member("editor", "editor")
        .member("member", "member")
        .member("guest", "guest")
}

pub async fn get(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

pub fn revision_in(html: &str) -> String {
    let marker = "name=\"revision\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// The navigation's approvals link follows `authorize_room` into sub-rooms and adjusted cells: a
/// chief editor of a sub-room sees it only while they may read its closed parent, and an editor
/// once the room lets editors publish.
#[actix_web::test]
async fn the_approvals_link_follows_parent_rooms_and_adjusted_cells() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.user("manager").create();
    let chief = app.user("chief").signed_in().await;
    let editor = app.user("editor").signed_in().await;
    app.room("hall")
        .closed()
        .managed_by("manager")
        .create(&admin)
        .await;
    app.room("annex")
        .under("hall")
        .managed_by("manager")
        .member("chief", "chief_editor")
        .member("editor", "editor")
        .create(&admin)
        .await;
    let link =
        async |c: &reqwest::Client| get(c, &app, "/rooms").await.1.contains("href=\"/inbox\"");
    assert!(!link(&chief).await, "the closed parent hides the sub-room");
    app.add_member(&admin, "hall", "chief", "guest").await;
    assert!(
        link(&chief).await,
        "with the parent readable, the chief editor may approve"
    );
    app.add_member(&admin, "hall", "editor", "guest").await;
    assert!(!link(&editor).await, "editors do not publish by default");
    // The manager's permissions form: what is ticked now, and publishing for editors.
    let (_, page) = get(&admin, &app, "/rooms/annex/permissions").await;
    let mut cells: Vec<String> = page
        .split("<input type=\"checkbox\" id=\"")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>')?];
            tag.contains(" checked")
                .then(|| tag.split('"').next().unwrap_or("").to_owned())
        })
        .collect();
    cells.push("cell:publish:editor".to_owned());
    let fields: Vec<(&str, &str)> = cells.iter().map(|c| (c.as_str(), "on")).collect();
    let res = app
        .post_form(
            &admin,
            "/rooms/annex/permissions",
            "/rooms/annex/permissions",
            &fields,
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(link(&editor).await, "the room lets editors publish");
    assert!(
        link(&chief).await,
        "the chief editor's cells did not change"
    );
}

/// The count beside the approvals link: what waits in the rooms where this person may approve
/// (never another room's revisions), everything for a site admin, and one fewer once decided.
#[actix_web::test]
async fn the_approvals_link_counts_what_waits_for_this_approver_only() {
    let Council {
        app, chief, member, ..
    } = council().await;
    let admin = app.sign_in("admin").await;
    // A second room with approval, where `chief` is a plain member and `other` approves.
    let other = app.user("other").signed_in().await;
    app.room("annex")
        .with_approval()
        .managed_by("manager")
        .member("other", "chief_editor")
        .member("chief", "member")
        .member("member", "member")
        .create(&admin)
        .await;
    for (room, title) in [
        ("council", "一つ目の報告"),
        ("council", "二つ目の報告"),
        ("annex", "別室の報告"),
    ] {
        app.post_in(room, title).submit(&member).await;
    }
    let badge = |n: usize| format!("aria-label=\"承認待ち {n} 件\"");
    let nav = async |c: &reqwest::Client| get(c, &app, "/rooms").await.1;
    assert!(
        nav(&chief).await.contains(&badge(2)),
        "council's two, not annex's"
    );
    assert!(nav(&other).await.contains(&badge(1)), "annex's one");
    assert!(
        nav(&admin).await.contains(&badge(3)),
        "a site admin approves everywhere"
    );
    assert!(!nav(&member).await.contains("href=\"/inbox\""));
    // Approving one takes it off the count.
    let (_, inbox) = get(&chief, &app, "/inbox").await;
    let revision = revision_in(&inbox);
    let post = inbox
        .split("href=\"")
        .map(|rest| rest.split('"').next().unwrap_or(""))
        .find(|href| href.starts_with("/rooms/council/posts/"))
        .unwrap()
        .to_owned();
    let res = app
        .post_form(
            &chief,
            "/inbox",
            &format!("{post}/approve"),
            &[("revision", &revision), ("back", "inbox")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(nav(&chief).await.contains(&badge(1)));
    assert!(nav(&admin).await.contains(&badge(2)));
}

#[actix_web::test]
async fn a_member_s_post_waits_for_the_chief_editor_who_approves_it_from_the_inbox() {
    let Council {
        app,
        chief,
        member,
        guest,
        ..
    } = council().await;
    let post = app
        .post_in("council", "防災訓練の報告")
        .submit(&member)
        .await
        .path;
    let (code, page) = get(&member, &app, &post).await;
    assert_eq!(code, 200);
    assert!(page.contains("承認待ち"), "the author sees the state");
    assert_eq!(
        get(&guest, &app, &post).await.0,
        404,
        "not visible to readers before approval"
    );
    assert!(
        !get(&guest, &app, "/rooms/council")
            .await
            .1
            .contains("防災訓練の報告")
    );
    // The approvers are told by mail: manager and chief editor (not the editor, not the author).
    let mail = app.smtp.wait_for("chief@example.test").await;
    assert_eq!(mail.subject, "[Yui] 「council」に承認待ちの記事があります");
    assert!(mail.body.contains("防災訓練の報告") && mail.body.contains(&app.url("/inbox")));
    app.smtp.wait_for("manager@example.test").await;
    for silent in ["editor@example.test", "member@example.test"] {
        assert!(
            app.mails_to(silent, "").await.is_empty(),
            "{silent} is not asked to approve"
        );
    }
    // The approvals link shows to those who can approve somewhere, not to plain members.
    assert!(
        !get(&member, &app, "/rooms/council")
            .await
            .1
            .contains("href=\"/inbox\"")
    );
    assert!(
        get(&chief, &app, "/rooms/council")
            .await
            .1
            .contains("href=\"/inbox\"")
    );
    // Members may not approve; the inbox of the chief editor lists it, with an excerpt.
    let (code, inbox) = get(&member, &app, "/inbox").await;
    assert_eq!(code, 200);
    assert!(!inbox.contains("防災訓練の報告"));
    let (_, inbox) = get(&chief, &app, "/inbox").await;
    assert!(inbox.contains("防災訓練の報告") && inbox.contains("本文です。"));
    let revision = revision_in(&inbox);
    let approve = format!("{post}/approve");
    let res = app
        .post_form(&member, &post, &approve, &[("revision", &revision)])
        .await;
    assert_eq!(res.status(), 404, "a member cannot approve");
    let res = app
        .post_form(
            &chief,
            "/inbox",
            &approve,
            &[("revision", &revision), ("back", "inbox")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/inbox");
    let (code, page) = get(&guest, &app, &post).await;
    assert_eq!(code, 200);
    assert!(page.contains("<strong>本文</strong>"));
    let mail = app
        .smtp
        .wait_for_subject("member@example.test", "公開されました")
        .await;
    assert!(mail.body.contains("防災訓練の報告"));
    let res = app
        .post_form(&chief, &post, &approve, &[("revision", &revision)])
        .await;
    assert_eq!(res.status(), 409, "a version is decided once");
    assert!(
        !get(&chief, &app, "/inbox")
            .await
            .1
            .contains("防災訓練の報告")
    );
}

#[actix_web::test]
async fn the_live_version_stays_while_an_edit_waits_and_a_sent_back_edit_shows_the_note() {
    let Council {
        app,
        chief,
        member,
        guest,
        ..
    } = council().await;
    let post = app
        .post_in("council", "初版")
        .approved_by(&member, &chief)
        .await
        .path;
    // The author edits: the new version waits, readers keep the first.
    let res = app
        .post_form(
            &member,
            &format!("{post}/edit"),
            &post,
            &[("title", "第二版"), ("body", "改訂"), ("action", "submit")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, page) = get(&guest, &app, &post).await;
    assert!(page.contains("初版") && !page.contains("第二版"));
    let (_, page) = get(&chief, &app, &post).await;
    assert!(
        page.contains("第二版") && page.contains("初版"),
        "the approver sees both"
    );
    let revision = revision_in(&page);
    // Sending back needs a note; without one nothing changes.
    let send_back = format!("{post}/send-back");
    let res = app
        .post_form(
            &chief,
            &post,
            &send_back,
            &[("revision", &revision), ("note", "  ")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        get(&chief, &app, "/inbox").await.1.contains("第二版"),
        "still waiting"
    );
    let res = app
        .post_form(
            &chief,
            &post,
            &send_back,
            &[("revision", &revision), ("note", "日付を確認してください")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, page) = get(&member, &app, &post).await;
    assert!(page.contains("差し戻し") && page.contains("日付を確認してください"));
    let (_, form) = get(&member, &app, &format!("{post}/edit")).await;
    assert!(
        form.contains("日付を確認してください") && form.contains("第二版"),
        "the edit starts from the sent-back version"
    );
    let mail = app
        .smtp
        .wait_for_subject("member@example.test", "差し戻されました")
        .await;
    assert!(mail.body.contains("日付を確認してください"));
    assert!(
        get(&guest, &app, &post).await.1.contains("初版"),
        "readers never saw the sent-back version"
    );
}

#[actix_web::test]
async fn rooms_without_approval_publish_at_once_and_drafts_stay_private() {
    let Council {
        app, member, guest, ..
    } = council().await;
    let post = app.post_in("square", "すぐ公開").submit(&member).await.path;
    assert_eq!(get(&guest, &app, &post).await.0, 200);
    let draft = app.post_in("square", "下書き").draft(&member).await.path;
    assert_eq!(get(&guest, &app, &draft).await.0, 404);
    let (_, home) = get(&member, &app, "/rooms/square").await;
    assert!(
        home.contains("下書き") && home.contains("一時保存"),
        "the author sees their draft and its state"
    );
    assert!(
        !get(&guest, &app, "/rooms/square")
            .await
            .1
            .contains("下書き")
    );
}

#[actix_web::test]
async fn who_may_write_edit_and_delete() {
    let Council {
        app,
        chief,
        member,
        guest,
        editor,
    } = council().await;
    assert_eq!(
        get(&guest, &app, "/rooms/square/posts/new").await.0,
        404,
        "guests do not write"
    );
    let res = app
        .post_form(
            &guest,
            "/rooms/square",
            "/rooms/square/posts",
            &[("title", "x"), ("body", "x"), ("action", "submit")],
        )
        .await;
    assert_eq!(res.status(), 404);
    let mine = app
        .post_in("square", "一般の記事")
        .submit(&member)
        .await
        .path;
    let theirs = app
        .post_in("square", "編集長の記事")
        .submit(&chief)
        .await
        .path;
    let edit = |path: &str| (format!("{path}/edit"), path.to_owned());
    let (form, target) = edit(&theirs);
    assert_eq!(
        get(&member, &app, &form).await.0,
        404,
        "members do not edit others' posts"
    );
    let res = app
        .post_form(
            &member,
            &mine,
            &target,
            &[("title", "乗っ取り"), ("body", "x"), ("action", "submit")],
        )
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(get(&editor, &app, &form).await.0, 200, "editors do");
    // Deleting something ever published needs publish rights, even one's own: neither the page that
    // asks first nor the deletion itself is there for the member.
    let yes = [("confirmed", "yes")];
    for fields in [&[][..], &yes[..]] {
        let res = app
            .post_form(&member, &mine, &format!("{mine}/delete"), fields)
            .await;
        assert_eq!(res.status(), 404, "{fields:?}");
    }
    let draft = app
        .post_in("square", "消せる下書き")
        .draft(&member)
        .await
        .path;
    let res = app
        .post_form(&member, &draft, &format!("{draft}/delete"), &yes)
        .await;
    assert_eq!(res.status(), 303);
    // The chief editor is asked first, with the post named, and nothing is deleted until yes.
    let res = app
        .post_form(&chief, &mine, &format!("{mine}/delete"), &[])
        .await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("name=\"confirmed\" value=\"yes\""), "{page}");
    assert!(page.contains("一般の記事"), "names the post");
    assert_eq!(get(&guest, &app, &mine).await.0, 200, "not deleted yet");
    let res = app
        .post_form(&chief, &mine, &format!("{mine}/delete"), &yes)
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(get(&guest, &app, &mine).await.0, 404);
    // A post's id through another room's URL is not found.
    let id = theirs.rsplit('/').next().unwrap();
    assert_eq!(
        get(&chief, &app, &format!("/rooms/council/posts/{id}"))
            .await
            .0,
        404
    );
}

#[actix_web::test]
async fn publishing_periods_are_honoured_by_the_queries() {
    let Council {
        app, member, guest, ..
    } = council().await;
    let future = app
        .post_in("square", "来年の予定")
        .body("x")
        .publish_at("2099-01-01T09:00")
        .submit(&member)
        .await
        .path;
    assert_eq!(get(&guest, &app, &future).await.0, 404, "not yet");
    let (code, page) = get(&member, &app, &future).await;
    assert_eq!(code, 200);
    assert!(
        page.contains("公開期間外"),
        "the author is told readers do not see it yet"
    );
    let res = app
        .post_form(
            &member,
            "/rooms/square/posts/new",
            "/rooms/square/posts",
            &[
                ("title", "逆転"),
                ("body", "x"),
                ("publish_at", "2030-01-02T09:00"),
                ("publish_until", "2030-01-01T09:00"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("終了日時は開始日時より後")
    );
    let expired = app
        .post_in("square", "期間限定")
        .body("x")
        .publish_at("2020-01-01T09:00")
        .publish_until("2020-02-01T09:00")
        .submit(&member)
        .await
        .path;
    assert_eq!(
        get(&guest, &app, &expired).await.0,
        404,
        "its period is over"
    );
}

#[actix_web::test]
async fn search_finds_what_each_person_may_read_and_nothing_else() {
    let Council {
        app,
        chief,
        member,
        guest,
        ..
    } = council().await;
    // A closed room only `chief` belongs to, with a post.
    let admin = app.sign_in("admin").await;
    app.room("secret")
        .closed()
        .managed_by("chief")
        .create(&admin)
        .await;
    app.post_in("secret", "会議の極秘メモ").submit(&chief).await;
    app.post_in("square", "会議の議事録").submit(&member).await;
    app.post_in("council", "会議の下書き（承認待ち）")
        .submit(&member)
        .await;
    let blog = app
        .post_form(
            &admin,
            "/rooms/public/posts/new",
            "/rooms/public/posts",
            &[
                ("title", "公開の会議案内"),
                ("body", "x"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(blog.status(), 303);
    let outsider = app.client();
    app.create_user("outsider", false);
    app.login(&outsider, "outsider", PASSWORD).await;
    let anon = app.client();
    let q = "/search?q=%E4%BC%9A%E8%AD%B0"; // 会議: a two-character word
    let found = |html: &str, title: &str| html.contains(title);
    let (_, r) = get(&anon, &app, q).await;
    assert!(found(&r, "公開の会議案内") && !found(&r, "会議の議事録") && !found(&r, "極秘"));
    let (_, r) = get(&outsider, &app, q).await;
    assert!(
        found(&r, "公開の会議案内") && found(&r, "会議の議事録"),
        "members-only rooms are readable by any member"
    );
    assert!(!found(&r, "極秘"), "closed rooms never leak into search");
    let (_, r) = get(&guest, &app, q).await;
    assert!(
        !found(&r, "極秘") && !found(&r, "承認待ち"),
        "nor do waiting versions"
    );
    let (_, r) = get(&chief, &app, q).await;
    assert!(
        found(&r, "会議の極秘メモ") && found(&r, "secret"),
        "the room's member finds it, with the room named"
    );
    assert!(
        r.contains("検索結果：3 件"),
        "three readable hits for the chief editor"
    );
}

#[actix_web::test]
async fn comments_reach_the_author_and_wait_where_the_room_wants_approval() {
    let Council {
        app,
        chief,
        member,
        guest,
        editor,
    } = council().await;
    // square: no comment approval. member writes, editor comments, the author is mailed.
    let post = app.post_in("square", "意見募集").submit(&member).await.path;
    let comments = format!("{post}/comments");
    let res = app
        .post_form(
            &editor,
            &post,
            &comments,
            &[("comment", "賛成です **強く**")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, page) = get(&guest, &app, &post).await;
    assert!(
        page.contains("<strong>強く</strong>"),
        "visible to every reader"
    );
    assert!(
        !page.contains("name=\"comment\""),
        "guests may not comment (DESIGN §4)"
    );
    let res = app
        .post_form(&guest, &post, &comments, &[("comment", "ゲストの声")])
        .await;
    assert_eq!(res.status(), 404);
    let mail = app
        .smtp
        .wait_for_subject("member@example.test", "新しいコメント")
        .await;
    assert!(mail.body.contains("意見募集"));
    let comment_count = || {
        app.db(|conn| {
            use diesel::prelude::*;
            Ok(yui::db::schema::post_comments::table
                .count()
                .get_result::<i64>(conn)?)
        })
    };
    assert_eq!(comment_count(), 1);
    let res = app
        .post_form(&editor, &post, &comments, &[("comment", "   ")])
        .await;
    assert_eq!(
        res.status(),
        303,
        "an empty comment is refused with a message, nothing saved"
    );
    assert_eq!(comment_count(), 1, "the empty comment was not saved");
    // council: turn on comment approval; a member's comment waits for the chief editor.
    let manager = app.sign_in("manager").await;
    let settings = [
        ("name", "council"),
        ("slug", "council"),
        ("visibility", "members"),
        ("state", "open"),
        ("default_role", "member"),
        ("join_policy", "invite"),
        ("quota_mb", "100"),
        ("feature_blog", "on"),
        ("need_approval", "on"),
        ("comment_approval", "on"),
    ];
    assert_eq!(
        app.post_form(
            &manager,
            "/rooms/council/settings",
            "/rooms/council/settings",
            &settings
        )
        .await
        .status(),
        303
    );
    let post = app.post_in("council", "議題").submit(&chief).await.path;
    let res = app
        .post_form(
            &member,
            &post,
            &format!("{post}/comments"),
            &[("comment", "質問があります")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        !get(&guest, &app, &post).await.1.contains("質問があります"),
        "waiting comments are hidden from readers"
    );
    assert!(
        get(&member, &app, &post).await.1.contains("質問があります"),
        "their author sees them"
    );
    let (_, page) = get(&chief, &app, &post).await;
    let marker = "/comments/";
    let start = page.find(marker).unwrap() + marker.len();
    let id: String = page[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let approve = format!("{post}/comments/{id}/approve");
    assert_eq!(
        app.post_form(&member, &post, &approve, &[]).await.status(),
        404,
        "members do not approve comments"
    );
    assert_eq!(
        app.post_form(&chief, &post, &approve, &[]).await.status(),
        303
    );
    assert!(get(&guest, &app, &post).await.1.contains("質問があります"));
}

#[actix_web::test]
async fn new_posts_are_mailed_as_each_member_chose_and_listed_as_new() {
    let Council {
        app,
        chief,
        member,
        guest,
        editor,
    } = council().await;
    // chief: one digest a day; editor: no mail; manager: the default (every post).
    assert_eq!(
        app.post_form(
            &chief,
            "/rooms/square",
            "/rooms/square/notifications",
            &[("mode", "digest")]
        )
        .await
        .status(),
        303
    );
    assert_eq!(
        app.post_form(
            &editor,
            "/rooms/square",
            "/rooms/square/notifications",
            &[("mode", "none")]
        )
        .await
        .status(),
        303
    );
    assert_eq!(
        app.post_form(
            &editor,
            "/rooms/square",
            "/rooms/square/notifications",
            &[("mode", "loud")]
        )
        .await
        .status(),
        422
    );
    let post = app
        .post_in("square", "夏祭りのお知らせ")
        .submit(&member)
        .await
        .path;
    let mail = app
        .smtp
        .wait_for_subject("manager@example.test", "[square] 夏祭りのお知らせ")
        .await;
    assert!(mail.body.contains(&app.url(&post)));
    app.outbox_drained().await;
    for silent in [
        "chief@example.test",
        "editor@example.test",
        "guest@example.test",
        "member@example.test",
    ] {
        assert!(
            app.smtp
                .mails()
                .iter()
                .all(|m| !(m.to.contains(&silent.to_owned()) && m.subject.contains("夏祭り"))),
            "{silent} gets no single mail (digest, none, guest role, author)"
        );
    }
    // Editing a published post notifies nobody again.
    let res = app
        .post_form(
            &member,
            &format!("{post}/edit"),
            &post,
            &[
                ("title", "夏祭りのお知らせ（改）"),
                ("body", "x"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.mails_to("manager@example.test", "夏祭り").await.len(),
        1,
        "the edit is not announced again"
    );
    // The digest collects it for the chief editor.
    let core = app.core.clone();
    let sent = app.db(move |conn| yui::services::new_posts::send_digests(&core, conn));
    assert_eq!(sent, 1);
    app.core.db.mail_wakeup().notify_one();
    let digest = app
        .smtp
        .wait_for_subject("chief@example.test", "新着 1 件")
        .await;
    assert!(digest.body.contains("夏祭りのお知らせ") && digest.body.contains(&app.url(&post)));
    let core = app.core.clone();
    assert_eq!(
        app.db(move |conn| yui::services::new_posts::send_digests(&core, conn)),
        0,
        "sent once"
    );
    // 新着 lists it for every reader of the room.
    let (_, new) = get(&guest, &app, "/new").await;
    assert!(new.contains("夏祭りのお知らせ") && new.contains("square"));
    assert_eq!(
        app.client()
            .get(app.url("/new"))
            .send()
            .await
            .unwrap()
            .status(),
        303,
        "new needs a login"
    );
}

#[actix_web::test]
async fn only_public_rooms_have_a_feed() {
    let Council { app, member, .. } = council().await;
    app.post_in("square", "会員向け").submit(&member).await;
    assert_eq!(
        app.client()
            .get(app.url("/rooms/square/feed.atom"))
            .send()
            .await
            .unwrap()
            .status(),
        404,
        "members-only room"
    );
    let manager = app.sign_in("manager").await;
    let settings = [
        ("name", "square"),
        ("slug", "square"),
        ("visibility", "public"),
        ("state", "open"),
        ("default_role", "member"),
        ("join_policy", "invite"),
        ("quota_mb", "100"),
        ("feature_blog", "on"),
    ];
    assert_eq!(
        app.post_form(
            &manager,
            "/rooms/square/settings",
            "/rooms/square/settings",
            &settings
        )
        .await
        .status(),
        303
    );
    let res = app
        .client()
        .get(app.url("/rooms/square/feed.atom"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let feed: atom_syndication::Feed = res.text().await.unwrap().parse().unwrap();
    assert_eq!(feed.entries()[0].title().as_str(), "会員向け");
    assert!(
        feed.entries()[0].links()[0]
            .href()
            .starts_with(&app.url("/rooms/square/posts/"))
    );
}

/// Writes a post scheduled for 2099 in `room`.
async fn schedule(app: &TestApp, c: &reqwest::Client, room: &str, title: &str) {
    app.post_in(room, title)
        .body("予定の記事")
        .publish_at("2099-01-01T09:00")
        .submit(c)
        .await;
}

/// Runs the jobs loop's announcement step as if the clock said `at`.
fn announce_at(app: &TestApp, at: &str) -> usize {
    let at = chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M").unwrap();
    let core = app.core.clone();
    app.db(move |conn| yui::services::new_posts::announce_due(&core, conn, at))
}

/// How many mails with `subject` in their subject went to each address, after the sender settled.
async fn mails_about(app: &TestApp, subject: &str) -> std::collections::BTreeMap<String, usize> {
    app.outbox_drained().await;
    let mut counts = std::collections::BTreeMap::new();
    for m in app.smtp.mails() {
        if m.subject.contains(subject) {
            for to in m.to {
                *counts.entry(to).or_insert(0) += 1;
            }
        }
    }
    counts
}

#[actix_web::test]
async fn scheduled_posts_are_mailed_once_when_their_time_comes() {
    let Council { app, member, .. } = council().await;
    schedule(&app, &member, "square", "来年の予定").await;
    assert!(
        mails_about(&app, "来年の予定").await.is_empty(),
        "nobody hears of it before its time"
    );
    assert_eq!(announce_at(&app, "2098-12-31 23:59"), 0, "not due yet");
    assert_eq!(announce_at(&app, "2099-01-01 01:00"), 1, "due (09:00 JST)");
    app.smtp
        .wait_for_subject("manager@example.test", "[square] 来年の予定")
        .await;
    let once: std::collections::BTreeMap<String, usize> = [
        "chief@example.test",
        "editor@example.test",
        "manager@example.test",
    ]
    .into_iter()
    .map(|to| (to.to_owned(), 1))
    .collect();
    assert_eq!(
        mails_about(&app, "来年の予定").await,
        once,
        "one mail each for the roles that receive it (not the guest, not the author)"
    );
    assert_eq!(announce_at(&app, "2099-01-02 00:00"), 0, "announced once");
    assert_eq!(mails_about(&app, "来年の予定").await, once);

    // Several processes at once (two transactions racing for one post): still once.
    schedule(&app, &member, "square", "再来年の予定").await;
    let racers: Vec<_> = (0..2)
        .map(|_| {
            let core = app.core.clone();
            std::thread::spawn(move || {
                let at =
                    chrono::NaiveDateTime::parse_from_str("2099-06-01 00:00", "%Y-%m-%d %H:%M")
                        .unwrap();
                let c = core.clone();
                core.db
                    .run_sync(true, move |conn| {
                        yui::services::new_posts::announce_due(&c, conn, at)
                    })
                    .unwrap()
            })
        })
        .collect();
    let announced: usize = racers.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(announced, 1);
    assert_eq!(mails_about(&app, "再来年の予定").await.len(), 3);
}

#[actix_web::test]
async fn scheduled_posts_are_announced_only_to_members_who_may_read_the_room() {
    let Council { app, .. } = council().await;
    let admin = app.sign_in("admin").await;
    let manager = app.user("prepper").signed_in().await;
    app.user("cohost").create();
    app.user("writer").create();
    // A room under preparation (準備中): only its managers see it.
    app.room("prep")
        .preparing()
        .managed_by("prepper")
        .member("cohost", "manager")
        .member("writer", "chief_editor")
        .create(&admin)
        .await;
    schedule(&app, &manager, "prep", "準備中の予定").await;
    assert_eq!(announce_at(&app, "2099-01-02 00:00"), 1);
    app.smtp
        .wait_for_subject("cohost@example.test", "準備中の予定")
        .await;
    let counts = mails_about(&app, "準備中の予定").await;
    assert_eq!(
        counts.keys().collect::<Vec<_>>(),
        ["cohost@example.test"],
        "the other manager hears of it; the chief editor cannot read the room yet"
    );
}

/// Whether the navigation offers the approvals inbox to `c`.
async fn approvals_link(app: &TestApp, c: &reqwest::Client) -> bool {
    get(c, app, "/rooms").await.1.contains("href=\"/inbox\"")
}

/// Saves a room's adjustable cells: exactly `on` are allowed.
async fn set_cells(app: &TestApp, manager: &reqwest::Client, room: &str, on: &[&str]) {
    let path = format!("/rooms/{room}/permissions");
    let fields: Vec<(String, &str)> = on.iter().map(|c| (format!("cell:{c}"), "on")).collect();
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        app.post_form(manager, &path, &path, &fields).await.status(),
        303
    );
}

#[actix_web::test]
async fn the_approvals_link_follows_each_room_s_publish_rights() {
    let Council {
        app, chief, editor, ..
    } = council().await;
    let manager = app.sign_in("manager").await;
    assert!(
        !approvals_link(&app, &editor).await,
        "editors may not approve unless a room allows it"
    );
    assert!(approval_link_and_inbox_agree(&app, &chief).await);
    // council: editors may approve, chief editors may not; square keeps the defaults.
    set_cells(
        &app,
        &manager,
        "council",
        &["create:member", "edit_others:editor", "publish:editor"],
    )
    .await;
    assert!(approvals_link(&app, &editor).await);
    assert!(approvals_link(&app, &chief).await, "square still lets them");
    set_cells(
        &app,
        &manager,
        "square",
        &["create:member", "edit_others:editor"],
    )
    .await;
    assert!(
        !approvals_link(&app, &chief).await,
        "no room lets the chief editor approve any more"
    );
    assert!(approvals_link(&app, &editor).await);
}

/// The link shows, and the inbox answers.
async fn approval_link_and_inbox_agree(app: &TestApp, c: &reqwest::Client) -> bool {
    approvals_link(app, c).await && get(c, app, "/inbox").await.0 == 200
}

/// Sends the daily digests now and returns how many went out.
fn send_digests(app: &TestApp) -> usize {
    let core = app.core.clone();
    let sent = app.db(move |conn| yui::services::new_posts::send_digests(&core, conn));
    app.core.db.mail_wakeup().notify_one();
    sent
}

/// A digest is checked when it goes out, not only when a post was queued for it: a post deleted
/// meanwhile is left out, and a member removed from the room hears of none of its posts.
#[actix_web::test]
async fn a_digest_lists_only_what_its_reader_may_still_read() {
    let Council {
        app, chief, member, ..
    } = council().await;
    let res = app
        .post_form(
            &chief,
            "/rooms/square",
            "/rooms/square/notifications",
            &[("mode", "digest")],
        )
        .await;
    assert_eq!(res.status(), 303);
    app.post_in("square", "残る記事").submit(&member).await;
    let gone = app
        .post_in("square", "消える記事")
        .submit(&member)
        .await
        .path;
    let res = app
        .post_form(
            &chief,
            &gone,
            &format!("{gone}/delete"),
            &[("confirmed", "yes")],
        )
        .await;
    assert_eq!(res.status(), 303, "the chief editor deletes one");
    assert_eq!(send_digests(&app), 1);
    let digest = app
        .smtp
        .wait_for_subject("chief@example.test", "新着")
        .await;
    assert!(digest.body.contains("残る記事"), "{}", digest.body);
    assert!(!digest.body.contains("消える記事"), "{}", digest.body);
    // Queued, then the reader leaves the room before the digest: nothing goes out.
    app.post_in("square", "ひみつの相談").submit(&member).await;
    let manager = app.sign_in("manager").await;
    let res = app
        .post_form(
            &manager,
            "/rooms/square/members",
            "/rooms/square/members/chief",
            &[("action", "remove")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(send_digests(&app), 0, "no digest for a room one has left");
    let queued: i64 = app.db(|conn| {
        use diesel::prelude::*;
        Ok(yui::db::schema::digest_items::table
            .count()
            .get_result(conn)?)
    });
    assert_eq!(queued, 0, "what was queued is gone, not kept for later");
    assert!(
        app.smtp
            .mails()
            .iter()
            .all(|m| !m.body.contains("ひみつの相談")
                || !m.to.contains(&"chief@example.test".to_owned()))
    );
}

/// The newest comment's id.
fn newest_comment(app: &TestApp) -> i64 {
    app.db(|conn| {
        use diesel::prelude::*;
        use yui::db::schema::post_comments::dsl as c;
        Ok(c::post_comments
            .select(c::id)
            .order(c::id.desc())
            .first::<i64>(conn)?)
    })
}

/// A comment's stored words, if it still exists.
fn comment_words(app: &TestApp, id: i64) -> Option<String> {
    app.db(|conn| {
        use diesel::prelude::*;
        use yui::db::schema::post_comments::dsl as c;
        Ok(c::post_comments
            .filter(c::id.eq(id))
            .select(c::body_md)
            .first::<String>(conn)
            .optional()?)
    })
}

/// Authors change and delete their own comments; moderators (who edit others' content or approve
/// comments) delete anyone's but change nobody's words; nobody else reaches a comment's page; a
/// changed comment in a room with comment approval waits again.
#[actix_web::test]
async fn authors_change_and_delete_their_comments_and_moderators_delete_them() {
    let Council {
        app,
        chief,
        member,
        guest,
        editor,
    } = council().await;
    let post = app.post_in("square", "意見募集").submit(&chief).await.path;
    let res = app
        .post_form(
            &member,
            &post,
            &format!("{post}/comments"),
            &[("comment", "最初の言葉")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let id = newest_comment(&app);
    let page = format!("{post}/comments/{id}");
    let (_, html) = get(&member, &app, &post).await;
    assert!(
        html.contains(&format!("href=\"{page}\"")),
        "its author gets the link"
    );
    let (_, html) = get(&guest, &app, &post).await;
    assert!(
        !html.contains(&format!("href=\"{page}\"")),
        "a guest does not"
    );

    // Someone else: a guest, and another post's address for the same comment, find nothing.
    assert_eq!(get(&guest, &app, &page).await.0, 404);
    let other = app.post_in("square", "別の記事").submit(&chief).await.path;
    let elsewhere = format!("{other}/comments/{id}");
    assert_eq!(get(&member, &app, &elsewhere).await.0, 404);
    let res = app
        .post_form(&member, &post, &elsewhere, &[("comment", "よそから")])
        .await;
    assert_eq!(
        res.status(),
        404,
        "a comment is changed only under its own post"
    );
    let res = app
        .post_form(&guest, &post, &format!("{page}/delete"), &[])
        .await;
    assert_eq!(res.status(), 404, "a guest deletes nothing");
    // A moderator may delete, never put words in the author's mouth.
    let (status, html) = get(&chief, &app, &page).await;
    assert_eq!(status, 200);
    assert!(!html.contains("name=\"comment\"") && html.contains("/delete\""));
    let res = app
        .post_form(&chief, &post, &page, &[("comment", "書き換えた")])
        .await;
    assert_eq!(res.status(), 404, "nobody changes another's words");
    assert_eq!(comment_words(&app, id).as_deref(), Some("最初の言葉"));

    // The author changes it; an empty change is refused under its field, keeping nothing lost.
    let res = app
        .post_form(&member, &post, &page, &[("comment", "  ")])
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("class=\"field-error\""), "{html}");
    assert_eq!(comment_words(&app, id).as_deref(), Some("最初の言葉"));
    let res = app
        .post_form(&member, &post, &page, &[("comment", "考え直した **言葉**")])
        .await;
    assert_eq!(res.status(), 303);
    let (_, html) = get(&guest, &app, &post).await;
    assert!(html.contains("考え直した <strong>言葉</strong>") && html.contains("編集済み"));
    assert!(!html.contains("最初の言葉"));

    // A moderator deletes it, twice at once: one wins, the other finds nothing.
    let del = format!("{page}/delete");
    let (a, b) = tokio::join!(
        app.post_form(&editor, &post, &del, &[]),
        app.post_form(&editor, &post, &del, &[])
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 404]);
    assert_eq!(comment_words(&app, id), None);
    let deleted = app.db(|conn| {
        use diesel::prelude::*;
        use yui::db::schema::audit_log::dsl as l;
        Ok(l::audit_log
            .filter(l::action.eq("comment.deleted"))
            .count()
            .get_result::<i64>(conn)?)
    });
    assert_eq!(deleted, 1, "the audit log keeps who deleted whose comment");

    // In council comments wait for approval: an approved comment changed by its author waits again.
    let manager = app.sign_in("manager").await;
    let settings = [
        ("name", "council"),
        ("slug", "council"),
        ("visibility", "members"),
        ("state", "open"),
        ("default_role", "member"),
        ("join_policy", "invite"),
        ("quota_mb", "100"),
        ("feature_blog", "on"),
        ("need_approval", "on"),
        ("comment_approval", "on"),
    ];
    let res = app
        .post_form(
            &manager,
            "/rooms/council/settings",
            "/rooms/council/settings",
            &settings,
        )
        .await;
    assert_eq!(res.status(), 303);
    let post = app.post_in("council", "議題").submit(&chief).await.path;
    let res = app
        .post_form(
            &member,
            &post,
            &format!("{post}/comments"),
            &[("comment", "穏やかな意見")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let id = newest_comment(&app);
    let page = format!("{post}/comments/{id}");
    let res = app
        .post_form(&chief, &post, &format!("{page}/approve"), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert!(get(&guest, &app, &post).await.1.contains("穏やかな意見"));
    let res = app
        .post_form(&member, &post, &page, &[("comment", "差し替えた意見")])
        .await;
    assert_eq!(res.status(), 303);
    let html = get(&guest, &app, &post).await.1;
    assert!(
        !html.contains("差し替えた意見") && !html.contains("穏やかな意見"),
        "a changed comment waits for approval again"
    );
    assert!(get(&chief, &app, &post).await.1.contains("差し替えた意見"));
    // The author deletes their own.
    let res = app
        .post_form(&member, &post, &format!("{page}/delete"), &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(comment_words(&app, id), None);
}

/// Text as tera writes it into a page (a textarea's contents, an attribute).
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// Images in posts without JavaScript: the editor's picker offers the room cabinet's raster images
/// (never an SVG, another room's file or one in the trash); choosing one adds its Markdown to the
/// end of the text and saves nothing; a file id of another room or an SVG is refused under the
/// picker; the published post shows the image to its readers, who may open it.
#[actix_web::test]
async fn a_cabinet_image_is_picked_into_a_post_and_shown_to_its_readers() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let author = app.user("author").signed_in().await;
    let reader = app.user("reader").signed_in().await;
    app.room("club")
        .features(&["blog", "files"])
        .managed_by("author")
        .member("reader", "member")
        .create(&admin)
        .await;
    app.room("other")
        .features(&["blog", "files"])
        .managed_by("author")
        .create(&admin)
        .await;
    let png = b"\x89PNG\r\n\x1a\nnot really a picture".to_vec();
    let photo = app
        .file_in("club", "運動会 1.png")
        .bytes(png.clone())
        .upload(&author)
        .await;
    let svg = app
        .file_in("club", "logo.svg")
        .bytes(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec())
        .upload(&author)
        .await;
    let elsewhere = app
        .file_in("other", "secret.png")
        .bytes(png.clone())
        .upload(&author)
        .await;
    let option = |id: i64| format!("<option value=\"{id}\">");
    let (code, page) = get(&author, &app, "/rooms/club/posts/new").await;
    assert_eq!(code, 200);
    assert!(page.contains(&format!("{}運動会 1.png</option>", option(photo.id))));
    assert!(!page.contains(&option(svg.id)), "an SVG is never offered");
    assert!(
        !page.contains(&option(elsewhere.id)),
        "another room's image"
    );

    let posts_before = get(&author, &app, "/rooms/club").await.1;
    let insert = async |image: &str| {
        app.post_form(
            &author,
            "/rooms/club/posts/new",
            "/rooms/club/posts",
            &[
                ("title", "運動会"),
                ("body", "写真です。\r\n"),
                ("action", "insert_image"),
                ("image", image),
            ],
        )
        .await
    };
    let res = insert(&photo.id.to_string()).await;
    assert_eq!(res.status(), 200);
    let editor = res.text().await.unwrap();
    let markdown = format!(
        "![運動会 1](/rooms/club/files/file/{}/%E9%81%8B%E5%8B%95%E4%BC%9A%201.png)",
        photo.id
    );
    assert!(
        editor.contains(&format!(
            "写真です。\n\n{}\n</textarea>",
            escaped(&markdown)
        )),
        "the image's Markdown ends the text"
    );
    assert!(editor.contains("value=\"運動会\""), "what was typed stays");
    assert_eq!(
        get(&author, &app, "/rooms/club").await.1,
        posts_before,
        "inserting saves nothing"
    );
    for refused in [elsewhere.id.to_string(), svg.id.to_string(), "x".to_owned()] {
        let res = insert(&refused).await;
        assert_eq!(res.status(), 422, "image {refused}");
        let page = res.text().await.unwrap();
        assert!(
            page.contains("その画像はこのルームのファイル置き場にありません。"),
            "image {refused}"
        );
        assert!(!page.contains("secret.png"));
    }

    let post = app
        .post_in("club", "運動会")
        .body(&format!("写真です。\n\n{markdown}\n"))
        .published(&author)
        .await;
    let (code, page) = get(&reader, &app, &post.path).await;
    assert_eq!(code, 200);
    let img = format!(
        "<img src=\"/rooms/club/files/file/{}/%E9%81%8B%E5%8B%95%E4%BC%9A%201.png\" alt=\"運動会 1\" loading=\"lazy\">",
        photo.id
    );
    assert!(page.contains(&img), "{page}");
    let res = reader
        .get(app.url(&format!("/rooms/club/files/file/{}/x", photo.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.bytes().await.unwrap().to_vec(), png);
}
