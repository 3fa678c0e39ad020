//! Which file the store opened, so readiness can tell when the path no longer names it (deleted,
//! or replaced by a restore): the open connections would go on answering from the old file,
//! whose writes a restart loses.

use std::path::{Path, PathBuf};

/// The database file as opened: its path and, on Unix, its device and inode.
pub(super) struct FileIdentity {
    path: PathBuf,
    id: Option<(u64, u64)>,
}

impl FileIdentity {
    /// The identity of the file at `path` now.
    pub(super) fn of(path: &Path) -> Self {
        Self { path: path.to_path_buf(), id: file_id(path) }
    }

    /// `Err` naming the path when it no longer names the file opened.
    pub(super) fn check(&self) -> Result<(), String> {
        match (self.id, file_id(&self.path)) {
            (Some(opened), Some(now)) if opened != now => {
                Err(format!("{} was replaced since the broker opened it", self.path.display()))
            }
            (Some(_), None) => Err(format!("{} was deleted since the broker opened it", self.path.display())),
            _ => Ok(()),
        }
    }
}

#[cfg(unix)]
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &Path) -> Option<(u64, u64)> {
    None
}
