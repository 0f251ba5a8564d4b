//! `yui user create | reset-password | disable`.

use std::io::BufRead;

use crate::config::Config;
use crate::db::Db;
use crate::models::session;
use crate::models::user::{self, SiteRole};
use crate::services::account::{NewAccount, insert_account};
use crate::services::{password, token};

/// Account commands.
#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create an account (prints a generated password unless --password-stdin).
    Create {
        /// Login name (a-z, 0-9, . _ -).
        login: String,
        /// Email address.
        #[arg(long)]
        email: String,
        /// Display name (default: the login).
        #[arg(long)]
        name: Option<String>,
        /// Make the account a site administrator.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (generated and printed, or from standard input) and end all sessions.
    ResetPassword {
        /// Login name.
        login: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable an account and end its sessions.
    Disable {
        /// Login name.
        login: String,
    },
}

fn read_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let pw = line.trim_end_matches(['\r', '\n']).to_owned();
        Ok((pw, false))
    } else {
        Ok((token::new_token()[..20].to_owned(), true))
    }
}

fn check_password(pw: &str, owner: &password::Owner<'_>) -> anyhow::Result<()> {
    let mut errors = crate::error::FieldErrors::default();
    password::check_policy(pw, owner, "password", &mut errors);
    if let Some(key) = errors.get("password") {
        anyhow::bail!("{}", crate::i18n::t(crate::i18n::Lang::En, key, &[]));
    }
    Ok(())
}

/// Runs an account command.
pub fn run(cmd: UserCommand, config: &Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)?;
    let mut conn = crate::db::establish(&config.database_url())?;
    crate::services::backup::migrate_safely(config, &mut conn)?;
    let db = Db::connect(&config.database_url())?;
    let err = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    match cmd {
        UserCommand::Create {
            login,
            email,
            name,
            admin,
            password_stdin,
        } => {
            let login = login.to_lowercase();
            let display_name = name.unwrap_or_else(|| login.clone());
            let (pw, generated) = read_password(password_stdin)?;
            check_password(
                &pw,
                &password::Owner {
                    login: &login,
                    display_name: &display_name,
                    email: &email,
                },
            )?;
            let hash = password::hash_now(&pw)?;
            let account = NewAccount {
                display_name,
                login,
                email,
                role: if admin {
                    SiteRole::Admin
                } else {
                    SiteRole::Member
                },
                language: None,
            };
            let u = db
                .run_sync(true, |conn| insert_account(conn, &account, &hash))
                .map_err(err)?;
            super::say(&format!("created {} ({})", u.login, u.site_role));
            if generated {
                super::say(&format!("password: {pw}"));
            }
        }
        UserCommand::ResetPassword {
            login,
            password_stdin,
        } => {
            let (pw, generated) = read_password(password_stdin)?;
            let u = db
                .run_sync(false, |conn| Ok(user::find_by_login(conn, &login)?))
                .map_err(err)?;
            check_password(&pw, &password::Owner::of(&u))?;
            let hash = password::hash_now(&pw)?;
            db.run_sync(true, |conn| {
                user::set_password_hash(conn, u.id, &hash)?;
                crate::services::auth::password_was_set(conn, u.id, None)
            })
            .map_err(err)?;
            super::say(&format!(
                "password of {login} changed; all its sessions ended"
            ));
            if generated {
                super::say(&format!("password: {pw}"));
            }
        }
        UserCommand::Disable { login } => {
            db.run_sync(true, |conn| {
                let u = user::find_by_login(conn, &login)?;
                user::set_disabled(conn, u.id, true)?;
                session::delete_for_user(conn, u.id, None)?;
                Ok(())
            })
            .map_err(err)?;
            super::say(&format!("{login} disabled; all its sessions ended"));
        }
    }
    Ok(())
}
