//! The background loop inside `serve`: sends queued mail (lease, retry with backoff, permanent failure
//! recorded, never to a disabled account; a mail server's refusal marks the address bouncing and a
//! delivery clears that), announces scheduled room posts when their time comes, purges expired
//! sessions, old login failures and old verification links, sends the automatic reminders of
//! safety checks and circular notices and the reminders members asked for before events, keeps
//! the room cabinets tidy (trash older than `storage.trash_days`, abandoned uploads, unused
//! blobs), and takes the scheduled daily backup.

use std::time::Duration;

use chrono::Duration as ChronoDuration;

use crate::db::Db;
use crate::mail::Mailer;
use crate::models::{contact, email_change, login_failure, now, outbox, room_post, session};
use crate::services::{Core, reachability};

/// Attempts before a mail is given up.
pub const MAX_ATTEMPTS: i32 = 10;
/// How long a claimed mail stays leased to this process.
const LEASE_SECONDS: i64 = 120;
/// Mails claimed per round.
const BATCH: i64 = 20;

/// Delay before the next attempt after `attempts` failures: 30 s, 1 min, 2 min … at most 6 h.
pub fn backoff(attempts: i32) -> ChronoDuration {
    let secs = 30_i64.saturating_mul(1_i64 << attempts.clamp(0, 20));
    ChronoDuration::seconds(secs).min(ChronoDuration::hours(6))
}

/// Runs forever: sends due mail whenever woken (or every few seconds); every ten minutes cleans up
/// and sends the daily digest when it is due.
pub async fn run(core: Core, mailer: Mailer) {
    let db = core.db.clone();
    let from = core.config.mail.from.clone();
    let owner = uuid::Uuid::new_v4().to_string();
    // A backup runs on its own blocking thread (it may take minutes); one at a time.
    let backup_running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut last_cleanup = std::time::Instant::now()
        .checked_sub(Duration::from_hours(1))
        .unwrap_or_else(std::time::Instant::now);
    // Reminder rounds and scheduled posts are looked for every 15 seconds.
    let mut last_reminders = std::time::Instant::now()
        .checked_sub(Duration::from_mins(1))
        .unwrap_or_else(std::time::Instant::now);
    loop {
        if last_reminders.elapsed() > Duration::from_secs(15) {
            last_reminders = std::time::Instant::now();
            let reminder_core = core.clone();
            let sent = tokio::task::spawn_blocking(move || {
                crate::services::notices::send_due_reminders(&reminder_core, now())
            })
            .await;
            match sent {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => tracing::info!(mails = n, "reminders queued"),
                Ok(Err(e)) => tracing::error!(error = %e, "reminders failed"),
                Err(e) => tracing::error!(error = %e, "reminders panicked"),
            }
            let calendar_core = core.clone();
            let reminded = tokio::task::spawn_blocking(move || {
                crate::services::calendar::reminders::send_due(&calendar_core, now())
            })
            .await;
            match reminded {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => tracing::info!(mails = n, "event reminders queued"),
                Ok(Err(e)) => tracing::error!(error = %e, "event reminders failed"),
                Err(e) => tracing::error!(error = %e, "event reminders panicked"),
            }
            match announce_scheduled(&core).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(posts = n, "scheduled posts announced"),
                Err(e) => tracing::error!(error = %e, "announcing scheduled posts failed"),
            }
        }
        match send_due(&db, &mailer, &from, &owner).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "mail round failed"),
        }
        if last_cleanup.elapsed() > Duration::from_mins(10) {
            last_cleanup = std::time::Instant::now();
            let result = db
                .write(|conn| {
                    let at = now();
                    let s = session::purge_expired(conn, at)?;
                    let f = login_failure::purge_before(conn, at - ChronoDuration::days(1))?;
                    // Kept a while after expiry so an old link still says "expired", not "unknown".
                    contact::purge_tokens(conn, at - ChronoDuration::days(30))?;
                    email_change::purge_before(conn, at - ChronoDuration::days(30))?;
                    Ok((s, f))
                })
                .await;
            match result {
                Ok((s, f)) => tracing::debug!(sessions = s, login_failures = f, "cleanup done"),
                Err(e) => tracing::error!(error = %e, "cleanup failed"),
            }
            let files_core = core.clone();
            let housekeeping = tokio::task::spawn_blocking(move || {
                crate::services::files::housekeeping(&files_core, now())
            })
            .await;
            match housekeeping {
                Ok(Ok((0, 0, 0))) => {}
                Ok(Ok((purged, uploads, blobs))) => {
                    tracing::info!(purged, uploads, blobs, "cabinet housekeeping done");
                }
                Ok(Err(e)) => tracing::error!(error = %e, "cabinet housekeeping failed"),
                Err(e) => tracing::error!(error = %e, "cabinet housekeeping panicked"),
            }
            start_scheduled_backup(&core, &backup_running);
            let digest_core = core.clone();
            let digests = db
                .write(move |conn| {
                    crate::services::new_posts::send_digests_if_due(&digest_core, conn, now())
                })
                .await;
            match digests {
                Ok(0) => {}
                Ok(n) => tracing::info!(digests = n, "daily digests queued"),
                Err(e) => tracing::error!(error = %e, "digest failed"),
            }
        }
        // `Db` notifies after a transaction that queued mail commits; the timeout is the poll
        // for mail queued by another process or falling due after a retry's backoff.
        let _ = tokio::time::timeout(Duration::from_secs(5), db.mail_wakeup().notified()).await;
    }
}

/// Starts the scheduled backup on a blocking thread when none is running (`services::backup::run_due`
/// decides whether one is due); mail and reminders go on meanwhile.
fn start_scheduled_backup(core: &Core, running: &std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::sync::atomic::Ordering;
    if running.swap(true, Ordering::SeqCst) {
        return;
    }
    let (core, running) = (core.clone(), std::sync::Arc::clone(running));
    tokio::task::spawn_blocking(move || {
        match crate::services::backup::run_due(&core, chrono::Utc::now()) {
            Ok(None) => {}
            Ok(Some(b)) => tracing::info!(
                path = %b.path.display(),
                size_bytes = b.bytes,
                rows = b.rows,
                blobs = b.blobs,
                "scheduled backup written"
            ),
            Err(e) => tracing::error!(error = format!("{e:#}"), "scheduled backup failed"),
        }
        running.store(false, Ordering::SeqCst);
    });
}

/// Queues the new-post mail of scheduled room posts whose `publish_at` has passed
/// (`services::new_posts::announce_due`); returns how many posts were announced. A read first, so
/// that SQLite's write lock is taken only when something is due.
pub async fn announce_scheduled(core: &Core) -> Result<usize, crate::error::AppError> {
    let due = core
        .db
        .read(|conn| Ok(!room_post::due_notices(conn, now(), 1)?.is_empty()))
        .await?;
    if !due {
        return Ok(0);
    }
    let c = core.clone();
    core.db
        .write(move |conn| crate::services::new_posts::announce_due(&c, conn, now()))
        .await
}

/// Claims and sends one batch; returns how many were claimed.
pub async fn send_due(
    db: &Db,
    mailer: &Mailer,
    from: &str,
    owner: &str,
) -> Result<usize, crate::error::AppError> {
    let owner_s = owner.to_owned();
    let batch = db
        .write(move |conn| {
            let at = now();
            Ok(outbox::claim_due(
                conn,
                &owner_s,
                at,
                at + ChronoDuration::seconds(LEASE_SECONDS),
                BATCH,
            )?)
        })
        .await?;
    let claimed = batch.len();
    if claimed == 0 {
        return Ok(0);
    }
    let title = db
        .read(|conn| Ok(crate::services::site::load(conn)?.title))
        .await?;
    let from = crate::mail::sender(from, &title);
    let from = from.as_str();
    for mail in batch {
        let disabled = match mail.user_id {
            Some(uid) => {
                db.read(move |conn| Ok(outbox::recipient_disabled(conn, uid)?))
                    .await?
            }
            None => false,
        };
        let result = if disabled {
            Err(crate::mail::SendError {
                permanent: true,
                message: "recipient account is disabled".into(),
            })
        } else {
            mailer
                .send(from, &mail.to_addr, &mail.subject, &mail.body_text)
                .await
        };
        let id = mail.id;
        let attempts = mail.attempts;
        let to_addr = mail.to_addr;
        db.write(move |conn| {
            let at = now();
            match result {
                Ok(()) => {
                    outbox::mark_sent(conn, id, at)?;
                    reachability::record_delivery(conn, &to_addr)?;
                }
                Err(e) if e.permanent || attempts + 1 >= MAX_ATTEMPTS => {
                    tracing::warn!(mail.id = id, error = %e.message, "mail failed permanently");
                    outbox::mark_failed(conn, id, &e.message, at)?;
                    // Only a mail server's refusal says the address is bad; a disabled account or
                    // a server that stayed unreachable through every retry does not.
                    if e.permanent && !disabled {
                        reachability::record_bounce(conn, &to_addr, &e.message, at)?;
                    }
                }
                Err(e) => {
                    tracing::info!(mail.id = id, error = %e.message, "mail will be retried");
                    outbox::mark_retry(conn, id, &e.message, at + backoff(attempts))?;
                }
            }
            Ok(())
        })
        .await?;
    }
    Ok(claimed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(0).num_seconds(), 30);
        assert_eq!(backoff(1).num_seconds(), 60);
        assert_eq!(backoff(3).num_seconds(), 240);
        assert_eq!(backoff(30).num_seconds(), 6 * 3600);
    }
}
