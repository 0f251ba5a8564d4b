//! Sending mail: SMTP through lettre in production, `.eml` files in `<data_dir>/mail/` by default.

use std::path::PathBuf;

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{MailConfig, MailTransport, SmtpTls};

/// Why a mail was not sent.
#[derive(Debug)]
pub struct SendError {
    /// Whether retrying cannot help (bad address, 5xx from the server).
    pub permanent: bool,
    /// What went wrong (no addresses or bodies are included).
    pub message: String,
}

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    /// An SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// A directory of `.eml` files (for trying Yui out without a mail server).
    Dir(PathBuf),
}

impl Mailer {
    /// Builds the mailer the configuration asks for.
    pub fn from_config(config: &MailConfig, mail_dir: PathBuf) -> anyhow::Result<Self> {
        Ok(match config.transport {
            MailTransport::Dir => {
                std::fs::create_dir_all(&mail_dir)?;
                Self::Dir(mail_dir)
            }
            MailTransport::Smtp => {
                let host = config.smtp_host.as_str();
                let mut builder = match config.smtp_tls {
                    SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
                    SmtpTls::Starttls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?
                    }
                    SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
                }
                .port(config.smtp_port)
                .timeout(Some(std::time::Duration::from_secs(20)));
                if let (Some(user), Some(pass)) = (&config.smtp_username, &config.smtp_password) {
                    builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
                }
                Self::Smtp(builder.build())
            }
        })
    }

    /// Sends one plain-text mail (`from` as `sender` makes it).
    pub async fn send(
        &self,
        from: &str,
        to: &str,
        subject: &str,
        body: &str,
    ) -> Result<(), SendError> {
        let permanent = |message: String| SendError {
            permanent: true,
            message,
        };
        let from: Mailbox = from
            .parse()
            .map_err(|e| permanent(format!("bad From address in config: {e}")))?;
        let to: Mailbox = to
            .parse()
            .map_err(|e| permanent(format!("bad recipient address: {e}")))?;
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| permanent(format!("building message: {e}")))?;
        match self {
            Self::Smtp(transport) => {
                transport
                    .send(message)
                    .await
                    .map(drop)
                    .map_err(|e| SendError {
                        permanent: e.is_permanent(),
                        message: e.to_string(),
                    })
            }
            Self::Dir(dir) => {
                let name = format!("{}.eml", uuid::Uuid::now_v7());
                let tmp = dir.join(format!(".{name}.tmp"));
                let bytes = message.formatted();
                let result = async {
                    tokio::fs::write(&tmp, &bytes).await?;
                    tokio::fs::rename(&tmp, dir.join(&name)).await
                }
                .await;
                result.map_err(|e| SendError {
                    permanent: false,
                    message: format!("writing mail file: {e}"),
                })
            }
        }
    }
}

/// The From of every mail: the configured `mail.from`; when it names no sender (the default is a
/// bare address), the site's title does, so a family recognises a safety mail from 「みどり町内会」
/// rather than from a program's name. An address that does not parse is returned as it is (the
/// send then fails permanently and says so).
pub fn sender(configured: &str, site_title: &str) -> String {
    match configured.parse::<Mailbox>() {
        Ok(mailbox) if mailbox.name.is_none() && !site_title.trim().is_empty() => {
            Mailbox::new(Some(site_title.trim().to_owned()), mailbox.email).to_string()
        }
        _ => configured.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_address_sends_in_the_site_s_name_and_a_named_one_keeps_its_name() {
        let named: Mailbox = sender("yui@example.test", "みどり町内会").parse().unwrap();
        assert_eq!(named.name.as_deref(), Some("みどり町内会"));
        assert_eq!(named.email.to_string(), "yui@example.test");
        // A title with characters that mean something in a header stays one display name.
        let odd: Mailbox = sender("yui@example.test", "A, B <c@d> \"e\"")
            .parse()
            .unwrap();
        assert_eq!(odd.name.as_deref(), Some("A, B <c@d> \"e\""));
        assert_eq!(odd.email.to_string(), "yui@example.test");
        assert_eq!(
            sender("町内会 <info@example.test>", "Yui"),
            "町内会 <info@example.test>"
        );
        assert_eq!(sender("not an address", "Yui"), "not an address");
    }
}
