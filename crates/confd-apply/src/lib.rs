//! The only code that writes destination files or runs commands.
//!
//! # Theory of operation
//! [`apply`] takes rendered bytes for one destination and carries out confd's sequence, with
//! the guarantee that a destination is either left byte-for-byte as it was or replaced whole:
//!
//! 1. write the bytes to a stage file `.<dest name><random>` **in dest's directory** (so
//!    relative `include`s in `nginx -t -c {{.src}}` resolve, and the final rename stays in one
//!    filesystem), fsync it, set its mode and owner;
//! 2. compare with dest (bytes, permission bits, owner); if equal, nothing else happens;
//! 3. in noop mode, report a unified diff and stop;
//! 4. run `check_cmd` (with `{{.src}}` = the stage file) under a timeout; on failure stop;
//! 5. rename the stage file over dest (falling back to an in-place write when dest is a bind
//!    mount, as confd does) and fsync the directory.
//!
//! Running `reload_cmd` is left to the caller ([`run_command`]), because a reload shared by
//! several resources runs once per batch. Any error before step 5 leaves dest untouched and
//! removes the stage file (unless asked to keep it).
#![forbid(unsafe_code)]

mod command;
mod stage;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use command::{run_command, Cancel, CommandError, CommandOutput};
pub use stage::{remove_stale_stage_files, restore, Previous, StaleStageFile};

/// What to write and how.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub dest: &'a Path,
    pub contents: &'a [u8],
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
    #[error("cannot replace {dest}: {source}")]
    Replace { dest: PathBuf, source: std::io::Error },
}

/// Stages, compares, checks and swaps one destination file. See the crate docs.
pub fn apply(req: &Request<'_>) -> Result<Outcome, ApplyError> {
    let target = stage::target_attributes(req)?;
    let stage = stage::StageFile::create(req.dest, req.contents, &target)?;
    let result = apply_staged(req, &stage, &target);
    if !req.options.keep_stage_file {
        stage.remove();
    }
    result
}

fn apply_staged(
    req: &Request<'_>,
    stage: &stage::StageFile,
    target: &stage::Attributes,
) -> Result<Outcome, ApplyError> {
    let (differences, previous) = stage::differences(req.dest, req.contents, target)?;
    if differences.is_empty() {
        return Ok(Outcome::InSync);
    }
    if req.options.noop {
        let diff = stage::unified_diff(req.dest, req.contents);
        return Ok(Outcome::WouldChange { differences, diff });
    }
    let mut check_output = None;
    if let (Some(cmd), false) = (req.check_cmd, req.options.sync_only) {
        let rendered = render_check_cmd(cmd, stage.path())?;
        let out =
            run_command(&rendered, req.check_timeout, req.cancel).map_err(ApplyError::Check)?;
        check_output = Some(out.output);
    }
    if req.cancel.is_some_and(Cancel::is_cancelled) {
        return Err(ApplyError::Check(CommandError::Cancelled { output: String::new() }));
    }
    stage.replace(req.dest, target)?;
    Ok(Outcome::Updated { differences, check_output, previous })
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
