//! Decoding one `[template]` table the way BurntSushi/toml decodes into confd's
//! `TemplateResource`, then confd's `NewTemplateResource` rules.

use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::{
    closest, equal_fold, line_of, parse_duration, parse_mode, parse_percent, parse_timeout,
    PushTarget, ResourceContext, ResourceError, TemplateResource, WaitSpec, Warning,
    DEFAULT_CHECK_CMD_TIMEOUT, DEFAULT_PUSH_TIMEOUT, DEFAULT_RELOAD_CMD_TIMEOUT,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    CheckCmd,
    CheckCmdTimeout,
    Dest,
    FileMode,
    Gid,
    HoldTime,
    Keys,
    MaxRemoval,
    MinReloadInterval,
    Mode,
    Prefix,
    Push,
    PushTimeout,
    ReloadCmd,
    ReloadCmdTimeout,
    RenderTimeout,
    Src,
    Uid,
    Wait,
}

/// The names BurntSushi/toml matches: the tag for `check_cmd`/`reload_cmd`, the Go field name
/// for the rest (compared with case folding, so the spelling here does not matter), and the
/// names of our own fields. `FileMode` is a real field of confd's struct that `mode` always
/// overwrites, so setting it has no effect.
const FIELDS: &[(&str, Field)] = &[
    ("check_cmd", Field::CheckCmd),
    ("check_cmd_timeout", Field::CheckCmdTimeout),
    ("dest", Field::Dest),
    ("filemode", Field::FileMode),
    ("gid", Field::Gid),
    ("hold_time", Field::HoldTime),
    ("keys", Field::Keys),
    ("max_removal", Field::MaxRemoval),
    ("min_reload_interval", Field::MinReloadInterval),
    ("mode", Field::Mode),
    ("prefix", Field::Prefix),
    ("push", Field::Push),
    ("push_timeout", Field::PushTimeout),
    ("reload_cmd", Field::ReloadCmd),
    ("reload_cmd_timeout", Field::ReloadCmdTimeout),
    ("render_timeout", Field::RenderTimeout),
    ("src", Field::Src),
    ("uid", Field::Uid),
    ("wait", Field::Wait),
];

/// Keys worth suggesting for a typo.
fn known_keys() -> impl Iterator<Item = &'static str> {
    FIELDS.iter().filter(|(_, f)| *f != Field::FileMode).map(|(name, _)| *name)
}

fn field_for(key: &str) -> Option<Field> {
    FIELDS
        .iter()
        .find(|(name, _)| *name == key)
        .or_else(|| FIELDS.iter().find(|(name, _)| equal_fold(name, key)))
        .map(|(_, f)| *f)
}

type Entry<'a, 'i> = (&'a Spanned<std::borrow::Cow<'i, str>>, &'a Spanned<DeValue<'i>>);

/// A table's entries in document order (the parsed map is sorted by key).
fn in_document_order<'a, 'i>(table: &'a DeTable<'i>) -> Vec<Entry<'a, 'i>> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

/// Parses one template resource file. `path` is used for messages and kept in the result.
pub fn parse_resource(
    path: &Path,
    text: &str,
    ctx: &ResourceContext,
) -> Result<(TemplateResource, Vec<Warning>), ResourceError> {
    let doc = DeTable::parse(text).map_err(|e| ResourceError::Syntax {
        path: path.to_path_buf(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim_end().to_string(),
    })?;
    let mut p = Parser { path, text, warnings: Vec::new(), fields: Vec::new() };
    let table = p.template_table(doc.get_ref())?;
    let no_template_table = table.is_none();
    if let Some(table) = table {
        p.collect_fields(table);
    }
    let resource = p.build(ctx, no_template_table)?;
    Ok((resource, p.warnings))
}

struct Parser<'a, 'i> {
    path: &'a Path,
    text: &'a str,
    warnings: Vec<Warning>,
    /// The last occurrence of each field, in document order.
    fields: Vec<(Field, Entry<'a, 'i>)>,
}

impl<'a, 'i> Parser<'a, 'i> {
    fn line(&self, span: std::ops::Range<usize>) -> usize {
        line_of(self.text, span.start)
    }

    fn warn(&mut self, key: &Spanned<std::borrow::Cow<'_, str>>, message: String) {
        self.warnings.push(Warning {
            path: self.path.to_path_buf(),
            line: Some(self.line(key.span())),
            key: Some(key.get_ref().to_string()),
            message,
        });
    }

    /// Finds `[template]` (case-folded, as BurntSushi does) and warns about everything else at
    /// the top level.
    fn template_table(
        &mut self,
        doc: &'a DeTable<'i>,
    ) -> Result<Option<&'a DeTable<'i>>, ResourceError> {
        let mut found = None;
        for (key, value) in in_document_order(doc) {
            let name = key.get_ref().as_ref();
            if equal_fold(name, "template") {
                if found.is_some() {
                    self.warn(key, format!("a second {name:?} table; confd picks one at random, this uses the last"));
                }
                found = Some((key, value));
                continue;
            }
            let message = match field_for(name) {
                Some(_) => format!(
                    "key {name:?} is outside [template] and is ignored (confd ignores it too); \
                     move it under [template]"
                ),
                None => format!(
                    "unknown key {name:?} outside [template] is ignored (confd ignores it too){}",
                    suggestion(name, ["template"])
                ),
            };
            self.warn(key, message);
        }
        let Some((key, value)) = found else {
            return Ok(None);
        };
        match value.get_ref() {
            DeValue::Table(t) => Ok(Some(t)),
            other => Err(ResourceError::Type {
                path: self.path.to_path_buf(),
                line: self.line(value.span()),
                key: key.get_ref().to_string(),
                expected: "a table",
                found: other.type_str(),
            }),
        }
    }

    fn collect_fields(&mut self, table: &'a DeTable<'i>) {
        for entry @ (key, _) in in_document_order(table) {
            let name = key.get_ref().as_ref();
            let Some(field) = field_for(name) else {
                let message = format!(
                    "unknown key {name:?} in [template] is ignored (confd ignores it too){}",
                    suggestion(name, known_keys())
                );
                self.warn(key, message);
                continue;
            };
            if field == Field::FileMode {
                self.warn(key, format!("{name:?} has no effect: confd overwrites it from mode"));
                continue;
            }
            if let Some(i) = self.fields.iter().position(|(f, _)| *f == field) {
                let (_, (old_key, _)) = self.fields.remove(i);
                let message = format!(
                    "{name:?} sets the same field as {:?} (line {}); confd picks one at random, \
                     this uses {name:?}",
                    old_key.get_ref(),
                    self.line(old_key.span())
                );
                self.warn(key, message);
            }
            self.fields.push((field, entry));
        }
    }

    fn get(&self, field: Field) -> Option<Entry<'a, 'i>> {
        self.fields.iter().find(|(f, _)| *f == field).map(|(_, e)| *e)
    }

    fn type_error(&self, (key, value): Entry<'_, '_>, expected: &'static str) -> ResourceError {
        ResourceError::Type {
            path: self.path.to_path_buf(),
            line: self.line(value.span()),
            key: key.get_ref().to_string(),
            expected,
            found: value.get_ref().type_str(),
        }
    }

    fn invalid(&self, (key, value): Entry<'_, '_>, message: String) -> ResourceError {
        ResourceError::Invalid {
            path: self.path.to_path_buf(),
            line: self.line(value.span()),
            key: key.get_ref().to_string(),
            message,
        }
    }

    /// A string field; `expected` describes it in the type error.
    fn string(
        &self,
        field: Field,
        expected: &'static str,
    ) -> Result<Option<String>, ResourceError> {
        let Some(entry) = self.get(field) else {
            return Ok(None);
        };
        match entry.1.get_ref() {
            DeValue::String(s) => Ok(Some(s.to_string())),
            _ => Err(self.type_error(entry, expected)),
        }
    }

    /// A non-empty string field, as confd treats `""` like an absent value.
    fn non_empty(&self, field: Field) -> Result<Option<String>, ResourceError> {
        Ok(self.string(field, "a string")?.filter(|s| !s.is_empty()))
    }

    fn keys(&self) -> Result<Vec<String>, ResourceError> {
        let Some(entry) = self.get(Field::Keys) else {
            return Ok(Vec::new());
        };
        let DeValue::Array(items) = entry.1.get_ref() else {
            return Err(self.type_error(entry, "an array of strings"));
        };
        items
            .iter()
            .map(|item| match item.get_ref() {
                DeValue::String(s) => Ok(s.to_string()),
                _ => Err(self.type_error((entry.0, item), "a string (in keys)")),
            })
            .collect()
    }

    /// `uid`/`gid`: a TOML integer; `-1` is confd's "unset".
    fn owner(&self, field: Field) -> Result<Option<u32>, ResourceError> {
        let Some(entry) = self.get(field) else {
            return Ok(None);
        };
        let DeValue::Integer(int) = entry.1.get_ref() else {
            return Err(self.type_error(entry, "an integer"));
        };
        let value = i64::from_str_radix(int.as_str(), int.radix())
            .map_err(|_| self.invalid(entry, format!("{int} is out of range")))?;
        if value == -1 {
            return Ok(None);
        }
        u32::try_from(value).map(Some).map_err(|_| {
            let name = entry.0.get_ref();
            self.invalid(
                entry,
                format!(
                    "{value} is out of range: want 0 to {}, or -1 for confd's own {name}",
                    u32::MAX
                ),
            )
        })
    }

    fn mode(&mut self) -> Result<Option<u32>, ResourceError> {
        let Some(text) = self.string(Field::Mode, "a string such as mode = \"0644\"")? else {
            return Ok(None);
        };
        if text.is_empty() {
            return Ok(None);
        }
        let entry = self.get(Field::Mode).expect("mode was just read");
        let parsed = parse_mode(&text).map_err(|e| self.invalid(entry, e.to_string()))?;
        for message in parsed.warnings {
            self.warn(entry.0, message);
        }
        Ok(Some(parsed.perm))
    }

    fn timeout(&self, field: Field, default: Duration) -> Result<Duration, ResourceError> {
        match self.string(field, "a duration string such as \"30s\"")? {
            None => Ok(default),
            Some(text) => {
                let entry = self.get(field).expect("field was just read");
                parse_timeout(&text).map_err(|e| self.invalid(entry, e))
            }
        }
    }

    /// An optional field of ours parsed by `parse`.
    fn optional<T>(
        &self,
        field: Field,
        expected: &'static str,
        parse: fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ResourceError> {
        match self.string(field, expected)? {
            None => Ok(None),
            Some(text) => {
                let entry = self.get(field).expect("field was just read");
                parse(&text).map(Some).map_err(|e| self.invalid(entry, e))
            }
        }
    }

    fn wait(&self) -> Result<Option<WaitSpec>, ResourceError> {
        match self.string(Field::Wait, "a string such as \"500ms:5s\"")? {
            None => Ok(None),
            Some(text) => {
                let entry = self.get(Field::Wait).expect("wait was just read");
                WaitSpec::parse(&text).map(Some).map_err(|e| self.invalid(entry, e))
            }
        }
    }

    fn build(
        &mut self,
        ctx: &ResourceContext,
        no_template_table: bool,
    ) -> Result<TemplateResource, ResourceError> {
        // Type errors first, in the order of the fields (BurntSushi fails while decoding, before
        // confd looks at src).
        let check_cmd = self.non_empty(Field::CheckCmd)?;
        let dest = self.string(Field::Dest, "a string")?.unwrap_or_default();
        let gid = self.owner(Field::Gid)?;
        let keys = self.keys()?;
        let mode = self.mode()?;
        let own_prefix = self.string(Field::Prefix, "a string")?.unwrap_or_default();
        let reload_cmd = self.non_empty(Field::ReloadCmd)?;
        let src = self.string(Field::Src, "a string")?.unwrap_or_default();
        let uid = self.owner(Field::Uid)?;
        let check_cmd_timeout = self.timeout(Field::CheckCmdTimeout, DEFAULT_CHECK_CMD_TIMEOUT)?;
        let reload_cmd_timeout =
            self.timeout(Field::ReloadCmdTimeout, DEFAULT_RELOAD_CMD_TIMEOUT)?;
        let render_timeout = match self.get(Field::RenderTimeout) {
            Some(_) => Some(self.timeout(Field::RenderTimeout, Duration::ZERO)?),
            None => None,
        };
        let wait = self.wait()?;
        const DURATION: &str = "a duration string such as \"2s\"";
        let min_reload_interval =
            self.optional(Field::MinReloadInterval, DURATION, parse_duration)?;
        let max_removal =
            self.optional(Field::MaxRemoval, "a percentage such as \"50%\"", parse_percent)?;
        let hold_time = self.optional(Field::HoldTime, DURATION, parse_duration)?;
        let push = self.optional(Field::Push, "a string such as \"unix:/path/to.sock\"", |t| {
            PushTarget::parse(t).map_err(|e| e.to_string())
        })?;
        let push_timeout = match push {
            Some(_) => self.timeout(Field::PushTimeout, DEFAULT_PUSH_TIMEOUT)?,
            None => DEFAULT_PUSH_TIMEOUT,
        };
        if let (Some(_), Some(_), Some(entry)) = (&push, &reload_cmd, self.get(Field::ReloadCmd)) {
            let message = "a resource either pushes its membership (push) or reloads a server \
                           (reload_cmd), not both: use two resources"
                .to_string();
            return Err(self.invalid(entry, message));
        }

        if src.is_empty() {
            return Err(ResourceError::EmptySrc {
                path: self.path.to_path_buf(),
                line: self.get(Field::Src).map(|(k, _)| self.line(k.span())),
                no_template_table,
            });
        }
        if dest.is_empty() {
            self.warnings.push(Warning {
                path: self.path.to_path_buf(),
                line: None,
                key: Some("dest".into()),
                message: "no dest: this resource will fail every time it is processed, as in confd"
                    .into(),
            });
        }
        let prefix = self.effective_prefix(own_prefix, &ctx.prefix);
        let template_dir = ctx.template_dir.to_string_lossy();
        Ok(TemplateResource {
            path: self.path.to_path_buf(),
            src: PathBuf::from(confd_kv::gopath::join(&[&template_dir, &src])),
            dest: PathBuf::from(dest),
            keys,
            prefix,
            mode,
            uid,
            gid,
            check_cmd,
            reload_cmd,
            check_cmd_timeout,
            reload_cmd_timeout,
            render_timeout,
            wait,
            min_reload_interval,
            max_removal,
            hold_time,
            push,
            push_timeout,
        })
    }

    /// confd: a non-empty global prefix replaces the resource's; then `/` is prepended.
    fn effective_prefix(&mut self, own: String, global: &str) -> String {
        let slash = |p: &str| {
            if p.starts_with('/') {
                p.to_string()
            } else {
                format!("/{p}")
            }
        };
        if global.is_empty() {
            return slash(&own);
        }
        let effective = slash(global);
        if !own.is_empty() && slash(&own) != effective {
            let entry = self.get(Field::Prefix).expect("own prefix was read");
            let message = format!(
                "prefix {own:?} is replaced by the global prefix {global:?} (-prefix or prefix in \
                 confd.toml), as confd does; keys are read under {effective:?}"
            );
            self.warn(entry.0, message);
        }
        effective
    }
}

/// `"; did you mean X?"` when a candidate is close, else nothing.
fn suggestion<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates).map(|c| format!("; did you mean {c}?")).unwrap_or_default()
}
