//! Go's `encoding/json` decoding into `map[string]interface{}` / `[]interface{}`, as confd's
//! `json` and `jsonArray` use it: every number becomes a `float64`, objects become
//! `map[string]interface {}`, arrays `[]interface {}`, `null` a nil interface (a nil map or
//! slice at the top level), and errors carry Go's texts.
//!
//! Decoding runs in Go's order: first the whole input is checked by a byte-level scanner whose
//! states and error texts are those of Go's (`invalid character 'x' looking for beginning of
//! value`, `unexpected end of JSON input`, …); only valid input is then converted, and the
//! first conversion error (a top-level type mismatch, or a number out of `float64` range) is
//! reported. Strings decode as Go's do: `\u` escapes with broken surrogates become U+FFFD.

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::{FuncError, TooLarge, Type, Value, DEFAULT_MAX_VALUE_BYTES};
use gotmpl::{ELEMENT_OVERHEAD, ENTRY_OVERHEAD};

/// Deepest nesting of arrays and objects accepted. Go allows 10000; values that deep can
/// exhaust a 2 MiB thread stack when the engine prints or drops them (both recurse), so we stop
/// earlier, with Go's error text (`invalid character '[' exceeded max depth`).
pub const MAX_DEPTH: usize = 1000;

/// `json(s)`: `json.Unmarshal` into a `map[string]interface{}`, within the default value-size
/// limit.
pub fn unmarshal_object(s: &str) -> Result<Value, String> {
    unmarshal_object_within(s, DEFAULT_MAX_VALUE_BYTES).map_err(|e| e.to_string())
}

/// `jsonArray(s)`: `json.Unmarshal` into a `[]interface{}`, within the default value-size
/// limit.
pub fn unmarshal_array(s: &str) -> Result<Value, String> {
    unmarshal_array_within(s, DEFAULT_MAX_VALUE_BYTES).map_err(|e| e.to_string())
}

/// [`unmarshal_object`] that stops, with a [`TooLarge`] error, as soon as the decoded value
/// would own more than `max_value_bytes` (as [`Value::owned_size`] measures it): 60 MB of
/// `[1,1,1,…]` would otherwise become 30M elements of several times that size.
pub fn unmarshal_object_within(s: &str, max_value_bytes: usize) -> Result<Value, FuncError> {
    unmarshal(s, Kind::Object, Type::map(Type::Any), max_value_bytes)
}

/// [`unmarshal_array`] within `max_value_bytes`; see [`unmarshal_object_within`].
pub fn unmarshal_array_within(s: &str, max_value_bytes: usize) -> Result<Value, FuncError> {
    unmarshal(s, Kind::Array, Type::slice(Type::Any), max_value_bytes)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Object,
    Array,
}

fn unmarshal(s: &str, want: Kind, target: Type, limit: usize) -> Result<Value, FuncError> {
    let bytes = s.as_bytes();
    check_valid(bytes)?;
    let start = bytes.iter().position(|b| !is_space(*b)).unwrap_or(0);
    let found = match bytes[start] {
        b'{' => "object",
        b'[' => "array",
        b'"' => "string",
        b't' | b'f' => "bool",
        b'n' => return Ok(target.zero()),
        _ => "number",
    };
    let matches = matches!((want, found), (Kind::Object, "object") | (Kind::Array, "array"));
    if !matches {
        let msg = format!("json: cannot unmarshal {found} into Go value of type {target}");
        return Err(FuncError::new(msg));
    }
    Builder { b: bytes, pos: start, first_error: None, size: 0, limit }.build()
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

// ---- the syntax check: Go's scanner, state by state ------------------------------------------

/// Scanner states; each names what has been read so far.
#[derive(Clone, Copy, PartialEq, Eq)]
enum St {
    BeginValue,
    /// After `[`.
    BeginValueOrEmpty,
    /// After `{`.
    BeginStringOrEmpty,
    /// After `{"key": value,`.
    BeginString,
    EndValue,
    EndTop,
    InString,
    InStringEsc,
    /// After `\u` plus this many hex digits.
    InStringEscU(u8),
    Neg,
    /// In the integer part of a number not starting with 0.
    Int1,
    /// After a leading `0`.
    Int0,
    Dot,
    Dot0,
    E,
    ESign,
    E0,
    /// In `true`/`false`/`null`: the literal and how many bytes of it have been read.
    Lit(&'static str, usize),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Container {
    ObjectKey,
    ObjectValue,
    ArrayValue,
}

struct Scanner {
    step: St,
    stack: Vec<Container>,
    end_top: bool,
    err: Option<String>,
}

/// Go's `quoteChar`: the byte as a single-quoted character (a byte ≥ 0x80 is shown as the
/// Latin-1 character with that code, as Go's `string(byte)` does).
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => r"'\''".to_string(),
        b'"' => "'\"'".to_string(),
        _ => {
            let q = gotmpl::gofmt::quote(&char::from(c).to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

impl Scanner {
    fn error(&mut self, c: u8, context: &str) -> bool {
        self.err = Some(format!("invalid character {} {context}", quote_char(c)));
        false
    }

    fn push(&mut self, c: u8, container: Container) -> bool {
        self.stack.push(container);
        if self.stack.len() > MAX_DEPTH {
            return self.error(c, "exceeded max depth");
        }
        true
    }

    fn pop(&mut self) {
        self.stack.pop();
        if self.stack.is_empty() {
            self.step = St::EndTop;
            self.end_top = true;
        } else {
            self.step = St::EndValue;
        }
    }

    /// Feeds one byte; false on a syntax error (in `self.err`).
    fn step(&mut self, c: u8) -> bool {
        match self.step {
            St::BeginValueOrEmpty => {
                if is_space(c) {
                    return true;
                }
                if c == b']' {
                    return self.end_value(c);
                }
                self.begin_value(c)
            }
            St::BeginValue => self.begin_value(c),
            St::BeginStringOrEmpty => {
                if is_space(c) {
                    return true;
                }
                if c == b'}' {
                    if let Some(top) = self.stack.last_mut() {
                        *top = Container::ObjectValue;
                    }
                    return self.end_value(c);
                }
                self.begin_string(c)
            }
            St::BeginString => self.begin_string(c),
            St::EndValue => self.end_value(c),
            St::EndTop => {
                if !is_space(c) {
                    self.error(c, "after top-level value");
                }
                true
            }
            St::InString => {
                match c {
                    b'"' => self.step = St::EndValue,
                    b'\\' => self.step = St::InStringEsc,
                    0..=0x1f => return self.error(c, "in string literal"),
                    _ => {}
                }
                true
            }
            St::InStringEsc => match c {
                b'b' | b'f' | b'n' | b'r' | b't' | b'\\' | b'/' | b'"' => {
                    self.step = St::InString;
                    true
                }
                b'u' => {
                    self.step = St::InStringEscU(0);
                    true
                }
                _ => self.error(c, "in string escape code"),
            },
            St::InStringEscU(n) => {
                if !c.is_ascii_hexdigit() {
                    return self.error(c, "in \\u hexadecimal character escape");
                }
                self.step = if n == 3 { St::InString } else { St::InStringEscU(n + 1) };
                true
            }
            St::Neg => match c {
                b'0' => {
                    self.step = St::Int0;
                    true
                }
                b'1'..=b'9' => {
                    self.step = St::Int1;
                    true
                }
                _ => self.error(c, "in numeric literal"),
            },
            St::Int1 if c.is_ascii_digit() => true,
            St::Int1 | St::Int0 => match c {
                b'.' => {
                    self.step = St::Dot;
                    true
                }
                b'e' | b'E' => {
                    self.step = St::E;
                    true
                }
                _ => self.end_value(c),
            },
            St::Dot => {
                if c.is_ascii_digit() {
                    self.step = St::Dot0;
                    return true;
                }
                self.error(c, "after decimal point in numeric literal")
            }
            St::Dot0 => match c {
                b'0'..=b'9' => true,
                b'e' | b'E' => {
                    self.step = St::E;
                    true
                }
                _ => self.end_value(c),
            },
            St::E if c == b'+' || c == b'-' => {
                self.step = St::ESign;
                true
            }
            St::E | St::ESign => {
                if c.is_ascii_digit() {
                    self.step = St::E0;
                    return true;
                }
                self.error(c, "in exponent of numeric literal")
            }
            St::E0 => {
                if c.is_ascii_digit() {
                    return true;
                }
                self.end_value(c)
            }
            St::Lit(word, n) => {
                let want = word.as_bytes()[n];
                if c != want {
                    let msg = format!("in literal {word} (expecting {})", quote_char(want));
                    return self.error(c, &msg);
                }
                self.step = if n + 1 == word.len() { St::EndValue } else { St::Lit(word, n + 1) };
                true
            }
        }
    }

    fn begin_value(&mut self, c: u8) -> bool {
        if is_space(c) {
            return true;
        }
        self.step = match c {
            b'{' => {
                self.step = St::BeginStringOrEmpty;
                return self.push(c, Container::ObjectKey);
            }
            b'[' => {
                self.step = St::BeginValueOrEmpty;
                return self.push(c, Container::ArrayValue);
            }
            b'"' => St::InString,
            b'-' => St::Neg,
            b'0' => St::Int0,
            b'1'..=b'9' => St::Int1,
            b't' => St::Lit("true", 1),
            b'f' => St::Lit("false", 1),
            b'n' => St::Lit("null", 1),
            _ => return self.error(c, "looking for beginning of value"),
        };
        true
    }

    fn begin_string(&mut self, c: u8) -> bool {
        if is_space(c) {
            return true;
        }
        if c == b'"' {
            self.step = St::InString;
            return true;
        }
        self.error(c, "looking for beginning of object key string")
    }

    fn end_value(&mut self, c: u8) -> bool {
        let Some(&top) = self.stack.last() else {
            self.step = St::EndTop;
            self.end_top = true;
            return self.step(c);
        };
        if is_space(c) {
            self.step = St::EndValue;
            return true;
        }
        match (top, c) {
            (Container::ObjectKey, b':') => {
                *self.stack.last_mut().expect("non-empty") = Container::ObjectValue;
                self.step = St::BeginValue;
                true
            }
            (Container::ObjectKey, _) => self.error(c, "after object key"),
            (Container::ObjectValue, b',') => {
                *self.stack.last_mut().expect("non-empty") = Container::ObjectKey;
                self.step = St::BeginString;
                true
            }
            (Container::ObjectValue | Container::ArrayValue, b'}' | b']')
                if (c == b'}') == (top == Container::ObjectValue) =>
            {
                self.pop();
                true
            }
            (Container::ObjectValue, _) => self.error(c, "after object key:value pair"),
            (Container::ArrayValue, b',') => {
                self.step = St::BeginValue;
                true
            }
            (Container::ArrayValue, _) => self.error(c, "after array element"),
        }
    }
}

/// Go's `checkValid`: the whole input must be one JSON value, possibly surrounded by space.
fn check_valid(data: &[u8]) -> Result<(), String> {
    let mut s = Scanner { step: St::BeginValue, stack: Vec::new(), end_top: false, err: None };
    for &c in data {
        if !s.step(c) || s.err.is_some() {
            return Err(s.err.take().unwrap_or_default());
        }
    }
    // At the end Go feeds one space, which completes a number or reports a broken literal.
    if s.end_top {
        return Ok(());
    }
    s.step(b' ');
    if s.end_top && s.err.is_none() {
        return Ok(());
    }
    Err(s.err.take().unwrap_or_else(|| "unexpected end of JSON input".to_string()))
}

// ---- conversion of valid input ----------------------------------------------------------------

enum Frame {
    Object(BTreeMap<Arc<str>, Value>, Arc<str>),
    Array(Vec<Value>),
}

struct Builder<'a> {
    b: &'a [u8],
    pos: usize,
    first_error: Option<String>,
    /// What the values built so far own, as `Value::owned_size` counts it.
    size: usize,
    /// The most `size` may reach.
    limit: usize,
}

impl Builder<'_> {
    fn skip_space(&mut self) {
        while self.pos < self.b.len() && is_space(self.b[self.pos]) {
            self.pos += 1;
        }
    }

    /// The next non-space byte, consumed.
    fn next(&mut self) -> u8 {
        self.skip_space();
        let c = self.b[self.pos];
        self.pos += 1;
        c
    }

    fn peek(&mut self) -> u8 {
        self.skip_space();
        self.b[self.pos]
    }

    /// Counts `bytes` more towards the size of the result.
    fn charge(&mut self, bytes: usize) -> Result<(), TooLarge> {
        self.size = self.size.saturating_add(bytes);
        if self.size > self.limit {
            return Err(TooLarge { size: None, limit: self.limit });
        }
        Ok(())
    }

    /// Builds the (already validated) value at `pos`, without recursion.
    fn build(mut self) -> Result<Value, FuncError> {
        let mut stack: Vec<Frame> = Vec::new();
        'value: loop {
            // Start a value.
            let mut value = match self.next() {
                b'{' => {
                    if self.peek() == b'}' {
                        self.pos += 1;
                        Value::map(BTreeMap::new())
                    } else {
                        let key = self.key();
                        stack.push(Frame::Object(BTreeMap::new(), key));
                        continue 'value;
                    }
                }
                b'[' => {
                    if self.peek() == b']' {
                        self.pos += 1;
                        Value::list(Vec::new())
                    } else {
                        stack.push(Frame::Array(Vec::new()));
                        continue 'value;
                    }
                }
                b'"' => {
                    let text = self.string();
                    self.charge(text.len())?;
                    Value::String(text.into())
                }
                b't' => self.literal(4, Value::Bool(true)),
                b'f' => self.literal(5, Value::Bool(false)),
                b'n' => self.literal(4, Value::Nil),
                _ => {
                    self.pos -= 1;
                    self.number()
                }
            };
            // Complete values until a container wants another one.
            loop {
                let Some(top) = stack.last_mut() else {
                    return match self.first_error.take() {
                        Some(e) => Err(FuncError::new(e)),
                        None => Ok(value),
                    };
                };
                match top {
                    Frame::Object(map, key) => {
                        let entry = ENTRY_OVERHEAD + key.len();
                        map.insert(key.clone(), value);
                        self.charge(entry)?;
                        if self.next() == b',' {
                            *key = self.key();
                            continue 'value;
                        }
                        let Some(Frame::Object(map, _)) = stack.pop() else { unreachable!() };
                        value = Value::map(map);
                    }
                    Frame::Array(items) => {
                        items.push(value);
                        self.charge(ELEMENT_OVERHEAD)?;
                        if self.next() == b',' {
                            continue 'value;
                        }
                        let Some(Frame::Array(items)) = stack.pop() else { unreachable!() };
                        value = Value::list(items);
                    }
                }
            }
        }
    }

    fn literal(&mut self, len: usize, v: Value) -> Value {
        self.pos += len - 1;
        v
    }

    /// An object key and its colon.
    fn key(&mut self) -> Arc<str> {
        self.next(); // the opening quote
        let key = self.string();
        self.next(); // ':'
        key.into()
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.b.get(at..at + 4)?;
        let text = std::str::from_utf8(digits).ok()?;
        u32::from_str_radix(text, 16).ok()
    }

    /// The rest of a string whose opening quote has been consumed.
    fn string(&mut self) -> String {
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            match self.b[self.pos] {
                b'"' => {
                    out.push_str(self.slice(run, self.pos));
                    self.pos += 1;
                    return out;
                }
                b'\\' => {
                    out.push_str(self.slice(run, self.pos));
                    let esc = self.b[self.pos + 1];
                    self.pos += 2;
                    match esc {
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let r = self.hex4(self.pos).unwrap_or(0xFFFD);
                            self.pos += 4;
                            out.push(self.escaped_rune(r));
                        }
                        other => out.push(char::from(other)), // '\\', '/', '"'
                    }
                    run = self.pos;
                }
                _ => self.pos += 1,
            }
        }
    }

    /// The character a `\uXXXX` escape stands for: a high surrogate followed by a `\u` low
    /// surrogate combine (both consumed); any other surrogate is U+FFFD.
    fn escaped_rune(&mut self, r: u32) -> char {
        if !(0xD800..0xE000).contains(&r) {
            return char::from_u32(r).unwrap_or('\u{FFFD}');
        }
        if r < 0xDC00 && self.b.get(self.pos..self.pos + 2) == Some(b"\\u") {
            if let Some(r2 @ 0xDC00..=0xDFFF) = self.hex4(self.pos + 2) {
                self.pos += 6;
                let c = 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00);
                return char::from_u32(c).unwrap_or('\u{FFFD}');
            }
        }
        '\u{FFFD}'
    }

    fn slice(&self, from: usize, to: usize) -> &str {
        // Validated input came from a `str` and cuts happen at ASCII bytes.
        std::str::from_utf8(&self.b[from..to]).unwrap_or("")
    }

    fn number(&mut self) -> Value {
        let start = self.pos;
        while self.pos < self.b.len()
            && matches!(self.b[self.pos], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
        {
            self.pos += 1;
        }
        let text = self.slice(start, self.pos);
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Value::Float(f),
            _ => {
                if self.first_error.is_none() {
                    self.first_error = Some(format!(
                        "json: cannot unmarshal number {text} into Go value of type float64"
                    ));
                }
                Value::Nil
            }
        }
    }
}
