//! Circular notices' (回覧板) pages: the list, the form that sends one, a notice.

use serde::Serialize;

use super::rooms::{RoomItem, room_item};
use super::{Errors, Layout, Page};
use crate::services::circulars::{CircularForm, CircularView, NewCircular};
use crate::services::notices::{Notice, Recipient};
use crate::services::notices::{Question, answer_text, questions_of};
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

/// `notices/index.html`: the circular notices the member received and sent.
#[derive(Debug, Clone, Serialize)]
pub struct NoticesPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// Sent to the member, with their read and answer state.
    pub received: Vec<CircularItem>,
    /// Sent by the member.
    pub sent: Vec<CircularItem>,
}

impl Page for NoticesPage {
    const TEMPLATE: &'static str = "notices/index.html";
}

/// `notices/new.html`: the form that sends a circular notice to a room.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeFormPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The room it goes to.
    pub room: RoomItem,
    /// The form's values.
    pub form: CircularFormView,
    /// Who it can go to, by name, with whom the form ticked.
    pub people: Vec<Person>,
    /// Someone is ticked (the list opens).
    pub any_ticked: bool,
    /// Field errors.
    pub errors: Errors,
}

/// A member the notice can go to.
#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub ticked: bool,
}

impl Page for NoticeFormPage {
    const TEMPLATE: &'static str = "notices/new.html";
}

impl NoticeFormPage {
    /// The form for `ctx`'s room, with `form`'s values and `errors`.
    pub fn new(layout: Layout, new: &NewCircular, form: &CircularForm, errors: Errors) -> Self {
        let ctx = &new.ctx;
        let ticked = form.ticked();
        let people: Vec<Person> = new
            .people
            .iter()
            .map(|(id, name)| Person {
                id: *id,
                name: name.clone(),
                ticked: ticked.contains(id),
            })
            .collect();
        Self {
            layout,
            room: room_item(&ctx.room, ctx.access.role),
            any_ticked: people.iter().any(|p| p.ticked) || !form.to.trim().is_empty(),
            people,
            form: CircularFormView {
                title: form.title.clone(),
                body: form.body.clone(),
                question_kind: form.question_kind.clone(),
                question: form.question.clone(),
                choices: form.choices.clone(),
                deadline: form.deadline.clone(),
                to: form.to.clone(),
                remind_every: form.remind_every.clone(),
                remind_max: form.remind_max.clone(),
            },
            errors,
        }
    }
}

/// The notice form's values.
#[derive(Debug, Clone, Serialize)]
pub struct CircularFormView {
    pub title: String,
    pub body: String,
    pub question_kind: String,
    pub question: String,
    pub choices: String,
    pub deadline: String,
    pub to: String,
    pub remind_every: String,
    pub remind_max: String,
}

/// `notices/show.html`: a notice, the member's answer, and the sender's status table.
#[derive(Debug, Clone, Serialize)]
pub struct NoticePage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The notice.
    pub notice: NoticeView,
}

impl Page for NoticePage {
    const TEMPLATE: &'static str = "notices/show.html";
}
