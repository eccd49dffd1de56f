//! confd: drop-in replacement for kelseyhightower/confd — the library half of the binary.
//!
//! `main.rs` is start-up only; the modules live here so that the fuzz targets (`fuzz/`) and
//! the benchmarks reach the parsers of outside input (`cli`, `config`) as the binary uses
//! them. Nothing here is a stable API.
// Only `memory` may use `unsafe` (one call of glibc's `malloc_trim`), and says why.
#![deny(unsafe_code)]

pub mod backend;
pub mod check;
pub mod cli;
pub mod config;
pub mod docs;
pub mod driver;
pub mod log;
pub mod memory;
pub mod metrics;
pub mod process;
pub mod push;
pub mod resources;
pub mod run;
pub mod watch;
pub mod watch_etcd;
pub mod watch_store;
