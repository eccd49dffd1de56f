//! confd-etcd against real etcd (Debian `etcd-server` 3.4, started by testkit on loopback
//! ports). One test binary, so that the tests — each with its own cluster — run in parallel.

mod common;

mod auth;
mod cluster;
mod failover;
mod lease;
mod outage;
mod read;
mod tls;
mod watch;
