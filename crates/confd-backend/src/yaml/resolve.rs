//! Scalar resolution as Go's `gopkg.in/yaml.v2` (v2.4.0) does it when decoding into
//! `interface{}` — the YAML 1.1 flavour that confd's file backend sees.
//!
//! The rules, in order (what yaml.v2 does, re-expressed):
//!
//! 1. A quoted or block scalar without a tag is a string, whatever it looks like.
//! 2. A scalar with a tag other than the core `!!str !!bool !!int !!float !!null !!timestamp`
//!    (custom `!foo`, the non-specific `!`, `!!map` on a scalar, ...) is a string. `!!binary`
//!    is base64-decoded into a string.
//! 3. Otherwise (plain, or one of those tags) the first character hints at the type:
//!    - exact words: `y Y yes Yes YES true True TRUE on On ON` → true;
//!      `n N no No NO false False FALSE off Off OFF` → false; `"" ~ null Null NULL` → null;
//!      `.nan .NaN .NAN` → NaN; `.inf .Inf .INF +.inf +.Inf +.INF` → +Inf; `-.inf -.Inf -.INF`
//!      → -Inf. Other spellings (`yEs`, `.iNf`, `inf`) are strings;
//!    - starts with `.`: a float if it is `.digits[e[+-]digits]`;
//!    - starts with a digit or sign: a timestamp (kept as its text), else, with every `_`
//!      removed, a Go base-0 integer (`0x1F`, `0o17`, `0b101`, `0777` octal, `+5`), else an
//!      unsigned 64-bit integer, else a float matching
//!      `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` that does not overflow
//!      (`08` is the float 8, `1e400` stays a string).
//!    - anything else is a string.
//! 4. A tag must agree with what the text resolved to (`!!int abc` is an error), except that an
//!    integer is accepted as a `!!float`.

/// The long form of the `!!` tag handle.
pub(crate) const CORE_PREFIX: &str = "tag:yaml.org,2002:";

/// A resolved scalar: what yaml.v2 would put into an `interface{}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Null,
    Bool(bool),
    /// Go `int` (64-bit).
    Int(i64),
    /// Go `uint64`: integers above `i64::MAX`. confd silently drops these; we print them.
    Uint(u64),
    Float(f64),
    Str(String),
}

impl Scalar {
    /// The value's text as confd writes it into the key store: `strconv.Itoa`,
    /// `strconv.FormatBool`, `strconv.FormatFloat(v, 'f', -1, 64)`. `None` for null.
    pub(crate) fn to_value_string(&self) -> Option<String> {
        match self {
            Scalar::Null => None,
            Scalar::Bool(b) => Some(b.to_string()),
            Scalar::Int(i) => Some(i.to_string()),
            Scalar::Uint(u) => Some(u.to_string()),
            Scalar::Float(f) => Some(format_float(*f)),
            Scalar::Str(s) => Some(s.clone()),
        }
    }
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`: shortest round-trip digits, never an exponent.
pub(crate) fn format_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        // Rust's `Display` for f64 is also shortest-round-trip and positional, and prints
        // negative zero as "-0" like Go.
        format!("{f}")
    }
}

/// What a scalar resolved to, for checking it against an explicit tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Bool,
    Int,
    Float,
    Null,
    Timestamp,
}

impl Kind {
    fn short_tag(self) -> &'static str {
        match self {
            Kind::Str => "!!str",
            Kind::Bool => "!!bool",
            Kind::Int => "!!int",
            Kind::Float => "!!float",
            Kind::Null => "!!null",
            Kind::Timestamp => "!!timestamp",
        }
    }

    /// The kind a full tag names, if it is one of the tags resolution understands.
    fn from_tag(tag: &str) -> Option<Kind> {
        Some(match tag.strip_prefix(CORE_PREFIX)? {
            "str" => Kind::Str,
            "bool" => Kind::Bool,
            "int" => Kind::Int,
            "float" => Kind::Float,
            "null" => Kind::Null,
            "timestamp" => Kind::Timestamp,
            _ => return None,
        })
    }
}

/// Resolve one scalar.
///
/// `tag` is the full tag (`tag:yaml.org,2002:int`, `!foo`, `!`), `plain` whether the scalar
/// was written without quotes or block indicator. The error text is yaml.v2's.
pub(crate) fn resolve_scalar(
    value: &str,
    plain: bool,
    tag: Option<&str>,
) -> Result<Scalar, String> {
    let tag = tag.unwrap_or("");
    // yaml.v2: "plain implicit" is a plain scalar without tag, or one tagged `!`.
    let implicit = (tag.is_empty() && plain) || tag == "!";
    if tag.is_empty() && !implicit {
        return Ok(Scalar::Str(value.to_string()));
    }
    if tag.is_empty() {
        return Ok(resolve_untagged(value, None).1);
    }
    if tag == format!("{CORE_PREFIX}binary") {
        return decode_base64(value)
            .map(|bytes| Scalar::Str(String::from_utf8_lossy(&bytes).into_owned()))
            .ok_or_else(|| "!!binary value contains invalid base64 data".to_string());
    }
    let Some(want) = Kind::from_tag(tag) else {
        // Custom, non-specific or collection tags: the text as a string.
        return Ok(Scalar::Str(value.to_string()));
    };
    if want == Kind::Str {
        return Ok(Scalar::Str(value.to_string()));
    }
    let (got, scalar) = resolve_untagged(value, Some(want));
    if got == want {
        return Ok(scalar);
    }
    match (want, scalar) {
        (Kind::Float, Scalar::Int(i)) => Ok(Scalar::Float(i as f64)),
        _ => {
            Err(format!("cannot decode {} `{}` as a {}", got.short_tag(), value, want.short_tag()))
        }
    }
}

/// Whether an untagged plain scalar is the string of its own text (no allocation when its
/// first character already says so, as for most words).
pub(crate) fn resolves_as_itself(value: &str) -> bool {
    match value.as_bytes().first() {
        None => false,
        Some(b'+' | b'-' | b'0'..=b'9' | b'.' | b'~') => {
            matches!(resolve_untagged(value, None).1, Scalar::Str(s) if s == value)
        }
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O') => {
            lookup_word(value).is_none()
        }
        Some(_) => true,
    }
}

/// yaml.v2's `resolve` for an untagged plain scalar (`want == None`) or one with a core tag.
fn resolve_untagged(value: &str, want: Option<Kind>) -> (Kind, Scalar) {
    let str_result = || (Kind::Str, Scalar::Str(value.to_string()));
    let hint = match value.as_bytes().first() {
        None => b'N',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        Some(_) => return str_result(),
    };
    if let Some(found) = lookup_word(value) {
        return found;
    }
    match hint {
        b'.' if is_yaml_float(value) => {
            if let Some(f) = parse_finite_float(value) {
                return (Kind::Float, Scalar::Float(f));
            }
        }
        b'D' | b'S' => {
            if matches!(want, None | Some(Kind::Timestamp)) && is_timestamp(value) {
                // yaml.v2 keeps timestamps as their text when decoding into interface{}.
                return (Kind::Timestamp, Scalar::Str(value.to_string()));
            }
            let plain: String = value.chars().filter(|&c| c != '_').collect();
            if let Some(i) = go_parse_int(&plain) {
                return (Kind::Int, Scalar::Int(i));
            }
            if let Some(u) = go_parse_uint(&plain) {
                return (Kind::Int, Scalar::Uint(u));
            }
            if is_yaml_float(&plain) {
                if let Some(f) = parse_finite_float(&plain) {
                    return (Kind::Float, Scalar::Float(f));
                }
            }
            // yaml.v2 then retries "0b..." / "-0b..." in base 2, which Go's base-0 parsing
            // above already covers.
        }
        _ => {}
    }
    str_result()
}

/// The fixed words of yaml.v2's resolve table.
fn lookup_word(value: &str) -> Option<(Kind, Scalar)> {
    Some(match value {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            (Kind::Bool, Scalar::Bool(true))
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            (Kind::Bool, Scalar::Bool(false))
        }
        "" | "~" | "null" | "Null" | "NULL" => (Kind::Null, Scalar::Null),
        ".nan" | ".NaN" | ".NAN" => (Kind::Float, Scalar::Float(f64::NAN)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            (Kind::Float, Scalar::Float(f64::INFINITY))
        }
        "-.inf" | "-.Inf" | "-.INF" => (Kind::Float, Scalar::Float(f64::NEG_INFINITY)),
        _ => return None,
    })
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat(s, 64)` for text already known to be a plain decimal float:
/// correctly rounded; overflow is an error (Go's `ErrRange`), underflow gives zero.
fn parse_finite_float(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Go's `strconv.ParseUint(s, 0, 64)` (no underscores: the caller removed them).
fn go_parse_uint(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let (radix, digits) = if b[0] == b'0' {
        match b.get(1).map(u8::to_ascii_lowercase) {
            Some(b'x') if b.len() >= 3 => (16, &s[2..]),
            Some(b'o') if b.len() >= 3 => (8, &s[2..]),
            Some(b'b') if b.len() >= 3 => (2, &s[2..]),
            _ => (8, &s[1..]),
        }
    } else {
        (10, s)
    };
    if digits.is_empty() {
        // Only "0" gets here: Go reads it as octal with no further digits, i.e. 0.
        return Some(0);
    }
    // from_str_radix would accept a sign; Go does not.
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
fn go_parse_int(s: &str) -> Option<i64> {
    let (negative, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = go_parse_uint(rest)?;
    if negative {
        // -(2^63) is the smallest i64.
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Go's `base64.StdEncoding.DecodeString`: padded standard alphabet; `\r` and `\n` are
/// ignored; non-zero trailing bits are accepted.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    fn sextet(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let data: Vec<u8> = s.bytes().filter(|&c| c != b'\r' && c != b'\n').collect();
    if !data.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() / 4 * 3);
    let quanta = data.len() / 4;
    for (q, chunk) in data.chunks(4).enumerate() {
        let pads = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pads > 2 || (pads > 0 && q + 1 != quanta) {
            return None;
        }
        let mut acc = 0u32;
        for &c in &chunk[..4 - pads] {
            acc = (acc << 6) | sextet(c)?;
        }
        acc <<= 6 * pads as u32;
        let bytes = [(acc >> 16) as u8, (acc >> 8) as u8, acc as u8];
        out.extend_from_slice(&bytes[..3 - pads]);
    }
    Some(out)
}

/// Whether yaml.v2 takes `s` for a timestamp: one of Go's layouts
/// `2006-1-2T15:4:5.999999999Z07:00` (also with `t`), `2006-1-2 15:4:5.999999999` and
/// `2006-1-2`, parsed as Go's `time.Parse` would (field ranges and days per month checked).
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    // yaml.v2's quick check: exactly four digits, then '-'.
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let mut p = Cursor { b, i: 5 };
    let year: u32 = s[..4].parse().unwrap_or(0);
    let (Some(month), true, Some(day)) = (p.num12(), p.eat(b'-'), p.num12()) else {
        return false;
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(month, year) {
        return false;
    }
    if p.done() {
        return true;
    }
    let with_zone = match p.next() {
        Some(b'T' | b't') => true,
        Some(b' ') => false,
        _ => return false,
    };
    let (Some(h), true, Some(m), true, Some(sec)) =
        (p.num12(), p.eat(b':'), p.num12(), p.eat(b':'), p.num12())
    else {
        return false;
    };
    if h >= 24 || m >= 60 || sec >= 60 {
        return false;
    }
    // Optional fraction: '.' or ',' followed by at least one digit.
    if matches!(p.peek(), Some(b'.' | b',')) && p.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
        p.i += 1;
        while p.peek().is_some_and(|c| c.is_ascii_digit()) {
            p.i += 1;
        }
    }
    if with_zone {
        match p.next() {
            Some(b'Z') => {}
            Some(b'+' | b'-') => {
                let zone = &b[p.i..];
                if zone.len() < 5
                    || zone[2] != b':'
                    || !zone[..2].iter().chain(&zone[3..5]).all(u8::is_ascii_digit)
                {
                    return false;
                }
                let hh = u32::from(zone[0] - b'0') * 10 + u32::from(zone[1] - b'0');
                let mm = u32::from(zone[3] - b'0') * 10 + u32::from(zone[4] - b'0');
                if hh > 24 || mm > 60 {
                    return false;
                }
                p.i += 5;
            }
            _ => return false,
        }
    }
    p.done()
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn peek_at(&self, k: usize) -> Option<u8> {
        self.b.get(self.i + k).copied()
    }
    fn next(&mut self) -> Option<u8> {
        let c = self.peek();
        self.i += usize::from(c.is_some());
        c
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn done(&self) -> bool {
        self.i == self.b.len()
    }
    /// Go's `getnum(value, false)`: one or two digits.
    fn num12(&mut self) -> Option<u32> {
        let d0 = self.peek().filter(u8::is_ascii_digit)?;
        self.i += 1;
        let mut n = u32::from(d0 - b'0');
        if let Some(d1) = self.peek().filter(u8::is_ascii_digit) {
            self.i += 1;
            n = n * 10 + u32::from(d1 - b'0');
        }
        Some(n)
    }
}

fn days_in_month(month: u32, year: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(v: &str) -> Scalar {
        resolve_scalar(v, true, None).unwrap()
    }

    fn tagged(v: &str, tag: &str) -> Result<Scalar, String> {
        resolve_scalar(v, true, Some(&format!("{CORE_PREFIX}{tag}")))
    }

    fn text(v: &str) -> Option<String> {
        plain(v).to_value_string()
    }

    #[test]
    fn yaml11_booleans() {
        for t in ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"] {
            assert_eq!(plain(t), Scalar::Bool(true), "{t}");
        }
        for f in ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"] {
            assert_eq!(plain(f), Scalar::Bool(false), "{f}");
        }
        for s in ["yEs", "tRUE", "oN", "t", "f", "Yes!"] {
            assert_eq!(plain(s), Scalar::Str(s.into()), "{s}");
        }
        // Quoted: always a string.
        assert_eq!(resolve_scalar("yes", false, None).unwrap(), Scalar::Str("yes".into()));
    }

    #[test]
    fn nulls() {
        for n in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(plain(n), Scalar::Null, "{n:?}");
        }
        assert_eq!(plain("nULL"), Scalar::Str("nULL".into()));
        assert_eq!(resolve_scalar("null", false, None).unwrap(), Scalar::Str("null".into()));
        assert_eq!(resolve_scalar("", false, None).unwrap(), Scalar::Str(String::new()));
    }

    #[test]
    fn integers_go_base0() {
        for (input, want) in [
            ("0", "0"),
            ("42", "42"),
            ("-17", "-17"),
            ("+17", "17"),
            ("0777", "511"),
            ("0o17", "15"),
            ("0O17", "15"),
            ("0x1F", "31"),
            ("-0x1F", "-31"),
            ("0b1010", "10"),
            ("-0b1010", "-10"),
            ("1_000", "1000"),
            ("0x_1F", "31"),
            ("9223372036854775807", "9223372036854775807"),
            ("-9223372036854775808", "-9223372036854775808"),
            ("00", "0"),
            ("-0", "0"),
        ] {
            assert_eq!(text(input).as_deref(), Some(want), "{input}");
        }
        // Not valid octal, but a valid float.
        assert_eq!(plain("08"), Scalar::Float(8.0));
        assert_eq!(plain("0778"), Scalar::Float(778.0));
        // Above i64::MAX: Go uint64 (confd drops it; we keep it).
        assert_eq!(plain("18446744073709551615"), Scalar::Uint(u64::MAX));
        assert_eq!(plain("0xFFFFFFFFFFFFFFFF"), Scalar::Uint(u64::MAX));
        // Beyond uint64: a float.
        assert_eq!(text("18446744073709551616").as_deref(), Some("18446744073709552000"));
        for s in ["0x", "0b", "0o", "0b102", "1.0.0", "+", "0x+1", "1e"] {
            assert_eq!(plain(s), Scalar::Str(s.into()), "{s}");
        }
    }

    #[test]
    fn floats_format_like_go() {
        for (input, want) in [
            ("1.5", "1.5"),
            ("1.50", "1.5"),
            ("1e3", "1000"),
            ("1.0", "1"),
            ("-0.0", "-0"),
            (".5", "0.5"),
            ("-.5", "-0.5"),
            ("1.", "1"),
            ("1e-7", "0.0000001"),
            ("6.02e23", "602000000000000000000000"),
            ("1e-400", "0"),
            ("1_000.5", "1000.5"),
            (".inf", "+Inf"),
            ("-.Inf", "-Inf"),
            (".NaN", "NaN"),
        ] {
            assert_eq!(text(input).as_deref(), Some(want), "{input}");
        }
        for s in ["1e400", ".iNf", "inf", "nan", "Infinity", ".", "._5", "0x1p-2"] {
            assert_eq!(plain(s), Scalar::Str(s.into()), "{s}");
        }
    }

    #[test]
    fn timestamps_stay_text() {
        assert_eq!(plain("2001-12-14"), Scalar::Str("2001-12-14".into()));
        assert!(is_timestamp("2001-12-14"));
        assert!(is_timestamp("2001-1-2"));
        assert!(is_timestamp("2000-02-29"));
        assert!(is_timestamp("2001-12-14t21:59:43.10-05:00"));
        assert!(is_timestamp("2002-12-14T21:59:43Z"));
        assert!(is_timestamp("2001-12-14 21:59:43.10"));
        assert!(!is_timestamp("2001-02-29"));
        assert!(!is_timestamp("2001-13-14"));
        assert!(!is_timestamp("2001-12-14 21:59:43.10 -5"));
        assert!(!is_timestamp("2001-12-14T25:00:00Z"));
        assert!(!is_timestamp("1-12-14"));
        assert_eq!(tagged("2001-12-14", "timestamp").unwrap(), Scalar::Str("2001-12-14".into()));
        assert_eq!(
            tagged("12", "timestamp").unwrap_err(),
            "cannot decode !!int `12` as a !!timestamp"
        );
    }

    #[test]
    fn tags() {
        assert_eq!(tagged("123", "str").unwrap(), Scalar::Str("123".into()));
        assert_eq!(tagged("42", "int").unwrap(), Scalar::Int(42));
        assert_eq!(tagged("2", "float").unwrap(), Scalar::Float(2.0));
        assert_eq!(tagged("yes", "bool").unwrap(), Scalar::Bool(true));
        assert_eq!(tagged("", "null").unwrap(), Scalar::Null);
        assert_eq!(tagged("aGVsbG8=", "binary").unwrap(), Scalar::Str("hello".into()));
        assert_eq!(tagged("abc", "int").unwrap_err(), "cannot decode !!str `abc` as a !!int");
        assert_eq!(tagged("1", "bool").unwrap_err(), "cannot decode !!int `1` as a !!bool");
        assert_eq!(tagged("foo", "null").unwrap_err(), "cannot decode !!str `foo` as a !!null");
        assert_eq!(
            tagged("18446744073709551615", "float").unwrap_err(),
            "cannot decode !!int `18446744073709551615` as a !!float"
        );
        assert_eq!(
            tagged("not base64!", "binary").unwrap_err(),
            "!!binary value contains invalid base64 data"
        );
        assert_eq!(resolve_scalar("12", true, Some("!foo")).unwrap(), Scalar::Str("12".into()));
        assert_eq!(resolve_scalar("12", true, Some("!")).unwrap(), Scalar::Str("12".into()));
    }

    #[test]
    fn base64_like_go() {
        assert_eq!(decode_base64("").unwrap(), b"");
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVs\nbG8=\r\n").unwrap(), b"hello");
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        assert_eq!(decode_base64("aA==").unwrap(), b"h");
        assert!(decode_base64("aGVsbG8").is_none());
        assert!(decode_base64("aA==aA==").is_none());
        assert!(decode_base64("a===").is_none());
        assert!(decode_base64("aG Vs").is_none());
    }
}
