//! `yui demo`: fills an empty site with realistic sample content in Japanese and English
//! (1,000 posts with tags by default, and a few members) so a newcomer can look around and the
//! benchmarks have data. Content is generated from fixed phrase lists with a seeded generator, so every
//! run produces the same site and nothing is downloaded.

mod calendar;

use std::fmt::Write;

use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::db::types::MailMode;
use crate::error::AppError;
use crate::services::account::{NewAccount, actor_by_login, insert_account};
use crate::services::admin::SiteRole;
use crate::services::authz::RoomRole;
use crate::services::rooms::{self, RoomForm};
use crate::services::site::{SettingsForm, SiteSettings};
use crate::services::{Actor, password};

/// Options of `demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Password for every demo account (logins: admin, hanako, manager, chief, editor, member, guest,
    /// outsider).
    #[arg(long, env = "YUI_DEMO_PASSWORD")]
    pub password: String,
    /// How many posts to write.
    #[arg(long, default_value_t = 1000)]
    pub posts: usize,
    /// Extra posts for the public demo room "town" (for benchmarks: a room with 100,000 posts).
    #[arg(long, default_value_t = 0)]
    pub room_posts: usize,
    /// Extra closed rooms with a calendar, `cal-001`, `cal-002`, … (for benchmarks): `manager`
    /// manages them all, `member` belongs to the first 30.
    #[arg(long, default_value_t = 0)]
    pub rooms: usize,
    /// Calendar events for those rooms (for benchmarks): a quarter of them series of every kind,
    /// some with a skipped or changed occurrence, over the two years around today.
    #[arg(long, default_value_t = 0)]
    pub events: usize,
    /// Extra facilities every room may book, each with 60 reservations by those rooms.
    #[arg(long, default_value_t = 0)]
    pub facilities: usize,
}

/// A tiny deterministic generator (xorshift), enough to vary sample text.
struct Seq(u64);

impl Seq {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let i = usize::try_from(self.next() % items.len() as u64).unwrap_or(0);
        items[i]
    }
}

const JA_TOPICS: &[&str] = &[
    "町内会の秋祭り",
    "防災訓練",
    "職員会議",
    "図書室の新刊",
    "家族旅行",
    "庭の手入れ",
    "会議室の予約",
    "新年度の準備",
    "地域清掃",
    "写真展",
    "東京出張",
    "避難所の確認",
    "PTA総会",
    "運動会",
    "梅雨の備え",
];
const JA_SUFFIX: &[&str] = &[
    "のお知らせ",
    "について",
    "の報告",
    "を終えて",
    "の振り返り",
    "のご案内",
];
const JA_SENTENCES: &[&str] = &[
    "今週の土曜日、予定どおり開催しました。",
    "参加された皆さま、ありがとうございました。",
    "次回の日程は決まり次第お知らせします。",
    "集合場所は公民館の前です。",
    "雨天の場合は翌週に延期します。",
    "持ち物は飲み物と軍手です。",
    "詳しくは担当の田中までご連絡ください。",
    "会議の資料は共有フォルダに置いてあります。",
    "避難経路を家族で確認しておきましょう。",
    "写真は後日まとめて公開します。",
];
const EN_TOPICS: &[&str] = &[
    "Autumn festival",
    "Earthquake drill",
    "Staff meeting",
    "New library books",
    "Family trip",
    "Garden work",
    "Room booking",
    "Spring term",
    "Neighbourhood clean-up",
    "Photo exhibition",
];
const EN_SUFFIX: &[&str] = &[
    " notes",
    ": what we learned",
    " announcement",
    " report",
    " plans",
];
const EN_SENTENCES: &[&str] = &[
    "We met on Saturday as planned.",
    "Thanks to everyone who came along.",
    "The next date will be announced soon.",
    "Please bring water and gloves.",
    "If it rains we will move to the following week.",
    "The slides are in the shared folder.",
    "Check the evacuation route with your family.",
    "Photos will be posted later this week.",
];
const TAGS: &[&str] = &[
    "お知らせ",
    "イベント",
    "防災",
    "学校",
    "家族",
    "news",
    "events",
    "meeting",
    "写真",
    "地域",
];

fn body(seq: &mut Seq, sentences: &[&str], heading: &str) -> String {
    let mut out = String::new();
    for para in 0..3 {
        if para == 1 {
            let _ = write!(out, "## {heading}\n\n");
        }
        for _ in 0..3 {
            out.push_str(seq.pick(sentences));
            out.push(' ');
        }
        out.push_str("\n\n");
    }
    let _ = write!(
        out,
        "- {}\n- {}\n",
        seq.pick(sentences),
        seq.pick(sentences)
    );
    out
}

/// Fills the site.
pub fn run(args: &DemoArgs, config: Config) -> anyhow::Result<()> {
    // Every demo account gets this password, so it must pass the rule for each of them (a demo
    // site is often put online to try it out).
    for (login, name, _) in PEOPLE {
        let email = format!("{login}@example.com");
        let owner = password::Owner {
            login,
            display_name: name,
            email: &email,
        };
        let mut errors = crate::error::FieldErrors::default();
        password::check_policy(&args.password, &owner, "password", &mut errors);
        if let Some(key) = errors.get("password") {
            anyhow::bail!(
                "the demo password is refused for {login}: {}",
                crate::i18n::t(crate::i18n::Lang::En, key, &[])
            );
        }
    }
    if args.rooms == 0 && (args.events > 0 || args.facilities > 0) {
        anyhow::bail!("--events and --facilities need rooms to be in: give --rooms too");
    }
    let core = crate::app::build_core(config)?;
    let db = core.db.clone();
    let err = |e: AppError| anyhow::anyhow!("{e}");
    let existing = db
        .run_sync(false, crate::services::blog::post_count)
        .map_err(err)?;
    if existing > 0 {
        anyhow::bail!(
            "this site already has {existing} posts; `yui demo` only fills an empty site"
        );
    }
    let hash = password::hash_now(&args.password)?;
    let authors = create_people(&db, &hash).map_err(err)?;
    write_room_posts(&core).map_err(err)?;
    fill_calendars(&core).map_err(err)?;
    fill_facilities(&core).map_err(err)?;
    fill_cabinets(&core).map_err(err)?;
    fill_profiles(&core, &args.password).map_err(err)?;
    if args.room_posts > 0 {
        fill_room(&core, args.room_posts).map_err(err)?;
    }
    if args.rooms > 0 {
        let filled =
            calendar::fill(&core, args.rooms, args.events, args.facilities).map_err(err)?;
        super::say(&format!(
            "calendar rooms: {}, events: {} ({} series), facilities: {} with {} reservations",
            args.rooms, filled.events, filled.series, args.facilities, filled.bookings
        ));
    }
    write_posts(&core, &authors, args.posts).map_err(err)?;
    staff_public_space(&db).map_err(err)?;
    super::say(&format!(
        "demo site ready: {} posts and {} rooms; log in as admin (site administrator), manager, chief, \
         editor, member, guest (one per room role) or outsider (in no room) with the password you gave",
        args.posts,
        ROOMS.len()
    ));
    Ok(())
}

/// The demo accounts: two site administrators who write the blog, one account per room role (each
/// holds that role in every demo room, so a newcomer can log in as each and compare), and an
/// outsider who belongs to no room.
const PEOPLE: &[(&str, &str, SiteRole)] = &[
    ("admin", "管理者", SiteRole::Admin),
    ("hanako", "山田 花子", SiteRole::Admin),
    ("manager", "佐藤 ルーム管理者", SiteRole::Member),
    ("chief", "鈴木 編集長", SiteRole::Member),
    ("editor", "高橋 編集者", SiteRole::Member),
    ("member", "田中 一般", SiteRole::Member),
    ("guest", "Guest Green", SiteRole::Guest),
    ("outsider", "Olivia Outsider", SiteRole::Member),
];

/// The demo rooms: `(slug, name, visibility, state, join policy, need approval, parent)`.
const ROOMS: &[(&str, &str, &str, &str, &str, bool, &str)] = &[
    (
        "town",
        "町内会（公開）",
        "public",
        "open",
        "open",
        false,
        "",
    ),
    (
        "staff",
        "職員室（会員限定・承認あり）",
        "members",
        "open",
        "request",
        true,
        "",
    ),
    (
        "family",
        "家族（非公開）",
        "closed",
        "open",
        "invite",
        false,
        "",
    ),
    (
        "plans",
        "新年度の準備（準備中）",
        "members",
        "preparing",
        "invite",
        false,
        "",
    ),
    (
        "town-disaster",
        "防災班（町内会のサブルーム）",
        "members",
        "open",
        "invite",
        false,
        "town",
    ),
];

/// The extra, verified address of the demo account `member` (a phone beside the account email).
const DEMO_PHONE: &str = "member.phone@example.com";

/// Creates the demo accounts and rooms; returns the administrators, who write the posts.
fn create_people(db: &crate::db::Db, hash: &str) -> Result<Vec<Actor>, AppError> {
    db.run_sync(true, |conn| {
        let mut authors = Vec::new();
        let mut by_login = std::collections::HashMap::new();
        for (login, name, role) in PEOPLE {
            let u = insert_account(
                conn,
                &NewAccount {
                    login: (*login).to_owned(),
                    email: format!("{login}@example.com"),
                    display_name: (*name).to_owned(),
                    role: *role,
                    language: None,
                },
                hash,
            )?;
            if u.is_admin() {
                authors.push(Actor::from(&u));
            }
            // Reachable from the start, so a newcomer can run a drill at once (the addresses are
            // made up: verifying them by mail could never work).
            crate::services::reachability::verify_without_mail(conn, u.id, &u.email)?;
            if *login == "member" {
                crate::services::reachability::verify_without_mail(conn, u.id, DEMO_PHONE)?;
            }
            by_login.insert(*login, u.id);
        }
        // Rooms are made as the site administrator makes them on the admin page.
        let admin = actor_by_login(conn, "admin")?;
        for (slug, name, visibility, state, join, approval, parent) in ROOMS {
            let on = Some("on".to_owned());
            let form = RoomForm {
                name: (*name).to_owned(),
                slug: (*slug).to_owned(),
                description:
                    "デモ用のルームです。ロールごとにログインして、見え方の違いを確かめてください。"
                        .to_owned(),
                visibility: (*visibility).to_owned(),
                state: (*state).to_owned(),
                default_role: RoomRole::Member.to_string(),
                join_policy: (*join).to_owned(),
                need_approval: approval.then(|| on.clone()).flatten(),
                comment_approval: approval.then(|| on.clone()).flatten(),
                quota_mb: "1024".to_owned(),
                feature_blog: on.clone(),
                feature_files: on.clone(),
                feature_calendar: on,
                parent: (*parent).to_owned(),
                manager: demo_login(RoomRole::Manager).to_owned(),
                public_space: false,
                quota_locked: false,
            };
            rooms::create_room(conn, &admin, &form)?;
            staff_room(conn, &admin, slug)?;
        }
        let settings = SettingsForm {
            title: "結 Yui デモ".to_owned(),
            tagline: "みんなの掲示板 — a neighbourhood blog".to_owned(),
            // The community centre's own closing days, beside the national holidays.
            holidays: [
                "2026-12-29 年末休館",
                "2026-12-30 年末休館",
                "2026-12-31 年末休館",
                "2027-01-02 年始休館",
                "2027-01-03 年始休館",
            ]
            .join("\n"),
            ..SettingsForm::from(&crate::services::site::load(conn)?)
        };
        crate::services::admin::save_settings(conn, &admin, &settings, "127.0.0.1")?;
        Ok(authors)
    })
}

/// Sample documents for every demo room's cabinet: `(folder, name, text)` (folder "" = top).
const CABINET_DOCS: &[(&str, &str, &str)] = &[
    (
        "",
        "はじめに.txt",
        "このルームのファイル置き場です。\nフォルダを作り、ファイルをアップロードし、名前の変更・移動・コピー・ごみ箱が使えます。\n\nThis is the room's file cabinet: make folders, upload, rename, move, copy, and restore from the trash.\n",
    ),
    (
        "会議資料",
        "2026年度 年間計画.txt",
        "4月 総会\n6月 防災訓練\n8月 夏祭り\n10月 地域清掃\n12月 年末夜警\n2月 新年度の準備\n",
    ),
    (
        "会議資料",
        "議事録_11月.md",
        "# 11月 定例会 議事録\n\n- 出席: 12名\n- 議題: 秋祭りの振り返り、避難所の確認\n- 次回: 12月第2土曜日\n",
    ),
    (
        "会議資料",
        "予算案.csv",
        "項目,金額\n防災用品,120000\n祭り,80000\n会報印刷,30000\n",
    ),
    (
        "Documents",
        "meeting-notes.txt",
        "Monthly meeting\n- attendance: 12\n- next meeting: second Saturday of December\n",
    ),
];

/// The demo music folder: `(file name, title, frequency)`: short generated tones with tags.
const CABINET_MUSIC: &[(&str, &str, f32)] = &[
    ("01 朝の歌.wav", "朝の歌", 440.0),
    ("02 夕焼け小焼け.wav", "夕焼け小焼け", 523.25),
    ("03 ふるさと.wav", "ふるさと", 659.25),
];

/// Fills each demo room's cabinet with folders, documents with Japanese names and a small music
/// folder, uploaded as the room's manager.
fn fill_cabinets(core: &crate::services::Core) -> Result<(), AppError> {
    use crate::files::audio::AudioTags;
    use crate::files::names::clean_name;
    use crate::services::files;
    let storage = core.storage.clone();
    core.db.run_sync(true, |conn| {
        let actor = actor_by_login(conn, "manager")?;
        for (slug, ..) in ROOMS {
            let mut folders = std::collections::HashMap::new();
            let mut folder_of =
                |conn: &mut crate::db::DbConn, name: &str| -> Result<Option<i64>, AppError> {
                    if name.is_empty() {
                        return Ok(None);
                    }
                    if let Some(id) = folders.get(name) {
                        return Ok(Some(*id));
                    }
                    let id = files::create_folder(conn, &actor, slug, None, name)?;
                    folders.insert(name.to_owned(), id);
                    Ok(Some(id))
                };
            let put = |conn: &mut crate::db::DbConn,
                       folder: Option<i64>,
                       name: &str,
                       bytes: &[u8],
                       tags: &AudioTags|
             -> Result<(), AppError> {
                let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
                let target = files::check_upload(core, conn, &actor, slug, folder, Some(size))?;
                let staged = storage.stage_bytes(bytes)?;
                let clean = clean_name(name).map_err(|_| {
                    AppError::Internal(anyhow::anyhow!("bad demo file name {name}"))
                })?;
                let result =
                    files::commit_upload(&storage, conn, &actor, &target, &staged, &clean, tags);
                storage.discard(&staged);
                result.map(drop)
            };
            for (folder, name, text) in CABINET_DOCS {
                let folder = folder_of(conn, folder)?;
                put(conn, folder, name, text.as_bytes(), &AudioTags::default())?;
            }
            let music = folder_of(conn, "音楽")?;
            for (i, (name, title, freq)) in CABINET_MUSIC.iter().enumerate() {
                let track = u32::try_from(i + 1).unwrap_or(1);
                let tags = crate::sample_audio::ToneTags {
                    title,
                    artist: "結 合唱団",
                    album: "デモ曲集",
                    track,
                };
                let wav = crate::sample_audio::tone_wav(*freq, 3, tags);
                let read = AudioTags {
                    title: Some((*title).to_owned()),
                    artist: Some(tags.artist.to_owned()),
                    album: Some(tags.album.to_owned()),
                    track: Some(i64::from(track)),
                };
                put(conn, music, name, &wav, &read)?;
            }
        }
        Ok(())
    })
}

/// Writes `count` posts in transactions of 100, with a progress bar.
fn write_posts(
    core: &crate::services::Core,
    authors: &[Actor],
    count: usize,
) -> Result<(), AppError> {
    use crate::services::room_posts::{self, RoomPostForm};
    let bar = ProgressBar::new(count as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("writing posts");
    let site = SiteSettings::default();
    let mut seq = Seq(0x9E37_79B9_7F4A_7C15);
    let now = chrono::Utc::now().naive_utc();
    for chunk_start in (0..count).step_by(100) {
        let chunk_end = (chunk_start + 100).min(count);
        let mut forms = Vec::new();
        for i in chunk_start..chunk_end {
            let japanese = i % 3 != 2;
            let (title, text) = if japanese {
                let topic = seq.pick(JA_TOPICS);
                (
                    format!("{topic}{}（第{}回）", seq.pick(JA_SUFFIX), i + 1),
                    body(&mut seq, JA_SENTENCES, "詳細"),
                )
            } else {
                let topic = seq.pick(EN_TOPICS);
                (
                    format!("{topic}{} #{}", seq.pick(EN_SUFFIX), i + 1),
                    body(&mut seq, EN_SENTENCES, "Details"),
                )
            };
            let tags = format!("{}, {}", seq.pick(TAGS), seq.pick(TAGS));
            // Spread publication over the past ~3 years, oldest first.
            let hours_ago = i64::try_from((count - i) * 26).unwrap_or(0);
            let published = now - chrono::Duration::hours(hours_ago);
            forms.push(RoomPostForm {
                title,
                body: text,
                publish_at: site.local_input(published),
                publish_until: String::new(),
                slug: String::new(),
                tags,
                action: "submit".into(),
                lang: String::new(),
                image: String::new(),
            });
        }
        core.db.run_sync(true, |conn| {
            let space = crate::services::blog::space_slug(conn)?;
            for (n, form) in forms.iter().enumerate() {
                room_posts::create(core, conn, &authors[n % authors.len()], &space, form, &site)?;
            }
            Ok(())
        })?;
        bar.set_position(chunk_end as u64);
    }
    bar.finish_with_message("posts written");
    Ok(())
}

/// Gives the demo accounts their roles in the public space too (after the posts are written, so
/// nobody is mailed about a thousand of them), so a newcomer sees the blog's approval at work.
fn staff_public_space(db: &crate::db::Db) -> Result<(), AppError> {
    db.run_sync(true, |conn| {
        let admin = actor_by_login(conn, "admin")?;
        let space = crate::services::blog::space_slug(conn)?;
        staff_room(conn, &admin, &space)
    })
}

/// Gives each demo account its role in a room (the manager, if already in, keeps theirs) and makes
/// the manager the room's safety officer, so a newcomer can run a drill at once.
fn staff_room(conn: &mut crate::db::DbConn, admin: &Actor, slug: &str) -> Result<(), AppError> {
    let managers = rooms::members_page(conn, admin, slug)?;
    for role in RoomRole::ALL {
        let login = demo_login(role);
        if !managers.has_member(login) {
            rooms::add_member(conn, admin, slug, login, role.as_str())?;
        }
    }
    crate::services::safety::set_officer(conn, admin, slug, demo_login(RoomRole::Manager), true)
}

/// The demo account that holds `role` in every demo room.
fn demo_login(role: RoomRole) -> &'static str {
    match role {
        RoomRole::Manager => "manager",
        RoomRole::ChiefEditor => "chief",
        RoomRole::Editor => "editor",
        RoomRole::Member => "member",
        RoomRole::Guest => "guest",
    }
}

/// Room posts that show the approval workflow: published ones, one waiting in the 編集長's inbox,
/// one sent back with a note.
fn write_room_posts(core: &crate::services::Core) -> Result<(), AppError> {
    use crate::services::room_posts::{self, RoomPostForm};
    let site = SiteSettings::default();
    core.db.run_sync(true, |conn| {
        let (manager, chief, member) = (
            actor_by_login(conn, "manager")?,
            actor_by_login(conn, "chief")?,
            actor_by_login(conn, "member")?,
        );
        let form = |title: &str, body: &str| RoomPostForm {
            title: title.to_owned(),
            body: body.to_owned(),
            publish_at: String::new(),
            publish_until: String::new(),
            action: "submit".to_owned(),
            ..RoomPostForm::default()
        };
        let posts = [
            (&manager, "town", "町内会だより 11月号", "## 今月の予定\n\n- 15日 清掃活動\n- 23日 **防災訓練**\n\n皆さまのご参加をお待ちしています。"),
            (&member, "town", "落とし物のお知らせ", "公民館の前で傘の落とし物がありました。心当たりの方はご連絡ください。"),
            (&member, "family", "週末の予定", "土曜日は買い物、日曜日は**お墓参り**です。"),
            (&chief, "staff", "年間行事予定", "来年度の行事予定をまとめました。ご確認ください。"),
        ];
        for (who, room, title, body) in posts {
            room_posts::create(core, conn, who, room, &form(title, body), &site)?;
        }
        // In the approval room, a member's post waits for the chief editor ...
        room_posts::create(core, conn, &member, "staff", &form("研修会の報告", "先週の研修会の内容を報告します。"), &site)?;
        // ... and another was sent back with a note.
        let (id, _) = room_posts::create(core, conn, &member, "staff", &form("来週の会議資料", "資料を添付します。"), &site)?;
        let pending = room_posts::show(conn, Some(&chief), "staff", id)?
            .newer
            .ok_or(AppError::NotFound)?;
        room_posts::send_back(
            core,
            conn,
            &chief,
            "staff",
            crate::db::types::PostId(id),
            crate::db::types::RevisionId(pending.id),
            "添付資料の日付を確認してください。",
        )?;
        Ok(())
    })
}

/// Fills the rooms' calendars around this month: a weekly staff meeting, the town's monthly
/// clean-up on the second Sunday, a two-day all-day event, a yearly drill and a one-off.
fn fill_calendars(core: &crate::services::Core) -> Result<(), AppError> {
    use chrono::{Datelike, Duration};

    use crate::services::calendar::{self, EventForm};
    let site = SiteSettings::default();
    let month = calendar::this_month(site.timezone);
    let weekday_on_or_after = |d: chrono::NaiveDate, w: chrono::Weekday| {
        let ahead = (7 + w.num_days_from_monday() - d.weekday().num_days_from_monday()) % 7;
        d + Duration::days(i64::from(ahead))
    };
    let second_sunday = weekday_on_or_after(month, chrono::Weekday::Sun) + Duration::days(7);
    let event = |title: &str, day: chrono::NaiveDate, start: &str, end: &str| EventForm {
        title: title.to_owned(),
        start_time: start.to_owned(),
        end_time: end.to_owned(),
        ..EventForm::on_day(day, site.timezone)
    };
    core.db.run_sync(true, |conn| {
        let (manager, chief, member) = (
            actor_by_login(conn, "manager")?,
            actor_by_login(conn, "chief")?,
            actor_by_login(conn, "member")?,
        );
        let events = [
            (
                &chief,
                "staff",
                EventForm {
                    place: "職員室".to_owned(),
                    repeat: "weekly".to_owned(),
                    day_mo: Some("on".to_owned()),
                    ..event(
                        "職員会議",
                        weekday_on_or_after(month, chrono::Weekday::Mon),
                        "16:00",
                        "17:00",
                    )
                },
            ),
            (
                &manager,
                "town",
                EventForm {
                    place: "公民館前".to_owned(),
                    description: "軍手とごみ袋は町内会で用意します。".to_owned(),
                    repeat: "monthly_weekday".to_owned(),
                    ..event("町内清掃", second_sunday, "08:00", "09:30")
                },
            ),
            (
                &manager,
                "town",
                EventForm {
                    all_day: Some("on".to_owned()),
                    end_date: (month + Duration::days(20)).to_string(),
                    ..event("秋祭り", month + Duration::days(19), "", "")
                },
            ),
            (
                &manager,
                "town",
                EventForm {
                    place: "小学校校庭".to_owned(),
                    repeat: "yearly".to_owned(),
                    ..event("防災訓練", month + Duration::days(22), "09:00", "12:00")
                },
            ),
            (
                &member,
                "family",
                event("歯医者", month + Duration::days(9), "15:30", "16:00"),
            ),
        ];
        for (who, room, form) in &events {
            calendar::create(core, conn, who, room, form, &site)?;
        }
        Ok(())
    })
}

/// What members do on `/me` and in a room with approval: profile pictures for `hanako` and
/// `manager`, `editor`'s own time zone, `manager`'s app passwords (a WebDAV drive and a music app),
/// and an event `member` added to the staff room, waiting for the chief editor's approval.
fn fill_profiles(core: &crate::services::Core, password: &str) -> Result<(), AppError> {
    use crate::services::account::{self, FromSession, ProfileForm};
    use crate::services::app_passwords::{self, NewAppPasswordForm};
    use crate::services::calendar::{self, EventForm};
    use crate::services::pictures::{self, Upload};
    let site = SiteSettings::default();
    actix_web::rt::System::new().block_on(async {
        for (login, hue) in [("hanako", 0u8), ("manager", 1)] {
            let actor = core
                .db
                .run_sync(false, |conn| actor_by_login(conn, login))?;
            pictures::set_picture(core, &actor, Upload::Bytes(sample_picture(hue)?)).await?;
        }
        let editor = core
            .db
            .run_sync(false, |conn| account::user_by_login(conn, "editor"))?;
        let form = ProfileForm {
            display_name: editor.display_name.clone(),
            email: editor.email.clone(),
            language: String::new(),
            timezone: "Europe/Berlin".to_owned(),
            current_password: String::new(),
        };
        let from = FromSession {
            token_hash: String::new(),
            ip_key: "demo".to_owned(),
        };
        account::update_profile(core, &editor, from, form).await?;
        let manager = core
            .db
            .run_sync(false, |conn| account::user_by_login(conn, "manager"))?;
        for (name, scope) in [
            ("ノートパソコンのドライブ", "dav"),
            ("スマホの音楽アプリ", "subsonic"),
        ] {
            let form = NewAppPasswordForm {
                name: name.to_owned(),
                scope: scope.to_owned(),
                current_password: password.to_owned(),
            };
            app_passwords::create(core, &manager, "demo".to_owned(), form).await?;
        }
        Ok::<(), AppError>(())
    })?;
    let day = calendar::this_month(site.timezone) + chrono::Duration::days(24);
    core.db.run_sync(true, |conn| {
        let member = actor_by_login(conn, "member")?;
        let form = EventForm {
            title: "研修旅行の下見".to_owned(),
            place: "駅前集合".to_owned(),
            start_time: "10:00".to_owned(),
            end_time: "15:00".to_owned(),
            ..EventForm::on_day(day, site.timezone)
        };
        calendar::create(core, conn, &member, "staff", &form, &site)?;
        Ok(())
    })
}

/// A small generated JPEG, a diagonal gradient in one of two colourings.
fn sample_picture(hue: u8) -> Result<Vec<u8>, AppError> {
    let img = image::RgbImage::from_fn(96, 96, |x, y| {
        let t = u8::try_from((x + y) * 255 / 190).unwrap_or(u8::MAX);
        if hue == 0 {
            image::Rgb([255, t, 128])
        } else {
            image::Rgb([t, 160, 255 - t])
        }
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&img)
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(out)
}

/// The demo's facilities: two meeting rooms (one needs approval by `hanako`) and the town's gym.
fn demo_facilities() -> [crate::services::calendar::facilities::FacilityForm; 3] {
    use crate::services::calendar::facilities::FacilityForm;
    let on = || Some("on".to_owned());
    let weekdays = FacilityForm {
        day_mo: on(),
        day_tu: on(),
        day_we: on(),
        day_th: on(),
        day_fr: on(),
        all_rooms: on(),
        ..FacilityForm::default()
    };
    [
        FacilityForm {
            name: "会議室A".into(),
            category: "会議室".into(),
            description: "12人まで。プロジェクターあり。".into(),
            opens: "08:00".into(),
            closes: "18:00".into(),
            ..weekdays.clone()
        },
        FacilityForm {
            name: "会議室B（承認制）".into(),
            category: "会議室".into(),
            description: "予約は施設管理者（花子）の承認が必要です。".into(),
            opens: "08:00".into(),
            closes: "18:00".into(),
            needs_approval: on(),
            managers: "hanako".into(),
            ..weekdays.clone()
        },
        FacilityForm {
            name: "体育館".into(),
            category: "施設".into(),
            opens: "09:00".into(),
            closes: "21:00".into(),
            day_sa: on(),
            day_su: on(),
            all_rooms: None,
            rooms: "town".into(),
            ..weekdays
        },
    ]
}

/// Facilities (施設予約): two meeting rooms (one needs approval by `hanako`) and the gym for the
/// town's room, with a weekly booking, a one-off and one waiting for approval.
fn fill_facilities(core: &crate::services::Core) -> Result<(), AppError> {
    use chrono::{Datelike, Duration};

    use crate::services::calendar::{
        self,
        facilities::{self, Booked, BookingForm},
    };
    let site = SiteSettings::default();
    let month = calendar::this_month(site.timezone);
    let on = || Some("on".to_owned());
    let rooms = demo_facilities();
    let monday =
        month + Duration::days(i64::from((7 - month.weekday().num_days_from_monday()) % 7));
    core.db.run_sync(true, |conn| {
        let admin = actor_by_login(conn, "admin")?;
        let mut ids = Vec::new();
        for f in &rooms {
            ids.push(facilities::create_facility(conn, &admin, f)?);
        }
        let (chief, manager, member) = (
            actor_by_login(conn, "chief")?,
            actor_by_login(conn, "manager")?,
            actor_by_login(conn, "member")?,
        );
        let book =
            |room: &str, title: &str, day: chrono::NaiveDate, start: &str, end: &str| BookingForm {
                room: room.into(),
                title: title.into(),
                start_time: start.into(),
                end_time: end.into(),
                ..BookingForm {
                    start_date: day.to_string(),
                    repeat: "never".into(),
                    ..BookingForm::default()
                }
            };
        let bookings = [
            (
                &chief,
                ids[0],
                BookingForm {
                    repeat: "weekly".into(),
                    day_mo: on(),
                    count: "12".into(),
                    ..book("staff", "職員会議", monday, "15:00", "16:00")
                },
            ),
            (
                &manager,
                ids[0],
                book(
                    "town",
                    "役員会",
                    monday + Duration::days(2),
                    "10:00",
                    "12:00",
                ),
            ),
            (
                &member,
                ids[1],
                book(
                    "staff",
                    "面談",
                    monday + Duration::days(3),
                    "13:00",
                    "14:00",
                ),
            ),
            (
                &manager,
                ids[2],
                book(
                    "town",
                    "バドミントン教室",
                    monday + Duration::days(5),
                    "10:00",
                    "12:00",
                ),
            ),
        ];
        for (who, facility, form) in &bookings {
            match facilities::book(conn, who, *facility, form, &site)? {
                Booked::Done { .. } => {}
                Booked::Invalid(e) => return Err(AppError::Invalid(e)),
                Booked::Taken(_) => return Err(AppError::Conflict("error.conflict")),
            }
        }
        Ok(())
    })
}

/// Writes `count` published posts into the public room "town", 1,000 per transaction.
fn fill_room(core: &crate::services::Core, count: usize) -> Result<(), AppError> {
    use crate::services::room_posts::{self, RoomPostForm};
    let bar = ProgressBar::new(count as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message("filling the town room");
    let site = SiteSettings::default();
    // A benchmark fill must not queue a mail per post for every member.
    core.db.run_sync(true, |conn| {
        for role in RoomRole::ALL {
            let member = actor_by_login(conn, demo_login(role))?;
            crate::services::new_posts::set_mode(conn, &member, "town", MailMode::None.as_str())?;
        }
        Ok(())
    })?;
    let mut seq = Seq(0x2545_F491_4F6C_DD1D);
    for start in (0..count).step_by(1000) {
        let end = (start + 1000).min(count);
        let forms: Vec<RoomPostForm> = (start..end)
            .map(|i| RoomPostForm {
                title: format!(
                    "{}{}（{}）",
                    seq.pick(JA_TOPICS),
                    seq.pick(JA_SUFFIX),
                    i + 1
                ),
                body: body(&mut seq, JA_SENTENCES, "詳細"),
                action: "submit".to_owned(),
                ..RoomPostForm::default()
            })
            .collect();
        core.db.run_sync(true, |conn| {
            let manager = actor_by_login(conn, "manager")?;
            for form in &forms {
                room_posts::create(core, conn, &manager, "town", form, &site)?;
            }
            Ok(())
        })?;
        bar.set_position(end as u64);
    }
    bar.finish_with_message("town room filled");
    Ok(())
}
