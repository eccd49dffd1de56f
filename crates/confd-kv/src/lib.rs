//! confd's key store: sorted keys with a prefix index, memkv's lookup semantics, and Go's
//! `path` package.
//!
//! ```
//! use confd_kv::Store;
//!
//! let store: Store = [
//!     ("/app/port", "8080"),
//!     ("/app/upstream/web1", "10.0.0.1:80"),
//!     ("/app/upstream/web2", "10.0.0.2:80"),
//! ]
//! .into_iter()
//! .collect();
//! assert_eq!(&*store.get("/app/port").unwrap().value, "8080");
//! assert_eq!(store.gets("/app/*").unwrap().len(), 1); // `*` does not cross `/`
//! assert_eq!(store.ls("/app"), ["port".into(), "upstream".into()]);
//! assert_eq!(store.lsdir("/app"), ["upstream".into()]);
//! ```
//!
//! # Theory of operation
//! - [`gopath`] is Go 1.19's `path` package (`Clean`, `Join`, `Base`, `Dir`, `Match`),
//!   reproduced byte for byte; `tests/data/path_match.txt` is a table produced by Go itself.
//! - [`Store`] is a `BTreeMap` of keys to values. The template functions `get`, `getv`,
//!   `exists`, `gets`, `getvs`, `ls` and `lsdir` are its methods, with the semantics of the
//!   memkv package (v0.1.1) that confd vendors. Prefix queries are range scans, and `ls` and
//!   `lsdir` jump over each child's subtree, so their cost follows the size of the answer,
//!   not of the store.
//! - [`KeyPrefix`] is the one rule for "the keys under a key" (path-aware), used by the
//!   backends, the etcd watch and the binary alike.
//! - About the root: [`Store::ls`] and [`Store::lsdir`] list it correctly, and
//!   [`Store::ls_as_confd`] and [`Store::lsdir_as_confd`] as confd does (its issue #725;
//!   confd's answer is the binary's default, see the `# Compatibility` sections); the key
//!   prefix `/` selects every key ([`KeyPrefix`]).
//!
//! The crate is pure: no I/O, no threads, no global state, no dependencies.
#![forbid(unsafe_code)]

pub mod gopath;
mod prefix;
mod store;

pub use gopath::PatternError;
pub use prefix::KeyPrefix;
pub use store::{KvPair, Store};
