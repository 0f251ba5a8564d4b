//! What a use case that takes a form answers: it was saved, or the form must be shown again with
//! its field errors and what its page needs (`FormOutcome`). A page is shown again from what the
//! use case returned, inside the transaction that refused the form: never from a second one.

use diesel::Connection;

use crate::db::DbConn;
use crate::error::{AppError, AppResult, FieldErrors};

/// The answer of a form's use case.
#[derive(Debug)]
pub enum FormOutcome<T, P = ()> {
    /// The form was accepted; what it saved.
    Saved(T),
    /// The form was refused: show it again (422) with these errors.
    Invalid {
        /// The messages, per field.
        errors: FieldErrors,
        /// What the form's page shows besides the submitted values (`()` when nothing).
        page: P,
    },
}

impl<T, P> FormOutcome<T, P> {
    /// `Saved` for `Ok`; `Invalid` with `page` for field errors; every other error stays an error.
    /// For use cases made of several transactions (password hashing runs between them), each of
    /// which already rolled back what it could not finish.
    pub fn of(result: AppResult<T>, page: P) -> AppResult<Self> {
        match result {
            Ok(saved) => Ok(Self::Saved(saved)),
            Err(AppError::Invalid(errors)) if !errors.is_empty() => {
                Ok(Self::Invalid { errors, page })
            }
            Err(e) => Err(e),
        }
    }
}

/// Runs a form's use case `save` in a savepoint of the caller's transaction. When it refuses the
/// input (field errors), whatever it wrote is rolled back and `page` loads what the form's page
/// needs, in the same transaction (in a savepoint too, so a batch of forms in one transaction
/// survives a failed page); every other error is returned as it is.
pub fn submit<T, P>(
    conn: &mut DbConn,
    save: impl FnOnce(&mut DbConn) -> AppResult<T>,
    page: impl FnOnce(&mut DbConn) -> AppResult<P>,
) -> AppResult<FormOutcome<T, P>> {
    match conn.transaction(save) {
        Ok(saved) => Ok(FormOutcome::Saved(saved)),
        Err(AppError::Invalid(errors)) if !errors.is_empty() => Ok(FormOutcome::Invalid {
            errors,
            page: conn.transaction(page)?,
        }),
        Err(e) => Err(e),
    }
}
