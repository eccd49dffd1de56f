//! The one rule for "the keys under a key", shared by every backend, the watch and the
//! binary.

use std::collections::BTreeMap;
use std::ops::Bound;

/// A path-aware key prefix: it selects the key itself and every key below `key/`, never a
/// sibling (`/app` selects `/app` and `/app/x`, not `/app2` or `/app-x`). A trailing `/` is
/// ignored (`/app/` is `/app`), and `/` (or the empty prefix) selects every key.
///
/// This is confd's etcd v3 rule (`k == key || HasPrefix(k, key + "/")`), except that `/`
/// selects everything where confd, taking `"/" + "/"` literally, selects only keys starting
/// with `//` (so that a resource with `keys = ["/"]` sees the store, as `ls "/"` does here).
/// confd's file backend keeps raw string prefixes instead (`confd_backend::filter_by_keys`).
///
/// ```
/// use confd_kv::KeyPrefix;
/// let p = KeyPrefix::new("/app/");
/// assert!(p.selects("/app") && p.selects("/app/x/y"));
/// assert!(!p.selects("/app2") && !p.selects("/app-x/y"));
/// assert!(KeyPrefix::new("/").selects("/anything"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyPrefix(String);

impl KeyPrefix {
    pub fn new(raw: &str) -> KeyPrefix {
        KeyPrefix(raw.trim_end_matches('/').to_string())
    }

    /// The normalised prefix: no trailing `/`; empty for "every key".
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it selects every key.
    pub fn is_everything(&self) -> bool {
        self.0.is_empty()
    }

    /// How it is named in messages: as written without a trailing `/`, `/` for everything.
    pub fn display(&self) -> &str {
        if self.0.is_empty() {
            "/"
        } else {
            &self.0
        }
    }

    /// Whether `key` is this prefix or below it.
    pub fn selects(&self, key: &str) -> bool {
        match key.strip_prefix(self.0.as_str()) {
            Some(rest) => self.0.is_empty() || rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }

    /// Whether every key `other` selects is also selected by `self`.
    pub fn covers(&self, other: &KeyPrefix) -> bool {
        self.selects(&other.0)
    }

    /// The entries of `map` it selects, in key order; costs what it returns (a range scan,
    /// plus the siblings that sort between, such as `/app-x` for `/app`).
    pub fn select<'a, V>(
        &'a self,
        map: &'a BTreeMap<String, V>,
    ) -> impl Iterator<Item = (&'a String, &'a V)> + 'a {
        map.range::<str, _>((Bound::Included(self.0.as_str()), Bound::Unbounded))
            .take_while(move |(k, _)| k.starts_with(self.0.as_str()))
            .filter(move |(k, _)| self.selects(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_is_path_aware() {
        let p = KeyPrefix::new("/app/upstream");
        assert!(p.selects("/app/upstream"));
        assert!(p.selects("/app/upstream/a"));
        assert!(p.selects("/app/upstream//a"));
        assert!(!p.selects("/app/upstreamX"));
        assert!(!p.selects("/app/upstream-x/a"));
        assert!(!p.selects("/app/upstrea"));
        assert!(!p.selects("/app"));
    }

    #[test]
    fn trailing_slash_and_everything() {
        assert_eq!(KeyPrefix::new("/app/"), KeyPrefix::new("/app"));
        for all in ["/", "", "//"] {
            let p = KeyPrefix::new(all);
            assert!(p.is_everything() && p.selects("/x") && p.selects("no-slash"), "{all:?}");
            assert_eq!(p.display(), "/");
        }
        assert!(KeyPrefix::new("/").covers(&KeyPrefix::new("/a")));
        assert!(!KeyPrefix::new("/a").covers(&KeyPrefix::new("/")));
    }

    #[test]
    fn select_takes_the_key_and_what_is_below_it() {
        let map: BTreeMap<String, u8> = ["/app", "/app-x", "/app/", "/app/x", "/app0", "/b"]
            .iter()
            .map(|k| (k.to_string(), 0))
            .collect();
        let keys = |p: &str| {
            let p = KeyPrefix::new(p);
            p.select(&map).map(|(k, _)| k.clone()).collect::<Vec<_>>()
        };
        assert_eq!(keys("/app"), ["/app", "/app/", "/app/x"]);
        assert_eq!(keys("/"), ["/app", "/app-x", "/app/", "/app/x", "/app0", "/b"]);
        assert!(keys("/c").is_empty());
    }
}
