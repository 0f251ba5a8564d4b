//! Search stays exact and newest first whichever way it finds posts (the newest-first walk, the
//! bigram index, the capped count), checked against a brute-force answer over enough posts that
//! every path is taken, on both backends.

use chrono::{Duration, NaiveDateTime};
use diesel::RunQueryDsl;
use yui::models::room::RoomFields;
use yui::models::room_post::{self, NewRevision};
use yui::models::{now, search::Found};
use yui::textsearch::{Term, bigrams, normalize};

use crate::support::*;

/// A tiny deterministic generator (xorshift).
struct Seq(u64);

impl Seq {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> usize {
        usize::try_from(self.next() % n).unwrap()
    }
}

/// Words with traps: 会議・議事 holds 会議 and 議事 but not 会議事 (two words); résumé is not
/// resume; ＡＢＣ is abc; 珍語 is rare; 東 (one character) ends 中東; c++ needs LIKE.
const WORDS: &[&str] = &[
    "会議",
    "会議",
    "中東",
    "防災訓練",
    "防災",
    "会議・議事",
    "会議事録",
    "東京",
    "東",
    "rust",
    "c++",
    "résumé",
    "resume",
    "ＡＢＣ",
    "写真",
    "お知らせ",
    "町内会",
    "予定",
];

fn text(seq: &mut Seq, i: usize) -> String {
    let mut words: Vec<&str> = (0..4).map(|_| WORDS[seq.below(18)]).collect();
    if i % 97 == 5 {
        words.push("珍語");
    }
    words.join(" ")
}

/// A post as the brute force sees it.
struct Doc {
    id: i64,
    room: i64,
    text: String,
    at: NaiveDateTime,
    visible: bool,
}

fn room(app: &TestApp, slug: &str) -> i64 {
    app.db(|conn| {
        Ok(yui::models::room::insert(
            conn,
            &RoomFields {
                slug,
                name: slug,
                description: "",
                visibility: "public",
                state: "open",
                default_role: "member",
                join_policy: "open",
                need_approval: false,
                quota_bytes: 1 << 20,
                features: "blog".to_owned(),
                comment_approval: false,
                updated_at: now(),
            },
            None,
            now(),
        )?)
    })
}

/// Writes `count` room posts over three rooms with shuffled publishing times (so ids and dates
/// disagree), some scheduled, expired or deleted, some with a waiting or superseded revision that
/// holds words the live one does not.
fn fill_rooms(app: &TestApp, author: i64, rooms: [i64; 3], count: usize) -> Vec<Doc> {
    let base = now();
    app.db(|conn| {
        let mut seq = Seq(0x9E37_79B9_7F4A_7C15);
        let mut docs = Vec::new();
        for i in 0..count {
            let room_id = rooms[i % 3];
            let live = text(&mut seq, i);
            let minutes = i64::try_from(seq.below(100_000)).unwrap();
            let mut at = base - Duration::minutes(minutes);
            let mut until = None;
            if i % 53 == 7 {
                at = base + Duration::days(2); // scheduled
            }
            if i % 59 == 9 {
                until = Some(base - Duration::minutes(1)); // its period is over
            }
            if i % 61 == 3 {
                at = base - Duration::minutes(500); // ties in time, broken by id
            }
            let post_id = room_post::insert_post(conn, room_id, author, base)?;
            let revision = |conn: &mut yui::db::DbConn, body: &str, status: &str| {
                let search_text = normalize(body);
                room_post::insert_revision(
                    conn,
                    &NewRevision {
                        post_id,
                        editor_id: author,
                        title: "t",
                        body_md: body,
                        body_html: body,
                        excerpt: body,
                        search_text: &search_text,
                        grams: &bigrams(&search_text),
                        status,
                        publish_at: Some(at),
                        publish_until: until,
                        created_at: base,
                        tags: "",
                        lang: "ja",
                    },
                )
            };
            if i % 7 == 2 {
                // An older version that said something else, superseded by the live one.
                let old = revision(conn, "珍語 旧版", "published")?;
                let p = room_post::find_post(conn, room_id, post_id)?;
                room_post::make_live(conn, &p, old, author, base)?;
            }
            let rev = revision(conn, &live, "published")?;
            let p = room_post::find_post(conn, room_id, post_id)?;
            room_post::make_live(conn, &p, rev, author, base)?;
            if i % 11 == 4 {
                revision(conn, "珍語 下書き 会議事", "pending")?;
            }
            let deleted = i % 67 == 1;
            if deleted {
                room_post::mark_deleted(conn, post_id, base)?;
            }
            docs.push(Doc {
                id: post_id,
                room: room_id,
                text: normalize(&live),
                at,
                visible: !deleted && at <= base && until.is_none_or(|u| u > base),
            });
        }
        Ok(docs)
    })
}

fn expected(docs: &[Doc], readable: &[i64], terms: &[String], want: usize, cap: i64) -> Found {
    let mut hits: Vec<&Doc> = docs
        .iter()
        .filter(|d| d.visible && readable.contains(&d.room))
        .filter(|d| terms.iter().all(|t| d.text.contains(t.as_str())))
        .collect();
    hits.sort_by_key(|d| std::cmp::Reverse((d.at, d.id)));
    Found {
        total: i64::try_from(hits.len()).unwrap().min(cap),
        ids: hits.iter().take(want).map(|d| d.id).collect(),
    }
}

const QUERIES: &[&str] = &[
    "会議",
    "防災",
    "防災訓練",
    "珍語",
    "会議事",
    "議事",
    "東",
    "東京",
    "c++",
    "resume",
    "résumé",
    "ＡＢＣ",
    "会議 防災",
    "珍語 東",
    "会議・議事",
    "旧版",
    "下書き",
    "zzz",
];

fn check_all(app: &TestApp, docs: &[Doc], readable: &[i64]) {
    for q in QUERIES {
        let terms = yui::services::search::search_terms(q);
        let prepared: Vec<Term> = terms.iter().map(|t| Term::new(t)).collect();
        for (want, cap) in [(11, 1000), (501, 1000), (11, 7), (3, 1)] {
            let got = app.db(|conn| {
                Ok(room_post::search(
                    conn,
                    readable,
                    &prepared,
                    now(),
                    i64::try_from(want).unwrap(),
                    cap,
                )?)
            });
            assert_eq!(
                got,
                expected(docs, readable, &terms, want, cap),
                "{q:?} (first {want}, count capped at {cap})"
            );
        }
    }
}

#[actix_web::test]
async fn room_search_is_exact_and_newest_first_on_every_path() {
    let app = TestApp::spawn();
    let author = app.create_user("author", false).id;
    let rooms = [room(&app, "a"), room(&app, "b"), room(&app, "c")];
    // Enough posts that a rare word makes the walk give up (its budget is 1,024 rows).
    let docs = fill_rooms(&app, author, rooms, 1600);
    check_all(&app, &docs, &rooms[..2]);
    check_all(&app, &docs, &rooms[2..]);

    // Rows written in the old format (no word breaks) are rebuilt at start-up: an old-format row
    // would let the index find 会議事 in 会議・議事.
    app.db(|conn| {
        diesel::sql_query("UPDATE post_revisions SET grams = REPLACE(grams, '・ ', '')")
            .execute(conn)?;
        yui::models::setting::delete(conn, "search.grams_version")?;
        let changed = yui::services::search::reindex_if_outdated(conn)?;
        assert!(changed > 100, "old rows rebuilt: {changed}");
        assert_eq!(yui::services::search::reindex_if_outdated(conn)?, 0);
        Ok(())
    });
    check_all(&app, &docs, &rooms[..2]);
}
