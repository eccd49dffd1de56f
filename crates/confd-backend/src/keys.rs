//! Choosing the keys a template resource asked for.

use std::collections::BTreeMap;

/// confd's file backend: keep every key that **starts with** one of `keys`, as a raw string
/// prefix. So `/app` keeps `/app`, `/app/x`, but also `/app2` and `/apple/x`; `""` keeps
/// everything. This is what confd does (`strings.HasPrefix(k, key)`), and what templates written
/// for confd's file backend may rely on; it is the default for the file backend.
pub fn filter_by_keys(all: &BTreeMap<String, String>, keys: &[String]) -> BTreeMap<String, String> {
    filter_with(all, keys)
}

/// The path-aware rule of [`confd_kv::KeyPrefix`] (confd's etcd v3 rule): keep a key equal to
/// one of `keys` or below it. `/app` keeps `/app` and `/app/x` but not `/app2`; `/` keeps
/// everything.
pub fn filter_by_keys_path_aware(
    all: &BTreeMap<String, String>,
    keys: &[String],
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for key in keys {
        for (k, v) in confd_kv::KeyPrefix::new(key).select(all) {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// confd's file-backend rule for one key: whether it starts with one of `keys` (raw prefix).
pub(crate) fn starts_with_any(key: &str, keys: &[String]) -> bool {
    keys.iter().any(|k| key.starts_with(k.as_str()))
}

/// Keys of `all` that start with one of `keys`.
fn filter_with(all: &BTreeMap<String, String>, keys: &[String]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for key in keys {
        let candidates = all
            .range::<str, _>((std::ops::Bound::Included(key.as_str()), std::ops::Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(key.as_str()));
        for (k, v) in candidates {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> BTreeMap<String, String> {
        ["/app", "/app/x", "/app/x/y", "/app2", "/apple/x", "/ap", "/b", "/app/", "//z"]
            .iter()
            .map(|k| (k.to_string(), format!("v{k}")))
            .collect()
    }

    fn keys_of(m: &BTreeMap<String, String>) -> Vec<&str> {
        m.keys().map(String::as_str).collect()
    }

    #[test]
    fn raw_prefix_is_confds_file_backend_rule() {
        let all = store();
        let got = filter_by_keys(&all, &["/app".to_string()]);
        assert_eq!(keys_of(&got), ["/app", "/app/", "/app/x", "/app/x/y", "/app2", "/apple/x"]);
        assert_eq!(got["/app/x"], "v/app/x");
        let got = filter_by_keys(&all, &["/b".to_string(), "/ap".to_string()]);
        assert_eq!(got.len(), 8);
        assert_eq!(filter_by_keys(&all, &[String::new()]).len(), all.len());
        assert!(filter_by_keys(&all, &[]).is_empty());
        assert!(filter_by_keys(&all, &["/nothing".to_string()]).is_empty());
    }

    #[test]
    fn path_aware_is_the_key_prefix_rule() {
        let all = store();
        let got = filter_by_keys_path_aware(&all, &["/app".to_string()]);
        assert_eq!(keys_of(&got), ["/app", "/app/", "/app/x", "/app/x/y"]);
        let got = filter_by_keys_path_aware(&all, &["/app/x".to_string()]);
        assert_eq!(keys_of(&got), ["/app/x", "/app/x/y"]);
        let got = filter_by_keys_path_aware(&all, &["/".to_string()]);
        assert_eq!(got.len(), all.len(), "`/` is everything");
        let got = filter_by_keys_path_aware(&all, &["/app/".to_string()]);
        assert_eq!(keys_of(&got), ["/app", "/app/", "/app/x", "/app/x/y"], "as `/app`");
    }
}
