//! The one place that decides who may do what. Rooms (issue #3) extend `Action` and the table here;
//! handlers and services never test roles themselves.

use super::Actor;
use crate::error::AppError;

/// Something an actor wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read the public blog.
    ReadPublic,
    /// Write, edit and delete posts of the public blog.
    WriteBlog,
    /// Use the admin panel (members, settings, audit log).
    Administer,
    /// Edit one's own profile and password.
    EditOwnProfile,
}

/// Allows or denies `action` for `actor` (`None` = anonymous visitor).
/// A denied anonymous visitor is asked to log in; a denied member gets 404 (existence does not leak).
pub fn authorize(actor: Option<&Actor>, action: Action) -> Result<(), AppError> {
    let allowed = match (actor, action) {
        (_, Action::ReadPublic) | (Some(_), Action::EditOwnProfile) => true,
        (None, _) => return Err(AppError::Unauthenticated),
        (Some(a), Action::WriteBlog | Action::Administer) => a.is_admin,
    };
    if allowed {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every actor kind × action, against the expected outcome.
    #[test]
    fn permission_table() {
        let admin = Actor {
            id: 1,
            is_admin: true,
        };
        let member = Actor {
            id: 2,
            is_admin: false,
        };
        // (actor, action, expected): "ok", "login" (redirect to login) or "404".
        let table: &[(Option<&Actor>, Action, &str)] = &[
            (None, Action::ReadPublic, "ok"),
            (None, Action::WriteBlog, "login"),
            (None, Action::Administer, "login"),
            (None, Action::EditOwnProfile, "login"),
            (Some(&member), Action::ReadPublic, "ok"),
            (Some(&member), Action::WriteBlog, "404"),
            (Some(&member), Action::Administer, "404"),
            (Some(&member), Action::EditOwnProfile, "ok"),
            (Some(&admin), Action::ReadPublic, "ok"),
            (Some(&admin), Action::WriteBlog, "ok"),
            (Some(&admin), Action::Administer, "ok"),
            (Some(&admin), Action::EditOwnProfile, "ok"),
        ];
        for (actor, action, expected) in table {
            let got = match authorize(*actor, *action) {
                Ok(()) => "ok",
                Err(AppError::Unauthenticated) => "login",
                Err(AppError::NotFound) => "404",
                Err(e) => panic!("unexpected {e}"),
            };
            assert_eq!(got, *expected, "{actor:?} {action:?}");
        }
    }
}
