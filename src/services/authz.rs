//! The one place that decides who may do what: site-level actions and, for rooms, DESIGN.md §4's
//! permission matrix with its per-room adjustable cells. Handlers and services never test roles
//! themselves. Anything an actor may not read answers 404 (never 403), so existence does not leak.

use super::Actor;
use crate::db::types::{Feature, Features};
pub use crate::db::types::{JoinPolicy, RoomPermission, RoomRole, Visibility};
use crate::error::AppError;

/// A site-level action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read the public blog.
    ReadPublic,
    /// Use the admin panel (members, rooms, settings, audit log).
    Administer,
    /// Edit one's own profile and password.
    EditOwnProfile,
    /// Decide how much disk a room may use: the site admin's decision, never a room manager's
    /// (every member manages their own private room, and managers once raised their own quota).
    SetRoomQuota,
    /// Start a safety check for everyone on the site (a room's officers start them for their room).
    StartSafetyCheckForEveryone,
    /// Open the member directory (名簿): the people one shares a room with.
    ListPeople,
}

/// Allows or denies a site-level `action` for `actor` (`None` = anonymous visitor).
/// A denied anonymous visitor is asked to log in; a denied member gets 404 (existence does not leak).
pub fn authorize(actor: Option<&Actor>, action: Action) -> Result<(), AppError> {
    let allowed = match (actor, action) {
        (_, Action::ReadPublic) | (Some(_), Action::EditOwnProfile | Action::ListPeople) => true,
        (None, _) => return Err(AppError::Unauthenticated),
        (
            Some(a),
            Action::Administer | Action::SetRoomQuota | Action::StartSafetyCheckForEveryone,
        ) => a.is_admin,
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Allows or denies seeing a person's profile page: one's own, anyone's for a site admin, and
/// otherwise only someone one shares a room with (a family member invited to one room does not
/// see the whole organisation); 404 either way, so a refusal does not tell that the account exists.
pub fn authorize_profile(
    actor: Option<&Actor>,
    person_id: i64,
    shares_room: bool,
) -> Result<(), AppError> {
    match actor {
        None => Err(AppError::Unauthenticated),
        Some(a) if a.is_admin || a.id == person_id || shares_room => Ok(()),
        Some(_) => Err(AppError::NotFound),
    }
}

/// Allows or denies seeing a person's profile picture: whoever may see their profile page
/// (`authorize_profile`). An anonymous visitor gets 404, not the login page: an `<img>` has no use
/// for a redirect, and no one outside may walk the ids to learn who has an account or a face.
pub fn authorize_picture(
    actor: Option<&Actor>,
    person_id: i64,
    shares_room: bool,
) -> Result<(), AppError> {
    match actor {
        None => Err(AppError::NotFound),
        Some(_) => authorize_profile(actor, person_id, shares_room),
    }
}

/// Allows or denies using a verification link mailed for an address of account `owner_id`. The
/// link proves the mailbox, so a visitor who is not logged in may use it (a phone's mail app opens
/// links in a browser that rarely is); someone logged in as another account may not, so a link
/// forwarded to or opened by the wrong person changes nothing while they are signed in.
pub fn authorize_address_link(actor: Option<&Actor>, owner_id: i64) -> Result<(), AppError> {
    match actor {
        Some(a) if a.id != owner_id => Err(AppError::Conflict("reach.link_other_account")),
        _ => Ok(()),
    }
}

/// Allows or refuses a change of `target`'s membership (`None`: removed or leaving) in a room whose
/// owner is `owner` (private rooms have one): the owner always stays its manager, so their room
/// cannot be taken from them by a manager they added.
pub fn authorize_membership_change(
    owner: Option<i64>,
    target: i64,
    new_role: Option<RoomRole>,
) -> Result<(), AppError> {
    if owner == Some(target) && new_role != Some(RoomRole::Manager) {
        Err(AppError::Conflict("room.owner_stays"))
    } else {
        Ok(())
    }
}

/// Allows or denies accepting an invitation mailed to `invited`, for an account whose proven
/// addresses (its email and its verified added addresses) are `own_addresses`. The link alone proves
/// nothing about who opened it (links get forwarded and leak), so the invited role, up to manager,
/// goes only to an account that owns the invited address; an administrator is no exception (they add
/// members directly). The refusal does not say which address was invited.
pub fn authorize_invitation(own_addresses: &[String], invited: &str) -> Result<(), AppError> {
    let invited = crate::models::contact::address_key(invited);
    if own_addresses
        .iter()
        .any(|a| crate::models::contact::address_key(a) == invited)
    {
        Ok(())
    } else {
        Err(AppError::Conflict("invite.other_address"))
    }
}

/// Whether `actor` may act for the whole site (a site administrator): starting a safety check for
/// everyone, seeing every room's safety results, managing any notice.
pub fn is_site_admin(actor: &Actor) -> bool {
    authorize(Some(actor), Action::Administer).is_ok()
}

/// The default matrix of DESIGN.md §4: `(allowed, adjustable)`; a room manager may change the
/// adjustable cells for their room.
pub fn default_cell(role: RoomRole, permission: RoomPermission) -> (bool, bool) {
    use RoomPermission as P;
    use RoomRole as R;
    match (permission, role) {
        (P::Create, R::Member) | (P::EditOthers, R::Editor) | (P::Publish, R::ChiefEditor) => {
            (true, true)
        }
        (P::Publish, R::Editor) => (false, true),
        (P::Read, _)
        | (P::Manage | P::Publish, R::Manager)
        | (P::Create | P::EditOthers | P::ApproveComments, R::Manager | R::ChiefEditor)
        | (P::Create, R::Editor)
        | (P::Comment | P::ReceiveMail, R::Member | R::Editor | R::ChiefEditor | R::Manager) => {
            (true, false)
        }
        _ => (false, false),
    }
}

/// What `authorize_room` needs to know about a room and the actor's place in it.
#[derive(Debug, Clone)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent facts about the room and the actor that the rules combine"
)]
pub struct RoomAccess {
    /// Who may read it.
    pub visibility: Visibility,
    /// `false` while 準備中 (under preparation): only its managers see it.
    pub open: bool,
    /// How newcomers join.
    pub join_policy: JoinPolicy,
    /// The actor's role in the room, if a member.
    pub role: Option<RoomRole>,
    /// The room's changes to adjustable cells: `(permission, role, allowed)`.
    pub overrides: Vec<(RoomPermission, RoomRole, bool)>,
    /// Whether the actor may read the parent room (sub-rooms hide behind their parent).
    pub parent_readable: bool,
    /// Whether the actor is one of the room's safety officers (may start a safety check for it).
    pub safety_officer: bool,
    /// Archived rooms are kept for the record: only site admins still see them.
    pub archived: bool,
    /// What the room has switched on (posts, files, calendar).
    pub features: Features,
}

impl RoomAccess {
    /// Whether `role` has `permission` here, after the room's overrides of adjustable cells.
    pub fn allows(&self, role: RoomRole, permission: RoomPermission) -> bool {
        let (default, adjustable) = default_cell(role, permission);
        if !adjustable {
            return default;
        }
        self.overrides
            .iter()
            .find(|(p, r, _)| *p == permission && *r == role)
            .map_or(default, |(_, _, allowed)| *allowed)
    }
}

/// Something an actor wants to do in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomAction {
    /// See the room and its content.
    Read,
    /// Write new content.
    CreateContent,
    /// Edit content; `own` when the actor wrote it.
    EditContent {
        /// The actor is the author.
        own: bool,
    },
    /// Delete content.
    DeleteContent {
        /// The actor is the author.
        own: bool,
        /// It was published at some time (then deleting needs publish rights).
        ever_published: bool,
    },
    /// Publish or approve (承認) / send back (差し戻し).
    Publish,
    /// See content that waits for approval (承認待ち) or was sent back (差し戻し): its author while
    /// they may still write there, and those who may approve it; other readers never see it.
    SeeWaiting {
        /// The actor is the author.
        own: bool,
    },
    /// Comment.
    Comment,
    /// Approve comments.
    ApproveComments,
    /// Change a comment's words; `own` when the actor wrote it. Only its author, and only while
    /// they may still comment there: nobody puts words in someone else's mouth, a site admin
    /// included (they may delete it instead).
    EditComment {
        /// The actor wrote it.
        own: bool,
    },
    /// Delete a comment: its author while they may still comment there, and whoever approves
    /// comments or edits others' content (moderation).
    DeleteComment {
        /// The actor wrote it.
        own: bool,
    },
    /// Change members and settings.
    Manage,
    /// See who the room's members are.
    ListMembers,
    /// Join (open rooms) or ask to join (request rooms).
    Join,
    /// Leave.
    Leave,
    /// Choose how one hears of new posts here (every post, a digest, nothing): its members.
    ChooseMailMode,
    /// Send a circular notice (回覧板) to the room's members: who may edit others' content.
    SendNotice,
    /// Manage a circular notice of the room (everyone's status and answers, reminders, closing,
    /// CSV): who may send notices, and its sender while still a member (a sender removed from the
    /// room once kept everyone's answers).
    ManageCircular {
        /// The actor sent it.
        sender: bool,
    },
    /// Start a safety check (安否確認) for the room: its safety officers (and site admins).
    StartSafetyCheck,
    /// See the room's safety-check results: its managers and safety officers.
    ViewSafetyResults,
    /// Use one of the room's features at all (its posts, its cabinet, its calendar): anyone who may
    /// read the room, when the room has it switched on. What one may do there is the other actions.
    UseFeature(Feature),
}

/// The roles that may publish in some room: allowed by default, or adjustable so a room may allow it
/// (`rooms::approvals_waiting` asks `authorize_room` only about rooms where one is held).
pub fn roles_that_may_publish() -> Vec<RoomRole> {
    RoomRole::ALL
        .into_iter()
        .filter(|r| {
            let (allowed, adjustable) = default_cell(*r, RoomPermission::Publish);
            allowed || adjustable
        })
        .collect()
}

/// Whether `actor` may read a room at all.
pub fn can_read_room(actor: Option<&Actor>, room: &RoomAccess) -> bool {
    if actor.is_some_and(|a| a.is_admin) {
        return true;
    }
    if room.archived || !room.parent_readable {
        return false;
    }
    if !room.open {
        return room.role == Some(RoomRole::Manager);
    }
    match room.visibility {
        Visibility::Public => true,
        Visibility::Members => actor.is_some(),
        Visibility::Closed => room.role.is_some(),
    }
}

/// Allows or denies a room action. Anything about a room the actor cannot read is 404; a readable
/// room's action that needs a login sends an anonymous visitor to log in; other refusals are 404 too.
pub fn authorize_room(
    actor: Option<&Actor>,
    room: &RoomAccess,
    action: RoomAction,
) -> Result<(), AppError> {
    use RoomPermission as P;
    if !can_read_room(actor, room) {
        return Err(AppError::NotFound);
    }
    match action {
        RoomAction::Read => return Ok(()),
        RoomAction::UseFeature(f) if room.features.has(f) => return Ok(()),
        RoomAction::UseFeature(_) => return Err(AppError::NotFound),
        _ => {}
    }
    let Some(actor) = actor else {
        return Err(AppError::Unauthenticated);
    };
    let allowed = match (action, room.role) {
        (RoomAction::Join, role) => role.is_none() && room.join_policy != JoinPolicy::Invite,
        (RoomAction::Leave | RoomAction::ChooseMailMode, role) => role.is_some(),
        (RoomAction::EditComment { own: false }, _) => false,
        _ if actor.is_admin => true,
        // A designation, not a role: an officer need not manage the room (and a guest may be one).
        (RoomAction::StartSafetyCheck, role) => role.is_some() && room.safety_officer,
        (RoomAction::ViewSafetyResults, Some(r)) => {
            room.safety_officer || room.allows(r, P::Manage)
        }
        (RoomAction::ListMembers, role) => role.is_some(),
        (_, None) => false,
        (RoomAction::CreateContent | RoomAction::EditContent { own: true }, Some(r)) => {
            room.allows(r, P::Create)
        }
        // Circular notices go out from those who may edit others' content ("an editor, per the matrix").
        (RoomAction::EditContent { own: false } | RoomAction::SendNotice, Some(r)) => {
            room.allows(r, P::EditOthers)
        }
        (RoomAction::ManageCircular { sender }, Some(r)) => sender || room.allows(r, P::EditOthers),
        (
            RoomAction::DeleteContent {
                own,
                ever_published,
            },
            Some(r),
        ) => {
            let may_touch = if own {
                room.allows(r, P::Create)
            } else {
                room.allows(r, P::EditOthers)
            };
            may_touch && (!ever_published || room.allows(r, P::Publish))
        }
        (RoomAction::Publish, Some(r)) => room.allows(r, P::Publish),
        (RoomAction::SeeWaiting { own }, Some(r)) => {
            (own && room.allows(r, P::Create)) || room.allows(r, P::Publish)
        }
        (
            RoomAction::Comment
            | RoomAction::EditComment { own: true }
            | RoomAction::DeleteComment { own: true },
            Some(r),
        ) => room.allows(r, P::Comment),
        (RoomAction::DeleteComment { own: false }, Some(r)) => {
            room.allows(r, P::ApproveComments) || room.allows(r, P::EditOthers)
        }
        (RoomAction::ApproveComments, Some(r)) => room.allows(r, P::ApproveComments),
        (RoomAction::Manage, Some(r)) => room.allows(r, P::Manage),
        (RoomAction::Read | RoomAction::UseFeature(_), _) => true,
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Whether what `actor` saves in a room waits for approval (承認待ち) rather than being shown to
/// readers at once: the room asks for approval (`need_approval`) and the actor may not publish
/// there. Calendar events follow it as posts do.
pub fn content_waits(actor: &Actor, room: &RoomAccess, need_approval: bool) -> bool {
    need_approval && authorize_room(Some(actor), room, RoomAction::Publish).is_err()
}

/// Who is asked to approve (承認) a revision waiting in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approvers {
    /// These members (user ids), whose role may publish there after the room's overrides.
    Members(Vec<i64>),
    /// No member may: the site admins, who may approve everywhere, so it does not wait unseen (the
    /// public space has no members on a new site or after the upgrade that made it).
    SiteAdmins,
}

/// Who approves in a room whose members are `members` (`(user id, role)`).
pub fn approvers(room: &RoomAccess, members: &[(i64, RoomRole)]) -> Approvers {
    let ids: Vec<i64> = members
        .iter()
        .filter(|(_, role)| room.allows(*role, RoomPermission::Publish))
        .map(|(id, _)| *id)
        .collect();
    if ids.is_empty() {
        Approvers::SiteAdmins
    } else {
        Approvers::Members(ids)
    }
}

/// The members (user ids) who decide a room's join requests: those whose role manages it.
pub fn join_request_deciders(room: &RoomAccess, members: &[(i64, RoomRole)]) -> Vec<i64> {
    members
        .iter()
        .filter(|(_, role)| room.allows(*role, RoomPermission::Manage))
        .map(|(id, _)| *id)
        .collect()
}

/// What an actor may do in a room they can read, answered once by `capabilities` from the same
/// rules as `authorize_room`: services pass it along with the room, and pages only copy it (a page
/// never decides a permission; a form's handler still calls `authorize_room` for the action itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "one flag per thing a page may offer; they are independent answers, not a state"
)]
pub struct RoomCapabilities {
    /// See the room and its content.
    pub read: bool,
    /// Join at once (an open room they are not in).
    pub join: bool,
    /// Ask to join (a room that takes requests, which they are not in).
    pub request: bool,
    /// Logged in, not a member, and only an invitation lets them in.
    pub invite_only: bool,
    /// Leave it.
    pub leave: bool,
    /// Change its settings, members and permissions.
    pub manage: bool,
    /// See who its members are.
    pub list_members: bool,
    /// The room has posts.
    pub blog: bool,
    /// Write a post.
    pub post: bool,
    /// Publish and approve posts.
    pub publish: bool,
    /// Comment on posts.
    pub comment: bool,
    /// The room has a file cabinet.
    pub files: bool,
    /// Put files in its cabinet.
    pub upload: bool,
    /// Change or delete others' files and posts.
    pub edit_others: bool,
    /// The room has a calendar.
    pub calendar: bool,
    /// Put events in its calendar.
    pub schedule: bool,
    /// Send a circular notice (回覧板) to its members.
    pub send_notice: bool,
    /// Start a safety check (安否確認) for it.
    pub start_safety_check: bool,
    /// See its safety-check results.
    pub view_safety_results: bool,
}

/// Everything `actor` may do in a room, for the pages that offer it (see `RoomCapabilities`).
pub fn capabilities(actor: Option<&Actor>, room: &RoomAccess) -> RoomCapabilities {
    let can = |action| authorize_room(actor, room, action).is_ok();
    let logged_in = actor.is_some();
    let has = |f| can(RoomAction::UseFeature(f));
    let join = logged_in && can(RoomAction::Join);
    RoomCapabilities {
        read: can(RoomAction::Read),
        join: join && room.join_policy == JoinPolicy::Open,
        request: join && room.join_policy == JoinPolicy::Request,
        invite_only: logged_in
            && can(RoomAction::Read)
            && room.role.is_none()
            && room.join_policy == JoinPolicy::Invite,
        leave: logged_in && can(RoomAction::Leave),
        manage: can(RoomAction::Manage),
        list_members: can(RoomAction::ListMembers),
        blog: has(Feature::Blog),
        post: logged_in && has(Feature::Blog) && can(RoomAction::CreateContent),
        publish: logged_in && has(Feature::Blog) && can(RoomAction::Publish),
        comment: logged_in && has(Feature::Blog) && can(RoomAction::Comment),
        files: has(Feature::Files),
        upload: logged_in && has(Feature::Files) && can(RoomAction::CreateContent),
        edit_others: logged_in && can(RoomAction::EditContent { own: false }),
        calendar: has(Feature::Calendar),
        schedule: logged_in && has(Feature::Calendar) && can(RoomAction::CreateContent),
        send_notice: logged_in && can(RoomAction::SendNotice),
        start_safety_check: logged_in && can(RoomAction::StartSafetyCheck),
        view_safety_results: logged_in && can(RoomAction::ViewSafetyResults),
    }
}

/// Something one does with facility reservations (施設予約).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacilityAction {
    /// See the facilities and their bookings: anyone logged in.
    View,
    /// Create, change or delete facilities: site admins.
    Manage,
    /// Book a facility for a room: someone who may create events in that room's calendar (never a
    /// guest), when the facility lets that room book.
    Book,
    /// Approve or reject a pending booking: the facility's managers and site admins.
    Approve,
    /// Cancel a booking: the facility's managers, site admins, and its booker while they may still
    /// create events in the booking room (a booker removed from the room may not).
    Cancel,
}

/// What the facility rules need to know besides the actor and the booking room.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FacilityFacts {
    /// The actor is one of the facility's managers.
    pub manager: bool,
    /// The facility lets the booking room book (every room, or the room is on its list).
    pub room_allowed: bool,
    /// The actor made the booking.
    pub booker: bool,
}

/// Allows or denies a facility action. `room` is the booking room as the actor sees it (for
/// `Book` and `Cancel`; `None` elsewhere). A room the actor cannot read is 404; a readable room
/// the facility does not take, or a role that may not write there, is 403.
pub fn authorize_facility(
    actor: Option<&Actor>,
    room: Option<&RoomAccess>,
    facts: FacilityFacts,
    action: FacilityAction,
) -> Result<(), AppError> {
    let Some(a) = actor else {
        return Err(AppError::Unauthenticated);
    };
    let may_write = |room: Option<&RoomAccess>| -> Result<(), AppError> {
        let room = room.ok_or(AppError::NotFound)?;
        authorize_room(actor, room, RoomAction::UseFeature(Feature::Calendar))?;
        // Readable but not writable: say so (403), the room's existence is no secret to them.
        authorize_room(actor, room, RoomAction::CreateContent).map_err(|_| AppError::Forbidden)?;
        if room.role == Some(RoomRole::Guest) && !a.is_admin {
            return Err(AppError::Forbidden);
        }
        Ok(())
    };
    match action {
        FacilityAction::View => Ok(()),
        FacilityAction::Manage if a.is_admin => Ok(()),
        FacilityAction::Manage => Err(AppError::NotFound),
        FacilityAction::Approve | FacilityAction::Cancel if a.is_admin || facts.manager => Ok(()),
        FacilityAction::Book => {
            may_write(room)?;
            if facts.room_allowed {
                Ok(())
            } else {
                Err(AppError::Forbidden)
            }
        }
        FacilityAction::Cancel if facts.booker => may_write(room),
        // Someone with no part in a booking whose room they cannot read: as if it were not there.
        FacilityAction::Cancel if !room.is_some_and(|r| can_read_room(actor, r)) => {
            Err(AppError::NotFound)
        }
        FacilityAction::Approve | FacilityAction::Cancel => Err(AppError::Forbidden),
    }
}

/// Moving or copying something from one room's cabinet into another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    /// A copy: the source stays as it is.
    Copy,
    /// A move: the source leaves its room (into that room's trash, as a deletion there does).
    Move,
}

/// Allows or denies moving or copying an item of room `from` (made by the actor when `own`) into
/// the cabinet of room `to`. Either room unreadable, or without its cabinet, is 404, as anything
/// one may not read. A copy only reads the source; a move takes the item out of its room, so it
/// needs what editing and deleting it there need. Either way the target must take new content
/// from the actor. A refusal in rooms the actor can read is 403: they are no secret to them.
pub fn authorize_transfer(
    actor: &Actor,
    from: &RoomAccess,
    to: &RoomAccess,
    own: bool,
    kind: Transfer,
) -> Result<(), AppError> {
    let actor = Some(actor);
    for room in [from, to] {
        authorize_room(actor, room, RoomAction::UseFeature(Feature::Files))?;
    }
    let forbidden = |_| AppError::Forbidden;
    if kind == Transfer::Move {
        authorize_room(actor, from, RoomAction::EditContent { own }).map_err(forbidden)?;
        let delete = RoomAction::DeleteContent {
            own,
            ever_published: false,
        };
        authorize_room(actor, from, delete).map_err(forbidden)?;
    }
    authorize_room(actor, to, RoomAction::CreateContent).map_err(forbidden)
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::*;

    /// Every actor kind × site action, against the expected outcome.
    #[test]
    fn site_permission_table() {
        let admin = Actor {
            id: 1,
            is_admin: true,
            tz: None,
        };
        let member = Actor {
            id: 2,
            is_admin: false,
            tz: None,
        };
        let table: &[(Option<&Actor>, Action, &str)] = &[
            (None, Action::ReadPublic, "ok"),
            (None, Action::Administer, "login"),
            (None, Action::EditOwnProfile, "login"),
            (None, Action::SetRoomQuota, "login"),
            (Some(&member), Action::SetRoomQuota, "404"),
            (Some(&admin), Action::SetRoomQuota, "ok"),
            (None, Action::StartSafetyCheckForEveryone, "login"),
            (Some(&member), Action::StartSafetyCheckForEveryone, "404"),
            (Some(&admin), Action::StartSafetyCheckForEveryone, "ok"),
            (Some(&member), Action::ReadPublic, "ok"),
            (Some(&member), Action::Administer, "404"),
            (Some(&member), Action::EditOwnProfile, "ok"),
            (Some(&admin), Action::ReadPublic, "ok"),
            (Some(&admin), Action::Administer, "ok"),
            (Some(&admin), Action::EditOwnProfile, "ok"),
            (None, Action::ListPeople, "login"),
            (Some(&member), Action::ListPeople, "ok"),
            (Some(&admin), Action::ListPeople, "ok"),
        ];
        for (actor, action, expected) in table {
            assert_eq!(
                outcome(authorize(*actor, *action)),
                *expected,
                "{actor:?} {action:?}"
            );
        }
    }

    /// Profiles: oneself, a site admin anyone, others only when sharing a room.
    #[test]
    fn profiles_show_to_those_who_share_a_room() {
        let admin = Actor {
            id: 1,
            is_admin: true,
            tz: None,
        };
        let member = Actor {
            id: 2,
            is_admin: false,
            tz: None,
        };
        let table: &[(Option<&Actor>, i64, bool, &str)] = &[
            (None, 3, true, "login"),
            (Some(&member), 2, false, "ok"),
            (Some(&member), 3, true, "ok"),
            (Some(&member), 3, false, "404"),
            (Some(&admin), 3, false, "ok"),
        ];
        for (actor, person, shares, expected) in table {
            assert_eq!(
                outcome(authorize_profile(*actor, *person, *shares)),
                *expected,
                "{actor:?} {person} {shares}"
            );
        }
    }

    /// Pictures: as profiles, but an anonymous visitor finds none (404, never a login page).
    #[test]
    fn pictures_show_to_those_who_see_the_profile() {
        let admin = Actor {
            id: 1,
            is_admin: true,
            tz: None,
        };
        let member = Actor {
            id: 2,
            is_admin: false,
            tz: None,
        };
        let table: &[(Option<&Actor>, i64, bool, &str)] = &[
            (None, 3, false, "404"),
            (None, 3, true, "404"),
            (Some(&member), 2, false, "ok"),
            (Some(&member), 3, true, "ok"),
            (Some(&member), 3, false, "404"),
            (Some(&admin), 3, false, "ok"),
            (Some(&admin), 1, false, "ok"),
        ];
        for (actor, person, shares, expected) in table {
            assert_eq!(
                outcome(authorize_picture(*actor, *person, *shares)),
                *expected,
                "{actor:?} {person} {shares}"
            );
        }
    }

    /// A verification link works for its owner and for visitors who are not logged in, never for
    /// another account (an administrator included).
    #[test]
    fn address_links_refuse_other_accounts() {
        let owner = Actor {
            id: 2,
            is_admin: false,
            tz: None,
        };
        let other = Actor {
            id: 3,
            is_admin: false,
            tz: None,
        };
        let admin = Actor {
            id: 1,
            is_admin: true,
            tz: None,
        };
        assert!(authorize_address_link(None, 2).is_ok());
        assert!(authorize_address_link(Some(&owner), 2).is_ok());
        for a in [&other, &admin] {
            assert!(matches!(
                authorize_address_link(Some(a), 2),
                Err(AppError::Conflict("reach.link_other_account"))
            ));
        }
    }

    /// A private room's owner keeps it: no one demotes or removes them, nor do they leave it.
    #[test]
    fn a_private_room_s_owner_stays_its_manager() {
        for role in [None, Some(RoomRole::ChiefEditor), Some(RoomRole::Guest)] {
            assert!(matches!(
                authorize_membership_change(Some(7), 7, role),
                Err(AppError::Conflict("room.owner_stays"))
            ));
            assert!(authorize_membership_change(Some(7), 8, role).is_ok());
            assert!(authorize_membership_change(None, 7, role).is_ok());
        }
        assert!(authorize_membership_change(Some(7), 7, Some(RoomRole::Manager)).is_ok());
    }

    /// An invitation is accepted only by an account that owns the invited address (compared
    /// without case or surrounding spaces); anyone else is refused without learning the address.
    #[test]
    fn invitations_are_for_the_invited_address_only() {
        let own = [
            "Hanako@Example.test".to_owned(),
            "phone@carrier.test".to_owned(),
        ];
        assert!(authorize_invitation(&own, "hanako@example.test").is_ok());
        assert!(authorize_invitation(&own, " PHONE@carrier.test ").is_ok());
        for other in ["taro@example.test", "hanako@example.test.evil", ""] {
            assert!(matches!(
                authorize_invitation(&own, other),
                Err(AppError::Conflict("invite.other_address"))
            ));
        }
        assert!(authorize_invitation(&[], "hanako@example.test").is_err());
    }

    /// Approval requests go to the members who may publish (after overrides); to the site admins
    /// only when there is none. Join requests go to the managers.
    #[test]
    fn approvers_and_join_deciders_follow_the_matrix() {
        let room = |overrides| RoomAccess {
            visibility: Visibility::Members,
            open: true,
            join_policy: JoinPolicy::Request,
            role: None,
            overrides,
            parent_readable: true,
            safety_officer: false,
            archived: false,
            features: Features::NONE,
        };
        let members = [
            (1, RoomRole::Manager),
            (2, RoomRole::ChiefEditor),
            (3, RoomRole::Editor),
            (4, RoomRole::Member),
        ];
        assert_eq!(
            approvers(&room(Vec::new()), &members),
            Approvers::Members(vec![1, 2])
        );
        let editors_publish = vec![(RoomPermission::Publish, RoomRole::Editor, true)];
        assert_eq!(
            approvers(&room(editors_publish), &members),
            Approvers::Members(vec![1, 2, 3])
        );
        assert_eq!(
            approvers(&room(Vec::new()), &members[3..]),
            Approvers::SiteAdmins
        );
        assert_eq!(approvers(&room(Vec::new()), &[]), Approvers::SiteAdmins);
        assert_eq!(join_request_deciders(&room(Vec::new()), &members), vec![1]);
    }

    fn outcome(r: Result<(), AppError>) -> &'static str {
        match r {
            Ok(()) => "ok",
            Err(AppError::Unauthenticated) => "login",
            Err(AppError::NotFound) => "404",
            Err(AppError::Forbidden) => "403",
            Err(e) => panic!("unexpected {e}"),
        }
    }

    /// DESIGN.md §4's matrix as written there, row by row (`1` = allowed, `a` = allowed and
    /// adjustable, `-` = refused and adjustable, `0` = refused), columns in `DESIGN_ROLES` order.
    /// The invariants below read the matrix from here, never from `default_cell`.
    const DESIGN_MATRIX: [(RoomPermission, &str); 8] = [
        (RoomPermission::Read, "11111"),
        (RoomPermission::Create, "111a0"),
        (RoomPermission::EditOthers, "11a00"),
        (RoomPermission::Publish, "1a-00"),
        (RoomPermission::Comment, "11110"),
        (RoomPermission::ApproveComments, "11000"),
        (RoomPermission::Manage, "10000"),
        (RoomPermission::ReceiveMail, "11110"),
    ];

    /// The columns of DESIGN.md §4's table: 管理者, 編集長, 編集者, 一般, ゲスト.
    const DESIGN_ROLES: [RoomRole; 5] = [
        RoomRole::Manager,
        RoomRole::ChiefEditor,
        RoomRole::Editor,
        RoomRole::Member,
        RoomRole::Guest,
    ];

    /// `(allowed, adjustable)` of a cell of DESIGN.md §4's table.
    fn design_cell(role: RoomRole, permission: RoomPermission) -> (bool, bool) {
        let row = DESIGN_MATRIX
            .iter()
            .find(|(p, _)| *p == permission)
            .map(|(_, row)| *row)
            .unwrap();
        let column = DESIGN_ROLES.iter().position(|r| *r == role).unwrap();
        match row.as_bytes()[column] {
            b'1' => (true, false),
            b'a' => (true, true),
            b'-' => (false, true),
            _ => (false, false),
        }
    }

    #[test]
    fn default_matrix_is_the_design_table() {
        for (permission, _) in DESIGN_MATRIX {
            for role in DESIGN_ROLES {
                assert_eq!(
                    default_cell(role, permission),
                    design_cell(role, permission),
                    "{permission:?} {role:?}"
                );
            }
        }
    }

    const ACTIONS: [(&str, RoomAction); 30] = [
        ("read", RoomAction::Read),
        ("create", RoomAction::CreateContent),
        ("edit-own", RoomAction::EditContent { own: true }),
        ("edit-other", RoomAction::EditContent { own: false }),
        (
            "delete-own-draft",
            RoomAction::DeleteContent {
                own: true,
                ever_published: false,
            },
        ),
        (
            "delete-own-published",
            RoomAction::DeleteContent {
                own: true,
                ever_published: true,
            },
        ),
        (
            "delete-other-draft",
            RoomAction::DeleteContent {
                own: false,
                ever_published: false,
            },
        ),
        (
            "delete-other-published",
            RoomAction::DeleteContent {
                own: false,
                ever_published: true,
            },
        ),
        ("publish", RoomAction::Publish),
        ("comment", RoomAction::Comment),
        ("approve-comments", RoomAction::ApproveComments),
        ("manage", RoomAction::Manage),
        ("list-members", RoomAction::ListMembers),
        ("join", RoomAction::Join),
        ("leave", RoomAction::Leave),
        ("choose-mail-mode", RoomAction::ChooseMailMode),
        ("send-notice", RoomAction::SendNotice),
        (
            "manage-circular",
            RoomAction::ManageCircular { sender: false },
        ),
        (
            "manage-own-circular",
            RoomAction::ManageCircular { sender: true },
        ),
        ("start-safety", RoomAction::StartSafetyCheck),
        ("safety-results", RoomAction::ViewSafetyResults),
        ("use-blog", RoomAction::UseFeature(Feature::Blog)),
        ("use-files", RoomAction::UseFeature(Feature::Files)),
        ("use-calendar", RoomAction::UseFeature(Feature::Calendar)),
        ("edit-own-comment", RoomAction::EditComment { own: true }),
        ("edit-other-comment", RoomAction::EditComment { own: false }),
        (
            "delete-own-comment",
            RoomAction::DeleteComment { own: true },
        ),
        (
            "delete-other-comment",
            RoomAction::DeleteComment { own: false },
        ),
        ("see-own-waiting", RoomAction::SeeWaiting { own: true }),
        ("see-other-waiting", RoomAction::SeeWaiting { own: false }),
    ];

    /// The actions whose answer comes from the matrix's cells (the overrides section of the table).
    const MATRIX_ACTIONS: [&str; 14] = [
        "create",
        "edit-own",
        "edit-other",
        "delete-own-draft",
        "delete-own-published",
        "delete-other-draft",
        "delete-other-published",
        "publish",
        "comment",
        "approve-comments",
        "manage",
        "send-notice",
        "see-own-waiting",
        "see-other-waiting",
    ];

    /// One actor of the generated table: who they are, their role in the room, whether they are
    /// one of its safety officers.
    struct Who {
        name: &'static str,
        actor: Option<Actor>,
        role: Option<RoomRole>,
        officer: bool,
    }

    impl Who {
        fn logged_in(&self) -> bool {
            self.actor.is_some()
        }

        fn admin(&self) -> bool {
            self.actor.as_ref().is_some_and(|a| a.is_admin)
        }
    }

    /// Every actor of the table, in its order (later additions at the end, so the older rows keep
    /// their place in the file's diff).
    fn actors() -> Vec<Who> {
        let member = || {
            Some(Actor {
                id: 2,
                is_admin: false,
                tz: None,
            })
        };
        let admin = || {
            Some(Actor {
                id: 1,
                is_admin: true,
                tz: None,
            })
        };
        let who = |name, actor, role, officer| Who {
            name,
            actor,
            role,
            officer,
        };
        let mut all = vec![
            who("anonymous", None, None, false),
            who("outsider", member(), None, false),
        ];
        for role in RoomRole::ALL {
            all.push(who(role.as_str(), member(), Some(role), false));
        }
        // A safety officer is a designation on top of a role; the lowest roles show it best.
        all.push(who("guest+officer", member(), Some(RoomRole::Guest), true));
        all.push(who(
            "member+officer",
            member(),
            Some(RoomRole::Member),
            true,
        ));
        all.push(who("site-admin", admin(), None, false));
        // An officer row left behind without the membership grants nothing.
        all.push(who("outsider+officer", member(), None, true));
        // A site admin who is in the room (may leave it, not join it again).
        all.push(who(
            "site-admin+member",
            admin(),
            Some(RoomRole::Member),
            false,
        ));
        all
    }

    /// A room as `who` sees it.
    fn room_for(
        who: &Who,
        visibility: Visibility,
        open: bool,
        join_policy: JoinPolicy,
        parent_readable: bool,
        overrides: &[(RoomPermission, RoomRole, bool)],
    ) -> RoomAccess {
        RoomAccess {
            visibility,
            open,
            join_policy,
            role: who.role,
            overrides: overrides.to_vec(),
            parent_readable,
            safety_officer: who.officer,
            archived: false,
            features: ALL_FEATURES,
        }
    }

    /// Every feature on: the tables' rooms have posts, files and a calendar unless a section says not.
    const ALL_FEATURES: Features = Features::NONE
        .with(Feature::Blog)
        .with(Feature::Files)
        .with(Feature::Calendar);

    /// What one saves waits for approval exactly where the room asks for it and one may not
    /// publish: every role, with and without approval, and with the editor's publish cell turned on.
    #[test]
    fn saves_wait_where_approval_is_on_and_one_may_not_publish() {
        let editor_publishes = [(RoomPermission::Publish, RoomRole::Editor, true)];
        for who in actors().iter().filter(|w| w.actor.is_some()) {
            for overrides in [&[][..], &editor_publishes[..]] {
                let room = room_for(
                    who,
                    Visibility::Members,
                    true,
                    JoinPolicy::Open,
                    true,
                    overrides,
                );
                let actor = who.actor.as_ref().unwrap();
                let publishes = who.admin()
                    || who
                        .role
                        .is_some_and(|r| room.allows(r, RoomPermission::Publish));
                assert!(!content_waits(actor, &room, false), "{}", who.name);
                assert_eq!(
                    content_waits(actor, &room, true),
                    !publishes,
                    "{} {overrides:?}",
                    who.name
                );
            }
        }
        let member = Actor {
            id: 2,
            is_admin: false,
            tz: None,
        };
        let editor = Who {
            name: "editor",
            actor: Some(member.clone()),
            role: Some(RoomRole::Editor),
            officer: false,
        };
        let room = room_for(
            &editor,
            Visibility::Members,
            true,
            JoinPolicy::Open,
            true,
            &[],
        );
        assert!(
            content_waits(&member, &room, true),
            "an editor's events wait"
        );
        let chief = Who {
            role: Some(RoomRole::ChiefEditor),
            ..editor
        };
        let room = room_for(
            &chief,
            Visibility::Members,
            true,
            JoinPolicy::Open,
            true,
            &[],
        );
        assert!(
            !content_waits(&member, &room, true),
            "a chief editor's do not"
        );
    }

    fn answer(who: &Who, room: &RoomAccess, action: RoomAction) -> &'static str {
        outcome(authorize_room(who.actor.as_ref(), room, action))
    }

    fn state_name(open: bool) -> &'static str {
        if open { "open" } else { "preparing" }
    }

    /// A room's overrides of adjustable cells, as `RoomAccess` holds them.
    type Overrides = Vec<(RoomPermission, RoomRole, bool)>;

    /// Sets of per-room overrides: none; every adjustable cell of DESIGN.md §4 switched on and
    /// switched off; and fixed cells a manager might try to switch (which must change nothing).
    fn override_sets() -> Vec<(String, Overrides)> {
        let mut sets = vec![("none".to_owned(), Vec::new())];
        for (permission, _) in DESIGN_MATRIX {
            for role in DESIGN_ROLES {
                if design_cell(role, permission).1 {
                    for allowed in [true, false] {
                        sets.push(override_set(permission, role, allowed));
                    }
                }
            }
        }
        for (permission, role, allowed) in [
            (RoomPermission::Create, RoomRole::Guest, true),
            (RoomPermission::Comment, RoomRole::Guest, true),
            (RoomPermission::EditOthers, RoomRole::Member, true),
            (RoomPermission::Publish, RoomRole::Member, true),
            (RoomPermission::Manage, RoomRole::ChiefEditor, true),
            (RoomPermission::Manage, RoomRole::Manager, false),
            (RoomPermission::Create, RoomRole::Editor, false),
            (RoomPermission::Read, RoomRole::Guest, false),
        ] {
            sets.push(override_set(permission, role, allowed));
        }
        sets
    }

    fn override_set(
        permission: RoomPermission,
        role: RoomRole,
        allowed: bool,
    ) -> (String, Overrides) {
        let value = if allowed { "on" } else { "off" };
        (
            format!("{}:{}={value}", permission.as_str(), role.as_str()),
            vec![(permission, role, allowed)],
        )
    }

    /// The generated table: every actor × visibility × open/準備中 × action (an open-join room, a
    /// readable parent, no overrides); join and leave under each join policy; everything behind an
    /// unreadable parent; the matrix's actions under each override set.
    fn permission_table() -> String {
        let mut lines = vec!["# actor | visibility | state | action => outcome".to_owned()];
        for who in &actors() {
            for visibility in Visibility::ALL {
                for open in [true, false] {
                    let room = room_for(who, visibility, open, JoinPolicy::Open, true, &[]);
                    for (action_name, action) in ACTIONS {
                        lines.push(format!(
                            "{} | {} | {} | {action_name} => {}",
                            who.name,
                            visibility.as_str(),
                            state_name(open),
                            answer(who, &room, action)
                        ));
                    }
                }
            }
        }
        join_policy_section(&mut lines);
        unreadable_parent_section(&mut lines);
        archived_and_featureless_section(&mut lines);
        overrides_section(&mut lines);
        facility_section(&mut lines);
        transfer_section(&mut lines);
        lines.join("\n") + "\n"
    }

    /// Facility reservations: every actor × booking-room visibility × facts × facility action.
    fn facility_section(lines: &mut Vec<String>) {
        lines.push(
            "# facilities (open room, calendar on): actor | visibility | facts | action => outcome"
                .to_owned(),
        );
        let actions = [
            ("view", FacilityAction::View),
            ("manage", FacilityAction::Manage),
            ("book", FacilityAction::Book),
            ("approve", FacilityAction::Approve),
            ("cancel", FacilityAction::Cancel),
        ];
        let fact_sets = [
            (
                "allowed",
                FacilityFacts {
                    room_allowed: true,
                    ..FacilityFacts::default()
                },
            ),
            ("not-allowed", FacilityFacts::default()),
            (
                "allowed+booker",
                FacilityFacts {
                    room_allowed: true,
                    booker: true,
                    manager: false,
                },
            ),
            (
                "manager",
                FacilityFacts {
                    manager: true,
                    ..FacilityFacts::default()
                },
            ),
        ];
        for who in &actors() {
            for visibility in Visibility::ALL {
                let room = room_for(who, visibility, true, JoinPolicy::Open, true, &[]);
                for (facts_name, facts) in fact_sets {
                    for (action_name, action) in actions {
                        lines.push(format!(
                            "{} | {} | {facts_name} | {action_name} => {}",
                            who.name,
                            visibility.as_str(),
                            outcome(authorize_facility(
                                who.actor.as_ref(),
                                Some(&room),
                                facts,
                                action
                            ))
                        ));
                    }
                }
            }
        }
    }

    /// Independent of the table: a guest of the room never books, whatever the facility allows;
    /// nobody books for a room the facility does not take; only managers and admins approve.
    #[test]
    fn facility_rules_hold_for_every_actor() {
        let allowed = FacilityFacts {
            room_allowed: true,
            ..FacilityFacts::default()
        };
        for who in &actors() {
            for visibility in Visibility::ALL {
                let room = room_for(who, visibility, true, JoinPolicy::Open, true, &[]);
                let book = |facts| {
                    authorize_facility(who.actor.as_ref(), Some(&room), facts, FacilityAction::Book)
                        .is_ok()
                };
                if who.role == Some(RoomRole::Guest) && !who.admin() {
                    assert!(!book(allowed), "{} books as a guest", who.name);
                }
                assert!(
                    !book(FacilityFacts::default()),
                    "{} books unallowed",
                    who.name
                );
                if book(allowed) {
                    assert!(
                        authorize_room(who.actor.as_ref(), &room, RoomAction::CreateContent)
                            .is_ok(),
                        "{} books without writing",
                        who.name
                    );
                }
                let approve = authorize_facility(
                    who.actor.as_ref(),
                    Some(&room),
                    allowed,
                    FacilityAction::Approve,
                )
                .is_ok();
                assert_eq!(approve, who.admin(), "{} approves", who.name);
            }
        }
    }

    /// Moving and copying between two closed rooms' cabinets: the actor's role in the source ×
    /// role in the target × own item or another's × copy or move.
    fn transfer_section(lines: &mut Vec<String>) {
        lines.push(
            "# transfer between closed rooms: from-role | to-role | item | kind => outcome"
                .to_owned(),
        );
        let roles: Vec<(&str, Option<RoomRole>)> = std::iter::once(("none", None))
            .chain(RoomRole::ALL.into_iter().map(|r| (r.as_str(), Some(r))))
            .collect();
        for admin in [false, true] {
            let actor = Actor {
                id: 2,
                is_admin: admin,
                tz: None,
            };
            let room = |role| RoomAccess {
                visibility: Visibility::Closed,
                open: true,
                join_policy: JoinPolicy::Invite,
                role,
                overrides: Vec::new(),
                parent_readable: true,
                safety_officer: false,
                archived: false,
                features: ALL_FEATURES,
            };
            for (from_name, from_role) in &roles {
                for (to_name, to_role) in &roles {
                    for own in [true, false] {
                        for (kind_name, kind) in
                            [("copy", Transfer::Copy), ("move", Transfer::Move)]
                        {
                            let got = authorize_transfer(
                                &actor,
                                &room(*from_role),
                                &room(*to_role),
                                own,
                                kind,
                            );
                            lines.push(format!(
                                "{}{from_name} | {to_name} | {} | {kind_name} => {}",
                                if admin { "site-admin+" } else { "" },
                                if own { "own" } else { "other" },
                                outcome(got)
                            ));
                        }
                    }
                }
            }
        }
    }

    /// Moving or copying between rooms never gives more than the two rooms give on their own:
    /// nothing lands where one may not create, nothing leaves a room where one may not delete it,
    /// and a room one cannot read stays 404 whichever end it is.
    #[test]
    fn a_transfer_gives_nothing_the_two_rooms_do_not() {
        let all = actors();
        let logged_in: Vec<&Who> = all.iter().filter(|w| w.logged_in()).collect();
        for visibility in Visibility::ALL {
            for from_who in &logged_in {
                for to_who in &logged_in {
                    if from_who.admin() != to_who.admin() {
                        continue;
                    }
                    let actor = from_who.actor.clone().unwrap();
                    let from = room_for(from_who, visibility, true, JoinPolicy::Open, true, &[]);
                    let to = room_for(to_who, visibility, true, JoinPolicy::Open, true, &[]);
                    for own in [true, false] {
                        for kind in [Transfer::Copy, Transfer::Move] {
                            let got = authorize_transfer(&actor, &from, &to, own, kind);
                            let ok =
                                |room, action| authorize_room(Some(&actor), room, action).is_ok();
                            let case = format!(
                                "{} -> {} {visibility:?} own={own} {kind:?}",
                                from_who.name, to_who.name
                            );
                            if !can_read_room(Some(&actor), &from)
                                || !can_read_room(Some(&actor), &to)
                            {
                                assert!(matches!(got, Err(AppError::NotFound)), "{case}: {got:?}");
                                continue;
                            }
                            let mut allowed = ok(&to, RoomAction::CreateContent);
                            if kind == Transfer::Move {
                                allowed &= ok(&from, RoomAction::EditContent { own })
                                    && ok(
                                        &from,
                                        RoomAction::DeleteContent {
                                            own,
                                            ever_published: false,
                                        },
                                    );
                            }
                            assert_eq!(got.is_ok(), allowed, "{case}");
                            if !allowed {
                                assert!(matches!(got, Err(AppError::Forbidden)), "{case}: {got:?}");
                            }
                        }
                    }
                }
            }
        }
    }

    fn join_policy_section(lines: &mut Vec<String>) {
        lines.push(
            "# join policies (readable parent, no overrides): actor | visibility | state | policy | action => outcome"
                .to_owned(),
        );
        for who in &actors() {
            for visibility in Visibility::ALL {
                for open in [true, false] {
                    for policy in JoinPolicy::ALL {
                        let room = room_for(who, visibility, open, policy, true, &[]);
                        for (action_name, action) in
                            [("join", RoomAction::Join), ("leave", RoomAction::Leave)]
                        {
                            lines.push(format!(
                                "{} | {} | {} | {} | {action_name} => {}",
                                who.name,
                                visibility.as_str(),
                                state_name(open),
                                policy.as_str(),
                                answer(who, &room, action)
                            ));
                        }
                    }
                }
            }
        }
    }

    fn unreadable_parent_section(lines: &mut Vec<String>) {
        lines.push(
            "# behind an unreadable parent (open join, no overrides): actor | visibility | state | parent | action => outcome"
                .to_owned(),
        );
        for who in &actors() {
            for visibility in Visibility::ALL {
                for open in [true, false] {
                    let room = room_for(who, visibility, open, JoinPolicy::Open, false, &[]);
                    for (action_name, action) in ACTIONS {
                        lines.push(format!(
                            "{} | {} | {} | parent-unreadable | {action_name} => {}",
                            who.name,
                            visibility.as_str(),
                            state_name(open),
                            answer(who, &room, action)
                        ));
                    }
                }
            }
        }
    }

    /// Archived rooms (every feature on) and rooms with no feature switched on (not archived).
    fn archived_and_featureless_section(lines: &mut Vec<String>) {
        lines.push(
            "# archived, or without features (open join, readable parent, no overrides): actor | visibility | state | room | action => outcome"
                .to_owned(),
        );
        for who in &actors() {
            for visibility in Visibility::ALL {
                for open in [true, false] {
                    let plain = room_for(who, visibility, open, JoinPolicy::Open, true, &[]);
                    let archived = RoomAccess {
                        archived: true,
                        ..plain.clone()
                    };
                    let featureless = RoomAccess {
                        features: Features::NONE,
                        ..plain
                    };
                    for (kind, room) in [("archived", &archived), ("no-features", &featureless)] {
                        for (action_name, action) in ACTIONS {
                            lines.push(format!(
                                "{} | {} | {} | {kind} | {action_name} => {}",
                                who.name,
                                visibility.as_str(),
                                state_name(open),
                                answer(who, room, action)
                            ));
                        }
                    }
                }
            }
        }
    }

    fn overrides_section(lines: &mut Vec<String>) {
        lines.push(
            "# overrides (a members room, open, invite-only, readable parent): override | actor | action => outcome"
                .to_owned(),
        );
        let actors = actors();
        let roles: Vec<&Who> = actors
            .iter()
            .filter(|w| w.role.is_some() && !w.officer && !w.admin())
            .collect();
        for (set_name, set) in override_sets().iter().skip(1) {
            for who in &roles {
                let room = room_for(
                    who,
                    Visibility::Members,
                    true,
                    JoinPolicy::Invite,
                    true,
                    set,
                );
                for (action_name, action) in ACTIONS {
                    if MATRIX_ACTIONS.contains(&action_name) {
                        lines.push(format!(
                            "{set_name} | {} | {action_name} => {}",
                            who.name,
                            answer(who, &room, action)
                        ));
                    }
                }
            }
        }
    }

    /// What bless mode does: `Ok(true)` rewrites the expectation, `Ok(false)` compares with it. CI
    /// never rewrites it: there the file is what was reviewed, and the code it checks must not
    /// be able to write its own expectation.
    fn bless_mode(bless: Option<&OsStr>, ci: Option<&OsStr>) -> Result<bool, &'static str> {
        match (bless.is_some(), ci.is_some()) {
            (true, true) => Err(
                "YUI_BLESS is set under CI: authz_expected.txt is never rewritten there. Bless it \
                 locally (YUI_BLESS=1 cargo test --lib authz), review every changed row against \
                 DESIGN.md §4 and commit it.",
            ),
            (bless, _) => Ok(bless),
        }
    }

    #[test]
    fn bless_mode_refuses_to_run_under_ci() {
        let set = Some(OsStr::new("1"));
        assert!(bless_mode(set, set).is_err());
        assert_eq!(bless_mode(set, None), Ok(true));
        assert_eq!(bless_mode(None, set), Ok(false));
        assert_eq!(bless_mode(None, None), Ok(false));
    }

    /// The generated table (see `permission_table`) against the checked-in `authz_expected.txt`.
    /// `YUI_BLESS=1 cargo test --lib authz` rewrites the file (never under CI); review its diff
    /// row by row against DESIGN.md §4. The invariants below check the same answers independently.
    #[test]
    fn room_permission_table_matches_the_checked_in_expectation() {
        let actual = permission_table();
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/services/authz_expected.txt"
        );
        match bless_mode(
            std::env::var_os("YUI_BLESS").as_deref(),
            std::env::var_os("CI").as_deref(),
        ) {
            Ok(true) => std::fs::write(path, &actual).unwrap(),
            Ok(false) => {}
            Err(message) => panic!("{message}"),
        }
        let expected = std::fs::read_to_string(path).unwrap();
        let rows = |text: &str| text.lines().map(str::to_owned).collect::<Vec<_>>();
        let (got, want) = (rows(&actual), rows(&expected));
        let unexpected: Vec<&String> = got.iter().filter(|l| !want.contains(l)).take(20).collect();
        let missing: Vec<&String> = want.iter().filter(|l| !got.contains(l)).take(20).collect();
        assert!(
            got == want,
            "permission table differs from authz_expected.txt\nnew rows: {unexpected:#?}\nrows gone: {missing:#?}"
        );
    }

    /// One room configuration of the invariants' walk.
    struct Case<'a> {
        who: &'a Who,
        visibility: Visibility,
        open: bool,
        policy: JoinPolicy,
        parent_readable: bool,
        overrides: &'a [(RoomPermission, RoomRole, bool)],
        archived: bool,
        features: Features,
    }

    impl Case<'_> {
        fn room(&self) -> RoomAccess {
            RoomAccess {
                archived: self.archived,
                features: self.features,
                ..room_for(
                    self.who,
                    self.visibility,
                    self.open,
                    self.policy,
                    self.parent_readable,
                    self.overrides,
                )
            }
        }

        /// Who may read a room, from DESIGN.md §4 ("visibility: public anyone may read · members
        /// any logged-in member may read · closed room members only; 準備中: only managers see it;
        /// sub-rooms stay hidden behind a parent the visitor cannot read; site admins may do
        /// everything").
        fn readable(&self) -> bool {
            if self.who.admin() {
                return true;
            }
            // Archived rooms are kept for the record, for site admins only.
            if self.archived || !self.parent_readable {
                return false;
            }
            if !self.open {
                return self.who.role == Some(RoomRole::Manager);
            }
            match self.visibility {
                Visibility::Public => true,
                Visibility::Members => self.who.logged_in(),
                Visibility::Closed => self.who.role.is_some(),
            }
        }

        /// A cell of DESIGN.md §4's matrix for the actor's role, after this room's overrides,
        /// which change adjustable cells only.
        fn cell(&self, permission: RoomPermission) -> bool {
            let Some(role) = self.who.role else {
                return false;
            };
            let (allowed, adjustable) = design_cell(role, permission);
            if !adjustable {
                return allowed;
            }
            self.overrides
                .iter()
                .find(|(p, r, _)| *p == permission && *r == role)
                .map_or(allowed, |(_, _, on)| *on)
        }
    }

    /// What DESIGN.md says outright for the actions it names one by one (`None`: the matrix's cells
    /// decide, checked by `matrix_holds`).
    fn expected_by_design(case: &Case<'_>, action: RoomAction) -> Option<bool> {
        let who = case.who;
        let readable = case.readable();
        let in_room = who.role.is_some();
        let admin = who.admin();
        let policy_lets_in = case.policy != JoinPolicy::Invite;
        match action {
            RoomAction::UseFeature(f) => Some(readable && case.features.has(f)),
            RoomAction::Join => Some(readable && who.logged_in() && !in_room && policy_lets_in),
            RoomAction::Leave | RoomAction::ChooseMailMode => Some(readable && in_room),
            RoomAction::Manage => Some(readable && (admin || who.role == Some(RoomRole::Manager))),
            RoomAction::ListMembers | RoomAction::ManageCircular { sender: true } => {
                Some(readable && (admin || in_room))
            }
            RoomAction::StartSafetyCheck => Some(readable && (admin || (in_room && who.officer))),
            RoomAction::ViewSafetyResults => Some(
                readable
                    && (admin || (in_room && (who.officer || who.role == Some(RoomRole::Manager)))),
            ),
            _ => None,
        }
    }

    /// Every invariant `answer` breaks for this case and action, by name.
    fn broken_invariants(
        case: &Case<'_>,
        name: &str,
        action: RoomAction,
        got: &str,
    ) -> Vec<&'static str> {
        let who = case.who;
        let ok = got == "ok";
        let readable = case.readable();
        let in_room = who.role.is_some();
        let mut broken = Vec::new();
        let mut expect = |holds: bool, invariant: &'static str| {
            if !holds {
                broken.push(invariant);
            }
        };
        // Refusals: a logged-in actor always gets 404; a visitor is asked to log in only where the
        // room is readable (anything unreadable is 404, so existence does not leak).
        if !ok {
            // A feature the room does not have is not there for anyone: 404, never a login.
            let missing_feature = matches!(action, RoomAction::UseFeature(_));
            let refusal = if !who.logged_in() && readable && !missing_feature {
                "login"
            } else {
                "404"
            };
            expect(
                got == refusal,
                "a refusal is 404, or login for a visitor on a readable room",
            );
        }
        expect(
            readable || got == "404",
            "nothing but 404 on a room one cannot read",
        );
        if action == RoomAction::Read {
            expect(
                ok == readable,
                "read follows visibility, 準備中 and the parent",
            );
        }
        let reading = matches!(action, RoomAction::Read | RoomAction::UseFeature(_));
        if !who.logged_in() {
            expect(!ok || reading, "a visitor reads at most");
        }
        if who.logged_in() && !who.admin() && !in_room {
            expect(
                !ok || reading || action == RoomAction::Join,
                "an outsider reads and joins at most",
            );
        }
        if who.role == Some(RoomRole::Guest) && !who.admin() {
            let safety = matches!(
                action,
                RoomAction::StartSafetyCheck | RoomAction::ViewSafetyResults
            );
            expect(
                !ok || matches!(
                    action,
                    RoomAction::Read
                        | RoomAction::UseFeature(_)
                        | RoomAction::ListMembers
                        | RoomAction::Leave
                        | RoomAction::ChooseMailMode
                ) || (safety && who.officer)
                    || action == RoomAction::ManageCircular { sender: true },
                "a guest reads, lists members and leaves (and acts as officer if one, and manages \
                 a circular they sent before they became a guest)",
            );
        }
        let admin = who.admin();
        let by_action = expected_by_design(case, action);
        if let Some(expected) = by_action {
            expect(
                ok == expected,
                "join/leave/manage/members/safety as DESIGN.md says",
            );
        }
        if admin
            && readable
            && !matches!(
                action,
                RoomAction::Join
                    | RoomAction::Leave
                    | RoomAction::ChooseMailMode
                    | RoomAction::UseFeature(_)
                    | RoomAction::EditComment { own: false }
            )
        {
            expect(ok, "a site admin may do everything (in what the room has)");
        }
        if action == (RoomAction::EditComment { own: false }) {
            expect(!ok, "nobody changes the words of someone else's comment");
        }
        if !admin && readable && in_room {
            expect(
                matrix_holds(case, name, ok),
                "content actions follow the matrix's cells",
            );
        }
        broken
    }

    /// Content actions of a room member, against the matrix (after overrides): "authors may edit
    /// their own content; deleting content that was ever published needs publish rights".
    fn matrix_holds(case: &Case<'_>, name: &str, ok: bool) -> bool {
        use RoomPermission as P;
        let cell = |p| case.cell(p);
        match name {
            "create" => ok == cell(P::Create),
            "edit-own" | "delete-own-draft" => !cell(P::Create) || ok,
            "delete-own-published" => !ok || cell(P::Publish),
            "edit-other" | "delete-other-draft" | "manage-circular" => ok == cell(P::EditOthers),
            "delete-other-published" => ok == (cell(P::EditOthers) && cell(P::Publish)),
            "publish" | "see-other-waiting" => ok == cell(P::Publish),
            "see-own-waiting" => ok == (cell(P::Create) || cell(P::Publish)),
            "comment" | "edit-own-comment" | "delete-own-comment" => ok == cell(P::Comment),
            "approve-comments" => ok == cell(P::ApproveComments),
            "edit-other-comment" => !ok,
            "delete-other-comment" => ok == (cell(P::ApproveComments) || cell(P::EditOthers)),
            _ => true,
        }
    }

    /// Independent invariants from DESIGN.md §4, over every actor × visibility × open/準備中 × join
    /// policy × readable/unreadable parent × override set × action.
    #[test]
    fn every_answer_keeps_the_design_s_invariants() {
        let actors = actors();
        let sets = override_sets();
        let mut failures = Vec::new();
        let mut checked = 0;
        for who in &actors {
            for visibility in Visibility::ALL {
                for open in [true, false] {
                    for policy in JoinPolicy::ALL {
                        for parent_readable in [true, false] {
                            for (set_name, set) in &sets {
                                for (archived, features) in [
                                    (false, ALL_FEATURES),
                                    (true, ALL_FEATURES),
                                    (false, Features::NONE),
                                ] {
                                    let case = Case {
                                        who,
                                        visibility,
                                        open,
                                        policy,
                                        parent_readable,
                                        overrides: set,
                                        archived,
                                        features,
                                    };
                                    checked += check_case(&case, set_name, &mut failures);
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(checked > 100_000, "the walk covered {checked} answers");
        assert!(
            failures.is_empty(),
            "{} answers break DESIGN.md §4, e.g.:\n{}",
            failures.len(),
            failures
                .iter()
                .take(30)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    /// Checks every action of one case (and what overrides and the officer designation may and may
    /// not change); returns how many answers were checked.
    fn check_case(case: &Case<'_>, set_name: &str, failures: &mut Vec<String>) -> usize {
        let room = case.room();
        let plain = RoomAccess {
            overrides: Vec::new(),
            ..room.clone()
        };
        let not_officer = RoomAccess {
            safety_officer: false,
            ..room.clone()
        };
        for (name, action) in ACTIONS {
            let got = answer(case.who, &room, action);
            let mut broken = broken_invariants(case, name, action, got);
            // An override changes only an adjustable cell of its own role.
            let touches_own_adjustable_cell = case.overrides.iter().any(|(p, r, _)| {
                Some(*r) == case.who.role && design_cell(*r, *p).1 && !case.who.admin()
            });
            if !touches_own_adjustable_cell && got != answer(case.who, &plain, action) {
                broken.push("an override changes only an adjustable cell of its role");
            }
            // The officer designation grants the safety actions and nothing else.
            let safety = matches!(
                action,
                RoomAction::StartSafetyCheck | RoomAction::ViewSafetyResults
            );
            if !safety && got != answer(case.who, &not_officer, action) {
                broken.push("being an officer changes nothing but the safety actions");
            }
            for invariant in broken {
                failures.push(format!(
                    "{} | {} | {} | {} | parent {} | {set_name} | {name} => {got}: {invariant}",
                    case.who.name,
                    case.visibility.as_str(),
                    state_name(case.open),
                    case.policy.as_str(),
                    if case.parent_readable {
                        "readable"
                    } else {
                        "unreadable"
                    },
                ));
            }
        }
        ACTIONS.len()
    }

    #[test]
    fn adjustable_cells_follow_the_room_and_fixed_cells_do_not() {
        let member = Actor {
            id: 2,
            is_admin: false,
            tz: None,
        };
        let mut room = RoomAccess {
            visibility: Visibility::Members,
            open: true,
            join_policy: JoinPolicy::Invite,
            role: Some(RoomRole::Member),
            overrides: vec![(RoomPermission::Create, RoomRole::Member, false)],
            parent_readable: true,
            safety_officer: false,
            archived: false,
            features: Features::NONE,
        };
        assert_eq!(
            outcome(authorize_room(
                Some(&member),
                &room,
                RoomAction::CreateContent
            )),
            "404"
        );
        room.role = Some(RoomRole::Editor);
        room.overrides = vec![(RoomPermission::Publish, RoomRole::Editor, true)];
        assert_eq!(
            outcome(authorize_room(Some(&member), &room, RoomAction::Publish)),
            "ok"
        );
        // A fixed cell cannot be switched on by an override.
        room.role = Some(RoomRole::Guest);
        room.overrides = vec![(RoomPermission::Create, RoomRole::Guest, true)];
        assert_eq!(
            outcome(authorize_room(
                Some(&member),
                &room,
                RoomAction::CreateContent
            )),
            "404"
        );
        // Invite-only rooms cannot be joined; sub-rooms hide behind an unreadable parent.
        room.role = None;
        assert_eq!(
            outcome(authorize_room(Some(&member), &room, RoomAction::Join)),
            "404"
        );
        room.parent_readable = false;
        room.visibility = Visibility::Public;
        assert_eq!(
            outcome(authorize_room(Some(&member), &room, RoomAction::Read)),
            "404"
        );
    }
}
