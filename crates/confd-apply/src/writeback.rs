//! Writing the stage file's pages to disk while the render goes on.
//!
//! The stage file is fsynced before it is renamed over dest, so that after a power loss dest
//! is the old file or the whole new one, never an empty or partial one. The kernel would
//! otherwise start writing a freshly written file only some seconds later, so that fsync
//! waited for all of it: for the 62 MB of 100,000 services, 70 to 170 ms on one of this
//! project's test machines and 20 to 40 ms on another (docs/BENCHMARKS.md). Once the new contents are known to differ from dest's
//! (so the file will be installed), a thread of its own fsyncs the stage file each time
//! another [`EVERY`] bytes have been written; the fsync before the swap then waits only for
//! the last of them.
//!
//! The thread uses a file description of its own (a fresh `open`, not a duplicate), so that
//! an I/O error it sees is still reported to the fsync before the swap (Linux reports a
//! writeback error once to each open file description); it also hands its first error back.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::thread::JoinHandle;

/// Bytes written between two background fsyncs.
const EVERY: u64 = 4 * 1024 * 1024;

/// The background fsyncs of one stage file. The thread starts with the first of them, so a
/// file smaller than [`EVERY`] costs none.
pub(crate) struct Writeback {
    path: PathBuf,
    thread: Thread,
    /// Bytes written since the thread was last asked.
    unsynced: u64,
}

enum Thread {
    NotYet,
    Running {
        /// Asks for another fsync; dropped to end the thread.
        more: Option<SyncSender<()>>,
        handle: JoinHandle<std::io::Result<usize>>,
    },
    /// Could not be started (or was stopped): the fsync before the swap does all the work.
    None,
}

impl Writeback {
    /// The writeback of the stage file at `path`.
    pub(crate) fn new(path: &Path) -> Writeback {
        Writeback { path: path.to_path_buf(), thread: Thread::NotYet, unsynced: 0 }
    }

    /// Starts the thread. `None` if the stage file cannot be opened again or no thread can be
    /// started.
    fn start(&self) -> Option<Thread> {
        let file = File::open(&self.path).ok()?;
        let (more, asked) = mpsc::sync_channel::<()>(1);
        let handle = std::thread::Builder::new()
            .name("stage-writeback".into())
            .spawn(move || {
                let (mut synced, mut first_error) = (0, None);
                for () in asked {
                    match file.sync_data() {
                        Ok(()) => synced += 1,
                        Err(e) => first_error = first_error.or(Some(e)),
                    }
                }
                first_error.map_or(Ok(synced), Err)
            })
            .ok()?;
        Some(Thread::Running { more: Some(more), handle })
    }

    /// Counts `n` more bytes written; asks for an fsync once there are [`EVERY`] of them. A
    /// request made while another still waits for the thread is that same request.
    pub(crate) fn wrote(&mut self, n: usize) {
        self.unsynced = self.unsynced.saturating_add(n as u64);
        if self.unsynced < EVERY {
            return;
        }
        self.unsynced = 0;
        if let Thread::NotYet = self.thread {
            self.thread = self.start().unwrap_or(Thread::None);
        }
        if let Thread::Running { more, .. } = &mut self.thread {
            // Full: a request is waiting already. Disconnected: the thread is gone.
            if let Some(Err(TrySendError::Disconnected(()))) = more.as_ref().map(|m| m.try_send(()))
            {
                *more = None;
            }
        }
    }

    /// Waits for the thread's last fsync; how many it made, or its first error.
    pub(crate) fn finish(mut self) -> std::io::Result<usize> {
        self.stop()
    }

    fn stop(&mut self) -> std::io::Result<usize> {
        let Thread::Running { more, handle } = std::mem::replace(&mut self.thread, Thread::None)
        else {
            return Ok(0);
        };
        drop(more); // the thread makes the fsync it was last asked for, if any, and ends
        match handle.join() {
            Ok(result) => result,
            Err(_) => Err(std::io::Error::other("the stage file's writeback thread panicked")),
        }
    }
}

impl Drop for Writeback {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn it_syncs_as_asked_and_finishes_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stage");
        let mut file = File::create(&path).unwrap();
        let mut writeback = Writeback::new(&path);
        let chunk = vec![b'x'; 1024 * 1024];
        for _ in 0..9 {
            file.write_all(&chunk).unwrap();
            writeback.wrote(chunk.len());
        }
        // 9 MiB: asked at 4 and 8 MiB. The second request is one more fsync, unless the
        // thread had not yet taken the first: then the two are one.
        let synced = writeback.finish().unwrap();
        assert!(matches!(synced, 1 | 2), "{synced} fsyncs");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 9 * 1024 * 1024);
    }

    #[test]
    fn a_small_file_starts_no_thread() {
        let dir = tempfile::tempdir().unwrap();
        let mut writeback = Writeback::new(&dir.path().join("stage"));
        writeback.wrote(EVERY as usize - 1);
        assert!(matches!(writeback.thread, Thread::NotYet));
        assert_eq!(writeback.finish().unwrap(), 0);
    }

    #[test]
    fn a_stage_file_that_cannot_be_opened_again_has_no_writeback() {
        let dir = tempfile::tempdir().unwrap();
        let mut writeback = Writeback::new(&dir.path().join("gone"));
        writeback.wrote(EVERY as usize);
        assert!(matches!(writeback.thread, Thread::None));
        assert_eq!(writeback.finish().unwrap(), 0);
    }
}
