//! YAML → flat `/a/b/c` keys, as confd's file backend does it (pure: no I/O). The rules and
//! the deliberate differences from confd are documented on [`flatten_yaml`]; the YAML 1.1
//! scalar rules in detail in `resolve.rs`.

mod resolve;
mod simple;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Span};

use confd_kv::gopath;
use resolve::{format_float, resolve_scalar, Scalar, CORE_PREFIX};

/// Deepest nesting of collections accepted (yaml.v2's limit is also 10000).
pub const MAX_DEPTH: usize = 10_000;

/// Alias expansion guard: a collection that expands (through aliases and merges) to more than
/// this many nodes *and* to more than [`ALIAS_RATIO`] times the nodes written so far is
/// rejected, like yaml.v2's "document contains excessive aliasing". Documents without
/// aliases never trip it.
const ALIAS_MIN_BUDGET: u64 = 1_000_000;
const ALIAS_RATIO: u64 = 10;

/// A YAML error at a place in the text (1-based line and column, in characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct YamlError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl YamlError {
    fn at(mark: Marker, message: impl Into<String>) -> YamlError {
        YamlError { line: mark.line(), column: mark.col() + 1, message: message.into() }
    }

    fn from_scan(e: &ScanError) -> YamlError {
        YamlError::at(*e.marker(), e.info())
    }
}

/// Parse one YAML file's text and flatten it into `(key, value)` pairs as confd does.
///
/// Keys are absolute (`/database/host`); pairs come in document order with no repeated key
/// (when several entries flatten to the same key, the later one's value is kept).
///
/// confd reads each file with Go's `gopkg.in/yaml.v2` (v2.4.0) into a
/// `map[interface{}]interface{}` and walks it (`nodeWalk`); this does the same:
///
/// - mapping keys are appended with Go's `path.Join`, so `a/b:`, `/x:`, `c//d/:` and even
///   `..:` are cleaned like paths; sequence items get `/0`, `/1`, …;
/// - strings are kept as is, integers printed in decimal, booleans as `true`/`false`, floats
///   with Go's `FormatFloat(v, 'f', -1, 64)` (`1.50` → `1.5`, `1e3` → `1000`, `.inf` → `+Inf`);
///   nulls produce no key;
/// - plain scalars are resolved with yaml.v2's YAML 1.1 rules: `y yes on true` (also `Y Yes
///   YES On ON True TRUE`) are `true`, `n no off false` (same case variants) are `false`,
///   `~ null Null NULL` and nothing are null, `0777` is 511, `0x1F` 31, `0o17` 15, `0b101` 5,
///   `1_000` 1000, `08` the float 8, `.inf`/`-.inf`/`.nan` floats, timestamps (`2001-12-14`)
///   stay text, `1e400` (overflow) stays text; quoted and block scalars are always strings;
///   `!!str`, `!!int`, … tags are honoured (`!!int abc` is an error), `!!binary` is decoded;
/// - anchors, aliases and `<<` merge keys work as in yaml.v2 (a merge overrides keys written
///   before it and is overridden by keys written after it; earlier maps of a merge list win);
/// - only the first document of a file is read; the top level must be a mapping (or empty);
/// - limits: [`MAX_DEPTH`] nested block collections, 255 nested flow collections (`[[[…]]]`,
///   the parser's limit; yaml.v2 allows 10000), and alias expansion is bounded (yaml.v2's
///   "document contains excessive aliasing").
///
/// Syntax comes from `saphyr-parser` (a YAML 1.2 event parser); the YAML 1.1 resolution,
/// anchors, merges and flattening are ours. Documents that are only block mappings of plain
/// word keys with one-line values (most data files) are read by a line reader of ours
/// (`simple.rs`) that builds no document tree and gives the same pairs; tests and the
/// `yaml_flatten` fuzz target check the two readers against each other. Every error carries a 1-based line and column;
/// syntax error texts are saphyr's, not libyaml's.
///
/// Deliberate differences from confd (which would panic, drop silently, or be random):
/// - Non-string mapping keys (`80:`, `yes:`, `1.5:`) make confd panic; here they become path
///   segments in their resolved form: integers in decimal (`0x1F:` → `31`, `0777:` → `511`),
///   booleans `true`/`false` (`on:` → `true`), floats as `FormatFloat`. A null key (`~:`) or
///   a collection key is an error.
/// - Integers above `i64::MAX` (Go `uint64`) are silently dropped by confd; here they are
///   printed in decimal.
/// - When two mapping entries of one file flatten to the same key (`a/b: 1` next to
///   `a: {b: 2}`), confd's result depends on Go's random map order; here the entry written
///   later in the document wins (a repeated key replaces the earlier one at its new place).
/// - Where YAML 1.2 syntax differs from libyaml's 1.1, we follow 1.2: `%YAML 1.2` and the
///   `\/` escape are accepted, and NEL (U+0085) and LS (U+2028) in a plain scalar are
///   ordinary characters where libyaml breaks the line.
pub fn flatten_yaml(text: &str) -> Result<Vec<(String, String)>, YamlError> {
    flatten_document(text).map(last_wins)
}

/// [`flatten_yaml`] into a map: every key of the document inserted over what `into` holds
/// (so the document's own later pairs win too). What the file backend's `load` uses: no
/// ordered list of unique pairs is built only to be inserted.
pub fn flatten_yaml_into(
    text: &str,
    into: &mut std::collections::BTreeMap<String, String>,
) -> Result<(), YamlError> {
    let pairs = flatten_document(text)?;
    if !into.is_empty() {
        into.extend(pairs);
        return Ok(());
    }
    // The first file: sorted once (documents are often sorted already, which costs one pass)
    // and built in bulk, rather than 400,000 inserts searching the tree.
    let mut pairs = pairs;
    if !pairs.is_sorted_by(|a, b| a.0 < b.0) {
        pairs.sort_by(|a, b| a.0.cmp(&b.0)); // stable: equal keys stay in document order
                                             // Of equal keys the later pair wins: `dedup_by` keeps the first of a run, so each
                                             // later duplicate hands its value to the kept one before it is removed.
        pairs.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                std::mem::swap(&mut later.1, &mut kept.1);
            }
            same
        });
    }
    *into = pairs.into_iter().collect();
    Ok(())
}

/// Every (key, value) pair of the document in document order, a key possibly more than once.
fn flatten_document(text: &str) -> Result<Vec<(String, String)>, YamlError> {
    let mut pairs = PairsInOrder::default();
    read_yaml(text, &mut pairs)?;
    Ok(pairs.pairs)
}

/// Where [`read_yaml`] gives a document's pairs, as borrowed text, so that the receiver
/// allocates only what it keeps.
pub trait PairSink {
    /// A document begins.
    fn begin_document(&mut self);
    /// One pair, in document order; a key may come again, and then the later pair wins.
    fn pair(&mut self, key: &str, value: &str);
    /// Forget every pair given since the document began: it will be given again.
    fn forget_document(&mut self);
}

/// A sink that keeps the pairs in the order given.
#[derive(Default)]
pub(crate) struct PairsInOrder {
    pub(crate) pairs: Vec<(String, String)>,
    start: usize,
}

impl PairSink for PairsInOrder {
    fn begin_document(&mut self) {
        self.start = self.pairs.len();
    }

    fn pair(&mut self, key: &str, value: &str) {
        self.pairs.push((key.to_string(), value.to_string()));
    }

    fn forget_document(&mut self) {
        self.pairs.truncate(self.start);
    }
}

/// Reads one YAML file's text into `sink`: the pairs [`flatten_yaml`] gives, in document
/// order, a key possibly more than once (the later wins). On an error the sink may hold part
/// of the document.
///
/// Most data files are read by [`simple`] as they are scanned, without a document tree; the
/// rest, and every malformed one, by saphyr's events and the tree.
pub fn read_yaml(text: &str, sink: &mut impl PairSink) -> Result<(), YamlError> {
    check_characters(text)?;
    sink.begin_document();
    if simple::read_simple(text, sink).is_some() {
        return Ok(());
    }
    sink.forget_document();
    for (key, value) in flatten_tree(text)? {
        sink.pair(&key, &value);
    }
    Ok(())
}

/// [`flatten_document`] through the document tree, for a text whose characters are allowed.
fn flatten_tree(text: &str) -> Result<Vec<(String, String)>, YamlError> {
    match build(text)? {
        None => Ok(Vec::new()),
        Some((Value::Scalar(Scalar::Null), _)) => Ok(Vec::new()),
        Some((Value::Map(map), _)) => Ok(flatten(&map)),
        Some((other, mark)) => Err(YamlError::at(
            mark,
            format!("the top level must be a mapping of keys, found {}", other.describe()),
        )),
    }
}

/// For the fuzz target: what the simple reader gives for `text` when it takes it, and what
/// the document tree gives. Whenever the first is `Some`, the two must be equal.
#[doc(hidden)]
#[allow(clippy::type_complexity)]
pub fn flatten_yaml_both_ways(
    text: &str,
) -> (Option<Vec<(String, String)>>, Result<Vec<(String, String)>, YamlError>) {
    if let Err(e) = check_characters(text) {
        return (None, Err(e));
    }
    (simple::flatten_simple(text), flatten_tree(text))
}

/// Later pairs win; each key is kept once, in the order of its winning pair.
fn last_wins(pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut keep = vec![false; pairs.len()];
    let mut seen = HashSet::with_capacity(pairs.len());
    for (i, (key, _)) in pairs.iter().enumerate().rev() {
        keep[i] = seen.insert(key.as_str());
    }
    drop(seen);
    pairs.into_iter().zip(keep).filter_map(|(pair, keep)| keep.then_some(pair)).collect()
}

/// Turn a file's bytes into text as libyaml would: UTF-8 (with or without BOM), or UTF-16 LE/BE
/// when the file starts with the matching BOM. Invalid encoding is an error with its position.
pub fn decode_yaml_bytes(bytes: &[u8]) -> Result<String, YamlError> {
    let utf16 = match bytes {
        [0xFF, 0xFE, rest @ ..] => Some((rest, false)),
        [0xFE, 0xFF, rest @ ..] => Some((rest, true)),
        _ => None,
    };
    if let Some((rest, big_endian)) = utf16 {
        let units: Vec<u16> = rest
            .chunks(2)
            .map(|c| match (c, big_endian) {
                ([a, b], false) => u16::from_le_bytes([*a, *b]),
                ([a, b], true) => u16::from_be_bytes([*a, *b]),
                // An odd trailing byte: not valid UTF-16.
                _ => 0xDC00,
            })
            .collect();
        let mut text = String::with_capacity(units.len());
        for r in char::decode_utf16(units) {
            match r {
                Ok(c) => text.push(c),
                Err(_) => {
                    let (line, column) = line_col(&text, text.len());
                    return Err(YamlError {
                        line,
                        column,
                        message: "invalid UTF-16 text".to_string(),
                    });
                }
            }
        }
        return Ok(text);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => {
            let good = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let (line, column) = line_col(good, good.len());
            Err(YamlError { line, column, message: "invalid UTF-8 text".to_string() })
        }
    }
}

/// [`decode_yaml_bytes`] for bytes the caller owns: UTF-8 text (the usual case) becomes the
/// string without a copy. (The UTF-16 byte order marks are never valid UTF-8.)
pub fn decode_yaml_vec(bytes: Vec<u8>) -> Result<String, YamlError> {
    String::from_utf8(bytes).or_else(|e| decode_yaml_bytes(e.as_bytes()))
}

/// 1-based line and column (in characters) of byte offset `at` of `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// libyaml accepts only printable characters: tab, line breaks, and everything from U+0020 up
/// except DEL, the C1 controls (but NEL), U+FFFE/U+FFFF. yaml.v2 rejects the rest.
fn check_characters(text: &str) -> Result<(), YamlError> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{A0}'..='\u{D7FF}')
            || matches!(c, '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
    };
    match first_char_where(text, |c| !allowed(c)) {
        None => Ok(()),
        Some((at, c)) => {
            let (line, column) = line_col(text, at);
            Err(YamlError {
                line,
                column,
                message: format!(
                    "control characters are not allowed (found U+{:04X})",
                    u32::from(c)
                ),
            })
        }
    }
}

/// The first character for which `wanted` holds, with its byte offset, where `wanted` never
/// holds for printable ASCII and `\n`: runs of 32 such bytes are passed over a run at a time
/// (a loop the compiler vectorises), and only other bytes are decoded.
pub(crate) fn first_char_where(text: &str, wanted: impl Fn(char) -> bool) -> Option<(usize, char)> {
    const RUN: usize = 32;
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        if let Some(run) = bytes.get(at..at + RUN) {
            if run.iter().fold(true, |plain, &b| plain & (matches!(b, 0x20..=0x7E) | (b == b'\n')))
            {
                at += RUN;
                continue;
            }
        }
        // `at` is on a character boundary: runs hold only one-byte characters.
        let c = text[at..].chars().next()?;
        if wanted(c) {
            return Some((at, c));
        }
        at += c.len_utf8();
    }
    None
}

// ---------------------------------------------------------------------------------------------
// The document as yaml.v2 decodes it into interface{}.

#[derive(Debug, Clone)]
enum Value {
    Scalar(Scalar),
    Seq(Rc<SeqNode>),
    Map(Rc<MapNode>),
}

#[derive(Debug)]
struct SeqNode {
    items: Vec<Value>,
    /// Nodes after expanding aliases and merges (itself included), saturating.
    size: u64,
}

#[derive(Debug)]
struct MapNode {
    items: Vec<(Key, Value)>,
    /// Nodes after expanding aliases and merges (itself included), saturating.
    size: u64,
}

// Deeply nested documents would overflow the stack if dropped recursively: take the tree
// apart with an explicit stack instead.
impl Drop for SeqNode {
    fn drop(&mut self) {
        dismantle(std::mem::take(&mut self.items));
    }
}

impl Drop for MapNode {
    fn drop(&mut self) {
        dismantle(std::mem::take(&mut self.items).into_iter().map(|(_, v)| v).collect());
    }
}

fn dismantle(mut stack: Vec<Value>) {
    while let Some(value) = stack.pop() {
        match value {
            Value::Scalar(_) => {}
            Value::Seq(rc) => {
                if let Ok(mut node) = Rc::try_unwrap(rc) {
                    stack.append(&mut node.items);
                }
            }
            Value::Map(rc) => {
                if let Ok(mut node) = Rc::try_unwrap(rc) {
                    stack.extend(node.items.drain(..).map(|(_, v)| v));
                }
            }
        }
    }
}

impl Value {
    fn size(&self) -> u64 {
        match self {
            Value::Scalar(_) => 1,
            Value::Seq(c) => c.size,
            Value::Map(c) => c.size,
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Value::Scalar(Scalar::Null) => "null",
            Value::Scalar(Scalar::Bool(_)) => "a boolean",
            Value::Scalar(Scalar::Int(_) | Scalar::Uint(_)) => "an integer",
            Value::Scalar(Scalar::Float(_)) => "a float",
            Value::Scalar(Scalar::Str(_)) => "a string",
            Value::Seq(_) => "a sequence",
            Value::Map(_) => "a mapping",
        }
    }
}

/// A mapping key: any non-null scalar (see the module docs for how it becomes a segment).
#[derive(Debug, Clone)]
enum Key {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
}

impl Key {
    fn segment(&self) -> Cow<'_, str> {
        match self {
            Key::Bool(b) => Cow::Owned(b.to_string()),
            Key::Int(i) => Cow::Owned(i.to_string()),
            Key::Uint(u) => Cow::Owned(u.to_string()),
            Key::Float(f) => Cow::Owned(format_float(*f)),
            Key::Str(s) => Cow::Borrowed(s),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Events → Value.

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        start: Marker,
    },
    Map {
        /// In document order, a repeated key possibly more than once ([`last_wins_entries`]
        /// settles it when the mapping ends).
        entries: Vec<(Key, Value)>,
        pending: Option<PendingKey>,
        anchor: usize,
        start: Marker,
    },
}

enum PendingKey {
    Key(Key),
    Merge,
}

/// Facts about a finished node that its parent needs.
struct NodeInfo {
    start: Marker,
    /// A plain `<<` (or `!!merge <<`): a merge key when in key position.
    merge_key: bool,
    /// The node was an alias (yaml.v2 rejects `<<: *seq` even if the sequence holds maps).
    alias: bool,
}

#[derive(Default)]
struct Builder {
    frames: Vec<Frame>,
    anchors: HashMap<usize, Value>,
    /// Anchors of collections still being built (an alias to one is a loop).
    open_anchors: HashSet<usize>,
    root: Option<(Value, Marker)>,
    /// Nodes written in the document so far.
    parsed: u64,
}

fn build(text: &str) -> Result<Option<(Value, Marker)>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut b = Builder::default();
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| YamlError::from_scan(&e))?;
        match event {
            Event::Nothing | Event::StreamStart | Event::DocumentStart(_) => {}
            // yaml.v2 decodes only the first document.
            Event::DocumentEnd | Event::StreamEnd => break,
            Event::Alias(id) => {
                b.parsed += 1;
                let value = match b.anchors.get(&id) {
                    Some(v) => v.clone(),
                    None => {
                        let name = source_text(text, span);
                        let name = name.trim_start_matches('*');
                        let message = if b.open_anchors.contains(&id) {
                            format!("anchor '{name}' value contains itself")
                        } else {
                            format!("unknown anchor '{name}' referenced")
                        };
                        return Err(YamlError::at(span.start, message));
                    }
                };
                let info = NodeInfo { start: span.start, merge_key: false, alias: true };
                b.finish(value, info)?;
            }
            Event::Scalar(value, style, anchor, tag) => {
                b.parsed += 1;
                let plain = style == ScalarStyle::Plain;
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                let implicit = (tag.is_none() && plain) || tag.as_deref() == Some("!");
                let merge_tag = format!("{CORE_PREFIX}merge");
                let merge_key =
                    value == "<<" && (implicit || tag.as_deref() == Some(merge_tag.as_str()));
                let scalar = resolve_scalar(&value, plain, tag.as_deref())
                    .map_err(|m| YamlError::at(span.start, m))?;
                let v = Value::Scalar(scalar);
                if anchor > 0 {
                    b.anchors.insert(anchor, v.clone());
                }
                let info = NodeInfo { start: span.start, merge_key, alias: false };
                b.finish(v, info)?;
            }
            Event::SequenceStart(anchor, _) => {
                b.open(span.start, anchor)?;
                b.frames.push(Frame::Seq { items: Vec::new(), anchor, start: span.start });
            }
            Event::MappingStart(anchor, _) => {
                b.open(span.start, anchor)?;
                b.frames.push(Frame::Map {
                    entries: Vec::new(),
                    pending: None,
                    anchor,
                    start: span.start,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (value, anchor, start) = match b.frames.pop() {
                    Some(Frame::Seq { items, anchor, start }) => {
                        let size = items.iter().fold(1u64, |acc, v| acc.saturating_add(v.size()));
                        (Value::Seq(Rc::new(SeqNode { items, size })), anchor, start)
                    }
                    Some(Frame::Map { entries, anchor, start, .. }) => {
                        let items = last_wins_entries(entries);
                        let size = items.iter().fold(1u64, |acc, (_, v)| {
                            acc.saturating_add(1).saturating_add(v.size())
                        });
                        (Value::Map(Rc::new(MapNode { items, size })), anchor, start)
                    }
                    None => return Err(YamlError::at(span.start, "unbalanced collection end")),
                };
                if value.size() > ALIAS_MIN_BUDGET
                    && value.size() > ALIAS_RATIO.saturating_mul(b.parsed)
                {
                    return Err(YamlError::at(start, "document contains excessive aliasing"));
                }
                if anchor > 0 {
                    b.open_anchors.remove(&anchor);
                    b.anchors.insert(anchor, value.clone());
                }
                let info = NodeInfo { start, merge_key: false, alias: false };
                b.finish(value, info)?;
            }
        }
    }
    Ok(b.root)
}

/// The source characters a span covers (span indices count characters).
fn source_text(text: &str, span: Span) -> String {
    text.chars().skip(span.start.index()).take(span.len()).collect()
}

impl Builder {
    fn open(&mut self, start: Marker, anchor: usize) -> Result<(), YamlError> {
        self.parsed += 1;
        if self.frames.len() >= MAX_DEPTH {
            return Err(YamlError::at(start, format!("exceeded max depth of {MAX_DEPTH}")));
        }
        if anchor > 0 {
            self.open_anchors.insert(anchor);
        }
        Ok(())
    }

    /// Hand a finished node to its parent (or make it the document).
    fn finish(&mut self, value: Value, info: NodeInfo) -> Result<(), YamlError> {
        match self.frames.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some((value, info.start));
                }
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(value);
                Ok(())
            }
            Some(Frame::Map { entries, pending, .. }) => match pending.take() {
                None => {
                    *pending = Some(if info.merge_key {
                        PendingKey::Merge
                    } else {
                        PendingKey::Key(to_key(value, info.start)?)
                    });
                    Ok(())
                }
                Some(PendingKey::Key(key)) => {
                    entries.push((key, value));
                    Ok(())
                }
                Some(PendingKey::Merge) => {
                    let want_map = || {
                        YamlError::at(
                            info.start,
                            "map merge requires map or sequence of maps as the value",
                        )
                    };
                    match &value {
                        Value::Map(m) => {
                            for (k, v) in &m.items {
                                entries.push((k.clone(), v.clone()));
                            }
                        }
                        Value::Seq(s) if !info.alias => {
                            if !s.items.iter().all(|v| matches!(v, Value::Map(_))) {
                                return Err(want_map());
                            }
                            // Earlier maps take precedence: apply them last.
                            for item in s.items.iter().rev() {
                                if let Value::Map(m) = item {
                                    for (k, v) in &m.items {
                                        entries.push((k.clone(), v.clone()));
                                    }
                                }
                            }
                        }
                        _ => return Err(want_map()),
                    }
                    Ok(())
                }
            },
        }
    }
}

fn to_key(value: Value, start: Marker) -> Result<Key, YamlError> {
    Ok(match value {
        Value::Scalar(Scalar::Str(s)) => Key::Str(s),
        Value::Scalar(Scalar::Int(i)) => Key::Int(i),
        Value::Scalar(Scalar::Uint(u)) => Key::Uint(u),
        Value::Scalar(Scalar::Bool(b)) => Key::Bool(b),
        Value::Scalar(Scalar::Float(f)) => Key::Float(f),
        Value::Scalar(Scalar::Null) => {
            return Err(YamlError::at(start, "a null mapping key cannot become a key path"))
        }
        other => {
            return Err(YamlError::at(
                start,
                format!("invalid map key: {} cannot be a mapping key", other.describe()),
            ))
        }
    })
}

/// A finished mapping's entries: a repeated key keeps only its last entry, at that entry's
/// place in document order (what yaml.v2's map gives confd, with the order made definite).
/// Sorting indices by key finds the repeats without copying or hashing a key.
fn last_wins_entries(entries: Vec<(Key, Value)>) -> Vec<(Key, Value)> {
    if entries.len() < 2 {
        return entries;
    }
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| key_order(&entries[a].0, &entries[b].0).then(a.cmp(&b)));
    let mut keep = vec![true; entries.len()];
    for pair in order.windows(2) {
        if same_key(&entries[pair[0]].0, &entries[pair[1]].0) {
            keep[pair[0]] = false;
        }
    }
    if keep.iter().all(|k| *k) {
        return entries;
    }
    entries.into_iter().zip(keep).filter_map(|(entry, keep)| keep.then_some(entry)).collect()
}

/// Go map-key identity as a total order: keys of different types are never equal (`80` and
/// `"80"` are two keys), `0.0` and `-0.0` are one key, and a NaN equals nothing — NaNs sort
/// together, and [`same_key`] tells them apart.
fn key_order(a: &Key, b: &Key) -> std::cmp::Ordering {
    fn rank(k: &Key) -> u8 {
        match k {
            Key::Bool(_) => 0,
            Key::Int(_) => 1,
            Key::Uint(_) => 2,
            Key::Float(f) if f.is_nan() => 4,
            Key::Float(_) => 3,
            Key::Str(_) => 5,
        }
    }
    match (a, b) {
        (Key::Bool(x), Key::Bool(y)) => x.cmp(y),
        (Key::Int(x), Key::Int(y)) => x.cmp(y),
        (Key::Uint(x), Key::Uint(y)) => x.cmp(y),
        (Key::Float(x), Key::Float(y)) if !x.is_nan() && !y.is_nan() => {
            (x + 0.0).to_bits().cmp(&(y + 0.0).to_bits())
        }
        (Key::Str(x), Key::Str(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn same_key(a: &Key, b: &Key) -> bool {
    let nan = matches!(a, Key::Float(f) if f.is_nan());
    !nan && key_order(a, b) == std::cmp::Ordering::Equal
}

// ---------------------------------------------------------------------------------------------
// Value → keys (confd's nodeWalk), without recursion.

/// Go's `path.Join(parent, segment)` for an already clean absolute `parent`, with a fast path
/// for ordinary segments (no `/`, not empty, `.` or `..`), where it is plain concatenation.
fn child_path(parent: &str, segment: &str) -> String {
    if segment.is_empty() || segment == "." || segment == ".." || segment.contains('/') {
        return gopath::join(&[parent, segment]);
    }
    let mut path = String::with_capacity(parent.len() + 1 + segment.len());
    path.push_str(parent);
    if parent != "/" {
        path.push('/');
    }
    path.push_str(segment);
    path
}

fn flatten(root: &MapNode) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut stack: Vec<(String, &Value)> =
        root.items.iter().rev().map(|(k, v)| (child_path("/", &k.segment()), v)).collect();
    while let Some((path, value)) = stack.pop() {
        match value {
            Value::Scalar(s) => {
                if let Some(text) = s.to_value_string() {
                    out.push((path, text));
                }
            }
            Value::Seq(c) => {
                for (i, item) in c.items.iter().enumerate().rev() {
                    stack.push((child_path(&path, &i.to_string()), item));
                }
            }
            Value::Map(c) => {
                for (k, item) in c.items.iter().rev() {
                    stack.push((child_path(&path, &k.segment()), item));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
