//! Templates that are not UTF-8. Go templates are bytes: text outside actions is copied to the
//! output byte for byte, so a template with a Latin-1 comment or text renders with those bytes
//! unchanged. Our engine works on `str`, so each byte that is not part of valid UTF-8 is carried
//! through as one character of a private range (U+10FF80 + (byte − 0x80); such a byte is
//! always ≥ 0x80) and turned back into the byte on output.
//!
//! Where Go itself decodes the bytes, its result is kept: in a double-quoted string literal an
//! invalid byte becomes U+FFFD, as Go's `strconv.Unquote` makes it. In a raw string literal the
//! byte is kept (Go keeps it too), though `len` of such a literal counts the stand-in's four
//! bytes where Go counts one.
//!
//! A valid UTF-8 template is parsed and rendered exactly as [`Template::parse`] does: no
//! character is reinterpreted.
//!
//! [`Template::parse`]: crate::Template::parse

use std::borrow::Cow;

/// The first stand-in character (for byte 0x80).
const FIRST: u32 = 0x10_FF80;

/// `bytes` as text: itself when it is UTF-8, else with every byte that is not part of valid
/// UTF-8 replaced by its stand-in. The second value tells whether stand-ins were used.
pub(crate) fn decode(bytes: &[u8]) -> (Cow<'_, str>, bool) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (Cow::Borrowed(text), false);
    }
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 2);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for &b in chunk.invalid() {
            out.push(stand_in(b));
        }
    }
    (Cow::Owned(out), true)
}

fn stand_in(b: u8) -> char {
    char::from_u32(FIRST + u32::from(b - 0x80)).unwrap_or(char::REPLACEMENT_CHARACTER)
}

fn byte_of(c: char) -> Option<u8> {
    let code = c as u32;
    (FIRST..=FIRST + 0x7f).contains(&code).then(|| (code - FIRST + 0x80) as u8)
}

/// The output bytes: every stand-in turned back into its byte.
pub(crate) fn encode(text: String) -> Vec<u8> {
    match encoded(&text) {
        Cow::Borrowed(_) => text.into_bytes(),
        Cow::Owned(bytes) => bytes,
    }
}

/// [`encode`] of borrowed text: the text itself when it has no stand-in.
pub(crate) fn encoded(text: &str) -> Cow<'_, [u8]> {
    if !text.chars().any(|c| byte_of(c).is_some()) {
        return Cow::Borrowed(text.as_bytes());
    }
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match byte_of(c) {
            Some(b) => out.push(b),
            None => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    Cow::Owned(out)
}

/// A double-quoted literal's value as Go decodes it: stand-ins become U+FFFD.
pub(crate) fn as_go_decodes(s: String) -> String {
    if !s.chars().any(|c| byte_of(c).is_some()) {
        return s;
    }
    s.chars().map(|c| if byte_of(c).is_some() { char::REPLACEMENT_CHARACTER } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_of_every_invalid_byte() {
        let mut bytes = b"caf".to_vec();
        bytes.extend(0x80..=0xffu8);
        bytes.extend_from_slice("é ok".as_bytes());
        let (text, escaped) = decode(&bytes);
        assert!(escaped);
        assert!(text.ends_with("é ok"));
        assert_eq!(encode(text.into_owned()), bytes);
    }

    #[test]
    fn utf8_is_left_alone() {
        let (text, escaped) = decode("plain é".as_bytes());
        assert_eq!((text.as_ref(), escaped), ("plain é", false));
    }
}
