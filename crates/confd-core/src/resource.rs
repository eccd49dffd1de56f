//! Template resources: the `[template]` tables of `conf.d/**/*toml`.
//!
//! [`parse_resource`] turns one file's text into a [`TemplateResource`] the way confd's
//! `NewTemplateResource` does (BurntSushi/toml decoding, then the prefix and `src` rules), plus
//! a list of [`Warning`]s for what confd silently accepts but is probably a mistake. Reading
//! the files is the caller's job (discovery lives in the binary); nothing here does I/O.
//!
//! # What confd does, and what we add
//!
//! - Field names match as Go's BurntSushi/toml matches struct fields: exactly, else under
//!   case folding (`Dest`, `DEST`, `Check_Cmd`).
//! - Unknown keys inside `[template]` and anything outside it are accepted and ignored, as
//!   confd does; each gives a [`Warning`] naming the file, line and key, with the closest known
//!   key when it looks like a typo (`reload_comd` → `reload_cmd`).
//! - A type mismatch is an error naming the file, line and key (confd: fatal as well).
//! - `src` is joined onto `<confdir>/templates` like Go's `filepath.Join`: an absolute `src` is
//!   *not* honoured. An empty `src` is the error `empty src template`.
//! - `prefix`: a non-empty global prefix (`-prefix` or `prefix` in confd.toml) **replaces** the
//!   resource's own (not concatenated; confd#753), then `/` is prepended if missing. We warn when
//!   a resource's prefix is overridden.
//! - `mode`: Go's `strconv.ParseUint(mode, 0, 32)`, so `"644"` is *decimal* 644 (= 0o1204);
//!   only the permission bits are kept. We warn about decimal modes and dropped bits. confd
//!   reports a bad `mode` only when it processes the resource; we report it when loading.
//! - `uid`/`gid`: `-1` means unset (confd's own sentinel); other values outside `0..=u32::MAX`
//!   are errors (confd would silently fail the chown and reload on every pass).
//! - Ours: `check_cmd_timeout` (default 30 s), `reload_cmd_timeout` (default 60 s) and
//!   `render_timeout` (default: the global `-render-timeout`), in Go duration syntax, `"0"` =
//!   no timeout; `wait = "quiet:max"` for watch mode ([`WaitSpec`]); `min_reload_interval`,
//!   `max_removal` (`"50%"`) and `hold_time`, the reconciler's reload pacing and fail-static
//!   hold (default: the global flags).
//! - Ours: `push = "unix:/path/to.sock"` (or `"http://IP:PORT"`) makes a *push resource*: its
//!   template renders a membership document ([`crate::membership`]), dest receives it as JSON,
//!   and instead of a reload command the membership is pushed to that endpoint and confirmed
//!   (`push_timeout`, default 5 s). A resource has `push` or `reload_cmd`, not both.

pub mod goparse;
mod mode;
mod names;
mod parse;
mod push;
mod timing;

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use mode::{parse_mode, rwx, ParsedMode, PERM_MASK};
pub use names::{closest, equal_fold, line_of};
pub use parse::parse_resource;
pub use push::{PushTarget, PushTargetError, DEFAULT_PUSH_TIMEOUT};
pub use timing::{
    parse_duration, parse_percent, parse_timeout, WaitSpec, DEFAULT_CHECK_CMD_TIMEOUT,
    DEFAULT_HOLD_TIME, DEFAULT_MAX_REMOVAL, DEFAULT_MIN_RELOAD_INTERVAL,
    DEFAULT_RELOAD_CMD_TIMEOUT,
};

/// One loaded template resource, with every path and prefix already resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateResource {
    /// The `.toml` file it came from.
    pub path: PathBuf,
    /// The template: `<confdir>/templates` joined with `src` (Go `filepath.Join`, cleaned).
    pub src: PathBuf,
    /// The destination file, as written.
    pub dest: PathBuf,
    /// The keys as written; see [`TemplateResource::prefixed_keys`].
    pub keys: Vec<String>,
    /// The effective prefix: the global prefix if non-empty, else the resource's; always
    /// starts with `/`, otherwise not cleaned (`/p/` stays `/p/`).
    pub prefix: String,
    /// Permission bits to apply; `None` keeps an existing dest's mode, else 0644.
    pub mode: Option<u32>,
    /// Owner for the staged file; `None` = confd's effective uid.
    pub uid: Option<u32>,
    /// Group for the staged file; `None` = confd's effective gid.
    pub gid: Option<u32>,
    /// Go template over `{{.src}}` (the staged file), run by `/bin/sh -c`.
    pub check_cmd: Option<String>,
    /// Run by `/bin/sh -c` after dest is replaced; not templated (confd#502).
    pub reload_cmd: Option<String>,
    /// Zero means no timeout.
    pub check_cmd_timeout: Duration,
    /// Zero means no timeout.
    pub reload_cmd_timeout: Duration,
    /// The time budget of one render of the template; `None` = the global
    /// `-render-timeout`, zero = no limit.
    pub render_timeout: Option<Duration>,
    /// Per-resource debounce window for watch mode; `None` = the global `-wait`.
    pub wait: Option<WaitSpec>,
    /// Its reload command runs at most once per this interval; `None` = the global
    /// `-min-reload-interval`.
    pub min_reload_interval: Option<Duration>,
    /// Hold a batch that removes more than this percentage of its keys; `None` = the global
    /// `-max-removal`.
    pub max_removal: Option<u8>,
    /// A held removal stable this long is applied; `None` = the global `-hold-time`.
    pub hold_time: Option<Duration>,
    /// A push resource's endpoint: its membership is pushed there instead of a reload.
    pub push: Option<PushTarget>,
    /// How long a push may take, its confirmation by every worker included; zero = no limit.
    pub push_timeout: Duration,
}

impl TemplateResource {
    /// The keys fetched from the backend: Go `path.Join(prefix, key)` for each key, so a
    /// trailing `/` goes, and `""` or `"/"` mean the prefix itself.
    pub fn prefixed_keys(&self) -> Vec<String> {
        self.keys.iter().map(|k| confd_kv::gopath::join(&[&self.prefix, k])).collect()
    }

    /// How a fetched key is stored for the template: Go
    /// `path.Join("/", strings.TrimPrefix(full_key, prefix))`, e.g. `/app/upstream/a` with
    /// prefix `/app` → `/upstream/a`.
    pub fn relative_key(&self, full_key: &str) -> String {
        let trimmed = full_key.strip_prefix(&self.prefix).unwrap_or(full_key);
        confd_kv::gopath::join(&["/", trimmed])
    }

    /// [`relative_key`](Self::relative_key) for a key that is already in clean form below the
    /// prefix; `None` for one that cleaning would move (`..`, `.`, `//` or a trailing `/` in it).
    ///
    /// confd cleans every key, so `/upstream/web/../other/x` would render as a key of service
    /// `other`: whoever may write below `upstream/web/` could reach outside it. Such keys are
    /// left out instead (a deliberate difference from confd, see COMPATIBILITY.md).
    pub fn clean_relative_key(&self, full_key: &str) -> Option<String> {
        clean_relative_key(&self.prefix, full_key).map(Cow::into_owned)
    }
}

/// [`TemplateResource::clean_relative_key`] for a resource whose prefix is `prefix`; in the
/// usual case a slice of `full_key`.
pub fn clean_relative_key<'k>(prefix: &str, full_key: &'k str) -> Option<Cow<'k, str>> {
    let trimmed = full_key.strip_prefix(prefix).unwrap_or(full_key);
    // The usual case, without building paths: a clean key whose prefix ends at a `/`.
    if trimmed.starts_with('/') && confd_kv::gopath::is_clean(full_key) {
        return Some(Cow::Borrowed(trimmed));
    }
    let relative = confd_kv::gopath::join(&["/", trimmed]);
    let as_stored = trimmed.strip_prefix('/').unwrap_or(trimmed);
    let clean = confd_kv::gopath::clean(full_key) == full_key
        && relative.strip_prefix('/') == Some(as_stored);
    clean.then_some(Cow::Owned(relative))
}

/// What a resource needs from the global configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceContext {
    /// `<confdir>/templates`.
    pub template_dir: PathBuf,
    /// The global prefix (`-prefix` / `prefix` in confd.toml); empty = none.
    pub prefix: String,
}

impl ResourceContext {
    /// The context for `confdir` and a global prefix.
    pub fn new(confdir: impl AsRef<Path>, prefix: impl Into<String>) -> Self {
        ResourceContext { template_dir: confdir.as_ref().join("templates"), prefix: prefix.into() }
    }
}

/// Something confd accepts silently that is probably a mistake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub path: PathBuf,
    pub line: Option<usize>,
    /// The key concerned, as written.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", Location(&self.path, self.line), self.message)
    }
}

/// Why a resource file cannot be loaded. `Display` names the file (and line) first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceError {
    /// Not valid TOML.
    #[error("{}: invalid TOML: {message}", Location(path, *line))]
    Syntax { path: PathBuf, line: Option<usize>, message: String },
    /// A value of the wrong TOML type.
    #[error("{}: {key}: expected {expected}, found {found}", Location(path, Some(*line)))]
    Type { path: PathBuf, line: usize, key: String, expected: &'static str, found: &'static str },
    /// A value of the right type that cannot be used (`mode = "rw"`, `uid = -5`).
    #[error("{}: {key}: {message}", Location(path, Some(*line)))]
    Invalid { path: PathBuf, line: usize, key: String, message: String },
    /// `src` missing or empty: confd's `empty src template`.
    #[error(
        "{}: empty src template{}",
        Location(path, *line),
        if *no_template_table { " (the file has no [template] table)" } else { "" }
    )]
    EmptySrc { path: PathBuf, line: Option<usize>, no_template_table: bool },
}

impl ResourceError {
    /// The resource file.
    pub fn path(&self) -> &Path {
        match self {
            ResourceError::Syntax { path, .. }
            | ResourceError::Type { path, .. }
            | ResourceError::Invalid { path, .. }
            | ResourceError::EmptySrc { path, .. } => path,
        }
    }

    /// The 1-based line, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ResourceError::Syntax { line, .. } | ResourceError::EmptySrc { line, .. } => *line,
            ResourceError::Type { line, .. } | ResourceError::Invalid { line, .. } => Some(*line),
        }
    }

    /// The key concerned, as written, when there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ResourceError::Type { key, .. } | ResourceError::Invalid { key, .. } => Some(key),
            ResourceError::EmptySrc { .. } => Some("src"),
            ResourceError::Syntax { .. } => None,
        }
    }
}

struct Location<'a>(&'a Path, Option<usize>);

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(line) => write!(f, "{}:{line}", self.0.display()),
            None => write!(f, "{}", self.0.display()),
        }
    }
}
