//! Writing the stage file while the render goes on.
//!
//! A render hands over its output 64 KiB at a time. Copying those bytes into the page cache,
//! reading dest's bytes to compare, and asking for the writeback cost about a quarter of a
//! large render's time (62 MB at 100,000 services, docs/BENCHMARKS.md), all of it work the
//! render does not have to wait for. So after the first write, which is made where it comes
//! (a small file needs no thread), the bytes are gathered into pieces of [`PIECE`] bytes and
//! a thread of its own writes them (at most [`IN_FLIGHT`] waiting, so memory stays bounded)
//! while the render goes on. The thread stops at the first error; the next piece handed over
//! then fails with that error, and so does [`StageWriter::finish`].

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use crate::compare::{AsWritten, Contents};
use crate::writeback::Writeback;

/// What the thread is handed at a time: large, so that handing over costs little.
const PIECE: usize = 1024 * 1024;

/// A piece's buffer: a piece, and the 64 KiB write that may take it past [`PIECE`].
const PIECE_ROOM: usize = PIECE + PIECE / 8;

/// Pieces handed to the thread and not yet written.
const IN_FLIGHT: usize = 2;

/// The stage file and what writing it has shown.
pub(crate) struct Sink {
    file: File,
    path: PathBuf,
    /// Bytes written so far.
    written: u64,
    /// The new contents against dest's, as they are written.
    as_written: AsWritten,
    /// Started once the contents are known to differ (unless `no_writeback`).
    writeback: Option<Writeback>,
    /// Noop mode: nothing will be installed, so nothing is written back early.
    no_writeback: bool,
}

impl Sink {
    /// The stage file `file` at `path`, to be compared with `dest` as it is written.
    pub(crate) fn new(file: File, path: &Path, dest: &Path, no_writeback: bool) -> Sink {
        let mut sink = Sink {
            file,
            path: path.to_path_buf(),
            written: 0,
            as_written: AsWritten::open(dest),
            writeback: None,
            no_writeback,
        };
        sink.start_writeback_if_differs();
        sink
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file.write_all(buf)?;
        self.written += buf.len() as u64;
        match &mut self.writeback {
            Some(writeback) => writeback.wrote(buf.len()),
            None => {
                self.as_written.wrote(buf);
                self.start_writeback_if_differs();
            }
        }
        Ok(())
    }

    /// Starts writing the stage file to disk in the background once it is known that it will
    /// be installed (unless its check fails): see [`crate::writeback`].
    fn start_writeback_if_differs(&mut self) {
        if self.as_written.differs() && !self.no_writeback && self.writeback.is_none() {
            self.writeback = Some(Writeback::new(&self.path));
        }
    }

    /// Whether the contents differ from dest's, as far as writing them has shown.
    pub(crate) fn contents(&mut self) -> Contents {
        std::mem::replace(&mut self.as_written, AsWritten::Unknown).conclude(self.written)
    }

    /// Waits for the background writeback, then fsyncs the stage file.
    pub(crate) fn sync(&mut self) -> io::Result<()> {
        let background = self.writeback.take().map_or(Ok(0), Writeback::finish);
        background.and_then(|_| self.file.sync_all())
    }
}

/// Where the stage file's bytes go: the [`Sink`] itself, or the thread that owns it.
pub(crate) struct StageWriter {
    /// Here while no thread owns it.
    sink: Option<Sink>,
    /// Bytes gathered for the next piece.
    pending: Vec<u8>,
    thread: Option<Thread>,
    /// A thread was started (or could not be): never a second one.
    thread_tried: bool,
}

struct Thread {
    pieces: SyncSender<Vec<u8>>,
    /// Buffers the thread is done with, to be filled again.
    spare: Receiver<Vec<u8>>,
    handle: JoinHandle<Option<(Sink, io::Result<()>)>>,
}

impl StageWriter {
    pub(crate) fn new(sink: Sink) -> StageWriter {
        StageWriter { sink: Some(sink), pending: Vec::new(), thread: None, thread_tried: false }
    }

    /// Takes all of `buf`: the first write is made here; later bytes go into pieces for the
    /// thread (started with the first piece; where no thread can be started, pieces are
    /// written here).
    pub(crate) fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if let Some(sink) = self.sink.as_mut().filter(|sink| sink.written == 0) {
            return sink.write_all(buf);
        }
        if self.pending.capacity() == 0 {
            self.pending.reserve_exact(PIECE_ROOM);
        }
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= PIECE {
            self.hand_over()?;
        }
        Ok(())
    }

    /// Writes the pending bytes: through the thread, or here.
    fn hand_over(&mut self) -> io::Result<()> {
        if !self.thread_tried {
            self.thread_tried = true;
            self.start_thread();
        }
        let Some(thread) = &self.thread else {
            let result = match self.sink.as_mut() {
                Some(sink) => sink.write_all(&self.pending),
                None => Err(writer_failed()),
            };
            self.pending.clear();
            return result;
        };
        // At most four buffers exist: this one, two waiting, one being written.
        let spare = thread.spare.try_recv().unwrap_or_else(|_| Vec::with_capacity(PIECE_ROOM));
        let piece = std::mem::replace(&mut self.pending, spare);
        self.pending.clear();
        if thread.pieces.send(piece).is_ok() {
            return Ok(());
        }
        // The thread stopped at an error: take the sink back, and the error.
        self.join().and(Err(io::Error::other("the stage file's writer stopped")))
    }

    fn start_thread(&mut self) {
        let (give, take) = mpsc::sync_channel::<Sink>(1);
        let (pieces, to_write) = mpsc::sync_channel::<Vec<u8>>(IN_FLIGHT);
        let (done, spare) = mpsc::sync_channel::<Vec<u8>>(IN_FLIGHT + 1);
        let spawned = std::thread::Builder::new().name("stage-writer".into()).spawn(move || {
            let mut sink = take.recv().ok()?;
            for piece in to_write {
                if let Err(e) = sink.write_all(&piece) {
                    return Some((sink, Err(e)));
                }
                let _ = done.try_send(piece);
            }
            Some((sink, Ok(())))
        });
        // Without a thread, the sink stays here.
        if let Ok(handle) = spawned {
            if let Some(sink) = self.sink.take() {
                let _ = give.send(sink);
                self.thread = Some(Thread { pieces, spare, handle });
            }
        }
    }

    /// Ends the thread once it has written what it was given, and takes the sink back; the
    /// thread's first write error.
    fn join(&mut self) -> io::Result<()> {
        let Some(Thread { pieces, handle, .. }) = self.thread.take() else { return Ok(()) };
        drop(pieces);
        match handle.join() {
            Ok(Some((sink, result))) => {
                self.sink = Some(sink);
                result
            }
            Ok(None) | Err(_) => Err(writer_failed()),
        }
    }

    /// Writes what is pending and waits until everything is written; the sink, or the first
    /// write error.
    pub(crate) fn finish(&mut self) -> io::Result<&mut Sink> {
        if !self.pending.is_empty() {
            self.hand_over()?;
        }
        self.join()?;
        self.sink.as_mut().ok_or_else(writer_failed)
    }

    /// Ends the thread without writing what is pending: the render did not finish.
    pub(crate) fn stop(&mut self) {
        let _ = self.join();
    }
}

fn writer_failed() -> io::Error {
    io::Error::other("the stage file's writer failed")
}

impl Drop for StageWriter {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::OwnedFd;

    #[test]
    fn writes_after_the_first_are_written_by_the_thread_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stage");
        let file = File::create(&path).unwrap();
        let mut writer = StageWriter::new(Sink::new(file, &path, &dir.path().join("dest"), true));
        let mut expected = Vec::new();
        for i in 0..200u32 {
            let piece = vec![(i % 251) as u8; 20_000 + i as usize];
            writer.write_all(&piece).unwrap();
            expected.extend_from_slice(&piece);
            let handed_over = expected.len() - 20_000 >= PIECE;
            assert_eq!(writer.thread.is_some(), handed_over, "write {i}");
        }
        let sink = writer.finish().unwrap();
        assert_eq!(sink.written, expected.len() as u64);
        assert!(std::fs::read(&path).unwrap() == expected);
    }

    #[test]
    fn a_write_error_on_the_thread_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (reader, pipe) = std::io::pipe().unwrap();
        let file = File::from(OwnedFd::from(pipe));
        let path = dir.path().join("stage");
        let mut writer = StageWriter::new(Sink::new(file, &path, &dir.path().join("dest"), true));
        writer.write_all(b"first").unwrap();
        drop(reader); // from now on each write fails: EPIPE
        let piece = vec![b'x'; PIECE];
        let handed_over = (0..8).map(|_| writer.write_all(&piece)).find(Result::is_err);
        let error = match handed_over {
            Some(error) => error.unwrap_err(),
            None => writer.finish().map(|_| ()).unwrap_err(),
        };
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe, "{error}");
    }
}
