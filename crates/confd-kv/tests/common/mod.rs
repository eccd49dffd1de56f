//! Reference models: memkv's `ls`/`lsdir` computed the slow way, key by key, exactly as the
//! behaviour document describes them (confd-behaviour.md §4.1). `tests/go_oracle.rs` checks
//! these models against memkv itself; `tests/properties.rs` checks the store against them.

use confd_kv::gopath::{base, clean, dir};
use std::collections::BTreeSet;

/// memkv's path terms: the cleaned path split on `/` (`/` gives `["", ""]`).
fn terms(p: &str) -> Vec<String> {
    clean(p).split('/').map(str::to_string).collect()
}

fn starts_with_terms(whole: &[String], prefix: &[String]) -> bool {
    whole.len() >= prefix.len() && whole[..prefix.len()] == *prefix
}

/// memkv's `List`, or with `fix_root` our corrected root behaviour (a key is below the root
/// when its directory is absolute).
pub fn model_ls<'a>(
    keys: impl IntoIterator<Item = &'a str>,
    path: &str,
    fix_root: bool,
) -> Vec<String> {
    let root = fix_root && clean(path) == "/";
    let path_terms = terms(path);
    let mut out = BTreeSet::new();
    for key in keys {
        if key == path {
            out.insert(base(key));
            continue;
        }
        let key_dir = dir(key);
        let below = if root {
            key_dir.starts_with('/')
        } else {
            starts_with_terms(&terms(&key_dir), &path_terms)
        };
        if below {
            let rest = key.strip_prefix(path).unwrap_or(key);
            let rest = rest.strip_prefix('/').unwrap_or(rest);
            out.insert(rest.split('/').next().unwrap_or_default().to_string());
        }
    }
    out.into_iter().collect()
}

/// memkv's `ListDir`, or with `fix_root` our corrected root behaviour.
pub fn model_lsdir<'a>(
    keys: impl IntoIterator<Item = &'a str>,
    path: &str,
    fix_root: bool,
) -> Vec<String> {
    let root = fix_root && clean(path) == "/";
    let path_terms = terms(path);
    let mut out = BTreeSet::new();
    for key in keys {
        if !key.starts_with(path) {
            continue;
        }
        let key_dir = dir(key);
        if root {
            if key_dir.len() > 1 && key_dir.starts_with('/') {
                out.insert(key_dir[1..].split('/').next().unwrap_or_default().to_string());
            }
            continue;
        }
        let dir_terms = terms(&key_dir);
        if dir_terms.len() > path_terms.len() && starts_with_terms(&dir_terms, &path_terms) {
            out.insert(dir_terms[path_terms.len()].clone());
        }
    }
    out.into_iter().collect()
}
