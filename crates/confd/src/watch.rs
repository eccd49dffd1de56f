//! `-watch` for the file backend: inotify on the YAML files and directories.
//!
//! After every relevant event the watches are rebuilt from scratch (directories are walked
//! again, symlinks resolved again) and only then is the change reported. So:
//! - subdirectories created after start are watched from the next event on;
//! - a `-file` that is a symlink (Kubernetes ConfigMap: `app.yaml -> ..data/app.yaml`, with
//!   `..data` swapped by rename) is watched through the link too, and the swap is seen;
//! - no update is lost: a write that happens while the watches are rebuilt precedes the
//!   change report, and the pass that report triggers reads the files afterwards.
//!
//! A file is also watched through its directory, so editors that replace it by renaming are
//! seen.

use std::collections::HashMap;
use std::ffi::OsString;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;

use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};

use crate::run::Event;

/// What a watch descriptor is for.
enum Interest {
    /// Every entry of a watched directory.
    Directory,
    /// Only these names in a directory (the `-file` paths that are files).
    Names(Vec<OsString>),
    /// The file itself, through any symlinks: any event on it matters.
    Target,
}

/// Lists the paths to watch; called again after every change.
pub type PathSource = Box<dyn Fn() -> Result<Vec<PathBuf>, String> + Send>;

/// Starts a thread that sends [`Event::Changed`] after every relevant inotify event.
pub fn spawn(paths: PathSource, tx: Sender<Event>) -> Result<(), String> {
    let mut watcher = Watcher::arm(&paths)?;
    std::thread::Builder::new()
        .name("file-watch".into())
        .spawn(move || loop {
            if !watcher.wait_for_change() {
                return;
            }
            match Watcher::arm(&paths) {
                Ok(w) => watcher = w,
                Err(e) => {
                    crate::log::error!("re-arming the file watch: {e}; keeping the old watches")
                }
            }
            if tx.send(Event::Changed).is_err() {
                return;
            }
        })
        .map(|_| ())
        .map_err(|e| format!("cannot start the file-watch thread: {e}"))
}

struct Watcher {
    fd: OwnedFd,
    interest: HashMap<i32, Interest>,
}

const DIR_EVENTS: WatchFlags = WatchFlags::CLOSE_WRITE
    .union(WatchFlags::MODIFY)
    .union(WatchFlags::CREATE)
    .union(WatchFlags::DELETE)
    .union(WatchFlags::MOVED_FROM)
    .union(WatchFlags::MOVED_TO)
    .union(WatchFlags::ATTRIB);

const TARGET_EVENTS: WatchFlags = WatchFlags::CLOSE_WRITE
    .union(WatchFlags::MODIFY)
    .union(WatchFlags::ATTRIB)
    .union(WatchFlags::DELETE_SELF)
    .union(WatchFlags::MOVE_SELF);

impl Watcher {
    fn arm(paths: &PathSource) -> Result<Watcher, String> {
        let fd = inotify::init(CreateFlags::CLOEXEC).map_err(|e| format!("inotify: {e}"))?;
        let mut w = Watcher { fd, interest: HashMap::new() };
        for path in paths()? {
            w.watch(&path).map_err(|e| format!("watching {}: {e}", path.display()))?;
        }
        Ok(w)
    }

    fn watch(&mut self, path: &Path) -> std::io::Result<()> {
        if path.is_dir() {
            let wd = inotify::add_watch(&self.fd, path, DIR_EVENTS)?;
            self.interest.insert(wd, Interest::Directory);
            return Ok(());
        }
        let wd = inotify::add_watch(&self.fd, parent_dir(path).as_path(), DIR_EVENTS)?;
        let name = path.file_name().map(OsString::from).unwrap_or_default();
        match self.interest.entry(wd).or_insert_with(|| Interest::Names(Vec::new())) {
            Interest::Names(names) => names.push(name),
            Interest::Directory | Interest::Target => {}
        }
        if path.is_symlink() {
            let wd = inotify::add_watch(&self.fd, path, TARGET_EVENTS)?;
            self.interest.entry(wd).or_insert(Interest::Target);
        }
        Ok(())
    }

    /// Blocks until a relevant event; false when the watch cannot continue.
    fn wait_for_change(&self) -> bool {
        let mut buf = [MaybeUninit::<u8>::uninit(); 8192];
        let mut reader = inotify::Reader::new(&self.fd, &mut buf);
        loop {
            let event = match reader.next() {
                Ok(e) => e,
                Err(rustix::io::Errno::INTR) => continue,
                Err(_) => return false,
            };
            if event.events().contains(ReadFlags::IGNORED) {
                continue;
            }
            let relevant = match self.interest.get(&event.wd()) {
                Some(Interest::Directory | Interest::Target) => true,
                Some(Interest::Names(names)) => event.file_name().is_some_and(|n| {
                    names.iter().any(|want| want.as_encoded_bytes() == n.to_bytes())
                }),
                None => false,
            };
            if relevant {
                return true;
            }
        }
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
