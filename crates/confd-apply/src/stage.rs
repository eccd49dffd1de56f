//! The stage file beside dest, the comparison with dest, and the swap.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::compare::{same_bytes, Contents};
use crate::sink::{Sink, StageWriter};
use crate::{
    render_check_cmd, run_command, ApplyError, Cancel, CommandError, Difference, Outcome, Request,
};

/// Mode and owner the destination should end up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attributes {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// confd's rules: explicit mode, else the existing dest's permission bits, else 0644; explicit
/// owner, else this process's effective uid/gid. (`fs::metadata` follows symlinks, as Go's
/// `os.Stat` does.)
pub(crate) fn target_attributes(req: &Request<'_>) -> Result<Attributes, ApplyError> {
    let existing = fs::metadata(req.dest).ok();
    let mode = req.mode.unwrap_or_else(|| existing.as_ref().map_or(0o644, |m| m.mode() & 0o777));
    let uid = req.uid.unwrap_or_else(|| rustix::process::geteuid().as_raw());
    let gid = req.gid.unwrap_or_else(|| rustix::process::getegid().as_raw());
    Ok(Attributes { mode: mode & 0o777, uid, gid })
}

fn dest_dir(dest: &Path) -> PathBuf {
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn dest_base(dest: &Path) -> String {
    dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// A stage file being written for one [`Request`]: write the new contents into it (it is an
/// [`io::Write`](std::io::Write)), then [`apply`](Staged::apply) it. Dropped without being
/// applied (the render failed), it is removed, unless the request keeps stage files.
pub struct Staged<'r> {
    req: &'r Request<'r>,
    target: Attributes,
    path: PathBuf,
    writer: StageWriter,
    /// Renamed over dest: there is nothing left to remove.
    installed: bool,
}

impl<'r> Staged<'r> {
    /// Creates `.<dest name><random digits>` in dest's directory (mode 0600, `O_EXCL`).
    pub fn create(req: &'r Request<'r>) -> Result<Staged<'r>, ApplyError> {
        let target = target_attributes(req)?;
        let dir = dest_dir(req.dest);
        let (path, file) = open_unique(&dir, &dest_base(req.dest))
            .map_err(|source| ApplyError::Stage { dir, source })?;
        let sink = Sink::new(file, &path, req.dest, req.options.noop);
        Ok(Staged { req, target, path, writer: StageWriter::new(sink), installed: false })
    }

    /// The stage file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn write_contents(&mut self, contents: &[u8]) -> Result<(), ApplyError> {
        self.write_all(contents).map_err(|source| self.write_error(source))
    }

    fn write_error(&self, source: std::io::Error) -> ApplyError {
        ApplyError::WriteStage { path: self.path.clone(), source }
    }

    /// Compares, checks and swaps (steps 2 to 5 of the crate docs). The stage file is gone
    /// afterwards unless the request keeps stage files and dest was not replaced.
    pub fn apply(mut self) -> Result<Outcome, ApplyError> {
        let contents = match self.writer.finish() {
            Ok(sink) => sink.contents(),
            Err(source) => return Err(self.write_error(source)),
        };
        self.set_attributes()?;
        let (differences, was) = differences(self.req.dest, &self.path, &self.target, contents)?;
        if differences.is_empty() {
            return Ok(Outcome::InSync);
        }
        if self.req.options.noop {
            let diff = unified_diff(self.req.dest, &self.path);
            return Ok(Outcome::WouldChange { differences, diff });
        }
        if let Err(source) = self.writer.finish().and_then(Sink::sync) {
            return Err(self.write_error(source));
        }
        let check_output = self.check()?;
        let mut previous = match was {
            Some(attrs) => Some(Previous::keep(self.req.dest, attrs)?),
            None => None,
        };
        self.replace(previous.as_mut())?;
        if let Some(previous) = &previous {
            previous.mark_kept_since_now();
        }
        Ok(Outcome::Updated { differences, check_output, previous })
    }

    /// Sets mode and owner. Owner errors are ignored, as in confd (a non-root confd cannot
    /// chown; the comparison then reports the owner difference).
    fn set_attributes(&self) -> Result<(), ApplyError> {
        fs::set_permissions(&self.path, fs::Permissions::from_mode(self.target.mode))
            .map_err(|source| self.write_error(source))?;
        let _ = std::os::unix::fs::chown(&self.path, Some(self.target.uid), Some(self.target.gid));
        Ok(())
    }

    /// Runs `check_cmd` on the stage file, unless there is none or the mode is sync-only.
    fn check(&self) -> Result<Option<String>, ApplyError> {
        let req = self.req;
        let mut output = None;
        if let (Some(cmd), false) = (req.check_cmd, req.options.sync_only) {
            let rendered = render_check_cmd(cmd, &self.path)?;
            let out =
                run_command(&rendered, req.check_timeout, req.cancel).map_err(ApplyError::Check)?;
            output = Some(out.output);
        }
        if req.cancel.is_some_and(Cancel::is_cancelled) {
            return Err(ApplyError::Check(CommandError::Cancelled { output: String::new() }));
        }
        Ok(output)
    }

    /// Puts the stage file in dest's place (see [`install`]); `previous` is made a copy first
    /// when dest is written in place, as a link would change with dest.
    fn replace(&mut self, previous: Option<&mut Previous>) -> Result<(), ApplyError> {
        let dest = self.req.dest;
        let installed = install(&self.path, dest, &self.target, || match previous {
            Some(previous) => previous.unlink_from(dest),
            None => Ok(()),
        })?;
        self.installed = installed == Installed::Renamed;
        Ok(())
    }
}

impl std::io::Write for Staged<'_> {
    /// Takes all of `buf`, or fails: the stage file's writer never writes part of it.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.write_all(buf).map_err(|e| {
            let what = format!("cannot write stage file {}: {e}", self.path.display());
            std::io::Error::new(e.kind(), what)
        })?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Staged<'_> {
    fn drop(&mut self) {
        self.writer.stop(); // the thread ends before the file goes
        if !self.installed && !self.req.options.keep_stage_file {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// How a file was put in dest's place.
#[derive(Debug, PartialEq, Eq)]
enum Installed {
    Renamed,
    WrittenInPlace,
}

/// Renames `from` over `dest` and fsyncs the directory, so that after a crash dest is either
/// the old or the new file. When dest is a bind mount (rename gives EBUSY, e.g. `/etc/hosts`
/// in a container), `from` is copied into dest instead, as confd does, after
/// `before_in_place`.
fn install(
    from: &Path,
    dest: &Path,
    attrs: &Attributes,
    before_in_place: impl FnOnce() -> std::io::Result<()>,
) -> Result<Installed, ApplyError> {
    let replace_err = |source| ApplyError::Replace { dest: dest.to_path_buf(), source };
    match fs::rename(from, dest) {
        Ok(()) => {
            if let Ok(dir) = File::open(dest_dir(dest)) {
                let _ = dir.sync_all();
            }
            Ok(Installed::Renamed)
        }
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::BUSY.raw_os_error()) => {
            before_in_place().map_err(replace_err)?;
            write_in_place(dest, from, attrs).map_err(replace_err)?;
            Ok(Installed::WrittenInPlace)
        }
        Err(e) => Err(replace_err(e)),
    }
}

/// Copies `from` into `dest` itself (truncating it), for a dest that cannot be renamed over.
fn write_in_place(dest: &Path, from: &Path, attrs: &Attributes) -> std::io::Result<()> {
    let mut source = File::open(from)?;
    let mut f =
        OpenOptions::new().write(true).truncate(true).create(true).mode(attrs.mode).open(dest)?;
    std::io::copy(&mut source, &mut f)?;
    f.sync_all()?;
    let _ = std::os::unix::fs::chown(dest, Some(attrs.uid), Some(attrs.gid));
    Ok(())
}

/// Removes the stage files a confd that died (killed before it could clean up) left beside
/// `dest`: regular files named `.<dest name><digits>`, owned by this user, last modified
/// before `started`. Stage files of a running confd are newer than its start, so a confd
/// calls this with its own start time without touching its own. Returns what was removed
/// and what could not be.
pub fn remove_stale_stage_files(dest: &Path, started: SystemTime) -> Vec<StaleStageFile> {
    let base = dest_base(dest);
    if base.is_empty() {
        return Vec::new();
    }
    let Ok(entries) = fs::read_dir(dest_dir(dest)) else {
        return Vec::new();
    };
    let uid = rustix::process::geteuid().as_raw();
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !is_stage_name(&name.to_string_lossy(), &base) {
            continue;
        }
        let Ok(meta) = entry.path().symlink_metadata() else { continue };
        let stale = meta.modified().is_ok_and(|m| m < started);
        if meta.file_type().is_file() && meta.uid() == uid && stale {
            let path = entry.path();
            let removed = fs::remove_file(&path);
            found.push(StaleStageFile { path, removed });
        }
    }
    found
}

/// A stage file of an earlier run, and whether removing it worked.
#[derive(Debug)]
pub struct StaleStageFile {
    pub path: PathBuf,
    pub removed: std::io::Result<()>,
}

/// Whether `name` is what [`open_unique`] names a stage file for dest `base`.
fn is_stage_name(name: &str, base: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|rest| rest.strip_prefix(base))
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

fn open_unique(dir: &Path, base: &str) -> std::io::Result<(PathBuf, File)> {
    create_unique(dir, base, |path| {
        OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
    })
}

/// Makes something new at a fresh stage file name `.<base><random digits>` in `dir`: `make`
/// must fail with `AlreadyExists` when the name is taken.
fn create_unique<T>(
    dir: &Path,
    base: &str,
    mut make: impl FnMut(&Path) -> std::io::Result<T>,
) -> std::io::Result<(PathBuf, T)> {
    let mut seed = random_seed();
    for _ in 0..100 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let path = dir.join(format!(".{base}{}", seed >> 33));
        match make(&path) {
            Ok(made) => return Ok((path, made)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "no unused stage file name"))
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.finish()
}

/// How dest differs from the stage file and the attributes it should get (empty when in
/// sync), and dest's own attributes (`None` when it does not exist). `contents` is what the
/// comparison as the stage file was written found; the files are compared only where it
/// could not tell.
pub(crate) fn differences(
    dest: &Path,
    stage: &Path,
    attrs: &Attributes,
    contents: Contents,
) -> Result<(Vec<Difference>, Option<Attributes>), ApplyError> {
    let read_dest_err = |source| ApplyError::ReadDest { path: dest.to_path_buf(), source };
    let meta = match fs::metadata(dest) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((vec![Difference::Missing], None))
        }
        Err(source) => return Err(read_dest_err(source)),
    };
    let mut diffs = Vec::new();
    if meta.uid() != attrs.uid {
        diffs.push(Difference::Owner { field: "UID", is: meta.uid(), should_be: attrs.uid });
    }
    if meta.gid() != attrs.gid {
        diffs.push(Difference::Owner { field: "GID", is: meta.gid(), should_be: attrs.gid });
    }
    if meta.mode() & 0o7777 != attrs.mode {
        diffs.push(Difference::Mode { is: meta.mode() & 0o7777, should_be: attrs.mode });
    }
    let same = match contents {
        Contents::Same { dev, ino } if (meta.dev(), meta.ino()) == (dev, ino) => true,
        Contents::Differ => false,
        Contents::Same { .. } | Contents::Unknown => {
            let mut current = File::open(dest).map_err(read_dest_err)?;
            let mut staged = File::open(stage)
                .map_err(|source| ApplyError::WriteStage { path: stage.to_path_buf(), source })?;
            same_bytes(&mut current, &mut staged).map_err(read_dest_err)?
        }
    };
    if !same {
        diffs.push(Difference::Contents);
    }
    let was = Attributes { mode: meta.mode() & 0o7777, uid: meta.uid(), gid: meta.gid() };
    Ok((diffs, Some(was)))
}

/// What a dest was before it was replaced, kept beside it under a stage file name until the
/// server has loaded the new one: a hard link to the old file (nothing is copied), or a copy
/// where a link cannot be made (a symlinked dest, a filesystem without links, a file this
/// user may not link). Dropping it removes it; [`restore`] renames it back over dest.
///
/// Its modification time is set to when it was kept, so that [`remove_stale_stage_files`]
/// (which a confd runs with its start time) leaves it alone.
#[derive(Debug)]
pub struct Previous {
    path: PathBuf,
    attrs: Attributes,
    /// Renamed back over dest: there is nothing left to remove.
    restored: bool,
}

impl PartialEq for Previous {
    fn eq(&self, other: &Previous) -> bool {
        self.path == other.path
    }
}

impl Eq for Previous {}

impl Previous {
    fn keep(dest: &Path, attrs: Attributes) -> Result<Previous, ApplyError> {
        let keep_err = |source| ApplyError::KeepPrevious { dest: dest.to_path_buf(), source };
        let (dir, base) = (dest_dir(dest), dest_base(dest));
        let is_symlink = fs::symlink_metadata(dest).is_ok_and(|m| m.file_type().is_symlink());
        let linked = if is_symlink {
            None
        } else {
            create_unique(&dir, &base, |path| fs::hard_link(dest, path)).ok()
        };
        let path = match linked {
            Some((path, ())) => path,
            None => copy_beside(dest, &attrs).map_err(keep_err)?,
        };
        Ok(Previous { path, attrs, restored: false })
    }

    /// The bytes dest had.
    pub fn contents(&self) -> std::io::Result<Vec<u8>> {
        fs::read(&self.path)
    }

    /// Where it is kept.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn mark_kept_since_now(&self) {
        if let Ok(f) = File::open(&self.path) {
            let _ = f.set_modified(SystemTime::now());
        }
    }

    /// Makes this a copy if it is a link to what `dest` is now.
    fn unlink_from(&mut self, dest: &Path) -> std::io::Result<()> {
        let (Ok(kept), Ok(now)) = (fs::metadata(&self.path), fs::metadata(dest)) else {
            return Ok(());
        };
        if (kept.dev(), kept.ino()) != (now.dev(), now.ino()) {
            return Ok(());
        }
        let copy = copy_beside(&self.path, &self.attrs)?;
        let _ = fs::remove_file(&self.path);
        self.path = copy;
        Ok(())
    }
}

impl Drop for Previous {
    fn drop(&mut self) {
        if !self.restored {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Copies `from` to a fresh stage file name beside it, with `attrs` (owner best effort).
fn copy_beside(from: &Path, attrs: &Attributes) -> std::io::Result<PathBuf> {
    let mut source = File::open(from)?;
    let (path, mut copy) = open_unique(&dest_dir(from), &dest_base(from))?;
    let copied = std::io::copy(&mut source, &mut copy)
        .and_then(|_| copy.sync_all())
        .and_then(|()| fs::set_permissions(&path, fs::Permissions::from_mode(attrs.mode)));
    if let Err(e) = copied {
        let _ = fs::remove_file(&path);
        return Err(e);
    }
    let _ = std::os::unix::fs::chown(&path, Some(attrs.uid), Some(attrs.gid));
    Ok(path)
}

/// Puts `previous` back as `dest`: renamed over it, or written into it where dest is a bind
/// mount (no check: it is what was there).
pub fn restore(dest: &Path, mut previous: Previous) -> Result<(), ApplyError> {
    let installed = install(&previous.path, dest, &previous.attrs, || Ok(()))?;
    previous.restored = installed == Installed::Renamed;
    Ok(())
}

/// A unified diff of dest's current contents against the stage file's (`-noop`).
pub(crate) fn unified_diff(dest: &Path, stage: &Path) -> String {
    let old = fs::read(dest).unwrap_or_default();
    let new = fs::read(stage).unwrap_or_default();
    let old = String::from_utf8_lossy(&old);
    let new = String::from_utf8_lossy(&new);
    if old == new {
        return String::new();
    }
    let name = dest.display().to_string();
    similar::TextDiff::from_lines(old.as_ref(), new.as_ref())
        .unified_diff()
        .header(&name, &format!("{name} (new)"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_names() {
        assert!(is_stage_name(".nginx.conf123", "nginx.conf"));
        assert!(!is_stage_name(".nginx.conf", "nginx.conf"));
        assert!(!is_stage_name(".nginx.conf12a", "nginx.conf"));
        assert!(!is_stage_name("nginx.conf123", "nginx.conf"));
        assert!(!is_stage_name(".nginx.conf.bak", "nginx.conf"));
        assert!(!is_stage_name(".other123", "nginx.conf"));
    }
}
