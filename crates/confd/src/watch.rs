//! `-watch` for the file backend: inotify on the YAML files and directories, reporting a
//! change for any write, create, delete or rename. A file is watched through its directory,
//! so editors that replace the file by renaming are seen too.

use std::collections::HashMap;
use std::ffi::OsString;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;

use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};

use crate::run::Event;

/// For each watch descriptor: `None` = every entry of the directory matters, `Some(names)` =
/// only these file names (a `-file` that names a file).
type Interest = HashMap<i32, Option<Vec<OsString>>>;

/// Starts a thread that sends [`Event::Changed`] for every relevant inotify event.
pub fn spawn(paths: Vec<PathBuf>, tx: Sender<Event>) -> std::io::Result<()> {
    let fd = inotify::init(CreateFlags::CLOEXEC)?;
    let interest = add_watches(&fd, &paths)?;
    std::thread::Builder::new()
        .name("file-watch".into())
        .spawn(move || read_events(fd, interest, tx))?;
    Ok(())
}

fn add_watches(fd: &OwnedFd, paths: &[PathBuf]) -> std::io::Result<Interest> {
    let flags = WatchFlags::CLOSE_WRITE
        | WatchFlags::MODIFY
        | WatchFlags::CREATE
        | WatchFlags::DELETE
        | WatchFlags::MOVED_FROM
        | WatchFlags::MOVED_TO
        | WatchFlags::ATTRIB;
    let mut interest = Interest::new();
    for path in paths {
        if path.is_dir() {
            let wd = inotify::add_watch(fd, path.as_path(), flags)?;
            interest.insert(wd, None);
        } else {
            let dir = parent_dir(path);
            let wd = inotify::add_watch(fd, dir.as_path(), flags)?;
            let name = path.file_name().map(OsString::from).unwrap_or_default();
            // A directory watched whole already covers the file.
            if let Some(names) = interest.entry(wd).or_insert_with(|| Some(Vec::new())) {
                names.push(name);
            }
        }
    }
    Ok(interest)
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn read_events(fd: OwnedFd, interest: Interest, tx: Sender<Event>) {
    let mut buf = [MaybeUninit::<u8>::uninit(); 8192];
    let mut reader = inotify::Reader::new(&fd, &mut buf);
    loop {
        let event = match reader.next() {
            Ok(e) => e,
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return,
        };
        if event.events().contains(ReadFlags::IGNORED) {
            continue;
        }
        let relevant = match interest.get(&event.wd()) {
            Some(None) => true,
            Some(Some(names)) => event
                .file_name()
                .is_some_and(|n| names.iter().any(|want| want.as_encoded_bytes() == n.to_bytes())),
            None => false,
        };
        if relevant && tx.send(Event::Changed).is_err() {
            return;
        }
    }
}
