//! The etcd ranges that fetch and watch what a prefix selects. Which keys a prefix selects is
//! [`confd_kv::KeyPrefix`]'s rule, the same the binary's in-memory models apply, so a snapshot
//! read here and a lookup there agree.

/// Prefixes are confd-kv's [`KeyPrefix`]: one rule everywhere.
pub(crate) use confd_kv::KeyPrefix as Prefix;

/// What etcd is asked for to fetch or watch the keys a prefix selects.
pub(crate) trait EtcdRanges {
    /// The ranges a consistent read asks for: the key itself and `[k/, k0)` (`0` is the byte
    /// after `/`), or all keys for the empty prefix.
    fn read_ranges(&self) -> Vec<KeyRange>;

    /// The one range a watch covers: `[k, k0)`, i.e. the key, everything below `k/` and the
    /// siblings that sort between (`k-x`, `k.x`), which the watcher drops. One range rather
    /// than two keeps every event of a transaction in one watch response.
    fn watch_range(&self) -> KeyRange;
}

impl EtcdRanges for Prefix {
    fn read_ranges(&self) -> Vec<KeyRange> {
        if self.is_everything() {
            return vec![KeyRange::all()];
        }
        let key = self.as_str().as_bytes().to_vec();
        let mut below = key.clone();
        below.push(b'/');
        let mut end = key.clone();
        end.push(b'0');
        vec![KeyRange { key, end: Vec::new() }, KeyRange { key: below, end }]
    }

    fn watch_range(&self) -> KeyRange {
        if self.is_everything() {
            return KeyRange::all();
        }
        let key = self.as_str().as_bytes().to_vec();
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
        if prefixes.iter().any(Prefix::is_everything) {
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
    fn everything_is_one_range() {
        let root = Prefix::new("/");
        assert_eq!(root.read_ranges(), vec![KeyRange { key: vec![0], end: vec![0] }]);
        assert_eq!(root.watch_range(), KeyRange { key: vec![0], end: vec![0] });
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
