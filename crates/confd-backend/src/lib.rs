//! confd's `file` and `env` backends (etcd v3 comes later).
//!
//! - [`file`](mod@file): YAML files and directories given with `-file`, flattened into `/a/b/c` keys
//!   exactly as confd does (YAML 1.1 scalars through Go's yaml.v2 rules). The parsing and
//!   flattening are pure ([`file::flatten_yaml`]); [`file::load`] is the thin part that walks
//!   directories and reads files.
//! - [`env`](mod@env): environment variables as keys (`/database/host` ← `DATABASE_HOST`). Pure: the
//!   environment is passed in.
//! - [`filter_by_keys`] / [`filter_by_keys_path_aware`]: which fetched keys a template
//!   resource gets for its `keys`.
//!
//! - [`notify`]: what the watch of a store that only reports "changed" (redis, zookeeper,
//!   etcd v2) tells the daemon loop, shared by those backends' crates.
//!
//! Nothing here is async or keeps state between calls: confd re-reads every file on every
//! fetch, and so does [`file::load`].
#![forbid(unsafe_code)]

pub mod env;
pub mod file;
mod keys;
pub mod notify;
mod yaml;

pub use keys::{filter_by_keys, filter_by_keys_path_aware};
