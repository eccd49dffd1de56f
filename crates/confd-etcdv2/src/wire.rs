//! The etcd v2 keys API on the wire, pure: request paths, and what the JSON answers mean.
//! Everything here works on bytes already read, so it is unit-tested without a server.

use std::collections::BTreeMap;

use serde::Deserialize;

/// etcd's error code for "key not found" (`errorCode` in the JSON body, HTTP 404).
pub const KEY_NOT_FOUND: u64 = 100;
/// etcd's error code for "the event in requested index is outdated and cleared" (HTTP 400):
/// the watch asked for history etcd no longer keeps (it keeps the last 1,000 events).
pub const EVENT_INDEX_CLEARED: u64 = 401;

/// A node of the v2 store: a directory (with `nodes` when read recursively) or a key.
#[derive(Debug, Deserialize)]
pub struct Node {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub dir: bool,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub nodes: Vec<Node>,
    #[serde(default, rename = "modifiedIndex")]
    pub modified_index: u64,
}

/// An answer with a node: a read, or one event of a watch.
#[derive(Debug, Deserialize)]
pub struct NodeAnswer {
    #[serde(default)]
    pub action: String,
    pub node: Node,
}

/// An etcd error body: `{"errorCode":100,"message":"Key not found","cause":"/x","index":7}`.
/// Authentication failures have only `message`.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    #[serde(default, rename = "errorCode")]
    pub code: Option<u64>,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub cause: String,
    #[serde(default)]
    pub index: u64,
}

impl ErrorBody {
    /// The body of an error answer, or an empty one when it is not etcd's JSON.
    pub fn parse(body: &[u8]) -> ErrorBody {
        serde_json::from_slice(body).unwrap_or_default()
    }
}

/// The path of `key` in the keys API, percent-encoded except for `/` and unreserved bytes.
pub fn keys_path(key: &str) -> String {
    let mut path = String::from("/v2/keys");
    if !key.starts_with('/') {
        path.push('/');
    }
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~') {
            path.push(b as char);
        } else {
            path.push_str(&format!("%{b:02X}"));
        }
    }
    path
}

/// The leaves under `node` (the node itself when it is a key), as confd's v2 client collects
/// them: directories contribute only their keys.
pub fn leaves(node: Node, into: &mut BTreeMap<String, String>) {
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        if node.dir {
            stack.extend(node.nodes);
        } else {
            into.insert(node.key, node.value.unwrap_or_default());
        }
    }
}

/// Whether a change at `changed` concerns a reader of `key`: one of them is the other or
/// lies below it (deleting a directory changes every key below it).
pub fn concerns(changed: &str, key: &str) -> bool {
    below_or_same(changed, key) || below_or_same(key, changed)
}

fn below_or_same(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    dir.is_empty()
        || path == dir
        || path.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/'))
}

/// The deepest directory that holds every key: the one place a single recursive watch covers
/// them all.
pub fn common_directory(keys: &[String]) -> String {
    let mut common: Option<Vec<&str>> = None;
    for key in keys {
        let parts: Vec<&str> = key.split('/').filter(|p| !p.is_empty()).collect();
        common = Some(match common {
            None => parts,
            Some(c) => c.iter().zip(&parts).take_while(|(a, b)| a == b).map(|(a, _)| *a).collect(),
        });
    }
    format!("/{}", common.unwrap_or_default().join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_percent_encoded_but_slashes() {
        assert_eq!(keys_path("/"), "/v2/keys/");
        assert_eq!(keys_path("/a b/c?d"), "/v2/keys/a%20b/c%3Fd");
        assert_eq!(keys_path("x"), "/v2/keys/x");
        assert_eq!(keys_path("/é"), "/v2/keys/%C3%A9");
    }

    #[test]
    fn a_recursive_read_yields_its_leaves() {
        let body = br#"{"action":"get","node":{"key":"/db","dir":true,"nodes":[
            {"key":"/db/host","value":"127.0.0.1","modifiedIndex":5},
            {"key":"/db/sub","dir":true,"nodes":[{"key":"/db/sub/x","value":"1"}]},
            {"key":"/db/empty","dir":true}]}}"#;
        let answer: NodeAnswer = serde_json::from_slice(body).unwrap();
        let mut kvs = BTreeMap::new();
        leaves(answer.node, &mut kvs);
        let got: Vec<(&str, &str)> = kvs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, [("/db/host", "127.0.0.1"), ("/db/sub/x", "1")]);
    }

    #[test]
    fn error_bodies_are_read_and_anything_else_is_empty() {
        let e = ErrorBody::parse(
            br#"{"errorCode":401,"message":"The event in requested index is outdated and cleared","cause":"the requested history has been cleared [1008/7]","index":2007}"#,
        );
        assert_eq!((e.code, e.index), (Some(EVENT_INDEX_CLEARED), 2007));
        assert_eq!(ErrorBody::parse(b"<html>"), ErrorBody::default());
        assert_eq!(ErrorBody::parse(br#"{"message":"Insufficient credentials"}"#).code, None);
    }

    #[test]
    fn changes_concern_keys_above_and_below_path_aware() {
        assert!(concerns("/upstream/a", "/upstream"));
        assert!(concerns("/upstream", "/upstream/a"));
        assert!(concerns("/upstream", "/upstream"));
        assert!(!concerns("/upstreamX/a", "/upstream"));
        assert!(concerns("/anything", "/"));
    }

    #[test]
    fn the_common_directory_of_keys() {
        let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(common_directory(&keys(&["/p/upstream", "/p/subdomain"])), "/p");
        assert_eq!(common_directory(&keys(&["/p/upstream"])), "/p/upstream");
        assert_eq!(common_directory(&keys(&["/a", "/b"])), "/");
        assert_eq!(common_directory(&keys(&["/ab/c", "/a/c"])), "/");
    }
}
