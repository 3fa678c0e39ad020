//! The readers: read-only connections of their own. WAL lets them read while the writer writes;
//! a read sees every commit that finished before it began, so a caller reads its own writes (a
//! write answers only after its COMMIT).
//!
//! Point lookups (a row by its key: an index probe or two, microseconds) run at once on the
//! calling thread, on a connection taken from a small pool: handing them to another thread and
//! back would cost more than the read. Reads that scan (lists) go to reader threads, each with its
//! own connection, through one queue, so they never hold up the async runtime.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::db;
use crate::{Error, Result};

/// A read, with the channel its answer goes back on.
type Read = Box<dyn FnOnce(&Connection) + Send>;

/// The store's side of the reader threads. They end (closing their connections) once this is
/// dropped and the queue is empty.
pub(super) struct Readers {
    queue: Arc<Queue>,
    /// Connections for point lookups on the caller's thread.
    inline: Mutex<Vec<Connection>>,
}

struct Queue {
    state: Mutex<State>,
    ready: Condvar,
}

struct State {
    reads: VecDeque<Read>,
    /// Threads asleep on `ready`: a new read wakes one only if there is one (a busy thread
    /// looks at the queue again before it sleeps, at no syscall's cost).
    idle: usize,
    closed: bool,
}

impl Readers {
    /// Starts one thread per connection of `threaded`; `inline` serve [`Readers::lookup`].
    pub(super) fn spawn(threaded: Vec<Connection>, inline: Vec<Connection>) -> std::io::Result<Readers> {
        let queue = Arc::new(Queue {
            state: Mutex::new(State { reads: VecDeque::new(), idle: 0, closed: false }),
            ready: Condvar::new(),
        });
        for (i, conn) in threaded.into_iter().enumerate() {
            let queue = queue.clone();
            std::thread::Builder::new().name(format!("gl-sqlite-read-{i}")).spawn(move || queue.serve(conn))?;
        }
        Ok(Readers { queue, inline: Mutex::new(inline) })
    }

    /// Runs `f`, a point lookup, now on this thread (on a reader thread when every inline
    /// connection is in use).
    pub(super) async fn lookup<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let taken = self.inline.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let Some(conn) = taken else { return self.read(f).await };
        let result = catch_unwind(AssertUnwindSafe(|| f(&conn)));
        self.inline.lock().unwrap_or_else(PoisonError::into_inner).push(conn);
        result.map_err(|_| Error::Internal("a store read panicked".into()))?.map_err(db)
    }

    /// Runs `f` on the next free reader connection.
    pub(super) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.queue.push(Box::new(move |c| {
            let _ = tx.send(f(c).map_err(db));
        }));
        rx.await.map_err(|_| Error::Internal("a store read panicked".into()))?
    }
}

impl Drop for Readers {
    fn drop(&mut self) {
        self.queue.lock().closed = true;
        self.queue.ready.notify_all();
    }
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A read runs outside the lock: a panic cannot leave the queue half-changed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, read: Read) {
        let mut state = self.lock();
        state.reads.push_back(read);
        let wake = state.idle > 0;
        drop(state);
        if wake {
            self.ready.notify_one();
        }
    }

    /// A reader thread: runs reads until the store is gone and the queue is empty.
    fn serve(&self, conn: Connection) {
        let mut state = self.lock();
        loop {
            if let Some(read) = state.reads.pop_front() {
                drop(state);
                // A panicking read drops its answer channel: its caller gets an error.
                let _ = catch_unwind(AssertUnwindSafe(|| read(&conn)));
                state = self.lock();
            } else if state.closed {
                return;
            } else {
                state.idle += 1;
                state = self.ready.wait(state).unwrap_or_else(PoisonError::into_inner);
                state.idle -= 1;
            }
        }
    }
}
