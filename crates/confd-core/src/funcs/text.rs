//! Go's `strings`, `strconv` and `encoding/base64` behaviour for confd's string helpers,
//! including Go's error texts.

use gotmpl::gofmt::quote;

/// `strings.Split(s, sep)`: an empty `sep` splits after each UTF-8 character (so `""` gives no
/// elements); otherwise `""` gives `[""]`.
pub fn split<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    if sep.is_empty() {
        return s.char_indices().map(|(i, c)| &s[i..i + c.len_utf8()]).collect();
    }
    s.split(sep).collect()
}

/// How many strings `split(s, sep)` returns, and their total length, without building them.
pub fn split_size(s: &str, sep: &str) -> (usize, usize) {
    if sep.is_empty() {
        return (s.chars().count(), s.len());
    }
    let matches = s.matches(sep).count();
    (matches + 1, s.len() - matches * sep.len())
}

/// The length of `replace(s, old, new, n)`, computed without building it.
pub fn replaced_len(s: &str, old: &str, new: &str, n: i64) -> usize {
    if old == new || n == 0 {
        return s.len();
    }
    let limit = if n < 0 { usize::MAX } else { usize::try_from(n).unwrap_or(usize::MAX) };
    let matches = if old.is_empty() {
        // A match before every character and one at the end.
        s.chars().count().saturating_add(1).min(limit)
    } else {
        s.matches(old).take(limit).count()
    };
    (s.len() - matches * old.len()).saturating_add(matches.saturating_mul(new.len()))
}

/// An upper bound of [`replaced_len`] that does not read `s`.
pub fn replaced_len_bound(s: &str, old: &str, new: &str, n: i64) -> usize {
    if new.len() <= old.len() && !old.is_empty() {
        return s.len();
    }
    let most = if old.is_empty() { s.len().saturating_add(1) } else { s.len() / old.len() };
    let matches = if n < 0 { most } else { most.min(usize::try_from(n).unwrap_or(usize::MAX)) };
    s.len().saturating_add(matches.saturating_mul(new.len() - old.len().min(new.len())))
}

/// `strings.Replace(s, old, new, n)`: at most `n` replacements, all when `n < 0`; an empty
/// `old` matches at the start and after each character.
pub fn replace(s: &str, old: &str, new: &str, n: i64) -> String {
    if old == new || n == 0 {
        return s.to_string();
    }
    let limit = if n < 0 { usize::MAX } else { usize::try_from(n).unwrap_or(usize::MAX) };
    let mut out = String::with_capacity(s.len());
    if old.is_empty() {
        let mut done = 0;
        let mut rest = s;
        // A match before every character and one at the end.
        loop {
            if done < limit {
                out.push_str(new);
                done += 1;
            }
            let mut chars = rest.chars();
            match chars.next() {
                Some(c) => {
                    out.push(c);
                    rest = chars.as_str();
                }
                None => break,
            }
            if done >= limit {
                out.push_str(rest);
                break;
            }
        }
        return out;
    }
    let mut last = 0;
    for (done, (i, _)) in s.match_indices(old).enumerate() {
        if done >= limit {
            break;
        }
        out.push_str(&s[last..i]);
        out.push_str(new);
        last = i + old.len();
    }
    out.push_str(&s[last..]);
    out
}

/// Cased letters that Go 1.19 (Unicode 13.0) does not map: their case pairs came with Unicode
/// 14 and later, which Rust's tables include. Checked against Go over every code point.
const NEWER_THAN_GO: &[(u32, u32)] = &[
    (0x019B, 0x019B),
    (0x0264, 0x0264),
    (0x1C89, 0x1C8A),
    (0x2C2F, 0x2C2F),
    (0x2C5F, 0x2C5F),
    (0xA7C0, 0xA7C1),
    (0xA7CB, 0xA7DC),
    (0x10570, 0x105BC),
    (0x10D50, 0x10D85),
    (0x16EA0, 0x16ED3),
];

fn newer_than_go(c: char) -> bool {
    let n = u32::from(c);
    NEWER_THAN_GO.iter().any(|&(lo, hi)| (lo..=hi).contains(&n))
}

/// `strings.ToUpper`: Unicode simple case mapping, one character to one character (so `ß`
/// stays `ß`, unlike Rust's full mapping to `SS`), with Go 1.19's Unicode 13 tables.
pub fn to_upper(s: &str) -> String {
    s.chars().map(simple_upper).collect()
}

/// `strings.ToLower`: Unicode simple case mapping (`İ` → `i`; no final-sigma rule), with Go
/// 1.19's Unicode 13 tables.
pub fn to_lower(s: &str) -> String {
    s.chars().map(simple_lower).collect()
}

/// The length of `to_upper(s)` (`upper`) or `to_lower(s)`, without building it. Never more
/// than twice `s.len()`: ASCII maps to ASCII, and no character maps to one more than twice
/// its length.
pub fn case_mapped_len(s: &str, upper: bool) -> usize {
    let map = if upper { simple_upper } else { simple_lower };
    s.chars().map(|c| map(c).len_utf8()).sum()
}

/// The simple uppercase mapping of `c`. Rust gives the full mapping; where that is a single
/// character it is also the simple one. The characters with a multi-character full mapping
/// have no simple uppercase mapping except the Greek letters with ypogegrammeni, which map to
/// their titlecase (prosgegrammeni) forms.
fn simple_upper(c: char) -> char {
    if newer_than_go(c) {
        return c;
    }
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => match u32::from(c) {
            n @ (0x1F80..=0x1F87 | 0x1F90..=0x1F97 | 0x1FA0..=0x1FA7) => {
                char::from_u32(n + 8).unwrap_or(c)
            }
            0x1FB3 => '\u{1FBC}',
            0x1FC3 => '\u{1FCC}',
            0x1FF3 => '\u{1FFC}',
            _ => c,
        },
    }
}

/// The simple lowercase mapping of `c`; only `İ` (U+0130) has a multi-character full mapping.
fn simple_lower(c: char) -> char {
    if newer_than_go(c) {
        return c;
    }
    let mut low = c.to_lowercase();
    match (low.next(), low.next()) {
        (Some(l), None) => l,
        _ if c == '\u{130}' => 'i',
        _ => c,
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The length of `base64_encode(s)`.
pub fn base64_encoded_len(s: &str) -> usize {
    s.len().div_ceil(3).saturating_mul(4)
}

/// `base64.StdEncoding.EncodeToString`.
pub fn base64_encode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn b64_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

fn corrupt(at: usize) -> String {
    format!("illegal base64 data at input byte {at}")
}

/// `base64.StdEncoding.DecodeString` with Go's error (`illegal base64 data at input byte N`):
/// padding required, `\r` and `\n` ignored anywhere, bits after the last full byte ignored.
pub fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    let src = s.as_bytes();
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0;
    while si < src.len() {
        // One quantum: up to four alphabet characters, or fewer followed by padding.
        let mut quad = [0u8; 4];
        let mut j = 0;
        let mut dlen = 4;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                return Err(corrupt(si - j));
            }
            let c = src[si];
            si += 1;
            if let Some(v) = b64_value(c) {
                quad[j] = v;
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if c != b'=' || j < 2 {
                return Err(corrupt(si - 1));
            }
            if j == 2 {
                // "==" expected; the first '=' is consumed.
                while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                    si += 1;
                }
                if si == src.len() {
                    return Err(corrupt(src.len()));
                }
                if src[si] != b'=' {
                    return Err(corrupt(si - 1));
                }
                si += 1;
            }
            while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                si += 1;
            }
            dlen = j;
            break;
        }
        let n = u32::from(quad[0]) << 18
            | u32::from(quad[1]) << 12
            | u32::from(quad[2]) << 6
            | u32::from(quad[3]);
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..dlen - 1]);
        if dlen < 4 && si < src.len() {
            return Err(corrupt(si)); // trailing garbage after padding
        }
    }
    Ok(out)
}

fn num_error(func: &str, s: &str, what: &str) -> String {
    format!("strconv.{func}: parsing {}: {what}", quote(s))
}

/// `strconv.ParseBool`.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(num_error("ParseBool", s, "invalid syntax")),
    }
}

/// `strconv.Atoi` (64-bit `int`): optional sign, decimal digits only.
pub fn atoi(s: &str) -> Result<i64, String> {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(num_error("Atoi", s, "invalid syntax"));
    }
    // As Go's ParseUint: a non-digit is a syntax error, but overflowing 64 bits before
    // reaching it is a range error.
    let mut n: u64 = 0;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            return Err(num_error("Atoi", s, "invalid syntax"));
        }
        n = match n.checked_mul(10).and_then(|n| n.checked_add(u64::from(b - b'0'))) {
            Some(n) => n,
            None => return Err(num_error("Atoi", s, "value out of range")),
        };
    }
    let limit = if neg { 1u64 << 63 } else { (1u64 << 63) - 1 };
    if n > limit {
        return Err(num_error("Atoi", s, "value out of range"));
    }
    Ok(if neg { (n as i64).wrapping_neg() } else { n as i64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_like_go() {
        assert_eq!(split("a,b,,c", ","), ["a", "b", "", "c"]);
        assert_eq!(split("", ","), [""]);
        assert!(split("", "").is_empty());
        assert_eq!(split("héllo", ""), ["h", "é", "l", "l", "o"]);
    }

    #[test]
    fn replace_like_go() {
        assert_eq!(replace("aaa", "a", "b", -1), "bbb");
        assert_eq!(replace("aaa", "a", "b", 2), "bba");
        assert_eq!(replace("abc", "", "-", -1), "-a-b-c-");
        assert_eq!(replace("abc", "", "-", 2), "-a-bc");
        assert_eq!(replace("", "", "-", -1), "-");
        assert_eq!(replace("abc", "x", "-", -1), "abc");
    }

    #[test]
    fn sizes_are_those_of_the_results() {
        let samples = ["", "a", "abc", "aaaa", "héllo wörld", "a,b,,c", "ßİıɐK"];
        let patterns = ["", "a", "aa", ",", "é", "xyz", "ö"];
        for s in samples {
            assert_eq!(base64_encoded_len(s), base64_encode(s).len(), "{s}");
            assert_eq!(case_mapped_len(s, true), to_upper(s).len(), "{s}");
            assert_eq!(case_mapped_len(s, false), to_lower(s).len(), "{s}");
            for sep in patterns {
                let pieces = split(s, sep);
                let bytes = pieces.iter().map(|p| p.len()).sum();
                assert_eq!(split_size(s, sep), (pieces.len(), bytes), "{s:?} {sep:?}");
                for new in patterns.iter().chain(&["---"]) {
                    for n in [-1, 0, 1, 2, 100] {
                        let len = replace(s, sep, new, n).len();
                        assert_eq!(replaced_len(s, sep, new, n), len, "{s:?} {sep:?} {new:?} {n}");
                        assert!(replaced_len_bound(s, sep, new, n) >= len, "{s:?} {sep:?} {new:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn case_mapping_at_most_doubles_a_string() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let (up, low) = (simple_upper(c).len_utf8(), simple_lower(c).len_utf8());
            let most = if c.is_ascii() { 1 } else { 2 * c.len_utf8() };
            assert!(up <= most && low <= most, "{c:?}");
        }
    }

    #[test]
    fn base64_roundtrip_and_errors() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar", "Value"] {
            assert_eq!(base64_decode(&base64_encode(s)).unwrap(), s.as_bytes());
        }
        assert_eq!(base64_encode("Value"), "VmFsdWU=");
        assert_eq!(base64_decode("Zm9v\r\nYmFy").unwrap(), b"foobar");
        assert_eq!(base64_decode("Zg").unwrap_err(), "illegal base64 data at input byte 0");
        assert_eq!(base64_decode("Zm9v!").unwrap_err(), "illegal base64 data at input byte 4");
    }

    #[test]
    fn atoi_like_go() {
        assert_eq!(atoi("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(atoi("+12"), Ok(12));
        assert_eq!(
            atoi("9223372036854775808").unwrap_err(),
            "strconv.Atoi: parsing \"9223372036854775808\": value out of range"
        );
        assert_eq!(atoi(" 1").unwrap_err(), "strconv.Atoi: parsing \" 1\": invalid syntax");
    }
}
