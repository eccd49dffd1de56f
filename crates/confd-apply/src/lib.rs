//! The only code that writes destination files or runs commands.
//!
//! # Theory of operation
//! [`Staged`] carries out confd's sequence for one destination, with the guarantee that a
//! destination is either left byte-for-byte as it was or replaced whole:
//!
//! 1. create a stage file `.<dest name><random>` **in dest's directory** (so relative
//!    `include`s in `nginx -t -c {{.src}}` resolve, and the final rename stays in one
//!    filesystem); the caller writes the new contents into it as they are made (a render
//!    streams into it, so a large file is never held whole in memory);
//!    Each piece written is compared with dest's bytes at the same offset as it is written;
//!    once they differ (or there is no dest), a background thread starts writing the stage
//!    file to disk;
//! 2. set its mode and owner, and compare with dest (permission bits, owner, then the bytes:
//!    what the comparison as written found, or where it could not tell, file to file); if
//!    equal, nothing else happens;
//! 3. in noop mode, report a unified diff and stop;
//! 4. fsync the stage file (by then, mostly written in the background); run `check_cmd`
//!    (with `{{.src}}` = the stage file) under a timeout; on failure stop;
//! 5. keep what dest was as a [`Previous`] (a hard link beside it, or a copy where a link
//!    cannot be made), rename the stage file over dest (falling back to an in-place write when
//!    dest is a bind mount, as confd does) and fsync the directory.
//!
//! [`apply`] does all of this for contents already in memory. Running `reload_cmd` is left to
//! the caller ([`run_command`]), because a reload shared by several resources runs once per
//! batch; if the server cannot load the new dest, [`restore`] puts the [`Previous`] back. Any
//! error before step 5 leaves dest untouched and removes the stage file (unless asked to keep
//! it).
#![forbid(unsafe_code)]

mod command;
mod compare;
mod sink;
mod stage;
mod writeback;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use command::{run_command, Cancel, CommandError, CommandOutput};
pub use stage::{remove_stale_stage_files, restore, Previous, Staged, StaleStageFile};

/// Where to write and how.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub dest: &'a Path,
    /// Permission bits; `None` keeps an existing dest's bits, else 0644 (confd's rule).
    pub mode: Option<u32>,
    /// Owner; `None` means this process's effective uid/gid (confd's rule).
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// A Go template; `{{.src}}` is replaced by the stage file's path.
    pub check_cmd: Option<&'a str>,
    pub check_timeout: Duration,
    pub options: Options,
    /// Set when the daemon is told to stop: a running check is killed and dest left alone.
    pub cancel: Option<&'a Cancel>,
}

/// confd's `-noop`, `-sync-only` and `-keep-stage-file`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub noop: bool,
    pub sync_only: bool,
    pub keep_stage_file: bool,
}

/// How dest differs from the new file (confd logs each of these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    Missing,
    Owner { field: &'static str, is: u32, should_be: u32 },
    Mode { is: u32, should_be: u32 },
    Contents,
}

/// The result of a successful apply.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Dest already had these bytes, mode and owner.
    InSync,
    /// Noop mode: dest differs; `diff` is a unified diff of the contents (empty when only
    /// mode or owner differ).
    WouldChange { differences: Vec<Difference>, diff: String },
    /// Dest was replaced; the caller should run the reload command (unless sync-only).
    /// `previous` is what dest was (`None`: it did not exist), for [`restore`] when the
    /// server cannot load the new file.
    Updated {
        differences: Vec<Difference>,
        check_output: Option<String>,
        previous: Option<Previous>,
    },
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    #[error("cannot create stage file in {dir}: {source}")]
    Stage { dir: PathBuf, source: std::io::Error },
    #[error("cannot read {path}: {source}")]
    ReadDest { path: PathBuf, source: std::io::Error },
    #[error("check_cmd is not a valid template: {0}")]
    CheckTemplate(String),
    #[error("config check failed: {0}")]
    Check(CommandError),
    #[error("cannot write stage file {path}: {source}")]
    WriteStage { path: PathBuf, source: std::io::Error },
    #[error("cannot keep a copy of {dest} to put back if the reload fails: {source}")]
    KeepPrevious { dest: PathBuf, source: std::io::Error },
    #[error("cannot replace {dest}: {source}")]
    Replace { dest: PathBuf, source: std::io::Error },
}

/// Stages `contents`, compares, checks and swaps one destination file. See the crate docs.
pub fn apply(req: &Request<'_>, contents: &[u8]) -> Result<Outcome, ApplyError> {
    let mut staged = Staged::create(req)?;
    staged.write_contents(contents)?;
    staged.apply()
}

/// Renders `check_cmd` as confd does: a plain Go template whose only data is `src`.
pub fn render_check_cmd(cmd: &str, stage: &Path) -> Result<String, ApplyError> {
    let tmpl = gotmpl::Template::new("checkcmd")
        .parse(cmd)
        .map_err(|e| ApplyError::CheckTemplate(e.to_string()))?;
    let mut data = std::collections::BTreeMap::new();
    data.insert("src".into(), gotmpl::Value::from(stage.to_string_lossy().as_ref()));
    tmpl.execute(&gotmpl::Value::map(data)).map_err(|e| ApplyError::CheckTemplate(e.to_string()))
}
