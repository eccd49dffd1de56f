//! confd's `file` backend: YAML files (`-file`, repeatable) flattened into keys.
//!
//! What confd does, and so what [`load`] does:
//!
//! 1. Each `-file` path is expanded in order. A file is taken as is (the filter does not apply
//!    to it). A directory is walked recursively in lexical (byte) order, a directory's contents
//!    right after its own name (Go's `filepath.Walk`), and every file whose **base name**
//!    matches `-filter` (Go `filepath.Match`, default `*`, which also matches dot-files) is
//!    taken. Symbolic links to files are read; symbolic links to directories are not entered.
//! 2. Each file is parsed as YAML and flattened ([`flatten_yaml`]).
//! 3. Later files override earlier ones key by key (a null in a later file does not delete).
//! 4. Files are re-read on every call: confd has no cache.
//!
//! The selection of keys for a resource is separate: [`crate::filter_by_keys`] is confd's
//! rule for this backend (raw string prefix).
//!
//! Deliberate differences from confd:
//! - A `-file` path that is a symbolic link to a directory is walked (confd's `filepath.Walk`
//!   does not follow it and silently finds no files).
//! - A malformed `-filter` is reported before anything is read, even when no directory holds
//!   a file to match it against (Go 1.19's `filepath.Match` rejects a malformed pattern for any
//!   name, so confd fails too as soon as it meets one file).
//! - See [`flatten_yaml`] for the YAML-level differences (non-string keys, uint64, ...).
//!
//! Kept from confd: a subdirectory that cannot be listed is skipped silently (Go's walk
//! reports it to confd's callback, which ignores it); a broken symbolic link whose name
//! matches the filter is an error.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use confd_kv::gopath::path_match;

pub use crate::yaml::{
    decode_yaml_bytes, decode_yaml_vec, flatten_yaml, flatten_yaml_both_ways, flatten_yaml_into,
    read_yaml, PairSink, YamlError, MAX_DEPTH,
};

/// confd's default `-filter`.
pub const DEFAULT_FILTER: &str = "*";

/// What can go wrong when loading the file backend.
#[derive(Debug, thiserror::Error)]
pub enum FileBackendError {
    /// A path could not be inspected or read.
    #[error("file {}: {source}", path.display())]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A file is not valid YAML, or not something confd can flatten.
    #[error("file {}: line {line}, column {column}: {message}", path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The `-filter` pattern is malformed (Go's `path.ErrBadPattern`).
    #[error("invalid -filter pattern {pattern:?}: syntax error in pattern")]
    BadFilter {
        /// The pattern as given.
        pattern: String,
    },
}

impl FileBackendError {
    fn io(path: &Path, source: io::Error) -> FileBackendError {
        FileBackendError::Io { path: path.to_path_buf(), source }
    }

    fn yaml(path: &Path, e: YamlError) -> FileBackendError {
        FileBackendError::Yaml {
            path: path.to_path_buf(),
            line: e.line,
            column: e.column,
            message: e.message,
        }
    }

    /// The path the error is about, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            FileBackendError::Io { path, .. } | FileBackendError::Yaml { path, .. } => Some(path),
            FileBackendError::BadFilter { .. } => None,
        }
    }
}

/// Read every file selected by `paths` and `filter` and merge their keys (later files win).
pub fn load<P: AsRef<Path>>(
    paths: &[P],
    filter: &str,
) -> Result<BTreeMap<String, String>, FileBackendError> {
    let mut out = BTreeMap::new();
    for file in list_files(paths, filter)? {
        let text = read_text(&file)?;
        flatten_yaml_into(&text, &mut out).map_err(|e| FileBackendError::yaml(&file, e))?;
    }
    Ok(out)
}

/// confd's `GetValues` for this backend: [`load`], then keep the keys that start with one of
/// `keys` ([`crate::filter_by_keys`], raw string prefix).
pub fn get_values<P: AsRef<Path>>(
    paths: &[P],
    filter: &str,
    keys: &[String],
) -> Result<BTreeMap<String, String>, FileBackendError> {
    let mut all = load(paths, filter)?;
    // `filter_by_keys`'s rule, keeping what was read rather than copying it.
    all.retain(|k, _| crate::keys::starts_with_any(k, keys));
    Ok(all)
}

/// What [`get_values`] selects, given to `sink` as it is read rather than gathered in a map:
/// file after file, each in document order, so a key may come more than once and the last
/// wins (as later files override earlier ones in [`load`]). Nothing is given for a file
/// list that cannot be read, but on an error in a later file the sink holds the earlier ones.
pub fn read_selected<P: AsRef<Path>>(
    paths: &[P],
    filter: &str,
    keys: &[String],
    sink: &mut impl PairSink,
) -> Result<(), FileBackendError> {
    let mut selected = Selected { keys, sink };
    for file in list_files(paths, filter)? {
        let text = read_text(&file)?;
        read_yaml(&text, &mut selected).map_err(|e| FileBackendError::yaml(&file, e))?;
    }
    Ok(())
}

/// A sink that passes on the pairs whose key starts with one of `keys` (confd's rule for this
/// backend, [`crate::filter_by_keys`]).
struct Selected<'a, S> {
    keys: &'a [String],
    sink: &'a mut S,
}

impl<S: PairSink> PairSink for Selected<'_, S> {
    fn begin_document(&mut self) {
        self.sink.begin_document();
    }

    fn pair(&mut self, key: &str, value: &str) {
        if crate::keys::starts_with_any(key, self.keys) {
            self.sink.pair(key, value);
        }
    }

    fn forget_document(&mut self) {
        self.sink.forget_document();
    }
}

/// Read and flatten one file.
pub fn read_file(path: &Path) -> Result<Vec<(String, String)>, FileBackendError> {
    flatten_yaml(&read_text(path)?).map_err(|e| FileBackendError::yaml(path, e))
}

/// A file's text, decoded as libyaml would ([`decode_yaml_bytes`]).
fn read_text(path: &Path) -> Result<String, FileBackendError> {
    let bytes = fs::read(path).map_err(|e| FileBackendError::io(path, e))?;
    decode_yaml_vec(bytes).map_err(|e| FileBackendError::yaml(path, e))
}

/// The files [`load`] reads, in the order it reads them.
pub fn list_files<P: AsRef<Path>>(
    paths: &[P],
    filter: &str,
) -> Result<Vec<PathBuf>, FileBackendError> {
    let pattern = parse_filter(filter)?;
    let mut files = Vec::new();
    for root in paths {
        let root = root.as_ref();
        let meta = fs::metadata(root).map_err(|e| FileBackendError::io(root, e))?;
        if meta.is_dir() {
            walk(root, &mut |path, name, lmeta| {
                if pattern.matches(&name.to_string_lossy())? {
                    let is_dir = if lmeta.file_type().is_symlink() {
                        fs::metadata(path).map_err(|e| FileBackendError::io(path, e))?.is_dir()
                    } else {
                        lmeta.is_dir()
                    };
                    if !is_dir {
                        files.push(path.to_path_buf());
                    }
                }
                Ok(())
            })?;
        } else {
            files.push(root.to_path_buf());
        }
    }
    Ok(files)
}

/// What a watcher must observe to see every change confd's file backend would react to: each
/// `-file` path that is a file, and each directory path together with all directories below it
/// (including symbolic links to directories, which confd also adds to its watcher). confd
/// re-renders on write, create and remove events in these.
///
/// `filter` is validated like [`load`] does but does not narrow the list: directories must be
/// watched whole so that new files are seen. Use [`matches_filter`] to ignore events for files
/// that [`load`] would not read. (Watching a single file by its path misses editors that
/// replace the file by renaming; a watcher may prefer to watch its parent directory and
/// compare names.)
pub fn watch_paths<P: AsRef<Path>>(
    paths: &[P],
    filter: &str,
) -> Result<Vec<PathBuf>, FileBackendError> {
    parse_filter(filter)?;
    let mut out = Vec::new();
    for root in paths {
        let root = root.as_ref();
        let meta = fs::metadata(root).map_err(|e| FileBackendError::io(root, e))?;
        out.push(root.to_path_buf());
        if !meta.is_dir() {
            continue;
        }
        walk(root, &mut |path, _, lmeta| {
            let is_dir = lmeta.is_dir()
                || (lmeta.file_type().is_symlink() && fs::metadata(path).is_ok_and(|m| m.is_dir()));
            if is_dir {
                out.push(path.to_path_buf());
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// Whether a file's base name passes `filter` (Go `filepath.Match`).
pub fn matches_filter(file_name: &str, filter: &str) -> Result<bool, FileBackendError> {
    parse_filter(filter)?.matches(file_name)
}

/// A `-filter` pattern known to be well-formed.
struct Filter<'a>(&'a str);

impl Filter<'_> {
    fn matches(&self, name: &str) -> Result<bool, FileBackendError> {
        path_match(self.0, name).map_err(|_| bad_filter(self.0))
    }
}

/// Go 1.19's `path.Match` reports a malformed pattern whatever the name, so matching the empty
/// name checks the whole pattern.
fn parse_filter(filter: &str) -> Result<Filter<'_>, FileBackendError> {
    path_match(filter, "").map_err(|_| bad_filter(filter))?;
    Ok(Filter(filter))
}

fn bad_filter(pattern: &str) -> FileBackendError {
    FileBackendError::BadFilter { pattern: pattern.to_string() }
}

/// Visit everything below directory `dir` in Go's `filepath.Walk` order (names sorted
/// byte-wise, a directory's contents right after it), calling `visit(path, name,
/// symlink_metadata)`. Real directories are entered; symbolic links are not followed.
fn walk(
    dir: &Path,
    visit: &mut dyn FnMut(&Path, &OsString, &fs::Metadata) -> Result<(), FileBackendError>,
) -> Result<(), FileBackendError> {
    // An unreadable directory is skipped, as confd does.
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    let Ok(mut names) =
        entries.map(|e| e.map(|e| e.file_name())).collect::<Result<Vec<OsString>, io::Error>>()
    else {
        return Ok(());
    };
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let lmeta = fs::symlink_metadata(&path).map_err(|e| FileBackendError::io(&path, e))?;
        visit(&path, &name, &lmeta)?;
        if lmeta.is_dir() {
            walk(&path, visit)?;
        }
    }
    Ok(())
}
