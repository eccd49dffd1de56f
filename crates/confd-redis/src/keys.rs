//! confd's mapping between its keys (`/a/b`) and redis keys, and the glob patterns of SCAN and
//! PSUBSCRIBE. Pure.

/// How confd keys map to redis keys.
#[derive(Clone, Debug)]
pub(crate) struct KeyMap {
    /// Never empty; `/` means keys are stored as they are.
    sep: String,
}

/// One key of a read or watch, cleaned and mapped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Wanted {
    /// The key as asked for, with every `/*` removed and trailing `/` dropped: the result key
    /// of a string value.
    pub(crate) key: String,
    /// The redis key.
    pub(crate) redis: String,
    /// True for `/` (and a key that cleaning leaves empty): everything in the database.
    pub(crate) everything: bool,
}

impl KeyMap {
    /// `sep` as given; `""` means `/`.
    pub(crate) fn new(sep: &str) -> KeyMap {
        KeyMap { sep: if sep.is_empty() { "/".to_string() } else { sep.to_string() } }
    }

    /// confd's key → the redis key: with a separator other than `/`, the leading `/` goes and
    /// every other `/` becomes the separator.
    pub(crate) fn to_redis(&self, key: &str) -> String {
        if self.sep == "/" {
            key.to_string()
        } else {
            key.strip_prefix('/').unwrap_or(key).replace('/', &self.sep)
        }
    }

    /// A redis key → confd's key: `/` first (if missing), every separator becomes `/`.
    pub(crate) fn to_confd(&self, key: &[u8]) -> String {
        let key = String::from_utf8_lossy(key);
        let key = key.replace(self.sep.as_str(), "/");
        if key.starts_with('/') {
            key
        } else {
            format!("/{key}")
        }
    }

    /// The result key of hash field `field` of redis key `redis`.
    pub(crate) fn hash_field(&self, redis: &str, field: &[u8]) -> String {
        let mut full = format!("{redis}/").into_bytes();
        full.extend_from_slice(field);
        self.to_confd(&full)
    }

    /// Cleans one asked-for key as confd does (every `/*` removed) and drops trailing `/`s,
    /// so that `/app/` means `/app` (confd would look for `/app//*` and find nothing).
    pub(crate) fn wanted(&self, key: &str) -> Wanted {
        let key = key.replace("/*", "");
        let trimmed = key.trim_end_matches('/');
        let everything = trimmed.is_empty();
        let key = if everything { "/".to_string() } else { trimmed.to_string() };
        Wanted { redis: self.to_redis(&key), key, everything }
    }

    /// The SCAN pattern of the keys under `w`: `<key><sep>*`, the key part escaped; `*` for
    /// everything.
    pub(crate) fn scan_pattern(&self, w: &Wanted) -> String {
        if w.everything {
            "*".to_string()
        } else {
            format!("{}{}*", glob_escape(&w.redis), glob_escape(&self.sep))
        }
    }

    /// The keyspace channel pattern for `w` in database `db`: every key starting with the
    /// redis key (so also `/appX` for `/app`: a spurious re-read costs nothing).
    pub(crate) fn watch_pattern(&self, w: &Wanted, db: u32) -> String {
        let prefix = if w.everything { String::new() } else { glob_escape(&w.redis) };
        format!("__keyspace@{db}__:{prefix}*")
    }
}

/// Escapes redis glob's special characters (`* ? [ ] \`) with a backslash, so a key matches
/// itself only. confd puts keys into patterns as they are; this is a deliberate difference.
pub(crate) fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_separator_keeps_keys() {
        let m = KeyMap::new("");
        let w = m.wanted("/database/*");
        assert_eq!(
            (w.key.as_str(), w.redis.as_str(), w.everything),
            ("/database", "/database", false)
        );
        assert_eq!(m.scan_pattern(&w), "/database/*");
        assert_eq!(m.watch_pattern(&w, 0), "__keyspace@0__:/database*");
        assert_eq!(m.to_confd(b"/database/host"), "/database/host");
        assert_eq!(m.to_confd(b"plain"), "/plain");
        assert_eq!(m.hash_field("/database", b"host"), "/database/host");
        assert_eq!(m.wanted("/app/").key, "/app");
    }

    #[test]
    fn root_means_everything() {
        let m = KeyMap::new("/");
        for key in ["/", "/*", "", "//"] {
            let w = m.wanted(key);
            assert!(w.everything, "{key:?}");
            assert_eq!(w.key, "/");
            assert_eq!(m.scan_pattern(&w), "*");
            assert_eq!(m.watch_pattern(&w, 3), "__keyspace@3__:*");
        }
        let colon = KeyMap::new(":");
        assert_eq!(colon.scan_pattern(&colon.wanted("/")), "*");
    }

    #[test]
    fn other_separator_maps_both_ways() {
        let m = KeyMap::new(":");
        let w = m.wanted("/database/creds");
        assert_eq!(w.redis, "database:creds");
        assert_eq!(w.key, "/database/creds");
        assert_eq!(m.scan_pattern(&w), "database:creds:*");
        assert_eq!(m.watch_pattern(&w, 0), "__keyspace@0__:database:creds*");
        assert_eq!(m.to_confd(b"database:creds:user"), "/database/creds/user");
        assert_eq!(m.hash_field("database", b"host"), "/database/host");
        // A separator that is itself a glob character is escaped in patterns.
        let star = KeyMap::new("*");
        assert_eq!(star.scan_pattern(&star.wanted("/a")), "a\\**");
    }

    #[test]
    fn glob_characters_are_escaped() {
        assert_eq!(glob_escape(r"/a*b?c[d]e\f"), r"/a\*b\?c\[d\]e\\f");
        let m = KeyMap::new("/");
        assert_eq!(m.scan_pattern(&m.wanted("/s[1]")), r"/s\[1\]/*");
    }

    #[test]
    fn non_utf8_keys_are_replaced_not_refused() {
        let m = KeyMap::new("/");
        assert_eq!(m.to_confd(b"/a/\xff"), "/a/\u{fffd}");
    }
}
