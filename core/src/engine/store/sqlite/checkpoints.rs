//! Checkpoints off the writer's path. A thread with its own connection copies the WAL back into
//! the database file every so often and syncs both (`PRAGMA wal_checkpoint(PASSIVE)`, which
//! blocks no one), so COMMITs never wait for a copy or an fsync (SQLite's automatic checkpoint,
//! off here, runs inside the COMMIT that crosses its mark).
//!
//! The WAL starts over from its beginning when a write transaction begins with every frame
//! copied: whenever writes pause for as long as a copy takes. Under writes that never pause, once
//! the WAL is past [`RESTART_BYTES`] the thread copies again and again, each copy taking only what
//! was written during the one before, until that is little; then it asks the writer to copy that
//! little itself between two batches ([`Restart::before_batch`]), and the next batch starts the WAL
//! over. That copy (a few milliseconds' worth of writes, and two fsyncs) is the only wait the
//! writer ever has for checkpoints. The WAL file keeps its largest size until writes pause; then
//! the thread truncates it if it is past [`KEEP_BYTES`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// The pause between copies. Longer pauses copy less in all (a page written many times in
/// between is copied once); the WAL grows by what is written meanwhile.
const PAUSE: Duration = Duration::from_millis(250);
/// WAL size past which the WAL is made to start over although writes never pause. Each time
/// costs the writer tens of milliseconds (the last copy's fsyncs), so it should be rare: at a
/// sustained 10,000 writes a second (about 150 MB of WAL) it comes every few seconds.
pub(super) const RESTART_BYTES: i64 = 512 << 20;
/// WAL size past which the file is truncated once writes pause.
const KEEP_BYTES: i64 = 64 << 20;
/// Most bytes the writer's own copy may take (else the thread copies once more first).
const WRITER_COPY_BYTES: i64 = 2 << 20;
/// Most copies in a row before the writer is asked anyway (writes outpace copies).
const MAX_CATCH_UP: u32 = 8;
/// How long the thread leaves the last copy to the writer before it copies again itself (no
/// write came meanwhile).
const WRITER_IDLE: Duration = Duration::from_secs(1);

/// Set by the checkpoint thread when the writer should copy the last frames itself.
#[derive(Clone, Default)]
pub(super) struct Restart(Arc<AtomicBool>);

impl Restart {
    /// Called by the writer before each batch: copies what the checkpoint thread left, if asked.
    pub(super) fn before_batch(&self, conn: &Connection) {
        if self.0.load(Ordering::Acquire) {
            // With every frame copied, this batch's first write starts the WAL over.
            let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            self.0.store(false, Ordering::Release);
        }
    }
}

/// The checkpoint thread; it ends when this is dropped.
pub(super) struct Checkpoints {
    _stop: mpsc::Sender<()>,
}

impl Checkpoints {
    /// Starts checkpointing with `conn` (a read-write connection to the store's file).
    pub(super) fn spawn(conn: Connection, restart: Restart) -> std::io::Result<Checkpoints> {
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new().name("gl-sqlite-ckpt".into()).spawn(move || {
            let (mut pause, mut seen, mut catch_up, mut asked) = (PAUSE, 0, 0, None::<Instant>);
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(pause) {
                pause = PAUSE;
                if let Some(at) = asked {
                    if restart.0.load(Ordering::Acquire) && at.elapsed() < WRITER_IDLE {
                        continue;
                    }
                    restart.0.store(false, Ordering::Release);
                    asked = None;
                }
                // A checkpoint that fails (another process holds the file) is tried again.
                let Ok((log, page)) = checkpoint(&conn) else { continue };
                // Frames written since the last copy (all of them when the WAL started over).
                let fresh = if log >= seen { log - seen } else { log };
                seen = log;
                if fresh == 0 && log * page > KEEP_BYTES {
                    // Writes paused with the WAL fully copied: the next write would start it over,
                    // but the file keeps its size. Cut it now, while no one writes (truncating a
                    // large file takes the file system long: never in a COMMIT).
                    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
                    (seen, catch_up) = (0, 0);
                } else if log * page < RESTART_BYTES || fresh == 0 {
                    catch_up = 0;
                } else if fresh * page <= WRITER_COPY_BYTES || catch_up >= MAX_CATCH_UP {
                    restart.0.store(true, Ordering::Release);
                    (asked, catch_up) = (Some(Instant::now()), 0);
                    pause = Duration::from_millis(10);
                } else {
                    catch_up += 1;
                    pause = Duration::ZERO;
                }
            }
        })?;
        Ok(Checkpoints { _stop: stop })
    }
}

/// Copies the frames in the WAL as it is now (those of readers' snapshots too, once they end);
/// returns how many frames the WAL holds, and the page size.
fn checkpoint(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    let log = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))?;
    let page = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    Ok((log, page))
}
