//! Every mail Yui sends, one typed context per directory under `templates/email/` (the struct's
//! fields are what its templates may use, besides `lang` and what `email/base.txt` adds). Links
//! are absolute (`Config::base_url`).

use serde::Serialize;

use super::{EmailTemplate, Footer};

/// `address_added`: an address was added to the account (to the account's own email, in case a
/// stolen session added it).
#[derive(Debug, Serialize)]
pub struct AddressAdded<'a> {
    /// The added address.
    pub address: &'a str,
    /// The account's addresses page.
    pub link: &'a str,
}

impl EmailTemplate for AddressAdded<'_> {
    const NAME: &'static str = "address_added";
    const FOOTER: Footer = Footer::NotYou;
}

/// `address_test`: a test mail with a verification link, to one of the member's addresses.
#[derive(Debug, Serialize)]
pub struct AddressTest<'a> {
    /// The address it tests.
    pub address: &'a str,
    /// The verification link.
    pub link: &'a str,
    /// Days the link stays valid.
    pub days: i64,
    /// Sent by an administrator to everyone before a drill (it says so).
    pub from_admin: bool,
}

impl EmailTemplate for AddressTest<'_> {
    const NAME: &'static str = "address_test";
}

/// `approval_request`: a revision waits for the recipient's approval.
#[derive(Debug, Serialize)]
pub struct ApprovalRequest<'a> {
    /// Who submitted it.
    pub who: &'a str,
    /// The room's name.
    pub room: &'a str,
    /// The revision's title.
    pub title: &'a str,
    /// The approvals inbox.
    pub link: &'a str,
}

impl EmailTemplate for ApprovalRequest<'_> {
    const NAME: &'static str = "approval_request";
}

/// `event_approval_request`: a calendar event waits for the recipient's approval.
#[derive(Debug, Serialize)]
pub struct EventApprovalRequest<'a> {
    /// Who saved it.
    pub who: &'a str,
    /// The room's name.
    pub room: &'a str,
    /// The event's title.
    pub title: &'a str,
    /// The approvals inbox.
    pub link: &'a str,
}

impl EmailTemplate for EventApprovalRequest<'_> {
    const NAME: &'static str = "event_approval_request";
}

/// `event_decided`: the author's event was approved, or sent back with a note.
#[derive(Debug, Serialize)]
pub struct EventDecided<'a> {
    /// The room's name.
    pub room: &'a str,
    /// The event's title.
    pub title: &'a str,
    /// Approved (else sent back).
    pub approved: bool,
    /// The approver's note when sent back (empty otherwise).
    pub note: &'a str,
    /// The event's page.
    pub link: &'a str,
}

impl EmailTemplate for EventDecided<'_> {
    const NAME: &'static str = "event_decided";
}

/// `circular_notice`: a circular notice (回覧板) or a reminder of it; sent with `queue_many`.
#[derive(Debug, Serialize)]
pub struct CircularNotice<'a> {
    /// The notice's title.
    pub title: &'a str,
    /// The notice's page (the same for everyone).
    pub link: &'a str,
    /// The notice's text as plain text (may be empty).
    pub body: &'a str,
    /// A reminder (the subject says so).
    pub reminder: bool,
}

impl EmailTemplate for CircularNotice<'_> {
    const NAME: &'static str = "circular_notice";
    const GREETING: bool = false;
}

/// `digest`: the day's new posts for a member who chose the digest.
#[derive(Debug, Serialize)]
pub struct Digest<'a> {
    /// One item per post (room, title and link), lines joined.
    pub items: &'a str,
    /// How many posts.
    pub count: usize,
}

impl EmailTemplate for Digest<'_> {
    const NAME: &'static str = "digest";
    const FOOTER: Footer = Footer::RoomMail;
}

/// `email_change_confirm`: the link that makes a new address the account's (to the new address).
#[derive(Debug, Serialize)]
pub struct EmailChangeConfirm<'a> {
    /// The account's login.
    pub login: &'a str,
    /// The new address.
    pub new_email: &'a str,
    /// Hours the link stays valid.
    pub hours: i64,
    /// The confirmation link.
    pub link: &'a str,
}

impl EmailTemplate for EmailChangeConfirm<'_> {
    const NAME: &'static str = "email_change_confirm";
}

/// `email_change_notice`: a change of the account's email was asked for (to the current address).
#[derive(Debug, Serialize)]
pub struct EmailChangeNotice<'a> {
    /// The account's login.
    pub login: &'a str,
    /// The new address.
    pub new_email: &'a str,
    /// Hours the confirmation link stays valid.
    pub hours: i64,
}

impl EmailTemplate for EmailChangeNotice<'_> {
    const NAME: &'static str = "email_change_notice";
    const FOOTER: Footer = Footer::NotYou;
}

/// `event_reminder`: a reminder the member asked for, before an event (or one date of a series).
#[derive(Debug, Serialize)]
pub struct EventReminder<'a> {
    /// The event's title (the date's own, when it was changed alone).
    pub title: &'a str,
    /// When it is, in the site's zone.
    pub when: &'a str,
    /// Where (may be empty).
    pub place: &'a str,
    /// The room's name.
    pub room: &'a str,
    /// The event's page (the date's own for a series).
    pub link: &'a str,
}

impl EmailTemplate for EventReminder<'_> {
    const NAME: &'static str = "event_reminder";
}

/// `join_request`: someone asks to join a room the recipient manages.
#[derive(Debug, Serialize)]
pub struct JoinRequest<'a> {
    /// Who asks.
    pub who: &'a str,
    /// The room's name.
    pub room: &'a str,
    /// Their message (may be empty).
    pub message: &'a str,
    /// The room's members page.
    pub link: &'a str,
}

impl EmailTemplate for JoinRequest<'_> {
    const NAME: &'static str = "join_request";
}

/// `new_comment`: a comment on the recipient's post.
#[derive(Debug, Serialize)]
pub struct NewComment<'a> {
    /// Who commented.
    pub who: &'a str,
    /// The post's title.
    pub title: &'a str,
    /// The post.
    pub link: &'a str,
}

impl EmailTemplate for NewComment<'_> {
    const NAME: &'static str = "new_comment";
}

/// `new_post`: a post was published in a room of the recipient's.
#[derive(Debug, Serialize)]
pub struct NewPost<'a> {
    /// The author.
    pub who: &'a str,
    /// The room's name.
    pub room: &'a str,
    /// The post's title.
    pub title: &'a str,
    /// The post.
    pub link: &'a str,
}

impl EmailTemplate for NewPost<'_> {
    const NAME: &'static str = "new_post";
    const FOOTER: Footer = Footer::RoomMail;
}

/// `password_changed`: the account's password was changed.
#[derive(Debug, Serialize)]
pub struct PasswordChanged<'a> {
    /// The account's login.
    pub login: &'a str,
}

impl EmailTemplate for PasswordChanged<'_> {
    const NAME: &'static str = "password_changed";
    const FOOTER: Footer = Footer::NotYou;
}

/// `password_reset`: a link to choose a new password.
#[derive(Debug, Serialize)]
pub struct PasswordReset<'a> {
    /// The account's login.
    pub login: &'a str,
    /// Minutes the link stays valid.
    pub minutes: i64,
    /// The link.
    pub link: &'a str,
}

impl EmailTemplate for PasswordReset<'_> {
    const NAME: &'static str = "password_reset";
}

/// `welcome`: a new account's link to choose its first password.
#[derive(Debug, Serialize)]
pub struct Welcome<'a> {
    /// The account's login.
    pub login: &'a str,
    /// Days the link stays valid.
    pub days: i64,
    /// The link.
    pub link: &'a str,
}

impl EmailTemplate for Welcome<'_> {
    const NAME: &'static str = "welcome";
}

/// `post_approved`: the recipient's revision was approved and is live.
#[derive(Debug, Serialize)]
pub struct PostApproved<'a> {
    /// The room's name.
    pub room: &'a str,
    /// The revision's title.
    pub title: &'a str,
    /// The post.
    pub link: &'a str,
}

impl EmailTemplate for PostApproved<'_> {
    const NAME: &'static str = "post_approved";
}

/// `post_sent_back`: the recipient's revision was sent back with a note.
#[derive(Debug, Serialize)]
pub struct PostSentBack<'a> {
    /// The room's name.
    pub room: &'a str,
    /// The revision's title.
    pub title: &'a str,
    /// The approver's note.
    pub note: &'a str,
    /// The post.
    pub link: &'a str,
}

impl EmailTemplate for PostSentBack<'_> {
    const NAME: &'static str = "post_sent_back";
}

/// `room_invitation`: an invitation to a room (to an address that may have no account yet).
#[derive(Debug, Serialize)]
pub struct RoomInvitation<'a> {
    /// Who invites.
    pub who: &'a str,
    /// The room's name.
    pub room: &'a str,
    /// The invitation link.
    pub link: &'a str,
    /// Days the link stays valid.
    pub days: i64,
}

impl EmailTemplate for RoomInvitation<'_> {
    const NAME: &'static str = "room_invitation";
    const GREETING: bool = false;
}

/// `safety_check`: a safety check (安否確認) or a reminder of it, with the recipient's personal
/// answer link; sent with `queue_many`.
#[derive(Debug, Serialize)]
pub struct SafetyCheck<'a> {
    /// The check's title.
    pub title: &'a str,
    /// A drill (訓練): subject and text say so.
    pub drill: bool,
    /// A reminder (the subject says so).
    pub reminder: bool,
    /// The starter's message as plain text (may be empty).
    pub body: &'a str,
    /// The personal answer link.
    pub link: &'a str,
}

impl EmailTemplate for SafetyCheck<'_> {
    const NAME: &'static str = "safety_check";
    const GREETING: bool = false;
}
