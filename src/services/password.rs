//! Password hashing with argon2id (crate defaults), on the blocking pool, at most a few at a time so a
//! login flood cannot take every core.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::password_hash::PasswordHasher;
use argon2::{Argon2, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult, FieldErrors};

/// Shortest accepted password.
pub const MIN_LEN: usize = 8;
/// Longest accepted password (argon2 would hash anything; a bound keeps requests cheap).
pub const MAX_LEN: usize = 1024;

/// The hasher.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// A real hash of a random password, verified against when the account is unknown, so that
    /// unknown and known accounts take the same time.
    dummy_hash: Arc<String>,
    /// How many verifications ran (tests use it to prove unknown accounts cost the same work).
    verifications: Arc<AtomicU64>,
}

impl Passwords {
    /// Creates the hasher (hashes the dummy once).
    pub fn new(concurrency: usize) -> anyhow::Result<Self> {
        let dummy = hash_now(&super::token::new_token())?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: Arc::new(dummy),
            verifications: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Hashes a password.
    pub async fn hash(&self, password: String) -> AppResult<String> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        tokio::task::spawn_blocking(move || hash_now(&password))
            .await
            .map_err(|e| AppError::Internal(e.into()))?
            .map_err(AppError::Internal)
    }

    /// Checks a password against a stored hash; with `None`, checks against the dummy and fails.
    pub async fn verify(&self, password: String, hash: Option<String>) -> AppResult<bool> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.as_ref().clone());
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let ok = tokio::task::spawn_blocking(move || verify_now(&password, &hash))
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        Ok(known && ok)
    }
}

impl Passwords {
    /// How many password verifications have run.
    pub fn verification_count(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }
}

/// Hashes synchronously (CLI, tests, demo).
pub fn hash_now(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Verifies synchronously.
pub fn verify_now(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// Checks a new password against the policy; `field` names the form field for the message.
pub fn check_policy(password: &str, login: &str, field: &'static str, errors: &mut FieldErrors) {
    let len = password.chars().count();
    if len < MIN_LEN {
        errors.add(field, "error.password_too_short");
    } else if len > MAX_LEN {
        errors.add(field, "error.password_too_long");
    } else if !login.is_empty() && password.eq_ignore_ascii_case(login) {
        errors.add(field, "error.password_is_login");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_hash_verifies() {
        let h = hash_now("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_now("correct horse", &h));
        assert!(!verify_now("wrong horse", &h));
        assert!(!verify_now("x", "not a hash"));
    }

    #[test]
    fn policy_rejects_short_and_login_passwords() {
        let mut e = FieldErrors::default();
        check_policy("short", "alice", "password", &mut e);
        check_policy("alice-alice", "alice-alice", "password2", &mut e);
        check_policy("a fine passphrase", "alice", "password3", &mut e);
        assert_eq!(e.get("password"), Some("error.password_too_short"));
        assert_eq!(e.get("password2"), Some("error.password_is_login"));
        assert_eq!(e.get("password3"), None);
    }
}
