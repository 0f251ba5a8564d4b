//! Group commit for answers through personal links (`/a/{token}`). After an earthquake everyone
//! answers at once; on SQLite with `synchronous=FULL` every commit waits for the disk, and writers
//! contending for the lock back off in SQLite's busy handler (an unlucky answer waited out the 5 s
//! `busy_timeout` and failed). So answers wait in one queue; one writer at a time takes everything
//! queued and applies it in ONE write transaction (each answer in a savepoint of its own, so a bad
//! one costs only itself), and only after that commit does each request get its result: a 2xx still
//! means "stored". Answers arriving while a batch commits form the next batch.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

use super::form::{self, FormOutcome};
use super::safety::{self, AnswerPage};
use crate::db::Db;
use crate::error::{AppError, AppResult};

/// Most answers applied in one transaction (keeps the write lock short for other writers).
const MAX_BATCH: usize = 256;

/// The queue of answers waiting for the next group commit (one per process, in `Core`).
#[derive(Clone, Default)]
pub struct AnswerQueue {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    pending: Vec<Job>,
    /// Whether a writer is draining `pending` (then it picks up what is queued now, too).
    writing: bool,
}

struct Job {
    token: String,
    /// The logged-in account using the link, if any (`safety::open_by_token`).
    viewer: Option<i64>,
    fields: Vec<(String, String)>,
    reply: oneshot::Sender<AppResult<Answered>>,
}

/// What an answer through a personal link did: recorded, with the page that shows it, or refused
/// (field errors), with the page to show the form again.
pub type Answered = FormOutcome<AnswerPage, AnswerPage>;

impl AnswerQueue {
    /// Records an answer given through a personal link (as `safety::answer_by_token`) and returns
    /// what it did, with its page, once the transaction that holds it has committed.
    pub async fn answer(
        &self,
        db: &Db,
        token: String,
        viewer: Option<i64>,
        fields: Vec<(String, String)>,
    ) -> AppResult<Answered> {
        let (reply, result) = oneshot::channel();
        let start_writer = {
            let mut s = lock(&self.state);
            s.pending.push(Job {
                token,
                viewer,
                fields,
                reply,
            });
            !std::mem::replace(&mut s.writing, true)
        };
        if start_writer {
            let (state, db) = (self.state.clone(), db.clone());
            let span = tracing::Span::current();
            tokio::task::spawn_blocking(move || {
                let _entered = span.enter();
                drain(&state, &db);
            });
        }
        result
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("the answer writer stopped")))?
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Applies batches until the queue is empty, then lets the next answer start a writer again.
fn drain(state: &Mutex<State>, db: &Db) {
    let _guard = PanicGuard(state);
    loop {
        let mut batch = {
            let mut s = lock(state);
            if s.pending.is_empty() {
                s.writing = false;
                return;
            }
            let n = s.pending.len().min(MAX_BATCH);
            s.pending.drain(..n).collect::<Vec<_>>()
        };
        // One order of row locks for every process sharing a PostgreSQL database (no deadlock
        // between two batches); stable, so a person's repeated answers keep their order.
        batch.sort_by(|a, b| a.token.cmp(&b.token));
        apply(db, batch);
    }
}

/// One write transaction for the whole batch; the replies go out after the commit.
fn apply(db: &Db, batch: Vec<Job>) {
    let mut results = Vec::with_capacity(batch.len());
    let committed = db.run_sync(true, |conn| {
        for job in &batch {
            // Each answer in a savepoint of its own; a refused one is rolled back and its form's
            // page loaded in the same transaction.
            results.push(form::submit(
                conn,
                |conn| {
                    safety::answer_by_token(conn, &job.token, job.viewer, &job.fields)?;
                    safety::open_by_token(conn, &job.token, job.viewer)
                },
                |conn| safety::open_by_token(conn, &job.token, job.viewer),
            ));
        }
        Ok(())
    });
    match committed {
        Ok(()) => {
            for (job, result) in batch.into_iter().zip(results) {
                let _ = job.reply.send(result);
            }
        }
        Err(e) => {
            // Nothing of the batch is stored; each request reports (and logs) the failure.
            for job in batch {
                let _ = job.reply.send(Err(match &e {
                    AppError::Unavailable(why) => AppError::Unavailable(why.clone()),
                    other => AppError::Internal(anyhow::anyhow!("answer batch failed: {other}")),
                }));
            }
        }
    }
}

/// Should the writer panic, the waiting answers fail (their replies are dropped) instead of
/// waiting forever, and the next answer starts a new writer.
struct PanicGuard<'a>(&'a Mutex<State>);

impl Drop for PanicGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut s = lock(self.0);
            s.pending.clear();
            s.writing = false;
        }
    }
}
