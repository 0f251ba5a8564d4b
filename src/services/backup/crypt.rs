//! Optional passphrase encryption of archives with age (scrypt for the passphrase,
//! ChaCha20-Poly1305 for the stream): `yui backup --encrypt` writes `….tar.zst.age`, which `age -d`
//! also opens. Restore recognises an encrypted archive by age's header and needs the passphrase;
//! a wrong one is refused before anything is read, let alone written.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

/// The first bytes of every age file.
const AGE_MAGIC: &[u8] = b"age-encryption.org/v1";

/// scrypt's work factor (N = 2^15: 32 MiB, above scrypt's interactive recommendation of 2^14).
/// age would calibrate to about a second here, 2^18 = 256 MiB, and a backup's peak RSS went from
/// under 64 MB to 276 MB; decrypting takes the archive's own factor, so restores stay small too.
const SCRYPT_LOG_N: u8 = 15;

/// The name ending of an encrypted archive.
pub const ENCRYPTED_SUFFIX: &str = ".tar.zst.age";

/// A backup passphrase (kept out of `Debug` output and logs).
#[derive(Clone)]
pub struct Passphrase(String);

impl Passphrase {
    /// Takes a passphrase (a trailing newline, as a file usually has, is not part of it).
    pub fn new(text: &str) -> anyhow::Result<Self> {
        let text = text.trim_end_matches(['\r', '\n']);
        if text.trim().is_empty() {
            anyhow::bail!("the backup passphrase is empty");
        }
        Ok(Self(text.to_owned()))
    }

    fn secret(&self) -> age::secrecy::SecretString {
        age::secrecy::SecretString::from(self.0.clone())
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(***)")
    }
}

/// Where the compressed archive's bytes go: the file, or age's encrypting stream over it.
pub(super) enum Sink {
    Plain(BufWriter<File>),
    Age(age::stream::StreamWriter<BufWriter<File>>),
}

impl Sink {
    /// Writes into `file`, encrypted with `passphrase` if one is given.
    pub(super) fn new(
        file: BufWriter<File>,
        passphrase: Option<&Passphrase>,
    ) -> anyhow::Result<Self> {
        Ok(match passphrase {
            None => Self::Plain(file),
            Some(p) => {
                let mut recipient = age::scrypt::Recipient::new(p.secret());
                recipient.set_work_factor(SCRYPT_LOG_N);
                Self::Age(
                    age::Encryptor::with_recipients(std::iter::once(
                        &recipient as &dyn age::Recipient,
                    ))
                    .map_err(|e| anyhow::anyhow!("starting the encryption: {e}"))?
                    .wrap_output(file)
                    .map_err(|e| anyhow::anyhow!("starting the encryption: {e}"))?,
                )
            }
        })
    }

    /// Ends the stream (age's last chunk) and hands back the file's writer.
    pub(super) fn finish(self) -> std::io::Result<BufWriter<File>> {
        match self {
            Self::Plain(w) => Ok(w),
            Self::Age(w) => w.finish(),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Plain(w) => w.write(buf),
            Self::Age(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Plain(w) => w.flush(),
            Self::Age(w) => w.flush(),
        }
    }
}

/// Whether the archive at `path` is encrypted (starts with age's header).
pub fn is_encrypted(path: &Path) -> anyhow::Result<bool> {
    let mut head = [0u8; AGE_MAGIC.len()];
    let mut file =
        File::open(path).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    let mut got = 0;
    while got < head.len() {
        let n = file.read(&mut head[got..])?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(got == head.len() && head == AGE_MAGIC)
}

/// The archive's compressed bytes: the file itself, or decrypted with `passphrase`.
pub(super) fn reader(
    path: &Path,
    passphrase: Option<&Passphrase>,
) -> anyhow::Result<Box<dyn Read>> {
    let encrypted = is_encrypted(path)?;
    let file =
        File::open(path).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    if !encrypted {
        return Ok(Box::new(file));
    }
    let Some(passphrase) = passphrase else {
        anyhow::bail!(
            "{} is encrypted: give its passphrase in YUI_BACKUP_PASSPHRASE or with --passphrase-file (nothing was written)",
            path.display()
        );
    };
    let decryptor =
        age::Decryptor::new_buffered(BufReader::with_capacity(1 << 20, file)).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a readable age file ({e}): refused, nothing was written",
                path.display()
            )
        })?;
    if !decryptor.is_scrypt() {
        anyhow::bail!(
            "{} is encrypted to a key, not with a passphrase: refused",
            path.display()
        );
    }
    let identity = age::scrypt::Identity::new(passphrase.secret());
    let stream = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed
            | age::DecryptError::NoMatchingKeys
            | age::DecryptError::KeyDecryptionFailed
            | age::DecryptError::InvalidMac => anyhow::anyhow!(
                "wrong passphrase for {}: refused, nothing was written",
                path.display()
            ),
            other => anyhow::anyhow!(
                "{} cannot be decrypted ({other}): refused, nothing was written",
                path.display()
            ),
        })?;
    Ok(Box::new(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passphrase_is_never_shown_and_never_empty() {
        let p = Passphrase::new("correct horse battery\n").unwrap();
        assert_eq!(format!("{p:?}"), "Passphrase(***)");
        assert_eq!(p.0, "correct horse battery");
        assert!(Passphrase::new(" \n").is_err());
    }
}
