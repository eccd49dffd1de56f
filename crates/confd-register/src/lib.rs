//! confd-register — the library half of the binary: registers a service instance in etcd
//! while it is healthy, under a lease it keeps alive, for confd to render into nginx's
//! configuration. See `agent` for the theory of operation and `cli` for the command line and
//! what is validated.
//!
//! `main.rs` is start-up only; the modules live here so that the fuzz targets (`fuzz/`) reach
//! the readers of outside input (the Docker Engine API's HTTP, chunked bodies and event
//! stream in `docker::engine`). Nothing here is a stable API.
#![forbid(unsafe_code)]

pub mod agent;
pub mod check;
pub mod cli;
pub mod docker;
pub mod docs;
pub mod log;
pub mod observe;
