//! Configuration: `yui.toml` in the data directory (or `--config`), `YUI_<SECTION>__<KEY>` environment
//! overrides, and paths derived from the one data directory. Read once at startup, then passed around.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// HTTP server settings.
    pub server: ServerConfig,
    /// Database settings.
    pub database: DatabaseConfig,
    /// Outgoing mail.
    pub mail: MailConfig,
    /// Room cabinets (shared files).
    pub storage: StorageConfig,
    /// Upgrades (new migrations at `serve` / `migrate`).
    pub upgrade: UpgradeConfig,
    /// The configuration file this was read from, if any (backups carry it; not read from the file).
    #[serde(skip)]
    pub source: Option<PathBuf>,
    /// The data directory every path derives from (not read from the file).
    #[serde(skip)]
    pub data_dir: PathBuf,
}

/// HTTP server settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on.
    pub bind: String,
    /// The public address (e.g. `https://example.ddns.jp`): the only source of absolute links.
    pub base_url: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (IP addresses or CIDR ranges).
    pub trusted_proxies: Vec<String>,
    /// Largest accepted form body in bytes (the Markdown editor needs more than actix's 16 KiB).
    pub max_form_bytes: usize,
    /// Worker threads (default: one per core).
    pub workers: Option<usize>,
    /// Serve public pages to visitors without a session from a one-second in-memory cache.
    pub public_cache: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            base_url: None,
            trusted_proxies: Vec::new(),
            max_form_bytes: 1024 * 1024,
            workers: None,
            public_cache: true,
        }
    }
}

/// Database settings.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite:///path/yui.db` or `postgres://user@host/db`; default: `yui.db` in the data directory.
    pub url: Option<String>,
}

/// Room cabinets (shared files).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Free disk space to keep: an upload that would leave less is refused with 507, so the
    /// database and the rest of the site keep working.
    pub min_free_bytes: u64,
    /// Largest single file in bytes (a room's quota limits it too).
    pub max_file_bytes: u64,
    /// Days a deleted file stays in the trash before it is purged.
    pub trash_days: u32,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            min_free_bytes: 128 * 1024 * 1024,
            max_file_bytes: 64 * 1024 * 1024 * 1024,
            trash_days: 30,
        }
    }
}

/// Upgrades: what happens before `serve` or `migrate` applies migrations a new Yui brings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpgradeConfig {
    /// Take a backup of the site before applying new migrations, and refuse to migrate when it
    /// fails (`false` migrates without one; `--no-backup` does the same once).
    pub backup: bool,
    /// Where that backup goes (default: the daily backup's directory, else `backups/` in the
    /// data directory).
    pub backup_dir: Option<PathBuf>,
}

impl Default for UpgradeConfig {
    fn default() -> Self {
        Self {
            backup: true,
            backup_dir: None,
        }
    }
}

/// How mail leaves the server.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// Write `.eml` files into `<data_dir>/mail/` (the default, for trying Yui out).
    #[default]
    Dir,
    /// Send through an SMTP server.
    Smtp,
}

/// TLS mode for SMTP.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP (only for a relay on the same machine or in tests).
    None,
    /// STARTTLS on port 587.
    #[default]
    Starttls,
    /// Implicit TLS on port 465.
    Tls,
}

/// Outgoing mail.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// `dir` (default) or `smtp`.
    pub transport: MailTransport,
    /// The From address; without a name (`yui@example.org`, the default form) mail is sent in the
    /// site's title (`"みどり町内会" <yui@example.org>`).
    pub from: String,
    /// SMTP host.
    pub smtp_host: String,
    /// SMTP port.
    pub smtp_port: u16,
    /// SMTP TLS mode.
    pub smtp_tls: SmtpTls,
    /// SMTP user name (optional).
    pub smtp_username: Option<String>,
    /// SMTP password (optional; prefer the `YUI_MAIL__SMTP_PASSWORD` environment variable).
    pub smtp_password: Option<String>,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            transport: MailTransport::Dir,
            from: "yui@localhost".into(),
            smtp_host: "localhost".into(),
            smtp_port: 587,
            smtp_tls: SmtpTls::Starttls,
            smtp_username: None,
            smtp_password: None,
        }
    }
}

impl Config {
    /// Reads `config_path` (or `<data_dir>/yui.toml` when present), applies `YUI_<SECTION>__<KEY>`
    /// overrides from `env`, and validates the result.
    pub fn load(
        data_dir: &Path,
        config_path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Self> {
        let default_path = data_dir.join("yui.toml");
        let path = config_path.map_or(default_path, Path::to_path_buf);
        let mut table = if path.exists() {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
            text.parse::<toml::Table>()
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        } else if config_path.is_some() {
            anyhow::bail!("config file {} does not exist", path.display());
        } else {
            toml::Table::new()
        };
        apply_env_overrides(&mut table, env);
        let mut config: Config = table
            .try_into()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        config.data_dir = data_dir.to_path_buf();
        config.source = path.exists().then_some(path);
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if let Some(base) = &self.server.base_url {
            let url = url::Url::parse(base)
                .map_err(|e| anyhow::anyhow!("server.base_url {base:?}: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                anyhow::bail!("server.base_url must be an http(s) URL with a host, got {base:?}");
            }
        }
        for proxy in &self.server.trusted_proxies {
            parse_net(proxy).map_err(|()| {
                anyhow::anyhow!(
                    "server.trusted_proxies: {proxy:?} is not an IP address or CIDR range"
                )
            })?;
        }
        Ok(())
    }

    /// The database URL: configured, or `yui.db` in the data directory.
    pub fn database_url(&self) -> String {
        self.database
            .url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("yui.db").display()))
    }

    /// The public base URL without a trailing slash.
    pub fn base_url(&self) -> String {
        let raw = self
            .server
            .base_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.server.bind));
        raw.trim_end_matches('/').to_owned()
    }

    /// Whether the site is served over HTTPS (secure, `__Host-` cookies).
    pub fn is_https(&self) -> bool {
        self.base_url().starts_with("https://")
    }

    /// Parsed trusted proxy networks.
    pub fn trusted_proxy_nets(&self) -> Vec<ipnet::IpNet> {
        self.server
            .trusted_proxies
            .iter()
            .filter_map(|p| parse_net(p).ok())
            .collect()
    }

    /// Where development mail is written.
    pub fn mail_dir(&self) -> PathBuf {
        self.data_dir.join("mail")
    }
}

fn parse_net(s: &str) -> Result<ipnet::IpNet, ()> {
    if let Ok(net) = s.parse::<ipnet::IpNet>() {
        return Ok(net);
    }
    s.parse::<std::net::IpAddr>()
        .map(ipnet::IpNet::from)
        .map_err(|_| ())
}

/// Applies `YUI_SECTION__KEY=value` variables; the value is read as TOML when it parses (numbers,
/// booleans, arrays), otherwise as a string.
fn apply_env_overrides(table: &mut toml::Table, env: impl IntoIterator<Item = (String, String)>) {
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix("YUI_") else {
            continue;
        };
        let Some((section, key)) = rest.split_once("__") else {
            continue;
        };
        let value = format!("v = {raw}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.clone()));
        let section = section.to_lowercase();
        let entry = table
            .entry(section)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(t) = entry {
            t.insert(key.to_lowercase(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("yui.toml"), "[server]\nbindd = \"x\"\n").unwrap();
        let err = Config::load(dir.path(), None, []).unwrap_err();
        assert!(err.to_string().contains("bindd"), "{err}");
    }

    #[test]
    fn env_overrides_file_and_keeps_types() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("yui.toml"),
            "[mail]\nsmtp_port = 25\n[server]\nbase_url = \"https://a.example\"\n",
        )
        .unwrap();
        let env = [
            ("YUI_MAIL__SMTP_PORT".to_owned(), "2525".to_owned()),
            (
                "YUI_SERVER__BASE_URL".to_owned(),
                "https://b.example/".to_owned(),
            ),
            ("UNRELATED".to_owned(), "x".to_owned()),
        ];
        let c = Config::load(dir.path(), None, env).unwrap();
        assert_eq!(c.mail.smtp_port, 2525);
        assert_eq!(c.base_url(), "https://b.example");
        assert!(c.is_https());
    }

    #[test]
    fn default_database_is_sqlite_in_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config::load(dir.path(), None, []).unwrap();
        assert!(c.database_url().starts_with("sqlite://"));
        assert!(c.database_url().ends_with("yui.db"));
        assert_eq!(c.base_url(), "http://127.0.0.1:8080");
    }

    #[test]
    fn bad_base_url_and_proxy_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let env = [("YUI_SERVER__BASE_URL".to_owned(), "ftp://x".to_owned())];
        assert!(Config::load(dir.path(), None, env).is_err());
        let env = [(
            "YUI_SERVER__TRUSTED_PROXIES".to_owned(),
            "[\"nope\"]".to_owned(),
        )];
        assert!(Config::load(dir.path(), None, env).is_err());
    }
}
