//! Template contexts: one `#[derive(Serialize)]` page struct per template (`Page`), each embedding
//! the site layout's data (`Layout`), and the items they list. What templates may see is built
//! from what services return (never rows themselves, so hashes and other internals cannot leak
//! into a page); pages copy permission answers (`RoomCapabilities`), they never decide them.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::FieldErrors;

pub mod account;
pub mod admin;
pub mod auth;
pub mod blog;
pub mod calendar;
pub mod errors;
pub mod facilities;
pub mod feed;
pub mod files;
pub mod home;
pub mod layout;
pub mod notices;
pub mod people;
pub mod reachability;
pub mod room_posts;
pub mod rooms;
pub mod safety;

pub use layout::Layout;

/// A page: the data one template shows.
pub trait Page: Serialize {
    /// The template under `templates/` that shows it.
    const TEMPLATE: &'static str;
}

/// A form's field errors as templates read them: `errors.<field>` is the message's translation
/// key (components take it as `@errors`). Empty unless a form is shown again.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(transparent)]
pub struct Errors(BTreeMap<&'static str, &'static str>);

impl Errors {
    /// Whether no field has a message.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&FieldErrors> for Errors {
    fn from(errors: &FieldErrors) -> Self {
        Self(errors.0.iter().map(|e| (e.field, e.message)).collect())
    }
}

impl From<FieldErrors> for Errors {
    fn from(errors: FieldErrors) -> Self {
        Self::from(&errors)
    }
}

/// Pagination links for a list page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Pager {
    /// The current page.
    pub page: i64,
    /// Link to the previous page, if any.
    pub prev: Option<String>,
    /// Link to the next page, if any.
    pub next: Option<String>,
}

impl Pager {
    /// Builds the pager; `base` is the list URL with any query already on it (or none).
    pub fn new(base: &str, page: i64, has_next: bool) -> Self {
        let sep = if base.contains('?') { '&' } else { '?' };
        let link = |p: i64| {
            if p == 1 {
                base.to_owned()
            } else {
                format!("{base}{sep}page={p}")
            }
        };
        Self {
            page,
            prev: (page > 1).then(|| link(page - 1)),
            next: has_next.then(|| link(page + 1)),
        }
    }
}

/// Percent-encodes one URL path segment (tags and slugs may be Japanese or contain spaces).
pub fn path_segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn page_templates(dir: &Path, under: &str, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = format!("{under}{name}");
            if entry.file_type().unwrap().is_dir() {
                // Mail has its own contexts; partials and components are parts of pages.
                if !matches!(name.as_str(), "email" | "partials") {
                    page_templates(&entry.path(), &format!("{rel}/"), found);
                }
            } else if entry.path().extension().is_some_and(|e| e == "html")
                && !matches!(rel.as_str(), "base.html" | "components.html")
            {
                found.push(rel);
            }
        }
    }

    /// One page struct per template: every page template is some `Page`'s, and no two share one.
    #[test]
    fn every_page_template_has_exactly_one_page_struct() {
        let mut pages = vec![
            <account::ProfilePage as Page>::TEMPLATE,
            <account::EmailConfirmPage as Page>::TEMPLATE,
            <admin::AdminMembersPage as Page>::TEMPLATE,
            <admin::OverviewPage as Page>::TEMPLATE,
            <admin::NewMemberPage as Page>::TEMPLATE,
            <admin::SettingsPage as Page>::TEMPLATE,
            <admin::AuditPage as Page>::TEMPLATE,
            <admin::ImportPage as Page>::TEMPLATE,
            <auth::LoginPage as Page>::TEMPLATE,
            <auth::SetupPage as Page>::TEMPLATE,
            <auth::ResetRequestPage as Page>::TEMPLATE,
            <auth::ResetFormPage as Page>::TEMPLATE,
            <blog::PostListPage as Page>::TEMPLATE,
            <blog::BlogPostPage as Page>::TEMPLATE,
            <blog::SearchResultsPage as Page>::TEMPLATE,
            <blog::FirstRunPage as Page>::TEMPLATE,
            <errors::ErrorPage as Page>::TEMPLATE,
            <files::FolderPage as Page>::TEMPLATE,
            <files::TrashPage as Page>::TEMPLATE,
            <notices::NoticesPage as Page>::TEMPLATE,
            <notices::NoticeFormPage as Page>::TEMPLATE,
            <notices::NoticePage as Page>::TEMPLATE,
            <reachability::AddressesPage as Page>::TEMPLATE,
            <reachability::VerifyPage as Page>::TEMPLATE,
            <reachability::ReachabilityPage as Page>::TEMPLATE,
            <room_posts::RoomPostPage as Page>::TEMPLATE,
            <room_posts::CommentPage as Page>::TEMPLATE,
            <files::PreviewPage as Page>::TEMPLATE,
            <people::PeoplePage as Page>::TEMPLATE,
            <people::ProfilePage as Page>::TEMPLATE,
            <room_posts::EditorPage as Page>::TEMPLATE,
            <room_posts::InboxPage as Page>::TEMPLATE,
            <room_posts::WhatsNewPage as Page>::TEMPLATE,
            <rooms::RoomsPage as Page>::TEMPLATE,
            <rooms::RoomPage as Page>::TEMPLATE,
            <rooms::RoomSettingsPage as Page>::TEMPLATE,
            <rooms::RoomMembersPage as Page>::TEMPLATE,
            <rooms::PermissionsPage as Page>::TEMPLATE,
            <rooms::AdminRoomsPage as Page>::TEMPLATE,
            <rooms::InvitePage as Page>::TEMPLATE,
            <safety::SafetyListPage as Page>::TEMPLATE,
            <safety::StartCheckPage as Page>::TEMPLATE,
            <safety::DashboardPage as Page>::TEMPLATE,
            <safety::AnswerFormPage as Page>::TEMPLATE,
            <safety::AnswerLinkPage as Page>::TEMPLATE,
            <ConfirmPage as Page>::TEMPLATE,
            <home::HomePage as Page>::TEMPLATE,
            <calendar::MonthPage as Page>::TEMPLATE,
            <calendar::WeekPage as Page>::TEMPLATE,
            <calendar::EventShowPage as Page>::TEMPLATE,
            <calendar::EventFormPage as Page>::TEMPLATE,
            <calendar::FeedPage as Page>::TEMPLATE,
            <facilities::FacilitiesPage as Page>::TEMPLATE,
            <facilities::FacilityPage as Page>::TEMPLATE,
            <facilities::AdminFacilitiesPage as Page>::TEMPLATE,
            <facilities::FacilityFormPage as Page>::TEMPLATE,
            <calendar::ImportPage as Page>::TEMPLATE,
        ];
        let mut on_disk = Vec::new();
        page_templates(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"),
            "",
            &mut on_disk,
        );
        pages.sort_unstable();
        on_disk.sort();
        assert_eq!(pages, on_disk);
    }
}

/// `confirm.html`: "are you sure?" before an action that cannot be taken back or reaches many
/// people at once, as a page of its own (no JavaScript needed): the same POST again, with the
/// form's values and the button's `confirmed=yes`.
#[derive(Debug, Clone, Serialize)]
pub struct ConfirmPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// What is about to happen (the page's heading).
    pub heading: String,
    /// What it will do, in words (who gets mail, what cannot be undone).
    pub message: String,
    /// Where the form goes.
    pub action: String,
    /// The submitted form's values, sent again unchanged.
    pub fields: Vec<HiddenField>,
    /// The confirming button's text.
    pub confirm_label: String,
    /// Back without doing it: a link (`None` when going back means the form, sent with
    /// `confirmed=edit`).
    pub cancel_url: Option<String>,
}

/// A form value the confirmation page carries over.
#[derive(Debug, Clone, Serialize)]
pub struct HiddenField {
    pub name: String,
    pub value: String,
}

impl Page for ConfirmPage {
    const TEMPLATE: &'static str = "confirm.html";
}
