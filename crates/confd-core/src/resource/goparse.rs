//! The parts of Go's `strconv` and `time` that confd's inputs go through, with Go's error texts:
//! `strconv.ParseUint`/`ParseInt` with base 0 (prefixes `0x`, `0o`, `0b`, a leading `0` for
//! octal, `_` separators), `strconv.ParseBool` and `time.ParseDuration`.
//!
//! confd reads `mode` with `ParseUint(mode, 0, 32)`, and Go's `flag` package reads `-interval`
//! with `ParseInt(s, 0, 64)` and booleans with `ParseBool`; the command line of the binary uses
//! these too, so both crates agree on what a number is.

use std::fmt;

/// Why a number did not parse, as Go's `strconv.ErrSyntax` / `strconv.ErrRange`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumErrorKind {
    /// `invalid syntax`
    Syntax,
    /// `value out of range`
    Range,
}

/// Go's `*strconv.NumError`: `strconv.ParseUint: parsing "rw": invalid syntax`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumError {
    /// `ParseUint`, `ParseInt` or `ParseBool`.
    pub func: &'static str,
    /// The text as given.
    pub input: String,
    pub kind: NumErrorKind,
}

impl fmt::Display for NumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.kind {
            NumErrorKind::Syntax => "invalid syntax",
            NumErrorKind::Range => "value out of range",
        };
        write!(f, "strconv.{}: parsing {}: {why}", self.func, gotmpl::gofmt::quote(&self.input))
    }
}

impl std::error::Error for NumError {}

fn num_error(func: &'static str, input: &str, kind: NumErrorKind) -> NumError {
    NumError { func, input: input.to_string(), kind }
}

/// Go's `strconv.ParseUint(s, 0, bit_size)`.
pub fn parse_uint(s: &str, bit_size: u32) -> Result<u64, NumError> {
    uint_base0(s, bit_size).map_err(|kind| num_error("ParseUint", s, kind))
}

/// Go's `strconv.ParseInt(s, 0, bit_size)`.
pub fn parse_int(s: &str, bit_size: u32) -> Result<i64, NumError> {
    let err = |kind| num_error("ParseInt", s, kind);
    let (neg, digits) = match s.as_bytes().first() {
        None => return Err(err(NumErrorKind::Syntax)),
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        Some(_) => (false, s),
    };
    let magnitude = match uint_base0(digits, bit_size) {
        Ok(n) => n,
        Err(NumErrorKind::Range) => return Err(err(NumErrorKind::Range)),
        Err(kind) => return Err(err(kind)),
    };
    let cutoff = 1u64 << (bit_size - 1);
    if (!neg && magnitude >= cutoff) || (neg && magnitude > cutoff) {
        return Err(err(NumErrorKind::Range));
    }
    // In range by the checks above; the negation cannot overflow because of i128.
    let value = if neg { -(magnitude as i128) } else { magnitude as i128 };
    Ok(value as i64)
}

/// Go's `strconv.ParseBool`.
pub fn parse_bool(s: &str) -> Result<bool, NumError> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(num_error("ParseBool", s, NumErrorKind::Syntax)),
    }
}

fn uint_base0(s0: &str, bit_size: u32) -> Result<u64, NumErrorKind> {
    let b = s0.as_bytes();
    if b.is_empty() {
        return Err(NumErrorKind::Syntax);
    }
    let (base, digits): (u64, &[u8]) = if b[0] == b'0' {
        match b.get(1).map(u8::to_ascii_lowercase) {
            Some(b'b') if b.len() >= 3 => (2, &b[2..]),
            Some(b'o') if b.len() >= 3 => (8, &b[2..]),
            Some(b'x') if b.len() >= 3 => (16, &b[2..]),
            _ => (8, &b[1..]),
        }
    } else {
        (10, b)
    };
    let max = if bit_size >= 64 { u64::MAX } else { (1u64 << bit_size) - 1 };
    let mut n: u64 = 0;
    let mut underscores = false;
    for &c in digits {
        let d = match c {
            b'_' => {
                underscores = true;
                continue;
            }
            b'0'..=b'9' => c - b'0',
            b'a'..=b'z' => c - b'a' + 10,
            b'A'..=b'Z' => c - b'A' + 10,
            _ => return Err(NumErrorKind::Syntax),
        };
        if u64::from(d) >= base {
            return Err(NumErrorKind::Syntax);
        }
        n = n
            .checked_mul(base)
            .and_then(|n| n.checked_add(u64::from(d)))
            .filter(|&n| n <= max)
            .ok_or(NumErrorKind::Range)?;
    }
    if underscores && !underscore_ok(s0) {
        return Err(NumErrorKind::Syntax);
    }
    Ok(n)
}

/// Go's rule for `_` in base-0 numbers: only between digits, or between a base prefix and a
/// digit.
fn underscore_ok(s: &str) -> bool {
    #[derive(PartialEq)]
    enum Saw {
        Start,
        Digit,
        Underscore,
        Other,
    }
    let mut b = s.as_bytes();
    if let Some(b'+' | b'-') = b.first() {
        b = &b[1..];
    }
    let mut saw = Saw::Start;
    let mut hex = false;
    let mut i = 0;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = Saw::Digit;
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    for &c in &b[i..] {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = Saw::Digit;
        } else if c == b'_' {
            if saw != Saw::Digit {
                return false;
            }
            saw = Saw::Underscore;
        } else if saw == Saw::Underscore {
            return false;
        } else {
            saw = Saw::Other;
        }
    }
    saw != Saw::Underscore
}

/// Go's `time.ParseDuration`: `"300ms"`, `"1.5h"`, `"2h45m"`, `"0"`, with an optional sign.
/// Returns nanoseconds, or Go's error text (`time: invalid duration "x"`,
/// `time: missing unit in duration "1"`, `time: unknown unit "d" in duration "1d"`).
pub fn parse_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", time_quote(orig));
    let mut s = orig;
    let mut neg = false;
    if let Some(c @ (b'-' | b'+')) = s.as_bytes().first() {
        neg = *c == b'-';
        s = &s[1..];
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        let first = s.as_bytes()[0];
        if !(first == b'.' || first.is_ascii_digit()) {
            return Err(invalid());
        }
        let before = s.len();
        let (whole, rest) = leading_int(s).ok_or_else(invalid)?;
        s = rest;
        let pre = before != s.len();
        let (mut frac, mut scale, mut post) = (0u64, 1f64, false);
        if let Some(rest) = s.strip_prefix('.') {
            let before = rest.len();
            let (f, sc, rest) = leading_fraction(rest);
            (frac, scale, post, s) = (f, sc, before != rest.len(), rest);
        }
        if !pre && !post {
            return Err(invalid());
        }
        let unit_len = s.bytes().position(|c| c == b'.' || c.is_ascii_digit()).unwrap_or(s.len());
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", time_quote(orig)));
        }
        let (unit_text, rest) = s.split_at(unit_len);
        s = rest;
        let unit = unit_nanos(unit_text).ok_or_else(|| {
            format!("time: unknown unit {} in duration {}", time_quote(unit_text), time_quote(orig))
        })?;
        if whole > (1u64 << 63) / unit {
            return Err(invalid());
        }
        let mut v = whole * unit;
        if frac > 0 {
            // Go adds the fraction in float64 and truncates, as here.
            v += (frac as f64 * (unit as f64 / scale)) as u64;
            if v > 1 << 63 {
                return Err(invalid());
            }
        }
        total += v;
        if total > 1 << 63 {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((-(total as i128)) as i64);
    }
    i64::try_from(total).map_err(|_| invalid())
}

fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

fn leading_int(s: &str) -> Option<(u64, &str)> {
    let end = s.bytes().position(|c| !c.is_ascii_digit()).unwrap_or(s.len());
    let mut x: u64 = 0;
    for c in s[..end].bytes() {
        if x > (1u64 << 63) / 10 {
            return None;
        }
        x = x * 10 + u64::from(c - b'0');
        if x > 1 << 63 {
            return None;
        }
    }
    Some((x, &s[end..]))
}

fn leading_fraction(s: &str) -> (u64, f64, &str) {
    let end = s.bytes().position(|c| !c.is_ascii_digit()).unwrap_or(s.len());
    let (mut x, mut scale, mut overflow) = (0u64, 1f64, false);
    for c in s[..end].bytes() {
        if overflow {
            continue;
        }
        if x > ((1u64 << 63) - 1) / 10 {
            overflow = true;
            continue;
        }
        let y = x * 10 + u64::from(c - b'0');
        if y > 1 << 63 {
            overflow = true;
            continue;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, &s[end..])
}

/// The quoting of Go's `time` package: printable ASCII as is (with `"` and `\` escaped), every
/// other byte as `\xNN`.
pub fn time_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c.is_ascii() && c >= ' ' {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{byte:02x}"));
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uint_bases_and_errors() {
        assert_eq!(parse_uint("0644", 32), Ok(0o644));
        assert_eq!(parse_uint("644", 32), Ok(644));
        assert_eq!(parse_uint("0o600", 32), Ok(0o600));
        assert_eq!(parse_uint("0O600", 32), Ok(0o600));
        assert_eq!(parse_uint("0x1ff", 32), Ok(0x1ff));
        assert_eq!(parse_uint("0b110100100", 32), Ok(0o644));
        assert_eq!(parse_uint("0", 32), Ok(0));
        assert_eq!(parse_uint("0_644", 32), Ok(0o644));
        assert_eq!(parse_uint("0x_1f", 32), Ok(0x1f));
        assert_eq!(parse_uint("4294967295", 32), Ok(u32::MAX.into()));
        for bad in ["", "rw", "0x", "0b", "08", "+644", "-1", "6__44", "644_", "_644", " 644"] {
            let e = parse_uint(bad, 32).unwrap_err();
            assert_eq!(e.kind, NumErrorKind::Syntax, "{bad}");
        }
        assert_eq!(
            parse_uint("rw", 32).unwrap_err().to_string(),
            r#"strconv.ParseUint: parsing "rw": invalid syntax"#
        );
        assert_eq!(
            parse_uint("4294967296", 32).unwrap_err().to_string(),
            r#"strconv.ParseUint: parsing "4294967296": value out of range"#
        );
    }

    #[test]
    fn int_signs_and_range() {
        assert_eq!(parse_int("600", 64), Ok(600));
        assert_eq!(parse_int("-5", 64), Ok(-5));
        assert_eq!(parse_int("+0x10", 64), Ok(16));
        assert_eq!(parse_int("010", 64), Ok(8));
        assert_eq!(parse_int("1_000", 64), Ok(1000));
        assert_eq!(parse_int("-9223372036854775808", 64), Ok(i64::MIN));
        assert_eq!(parse_int("9223372036854775807", 64), Ok(i64::MAX));
        let range = parse_int("9223372036854775808", 64).unwrap_err();
        assert_eq!(range.kind, NumErrorKind::Range);
        assert_eq!(parse_int("99999999999999999999999", 64).unwrap_err().kind, NumErrorKind::Range);
        for bad in ["", "-", "abc", "1.5", "--1", "0x"] {
            assert_eq!(parse_int(bad, 64).unwrap_err().kind, NumErrorKind::Syntax, "{bad}");
        }
    }

    #[test]
    fn bools() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(t), Ok(true));
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(f), Ok(false));
        }
        for bad in ["", "yes", "tRUE", "2", "on"] {
            assert!(parse_bool(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations() {
        let ms = 1_000_000;
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("-0"), Ok(0));
        assert_eq!(parse_duration("500ms"), Ok(500 * ms));
        assert_eq!(parse_duration("30s"), Ok(30_000 * ms));
        assert_eq!(parse_duration("2m"), Ok(120_000 * ms));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000 * ms));
        assert_eq!(parse_duration("1.5s"), Ok(1_500 * ms));
        assert_eq!(parse_duration(".5s"), Ok(500 * ms));
        assert_eq!(parse_duration("5.s"), Ok(5_000 * ms));
        assert_eq!(parse_duration("-1.5h"), Ok(-5_400_000 * ms));
        assert_eq!(parse_duration("3us"), Ok(3_000));
        assert_eq!(parse_duration("3\u{b5}s"), Ok(3_000));
        assert_eq!(parse_duration("3\u{3bc}s"), Ok(3_000));
        assert_eq!(parse_duration("1ns"), Ok(1));
        assert_eq!(parse_duration("2562047h47m16.854775807s"), Ok(i64::MAX));
        assert_eq!(
            parse_duration("2562047h47m16.854775808s"),
            Err(r#"time: invalid duration "2562047h47m16.854775808s""#.into())
        );
        assert_eq!(parse_duration("1"), Err(r#"time: missing unit in duration "1""#.into()));
        assert_eq!(parse_duration("1d"), Err(r#"time: unknown unit "d" in duration "1d""#.into()));
        for bad in ["", "-", "s", ".s", "1s.", "1.s.", "x1s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_duration("1é"),
            Err(r#"time: unknown unit "\xc3\xa9" in duration "1\xc3\xa9""#.into())
        );
    }
}
