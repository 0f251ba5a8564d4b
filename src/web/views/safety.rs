//! Safety checks' (安否確認) pages: the list, the start form, the dashboard, the answer forms.

use serde::Serialize;

use super::{Errors, Layout, Page};
use crate::services::notices::{Notice, Recipient};
use crate::services::notices::{Question, answer_text, questions_of};
use crate::services::safety::{AnswerPage, Dashboard, SafetyList, StartForm, StartOptions};
use crate::services::site::SiteSettings;

/// A check in a list.
#[derive(Debug, Clone, Serialize)]
pub struct CheckItem {
    pub id: i64,
    pub title: String,
    pub drill: bool,
    pub open: bool,
    pub started: String,
    pub url: String,
    /// For a recipient: whether they have answered, and their condition.
    pub answered: Option<bool>,
    pub condition: Option<String>,
}

/// Builds a list item; `mine` is the actor's row when listing their own checks.
pub fn check_item(n: &Notice, mine: Option<&Recipient>, site: &SiteSettings) -> CheckItem {
    CheckItem {
        id: n.id,
        title: n.title.clone(),
        drill: n.drill,
        open: n.closed_at.is_none(),
        started: site.local_datetime(n.created_at),
        url: if mine.is_some() {
            format!("/safety/{}/answer", n.id)
        } else {
            format!("/safety/{}", n.id)
        },
        answered: mine.map(|r| r.answered_at.is_some()),
        condition: mine.and_then(|r| r.condition.clone()),
    }
}

/// A person on the dashboard.
#[derive(Debug, Clone, Serialize)]
pub struct PersonView {
    pub name: String,
    pub login: String,
    /// `need_help`, `injured`, `safe`, or empty when not answered.
    pub condition: String,
    pub place: String,
    pub can_come: String,
    pub comment: String,
    pub extra: String,
    pub answered: String,
    pub proxy: bool,
}

/// A room's line of the breakdown.
#[derive(Debug, Clone, Serialize)]
pub struct RoomLine {
    pub name: String,
    pub need_help: usize,
    pub injured: usize,
    pub safe: usize,
    pub unanswered: usize,
}

/// The dashboard page.
#[derive(Debug, Clone, Serialize)]
pub struct DashboardView {
    pub id: i64,
    pub title: String,
    pub message_html: String,
    pub drill: bool,
    pub open: bool,
    pub started: String,
    pub scope: String,
    pub need_help: usize,
    pub injured: usize,
    pub safe: usize,
    pub unanswered: usize,
    pub total: usize,
    pub answered_percent: usize,
    /// When these figures were read (the page refreshes them while open).
    pub now: String,
    pub people: Vec<PersonView>,
    pub rooms: Vec<RoomLine>,
    pub extra: Option<Question>,
    pub questions: Vec<Question>,
}

/// Builds the dashboard page.
pub fn dashboard_view(b: &Dashboard, site: &SiteSettings) -> DashboardView {
    let [need_help, injured, safe, unanswered] = b.counts;
    let total = need_help + injured + safe + unanswered;
    let questions = questions_of(&b.notice);
    DashboardView {
        id: b.notice.id,
        title: b.notice.title.clone(),
        message_html: b.notice.body_html.clone(),
        drill: b.notice.drill,
        open: b.notice.closed_at.is_none(),
        started: site.local_datetime(b.notice.created_at),
        scope: b.room_name.clone().unwrap_or_default(),
        need_help,
        injured,
        safe,
        unanswered,
        total,
        answered_percent: ((total - unanswered) * 100).checked_div(total).unwrap_or(0),
        now: site.local_datetime(chrono::Utc::now().naive_utc()),
        people: b
            .people
            .iter()
            .map(|p| {
                let a = p.recipient.answer.as_deref();
                PersonView {
                    name: p.name.clone(),
                    login: p.login.clone(),
                    condition: p.recipient.condition.clone().unwrap_or_default(),
                    place: answer_text(a, "place"),
                    can_come: answer_text(a, "can_come"),
                    comment: answer_text(a, "comment"),
                    extra: answer_text(a, "extra"),
                    answered: p
                        .recipient
                        .answered_at
                        .map(|d| site.local_datetime(d))
                        .unwrap_or_default(),
                    proxy: p.recipient.proxy_by.is_some(),
                }
            })
            .collect(),
        rooms: b
            .rooms
            .iter()
            .map(|r| RoomLine {
                name: r.name.clone(),
                need_help: r.counts[0],
                injured: r.counts[1],
                safe: r.counts[2],
                unanswered: r.counts[3],
            })
            .collect(),
        extra: questions.iter().find(|q| q.key == "extra").cloned(),
        questions,
    }
}

/// The answer form (personal link or logged in).
#[derive(Debug, Clone, Serialize)]
pub struct AnswerView {
    pub action: String,
    pub title: String,
    pub message_html: String,
    pub drill: bool,
    pub name: String,
    pub answered: bool,
    pub condition: String,
    pub place: String,
    pub can_come: String,
    pub comment: String,
    pub extra_value: String,
    pub extra: Option<Question>,
}

/// Builds the answer form for `action` (`/a/{token}` or `/safety/{id}/answer`).
pub fn answer_view(p: &AnswerPage, action: &str) -> AnswerView {
    let a = p.mine.answer.as_deref();
    AnswerView {
        action: action.to_owned(),
        title: p.notice.title.clone(),
        message_html: p.notice.body_html.clone(),
        drill: p.notice.drill,
        name: p.name.clone(),
        answered: p.mine.answered_at.is_some(),
        condition: p.mine.condition.clone().unwrap_or_default(),
        place: answer_text(a, "place"),
        can_come: answer_text(a, "can_come"),
        comment: answer_text(a, "comment"),
        extra_value: answer_text(a, "extra"),
        extra: questions_of(&p.notice)
            .into_iter()
            .find(|q| q.key == "extra"),
    }
}

/// `safety/index.html`: the checks the member may see results of, and those waiting for them.
#[derive(Debug, Clone, Serialize)]
pub struct SafetyListPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// Checks whose dashboard the member may open.
    pub managed: Vec<CheckItem>,
    /// Open checks sent to the member.
    pub mine: Vec<CheckItem>,
    /// The member may start a check.
    pub may_start: bool,
}

impl Page for SafetyListPage {
    const TEMPLATE: &'static str = "safety/index.html";
}

impl SafetyListPage {
    /// The list of `list`.
    pub fn new(layout: Layout, site: &SiteSettings, list: &SafetyList) -> Self {
        Self {
            layout,
            managed: list
                .managed
                .iter()
                .map(|n| check_item(n, None, site))
                .collect(),
            mine: list
                .mine
                .iter()
                .map(|(n, r)| check_item(n, Some(r), site))
                .collect(),
            may_start: list.may_start,
        }
    }
}

/// `safety/new.html`: the form that starts a check.
#[derive(Debug, Clone, Serialize)]
pub struct StartCheckPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// A check may go to everyone on the site.
    pub everyone: bool,
    /// The rooms a check may go to.
    pub rooms: Vec<RoomChoice>,
    /// The form's values.
    pub form: StartFormView,
    /// Field errors.
    pub errors: Errors,
}

impl Page for StartCheckPage {
    const TEMPLATE: &'static str = "safety/new.html";
}

/// A room the start form offers.
#[derive(Debug, Clone, Serialize)]
pub struct RoomChoice {
    /// Its slug (the form's value).
    pub slug: String,
    /// Its name.
    pub name: String,
}

/// The start form's values.
#[derive(Debug, Clone, Serialize)]
pub struct StartFormView {
    pub scope: String,
    pub title: String,
    pub message: String,
    pub drill: bool,
    pub extra_kind: String,
    pub extra_question: String,
    pub extra_choices: String,
    pub remind_every: String,
    pub remind_max: String,
}

impl StartCheckPage {
    /// The form offering `options`, with `form`'s values and `errors`.
    pub fn new(layout: Layout, options: &StartOptions, form: &StartForm, errors: Errors) -> Self {
        Self {
            layout,
            everyone: options.everyone,
            rooms: options
                .rooms
                .iter()
                .map(|r| RoomChoice {
                    slug: r.slug.clone(),
                    name: r.name.clone(),
                })
                .collect(),
            form: StartFormView {
                scope: form.scope.clone(),
                title: form.title.clone(),
                message: form.message.clone(),
                drill: form.drill.is_some(),
                extra_kind: form.extra_kind.clone(),
                extra_question: form.extra_question.clone(),
                extra_choices: form.extra_choices.clone(),
                remind_every: form.remind_every.clone(),
                remind_max: form.remind_max.clone(),
            },
            errors,
        }
    }
}

/// `safety/dashboard.html`: a check's live results.
#[derive(Debug, Clone, Serialize)]
pub struct DashboardPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The check.
    pub check: DashboardView,
}

impl Page for DashboardPage {
    const TEMPLATE: &'static str = "safety/dashboard.html";
}

/// `safety/answer.html`: a logged-in recipient's answer form.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerFormPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The form.
    pub answer: AnswerView,
    /// Field errors (the form component reads them; empty here).
    pub errors: Errors,
}

impl Page for AnswerFormPage {
    const TEMPLATE: &'static str = "safety/answer.html";
}

/// `safety/link.html`: the personal answer link's own tiny page (no site layout around it).
#[derive(Debug, Clone, Serialize)]
pub struct AnswerLinkPage {
    /// The site layout's data (the page uses its language only).
    #[serde(flatten)]
    pub layout: Layout,
    /// The form, when the link can be used.
    pub answer: Option<AnswerView>,
    /// Why it cannot (a translation key; `<key>_title` is the heading).
    pub problem: Option<&'static str>,
    /// The answer was just recorded.
    pub done: bool,
    /// Field errors.
    pub errors: Errors,
}

impl Page for AnswerLinkPage {
    const TEMPLATE: &'static str = "safety/link.html";
}
