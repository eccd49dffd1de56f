//! Writing the stage file's pages to disk while the render goes on.
//!
//! The stage file is fsynced before it is renamed over dest, so that after a power loss dest
//! is the old file or the whole new one, never an empty or partial one. The kernel would
//! otherwise start writing a freshly written file only some seconds later, so that fsync
//! waited for all of it: 70 to 170 ms for the 62 MB of 100,000 services on this project's
//! test machine (docs/BENCHMARKS.md). Once the new contents are known to differ from dest's
//! (so the file will be installed), a thread of its own fsyncs the stage file each time
//! another [`EVERY`] bytes have been written; the fsync before the swap then waits only for
//! the last of them.
//!
//! The thread uses a file description of its own (a fresh `open`, not a duplicate), so that
//! an I/O error it sees is still reported to the fsync before the swap (Linux reports a
//! writeback error once to each open file description); it also hands its first error back.

use std::fs::File;
use std::path::Path;
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::thread::JoinHandle;

/// Bytes written between two background fsyncs.
const EVERY: u64 = 4 * 1024 * 1024;

/// The background fsyncs of one stage file.
pub(crate) struct Writeback {
    /// Asks the thread for another fsync; dropped to end it.
    more: Option<SyncSender<()>>,
    thread: Option<JoinHandle<std::io::Result<usize>>>,
    /// Bytes written since the thread was last asked.
    unsynced: u64,
}

impl Writeback {
    /// Starts the thread for the stage file at `path`. `None` if it cannot be opened again or
    /// no thread can be started: the fsync before the swap then does all the work, as before.
    pub(crate) fn start(path: &Path) -> Option<Writeback> {
        let file = File::open(path).ok()?;
        let (more, asked) = mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
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
        Some(Writeback { more: Some(more), thread: Some(thread), unsynced: 0 })
    }

    /// Counts `n` more bytes written; asks for an fsync once there are [`EVERY`] of them. A
    /// request made while another still waits for the thread is that same request.
    pub(crate) fn wrote(&mut self, n: usize) {
        self.unsynced = self.unsynced.saturating_add(n as u64);
        if self.unsynced < EVERY {
            return;
        }
        self.unsynced = 0;
        if let Some(more) = &self.more {
            match more.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => self.more = None,
            }
        }
    }

    /// Waits for the thread's last fsync; how many it made, or its first error.
    pub(crate) fn finish(mut self) -> std::io::Result<usize> {
        self.stop()
    }

    fn stop(&mut self) -> std::io::Result<usize> {
        self.more = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => {
                Err(std::io::Error::other("the stage file's writeback thread panicked"))
            }
            None => Ok(0),
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
        let mut writeback = Writeback::start(&path).expect("a thread");
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
    fn a_stage_file_that_cannot_be_opened_again_has_no_writeback() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Writeback::start(&dir.path().join("gone")).is_none());
    }
}
