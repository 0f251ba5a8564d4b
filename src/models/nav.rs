//! The one query behind the navigation of a logged-in member's every page: unread circular
//! notices, the oldest open safety check they have not answered, and the rooms where they hold a
//! role that may publish, each with its chain of parent rooms (what deciding "may approve
//! somewhere" needs) and the revisions and calendar events waiting there (the 承認 link's count). One statement, so a page costs one round trip for it on PostgreSQL too.

use diesel::sql_types::{BigInt, Bool, Nullable, Text};

use crate::db::DbConn;
use crate::db::text_query::{self, Bind};

/// One row of the answer. The counts and the safety check repeat on every row; the room columns
/// describe one room of one candidate's chain (all `None` on the single row of a member who holds
/// no such role).
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct NavRow {
    /// Unread circular notices.
    #[diesel(sql_type = BigInt)]
    pub unread_notices: i64,
    /// The oldest open safety check the member has not answered.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub safety_id: Option<i64>,
    /// Its title.
    #[diesel(sql_type = Nullable<Text>)]
    pub safety_title: Option<String>,
    /// Whether it is a drill.
    #[diesel(sql_type = Nullable<Bool>)]
    pub safety_drill: Option<bool>,
    /// The candidate room (where the member holds a role that may publish).
    #[diesel(sql_type = Nullable<BigInt>)]
    pub candidate: Option<i64>,
    /// How far up the candidate's chain this room is (0: the candidate itself).
    #[diesel(sql_type = Nullable<BigInt>)]
    pub depth: Option<i64>,
    /// This room's parent.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub parent_id: Option<i64>,
    /// This room's visibility.
    #[diesel(sql_type = Nullable<Text>)]
    pub visibility: Option<String>,
    /// This room's state (`open`, `preparing`).
    #[diesel(sql_type = Nullable<Text>)]
    pub state: Option<String>,
    /// Whether this room is archived.
    #[diesel(sql_type = Nullable<Bool>)]
    pub archived: Option<bool>,
    /// The member's role in this room, if any.
    #[diesel(sql_type = Nullable<Text>)]
    pub role: Option<String>,
    /// The room's override of the publish cell for that role, if any.
    #[diesel(sql_type = Nullable<Bool>)]
    pub publish_allowed: Option<bool>,
    /// Revisions and calendar events waiting for approval in the candidate room (on its depth-0
    /// row; 0 elsewhere).
    #[diesel(sql_type = BigInt)]
    pub waiting_here: i64,
    /// Revisions and calendar events waiting for approval anywhere (what a site admin's inbox
    /// holds).
    #[diesel(sql_type = BigInt)]
    pub waiting_anywhere: i64,
    /// The SHA-256 of the member's profile picture, if they have one (the header shows it).
    #[diesel(sql_type = Nullable<Text>)]
    pub picture: Option<String>,
}

/// The query, written once with PostgreSQL's `$n` placeholders (SQLite reads them as `?n`).
/// `$1` the member, `$2` the deepest parent to follow, `$3` the publish permission, then the roles.
const SQL: &str = "\
WITH RECURSIVE chain (candidate, room_id, depth) AS (
    SELECT m.room_id, m.room_id, CAST(0 AS BIGINT)
      FROM room_members m JOIN rooms r ON r.id = m.room_id
     WHERE m.user_id = $1 AND r.archived = FALSE AND m.role IN (ROLES)
  UNION ALL
    SELECT c.candidate, r.parent_id, c.depth + 1
      FROM chain c JOIN rooms r ON r.id = c.room_id
     WHERE r.parent_id IS NOT NULL AND c.depth < $2
)
SELECT
    (SELECT COUNT(*) FROM notice_recipients nr JOIN notices n ON n.id = nr.notice_id
      WHERE nr.user_id = $1 AND nr.read_at IS NULL AND n.kind = 'circular'
        AND n.closed_at IS NULL) AS unread_notices,
    s.id AS safety_id, s.title AS safety_title, s.drill AS safety_drill,
    c.candidate AS candidate, c.depth AS depth, r.parent_id AS parent_id,
    r.visibility AS visibility, r.state AS state, r.archived AS archived,
    m.role AS role, p.allowed AS publish_allowed,
    CASE WHEN c.depth = 0 THEN
      (SELECT COUNT(*) FROM post_revisions pr JOIN room_posts rp ON rp.id = pr.post_id
        WHERE rp.room_id = c.candidate AND pr.status = 'pending' AND rp.deleted = FALSE)
      + (SELECT COUNT(*) FROM events ev WHERE ev.room_id = c.candidate AND ev.approval = 'pending')
    ELSE 0 END AS waiting_here,
    (SELECT COUNT(*) FROM post_revisions pr JOIN room_posts rp ON rp.id = pr.post_id
       JOIN rooms wr ON wr.id = rp.room_id
      WHERE pr.status = 'pending' AND rp.deleted = FALSE AND wr.archived = FALSE)
    + (SELECT COUNT(*) FROM events ev JOIN rooms er ON er.id = ev.room_id
      WHERE ev.approval = 'pending' AND er.archived = FALSE) AS waiting_anywhere,
    (SELECT up.blob_sha256 FROM user_pictures up WHERE up.user_id = $1) AS picture
FROM (SELECT 1 AS one) o
LEFT JOIN (
    SELECT n.id, n.title, n.drill FROM notices n JOIN notice_recipients nr ON nr.notice_id = n.id
     WHERE nr.user_id = $1 AND nr.answered_at IS NULL AND n.kind = 'safety' AND n.closed_at IS NULL
     ORDER BY n.created_at ASC LIMIT 1
) s ON 1 = 1
LEFT JOIN chain c ON 1 = 1
LEFT JOIN rooms r ON r.id = c.room_id
LEFT JOIN room_members m ON m.room_id = r.id AND m.user_id = $1
LEFT JOIN room_permissions p ON p.room_id = r.id AND p.permission = $3 AND p.role = m.role
ORDER BY c.candidate, c.depth";

/// The navigation's rows for `user_id`: `publish_roles` are the roles that may publish somewhere,
/// `publish` the permission's stored name, `max_depth` how many parents a chain follows at most.
pub fn rows(
    conn: &mut DbConn,
    user_id: i64,
    max_depth: i64,
    publish: &str,
    publish_roles: &[&str],
) -> diesel::QueryResult<Vec<NavRow>> {
    // The roles are bound, not written into the text: `$4`, `$5`, …
    let roles = (0..publish_roles.len())
        .map(|i| format!("${}", i + 4))
        .collect::<Vec<_>>()
        .join(", ");
    let roles = if roles.is_empty() {
        "NULL".to_owned()
    } else {
        roles
    };
    // One text per number of roles (a constant of the program), so it stays prepared.
    let sql = SQL.replace("ROLES", &roles);
    let mut binds = vec![
        Bind::Int(user_id),
        Bind::Int(max_depth),
        Bind::Text(publish),
    ];
    binds.extend(publish_roles.iter().map(|role| Bind::Text(role)));
    text_query::load(conn, &sql, &binds)
}
