//! A fast reader for the YAML most data files are: nested block mappings whose keys are plain
//! words, with a one-line scalar after each key. It gives exactly the pairs the full reader
//! (saphyr's events, the document tree, [`super::flatten`]) gives, in the same order, without
//! building a tree; for anything else it gives `None` and the full reader reads the document.
//!
//! What it takes, line by line (anything else, anywhere, hands the document over):
//! - blank lines, and comment lines (`#` after the indentation);
//! - `key:` or `key: value`, indented with spaces only, where the key is a word of ASCII
//!   letters, digits, `_`, `-` and `.` that starts with a letter, digit or `_` and that YAML 1.1
//!   reads as a string (not `yes`, `80`, `~`, ...), at most 1,000 bytes;
//! - the value: a plain scalar on one line (resolved with the same YAML 1.1 rules as the full
//!   reader), optionally followed by ` # comment`; a double-quoted scalar without `\` escapes;
//!   a single-quoted scalar without `''`; or nothing, when the value is the mapping of the
//!   more-indented lines that follow (or null, when none follow).
//!
//! It hands over, among others: tabs, CR, byte order marks, NEL/LS/PS (where YAML 1.1 and 1.2
//! differ), sequences, flow collections, anchors, aliases, tags, merge keys, block scalars,
//! multi-line scalars, `---`/`...`/`%` lines, keys with `/` (cleaned as paths), keys repeated
//! in one mapping (yaml.v2 keeps the last whole value), and every malformed document — errors
//! are always the full reader's.

use super::resolve::{resolve_scalar, resolves_as_itself};
use super::{child_path, first_char_where, PairSink, PairsInOrder, MAX_DEPTH};

/// Longest key taken (YAML limits an implicit key to 1024 characters).
const MAX_KEY_BYTES: usize = 1000;

/// The document's pairs in document order (each key once), or `None` when the full reader
/// must read it.
pub(super) fn flatten_simple(text: &str) -> Option<Vec<(String, String)>> {
    let mut pairs = PairsInOrder::default();
    read_simple(text, &mut pairs)?;
    Some(pairs.pairs)
}

/// Gives the document's pairs to `sink` in document order (each key once), or stops with
/// `None` when the full reader must read it (the sink may then hold some pairs already).
pub(super) fn read_simple(text: &str, sink: &mut impl PairSink) -> Option<()> {
    if has_awkward_bytes(text) {
        return None;
    }
    let mut reader =
        Reader { open: Vec::new(), awaiting: None, after_scalar: None, key: String::new() };
    for line in text.split('\n') {
        reader.line(line, sink)?;
    }
    reader.finish()
}

/// Characters after which the two YAML versions, or libyaml and saphyr, read lines
/// differently: tab, CR, NEL, LS, PS and the byte order mark.
fn has_awkward_bytes(text: &str) -> bool {
    first_char_where(text, |c| {
        matches!(c, '\t' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}')
    })
    .is_some()
}

/// A mapping whose lines are being read.
struct Mapping<'t> {
    indent: usize,
    /// Its key path (`/` for the document's).
    path: String,
    /// Its keys as written, to find a repeated one when it ends.
    keys: Vec<&'t str>,
}

struct Reader<'t> {
    open: Vec<Mapping<'t>>,
    /// A key written with nothing after its colon (its indentation and path): its value is the
    /// mapping of the more-indented lines that follow, or null.
    awaiting: Option<(usize, String)>,
    /// The indentation of the last key given a scalar: a more-indented line right after it
    /// would continue the scalar, or be an error.
    after_scalar: Option<usize>,
    /// The path of the key being read (one buffer for all of them).
    key: String,
}

impl<'t> Reader<'t> {
    fn line(&mut self, line: &'t str, sink: &mut impl PairSink) -> Option<()> {
        let body = line.trim_start_matches(' ');
        if body.is_empty() {
            return Some(());
        }
        let indent = line.len() - body.len();
        if self.after_scalar.take().is_some_and(|scalar| indent > scalar) {
            return None;
        }
        if body.starts_with('#') {
            return Some(());
        }
        self.enter(indent)?;
        let (key, rest) = split_key(body)?;
        let mapping = self.open.last_mut()?;
        mapping.keys.push(key);
        let value = rest.trim_start_matches(' ');
        if value.is_empty() || value.starts_with('#') {
            self.awaiting = Some((indent, child_path(&mapping.path, key)));
            return Some(());
        }
        // `child_path` without allocating: the key is a plain word (no `/`, not `.` or `..`).
        self.key.clear();
        self.key.push_str(&mapping.path);
        if mapping.path != "/" {
            self.key.push('/');
        }
        self.key.push_str(key);
        match scalar(value)? {
            Text::Borrowed(text) => sink.pair(&self.key, text),
            Text::Resolved(text) => sink.pair(&self.key, &text),
            Text::Null => {}
        }
        self.after_scalar = Some(indent);
        Some(())
    }

    /// Finds the mapping a key line at `indent` belongs to: a new one under the awaiting key,
    /// the document's, or an open one at that indentation (ending those deeper).
    fn enter(&mut self, indent: usize) -> Option<()> {
        if let Some((key_indent, path)) = self.awaiting.take() {
            if indent > key_indent {
                if self.open.len() >= MAX_DEPTH {
                    return None;
                }
                self.open.push(Mapping { indent, path, keys: Vec::new() });
                return Some(());
            }
        }
        if self.open.is_empty() {
            self.open.push(Mapping { indent, path: "/".to_string(), keys: Vec::new() });
            return Some(());
        }
        while self.open.last()?.indent > indent {
            let ended = self.open.pop()?;
            if self.open.is_empty() || !all_different(ended.keys) {
                return None;
            }
        }
        (self.open.last()?.indent == indent).then_some(())
    }

    fn finish(mut self) -> Option<()> {
        if self.open.is_empty() {
            return None;
        }
        while let Some(ended) = self.open.pop() {
            if !all_different(ended.keys) {
                return None;
            }
        }
        Some(())
    }
}

/// Whether no key of an ended mapping is repeated (most are written in order: one pass).
fn all_different(mut keys: Vec<&str>) -> bool {
    if keys.windows(2).all(|w| w[0] < w[1]) {
        return true;
    }
    keys.sort_unstable();
    keys.windows(2).all(|w| w[0] != w[1])
}

/// `key:` and what follows the colon, for a key this reader takes.
fn split_key(body: &str) -> Option<(&str, &str)> {
    let bytes = body.as_bytes();
    if !bytes.first()?.is_ascii_alphanumeric() && bytes[0] != b'_' {
        return None;
    }
    let end = bytes
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
        .unwrap_or(bytes.len());
    if end > MAX_KEY_BYTES || bytes.get(end) != Some(&b':') {
        return None;
    }
    let (key, rest) = (&body[..end], &body[end + 1..]);
    if !(rest.is_empty() || rest.starts_with(' ')) || !resolves_as_itself(key) {
        return None;
    }
    Some((key, rest))
}

/// A scalar's value as the key store gets it.
enum Text<'t> {
    /// The text as written (strings, and quoted scalars).
    Borrowed(&'t str),
    /// What YAML 1.1 made of it (`0x1F` → `31`, `yes` → `true`).
    Resolved(String),
    /// Null: no key.
    Null,
}

/// A one-line scalar value (starting after the spaces that follow the colon), or `None` when
/// the full reader must read it.
fn scalar(value: &str) -> Option<Text<'_>> {
    match value.as_bytes()[0] {
        b'"' => quoted(value, '"').filter(|text| !text.contains('\\')).map(Text::Borrowed),
        b'\'' => quoted(value, '\'').map(Text::Borrowed),
        // `-1` is a plain scalar, `- 1` a sequence.
        b'-' if value.len() > 1 && value.as_bytes()[1] != b' ' => plain(value),
        b'-' | b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!'
        | b'|' | b'>' | b'%' | b'@' | b'`' => None,
        _ => plain(value),
    }
}

/// The text between `quote` and the next one, when only spaces and a comment follow it.
fn quoted(value: &str, quote: char) -> Option<&str> {
    let inner = &value[1..];
    let end = inner.find(quote)?;
    let after = &inner[end + 1..];
    let tail = after.trim_start_matches(' ');
    let ends_well = tail.is_empty() || (tail.starts_with('#') && after.starts_with(' '));
    // `''` inside single quotes is an escaped quote.
    (ends_well && !after.starts_with(quote)).then(|| &inner[..end])
}

/// A plain scalar: up to a ` #` comment, without trailing spaces, resolved as YAML 1.1.
fn plain(value: &str) -> Option<Text<'_>> {
    let value = value.find(" #").map_or(value, |at| &value[..at]).trim_end_matches(' ');
    if value.contains(": ") || value.ends_with(':') {
        return None;
    }
    if resolves_as_itself(value) {
        return Some(Text::Borrowed(value));
    }
    Some(match resolve_scalar(value, true, None).ok()?.to_value_string() {
        Some(text) => Text::Resolved(text),
        None => Text::Null,
    })
}
