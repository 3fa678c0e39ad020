//! The one writer: a thread that owns the store's only read-write connection and commits every
//! write pending when it looks in one transaction (group commit). Each caller is answered only
//! once the COMMIT succeeded, and account changes are published on the change feed only then.
//!
//! One failing write (a constraint conflict) does not fail its batch-mates. The batch first runs
//! straight through; if a write fails, the transaction is rolled back and the batch runs again,
//! each write in a savepoint of its own, so the failing one is rolled back alone. (A savepoint per
//! write always would cost a quarter of the writer's time: SQLite copies every page a savepoint
//! touches first. Failures are rare, so writes may run twice, and are `FnMut`.)
//!
//! Durability: in WAL mode with `synchronous=NORMAL`, COMMIT returns once the transaction's pages
//! are written to the WAL file (into the kernel's page cache); the WAL is synced to disk at
//! checkpoints. A killed process (`kill -9`, a crash) therefore loses no acknowledged write: the
//! kernel still holds those pages and writes them out. Only a power loss or an OS crash can drop
//! the transactions since the last sync. `server/tests/crash.rs` kills a broker mid-load and
//! checks every acknowledged write survived.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::{broadcast, oneshot};

use super::checkpoints::Restart;
use super::{db, db_ref, run_sql};
use crate::engine::store::{AccountKey, StoreChange};
use crate::{Error, Result};

/// Most writes one transaction carries: bounds how long the first write of a batch waits.
const MAX_BATCH: usize = 256;

/// The store's side of the writer thread: a queue the thread drains. The thread ends (and closes
/// its connection) once this is dropped and the queue is empty.
pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
}

enum Job {
    /// A write for the next batch.
    Write(Box<dyn Write>),
    /// Work that runs alone between batches and manages its own transactions (migrations).
    Alone(Box<dyn FnOnce(&mut Connection) + Send>),
}

impl Writer {
    /// Starts the writer thread on `conn`; it publishes committed account changes on `changes`.
    pub(super) fn spawn(conn: Connection, changes: broadcast::Sender<StoreChange>, restart: Restart) -> std::io::Result<Writer> {
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new().name("gl-sqlite-writer".into()).spawn(move || serve(conn, queue, changes, restart))?;
        Ok(Writer { jobs })
    }

    /// Runs `f` in the next batch and answers once the batch committed. `f` returns its result
    /// and the account it changed, if any (published after the commit). It may run twice (see
    /// the module's comment): only its last run counts.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> rusqlite::Result<(T, Option<AccountKey>)> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.send(Job::Write(Box::new(Call { f, result: None, tx })))?;
        rx.await.map_err(|_| unfinished())?
    }

    /// Runs `f` alone on the writer's connection, between batches, outside any transaction.
    pub(super) async fn alone<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.send(Job::Alone(Box::new(move |c| {
            let _ = tx.send(f(c).map_err(db));
        })))?;
        rx.await.map_err(|_| unfinished())?
    }

    fn send(&self, job: Job) -> Result<()> {
        self.jobs.send(job).map_err(|_| Error::Internal("the SQLite writer thread has stopped".into()))
    }
}

fn unfinished() -> Error {
    Error::Internal("a store write did not finish (it panicked, or the SQLite writer thread stopped)".into())
}

/// What running a write came to.
enum Applied {
    /// It succeeded: keep it, and publish the account it changed once committed.
    Kept(Option<AccountKey>),
    /// It failed (or panicked): it must be rolled back.
    RolledBack,
}

/// One caller's write, type-erased so that one queue carries every kind.
trait Write: Send {
    /// Runs the write, keeping its result (of this run) for [`Write::answer`].
    fn apply(&mut self, c: &Connection) -> Applied;
    /// Answers the caller: its own error if it failed, else its result if `batch` committed,
    /// else why the batch did not.
    fn answer(self: Box<Self>, batch: Result<()>);
}

struct Call<T, F> {
    f: F,
    result: Option<rusqlite::Result<T>>,
    tx: oneshot::Sender<Result<T>>,
}

impl<T, F> Write for Call<T, F>
where
    T: Send,
    F: FnMut(&Connection) -> rusqlite::Result<(T, Option<AccountKey>)> + Send,
{
    fn apply(&mut self, c: &Connection) -> Applied {
        self.result = None;
        match (self.f)(c) {
            Ok((value, changed)) => {
                self.result = Some(Ok(value));
                Applied::Kept(changed)
            }
            Err(e) => {
                self.result = Some(Err(e));
                Applied::RolledBack
            }
        }
    }

    fn answer(self: Box<Self>, batch: Result<()>) {
        let answer = match (self.result, batch) {
            (Some(Err(e)), _) => Err(db(e)),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (_, Err(e)) => Err(e),
            (None, Ok(())) => Err(unfinished()),
        };
        let _ = self.tx.send(answer);
    }
}

/// The writer thread: takes the first waiting job, then whatever else is already queued (up to
/// [`MAX_BATCH`]), and commits them together.
fn serve(mut conn: Connection, queue: mpsc::Receiver<Job>, changes: broadcast::Sender<StoreChange>, restart: Restart) {
    let mut batch: Vec<Box<dyn Write>> = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = queue.recv() {
        restart.before_batch(&conn);
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Write(w) => batch.push(w),
                Job::Alone(f) => {
                    // Writes queued before it commit first; those after it go in the next batch.
                    commit(&conn, &mut batch, &changes);
                    let _ = catch_unwind(AssertUnwindSafe(|| f(&mut conn)));
                }
            }
            if batch.len() < MAX_BATCH {
                next = queue.try_recv().ok();
            }
        }
        commit(&conn, &mut batch, &changes);
    }
}

/// Commits `batch` (emptying it) and answers every caller.
fn commit(c: &Connection, batch: &mut Vec<Box<dyn Write>>, changes: &broadcast::Sender<StoreChange>) {
    if batch.is_empty() {
        return;
    }
    match straight(c, batch) {
        Ok(Some(changed)) => return finish(batch.drain(..).zip(changed).collect(), changes),
        Ok(None) => {}
        Err(e) => {
            for w in batch.drain(..) {
                w.answer(Err(db_ref(&e)));
            }
            return;
        }
    }
    careful(c, batch.drain(..), changes);
}

/// Runs the whole batch in one transaction and commits it: the accounts each write changed, or
/// `None` when a write failed (the transaction is rolled back: nothing of the batch is kept).
fn straight(c: &Connection, batch: &mut [Box<dyn Write>]) -> rusqlite::Result<Option<Vec<Option<AccountKey>>>> {
    // IMMEDIATE: the write lock is taken now, so no other process slips in between a write's
    // reads and its writes.
    run_sql(c, "BEGIN IMMEDIATE")?;
    let mut changed = Vec::with_capacity(batch.len());
    for w in batch.iter_mut() {
        match catch_unwind(AssertUnwindSafe(|| w.apply(c))).unwrap_or(Applied::RolledBack) {
            Applied::Kept(key) => changed.push(key),
            Applied::RolledBack => {
                if !c.is_autocommit() {
                    run_sql(c, "ROLLBACK")?;
                }
                return Ok(None);
            }
        }
    }
    match run_sql(c, "COMMIT") {
        Ok(()) => Ok(Some(changed)),
        Err(e) => {
            if !c.is_autocommit() {
                let _ = run_sql(c, "ROLLBACK");
            }
            Err(e)
        }
    }
}

/// Runs the batch again, each write in its own savepoint so a failing one is rolled back alone,
/// and answers every caller.
fn careful(c: &Connection, batch: impl Iterator<Item = Box<dyn Write>>, changes: &broadcast::Sender<StoreChange>) {
    let mut kept: Vec<(Box<dyn Write>, Option<AccountKey>)> = Vec::new();
    let mut queued = batch.into_iter();
    let mut in_transaction = false;
    // Runs until the batch is done or a statement of the writer's own fails (the database is
    // locked by another process past the busy timeout, or the disk fails).
    let failure = loop {
        let Some(mut w) = queued.next() else { break None };
        if !in_transaction {
            if let Err(e) = run_sql(c, "BEGIN IMMEDIATE") {
                w.answer(Err(db_ref(&e)));
                break Some(e);
            }
            in_transaction = true;
        }
        if let Err(e) = run_sql(c, "SAVEPOINT write") {
            w.answer(Err(db_ref(&e)));
            break Some(e);
        }
        match catch_unwind(AssertUnwindSafe(|| w.apply(c))).unwrap_or(Applied::RolledBack) {
            Applied::Kept(changed) => match run_sql(c, "RELEASE write") {
                Ok(()) => kept.push((w, changed)),
                Err(e) => {
                    w.answer(Err(db_ref(&e)));
                    break Some(e);
                }
            },
            Applied::RolledBack if c.is_autocommit() => {
                // The error ended the whole transaction (an I/O error, a full disk): the writes
                // before it in this batch are gone too. Later ones start a new transaction.
                in_transaction = false;
                w.answer(Ok(()));
                for (k, _) in kept.drain(..) {
                    k.answer(Err(Error::Unavailable {
                        message: "the database rolled back a batch of writes after an error; try again".into(),
                        retry_after: 1,
                    }));
                }
            }
            Applied::RolledBack => {
                let undone = run_sql(c, "ROLLBACK TO write").and_then(|()| run_sql(c, "RELEASE write"));
                w.answer(Ok(()));
                if let Err(e) = undone {
                    break Some(e);
                }
            }
        }
    };
    let failure = match failure {
        None if in_transaction => run_sql(c, "COMMIT").err(),
        other => other,
    };
    match failure {
        None => finish(kept, changes),
        Some(e) => {
            if !c.is_autocommit() {
                let _ = run_sql(c, "ROLLBACK");
            }
            for w in kept.into_iter().map(|(w, _)| w).chain(queued) {
                w.answer(Err(db_ref(&e)));
            }
        }
    }
}

/// After a COMMIT: publishes the accounts the batch changed, then answers its callers.
fn finish(kept: Vec<(Box<dyn Write>, Option<AccountKey>)>, changes: &broadcast::Sender<StoreChange>) {
    for key in kept.iter().filter_map(|(_, changed)| changed.clone()) {
        // No subscriber is fine: nobody is waiting.
        let _ = changes.send(StoreChange::Account(key));
    }
    for (w, _) in kept {
        w.answer(Ok(()));
    }
}
