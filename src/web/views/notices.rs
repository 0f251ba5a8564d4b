//! Contexts for circular notices (回覧板).

use serde::Serialize;

use crate::models::notice::{Notice, Recipient};
use crate::services::notices::{CircularView, Question, answer_text, questions_of};
use crate::services::site::SiteSettings;

/// A notice in a list.
#[derive(Debug, Clone, Serialize)]
pub struct CircularItem {
    pub id: i64,
    pub url: String,
    pub title: String,
    pub date: String,
    pub open: bool,
    /// For a recipient: read and answered.
    pub read: Option<bool>,
    pub answered: Option<bool>,
}

/// Builds a list item.
pub fn circular_item(n: &Notice, mine: Option<&Recipient>, site: &SiteSettings) -> CircularItem {
    CircularItem {
        id: n.id,
        url: format!("/notices/{}", n.id),
        title: n.title.clone(),
        date: site.local_datetime(n.created_at),
        open: n.closed_at.is_none(),
        read: mine.map(|r| r.read_at.is_some()),
        answered: mine.map(|r| r.answered_at.is_some()),
    }
}

/// A recipient's line in the sender's table.
#[derive(Debug, Clone, Serialize)]
pub struct StatusLine {
    pub name: String,
    pub read: String,
    pub answered: String,
    pub answer: String,
}

/// The notice page.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeView {
    pub id: i64,
    pub title: String,
    pub body_html: String,
    pub room_name: String,
    pub room_url: String,
    pub date: String,
    pub deadline: String,
    pub open: bool,
    pub question: Option<Question>,
    pub recipient: bool,
    pub my_answer: String,
    pub answered: bool,
    pub status: Option<Vec<StatusLine>>,
    pub read_count: usize,
    pub answered_count: usize,
    pub total: usize,
}

/// Builds the notice page.
pub fn circular_view(v: &CircularView, site: &SiteSettings) -> NoticeView {
    let date =
        |d: Option<chrono::NaiveDateTime>| d.map(|d| site.local_datetime(d)).unwrap_or_default();
    let (read_count, answered_count, total) = v
        .status
        .as_ref()
        .map_or((0, 0, 0), |s| (s.read, s.answered, s.rows.len()));
    NoticeView {
        id: v.notice.id,
        title: v.notice.title.clone(),
        body_html: v.notice.body_html.clone(),
        room_name: v.room.0.clone(),
        room_url: format!("/rooms/{}", v.room.1),
        date: site.local_datetime(v.notice.created_at),
        deadline: date(v.notice.deadline),
        open: v.notice.closed_at.is_none(),
        question: questions_of(&v.notice).into_iter().next(),
        recipient: v.mine.is_some(),
        my_answer: answer_text(v.mine.as_ref().and_then(|r| r.answer.as_deref()), "q"),
        answered: v.mine.as_ref().is_some_and(|r| r.answered_at.is_some()),
        status: v.status.as_ref().map(|s| {
            s.rows
                .iter()
                .map(|(r, name, _)| StatusLine {
                    name: name.clone(),
                    read: date(r.read_at),
                    answered: date(r.answered_at),
                    answer: answer_text(r.answer.as_deref(), "q"),
                })
                .collect()
        }),
        read_count,
        answered_count,
        total,
    }
}
