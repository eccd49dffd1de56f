//! Comparing the new contents with dest's: as they are written, and file to file.
//!
//! A render streams into the stage file; [`AsWritten`] reads dest alongside, so that by the
//! time the render ends it is known whether the contents differ, without reading either file
//! again. Where that cannot tell (dest could not be read, or was replaced meanwhile), the
//! stage file is compared with dest afterwards ([`same_bytes`]), which reports the error.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// How much is compared at a time.
const CHUNK: usize = 64 * 1024;

/// Dest's contents against what has been written so far.
pub(crate) enum AsWritten {
    /// Every byte written so far equals dest's at the same offset; `dest` is read on.
    Equal { dest: File, scratch: Vec<u8> },
    /// They differ, or dest does not exist: the stage file will be installed unless its
    /// check fails.
    Differs,
    /// Dest could not be opened or read: the comparison afterwards tells (and says why).
    Unknown,
}

/// What [`AsWritten`] concluded once everything was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Contents {
    /// The same bytes as the file with this device and inode number (if dest still is it).
    Same {
        dev: u64,
        ino: u64,
    },
    Differ,
    /// Compare the files.
    Unknown,
}

impl AsWritten {
    /// Starts comparing with what `dest` holds now.
    pub(crate) fn open(dest: &Path) -> AsWritten {
        match File::open(dest) {
            Ok(dest) => AsWritten::Equal { dest, scratch: Vec::new() },
            Err(e) if e.kind() == ErrorKind::NotFound => AsWritten::Differs,
            Err(_) => AsWritten::Unknown,
        }
    }

    /// Whether the contents are known to differ.
    pub(crate) fn differs(&self) -> bool {
        matches!(self, AsWritten::Differs)
    }

    /// Compares `written`, the bytes just written, with dest's next bytes.
    pub(crate) fn wrote(&mut self, written: &[u8]) {
        let AsWritten::Equal { dest, scratch } = self else { return };
        let mut next = AsWritten::Differs;
        for piece in written.chunks(CHUNK) {
            scratch.resize(piece.len(), 0);
            match read_full(dest, scratch) {
                Ok(n) if n == piece.len() && scratch[..] == *piece => continue,
                Ok(_) => {}
                Err(_) => next = AsWritten::Unknown,
            }
            *self = next;
            return;
        }
    }

    /// The conclusion once all `written` bytes have been compared: the same only if dest
    /// holds no more than that.
    pub(crate) fn conclude(self, written: u64) -> Contents {
        match self {
            AsWritten::Equal { dest, .. } => match dest.metadata() {
                Ok(m) if m.len() == written => Contents::Same { dev: m.dev(), ino: m.ino() },
                Ok(_) => Contents::Differ,
                Err(_) => Contents::Unknown,
            },
            AsWritten::Differs => Contents::Differ,
            AsWritten::Unknown => Contents::Unknown,
        }
    }
}

/// Whether two files hold the same bytes: sizes first, then chunk by chunk.
pub(crate) fn same_bytes(a: &mut File, b: &mut File) -> std::io::Result<bool> {
    if a.metadata()?.len() != b.metadata()?.len() {
        return Ok(false);
    }
    let (mut in_a, mut in_b) = (vec![0; CHUNK], vec![0; CHUNK]);
    loop {
        let n = read_full(a, &mut in_a)?;
        if read_full(b, &mut in_b)? != n || in_a[..n] != in_b[..n] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

/// Reads until `buf` is full or the file ends; returns how much was read.
fn read_full(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match f.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest_with(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dest");
        std::fs::write(&path, bytes).unwrap();
        (dir, path)
    }

    fn compare(dest: &Path, pieces: &[&[u8]]) -> Contents {
        let mut as_written = AsWritten::open(dest);
        let mut written = 0;
        for piece in pieces {
            as_written.wrote(piece);
            written += piece.len() as u64;
        }
        as_written.conclude(written)
    }

    #[test]
    fn the_same_bytes_in_any_pieces_are_the_same_file() {
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let (_dir, dest) = dest_with(&bytes);
        let meta = std::fs::metadata(&dest).unwrap();
        let same = Contents::Same { dev: meta.dev(), ino: meta.ino() };
        assert_eq!(compare(&dest, &[&bytes]), same);
        assert_eq!(compare(&dest, &[&bytes[..1], &bytes[1..70_000], &bytes[70_000..]]), same);
    }

    #[test]
    fn a_change_anywhere_or_a_different_length_differs() {
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let (_dir, dest) = dest_with(&bytes);
        let mut changed = bytes.clone();
        changed[150_000] ^= 1;
        assert_eq!(compare(&dest, &[&changed]), Contents::Differ);
        assert_eq!(compare(&dest, &[&bytes[..199_999]]), Contents::Differ, "dest is longer");
        let longer = [&bytes[..], b"x"].concat();
        assert_eq!(compare(&dest, &[&longer]), Contents::Differ, "dest is shorter");
        assert_eq!(compare(&dest, &[]), Contents::Differ, "nothing written");
    }

    #[test]
    fn a_missing_dest_differs_and_an_unreadable_one_is_left_to_the_file_comparison() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(compare(&dir.path().join("missing"), &[b"x"]), Contents::Differ);
        // A directory opens but cannot be read.
        assert_eq!(compare(dir.path(), &[b"x"]), Contents::Unknown);
    }
}
