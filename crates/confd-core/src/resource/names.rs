//! Matching TOML keys the way Go's BurntSushi/toml matches struct fields, and suggesting the
//! closest known key for a misspelt one.

/// Go's `strings.EqualFold` for the short ASCII-ish names of TOML keys: equal under simple
/// case folding (`Dest` = `DEST` = `dest`; `ſ` folds to `s` and the Kelvin sign to `k`, as in
/// Go).
pub fn equal_fold(a: &str, b: &str) -> bool {
    let mut a = a.chars();
    let mut b = b.chars();
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if fold_char_eq(x, y) => {}
            _ => return false,
        }
    }
}

fn fold_char_eq(x: char, y: char) -> bool {
    fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
        let c = it.next()?;
        it.next().is_none().then_some(c)
    }
    x == y
        || matches!((single(x.to_lowercase()), single(y.to_lowercase())), (Some(p), Some(q)) if p == q)
        || matches!((single(x.to_uppercase()), single(y.to_uppercase())), (Some(p), Some(q)) if p == q)
}

/// The candidate closest to `word` by edit distance (ignoring case), if it is close enough to
/// be a likely typo: at most 2 edits, and at most a third of the word's length.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_lower = word.to_lowercase();
    let len = word_lower.chars().count();
    let mut best: Option<(usize, &'a str)> = None;
    for cand in candidates {
        let d = edit_distance(&word_lower, &cand.to_lowercase());
        if d <= 2 && d * 3 <= len && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(ca != cb);
            cur[j + 1] = subst.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The 1-based line of a byte offset in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].iter().filter(|&&c| c == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold() {
        assert!(equal_fold("Dest", "dest"));
        assert!(equal_fold("CHECK_CMD", "check_cmd"));
        assert!(equal_fold("\u{17f}rc", "src"));
        assert!(equal_fold("\u{212a}eys", "keys"));
        assert!(!equal_fold("dest", "dst"));
        assert!(!equal_fold("dest", "deste"));
    }

    #[test]
    fn suggestions() {
        let known = ["src", "dest", "keys", "reload_cmd", "check_cmd", "uid", "gid"];
        assert_eq!(closest("reload_comd", known), Some("reload_cmd"));
        assert_eq!(closest("check-cmd", known), Some("check_cmd"));
        assert_eq!(closest("dst", known), Some("dest"));
        assert_eq!(closest("key", known), Some("keys"));
        assert_eq!(closest("owner", known), None);
        assert_eq!(closest("x", known), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn lines() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
