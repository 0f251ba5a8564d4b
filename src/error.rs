//! The application's error type: what every service returns and the web layer turns into a page.
//! This module knows nothing of actix; `web::error_page` renders it.

use std::fmt;

/// A field-level validation message: the form field and a translation key for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The form field's name.
    pub field: &'static str,
    /// The i18n key of the message shown next to it.
    pub message: &'static str,
}

/// Field messages collected while validating one form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// Adds a message for a field.
    pub fn add(&mut self, field: &'static str, message: &'static str) {
        self.0.push(FieldError { field, message });
    }

    /// Whether nothing was reported.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when empty, otherwise the errors as `AppError::Invalid`.
    pub fn into_result(self) -> Result<(), AppError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self))
        }
    }

    /// The message key for one field, if any.
    pub fn get(&self, field: &str) -> Option<&'static str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.message)
    }
}

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

/// Everything a use case can fail with, in the terms the user sees.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The thing does not exist, or the actor may not know it exists (404, never 403, for unreadable content).
    #[error("not found")]
    NotFound,
    /// A login is needed (redirects to the login page).
    #[error("login required")]
    Unauthenticated,
    /// The actor is known but may not do this (forged CSRF, admin-only pages).
    #[error("forbidden")]
    Forbidden,
    /// The input is wrong; the form is shown again with these messages (422).
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// The change clashes with existing data (409), with an i18n key for the message.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// It existed but is over for good (410): a closed check's link, a used or expired one; with an
    /// i18n key for the message.
    #[error("gone: {0}")]
    Gone(&'static str),
    /// Too many attempts (429), with an i18n key for the message.
    #[error("rate limited")]
    RateLimited(&'static str),
    /// The request body is over the limit (413).
    #[error("request body too large")]
    PayloadTooLarge,
    /// A file does not fit the room's free quota or the largest file allowed (413); nothing of it
    /// was kept.
    #[error("over the room's quota")]
    OverQuota,
    /// The disk is full (or below the configured reserve): nothing was stored (507).
    #[error("insufficient storage")]
    InsufficientStorage,
    /// A dependency (the database pool) is not answering (503).
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A bug or an I/O failure (500); logged once with the request id.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

/// Whether a database error says its disk is full: SQLite's `SQLITE_FULL` (the WAL or the database
/// file could not grow), PostgreSQL's `disk_full` (its messages end in the OS's "No space left on
/// device"). A write refused for that is a 507 like a refused upload, not a bug.
pub fn is_disk_full(e: &diesel::result::Error) -> bool {
    use diesel::result::Error;
    match e {
        Error::DatabaseError(_, info) => {
            let message = info.message();
            message.contains("database or disk is full")
                || message.contains("No space left on device")
        }
        Error::RollbackErrorOnCommit { commit_error, .. } => is_disk_full(commit_error),
        _ => false,
    }
}

/// Whether an I/O error is the disk being full (`ENOSPC`).
pub fn is_io_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull || e.raw_os_error() == Some(28)
}

impl From<diesel::result::Error> for AppError {
    #[track_caller]
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => Self::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                Self::Conflict("error.conflict")
            }
            ref full if is_disk_full(full) => {
                tracing::warn!(error = %full, "a write was refused: the database's disk is full");
                Self::InsufficientStorage
            }
            other => {
                let caller = std::panic::Location::caller();
                Self::Internal(anyhow::anyhow!("database error at {caller}: {other}"))
            }
        }
    }
}

impl From<anyhow::Error> for AppError {
    /// A full disk anywhere in the chain (the database's or the data directory's) is a 507.
    #[track_caller]
    fn from(e: anyhow::Error) -> Self {
        let full = e.chain().any(|cause| {
            cause
                .downcast_ref::<diesel::result::Error>()
                .is_some_and(is_disk_full)
                || cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(is_io_full)
        });
        if full {
            tracing::warn!(error = %format!("{e:#}"), "a write was refused: the disk is full");
            Self::InsufficientStorage
        } else {
            Self::Internal(e)
        }
    }
}

impl From<crate::db::types::UnknownValue> for AppError {
    /// A value in the database this version does not know is a broken invariant, not bad input.
    #[track_caller]
    fn from(e: crate::db::types::UnknownValue) -> Self {
        Self::Internal(e.into())
    }
}

/// Shorthand for a use case's result.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorKind, Error};

    use super::*;

    fn db_error(message: &str) -> Error {
        Error::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_owned()))
    }

    #[test]
    fn a_full_disk_under_the_database_is_a_507_and_other_failures_stay_500() {
        for full in [
            db_error("database or disk is full"),
            db_error("could not extend file \"base/16384/2619\": No space left on device"),
            Error::RollbackErrorOnCommit {
                rollback_error: Box::new(db_error("cannot rollback - no transaction is active")),
                commit_error: Box::new(db_error("database or disk is full")),
            },
        ] {
            assert!(
                matches!(AppError::from(full), AppError::InsufficientStorage),
                "a full disk"
            );
        }
        for other in [db_error("disk I/O error"), db_error("database is locked")] {
            assert!(matches!(AppError::from(other), AppError::Internal(_)));
        }
        let io = anyhow::Error::from(std::io::Error::from_raw_os_error(28)).context("writing");
        assert!(matches!(AppError::from(io), AppError::InsufficientStorage));
        let wrapped = anyhow::Error::from(db_error("database or disk is full")).context("saving");
        assert!(matches!(
            AppError::from(wrapped),
            AppError::InsufficientStorage
        ));
        let io = anyhow::Error::from(std::io::Error::from_raw_os_error(5));
        assert!(matches!(AppError::from(io), AppError::Internal(_)));
    }
}
