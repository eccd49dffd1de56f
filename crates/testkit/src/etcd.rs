//! Real etcd clusters (Debian `etcd-server` 3.4) on loopback ports, driven with `etcdctl`.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tempfile::TempDir;

use crate::tls::{Pki, TlsFiles};
use crate::util::{
    file_tail, free_port, install_hint, run_bounded, wait_until, ServerProcess, Watchdog,
};

const ETCD: &str = "etcd";
const ETCDCTL: &str = "etcdctl";
/// How long a cluster start or a member restart may take before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Log lines of each member quoted in a panic message.
const LOG_TAIL_LINES: usize = 25;

/// How to start an [`EtcdCluster`]. `EtcdOptions::new(3).tls().arg("--auto-compaction-retention=1")`
/// or struct update syntax over `EtcdOptions::default()` (one member, plain HTTP, no extras).
#[derive(Clone, Debug)]
pub struct EtcdOptions {
    /// Number of members (≥ 1).
    pub members: usize,
    /// `--auth-token-ttl` in seconds (etcd's default is 300). Applies to etcd 3.4's default
    /// `simple` tokens; the TTL is *sliding*: every request made with a token resets it, so a
    /// token only expires after this long without use (checked once a second), and each member
    /// keeps its own clock for it.
    pub auth_token_ttl: Option<u32>,
    /// Serve clients over HTTPS with a generated CA and server certificate (SAN `IP:127.0.0.1`),
    /// and generate a client certificate (CN `client_cert_cn`). Peers stay on plain HTTP.
    pub tls: bool,
    /// `--client-cert-auth`: clients must present a certificate signed by the CA. Implies `tls`.
    pub client_cert_auth: bool,
    /// Common name of the generated client certificate ([`EtcdCluster::tls_files`]); with auth
    /// on and no user/password, etcd takes it as the user name. Default `root`.
    pub client_cert_cn: String,
    /// More `etcd` flags for every member, after testkit's own (so they override them), e.g.
    /// `--experimental-watch-progress-notify-interval=1s`, `--auto-compaction-mode=revision`.
    pub extra_args: Vec<String>,
}

impl Default for EtcdOptions {
    fn default() -> Self {
        EtcdOptions {
            members: 1,
            auth_token_ttl: None,
            tls: false,
            client_cert_auth: false,
            client_cert_cn: "root".to_string(),
            extra_args: Vec::new(),
        }
    }
}

impl EtcdOptions {
    /// Defaults with `members` members.
    pub fn new(members: usize) -> Self {
        EtcdOptions { members, ..Self::default() }
    }
    /// Sets [`EtcdOptions::auth_token_ttl`].
    pub fn auth_token_ttl(mut self, seconds: u32) -> Self {
        self.auth_token_ttl = Some(seconds);
        self
    }
    /// Sets [`EtcdOptions::tls`].
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }
    /// Sets [`EtcdOptions::client_cert_auth`] (and `tls`).
    pub fn client_cert_auth(mut self) -> Self {
        self.tls = true;
        self.client_cert_auth = true;
        self
    }
    /// Sets [`EtcdOptions::client_cert_cn`].
    pub fn client_cert_cn(mut self, cn: &str) -> Self {
        self.client_cert_cn = cn.to_string();
        self
    }
    /// Appends one flag to [`EtcdOptions::extra_args`].
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.extra_args.push(arg.into());
        self
    }
}

/// What members and `etcdctl` runs share.
struct Shared {
    pki: Option<Pki>,
    /// The client certificate made at start (CN from the options).
    client: Option<TlsFiles>,
    /// Set by [`EtcdCluster::enable_auth`]; then `etcdctl` runs as root by default.
    root_password: Mutex<Option<String>>,
    /// `--initial-cluster-token`, unique per cluster.
    token: String,
}

fn new_token() -> String {
    static CLUSTERS: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("testkit-{}-{}-{nanos}", std::process::id(), CLUSTERS.fetch_add(1, Ordering::Relaxed))
}

/// A running etcd cluster in its own temporary directory. Dropping it kills (SIGCONT, then
/// SIGKILL) and reaps every member and removes the directory — also when a test panics.
pub struct EtcdCluster {
    // Field order is drop order: members are killed before the directory goes.
    members: Vec<EtcdMember>,
    /// How the cluster was started, for members added later.
    opts: EtcdOptions,
    _watchdog: Watchdog,
    shared: Arc<Shared>,
    dir: TempDir,
}

impl EtcdCluster {
    /// Starts `members` members (all at once) and waits until every one answers
    /// `etcdctl endpoint health` and the cluster has a leader. Panics, quoting the members'
    /// logs, if that takes more than 30 s or a member exits.
    pub fn start(members: usize) -> EtcdCluster {
        Self::start_with(EtcdOptions::new(members))
    }

    /// [`EtcdCluster::start`] with options.
    pub fn start_with(opts: EtcdOptions) -> EtcdCluster {
        assert!(opts.members >= 1, "testkit: a cluster needs at least one member");
        let dir = tempfile::Builder::new()
            .prefix("testkit-etcd-")
            .tempdir()
            .unwrap_or_else(|e| panic!("testkit: creating a temporary directory: {e}"));
        let pids = dir.path().join("pids");
        fs::create_dir(&pids).unwrap_or_else(|e| panic!("testkit: creating {pids:?}: {e}"));
        let watchdog = Watchdog::start(dir.path(), &pids);
        let tls = opts.tls || opts.client_cert_auth;
        let pki = tls.then(|| Pki::new(&dir.path().join("tls")));
        let client = pki.as_ref().map(|pki| pki.client(&opts.client_cert_cn));
        let shared =
            Arc::new(Shared { pki, client, root_password: Mutex::new(None), token: new_token() });

        // A port from free_port() can be taken by another process before etcd binds it; then a
        // member exits with "address already in use" and we start over on fresh ports.
        const ATTEMPTS: usize = 3;
        for attempt in 1..=ATTEMPTS {
            let members = plan_members(&opts, dir.path(), &pids, &shared);
            for m in &members {
                let _ = fs::remove_dir_all(&m.data_dir);
                let _ = fs::remove_file(&m.log_path);
                m.spawn("new").unwrap_or_else(|e| {
                    panic!("testkit: cannot start {ETCD}: {e}{}", install_hint(&e))
                });
            }
            match wait_started(&members, &shared) {
                Ok(()) => return EtcdCluster { members, opts, _watchdog: watchdog, shared, dir },
                Err(Failure::AddrInUse) if attempt < ATTEMPTS => drop(members),
                Err(Failure::AddrInUse) => panic!(
                    "testkit: etcd could not bind its ports {ATTEMPTS} times:\n{}",
                    logs(&members)
                ),
                Err(Failure::Other(why)) => {
                    panic!("testkit: etcd cluster did not start: {why}\n{}", logs(&members))
                }
            }
        }
        unreachable!()
    }

    /// `etcdctl member add`, then starts the new member (`--initial-cluster-state existing`)
    /// and waits until it answers `endpoint health`; returns its index. Panics (quoting its
    /// log) if etcd refuses the change or the member does not start within 30 s.
    pub fn add_member(&mut self) -> usize {
        let name = format!("m{}", self.members.len());
        let scheme = if self.shared.pki.is_some() { "https" } else { "http" };
        let client_url = format!("{scheme}://127.0.0.1:{}", free_port());
        let peer_url = format!("http://127.0.0.1:{}", free_port());
        let out =
            reconfigure(&self.ctl(), &["member", "add", &name, &format!("--peer-urls={peer_url}")]);
        // etcdctl prints the flags for the new member, among them ETCD_INITIAL_CLUSTER="...".
        let initial_cluster = out
            .lines()
            .find_map(|l| l.strip_prefix("ETCD_INITIAL_CLUSTER=\""))
            .map(|rest| rest.trim_end_matches('"').to_string())
            .unwrap_or_else(|| {
                panic!("testkit: no ETCD_INITIAL_CLUSTER in member add's output:\n{out}")
            });
        let pids = self.dir.path().join("pids");
        let member = new_member(
            &self.opts,
            self.dir.path(),
            &pids,
            &self.shared,
            name,
            client_url,
            peer_url,
            &initial_cluster,
        );
        member.restart();
        self.members.push(member);
        self.members.len() - 1
    }

    /// `etcdctl member remove` of member `i` (asked of the other live members); the removed
    /// member stops by itself, and is reaped. Its client URL stays in
    /// [`EtcdCluster::endpoints`], not running. Panics if etcd refuses.
    pub fn remove_member(&self, i: usize) {
        let member = &self.members[i];
        let others: Vec<String> = self
            .members
            .iter()
            .enumerate()
            .filter(|(j, m)| *j != i && m.is_running() && !m.is_paused())
            .map(|(_, m)| m.client_url.clone())
            .collect();
        let ctl = self.ctl().endpoints(&others);
        // Simple format: "ID, STATUS, NAME, PEER ADDRS, CLIENT ADDRS, IS LEARNER".
        let list = ctl.ok(&["member", "list"]);
        let id = list
            .lines()
            .find_map(|l| {
                let fields: Vec<&str> = l.split(", ").collect();
                (fields.len() > 2 && fields[2] == member.name).then(|| fields[0].to_string())
            })
            .unwrap_or_else(|| {
                panic!("testkit: {} is not in the member list:\n{list}", member.name)
            });
        reconfigure(&ctl, &["member", "remove", &id]);
        // A removed member notices and exits within a few seconds; kill() reaps it either way.
        wait_until(Duration::from_secs(10), || member.try_exited().is_some());
        member.kill();
    }

    /// The client URLs of all members (`http://127.0.0.1:PORT`, `https://` with TLS), in member
    /// order, whether or not they are running.
    pub fn endpoints(&self) -> Vec<String> {
        self.members.iter().map(|m| m.client_url.clone()).collect()
    }

    /// Member `i` (0-based).
    pub fn member(&self, i: usize) -> &EtcdMember {
        &self.members[i]
    }

    /// All members.
    pub fn members(&self) -> &[EtcdMember] {
        &self.members
    }

    /// The temporary directory holding data dirs (`m0.data`), logs (`m0.log`) and TLS files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// An `etcdctl` run to configure: by default against the live (running, not paused)
    /// members, with the TLS flags (CA, client certificate) and, once auth is on, as root.
    pub fn ctl(&self) -> Etcdctl<'_> {
        let live: Vec<String> = self
            .members
            .iter()
            .filter(|m| m.is_running() && !m.is_paused())
            .map(|m| m.client_url.clone())
            .collect();
        Etcdctl::new(&self.shared, if live.is_empty() { self.endpoints() } else { live })
    }

    /// Runs `etcdctl ARGS` (`ETCDCTL_API=3`) against the live members as [`EtcdCluster::ctl`]
    /// configures it. Panics only if etcdctl cannot be started; a run still going after its
    /// timeouts plus 5 s is killed.
    pub fn etcdctl(&self, args: &[&str]) -> Output {
        self.ctl().run(args)
    }

    /// `etcdctl put`; panics with etcdctl's stderr on failure.
    pub fn put(&self, key: &str, value: &str) {
        self.ctl().ok(&["put", "--", key, value]);
    }

    /// `etcdctl del`; panics with etcdctl's stderr on failure.
    pub fn del(&self, key: &str) {
        self.ctl().ok(&["del", "--", key]);
    }

    /// The value of `key`, if it exists.
    pub fn get(&self, key: &str) -> Option<String> {
        let (_, kvs) = parse_get_json(&self.ctl().ok(&["get", "-w", "json", "--", key]));
        kvs.into_iter().next().map(|(_, v)| v)
    }

    /// All keys under `prefix` (plain string prefix, as etcd's `--prefix`) with their values,
    /// in key order. Values are read as JSON/base64, so any bytes round-trip (lossy UTF-8).
    pub fn get_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        let out = self.ctl().ok(&["get", "--prefix", "-w", "json", "--", prefix]);
        parse_get_json(&out).1
    }

    /// The current revision of the key-value store.
    pub fn revision(&self) -> i64 {
        let out = self.ctl().ok(&["get", "--keys-only", "-w", "json", "--", "testkit-revision"]);
        parse_get_json(&out).0
    }

    /// Compacts the store up to the current revision (`etcdctl compaction --physical`, so it is
    /// done when this returns) and returns that revision. Compacting twice at the same revision
    /// is not an error.
    pub fn compact_to_current(&self) -> i64 {
        let rev = self.revision();
        let out = self.ctl().run(&["compaction", "--physical", &rev.to_string()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || stderr.contains("required revision has been compacted"),
            "testkit: etcdctl compaction {rev} failed: {stderr}"
        );
        rev
    }

    /// Turns authentication on: role `root`, user `root` with `root_password` and that role,
    /// `auth enable`. From then on, `etcdctl` runs as root unless told otherwise.
    pub fn enable_auth(&self, root_password: &str) {
        let ctl = self.ctl();
        ctl.ok_or_exists(&["role", "add", "root"]);
        ctl.ok(&["user", "add", &format!("root:{root_password}")]);
        ctl.ok(&["user", "grant-role", "root", "root"]);
        ctl.ok(&["auth", "enable"]);
        *lock(&self.shared.root_password) = Some(root_password.to_string());
    }

    /// Turns on the v2 API's authentication as the seed does: user `root` with
    /// `root_password`, `auth enable`, and the `guest` role's default read-write access to
    /// everything revoked (otherwise anyone may still write). Needs `--enable-v2`.
    pub fn enable_auth_v2(&self, root_password: &str) {
        let ctl = self.ctl().v2();
        ctl.ok(&["user", "add", &format!("root:{root_password}")]);
        ctl.ok(&["auth", "enable"]);
        *lock(&self.shared.root_password) = Some(root_password.to_string());
        self.ctl().v2().ok(&["role", "revoke", "guest", "--path", "/*", "--readwrite"]);
    }

    /// Adds `user` with `password` and grants it `role` (created if need be) with read access to
    /// keys under `read_prefix` and write access under `write_prefix` (`--prefix=true`; the
    /// same prefix for both gives `readwrite`). Works before and after [`EtcdCluster::enable_auth`].
    pub fn add_user(
        &self,
        user: &str,
        password: &str,
        role: &str,
        read_prefix: Option<&str>,
        write_prefix: Option<&str>,
    ) {
        let ctl = self.ctl();
        ctl.ok(&["user", "add", &format!("{user}:{password}")]);
        ctl.ok_or_exists(&["role", "add", role]);
        let grant = |perm: &str, prefix: &str| {
            ctl.ok(&["role", "grant-permission", "--prefix=true", role, perm, "--", prefix]);
        };
        // etcd replaces a permission on the same key range, so read + write must be one grant.
        match (read_prefix, write_prefix) {
            (Some(r), Some(w)) if r == w => grant("readwrite", r),
            (r, w) => {
                if let Some(r) = r {
                    grant("read", r);
                }
                if let Some(w) = w {
                    grant("write", w);
                }
            }
        }
        ctl.ok(&["user", "grant-role", user, role]);
    }

    /// CA, client certificate and key (CN from [`EtcdOptions::client_cert_cn`]) when the cluster
    /// serves TLS.
    pub fn tls_files(&self) -> Option<TlsFiles> {
        self.shared.client.clone()
    }

    /// Another client certificate, signed by the cluster's CA, with common name `cn`.
    /// Panics if the cluster does not serve TLS.
    pub fn client_cert(&self, cn: &str) -> TlsFiles {
        self.shared.pki.as_ref().expect("testkit: client_cert() needs a TLS cluster").client(cn)
    }

    /// The index of the member that the live members report as leader, if any.
    pub fn leader(&self) -> Option<usize> {
        // Simple format: "URL, ID, VERSION, DB SIZE, IS LEADER, IS LEARNER, TERM, ...".
        let out = self.ctl().timeout(Duration::from_secs(2)).run(&["endpoint", "status"]);
        String::from_utf8_lossy(&out.stdout).lines().find_map(|line| {
            let fields: Vec<&str> = line.split(", ").collect();
            (fields.len() > 4 && fields[4] == "true")
                .then(|| self.members.iter().position(|m| m.client_url == fields[0]))
                .flatten()
        })
    }

    /// Waits until every live member answers `etcdctl endpoint health` (which needs a leader);
    /// false if that did not happen within `timeout`.
    pub fn wait_healthy(&self, timeout: Duration) -> bool {
        let ctl = self.ctl().timeout(Duration::from_secs(2));
        wait_until(timeout, || ctl.run(&["endpoint", "health"]).status.success())
    }
}

/// One etcd process of an [`EtcdCluster`].
pub struct EtcdMember {
    name: String,
    client_url: String,
    peer_url: String,
    data_dir: PathBuf,
    log_path: PathBuf,
    pid_path: PathBuf,
    /// Every flag except `--initial-cluster-state`.
    args: Vec<String>,
    shared: Arc<Shared>,
    process: Mutex<ServerProcess>,
}

impl EtcdMember {
    /// Member name (`m0`, `m1`, …).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its client URL, e.g. `http://127.0.0.1:41234`.
    pub fn client_url(&self) -> String {
        self.client_url.clone()
    }
    /// Its peer URL, e.g. `http://127.0.0.1:41235`.
    pub fn peer_url(&self) -> String {
        self.peer_url.clone()
    }
    /// Its data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
    /// Its log file (etcd's zap JSON log and anything else it writes to stderr/stdout).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }
    /// The last `n` lines of its log.
    pub fn log_tail(&self, n: usize) -> String {
        file_tail(&self.log_path, n)
    }
    /// Its process id while it runs (also while paused).
    pub fn pid(&self) -> Option<u32> {
        lock(&self.process).child.as_ref().map(Child::id)
    }
    /// Whether its process runs (possibly paused): started and not killed.
    pub fn is_running(&self) -> bool {
        lock(&self.process).child.is_some()
    }
    /// Whether it is paused (SIGSTOP).
    pub fn is_paused(&self) -> bool {
        lock(&self.process).paused
    }
    /// An `etcdctl` run against this member only.
    pub fn ctl(&self) -> Etcdctl<'_> {
        Etcdctl::new(&self.shared, vec![self.client_url.clone()])
    }

    /// Kills the member (SIGCONT if paused, then SIGKILL) and reaps it: when this returns the
    /// process is gone. Its data dir stays, for [`EtcdMember::restart`]. No-op if not running.
    pub fn kill(&self) {
        lock(&self.process).kill(&self.pid_path);
    }

    /// Starts a killed member again on its data dir (`--initial-cluster-state existing`) and
    /// waits until it answers `endpoint health`. Panics if it is running, or (quoting its log)
    /// if it exits or is not healthy within 30 s.
    pub fn restart(&self) {
        self.start_again("existing");
    }

    /// Starts a killed member of a one-member cluster again on an empty data dir: a new
    /// cluster (another cluster ID, revision 1, no keys), as a store wiped or rebuilt from
    /// nothing would be. Waits until it answers `endpoint health`, like [`EtcdMember::restart`].
    pub fn restart_empty(&self) {
        assert!(!self.is_running(), "testkit: restart_empty() of {} which is running", self.name);
        let _ = fs::remove_dir_all(&self.data_dir);
        self.start_again("new");
    }

    fn start_again(&self, initial_cluster_state: &str) {
        assert!(
            !self.is_running(),
            "testkit: restart() of {} which is running; kill() it first",
            self.name
        );
        self.spawn(initial_cluster_state)
            .unwrap_or_else(|e| panic!("testkit: cannot start {ETCD}: {e}{}", install_hint(&e)));
        let ctl = self.ctl().timeout(Duration::from_secs(2));
        let mut exited = None;
        let healthy = wait_until(START_TIMEOUT, || {
            exited = self.try_exited();
            exited.is_some() || ctl.run(&["endpoint", "health"]).status.success()
        });
        if let Some(status) = exited {
            panic!(
                "testkit: restarted {} exited ({status}):\n{}",
                self.name,
                self.log_tail(LOG_TAIL_LINES)
            );
        }
        assert!(
            healthy,
            "testkit: restarted {} not healthy within {START_TIMEOUT:?}:\n{}",
            self.name,
            self.log_tail(LOG_TAIL_LINES)
        );
    }

    /// Freezes the member with SIGSTOP (a hung peer: its ports accept connections, nothing
    /// answers) and waits until all its threads are stopped. Panics if it is not running.
    pub fn pause(&self) {
        lock(&self.process).pause(&self.name);
    }

    /// Thaws a paused member with SIGCONT. No-op if it is not paused.
    pub fn resume(&self) {
        lock(&self.process).resume();
    }

    fn spawn(&self, initial_cluster_state: &str) -> std::io::Result<()> {
        let mut process = lock(&self.process);
        assert!(process.child.is_none());
        let log = OpenOptions::new().create(true).append(true).open(&self.log_path)?;
        writeln!(
            &log,
            "--- testkit: starting {} (--initial-cluster-state={initial_cluster_state})",
            self.name
        )?;
        let mut cmd = Command::new(ETCD);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ETCD") {
                cmd.env_remove(key);
            }
        }
        let child = cmd
            .args(&self.args)
            .arg(format!("--initial-cluster-state={initial_cluster_state}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        fs::write(&self.pid_path, child.id().to_string())?;
        process.child = Some(child);
        process.paused = false;
        Ok(())
    }

    /// The exit status if the process has exited on its own (it stays "running" for kill()).
    fn try_exited(&self) -> Option<std::process::ExitStatus> {
        lock(&self.process).child.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }
}

impl Drop for EtcdMember {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One `etcdctl` invocation being configured; see [`EtcdCluster::ctl`] and [`EtcdMember::ctl`].
#[derive(Clone)]
pub struct Etcdctl<'a> {
    shared: &'a Shared,
    endpoints: Vec<String>,
    user: User,
    client_cert: Option<TlsFiles>,
    dial_timeout: Duration,
    command_timeout: Duration,
    /// `ETCDCTL_API`: 3, or 2 for the v2 API (etcd needs `--enable-v2`).
    api: u8,
}

#[derive(Clone)]
enum User {
    /// Root once auth is enabled, else none.
    Default,
    None,
    Named(String, String),
}

impl<'a> Etcdctl<'a> {
    fn new(shared: &'a Shared, endpoints: Vec<String>) -> Self {
        Etcdctl {
            shared,
            endpoints,
            user: User::Default,
            client_cert: shared.client.clone(),
            dial_timeout: Duration::from_secs(2),
            command_timeout: Duration::from_secs(5),
            api: 3,
        }
    }
    /// Speak the v2 API (`ETCDCTL_API=2`: `set`, `mk`, `rm`, `user add`, `role grant`, …; the
    /// seed's commands). The cluster must run with `--enable-v2` ([`EtcdOptions::arg`]).
    pub fn v2(mut self) -> Self {
        self.api = 2;
        self
    }
    /// Use exactly these endpoints.
    pub fn endpoints(mut self, urls: &[String]) -> Self {
        self.endpoints = urls.to_vec();
        self
    }
    /// Use this one endpoint.
    pub fn endpoint(mut self, url: &str) -> Self {
        self.endpoints = vec![url.to_string()];
        self
    }
    /// Authenticate as `user` (`--user user:password`) instead of root.
    pub fn user(mut self, user: &str, password: &str) -> Self {
        self.user = User::Named(user.to_string(), password.to_string());
        self
    }
    /// No `--user`, even with auth on (then a client certificate's CN is the user, or none).
    pub fn anonymous(mut self) -> Self {
        self.user = User::None;
        self
    }
    /// Present this client certificate instead of the cluster's default one.
    pub fn client_cert(mut self, files: &TlsFiles) -> Self {
        self.client_cert = Some(files.clone());
        self
    }
    /// Present no client certificate (the CA is still trusted).
    pub fn without_client_cert(mut self) -> Self {
        self.client_cert = None;
        self
    }
    /// `--dial-timeout` and `--command-timeout` (default 2 s and 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.dial_timeout = timeout;
        self.command_timeout = timeout;
        self
    }

    /// The configured `etcdctl ARGS` command, to run yourself.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(ETCDCTL);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ETCDCTL_") {
                cmd.env_remove(key);
            }
        }
        if self.api == 2 {
            self.v2_flags(&mut cmd);
        } else {
            self.v3_flags(&mut cmd);
        }
        cmd.args(args);
        cmd
    }

    fn v3_flags(&self, cmd: &mut Command) {
        cmd.env("ETCDCTL_API", "3")
            .arg(format!("--endpoints={}", self.endpoints.join(",")))
            .arg(format!("--dial-timeout={}ms", self.dial_timeout.as_millis()))
            .arg(format!("--command-timeout={}ms", self.command_timeout.as_millis()));
        if let Some(pki) = &self.shared.pki {
            cmd.arg(format!("--cacert={}", pki.server.ca.display()));
        }
        if let Some(cert) = &self.client_cert {
            cmd.arg(format!("--cert={}", cert.cert.display()))
                .arg(format!("--key={}", cert.key.display()));
        }
        if let Some(user) = self.user_arg() {
            cmd.arg(format!("--user={user}"));
        }
    }

    fn v2_flags(&self, cmd: &mut Command) {
        cmd.env("ETCDCTL_API", "2")
            .arg(format!("--endpoints={}", self.endpoints.join(",")))
            .arg(format!("--timeout={}ms", self.dial_timeout.as_millis()))
            .arg(format!("--total-timeout={}ms", self.command_timeout.as_millis()));
        if let Some(pki) = &self.shared.pki {
            cmd.arg(format!("--ca-file={}", pki.server.ca.display()));
        }
        if let Some(cert) = &self.client_cert {
            cmd.arg(format!("--cert-file={}", cert.cert.display()))
                .arg(format!("--key-file={}", cert.key.display()));
        }
        if let Some(user) = self.user_arg() {
            cmd.arg(format!("--username={user}"));
        }
    }

    /// `user:password` to authenticate as, if any.
    fn user_arg(&self) -> Option<String> {
        match &self.user {
            User::Default => {
                lock(&self.shared.root_password).as_ref().map(|pw| format!("root:{pw}"))
            }
            User::None => None,
            User::Named(user, pw) => Some(format!("{user}:{pw}")),
        }
    }

    /// Runs `etcdctl ARGS`; killed if still running 5 s after its dial + command timeouts.
    /// Panics only if etcdctl cannot be started.
    pub fn run(&self, args: &[&str]) -> Output {
        let limit = self.dial_timeout + self.command_timeout + Duration::from_secs(5);
        run_bounded(&mut self.command(args), limit)
    }

    /// Runs `etcdctl ARGS` and returns its stdout; panics with its stderr if it fails.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "testkit: etcdctl {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn ok_or_exists(&self, args: &[&str]) {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || stderr.contains("already exists"),
            "testkit: etcdctl {} failed ({}): {}",
            args.join(" "),
            out.status,
            stderr.trim()
        );
    }
}

/// Member definitions with fresh ports; nothing started.
fn plan_members(
    opts: &EtcdOptions,
    dir: &Path,
    pids: &Path,
    shared: &Arc<Shared>,
) -> Vec<EtcdMember> {
    let scheme = if shared.pki.is_some() { "https" } else { "http" };
    let planned: Vec<(String, String, String)> = (0..opts.members)
        .map(|i| {
            (
                format!("m{i}"),
                format!("{scheme}://127.0.0.1:{}", free_port()),
                format!("http://127.0.0.1:{}", free_port()),
            )
        })
        .collect();
    let initial_cluster = planned
        .iter()
        .map(|(name, _, peer)| format!("{name}={peer}"))
        .collect::<Vec<_>>()
        .join(",");
    planned
        .into_iter()
        .map(|(name, client_url, peer_url)| {
            new_member(opts, dir, pids, shared, name, client_url, peer_url, &initial_cluster)
        })
        .collect()
}

/// A member (not started) with every flag but `--initial-cluster-state`.
#[allow(clippy::too_many_arguments)]
fn new_member(
    opts: &EtcdOptions,
    dir: &Path,
    pids: &Path,
    shared: &Arc<Shared>,
    name: String,
    client_url: String,
    peer_url: String,
    initial_cluster: &str,
) -> EtcdMember {
    let data_dir = dir.join(format!("{name}.data"));
    let mut args = vec![
        format!("--name={name}"),
        format!("--data-dir={}", data_dir.display()),
        format!("--listen-client-urls={client_url}"),
        format!("--advertise-client-urls={client_url}"),
        format!("--listen-peer-urls={peer_url}"),
        format!("--initial-advertise-peer-urls={peer_url}"),
        format!("--initial-cluster={initial_cluster}"),
        format!("--initial-cluster-token={}", shared.token),
        "--logger=zap".to_string(),
        "--log-outputs=stderr".to_string(),
    ];
    if let Some(pki) = &shared.pki {
        args.push(format!("--cert-file={}", pki.server.cert.display()));
        args.push(format!("--key-file={}", pki.server.key.display()));
        args.push(format!("--trusted-ca-file={}", pki.server.ca.display()));
        if opts.client_cert_auth {
            args.push("--client-cert-auth".to_string());
        }
    }
    if let Some(ttl) = opts.auth_token_ttl {
        args.push(format!("--auth-token-ttl={ttl}"));
    }
    args.extend(opts.extra_args.iter().cloned());
    EtcdMember {
        log_path: dir.join(format!("{name}.log")),
        pid_path: pids.join(format!("{name}.pid")),
        name,
        client_url,
        peer_url,
        data_dir,
        args,
        shared: Arc::clone(shared),
        process: Mutex::new(ServerProcess::default()),
    }
}

/// A membership change: etcd refuses it ("unhealthy cluster") until every member that must
/// stay has been connected for 5 s, so a change right after a start or another change is
/// retried for up to 30 s.
fn reconfigure(ctl: &Etcdctl<'_>, args: &[&str]) -> String {
    let mut last = None;
    let done = wait_until(START_TIMEOUT, || {
        let out = ctl.run(args);
        let refused = String::from_utf8_lossy(&out.stderr).contains("unhealthy cluster");
        last = Some(out);
        if refused {
            std::thread::sleep(Duration::from_millis(250));
        }
        !refused
    });
    let out = last.expect("ran at least once");
    assert!(
        done && out.status.success(),
        "testkit: etcdctl {} failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

enum Failure {
    AddrInUse,
    Other(String),
}

/// Waits until all members accept TCP, answer `endpoint health`, and one is the leader.
fn wait_started(members: &[EtcdMember], shared: &Shared) -> Result<(), Failure> {
    let deadline = Instant::now() + START_TIMEOUT;
    let left = || deadline.saturating_duration_since(Instant::now());
    let mut failure = None;
    let mut check_exits = || {
        failure = exit_failure(members);
        failure.is_some()
    };
    // 1. Listening. (etcd 3.4 accepts connections before it serves them, so this is quick.)
    let addrs: Vec<SocketAddr> = members
        .iter()
        .map(|m| {
            let hostport = m.client_url.split("://").nth(1).unwrap_or_default();
            hostport.parse().expect("client URL is 127.0.0.1:PORT")
        })
        .collect();
    let listening = wait_until(left(), || {
        check_exits()
            || addrs
                .iter()
                .all(|a| TcpStream::connect_timeout(a, Duration::from_millis(200)).is_ok())
    });
    // 2. Healthy: each endpoint answers a quorum read, which needs a leader. One etcdctl run
    // blocks until the members serve, so this polls slowly only when something is wrong.
    let endpoints: Vec<String> = members.iter().map(|m| m.client_url.clone()).collect();
    let ctl = Etcdctl::new(shared, endpoints).timeout(Duration::from_secs(3));
    let mut last_health = None;
    let healthy = listening
        && wait_until(left(), || {
            if check_exits() {
                return true;
            }
            let out = ctl.run(&["endpoint", "health"]);
            let ok = out.status.success();
            last_health = Some(out);
            ok
        });
    if let Some(failure) = failure {
        return Err(failure);
    }
    if !healthy {
        let health = last_health
            .map(|o| {
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                )
            })
            .unwrap_or_else(|| "client ports not listening".to_string());
        return Err(Failure::Other(format!(
            "not healthy within {START_TIMEOUT:?}; last `etcdctl endpoint health`:\n{}",
            health.trim()
        )));
    }
    Ok(())
}

/// Why a member has exited on its own, if one has.
fn exit_failure(members: &[EtcdMember]) -> Option<Failure> {
    members.iter().find_map(|m| {
        let status = m.try_exited()?;
        let log = fs::read_to_string(&m.log_path).unwrap_or_default();
        Some(if log.contains("address already in use") {
            Failure::AddrInUse
        } else {
            Failure::Other(format!("{} exited ({status})", m.name))
        })
    })
}

fn logs(members: &[EtcdMember]) -> String {
    members
        .iter()
        .map(|m| {
            format!(
                "--- {} ({}) log tail:\n{}",
                m.name,
                m.log_path.display(),
                m.log_tail(LOG_TAIL_LINES)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses `etcdctl get -w json`: the header revision and the (key, value) pairs. Keys and
/// values are base64; protobuf's JSON leaves out empty fields (an empty value).
fn parse_get_json(json: &str) -> (i64, Vec<(String, String)>) {
    let revision = number_after(json, "\"revision\":").unwrap_or(0);
    let mut kvs = Vec::new();
    if let Some(start) = json.find("\"kvs\":[") {
        let mut rest = &json[start + 7..];
        // Each kv is a flat object: {"key":"..","create_revision":..,..,"value":".."}.
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            let obj = &rest[open..open + close];
            let field = |name: &str| {
                string_after(obj, &format!("\"{name}\":\""))
                    .map(|b64| String::from_utf8_lossy(&base64_decode(b64)).into_owned())
                    .unwrap_or_default()
            };
            kvs.push((field("key"), field("value")));
            rest = &rest[open + close + 1..];
            if rest.trim_start().starts_with(']') {
                break;
            }
        }
    }
    (revision, kvs)
}

fn number_after(s: &str, tag: &str) -> Option<i64> {
    let rest = &s[s.find(tag)? + tag.len()..];
    let end = rest.find(|c: char| !c.is_ascii_digit() && c != '-').unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn string_after<'s>(s: &'s str, tag: &str) -> Option<&'s str> {
    let rest = &s[s.find(tag)? + tag.len()..];
    Some(&rest[..rest.find('"')?])
}

fn base64_decode(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue, // '=' padding
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// `etcd grpc-proxy start` in front of `endpoints`, on a free loopback port. Dropping it kills
/// and reaps it and removes its directory, also when a test panics.
pub struct GrpcProxy {
    url: String,
    log_path: PathBuf,
    pid_path: PathBuf,
    process: Mutex<ServerProcess>,
    // Field order is drop order: the process goes before the watchdog and the directory.
    _watchdog: Watchdog,
    _dir: TempDir,
}

impl GrpcProxy {
    /// Starts the proxy and waits until `etcdctl endpoint health` answers through it. Panics,
    /// quoting its log, if that takes more than 30 s or it exits.
    pub fn start(endpoints: &[String]) -> GrpcProxy {
        let dir = tempfile::Builder::new()
            .prefix("testkit-grpc-proxy-")
            .tempdir()
            .unwrap_or_else(|e| panic!("testkit: creating a temporary directory: {e}"));
        let watchdog = Watchdog::start(dir.path(), dir.path());
        let addr = format!("127.0.0.1:{}", free_port());
        let log_path = dir.path().join("grpc-proxy.log");
        let pid_path = dir.path().join("grpc-proxy.pid");
        let log = fs::File::create(&log_path)
            .unwrap_or_else(|e| panic!("testkit: creating {log_path:?}: {e}"));
        let child = Command::new(ETCD)
            .args(["grpc-proxy", "start"])
            .arg(format!("--endpoints={}", endpoints.join(",")))
            .arg(format!("--listen-addr={addr}"))
            .arg(format!("--data-dir={}", dir.path().join("data").display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("testkit: cannot start {ETCD}: {e}{}", install_hint(&e)));
        fs::write(&pid_path, child.id().to_string())
            .unwrap_or_else(|e| panic!("testkit: writing {pid_path:?}: {e}"));
        let proxy = GrpcProxy {
            url: format!("http://{addr}"),
            log_path,
            pid_path,
            process: Mutex::new(ServerProcess { child: Some(child), paused: false }),
            _watchdog: watchdog,
            _dir: dir,
        };
        let healthy = wait_until(START_TIMEOUT, || {
            let out = run_bounded(
                Command::new(ETCDCTL)
                    .env("ETCDCTL_API", "3")
                    .arg(format!("--endpoints={}", proxy.url))
                    .args(["--dial-timeout=1s", "--command-timeout=2s", "endpoint", "health"]),
                Duration::from_secs(5),
            );
            out.status.success()
        });
        assert!(
            healthy,
            "testkit: grpc-proxy not healthy within {START_TIMEOUT:?}:\n{}",
            file_tail(&proxy.log_path, LOG_TAIL_LINES)
        );
        proxy
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }
}

impl Drop for GrpcProxy {
    fn drop(&mut self) {
        lock(&self.process).kill(&self.pid_path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_can_be_shared_between_threads() {
        fn is<T: Send + Sync>() {}
        is::<EtcdCluster>();
    }

    #[test]
    fn parses_get_json() {
        let json = r#"{"header":{"cluster_id":1,"member_id":2,"revision":17,"raft_term":3},"kvs":[{"key":"L2E=","create_revision":2,"mod_revision":2,"version":1,"value":"MQ=="},{"key":"L2I=","create_revision":3,"mod_revision":3,"version":1},{"key":"L2M=","create_revision":4,"mod_revision":4,"version":1,"value":"aGVsbG8gd29ybGQ="}],"count":3}"#;
        let (rev, kvs) = parse_get_json(json);
        assert_eq!(rev, 17);
        assert_eq!(
            kvs,
            vec![
                ("/a".to_string(), "1".to_string()),
                ("/b".to_string(), String::new()),
                ("/c".to_string(), "hello world".to_string()),
            ]
        );
        let (rev, kvs) = parse_get_json(
            r#"{"header":{"cluster_id":1,"member_id":2,"revision":5,"raft_term":2}}"#,
        );
        assert_eq!((rev, kvs.len()), (5, 0));
    }

    #[test]
    fn decodes_base64() {
        for (enc, dec) in
            [("", ""), ("Zg==", "f"), ("Zm8=", "fo"), ("Zm9v", "foo"), ("Zm9vYg==", "foob")]
        {
            assert_eq!(base64_decode(enc), dec.as_bytes());
        }
    }
}
