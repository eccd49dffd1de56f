//! Property tests: the store's fast range-scan lookups against slow full scans.

mod common;

use common::{model_ls, model_lsdir};
use confd_kv::gopath::{self, path_match};
use confd_kv::{KvPair, PatternError, Store};
use proptest::prelude::*;
use std::collections::BTreeSet;

const SEGMENTS: &[&str] =
    &["a", "b", "ab", "a0", "a-b", "a.b", ".a", "-a", ".", "..", "...", "..a", ""];

/// Keys and paths over a small alphabet, so that they often share prefixes, plus the odd
/// cases memkv treats specially: relative paths, `//`, `.`, `..`, trailing slashes.
fn path_like() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&["/", "/", "/", "//", ""][..]),
        prop::collection::vec(prop::sample::select(SEGMENTS), 0..5),
    )
        .prop_map(|(lead, segs)| format!("{lead}{}", segs.join("/")))
}

/// Clean absolute keys (the shape confd itself stores), other than "/".
fn clean_key() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(&["a", "b", "ab", "a0", "a-b", "a.b", ".a", "-a"][..]),
        1..5,
    )
    .prop_map(|segs| format!("/{}", segs.join("/")))
}

/// A prefix of one of `keys`, cut anywhere: a directory, a key, or a broken name.
fn prefix_of(keys: Vec<String>) -> impl Strategy<Value = String> {
    any::<(prop::sample::Index, prop::sample::Index)>().prop_map(move |(which, cut)| {
        if keys.is_empty() {
            return "/".to_string();
        }
        let key = &keys[which.index(keys.len())];
        let mut at = cut.index(key.len() + 1);
        while !key.is_char_boundary(at) {
            at -= 1;
        }
        key[..at].to_string()
    })
}

fn keys_and_path(
    key: impl Strategy<Value = String>,
) -> impl Strategy<Value = (Vec<String>, String)> {
    prop::collection::vec(key, 0..12).prop_flat_map(|keys| {
        let path = prop_oneof![
            path_like(),
            prefix_of(keys.clone()),
            prefix_of(keys.clone()).prop_map(|p| format!("{p}/")),
        ];
        (Just(keys), path)
    })
}

/// Keys from very few elements, chosen so that paths ending in `.` or `..` are raw prefixes
/// of keys (`/a/.` of `/a/.b`) while other keys sort before them (`/a/-a`).
fn dense_key() -> impl Strategy<Value = String> {
    let segs = &["a", ".b", "-a", ".", ".."][..];
    (
        prop::sample::select(&["/", "/", "/", "//", ""][..]),
        prop::collection::vec(prop::sample::select(segs), 1..4),
    )
        .prop_map(|(lead, segs)| format!("{lead}{}", segs.join("/")))
}

fn pattern() -> impl Strategy<Value = String> {
    let atoms =
        &["a", "b", "/", "*", "?", "[a-b]", "[^a]", "\\", "\\*", "[", "]", "-", ".", "^", "ab"][..];
    prop::collection::vec(prop::sample::select(atoms), 0..7).prop_map(|atoms| atoms.concat())
}

fn build(keys: &[String]) -> Store {
    keys.iter().enumerate().map(|(i, key)| (key.as_str(), format!("v{}", i % 5))).collect()
}

fn strings(list: Vec<std::sync::Arc<str>>) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// `gets` the slow way: every key through path.Match, as memkv does (sorted afterwards).
fn naive_gets(store: &Store, pattern: &str) -> Result<Vec<KvPair>, PatternError> {
    let mut out = Vec::new();
    for (key, value) in store.iter() {
        if path_match(pattern, key)? {
            out.push(KvPair { key: key.clone(), value: value.clone() });
        }
    }
    Ok(out)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn from_sorted_equals_inserting_one_by_one(
        pairs in prop::collection::vec((path_like(), "[a-c]{0,2}"), 0..40),
        sort in any::<bool>(),
    ) {
        let mut pairs = pairs;
        if sort {
            pairs.sort();
            pairs.dedup_by(|a, b| a.0 == b.0);
        }
        let mut one_by_one = Store::new();
        for (k, v) in &pairs {
            one_by_one.insert(k.as_str(), v.as_str());
        }
        let bulk = Store::from_sorted(
            pairs.iter().map(|(k, v)| (std::sync::Arc::from(k.as_str()), std::sync::Arc::from(v.as_str()))),
        );
        prop_assert_eq!(bulk, one_by_one);
    }

    /// Many changes at once (merged in one pass) or a few (one by one): the same store as
    /// inserting and removing each in the order given, repeated keys and odd keys included.
    #[test]
    fn update_equals_each_change_in_turn(
        keys in prop::collection::vec(path_like(), 0..20),
        changes in prop::collection::vec((path_like(), prop::option::of("[a-c]{0,2}")), 0..30),
    ) {
        let mut one_by_one = build(&keys);
        let mut updated = one_by_one.clone();
        for (key, value) in &changes {
            match value {
                Some(value) => one_by_one.insert(key.as_str(), value.as_str()),
                None => drop(one_by_one.remove(key)),
            }
        }
        updated.update(changes.iter().map(|(key, value)| {
            (std::sync::Arc::from(key.as_str()), value.as_deref().map(std::sync::Arc::from))
        }));
        prop_assert_eq!(updated, one_by_one);
    }

    /// A scan starts near where the one before ended (the finger): whatever was asked before,
    /// in whatever order, the answers are the full scan's.
    #[test]
    fn lookups_do_not_depend_on_what_was_asked_before(
        (keys, paths) in prop::collection::vec(clean_key(), 0..40).prop_flat_map(|keys| {
            let paths = prop::collection::vec(prefix_of(keys.clone()), 0..8);
            (Just(keys), paths)
        }),
        star in prop::collection::vec(any::<bool>(), 8),
    ) {
        let store = build(&keys);
        for (i, path) in paths.iter().enumerate() {
            let pattern = if star[i] { format!("{path}/*") } else { format!("{path}*") };
            let got = store.gets(&pattern);
            prop_assert_eq!(&got, &naive_gets(&store, &pattern));
            let mut values: Vec<_> = got.unwrap_or_default().into_iter().map(|p| p.value).collect();
            values.sort();
            prop_assert_eq!(store.getvs(&pattern).unwrap_or_default(), values);
            prop_assert_eq!(store.get(path).map(|p| p.key), keys.iter().find(|k| *k == path).map(|k| k.as_str().into()));
        }
    }

    /// Clean keys are all regular: the bulk build that skips that check gives the same store.
    #[test]
    fn the_clean_build_equals_the_checked_one_for_clean_keys(
        keys in prop::collection::vec(clean_key(), 0..30),
    ) {
        let pairs = || keys.iter().map(|k| (std::sync::Arc::from(k.as_str()), std::sync::Arc::from("v")));
        prop_assert_eq!(Store::from_sorted_clean(pairs()), Store::from_sorted(pairs()));
    }

    #[test]
    fn is_clean_is_clean_unchanged(path in path_like()) {
        prop_assert_eq!(gopath::is_clean(&path), gopath::clean(&path) == path);
    }

    #[test]
    fn gets_equals_full_scan((keys, _) in keys_and_path(path_like()), pattern in pattern()) {
        let store = build(&keys);
        let got = store.gets(&pattern);
        prop_assert_eq!(&got, &naive_gets(&store, &pattern));
        let mut values: Vec<_> = got.unwrap_or_default().into_iter().map(|p| p.value).collect();
        values.sort();
        prop_assert_eq!(store.getvs(&pattern).unwrap_or_default(), values);
    }

    #[test]
    fn gets_with_key_derived_patterns((keys, path) in keys_and_path(clean_key()), suffix in pattern()) {
        let store = build(&keys);
        let pattern = format!("{path}{suffix}");
        prop_assert_eq!(store.gets(&pattern), naive_gets(&store, &pattern));
    }

    /// The usual `/dir/*` takes a path of its own; it must agree with the general matcher,
    /// trailing slash, `//` and a key equal to the directory included.
    #[test]
    fn a_trailing_star_pattern_equals_the_full_scan(
        (keys, path) in keys_and_path(path_like()),
        slash in any::<bool>(),
    ) {
        let store = build(&keys);
        let pattern = if slash { format!("{path}/*") } else { format!("{path}*") };
        prop_assert_eq!(store.gets(&pattern), naive_gets(&store, &pattern));
    }

    #[test]
    fn ls_and_lsdir_equal_memkv_off_root((keys, path) in keys_and_path(path_like())) {
        let store = build(&keys);
        let all = || keys.iter().map(String::as_str);
        prop_assert_eq!(strings(store.ls(&path)), model_ls(all(), &path, true));
        prop_assert_eq!(strings(store.lsdir(&path)), model_lsdir(all(), &path, true));
        if gopath::clean(&path) != "/" {
            prop_assert_eq!(strings(store.ls(&path)), model_ls(all(), &path, false));
            prop_assert_eq!(strings(store.lsdir(&path)), model_lsdir(all(), &path, false));
        }
    }

    #[test]
    fn ls_and_lsdir_on_dense_keys(keys in prop::collection::vec(dense_key(), 0..16)) {
        // Every prefix of every key, with and without a slash after it, as the path.
        let store = build(&keys);
        let all = || keys.iter().map(String::as_str);
        let mut paths = BTreeSet::new();
        for key in &keys {
            for end in (0..=key.len()).filter(|&end| key.is_char_boundary(end)) {
                paths.insert(key[..end].to_string());
                paths.insert(format!("{}/", &key[..end]));
            }
        }
        for path in &paths {
            prop_assert_eq!(strings(store.ls(path)), model_ls(all(), path, true), "ls {:?}", path);
            prop_assert_eq!(
                strings(store.lsdir(path)),
                model_lsdir(all(), path, true),
                "lsdir {:?}",
                path
            );
        }
    }

    #[test]
    fn ls_on_many_keys_walks_and_searches_past_subtrees(
        keys in prop::collection::vec(path_like(), 0..80),
        which in any::<prop::sample::Index>(),
        slash in any::<bool>(),
    ) {
        // Subtrees larger than the few keys `ls` walks past before it searches.
        let store = build(&keys);
        let all = || keys.iter().map(String::as_str);
        let mut path = if keys.is_empty() { "/".to_string() } else { keys[which.index(keys.len())].clone() };
        if let Some(cut) = path.rfind('/').filter(|_| !slash) {
            path.truncate(cut.max(1));
        }
        prop_assert_eq!(strings(store.ls(&path)), model_ls(all(), &path, true), "ls {:?}", path);
        if gopath::clean(&path) != "/" {
            prop_assert_eq!(strings(store.ls(&path)), model_ls(all(), &path, false));
        }
    }

    #[test]
    fn ls_and_lsdir_on_clean_keys((keys, path) in keys_and_path(clean_key())) {
        let store = build(&keys);
        let all = || keys.iter().map(String::as_str);
        prop_assert_eq!(strings(store.ls(&path)), model_ls(all(), &path, true));
        prop_assert_eq!(strings(store.lsdir(&path)), model_lsdir(all(), &path, true));
    }

    #[test]
    fn ls_of_root_is_the_set_of_first_segments(keys in prop::collection::vec(clean_key(), 0..12)) {
        let store = build(&keys);
        let first: BTreeSet<String> =
            keys.iter().map(|k| k[1..].split('/').next().unwrap().to_string()).collect();
        let dirs: BTreeSet<String> = keys
            .iter()
            .filter(|k| k[1..].contains('/'))
            .map(|k| k[1..].split('/').next().unwrap().to_string())
            .collect();
        prop_assert_eq!(strings(store.ls("/")), first.into_iter().collect::<Vec<_>>());
        prop_assert_eq!(strings(store.lsdir("/")), dirs.into_iter().collect::<Vec<_>>());
    }

    #[test]
    fn removing_keys_is_like_never_inserting(
        (keys, path) in keys_and_path(path_like()),
        drop in prop::collection::vec(any::<bool>(), 12),
    ) {
        let keys: Vec<String> = keys.into_iter().collect::<BTreeSet<_>>().into_iter().collect();
        let mut store = build(&keys);
        let mut kept = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            if drop[i] {
                store.remove(key);
            } else {
                kept.push(key.as_str());
            }
        }
        prop_assert_eq!(strings(store.ls(&path)), model_ls(kept.iter().copied(), &path, true));
        prop_assert_eq!(strings(store.lsdir(&path)), model_lsdir(kept.iter().copied(), &path, true));
    }

    #[test]
    fn match_error_does_not_depend_on_name(pattern in pattern(), name in "[ab/*?\\[\\]\\\\é-]{0,6}") {
        prop_assert_eq!(path_match(&pattern, &name).is_err(), path_match(&pattern, "").is_err());
    }

    #[test]
    fn match_never_panics(pattern in any::<String>(), name in any::<String>()) {
        let _ = path_match(&pattern, &name);
    }

    #[test]
    fn clean_is_idempotent_and_join_cleans(parts in prop::collection::vec(path_like(), 0..4)) {
        for part in &parts {
            let once = gopath::clean(part);
            prop_assert_eq!(gopath::clean(&once), once.clone());
            prop_assert!(!once.is_empty());
        }
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        let joined = gopath::join(&refs);
        let non_empty: Vec<&str> = refs.iter().copied().filter(|p| !p.is_empty()).collect();
        if non_empty.is_empty() {
            prop_assert_eq!(joined, "");
        } else {
            prop_assert_eq!(joined, gopath::clean(&non_empty.join("/")));
        }
    }
}
