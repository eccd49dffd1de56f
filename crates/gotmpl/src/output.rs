//! Where execution's text goes: a string, handed on to the caller's writer in chunks when there
//! is one, so that a large output never has to be held whole.

use std::io;

use crate::raw_bytes;

/// Text is handed to the writer once this much is buffered.
pub(crate) const CHUNK: usize = 64 * 1024;

/// The text written so far: what is still in `text`, and `flushed` bytes (counted as the
/// engine counts them, in the text's own UTF-8) already given to the writer.
pub(crate) struct Output<'w> {
    pub(crate) text: &'w mut String,
    writer: Option<Writer<'w>>,
    flushed: usize,
}

struct Writer<'w> {
    to: &'w mut dyn io::Write,
    /// Turn stand-ins for non-UTF-8 template bytes back into the bytes
    /// (see [`raw_bytes`]).
    raw_bytes: bool,
}

impl<'w> Output<'w> {
    /// Everything stays in `text`.
    pub(crate) fn in_memory(text: &'w mut String) -> Output<'w> {
        Output { text, writer: None, flushed: 0 }
    }

    /// `text` is a buffer: full chunks go to `to`.
    pub(crate) fn to_writer(
        text: &'w mut String,
        to: &'w mut dyn io::Write,
        raw_bytes: bool,
    ) -> Output<'w> {
        Output { text, writer: Some(Writer { to, raw_bytes }), flushed: 0 }
    }

    /// Bytes of output so far, written or buffered.
    pub(crate) fn len(&self) -> usize {
        self.flushed + self.text.len()
    }

    /// Bytes already handed to the writer (the buffer may hold `limit - flushed` more).
    pub(crate) fn flushed(&self) -> usize {
        self.flushed
    }

    /// Hands the buffer to the writer when it holds a full chunk.
    pub(crate) fn flush_if_full(&mut self) -> io::Result<()> {
        if self.text.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    /// Hands whatever is buffered to the writer (nothing happens without one).
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        let Some(writer) = &mut self.writer else { return Ok(()) };
        if self.text.is_empty() {
            return Ok(());
        }
        let bytes = if writer.raw_bytes {
            raw_bytes::encoded(self.text)
        } else {
            std::borrow::Cow::Borrowed(self.text.as_bytes())
        };
        writer.to.write_all(&bytes)?;
        self.flushed += self.text.len();
        self.text.clear();
        Ok(())
    }
}
