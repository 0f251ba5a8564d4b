//! Site settings the admin edits in the web panel (title, tagline, default language, time zone,
//! the site's own holidays).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;

use crate::db::DbConn;
use crate::error::{AppResult, FieldErrors};
use crate::i18n::Lang;
use crate::models::setting;

/// The settings every page needs.
#[derive(Debug, Clone)]
pub struct SiteSettings {
    /// The site's name.
    pub title: String,
    /// One line under the title.
    pub tagline: String,
    /// Language for visitors whose browser states no supported one.
    pub language: Lang,
    /// Time zone for displayed dates.
    pub timezone: Tz,
    /// Every member may have a private room (マイルーム).
    pub private_rooms: bool,
    /// Days the admin adds to the calendars' holidays (創立記念日, 臨時休業), with their names.
    pub holidays: Arc<BTreeMap<NaiveDate, String>>,
}

impl Default for SiteSettings {
    fn default() -> Self {
        Self {
            title: "Yui".into(),
            tagline: String::new(),
            language: Lang::Ja,
            timezone: chrono_tz::Asia::Tokyo,
            private_rooms: false,
            holidays: Arc::default(),
        }
    }
}

impl SiteSettings {
    /// Formats a UTC time as a local date and time (`2026-11-25 09:30`).
    pub fn local_datetime(&self, utc: NaiveDateTime) -> String {
        utc.and_utc()
            .with_timezone(&self.timezone)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    /// Formats a UTC time as a local date (`2026-11-25`).
    pub fn local_date(&self, utc: NaiveDateTime) -> String {
        utc.and_utc()
            .with_timezone(&self.timezone)
            .format("%Y-%m-%d")
            .to_string()
    }

    /// The value for a `datetime-local` input.
    pub fn local_input(&self, utc: NaiveDateTime) -> String {
        utc.and_utc()
            .with_timezone(&self.timezone)
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    }

    /// What a calendar writes on `day`: the national holiday (the Cabinet Office's list) and the
    /// site's own day, both when both fall on it.
    pub fn holiday(&self, day: NaiveDate) -> Option<String> {
        let national = crate::services::calendar::holidays::name(day);
        let own = self.holidays.get(&day);
        match (national, own) {
            (Some(n), Some(o)) => Some(format!("{n} · {o}")),
            (Some(n), None) => Some(n.to_owned()),
            (None, Some(o)) => Some(o.clone()),
            (None, None) => None,
        }
    }

    /// Parses a `datetime-local` input in the site's time zone into UTC.
    pub fn parse_local_input(&self, s: &str) -> Option<NaiveDateTime> {
        let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
            .ok()?;
        naive
            .and_local_timezone(self.timezone)
            .earliest()
            .map(|t| t.naive_utc())
    }
}

/// Answers when the database does (the health check): one cheap query.
pub fn check_database(conn: &mut DbConn) -> AppResult<()> {
    crate::models::user::count(conn)?;
    Ok(())
}

/// Reads the settings (defaults for anything unset).
pub fn load(conn: &mut DbConn) -> AppResult<SiteSettings> {
    let mut s = SiteSettings::default();
    for (key, value) in setting::all(conn)? {
        match key.as_str() {
            "site.title" => s.title = value,
            "site.tagline" => s.tagline = value,
            "site.language" => s.language = Lang::parse(&value).unwrap_or_default(),
            "site.timezone" => s.timezone = value.parse().unwrap_or(chrono_tz::Asia::Tokyo),
            "site.private_rooms" => s.private_rooms = value == "true",
            // Stored as the admin wrote it (checked then); a line that no longer parses is skipped.
            HOLIDAYS_KEY => {
                s.holidays = Arc::new(
                    parse_holidays(&value)
                        .into_iter()
                        .filter_map(Result::ok)
                        .collect(),
                );
            }
            _ => {}
        }
    }
    Ok(s)
}

/// Where the site's own holidays are stored: one `YYYY-MM-DD name` per line.
const HOLIDAYS_KEY: &str = "calendar.holidays";
/// Most days the admin may add, and the longest name.
const MAX_HOLIDAYS: usize = 500;
const MAX_HOLIDAY_NAME: usize = 40;

/// Each non-empty line of the admin's holiday list: a day and its name, or the line's number (1 =
/// the first) when it is not `YYYY-MM-DD name` with a name of at most 40 characters.
fn parse_holidays(text: &str) -> Vec<Result<(NaiveDate, String), usize>> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let line = line.trim();
            let (day, name) = line.split_once(char::is_whitespace).ok_or(i + 1)?;
            let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| i + 1)?;
            let name = name.trim();
            if name.chars().count() > MAX_HOLIDAY_NAME {
                return Err(i + 1);
            }
            Ok((day, name.to_owned()))
        })
        .collect()
}

/// The admin's settings form.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SettingsForm {
    pub title: String,
    pub tagline: String,
    pub language: String,
    pub timezone: String,
    /// Checkbox: members get a private room.
    #[serde(default)]
    pub private_rooms: Option<String>,
    /// The site's own holidays, one `YYYY-MM-DD name` per line.
    #[serde(default)]
    pub holidays: String,
}

impl From<&SiteSettings> for SettingsForm {
    /// The form filled from the settings in force.
    fn from(s: &SiteSettings) -> Self {
        Self {
            title: s.title.clone(),
            tagline: s.tagline.clone(),
            language: s.language.code().to_owned(),
            timezone: s.timezone.name().to_owned(),
            private_rooms: s.private_rooms.then(|| "on".to_owned()),
            holidays: s
                .holidays
                .iter()
                .map(|(day, name)| format!("{day} {name}"))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

/// Validates and stores the settings.
pub fn save(conn: &mut DbConn, form: &SettingsForm) -> AppResult<()> {
    let mut errors = FieldErrors::default();
    let title = form.title.trim();
    if title.is_empty() || title.chars().count() > 100 {
        errors.add("title", "error.title_length");
    }
    if form.tagline.chars().count() > 200 {
        errors.add("tagline", "error.too_long");
    }
    let lang = Lang::parse(&form.language);
    if lang.is_none() {
        errors.add("language", "error.invalid_choice");
    }
    if form.timezone.parse::<Tz>().is_err() {
        errors.add("timezone", "error.invalid_timezone");
    }
    let holidays = parse_holidays(&form.holidays);
    if holidays.len() > MAX_HOLIDAYS || holidays.iter().any(Result::is_err) {
        errors.add("holidays", "error.holiday_lines");
    }
    errors.into_result()?;
    // Kept in date order, one per line, so the form shows them sorted next time.
    let holidays: BTreeMap<NaiveDate, String> =
        holidays.into_iter().filter_map(Result::ok).collect();
    let holidays = holidays
        .iter()
        .map(|(day, name)| format!("{day} {name}"))
        .collect::<Vec<_>>()
        .join("\n");
    setting::set(conn, HOLIDAYS_KEY, &holidays)?;
    setting::set(conn, "site.title", title)?;
    setting::set(conn, "site.tagline", form.tagline.trim())?;
    setting::set(conn, "site.language", lang.unwrap_or_default().code())?;
    setting::set(conn, "site.timezone", form.timezone.trim())?;
    setting::set(
        conn,
        "site.private_rooms",
        if form.private_rooms.is_some() {
            "true"
        } else {
            "false"
        },
    )?;
    Ok(())
}

/// Site settings kept in memory for a moment, so a public page costs no settings query. A change made
/// here is seen at once; one made by another `yui serve` process sharing the database within `TTL`.
#[derive(Debug, Default)]
pub struct SiteCache {
    entry: RwLock<Option<(Instant, Arc<SiteSettings>)>>,
    setup_done: AtomicBool,
}

impl SiteCache {
    /// How long cached settings are trusted.
    pub const TTL: Duration = Duration::from_secs(2);

    /// The settings, if cached less than `TTL` ago.
    pub fn fresh(&self) -> Option<Arc<SiteSettings>> {
        let guard = self.entry.read().ok()?;
        guard
            .as_ref()
            .filter(|(at, _)| at.elapsed() < Self::TTL)
            .map(|(_, s)| s.clone())
    }

    /// Remembers freshly loaded settings.
    pub fn store(&self, settings: SiteSettings) -> Arc<SiteSettings> {
        let settings = Arc::new(settings);
        if let Ok(mut guard) = self.entry.write() {
            *guard = Some((Instant::now(), settings.clone()));
        }
        settings
    }

    /// Forgets the cached settings (after this process changed them).
    pub fn invalidate(&self) {
        if let Ok(mut guard) = self.entry.write() {
            *guard = None;
        }
    }

    /// Whether the first administrator is known to exist (once true, it stays true).
    pub fn setup_done(&self) -> bool {
        self.setup_done.load(Ordering::Relaxed)
    }

    /// Records that the first administrator exists.
    pub fn mark_setup_done(&self) {
        self.setup_done.store(true, Ordering::Relaxed);
    }
}
