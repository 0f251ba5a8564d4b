//! Portable domain types stored as text: what a column may hold, parsed once where a row is read,
//! so a value the code does not know is an error rather than a silent default.

use std::fmt;

/// Defines an enum stored as text: `ALL`, `as_str`, `parse`, `Display`, and `TryFrom<String>` that
/// names the column when the database holds a value this version does not know (models read such
/// columns with `#[diesel(deserialize_as = String)]`, so loading the row fails instead of guessing).
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $name:ident in $column:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; <[&str]>::len(&[$(stringify!($variant)),+])] =
                [$( Self::$variant, )+];

            /// The stored text.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $text, )+
                }
            }

            /// Parses the stored text.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.into_iter().find(|v| v.as_str() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $name {
            type Error = UnknownValue;

            fn try_from(value: String) -> Result<Self, UnknownValue> {
                Self::parse(&value).ok_or(UnknownValue {
                    column: $column,
                    value,
                })
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.as_str().to_owned()
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

text_enum! {
    /// The five room roles of NetCommons, lowest first (so `Ord` ranks them).
    RoomRole in "room_members.role" {
        /// ゲスト: reads only.
        Guest => "guest",
        /// 一般: reads, writes (adjustable), comments.
        Member => "member",
        /// 編集者: also edits others' content (adjustable).
        Editor => "editor",
        /// 編集長: also publishes and approves (adjustable).
        ChiefEditor => "chief_editor",
        /// 管理者: everything, including members and settings.
        Manager => "manager",
    }
}

text_enum! {
    /// A row of the room permission matrix (DESIGN.md §4), in the order of its table.
    RoomPermission in "room_permissions.permission" {
        /// Read the room's content.
        Read => "read",
        /// Create content.
        Create => "create",
        /// Edit or delete others' content.
        EditOthers => "edit_others",
        /// Publish and approve (承認).
        Publish => "publish",
        /// Comment.
        Comment => "comment",
        /// Approve comments.
        ApproveComments => "approve_comments",
        /// Manage members and room settings.
        Manage => "manage",
        /// Receive new-content mail.
        ReceiveMail => "receive_mail",
    }
}

text_enum! {
    /// Who may read a room.
    Visibility in "rooms.visibility" {
        /// Anyone, logged in or not.
        Public => "public",
        /// Any logged-in account.
        Members => "members",
        /// The room's members only.
        Closed => "closed",
    }
}

text_enum! {
    /// How newcomers get into a room.
    JoinPolicy in "rooms.join_policy" {
        /// Only by a manager's invitation.
        Invite => "invite",
        /// By a request a manager approves.
        Request => "request",
        /// Anyone who can read the room may join.
        Open => "open",
    }
}

text_enum! {
    /// Whether a room is in use or still being prepared.
    RoomState in "rooms.state" {
        /// In use.
        Open => "open",
        /// 準備中: only its managers see it.
        Preparing => "preparing",
    }
}

text_enum! {
    /// Which kind of space a room is.
    Space in "rooms.space" {
        /// The site's public space (exactly one): its blog is the site's blog.
        Public => "public",
        /// A room of a group.
        Community => "community",
        /// A member's own room (マイルーム), found by its owner.
        Private => "private",
    }
}

text_enum! {
    /// Where a saved version of a post stands (承認).
    RevisionStatus in "post_revisions.status" {
        /// 一時保存: only its author sees it.
        Draft => "draft",
        /// 承認待ち: waits for an approver.
        Pending => "pending",
        /// 公開: live, or was live until a newer one.
        Published => "published",
        /// 差し戻し: sent back with a note.
        SentBack => "sent_back",
        /// Replaced by a newer revision before it was decided.
        Superseded => "superseded",
    }
}

text_enum! {
    /// Where a comment stands.
    CommentStatus in "post_comments.status" {
        /// Waits for approval.
        Pending => "pending",
        /// Shown.
        Published => "published",
    }
}

text_enum! {
    /// What a notice is.
    NoticeKind in "notices.kind" {
        /// 安否確認: a safety check.
        Safety => "safety",
        /// 回覧板: a circular notice.
        Circular => "circular",
    }
}

text_enum! {
    /// How a member hears about new posts in a room.
    MailMode in "room_notification_prefs.mode" {
        /// A mail for each post.
        Every => "every",
        /// One daily digest.
        Digest => "digest",
        /// Nothing.
        None => "none",
    }
}

text_enum! {
    /// How an event repeats (the `FREQ` of its rule, and for months which day counts).
    Repeat in "events.rrule" {
        /// Once.
        Never => "never",
        /// Every day (or every n days).
        Daily => "daily",
        /// On chosen weekdays every week (or every n weeks).
        Weekly => "weekly",
        /// On the same date every month (skipping months that lack it, as RFC 5545 does).
        MonthlyByDate => "monthly_date",
        /// On the nth weekday of the month ("2nd Tuesday", "5th Friday"; months without one skip).
        MonthlyByWeekday => "monthly_weekday",
        /// On the same date every year (Feb 29: leap years only).
        Yearly => "yearly",
    }
}

text_enum! {
    /// Site-wide roles (DESIGN.md §4).
    SiteRole in "users.site_role" {
        /// システム管理者: may do everything.
        Admin => "admin",
        /// 一般: an ordinary member.
        Member => "member",
        /// ゲスト: may not create rooms.
        Guest => "guest",
    }
}

/// Defines id newtypes over `BigInt` columns, so an id of one table cannot be passed where another's
/// is expected (`approve(post, revision)` with the two swapped does not compile). They are stored and
/// compared as plain `BigInt`s on both backends.
macro_rules! id_types {
    ($( $(#[$meta:meta])* $name:ident ),+ $(,)?) => {
        $(
            $(#[$meta])*
            #[derive(
                Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                serde::Serialize, serde::Deserialize,
                diesel::AsExpression, diesel::FromSqlRow,
            )]
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            #[serde(transparent)]
            pub struct $name(pub i64);

            impl std::fmt::Display for $name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    self.0.fmt(f)
                }
            }

            impl diesel::serialize::ToSql<diesel::sql_types::BigInt, crate::db::MultiBackend>
                for $name
            {
                fn to_sql<'b>(
                    &'b self,
                    out: &mut diesel::serialize::Output<'b, '_, crate::db::MultiBackend>,
                ) -> diesel::serialize::Result {
                    <i64 as diesel::serialize::ToSql<
                        diesel::sql_types::BigInt,
                        crate::db::MultiBackend,
                    >>::to_sql(&self.0, out)
                }
            }

            impl diesel::deserialize::FromSql<diesel::sql_types::BigInt, crate::db::MultiBackend>
                for $name
            {
                fn from_sql(
                    bytes: <crate::db::MultiBackend as diesel::backend::Backend>::RawValue<'_>,
                ) -> diesel::deserialize::Result<Self> {
                    <i64 as diesel::deserialize::FromSql<
                        diesel::sql_types::BigInt,
                        crate::db::MultiBackend,
                    >>::from_sql(bytes)
                    .map(Self)
                }
            }
        )+
    };
}

id_types! {
    /// `users.id`.
    UserId,
    /// `rooms.id`.
    RoomId,
    /// `room_posts.id`.
    PostId,
    /// `post_revisions.id`.
    RevisionId,
    /// `post_comments.id`.
    CommentId,
    /// `files.id`.
    FileId,
    /// `folders.id`.
    FolderId,
    /// `notices.id`.
    NoticeId,
    /// `events.id`.
    EventId,
}

/// Something a room can switch on (`rooms.features`, comma-separated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feature {
    /// Posts (the room's blog; the public space's is the site's).
    Blog,
    /// The file cabinet.
    Files,
    /// The calendar.
    Calendar,
}

impl Feature {
    /// Every feature, in the order the settings form shows them.
    pub const ALL: [Feature; 3] = [Self::Blog, Self::Files, Self::Calendar];

    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Blog => "blog",
            Self::Files => "files",
            Self::Calendar => "calendar",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// A stored value that is none of the values its column may hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{column} holds {value:?}, which this version of Yui does not know")]
pub struct UnknownValue {
    /// The column, `table.column`.
    pub column: &'static str,
    /// What it held.
    pub value: String,
}

/// A post revision's language (`post_revisions.lang`) is a UI language code.
impl TryFrom<String> for crate::i18n::Lang {
    type Error = UnknownValue;

    fn try_from(value: String) -> Result<Self, UnknownValue> {
        // Only the exact stored codes: `Lang::parse` would also take `en-US`.
        Self::ALL
            .into_iter()
            .find(|l| l.code() == value)
            .ok_or(UnknownValue {
                column: "post_revisions.lang",
                value,
            })
    }
}

/// The features a room has switched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Features {
    blog: bool,
    files: bool,
    calendar: bool,
}

impl Features {
    /// No feature at all.
    pub const NONE: Features = Features {
        blog: false,
        files: false,
        calendar: false,
    };

    /// Every feature on (new private rooms, the demo's rooms).
    pub const EVERY: Features = Features {
        blog: true,
        files: true,
        calendar: true,
    };

    /// Parses `rooms.features` (`"blog,files"`; empty = none).
    pub fn parse(stored: &str) -> Result<Self, UnknownValue> {
        let mut out = Self::NONE;
        for part in stored.split(',').filter(|p| !p.is_empty()) {
            let feature = Feature::parse(part).ok_or_else(|| UnknownValue {
                column: "rooms.features",
                value: stored.to_owned(),
            })?;
            out = out.with(feature);
        }
        Ok(out)
    }

    /// These features and `feature`.
    #[must_use]
    pub const fn with(mut self, feature: Feature) -> Self {
        *self.slot(feature) = true;
        self
    }

    /// Whether `feature` is on.
    pub const fn has(self, feature: Feature) -> bool {
        match feature {
            Feature::Blog => self.blog,
            Feature::Files => self.files,
            Feature::Calendar => self.calendar,
        }
    }

    const fn slot(&mut self, feature: Feature) -> &mut bool {
        match feature {
            Feature::Blog => &mut self.blog,
            Feature::Files => &mut self.files,
            Feature::Calendar => &mut self.calendar,
        }
    }
}

impl TryFrom<String> for Features {
    type Error = UnknownValue;

    fn try_from(stored: String) -> Result<Self, UnknownValue> {
        Self::parse(&stored)
    }
}

/// The stored text: the features that are on, in `Feature::ALL`'s order, comma-separated.
impl fmt::Display for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on: Vec<&str> = Feature::ALL
            .into_iter()
            .filter(|x| self.has(*x))
            .map(Feature::as_str)
            .collect();
        f.write_str(&on.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_enums_round_trip_and_name_the_column_they_do_not_know() {
        for role in RoomRole::ALL {
            assert_eq!(RoomRole::try_from(role.as_str().to_owned()), Ok(role));
        }
        assert!(RoomRole::Guest < RoomRole::Manager);
        let err = Visibility::try_from("everyone".to_owned()).unwrap_err();
        assert_eq!(err.column, "rooms.visibility");
        assert!(err.to_string().contains("everyone"));
        assert_eq!(RevisionStatus::SentBack.to_string(), "sent_back");
    }

    #[test]
    fn features_round_trip_and_refuse_what_they_do_not_know() {
        for stored in ["", "blog", "files", "blog,files", "blog,files,calendar"] {
            assert_eq!(Features::parse(stored).unwrap().to_string(), stored);
        }
        assert_eq!(
            Features::parse("files,blog").unwrap().to_string(),
            "blog,files"
        );
        assert!(Features::parse("blog,chat").is_err());
        let f = Features::parse("files").unwrap();
        assert!(f.has(Feature::Files) && !f.has(Feature::Blog));
    }
}

text_enum! {
    /// What an app password opens (issue #14).
    AppPasswordScope in "app_passwords.scope" {
        /// The WebDAV drive at `/dav/`.
        Dav => "dav",
        /// The Subsonic music API at `/rest/` (its secret also kept sealed, for token sign-in).
        Subsonic => "subsonic",
    }
}
