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

/// Hashes with argon2id at a small cost (1 MiB, one pass) for a throwaway account whose password
/// is 256 random bits, in a trial copy of a site (`verify-backup`'s probe): no guessing reaches
/// such a password, and the default's 19 MiB, once to make the hash and once to log in with it,
/// was most of that command's peak memory. Never for a person's password. Verifying reads the
/// cost from the hash.
pub fn hash_throwaway(password: &str) -> anyhow::Result<String> {
    let params = argon2::Params::new(1024, 1, 1, None)
        .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
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

/// The lowest zxcvbn score accepted. Three means an estimated 10^8 guesses or more: out of reach of
/// an online attack (the login limits allow about 3,000 a day per network) and slow offline against
/// argon2id. Two would let `password1!`-style passwords through.
pub const MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

/// Words an attacker tries first against one account: its login, display name and email (the email
/// whole and its parts), plus the site's own name. zxcvbn penalises a password built from them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Owner<'a> {
    /// The login name.
    pub login: &'a str,
    /// The display name.
    pub display_name: &'a str,
    /// The account email.
    pub email: &'a str,
}

impl<'a> Owner<'a> {
    /// The words of an existing account.
    pub fn of(user: &'a crate::models::user::User) -> Self {
        Self {
            login: &user.login,
            display_name: &user.display_name,
            email: &user.email,
        }
    }

    fn inputs(&self) -> Vec<String> {
        let mut words = vec!["yui".to_owned(), "結".to_owned()];
        for text in [self.login, self.display_name, self.email] {
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            words.push(text.to_lowercase());
            // `hanako.yamada@example.jp` also gives `hanako`, `yamada`, `example`.
            words.extend(
                text.split(|c: char| !c.is_alphanumeric())
                    .filter(|w| w.chars().count() >= 3)
                    .map(str::to_lowercase),
            );
        }
        words.sort();
        words.dedup();
        words
    }
}

/// Checks a new password against the policy; `field` names the form field for the message. This is
/// the one rule for every way a password is set (setup, reset, invitation, `/me`, admin, CLI, demo).
pub fn check_policy(
    password: &str,
    owner: &Owner<'_>,
    field: &'static str,
    errors: &mut FieldErrors,
) {
    let len = password.chars().count();
    let login = owner.login.trim();
    if len < MIN_LEN {
        errors.add(field, "error.password_too_short");
    } else if len > MAX_LEN {
        errors.add(field, "error.password_too_long");
    } else if !login.is_empty() && password.trim().eq_ignore_ascii_case(login) {
        errors.add(field, "error.password_is_login");
    } else if !strong_enough(password, owner) {
        errors.add(field, "error.password_weak");
    }
}

/// Whether zxcvbn rates the password at least `MIN_SCORE`, given the owner's words. It reads only
/// the first 100 characters, so a long password costs no more than a short one.
fn strong_enough(password: &str, owner: &Owner<'_>) -> bool {
    let inputs = owner.inputs();
    let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    zxcvbn::zxcvbn(password, &inputs).score() >= MIN_SCORE
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
    fn a_throwaway_hash_is_cheap_and_logs_in_like_any_other() {
        let h = hash_throwaway("0123456789abcdef0123456789abcdef").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{h}");
        assert!(verify_now("0123456789abcdef0123456789abcdef", &h));
        assert!(!verify_now("0123456789abcdef0123456789abcdeg", &h));
        // A person's password keeps the crate's default cost.
        assert!(hash_now("correct horse").unwrap().contains("m=19456"));
    }

    #[test]
    fn policy_rejects_short_and_login_passwords() {
        let alice = Owner {
            login: "alice",
            ..Owner::default()
        };
        let mut e = FieldErrors::default();
        check_policy("short", &alice, "password", &mut e);
        check_policy(
            "alice-alice",
            &Owner {
                login: "alice-alice",
                ..Owner::default()
            },
            "password2",
            &mut e,
        );
        check_policy("a fine passphrase", &alice, "password3", &mut e);
        assert_eq!(e.get("password"), Some("error.password_too_short"));
        assert_eq!(e.get("password2"), Some("error.password_is_login"));
        assert_eq!(e.get("password3"), None);
    }

    #[test]
    fn common_and_guessable_passwords_are_refused() {
        let hanako = Owner {
            login: "hanako",
            display_name: "山田 花子",
            email: "hanako.yamada@example.jp",
        };
        for weak in [
            "password1",
            "Password123",
            "12345678",
            "qwertyuiop",
            "iloveyou",
            "hanako2026",
            "Hanako2026!",
            "yamada1985",
            "example.jp",
            "yui-password",
            "aaaaaaaaaaaa",
        ] {
            let mut e = FieldErrors::default();
            check_policy(weak, &hanako, "password", &mut e);
            assert_eq!(e.get("password"), Some("error.password_weak"), "{weak}");
        }
        for strong in [
            "correct horse battery",
            "choose-a-password",
            "a brand new secret",
            "another good one",
            "bench-password-123",
            "crash-test-password",
            "tea at the old station",
            "桜の咲く坂道を歩いた",
        ] {
            let mut e = FieldErrors::default();
            check_policy(strong, &hanako, "password", &mut e);
            assert_eq!(e.get("password"), None, "{strong}");
        }
    }
}
