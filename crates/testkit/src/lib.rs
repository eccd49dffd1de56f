//! Test harness: real etcd members and clusters on loopback ports, and real Docker
//! ([`docker`]) and nginx ([`nginx`]), for integration tests.
//!
//! Everything here is blocking and std-only, so it can be used from plain `#[test]`s and from
//! tokio tests alike (call it from `spawn_blocking` or before the runtime starts).
//!
//! The rules every helper follows:
//!
//! - **Real components.** [`EtcdCluster`] runs `/usr/bin/etcd` (Debian `etcd-server`, 3.4) and
//!   drives it with `/usr/bin/etcdctl` (`ETCDCTL_API=3`); TLS material is made with the
//!   `openssl` CLI.
//! - **Loopback only.** Every URL is `127.0.0.1:<port>` with a port from [`free_port`].
//! - **Temporary state.** Each cluster lives in one temporary directory (data dirs, logs, TLS
//!   files, pid files), removed when the cluster is dropped.
//! - **Cleaned up on failure.** Dropping a cluster (also while a test panics) resumes paused
//!   members, kills every member with SIGKILL and reaps it, then removes the directory. If the
//!   test process itself dies without unwinding (SIGKILL, abort, a runner's timeout), a small
//!   per-cluster watchdog (`sh`, holding the read end of a pipe whose write end only the test
//!   process holds) sees the pipe close, kills the members named in the pid files and removes
//!   the directory.
//! - **Bounded waits.** Waiting is polling with a deadline ([`wait_until`]); every `etcdctl` and
//!   `openssl` run has a hard time limit after which it is killed. On failure the panic message
//!   carries the tail of each member's log.
//!
//! ```no_run
//! let cluster = testkit::EtcdCluster::start(3);
//! cluster.put("/app/a", "1");
//! assert_eq!(cluster.get_prefix("/app/"), vec![("/app/a".to_string(), "1".to_string())]);
//! cluster.member(0).pause(); // a hung member (SIGSTOP) ...
//! cluster.member(0).resume(); // ... and back (SIGCONT)
//! ```
#![forbid(unsafe_code)]

pub mod docker;
mod etcd;
pub mod gateway;
pub mod nginx;
pub mod redis;
pub mod scrape;
mod tls;
mod util;
pub mod zookeeper;

pub use etcd::{EtcdCluster, EtcdMember, EtcdOptions, Etcdctl, GrpcProxy};

/// The data set of confd's own integration suite (its `integration/*/test.sh`), as keys and
/// values: `/key`, four database settings, two upstreams, and two nested leaves
/// (`/nested/east/app1`, `/nested/west/app2`) as its etcd scripts write them. Every store's
/// tests load it their store's way.
pub const CONFD_DATA_SET: [(&str, &str); 9] = [
    ("/key", "foobar"),
    ("/database/host", "127.0.0.1"),
    ("/database/password", "p@sSw0rd"),
    ("/database/port", "3306"),
    ("/database/username", "confd"),
    ("/upstream/app1", "10.0.1.10:8080"),
    ("/upstream/app2", "10.0.1.11:8080"),
    ("/nested/east/app1", "10.0.1.10:8080"),
    ("/nested/west/app2", "10.0.1.11:8080"),
];
pub use tls::TlsFiles;
pub use util::{free_port, wait_until};
