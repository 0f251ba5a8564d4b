//! The server secret (`<data_dir>/secret.key`, 32 random bytes, mode 0600, made on first start) and
//! what is derived from it. Personal answer links are HMACs of what they open, so every mail about a
//! safety check (the first and each reminder) carries the same link, while the database keeps only
//! the link's SHA-256: a copy of the database alone opens nothing.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};

/// The server secret.
#[derive(Clone)]
pub struct Secret([u8; 32]);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Secret {
    /// Reads `secret.key` from the data directory, creating it (0600) the first time.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<Self> {
        let path = data_dir.join("secret.key");
        match std::fs::read(&path) {
            Ok(bytes) => {
                let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                    anyhow::anyhow!("{} must hold exactly 32 bytes", path.display())
                })?;
                Ok(Self(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                rand::Rng::fill_bytes(&mut rand::rng(), &mut key);
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut f = options
                    .open(&path)
                    .map_err(|e| anyhow::anyhow!("creating {}: {e}", path.display()))?;
                f.write_all(&key)?;
                f.sync_all()?;
                Ok(Self(key))
            }
            Err(e) => Err(anyhow::anyhow!("reading {}: {e}", path.display())),
        }
    }

    /// A secret made up on the spot (tests of pure functions).
    pub fn from_bytes(key: [u8; 32]) -> Self {
        Self(key)
    }

    /// A 256-bit token for `purpose` (e.g. `answer:12:345`), base64url like `token::new_token`.
    pub fn token_for(&self, purpose: &str) -> String {
        let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(purpose.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// What the database keeps of a long random credential (an app password): HMAC-SHA256 of
    /// `purpose:value` under the secret, in hex. Keyed, so a copy of the database alone cannot even
    /// test a guess; fast, because the value is 256 random bits (nothing to slow down) and WebDAV
    /// clients send it with every request.
    pub fn keyed_hash(&self, purpose: &str, value: &str) -> String {
        let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(purpose.as_bytes());
        mac.update(b":");
        mac.update(value.as_bytes());
        crate::services::token::to_hex(&mac.finalize().into_bytes())
    }

    /// The AEAD key for `purpose`: HMAC-SHA256 of `aead:purpose` under the secret, so a sealed
    /// value is bound to what it is for and no other token shares its key.
    fn aead_for(&self, purpose: &str) -> chacha20poly1305::ChaCha20Poly1305 {
        use chacha20poly1305::KeyInit as _;
        let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"aead:");
        mac.update(purpose.as_bytes());
        chacha20poly1305::ChaCha20Poly1305::new_from_slice(&mac.finalize().into_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC-SHA256 gives the 32 bytes the key needs"))
    }

    /// Encrypts a short secret that must be read back (a Subsonic app password, whose token
    /// authentication needs the secret itself): ChaCha20-Poly1305 under a key derived from
    /// `secret.key` for `purpose`, a random 96-bit nonce, base64url of nonce ‖ ciphertext ‖ tag.
    /// A copy of the database alone opens nothing.
    pub fn seal(&self, purpose: &str, plain: &str) -> String {
        use chacha20poly1305::aead::{Aead as _, Payload};
        let mut nonce = [0u8; 12];
        rand::Rng::fill_bytes(&mut rand::rng(), &mut nonce);
        let sealed = self
            .aead_for(purpose)
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: plain.as_bytes(),
                    aad: purpose.as_bytes(),
                },
            )
            .unwrap_or_else(|_| unreachable!("a short secret is far below the AEAD's limits"));
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// Opens what `seal` made for the same `purpose`; `None` if it was altered, sealed for
    /// another purpose or under another `secret.key`.
    pub fn open(&self, purpose: &str, sealed: &str) -> Option<String> {
        use chacha20poly1305::aead::{Aead as _, Payload};
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, body) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let plain = self
            .aead_for(purpose)
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: body,
                    aad: purpose.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stable_per_purpose_and_key() {
        let a = Secret::from_bytes([1; 32]);
        let b = Secret::from_bytes([2; 32]);
        assert_eq!(a.token_for("answer:1:2"), a.token_for("answer:1:2"));
        assert_ne!(a.token_for("answer:1:2"), a.token_for("answer:1:3"));
        assert_ne!(a.token_for("answer:1:2"), b.token_for("answer:1:2"));
        assert!(crate::services::token::looks_like_token(&a.token_for("x")));
    }

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_purpose() {
        let a = Secret::from_bytes([1; 32]);
        let b = Secret::from_bytes([2; 32]);
        let sealed = a.seal("subsonic", "秘密 secret");
        assert_ne!(
            sealed,
            a.seal("subsonic", "秘密 secret"),
            "a fresh nonce each time"
        );
        assert_eq!(a.open("subsonic", &sealed).as_deref(), Some("秘密 secret"));
        assert_eq!(a.open("other", &sealed), None);
        assert_eq!(b.open("subsonic", &sealed), None);
        let mut altered = sealed.into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            a.open("subsonic", &String::from_utf8(altered).unwrap()),
            None
        );
        assert_eq!(a.open("subsonic", "short"), None);
    }

    #[test]
    fn the_key_file_is_made_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let first = Secret::load_or_create(dir.path()).unwrap();
        let again = Secret::load_or_create(dir.path()).unwrap();
        assert_eq!(first.token_for("x"), again.token_for("x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secret.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
