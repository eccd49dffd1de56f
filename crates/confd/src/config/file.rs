//! Step 2 of the configuration: `confd.toml` decoded over the flags, as BurntSushi/toml
//! decodes into confd's `Config` struct: each key names a field (exactly, else
//! case-insensitively), and a key present in the file overrides the flag.

use std::fmt;
use std::path::Path;

use confd_core::resource::{closest, equal_fold, line_of};
use toml::de::{DeTable, DeValue};

use super::{ConfigError, RawConfig, Warning};
use crate::cli::{self, FileKey, FlagDef, Kind, Slot};

/// Keys of confd's `Config` struct that no flag sets: accepted, with no effect.
const INERT_KEYS: &[(&str, &str)] = &[
    ("configdir", "confd always sets it to <confdir>/conf.d"),
    ("templatedir", "confd always sets it to <confdir>/templates"),
    ("role", "confd never uses it"),
];

enum Target {
    Flag(&'static FlagDef),
    Inert(&'static str, &'static str),
}

impl Target {
    fn id(&self) -> &'static str {
        match self {
            Target::Flag(f) => f.name,
            Target::Inert(k, _) => k,
        }
    }
}

fn all_key_names() -> impl Iterator<Item = &'static str> {
    cli::FLAGS.iter().map(|f| f.file_key.name()).chain(INERT_KEYS.iter().map(|(k, _)| *k))
}

/// BurntSushi's matching: exactly, else case-insensitively.
fn target_for(key: &str) -> Option<Target> {
    let matches = |exact: bool| {
        let same = |name: &str| if exact { name == key } else { equal_fold(name, key) };
        cli::FLAGS.iter().find(|f| same(f.file_key.name())).map(Target::Flag).or_else(|| {
            INERT_KEYS.iter().find(|(k, _)| same(k)).map(|(k, why)| Target::Inert(k, why))
        })
    };
    matches(true).or_else(|| matches(false))
}

/// A value from the file, converted to the flag's type.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FileValue {
    Bool(bool),
    Str(String),
    Int(i64),
    List(Vec<String>),
}

impl fmt::Display for FileValue {
    /// As TOML would write it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let q = gotmpl::gofmt::quote;
        match self {
            FileValue::Bool(b) => write!(f, "{b}"),
            FileValue::Str(s) => f.write_str(&q(s)),
            FileValue::Int(n) => write!(f, "{n}"),
            FileValue::List(items) => {
                let items: Vec<String> = items.iter().map(|s| q(s)).collect();
                write!(f, "[{}]", items.join(", "))
            }
        }
    }
}

/// Step 2: every key in the file overrides the flag's value. `from_cli` names the flags given
/// on the command line, to warn when the file overrides one of them.
pub fn apply_file(
    config: &mut RawConfig,
    path: &Path,
    text: &str,
    from_cli: &[&str],
) -> Result<Vec<Warning>, ConfigError> {
    let doc = DeTable::parse(text).map_err(|e| ConfigError::Syntax {
        path: path.to_path_buf(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim_end().to_string(),
    })?;
    let mut entries: Vec<_> = doc.get_ref().iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    let mut warnings = Vec::new();
    let mut seen: Vec<(&'static str, String, usize)> = Vec::new();
    for (key, value) in entries {
        let name = key.get_ref().as_ref();
        let line = line_of(text, key.span().start);
        let warn = |message: String| Warning {
            path: Some(path.to_path_buf()),
            line: Some(line),
            key: Some(name.to_string()),
            message,
        };
        let Some(target) = target_for(name) else {
            warnings.push(warn(unknown_key_message(name)));
            continue;
        };
        if let Some((_, first, first_line)) = seen.iter().find(|(id, ..)| *id == target.id()) {
            warnings.push(warn(format!(
                "{name:?} sets the same setting as {first:?} (line {first_line}); confd picks one \
                 at random, this uses {name:?}"
            )));
        }
        seen.push((target.id(), name.to_string(), line));
        let kind = match &target {
            Target::Flag(flag) => flag.kind,
            Target::Inert(..) => Kind::Str,
        };
        let parsed = convert(kind, value.get_ref()).map_err(|err| match err {
            Convert::Type { expected, found } => ConfigError::Type {
                path: path.to_path_buf(),
                line: line_of(text, value.span().start),
                key: name.to_string(),
                expected,
                found,
            },
            Convert::Range(value_text) => ConfigError::Range {
                path: path.to_path_buf(),
                line: line_of(text, value.span().start),
                key: name.to_string(),
                value: value_text,
            },
        })?;
        match target {
            Target::Inert(_, why) => {
                warnings.push(warn(format!("{name:?} has no effect: {why}")));
            }
            Target::Flag(flag) => {
                if let FileKey::NoEffect(_) = flag.file_key {
                    warnings.push(warn(format!(
                        "{name:?} has no effect: confd reads -{} before the config file",
                        flag.name
                    )));
                    continue;
                }
                let old = read_slot(flag, config);
                if old != parsed && from_cli.contains(&flag.name) {
                    warnings.push(warn(override_message(flag, &parsed, &old)));
                }
                write_slot(flag, config, parsed);
            }
        }
    }
    Ok(warnings)
}

fn unknown_key_message(name: &str) -> String {
    if equal_fold(name, "secret_keyring") {
        return format!(
            "{name:?} is ignored: confd master removed it with the crypt functions (cget, cgetv…)"
        );
    }
    let mut message = format!("unknown key {name:?} is ignored (confd ignores it too)");
    if let Some(key) = closest(name, all_key_names()) {
        message.push_str(&format!("; did you mean {key}?"));
    } else if let Some(flag) = cli::lookup(name) {
        message.push_str(&format!("; in this file -{} is {}", flag.name, flag.file_key.name()));
    }
    message
}

fn override_message(flag: &FlagDef, new: &FileValue, old: &FileValue) -> String {
    let key = flag.file_key.name();
    let shown = flag_text(flag, old);
    if flag.kind == Kind::List {
        format!(
            "{key} = {new} replaces {shown} from the command line (confd gives the file \
             precedence, and {key} replaces the -{} list rather than adding to it)",
            flag.name
        )
    } else {
        format!(
            "{key} = {new} overrides {shown} from the command line (confd gives the file precedence)"
        )
    }
}

/// How the flag's current value would be written on a command line.
fn flag_text(flag: &FlagDef, value: &FileValue) -> String {
    let arg = |s: &str| {
        if s.is_empty() || s.chars().any(char::is_whitespace) {
            gotmpl::gofmt::quote(s)
        } else {
            s.to_string()
        }
    };
    match value {
        FileValue::Bool(true) => format!("-{}", flag.name),
        FileValue::Bool(false) => format!("-{}=false", flag.name),
        FileValue::Str(s) => format!("-{} {}", flag.name, arg(s)),
        FileValue::Int(n) => format!("-{} {n}", flag.name),
        FileValue::List(items) => {
            items.iter().map(|s| format!("-{} {}", flag.name, arg(s))).collect::<Vec<_>>().join(" ")
        }
    }
}

enum Convert {
    Type { expected: &'static str, found: &'static str },
    Range(String),
}

fn convert(kind: Kind, value: &DeValue<'_>) -> Result<FileValue, Convert> {
    match (kind, value) {
        (Kind::Bool, DeValue::Boolean(b)) => Ok(FileValue::Bool(*b)),
        (Kind::Str, DeValue::String(s)) => Ok(FileValue::Str(s.to_string())),
        (Kind::Int, DeValue::Integer(n)) => i64::from_str_radix(n.as_str(), n.radix())
            .map(FileValue::Int)
            .map_err(|_| Convert::Range(n.to_string())),
        (Kind::List, DeValue::Array(items)) => items
            .iter()
            .map(|item| match item.get_ref() {
                DeValue::String(s) => Ok(s.to_string()),
                other => Err(Convert::Type {
                    expected: "an array of strings",
                    found: match other {
                        DeValue::Integer(_) => "an array holding an integer",
                        DeValue::Float(_) => "an array holding a float",
                        DeValue::Boolean(_) => "an array holding a boolean",
                        DeValue::Datetime(_) => "an array holding a datetime",
                        DeValue::Array(_) => "an array holding an array",
                        _ => "an array holding a table",
                    },
                }),
            })
            .collect::<Result<_, _>>()
            .map(FileValue::List),
        (kind, other) => Err(Convert::Type {
            expected: match kind {
                Kind::Bool => "a boolean",
                Kind::Str => "a string",
                Kind::Int => "an integer",
                Kind::List => "an array of strings",
            },
            found: other.type_str(),
        }),
    }
}

fn read_slot(flag: &FlagDef, config: &mut RawConfig) -> FileValue {
    match (flag.slot)(config) {
        Slot::Bool(b) => FileValue::Bool(*b),
        Slot::Str(s) => FileValue::Str(s.clone()),
        Slot::Int(n) => FileValue::Int(*n),
        Slot::List(l) => FileValue::List(l.clone()),
    }
}

fn write_slot(flag: &FlagDef, config: &mut RawConfig, value: FileValue) {
    match ((flag.slot)(config), value) {
        (Slot::Bool(b), FileValue::Bool(v)) => *b = v,
        (Slot::Str(s), FileValue::Str(v)) => *s = v,
        (Slot::Int(n), FileValue::Int(v)) => *n = v,
        (Slot::List(l), FileValue::List(v)) => *l = v,
        _ => unreachable!("convert() produced the flag's kind"),
    }
}
