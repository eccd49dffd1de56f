//! Go's `path` package (Go 1.19): slash-separated paths, byte for byte.
//!
//! confd hands these functions to templates (`base`, `dir`), uses `path.Join` to build the keys
//! it fetches, and memkv uses `path.Match` for `gets`/`getvs` and `path.Clean`/`path.Dir` for
//! `ls`/`lsdir`. Every function here reproduces Go's result exactly, including on odd input
//! (empty strings, runs of slashes, `.`/`..` elements, malformed patterns, non-ASCII text).
//!
//! Go strings are byte strings and Go's `path` works on bytes; a Rust `&str` is always valid
//! UTF-8, so every input here is one Go could also see. `path_match` still follows Go's
//! byte-level steps (a `*` skips bytes, not characters), because that is observable: after a
//! `*` a class such as `[\u{FFFD}]` can match the tail of a multi-byte character, exactly as
//! in Go.

use std::fmt;

/// The error of a malformed [`path_match`] pattern. Its text is Go's `path.ErrBadPattern`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PatternError;

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("syntax error in pattern")
    }
}

impl std::error::Error for PatternError {}

/// Go's `path.Clean`: the shortest path equivalent to `p` by lexical processing alone.
///
/// Runs of slashes become one, `.` elements go, each `..` removes the element before it
/// (a `..` at the start of a rooted path is dropped, at the start of a relative path it is
/// kept), and a trailing slash goes except for the root. An empty result is `"."`.
///
/// ```
/// use confd_kv::gopath::clean;
/// assert_eq!(clean("/a//b/./c/../"), "/a/b");
/// assert_eq!(clean("../x/.."), "..");
/// assert_eq!(clean("/.."), "/");
/// assert_eq!(clean(""), ".");
/// ```
/// Whether `clean(p) == p`, without building the cleaned path for the usual case: an
/// absolute path whose every element is a name (not empty, `.` or `..`).
pub fn is_clean(p: &str) -> bool {
    (p.starts_with('/') && every_element_is_a_name(p.as_bytes())) || clean(p) == p
}

/// Whether every element of `p` (an absolute path) is a name: not empty, `.` or `..`.
fn every_element_is_a_name(p: &[u8]) -> bool {
    p == b"/" || names_before_the_last(p).is_some_and(|last| is_name(&p[last..]))
}

/// For an absolute path: whether every element followed by a slash is a name, and if so
/// where the last element (the one after the last slash) begins. One pass over the bytes.
pub(crate) fn names_before_the_last(p: &[u8]) -> Option<usize> {
    let mut start = 1;
    for (i, &b) in p.iter().enumerate().skip(1) {
        if b == b'/' {
            if !is_name(&p[start..i]) {
                return None;
            }
            start = i + 1;
        }
    }
    Some(start)
}

fn is_name(element: &[u8]) -> bool {
    !matches!(element, b"" | b"." | b"..")
}

pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".to_string();
    }
    let rooted = p.starts_with('/');
    // Elements kept so far. For a relative path, leading ".." elements are kept and can never
    // be cancelled by a later "..".
    let mut kept: Vec<&str> = Vec::new();
    for elem in p.split('/') {
        match elem {
            "" | "." => {}
            ".." => match kept.last() {
                Some(&last) if last != ".." => {
                    kept.pop();
                }
                _ if rooted => {}
                _ => kept.push(".."),
            },
            name => kept.push(name),
        }
    }
    let mut out = String::with_capacity(p.len());
    if rooted {
        out.push('/');
    }
    for (i, elem) in kept.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(elem);
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// Go's `path.Join`: the non-empty `parts` joined with `/`, then [`clean`]ed. If every part
/// is empty (or there are none) the result is `""`, not `"."`.
///
/// ```
/// use confd_kv::gopath::join;
/// assert_eq!(join(&["/prefix", "app/"]), "/prefix/app");
/// assert_eq!(join(&["/", ""]), "/");
/// assert_eq!(join(&["", ""]), "");
/// assert_eq!(join(&["a", "../.."]), "..");
/// ```
pub fn join(parts: &[&str]) -> String {
    let mut joined = String::new();
    let mut any = false;
    for part in parts.iter().filter(|part| !part.is_empty()) {
        if any {
            joined.push('/');
        }
        joined.push_str(part);
        any = true;
    }
    if !any {
        return String::new();
    }
    clean(&joined)
}

/// Go's `path.Base`: the last element of `p`, after trailing slashes are removed.
/// `""` gives `"."`, and a path of only slashes gives `"/"`.
///
/// ```
/// use confd_kv::gopath::base;
/// assert_eq!(base("/a/b/c"), "c");
/// assert_eq!(base("/a/b/"), "b");
/// assert_eq!(base("//"), "/");
/// assert_eq!(base(""), ".");
/// ```
pub fn base(p: &str) -> String {
    base_str(p).to_string()
}

/// [`base`] without allocating: the result borrows from `p` (or is a static `"."`/`"/"`).
pub fn base_str(p: &str) -> &str {
    if p.is_empty() {
        return ".";
    }
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/";
    }
    match trimmed.rfind('/') {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    }
}

/// Go's `path.Dir`: everything up to and including the last slash, [`clean`]ed.
/// A path without a slash gives `"."`.
///
/// ```
/// use confd_kv::gopath::dir;
/// assert_eq!(dir("/test/data/abc"), "/test/data");
/// assert_eq!(dir("/test/data/"), "/test/data");
/// assert_eq!(dir("/x"), "/");
/// assert_eq!(dir("x"), ".");
/// ```
pub fn dir(p: &str) -> String {
    match p.rfind('/') {
        Some(i) => clean(&p[..=i]),
        None => ".".to_string(),
    }
}

/// Go 1.19's `path.Match`: whether `name` as a whole matches the shell pattern `pattern`.
///
/// Pattern syntax:
/// - `*` matches any run of characters except `/` (so `/app/*` does not descend);
/// - `?` matches one character except `/`;
/// - `[...]` is a non-empty class of characters and ranges `lo-hi`; `[^...]` negates it.
///   `[!...]` is **not** negation: `!` is an ordinary member. `]` closes a class unless it is
///   the first member, and then the pattern is malformed (`[]a]`); use `\]`;
/// - `\c` matches `c` literally, inside and outside classes;
/// - any other character matches itself.
///
/// # Errors
///
/// [`PatternError`] ("syntax error in pattern") when the pattern is malformed: an unclosed or
/// empty class, a bad range (`[a-]`, `[-a]`), a trailing `\`. In Go 1.19 the answer does not
/// depend on `name`: once the match has failed, Go still scans the rest of the pattern for
/// syntax errors, so every malformed pattern gives the error for every name. (Go 1.15 and
/// older returned `false` without error when the match failed before the bad part.)
///
/// ```
/// use confd_kv::gopath::{path_match, PatternError};
/// assert_eq!(path_match("/app/*", "/app/port"), Ok(true));
/// assert_eq!(path_match("/app/*", "/app/db/user"), Ok(false));
/// assert_eq!(path_match("[^a]*", "bcd"), Ok(true));
/// assert_eq!(path_match("[!a]", "!"), Ok(true));
/// assert_eq!(path_match("x[", "abc"), Err(PatternError));
/// ```
pub fn path_match(pattern: &str, name: &str) -> Result<bool, PatternError> {
    let mut pattern = pattern.as_bytes();
    let mut name = name.as_bytes();
    'chunks: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            // A trailing star takes the rest of the name, provided it has no slash.
            return Ok(!name.contains(&b'/'));
        }
        // First try the chunk right here. If it is the last chunk it must use up the name.
        if let Some(after) = match_chunk(chunk, name)? {
            if after.is_empty() || !pattern.is_empty() {
                name = after;
                continue;
            }
        }
        if star {
            // Let the star swallow 1, 2, ... more bytes, never a slash. The first position
            // where the chunk matches wins (no backtracking into earlier chunks).
            let mut skip = 0;
            while skip < name.len() && name[skip] != b'/' {
                if let Some(after) = match_chunk(chunk, &name[skip + 1..])? {
                    if pattern.is_empty() && !after.is_empty() {
                        skip += 1;
                        continue;
                    }
                    name = after;
                    continue 'chunks;
                }
                skip += 1;
            }
        }
        // No match. Go still reports a syntax error anywhere in the rest of the pattern.
        while !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(pattern);
            pattern = rest;
            match_chunk(chunk, b"")?;
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// The literal text at the start of `pattern`: everything before its first `*`, `?`, `[` or
/// `\`. Every name that [`path_match`]es the pattern starts with it.
pub(crate) fn literal_prefix(pattern: &str) -> &str {
    // The four are ASCII, so the byte index is a character boundary.
    match pattern.bytes().position(|b| matches!(b, b'*' | b'?' | b'[' | b'\\')) {
        Some(i) => &pattern[..i],
        None => pattern,
    }
}

/// Splits off the next chunk: the stars in front of it (collapsed into one flag) and the run
/// of non-star pattern up to the next star that is outside a class and not escaped.
fn scan_chunk(pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut p = pattern;
    let mut star = false;
    while let [b'*', tail @ ..] = p {
        p = tail;
        star = true;
    }
    let mut in_class = false;
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            // Skip the escaped byte; a trailing backslash is reported by match_chunk.
            b'\\' if i + 1 < p.len() => i += 1,
            b'[' => in_class = true,
            b']' => in_class = false,
            b'*' if !in_class => break,
            _ => {}
        }
        i += 1;
    }
    (star, &p[..i], &p[i..])
}

/// Matches one star-free chunk against the start of `s`: `Ok(Some(rest of s))` on a match,
/// `Ok(None)` if it does not match. The whole chunk is always parsed, even after the match
/// has failed or `s` ran out, so a malformed chunk is an error whatever `s` is.
fn match_chunk<'s>(chunk: &[u8], s: &'s [u8]) -> Result<Option<&'s [u8]>, PatternError> {
    let mut chunk = chunk;
    let mut s = s;
    let mut failed = false;
    while let Some(&op) = chunk.first() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match op {
            b'[' => {
                // The character under test; 0 once the match has failed (it is then unused).
                let mut ch = 0u32;
                if !failed {
                    let (c, width) = decode_rune(s);
                    ch = c;
                    s = &s[width..];
                }
                chunk = &chunk[1..];
                let negated = chunk.first() == Some(&b'^');
                if negated {
                    chunk = &chunk[1..];
                }
                let mut in_class = false;
                let mut members = 0;
                loop {
                    if members > 0 && chunk.first() == Some(&b']') {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = class_char(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    // class_char guarantees that something follows.
                    if chunk[0] == b'-' {
                        let (h, rest) = class_char(&chunk[1..])?;
                        hi = h;
                        chunk = rest;
                    }
                    if lo <= ch && ch <= hi {
                        in_class = true;
                    }
                    members += 1;
                }
                if in_class == negated {
                    failed = true;
                }
            }
            b'?' => {
                if !failed {
                    if s[0] == b'/' {
                        failed = true;
                    }
                    let (_, width) = decode_rune(s);
                    s = &s[width..];
                }
                chunk = &chunk[1..];
            }
            _ => {
                if op == b'\\' {
                    chunk = &chunk[1..];
                    if chunk.is_empty() {
                        return Err(PatternError);
                    }
                }
                // A literal byte (escaped or not) is compared as a byte.
                if !failed {
                    if chunk[0] != s[0] {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    Ok(if failed { None } else { Some(s) })
}

/// Reads one member character of a class, possibly `\`-escaped. It is an error if there is
/// none, if it is an unescaped `-` or `]`, if it is not valid UTF-8, or if the pattern ends
/// right after it (the class is then unclosed).
fn class_char(chunk: &[u8]) -> Result<(u32, &[u8]), PatternError> {
    let mut c = chunk;
    match c.first() {
        None | Some(b'-') | Some(b']') => return Err(PatternError),
        Some(b'\\') => {
            c = &c[1..];
            if c.is_empty() {
                return Err(PatternError);
            }
        }
        Some(_) => {}
    }
    let (ch, width) = decode_rune(c);
    if ch == char::REPLACEMENT_CHARACTER as u32 && width == 1 {
        return Err(PatternError);
    }
    let rest = &c[width..];
    if rest.is_empty() {
        return Err(PatternError);
    }
    Ok((ch, rest))
}

/// Go's `utf8.DecodeRuneInString` on a non-empty byte string: the first character and its
/// width, or `(U+FFFD, 1)` if the bytes there are not a valid UTF-8 sequence (which happens
/// when a `*` has skipped into the middle of a multi-byte character).
fn decode_rune(s: &[u8]) -> (u32, usize) {
    let width = match s[0] {
        0x00..=0x7F => return (u32::from(s[0]), 1),
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 0,
    };
    if width > 0 && width <= s.len() {
        if let Ok(text) = std::str::from_utf8(&s[..width]) {
            if let Some(ch) = text.chars().next() {
                return (ch as u32, width);
            }
        }
    }
    (char::REPLACEMENT_CHARACTER as u32, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_examples() {
        let cases = [
            ("", "."),
            (".", "."),
            ("/", "/"),
            ("//", "/"),
            ("/.", "/"),
            ("/..", "/"),
            ("/../a", "/a"),
            ("a/..", "."),
            ("a/../..", ".."),
            ("../../a", "../../a"),
            ("a/b/../../../c", "../c"),
            ("/a//b/./c/", "/a/b/c"),
            ("/test/data/", "/test/data"),
            ("...", "..."),
            ("a/.../b", "a/.../b"),
            ("./a", "a"),
        ];
        for (input, want) in cases {
            assert_eq!(clean(input), want, "clean({input:?})");
        }
    }

    #[test]
    fn join_examples() {
        assert_eq!(join(&[]), "");
        assert_eq!(join(&[""]), "");
        assert_eq!(join(&["", ""]), "");
        assert_eq!(join(&["/", ""]), "/");
        assert_eq!(join(&["", "a"]), "a");
        assert_eq!(join(&["/prefix", "/app"]), "/prefix/app");
        assert_eq!(join(&["/prefix/", "app/"]), "/prefix/app");
        assert_eq!(join(&["/p", ""]), "/p");
        assert_eq!(join(&["a", "", "b"]), "a/b");
        assert_eq!(join(&["/", "/service_sgin/subdomain/x"]), "/service_sgin/subdomain/x");
        assert_eq!(join(&["/a", "../../.."]), "/");
    }

    #[test]
    fn base_and_dir_examples() {
        let base_cases = [
            ("", "."),
            ("/", "/"),
            ("///", "/"),
            ("a", "a"),
            ("/a/b/c", "c"),
            ("/a/b/c/", "c"),
            ("/a/b/c//", "c"),
            ("a/.", "."),
            ("x/..", ".."),
        ];
        for (input, want) in base_cases {
            assert_eq!(base(input), want, "base({input:?})");
        }
        let dir_cases = [
            ("", "."),
            ("x", "."),
            ("/", "/"),
            ("//", "/"),
            ("/x", "/"),
            ("/a/b/c", "/a/b"),
            ("/a/b/c/", "/a/b/c"),
            ("a//b", "a"),
            ("a/../b/c", "b"),
            ("/test/data/abc", "/test/data"),
        ];
        for (input, want) in dir_cases {
            assert_eq!(dir(input), want, "dir({input:?})");
        }
    }

    #[test]
    fn match_examples() {
        assert_eq!(path_match("", ""), Ok(true));
        assert_eq!(path_match("", "a"), Ok(false));
        assert_eq!(path_match("*", ""), Ok(true));
        assert_eq!(path_match("*", "a/b"), Ok(false));
        assert_eq!(path_match("/app/*", "/app/a"), Ok(true));
        assert_eq!(path_match("/app/*", "/app/a/b"), Ok(false));
        assert_eq!(path_match("/app/*/*", "/app/a/b"), Ok(true));
        assert_eq!(path_match("a?c", "abc"), Ok(true));
        assert_eq!(path_match("a?c", "a/c"), Ok(false));
        assert_eq!(path_match("[a-c]x", "bx"), Ok(true));
        assert_eq!(path_match("[^a-c]x", "bx"), Ok(false));
        assert_eq!(path_match("[^a-c]x", "dx"), Ok(true));
        assert_eq!(path_match("[!a]", "!"), Ok(true));
        assert_eq!(path_match("[!a]", "b"), Ok(false));
        assert_eq!(path_match("\\*", "*"), Ok(true));
        assert_eq!(path_match("\\*", "a"), Ok(false));
        assert_eq!(path_match("[\\]]", "]"), Ok(true));
        assert_eq!(path_match("?", "é"), Ok(true));
        assert_eq!(path_match("[é]", "é"), Ok(true));
        // A star skips bytes: the class sees the tail byte of 'é' as an invalid rune.
        assert_eq!(path_match("*[\u{FFFD}]", "é"), Ok(true));
    }

    #[test]
    fn malformed_patterns_fail_for_every_name() {
        for pattern in ["[", "[]", "[]a]", "[a-", "[-a]", "[a-]", "\\", "a\\", "*[", "x*[", "[^]"] {
            for name in ["", "a", "x", "[", "abc", "/"] {
                assert_eq!(path_match(pattern, name), Err(PatternError), "{pattern:?} {name:?}");
            }
        }
        assert_eq!(PatternError.to_string(), "syntax error in pattern");
    }

    #[test]
    fn literal_prefix_stops_at_first_special() {
        assert_eq!(literal_prefix("/app/*"), "/app/");
        assert_eq!(literal_prefix("/app/x?"), "/app/x");
        assert_eq!(literal_prefix("/a[b]"), "/a");
        assert_eq!(literal_prefix("/a\\*"), "/a");
        assert_eq!(literal_prefix("/plain"), "/plain");
        assert_eq!(literal_prefix("*"), "");
    }
}
