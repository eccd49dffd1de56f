//! The store's lookups on the examples of confd's behaviour document (§4.1 memkv functions,
//! §6.1 confd's own unit tests) and on the corner cases of memkv's `ls`/`lsdir`.

use confd_kv::{KvPair, PatternError, Store};
use std::sync::Arc;

fn store(pairs: &[(&str, &str)]) -> Store {
    pairs.iter().copied().collect()
}

fn keys_only(keys: &[&str]) -> Store {
    keys.iter().map(|key| (*key, "v")).collect()
}

fn list(items: Vec<Arc<str>>) -> Vec<String> {
    items.iter().map(|item| item.to_string()).collect()
}

fn pair(key: &str, value: &str) -> KvPair {
    KvPair { key: key.into(), value: value.into() }
}

/// The store of the behaviour document's §4.1 examples.
fn app_store() -> Store {
    store(&[
        ("/app/a", "1"),
        ("/app/b/c", "2"),
        ("/app/b/d", "3"),
        ("/app/e/f/g", "4"),
        ("/app/list/0", "x"),
        ("/app/list/1", "y"),
        ("/top", "t"),
    ])
}

#[test]
fn build_len_iter_remove() {
    let mut s = Store::new();
    assert!(s.is_empty());
    s.insert("/b", "2");
    s.insert(String::from("/a"), Arc::<str>::from("1"));
    s.insert("/b", "3");
    assert_eq!(s.len(), 2);
    let all: Vec<(&str, &str)> = s.iter().map(|(k, v)| (&**k, &**v)).collect();
    assert_eq!(all, [("/a", "1"), ("/b", "3")]);
    assert_eq!(s.remove("/b").as_deref(), Some("3"));
    assert_eq!(s.remove("/b"), None);
    assert_eq!(s.len(), 1);
    assert_eq!(s, store(&[("/a", "1")]));
}

#[test]
fn get_and_exists_are_exact() {
    let s = app_store();
    assert_eq!(s.get("/app/a"), Some(pair("/app/a", "1")));
    assert_eq!(s.get("/app/b"), None); // a directory is not a key
    assert_eq!(s.get("/app/a/"), None);
    assert_eq!(s.get("app/a"), None);
    assert!(s.exists("/app/a"));
    assert!(!s.exists("/app/b"), "exists is false for directories (confd issue #273)");
    assert!(!s.exists("/app"));
    let empty_value = store(&[("/k", "")]);
    assert_eq!(empty_value.get("/k"), Some(pair("/k", "")));
    assert!(empty_value.exists("/k"));
}

#[test]
fn confd_unit_test_get_and_gets() {
    // §6.1: `/test/user=mary`, `/test/pass=abc`, `/nada/url`: gets "/test/*" is in key order.
    let s = store(&[("/test/user", "mary"), ("/test/pass", "abc"), ("/nada/url", "url")]);
    assert_eq!(s.gets("/test/*").unwrap(), [pair("/test/pass", "abc"), pair("/test/user", "mary")]);
    let values: Vec<String> = list(s.getvs("/test/*").unwrap());
    assert_eq!(values, ["abc", "mary"]);
    let s = store(&[("/test/key", "abc")]);
    assert_eq!(s.get("/test/key").unwrap().value.as_ref(), "abc");
}

#[test]
fn gets_does_not_descend() {
    let s = app_store();
    assert_eq!(s.gets("/app/*").unwrap(), [pair("/app/a", "1")]);
    let keys: Vec<String> = s.gets("/app/*/*").unwrap().iter().map(|p| p.key.to_string()).collect();
    assert_eq!(keys, ["/app/b/c", "/app/b/d", "/app/list/0", "/app/list/1"]);
    assert_eq!(s.gets("/*").unwrap(), [pair("/top", "t")]);
    assert_eq!(s.gets("/app/[ab]*").unwrap(), [pair("/app/a", "1")]);
    assert_eq!(s.gets("/app/?").unwrap(), [pair("/app/a", "1")]);
    assert_eq!(s.gets("/app/\\a").unwrap(), [pair("/app/a", "1")]);
    assert_eq!(s.gets("/app/[^a]/c").unwrap(), [pair("/app/b/c", "2")]);
    assert_eq!(s.gets("/app/a").unwrap(), [pair("/app/a", "1")]);
    assert_eq!(s.gets("/missing/*").unwrap(), []);
    assert_eq!(s.gets("*").unwrap(), [], "keys start with / and * does not cross it");
}

#[test]
fn gets_bad_pattern() {
    let s = app_store();
    for bad in ["[", "[]a]", "/app/[", "/zzz/[", "\\", "/app/*[a-"] {
        assert_eq!(s.gets(bad), Err(PatternError), "{bad:?}");
        assert_eq!(s.getvs(bad), Err(PatternError), "{bad:?}");
    }
    assert_eq!(s.gets("[").unwrap_err().to_string(), "syntax error in pattern");
    // memkv only calls path.Match on stored keys: an empty store never sees the bad pattern.
    assert_eq!(Store::new().gets("["), Ok(vec![]));
    assert_eq!(Store::new().getvs("["), Ok(vec![]));
}

#[test]
fn getvs_sorts_by_value() {
    let s = store(&[("/v/1", "a-val"), ("/v/2", "B-val"), ("/v/3", "a-val"), ("/w", "0")]);
    assert_eq!(list(s.getvs("/v/*").unwrap()), ["B-val", "a-val", "a-val"]);
    assert_eq!(list(s.getvs("/nothing/*").unwrap()), Vec::<String>::new());
}

#[test]
fn confd_unit_test_ls_and_lsdir() {
    // §6.1.
    let s = keys_only(&["/test/data/abc", "/test/data/def", "/test/data/ghi"]);
    assert_eq!(list(s.ls("/test/data")), ["abc", "def", "ghi"]);
    let s = keys_only(&["/test/data/abc", "/test/data/def/ghi", "/test/data/jkl/mno"]);
    assert_eq!(list(s.lsdir("/test/data")), ["def", "jkl"]);
    assert_eq!(list(s.ls("/test/data")), ["abc", "def", "jkl"]);
}

#[test]
fn ls_examples_from_the_behaviour_doc() {
    let s = app_store();
    assert_eq!(list(s.ls("/app")), ["a", "b", "e", "list"]);
    assert_eq!(list(s.ls("/app/")), ["a", "b", "e", "list"], "a trailing slash is fine");
    assert_eq!(list(s.ls("/app/a")), ["a"], "a leaf lists its own name");
    assert_eq!(list(s.ls("/app/b")), ["c", "d"]);
    assert_eq!(list(s.ls("/nope")), Vec::<String>::new());
    assert_eq!(list(s.ls("app")), Vec::<String>::new(), "no leading slash");
    assert_eq!(list(s.ls("/ap")), Vec::<String>::new(), "not a raw prefix match");
    assert_eq!(list(s.lsdir("/app")), ["b", "e", "list"]);
    assert_eq!(list(s.lsdir("/app/")), ["b", "e", "list"]);
    assert_eq!(list(s.lsdir("/app/e")), ["f"]);
    assert_eq!(list(s.lsdir("/app/a")), Vec::<String>::new());
    assert_eq!(list(s.lsdir("app")), Vec::<String>::new());
}

#[test]
fn ls_and_lsdir_of_root_are_fixed() {
    // confd returns [top] and [] here (issue #725): `ls_as_confd`, `lsdir_as_confd`; the
    // corrected functions list the whole top level.
    let s = app_store();
    assert_eq!(list(s.ls_as_confd("/")), ["top"]);
    assert_eq!(list(s.lsdir_as_confd("/")), Vec::<String>::new());
    assert_eq!(list(s.ls_as_confd("//")), ["top"]);
    assert_eq!(list(s.ls_as_confd("/app")), list(s.ls("/app")));
    assert_eq!(list(s.ls("/")), ["app", "top"]);
    assert_eq!(list(s.lsdir("/")), ["app"]);
    for root in ["//", "/.", "/..", "/x/.."] {
        assert_eq!(list(s.ls(root)), ["app", "top"], "ls {root:?}");
        // lsdir keeps memkv's other rule: keys must start with the raw path.
        assert_eq!(list(s.lsdir(root)), Vec::<String>::new(), "lsdir {root:?}");
    }
    let s = keys_only(&["/a/b", "/c", "/d/e/f"]);
    assert_eq!(list(s.ls("/")), ["a", "c", "d"]);
    assert_eq!(list(s.lsdir("/")), ["a", "d"]);
    assert_eq!(list(Store::new().ls("/")), Vec::<String>::new());
    // A stored key "/" (confd stores the key equal to the prefix as "/") is a leaf named "/",
    // as in confd.
    let s = keys_only(&["/", "/a/b"]);
    assert_eq!(list(s.ls("/")), ["/", "a"]);
    assert_eq!(list(s.lsdir("/")), ["a"]);
}

#[test]
fn key_that_is_both_leaf_and_directory() {
    let s = keys_only(&["/app", "/app/x", "/app/x/y", "/top"]);
    assert_eq!(list(s.ls("/app")), ["app", "x"], "the key itself contributes its base name");
    assert_eq!(list(s.ls("/app/x")), ["x", "y"]);
    assert_eq!(list(s.lsdir("/app")), ["x"]);
    assert_eq!(list(s.ls("/")), ["app", "top"]);
}

#[test]
fn keys_with_trailing_slash_are_literal_keys() {
    // confd's own test stores a JSON array at `/test/data/`.
    let s = keys_only(&["/test/data/", "/test/data/abc", "/test/data/x/", "/test/user"]);
    assert!(s.exists("/test/data/"));
    assert!(!s.exists("/test/data"));
    // memkv strips the raw path "/test/data" from "/test/data/", leaving the name "".
    assert_eq!(list(s.ls("/test/data")), ["", "abc", "x"]);
    // With the slash the key equals the path and contributes its base name.
    assert_eq!(list(s.ls("/test/data/")), ["abc", "data", "x"]);
    assert_eq!(list(s.ls("/test/data/x")), [""]);
    assert_eq!(list(s.lsdir("/test/data")), ["x"], "dir(\"/test/data/x/\") is /test/data/x");
    assert_eq!(list(s.lsdir("/test")), ["data"]);
    assert_eq!(list(s.ls("/test")), ["data", "user"]);
}

#[test]
fn odd_paths_give_memkv_names() {
    let s = keys_only(&["/a/b/x", "/a/b/y/z"]);
    // The raw path is not a prefix of the keys, so memkv names them by their first element.
    assert_eq!(list(s.ls("/a//b")), ["a"]);
    assert_eq!(list(s.ls("/a/b/.")), ["a"]);
    assert_eq!(list(s.lsdir("/a//b")), Vec::<String>::new(), "lsdir needs the raw prefix");
    assert_eq!(list(s.lsdir("/a/b/.")), Vec::<String>::new());
    // `..` in the path: clean("/a/b/c/..") is /a/b.
    assert_eq!(list(s.ls("/a/b/c/..")), ["a"]);
    let s = keys_only(&["/a/b/.x/y", "/a/b/..x/y", "/a/b/c", "/a/b/.hidden"]);
    // Keys starting with the raw "/a/b/." lose it; "/a/b/c" does not, so it is named "a".
    assert_eq!(list(s.ls("/a/b/.")), [".x", "a", "hidden", "x"]);
    assert_eq!(list(s.lsdir("/a/b/..")), ["b"], "dir(\"/a/b/..x/y\") is below /a");
    // "/a/-a" sorts before the raw path "/a/." and "/a/.b" after it, in the same subtree.
    let s = keys_only(&["/a/-a", "/a/.b", "/a/z"]);
    assert_eq!(list(s.ls("/a/.")), ["a", "b"]);
}

#[test]
fn unclean_keys_use_their_cleaned_directory() {
    let s = keys_only(&["/a//b/c", "/a/b/d", "/a/./b/e", "/x/../a/b/f", "a/b/g", "h", "//top"]);
    assert_eq!(list(s.ls("/a/b")), ["a", "d", "x"]);
    assert_eq!(list(s.ls("/a//b")), ["a", "c", "x"]);
    assert_eq!(list(s.ls("/a")), ["", ".", "b", "x"]);
    assert_eq!(list(s.lsdir("/a")), ["b"]);
    assert_eq!(list(s.ls("a")), ["b"], "relative keys under a relative path");
    assert_eq!(list(s.ls("")), ["h"], "clean(\"\") is \".\", the directory of slash-less keys");
    assert_eq!(list(s.ls("/")), ["a", "top", "x"], "\"//top\" loses \"/\" twice, as in memkv");
    assert_eq!(list(s.lsdir("/")), ["a"]);
}

#[test]
fn removal_keeps_the_irregular_index() {
    let mut s = keys_only(&["/x/../a/b/f", "/a/b/d"]);
    assert_eq!(list(s.ls("/a/b")), ["d", "x"]);
    s.remove("/x/../a/b/f");
    assert_eq!(list(s.ls("/a/b")), ["d"]);
    assert_eq!(s, keys_only(&["/a/b/d"]));
}
