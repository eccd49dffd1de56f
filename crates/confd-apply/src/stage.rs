//! The stage file beside dest, the comparison with dest, and the swap.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::{ApplyError, Difference, Request};

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

pub(crate) struct StageFile {
    path: PathBuf,
}

fn dest_dir(dest: &Path) -> PathBuf {
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

impl StageFile {
    /// Creates `.<dest name><random digits>` in dest's directory (mode 0600, O_EXCL), writes
    /// the contents, fsyncs, then sets mode and owner. Owner errors are ignored, as in confd
    /// (a non-root confd cannot chown; the comparison then reports the owner difference).
    pub(crate) fn create(
        dest: &Path,
        contents: &[u8],
        attrs: &Attributes,
    ) -> Result<StageFile, ApplyError> {
        let dir = dest_dir(dest);
        let base = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let stage_err = |source| ApplyError::Stage { dir: dir.clone(), source };
        let (path, mut file) = open_unique(&dir, &base).map_err(stage_err)?;
        let stage = StageFile { path };
        let written = file.write_all(contents).and_then(|()| file.sync_all());
        if let Err(e) = written {
            stage.remove();
            return Err(stage_err(e));
        }
        if let Err(e) = fs::set_permissions(&stage.path, fs::Permissions::from_mode(attrs.mode)) {
            stage.remove();
            return Err(stage_err(e));
        }
        let _ = std::os::unix::fs::chown(&stage.path, Some(attrs.uid), Some(attrs.gid));
        Ok(stage)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn remove(&self) {
        let _ = fs::remove_file(&self.path);
    }

    /// Renames the stage file over dest and fsyncs the directory, so that after a crash dest
    /// is either the old or the new file. When dest is a bind mount (rename gives EBUSY, e.g.
    /// `/etc/hosts` in a container) the contents are written in place instead, as confd does.
    pub(crate) fn replace(&self, dest: &Path, attrs: &Attributes) -> Result<(), ApplyError> {
        let replace_err = |source| ApplyError::Replace { dest: dest.to_path_buf(), source };
        match fs::rename(&self.path, dest) {
            Ok(()) => {
                if let Ok(dir) = File::open(dest_dir(dest)) {
                    let _ = dir.sync_all();
                }
                Ok(())
            }
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::BUSY.raw_os_error()) => {
                let contents = fs::read(&self.path).map_err(replace_err)?;
                write_in_place(dest, &contents, attrs).map_err(replace_err)
            }
            Err(e) => Err(replace_err(e)),
        }
    }
}

fn write_in_place(dest: &Path, contents: &[u8], attrs: &Attributes) -> std::io::Result<()> {
    let mut f =
        OpenOptions::new().write(true).truncate(true).create(true).mode(attrs.mode).open(dest)?;
    f.write_all(contents)?;
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
    let Some(base) = dest.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
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
    let mut seed = random_seed();
    for _ in 0..100 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let path = dir.join(format!(".{base}{}", seed >> 33));
        match OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
            Ok(f) => return Ok((path, f)),
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

/// How dest differs from what it should become (empty when in sync), and what it is now
/// (`None` when it does not exist).
pub(crate) fn differences(
    dest: &Path,
    contents: &[u8],
    attrs: &Attributes,
) -> Result<(Vec<Difference>, Option<Previous>), ApplyError> {
    let meta = match fs::metadata(dest) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((vec![Difference::Missing], None))
        }
        Err(source) => return Err(ApplyError::ReadDest { path: dest.to_path_buf(), source }),
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
    let current = fs::read(dest)
        .map_err(|source| ApplyError::ReadDest { path: dest.to_path_buf(), source })?;
    if current != contents {
        diffs.push(Difference::Contents);
    }
    let was = Attributes { mode: meta.mode() & 0o7777, uid: meta.uid(), gid: meta.gid() };
    Ok((diffs, Some(Previous { contents: current, attrs: was })))
}

/// What a dest was before it was replaced: its bytes, mode and owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Previous {
    contents: Vec<u8>,
    attrs: Attributes,
}

impl Previous {
    pub fn contents(&self) -> &[u8] {
        &self.contents
    }
}

/// Puts `previous` back as `dest`, staged and renamed like any new file (no check: it is
/// what was there).
pub fn restore(dest: &Path, previous: &Previous) -> Result<(), ApplyError> {
    let stage = StageFile::create(dest, &previous.contents, &previous.attrs)?;
    let result = stage.replace(dest, &previous.attrs);
    stage.remove();
    result
}

/// A unified diff of dest's current contents against the new ones (`-noop`).
pub(crate) fn unified_diff(dest: &Path, contents: &[u8]) -> String {
    let old = fs::read(dest).unwrap_or_default();
    let old = String::from_utf8_lossy(&old);
    let new = String::from_utf8_lossy(contents);
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
