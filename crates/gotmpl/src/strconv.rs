//! The parts of Go's `strconv` the parser needs: unquoting string and character literals and
//! parsing numbers with base prefixes and underscores, with Go's error texts.

pub const SYNTAX: &str = "invalid syntax";

/// Go's `strconv.Unquote` for `"…"` and `` `…` `` literals. Bytes that do not form UTF-8
/// (`"\xff"`) are replaced by U+FFFD, since our strings are UTF-8.
pub fn unquote(s: &str) -> Result<String, &'static str> {
    let bytes = s.as_bytes();
    if bytes.len() < 2 || bytes[0] != bytes[bytes.len() - 1] {
        return Err(SYNTAX);
    }
    let inner = &s[1..s.len() - 1];
    match bytes[0] {
        b'`' => {
            if inner.contains('`') {
                return Err(SYNTAX);
            }
            Ok(inner.replace('\r', ""))
        }
        b'"' => unquote_double(inner),
        _ => Err(SYNTAX),
    }
}

fn unquote_double(mut s: &str) -> Result<String, &'static str> {
    if s.contains('\n') {
        return Err(SYNTAX);
    }
    let mut out: Vec<u8> = Vec::with_capacity(s.len());
    while !s.is_empty() {
        let (ch, tail) = unquote_char(s, b'"')?;
        match ch {
            Unquoted::Char(c) => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            Unquoted::Byte(b) => out.push(b),
        }
        s = tail;
    }
    Ok(String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// One decoded element of a quoted literal: a character, or a raw byte from `\x`/octal escapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unquoted {
    Char(char),
    Byte(u8),
}

impl Unquoted {
    pub fn code(self) -> u32 {
        match self {
            Unquoted::Char(c) => c as u32,
            Unquoted::Byte(b) => u32::from(b),
        }
    }
}

/// Go's `strconv.UnquoteChar`: decodes the first character or escape of `s`.
pub fn unquote_char(s: &str, quote: u8) -> Result<(Unquoted, &str), &'static str> {
    let first = s.chars().next().ok_or(SYNTAX)?;
    if first as u32 == u32::from(quote) && (quote == b'\'' || quote == b'"') {
        return Err(SYNTAX);
    }
    if first != '\\' {
        return Ok((Unquoted::Char(first), &s[first.len_utf8()..]));
    }
    let rest = &s[1..];
    let c = *rest.as_bytes().first().ok_or(SYNTAX)?;
    if !c.is_ascii() {
        return Err(SYNTAX);
    }
    let tail = &rest[1..];
    let simple = |ch: char| Ok((Unquoted::Char(ch), tail));
    match c {
        b'a' => simple('\u{7}'),
        b'b' => simple('\u{8}'),
        b'f' => simple('\u{c}'),
        b'n' => simple('\n'),
        b'r' => simple('\r'),
        b't' => simple('\t'),
        b'v' => simple('\u{b}'),
        b'\\' => simple('\\'),
        b'\'' | b'"' if c == quote => simple(c as char),
        b'x' => hex_escape(tail, 2, true),
        b'u' => hex_escape(tail, 4, false),
        b'U' => hex_escape(tail, 8, false),
        b'0'..=b'7' => octal_escape(rest),
        _ => Err(SYNTAX),
    }
}

fn hex_escape(s: &str, n: usize, is_byte: bool) -> Result<(Unquoted, &str), &'static str> {
    let digits = s.get(..n).ok_or(SYNTAX)?;
    let v = u32::from_str_radix(digits, 16).map_err(|_| SYNTAX)?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(SYNTAX);
    }
    if is_byte {
        return Ok((Unquoted::Byte(v as u8), &s[n..]));
    }
    let ch = char::from_u32(v).ok_or(SYNTAX)?;
    Ok((Unquoted::Char(ch), &s[n..]))
}

fn octal_escape(s: &str) -> Result<(Unquoted, &str), &'static str> {
    let digits = s.get(..3).ok_or(SYNTAX)?;
    if !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return Err(SYNTAX);
    }
    let v = u32::from_str_radix(digits, 8).map_err(|_| SYNTAX)?;
    if v > 255 {
        return Err(SYNTAX);
    }
    Ok((Unquoted::Byte(v as u8), &s[3..]))
}

/// Splits an optional sign and a base prefix, as `ParseInt(s, 0, 64)` reads them.
fn split_base(s: &str) -> (bool, u32, &str, bool) {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.get(..2).map(|p| p.to_ascii_lowercase());
    match lower.as_deref() {
        Some("0x") => (neg, 16, &body[2..], true),
        Some("0o") => (neg, 8, &body[2..], true),
        Some("0b") => (neg, 2, &body[2..], true),
        _ if body.len() > 1 && body.starts_with('0') => (neg, 8, &body[1..], true),
        _ => (neg, 10, body, false),
    }
}

/// Go's `underscoreOK`: underscores only between digits (or after a base prefix).
fn underscore_ok(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let bytes = body.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if bytes.len() >= 2 && bytes[0] == b'0' {
        let p = bytes[1].to_ascii_lowercase();
        if matches!(p, b'x' | b'o' | b'b') {
            hex = p == b'x';
            i = 2;
            saw = b'0';
        }
    }
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

fn parse_magnitude(s: &str) -> Option<(bool, u64)> {
    if s.contains('_') && !underscore_ok(s) {
        return None;
    }
    let (neg, base, digits, _) = split_base(s);
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() || clean.starts_with(['+', '-']) {
        return None;
    }
    u64::from_str_radix(&clean, base).ok().map(|m| (neg, m))
}

/// `strconv.ParseUint(s, 0, 64)`; a sign is not allowed.
pub fn parse_uint(s: &str) -> Option<u64> {
    if s.starts_with(['+', '-']) {
        return None;
    }
    parse_magnitude(s).map(|(_, m)| m)
}

/// `strconv.ParseInt(s, 0, 64)`.
pub fn parse_int(s: &str) -> Option<i64> {
    let (neg, m) = parse_magnitude(s)?;
    if neg {
        if m <= i64::MAX as u64 + 1 {
            Some((m as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(m).ok()
    }
}

/// `strconv.ParseFloat(s, 64)` for the literal forms the lexer produces (decimal and hex
/// mantissas, underscores between digits).
pub fn parse_float(s: &str) -> Option<f64> {
    if s.contains('_') && !underscore_ok(s) {
        return None;
    }
    let clean: String = s.chars().filter(|&c| c != '_').collect();
    let (neg, body) = match clean.as_bytes().first() {
        Some(b'-') => (true, &clean[1..]),
        Some(b'+') => (false, &clean[1..]),
        _ => (false, &clean[..]),
    };
    let magnitude = if body.len() > 2 && body[..2].eq_ignore_ascii_case("0x") {
        parse_hex_float(&body[2..])?
    } else {
        if body.is_empty()
            || !body
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    if magnitude.is_infinite() {
        return None;
    }
    Some(if neg { -magnitude } else { magnitude })
}

fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = s.split_once(['p', 'P'])?;
    let exp: i32 = exp.parse().ok()?;
    let (int_part, frac_part) = mant.split_once('.').unwrap_or((mant, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut value = 0f64;
    for c in int_part.chars().chain(frac_part.chars()) {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let shift = exp - 4 * frac_part.len() as i32;
    Some(value * 2f64.powi(shift))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backslash_before_multibyte_char_is_a_syntax_error() {
        // Found by fuzzing: slicing after the backslash must not split the character.
        assert_eq!(unquote("\"\\ފ\""), Err(SYNTAX));
    }

    #[test]
    fn numbers_follow_go_base_prefix_rules() {
        assert_eq!(parse_int("0x1F"), Some(31));
        assert_eq!(parse_int("0o17"), Some(15));
        assert_eq!(parse_int("017"), Some(15));
        assert_eq!(parse_int("0b101"), Some(5));
        assert_eq!(parse_int("1_000"), Some(1000));
        assert_eq!(parse_int("1__0"), None);
        assert_eq!(parse_int("08"), None);
        assert_eq!(parse_uint("-1"), None);
        assert_eq!(parse_int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_float("0x1.8p1"), Some(3.0));
        assert_eq!(parse_float("0x1.8"), None);
    }
}
