//! Path-aware prefixes: which keys a prefix selects, and the etcd ranges that fetch them.
//!
//! confd's rule (its `GetValues`): a prefix `k` selects the key `k` itself and every key below
//! `k/`, never a sibling such as `kX` or `k-x`. A trailing `/` is ignored (`/app/` is `/app`) and
//! the prefix `/` (or the empty prefix) selects every key. This is the same rule the binary's
//! in-memory store applies, so a snapshot read here and a lookup there agree.

/// A normalised prefix: no trailing `/`; empty means "every key".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Prefix(String);

impl Prefix {
    pub(crate) fn new(raw: &str) -> Prefix {
        Prefix(raw.trim_end_matches('/').to_string())
    }

    #[cfg(test)]
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// How the prefix is named in messages: as the user wrote it, `/` for everything.
    pub(crate) fn display(&self) -> &str {
        if self.0.is_empty() {
            "/"
        } else {
            &self.0
        }
    }

    /// Whether `key` is this prefix or below it.
    pub(crate) fn selects(&self, key: &str) -> bool {
        if self.0.is_empty() {
            return true;
        }
        match key.strip_prefix(self.0.as_str()) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }

    /// Whether every key `other` selects is also selected by `self`.
    fn covers(&self, other: &Prefix) -> bool {
        self.selects(&other.0)
    }

    /// The ranges a consistent read asks for: the key itself and `[k/, k0)` (`0` is the byte
    /// after `/`), or all keys for the empty prefix.
    pub(crate) fn read_ranges(&self) -> Vec<KeyRange> {
        if self.0.is_empty() {
            return vec![KeyRange::all()];
        }
        let key = self.0.as_bytes().to_vec();
        let mut below = key.clone();
        below.push(b'/');
        let mut end = key.clone();
        end.push(b'0');
        vec![KeyRange { key, end: Vec::new() }, KeyRange { key: below, end }]
    }

    /// The one range a watch covers: `[k, k0)`, i.e. the key, everything below `k/` and the
    /// siblings that sort between (`k-x`, `k.x`), which the watcher drops. One range rather
    /// than two keeps every event of a transaction in one watch response.
    pub(crate) fn watch_range(&self) -> KeyRange {
        if self.0.is_empty() {
            return KeyRange::all();
        }
        let key = self.0.as_bytes().to_vec();
        let mut end = key.clone();
        end.push(b'0');
        KeyRange { key, end }
    }
}

/// `[key, end)`; an empty `end` means the single key, `end == "\0"` means "to the end".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyRange {
    pub key: Vec<u8>,
    pub end: Vec<u8>,
}

impl KeyRange {
    fn all() -> KeyRange {
        KeyRange { key: vec![0], end: vec![0] }
    }

    /// The one range that covers the watch ranges of all `prefixes`: from the smallest to the
    /// end of the largest (keys between them that no prefix selects are dropped by the
    /// watcher). Everything when a prefix is empty.
    pub(crate) fn covering(prefixes: &[Prefix]) -> KeyRange {
        if prefixes.iter().any(|p| p.0.is_empty()) {
            return KeyRange::all();
        }
        let ranges: Vec<KeyRange> = prefixes.iter().map(Prefix::watch_range).collect();
        let key = ranges.iter().map(|r| r.key.clone()).min();
        let end = ranges.iter().map(|r| r.end.clone()).max();
        match (key, end) {
            (Some(key), Some(end)) => KeyRange { key, end },
            _ => KeyRange::all(),
        }
    }
}

/// The distinct prefixes to read or watch: normalised, sorted, and without those another one
/// already covers (`/app` makes `/app/upstream` redundant; `/` makes everything redundant), so
/// no key is fetched or delivered twice.
pub(crate) fn cover(raw: &[String]) -> Vec<Prefix> {
    let mut all: Vec<Prefix> = raw.iter().map(|p| Prefix::new(p)).collect();
    all.sort();
    all.dedup();
    let mut out: Vec<Prefix> = Vec::new();
    for p in all {
        // Sorted order puts a covering prefix before what it covers, except that `/a` sorts
        // after `/a-b` but covers only `/a/...`: compare against everything kept so far.
        if !out.iter().any(|q| q.covers(&p)) {
            out.retain(|q| !p.covers(q));
            out.push(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn selects_is_path_aware() {
        let p = Prefix::new("/app/upstream");
        assert!(p.selects("/app/upstream"));
        assert!(p.selects("/app/upstream/a"));
        assert!(p.selects("/app/upstream//a"));
        assert!(!p.selects("/app/upstreamX"));
        assert!(!p.selects("/app/upstream-x/a"));
        assert!(!p.selects("/app/upstrea"));
        assert!(!p.selects("/app"));
    }

    #[test]
    fn trailing_slash_and_root() {
        assert_eq!(Prefix::new("/app/"), Prefix::new("/app"));
        let root = Prefix::new("/");
        assert!(root.selects("/anything"));
        assert!(root.selects("no-leading-slash"));
        assert_eq!(root.display(), "/");
        assert_eq!(root.read_ranges(), vec![KeyRange { key: vec![0], end: vec![0] }]);
    }

    #[test]
    fn ranges() {
        let p = Prefix::new("/a");
        assert_eq!(
            p.read_ranges(),
            vec![
                KeyRange { key: b"/a".to_vec(), end: vec![] },
                KeyRange { key: b"/a/".to_vec(), end: b"/a0".to_vec() },
            ]
        );
        assert_eq!(p.watch_range(), KeyRange { key: b"/a".to_vec(), end: b"/a0".to_vec() });
    }

    #[test]
    fn the_covering_range_spans_every_prefix() {
        let c = cover(&strings(&["/dc/upstream", "/dc/subdomain"]));
        assert_eq!(
            KeyRange::covering(&c),
            KeyRange { key: b"/dc/subdomain".to_vec(), end: b"/dc/upstream0".to_vec() }
        );
        assert_eq!(KeyRange::covering(&[Prefix::new("/a")]), Prefix::new("/a").watch_range());
        assert_eq!(KeyRange::covering(&cover(&strings(&["/a", "/"]))), KeyRange::all());
    }

    #[test]
    fn cover_removes_redundant_prefixes() {
        let c = cover(&strings(&["/app/upstream", "/app", "/app-x", "/app/", "/b/c", "/b"]));
        let got: Vec<&str> = c.iter().map(|p| p.as_str()).collect();
        assert_eq!(got, vec!["/app", "/app-x", "/b"]);
        let c = cover(&strings(&["/x", "/", "/y/z"]));
        assert_eq!(c, vec![Prefix::new("")]);
        let c = cover(&strings(&["/a-b", "/a/c", "/a"]));
        let got: Vec<&str> = c.iter().map(|p| p.as_str()).collect();
        assert_eq!(got, vec!["/a", "/a-b"]);
    }
}
