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

    /// Sends one plain-text mail.
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
