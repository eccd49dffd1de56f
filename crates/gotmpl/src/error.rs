//! The engine's error: its kind and Go's exact message text.

use std::fmt;

/// Which stage failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The template text does not parse (`template: NAME:LINE: …`).
    Parse,
    /// Execution failed (`template: NAME:LINE:COL: executing "NAME" at <…>: …`).
    Exec,
    /// A safety limit (template depth, nesting, output size, value size) was exceeded during
    /// execution.
    Limit,
    /// The caller's [`Interrupt`](crate::Interrupt) asked execution to stop (`template: …:
    /// execution interrupted: REASON`).
    Interrupted,
    /// The writer given to [`Template::execute_to`](crate::Template::execute_to) failed; the
    /// message is its error's.
    Write,
}

/// A parse or execution error. `Display` prints the message exactly as Go's `text/template`
/// words it, so operators can grep for the same texts they know from confd.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub(crate) fn parse(message: String) -> Error {
        Error { kind: ErrorKind::Parse, message }
    }

    pub(crate) fn exec(message: String) -> Error {
        Error { kind: ErrorKind::Exec, message }
    }

    pub(crate) fn limit(message: String) -> Error {
        Error { kind: ErrorKind::Limit, message }
    }

    pub(crate) fn interrupted(message: String) -> Error {
        Error { kind: ErrorKind::Interrupted, message }
    }

    pub(crate) fn write(e: &std::io::Error) -> Error {
        Error { kind: ErrorKind::Write, message: e.to_string() }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
