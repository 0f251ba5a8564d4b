//! Scheduled backups: the admin sets a daily time (site time zone), how many archives to keep and
//! the directory (a mounted USB disk or NAS share); the jobs loop in `yui serve` asks `run_due`
//! every ten minutes, which writes the backup when that day's time has passed and no backup was
//! taken since, then deletes the oldest archives beyond the number to keep.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::{BackupSummary, load_status, record_backup, write_backup};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::setting;
use crate::services::authz::{Action, authorize};
use crate::services::{Actor, Core};

const SCHEDULE: &str = "backup.schedule";
/// The slot (RFC 3339) a process claimed, so two `yui serve` sharing a database back up once.
const CLAIMED: &str = "backup.schedule_claimed";

/// The schedule as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Whether the jobs loop takes backups.
    pub enabled: bool,
    /// The daily time, `HH:MM` in the site's time zone.
    pub at: String,
    /// How many archives to keep in `dir` (older ones are deleted).
    pub keep: u32,
    /// The directory; empty means `backups/` in the data directory.
    pub dir: String,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            enabled: false,
            at: "03:00".into(),
            keep: 7,
            dir: String::new(),
        }
    }
}

impl Schedule {
    /// The directory archives go to.
    pub fn target(&self, data_dir: &Path) -> PathBuf {
        if self.dir.trim().is_empty() {
            data_dir.join("backups")
        } else {
            PathBuf::from(self.dir.trim())
        }
    }

    /// The latest scheduled moment at or before `now` (today's time, or yesterday's).
    pub fn last_slot(&self, now: DateTime<Utc>, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
        let at = NaiveTime::parse_from_str(&self.at, "%H:%M").ok()?;
        let local = now.with_timezone(&tz).date_naive();
        [local, local.pred_opt()?]
            .into_iter()
            .filter_map(|d| tz.from_local_datetime(&d.and_time(at)).earliest())
            .map(|t| t.with_timezone(&Utc))
            .find(|t| *t <= now)
    }
}

/// The schedule form (`POST /admin/backups/schedule`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ScheduleForm {
    /// A checkbox: present when on.
    #[serde(default)]
    pub enabled: Option<String>,
    /// `HH:MM`.
    pub at: String,
    /// How many to keep.
    pub keep: String,
    /// The directory (absolute), or empty.
    #[serde(default)]
    pub dir: String,
}

impl From<&Schedule> for ScheduleForm {
    fn from(s: &Schedule) -> Self {
        Self {
            enabled: s.enabled.then(|| "on".into()),
            at: s.at.clone(),
            keep: s.keep.to_string(),
            dir: s.dir.clone(),
        }
    }
}

/// Reads the schedule (the default, off, when none was saved).
pub fn load_schedule(conn: &mut crate::db::DbConn) -> AppResult<Schedule> {
    Ok(setting::get(conn, SCHEDULE)?
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default())
}

/// Saves the schedule an admin submitted.
pub fn save_schedule(
    conn: &mut crate::db::DbConn,
    actor: &Actor,
    form: &ScheduleForm,
    ip: &str,
) -> AppResult<()> {
    authorize(Some(actor), Action::Administer)?;
    let mut errors = FieldErrors::default();
    let at = form.at.trim();
    if NaiveTime::parse_from_str(at, "%H:%M").is_err() {
        errors.add("at", "backups.error_time");
    }
    let keep = form
        .keep
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|k| (1..=365).contains(k));
    if keep.is_none() {
        errors.add("keep", "backups.error_keep");
    }
    let dir = form.dir.trim();
    if !dir.is_empty() && !Path::new(dir).is_absolute() {
        errors.add("dir", "backups.error_dir");
    }
    errors.into_result()?;
    let schedule = Schedule {
        enabled: form.enabled.is_some(),
        at: at.to_owned(),
        keep: keep.unwrap_or(7),
        dir: dir.to_owned(),
    };
    let text = serde_json::to_string(&schedule).map_err(|e| AppError::Internal(e.into()))?;
    setting::set(conn, SCHEDULE, &text)?;
    crate::models::audit::record(
        conn,
        Some(actor.id),
        "backup.schedule_saved",
        &text,
        Some(ip),
    )?;
    Ok(())
}

/// Turns the daily backup off (in a trial copy made by `verify-backup`, whose jobs loop would
/// otherwise write into, and prune, the real site's backup directory).
pub fn disable_schedule(conn: &mut crate::db::DbConn) -> AppResult<()> {
    setting::delete(conn, SCHEDULE)?;
    setting::delete(conn, CLAIMED)?;
    Ok(())
}

/// Takes the scheduled backup if it is due (blocking: call it off the async workers). Returns
/// what was written, or `None` when nothing was due.
pub fn run_due(core: &Core, now: DateTime<Utc>) -> anyhow::Result<Option<BackupSummary>> {
    // Claim the slot in a write transaction (SQLite serialises it; on PostgreSQL two claims
    // meet on the settings row's primary key and one fails).
    let claim = core
        .db
        .run_sync(true, |conn| {
            let schedule = load_schedule(conn)?;
            if !schedule.enabled {
                return Ok(None);
            }
            let tz = crate::services::site::load(conn)?.timezone;
            let Some(slot) = schedule.last_slot(now, tz) else {
                return Ok(None);
            };
            let done = load_status(conn)?.last_backup.is_some_and(|b| b.at >= slot);
            let claimed = setting::get(conn, CLAIMED)?
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .is_some_and(|t| t >= slot);
            if done || claimed {
                return Ok(None);
            }
            setting::set(conn, CLAIMED, &slot.to_rfc3339())?;
            Ok(Some(schedule))
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some(schedule) = claim else {
        return Ok(None);
    };
    let data_dir = &core.config.data_dir;
    let to = schedule.target(data_dir);
    let mut conn = crate::db::establish(&core.config.database_url())?;
    if let crate::db::DbConn::Sqlite(c) = &mut conn {
        diesel::connection::SimpleConnection::batch_execute(c, "PRAGMA busy_timeout=5000;")?;
    }
    let summary = write_backup(
        &mut conn,
        data_dir,
        core.config.source.as_deref(),
        &to,
        &mut |_| {},
    )?;
    let record = super::BackupRecord {
        at: Utc::now(),
        path: summary.path.display().to_string(),
        bytes: summary.bytes,
    };
    core.db
        .run_sync(true, |conn| record_backup(conn, &record))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    prune(&to, schedule.keep)?;
    Ok(Some(summary))
}

/// Deletes the oldest `yui-backup-*.tar.zst` (or `.tar.zst.age`) in `dir` beyond `keep` (oldest by modification
/// time, then name: two backups in one second are named `…-120000.tar.zst` and `…-120000-2.tar.zst`,
/// which sort the wrong way round by name).
fn prune(dir: &Path, keep: u32) -> anyhow::Result<usize> {
    let mut archives: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with("yui-backup-")
                    && (n.ends_with(".tar.zst") || n.ends_with(super::ENCRYPTED_SUFFIX))
            })
        })
        .map(|p| {
            let at = std::fs::metadata(&p)
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            (at, p)
        })
        .collect();
    archives.sort();
    let extra = archives.len().saturating_sub(keep as usize);
    for (_, old) in &archives[..extra] {
        std::fs::remove_file(old)?;
    }
    Ok(extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_slot_is_today_once_its_time_has_passed_else_yesterday() {
        let s = Schedule {
            at: "03:00".into(),
            ..Schedule::default()
        };
        let tokyo = chrono_tz::Asia::Tokyo;
        // 2026-12-07 04:00 in Tokyo is 2026-12-06 19:00 UTC.
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 19, 0, 0).unwrap();
        assert_eq!(
            s.last_slot(now, tokyo),
            Some(Utc.with_ymd_and_hms(2026, 12, 6, 18, 0, 0).unwrap())
        );
        // 02:00 in Tokyo: yesterday's 03:00.
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 17, 0, 0).unwrap();
        assert_eq!(
            s.last_slot(now, tokyo),
            Some(Utc.with_ymd_and_hms(2026, 12, 5, 18, 0, 0).unwrap())
        );
    }

    #[test]
    fn prune_keeps_the_newest() {
        let dir = std::env::temp_dir().join(format!("yui-prune-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        for n in [
            "yui-backup-20261201-030000.tar.zst",
            "yui-backup-20261202-030000.tar.zst",
            "yui-backup-20261203-030000.tar.zst",
            "notes.txt",
        ] {
            std::fs::write(dir.join(n), b"x").unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(prune(&dir, 2).unwrap(), 1);
        assert!(!dir.join("yui-backup-20261201-030000.tar.zst").exists());
        assert!(dir.join("yui-backup-20261203-030000.tar.zst").exists());
        assert!(dir.join("notes.txt").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
