//! Real Docker, for tests of the Docker mode: the local engine (no registry, no images), an
//! image built here from Debian's `busybox-static`, containers removed when their guard is
//! dropped, and a proxy of the engine's socket that a test can cut to simulate the engine going
//! away and coming back.
//!
//! A test that needs an engine calls [`engine`] first and returns early (saying why on stderr)
//! when there is none.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use crate::util::run_bounded;

/// The engine's socket.
pub const DOCKER_SOCKET: &str = "/var/run/docker.sock";

/// The image [`test_image`] builds: busybox as `/bin/*`, a healthcheck that passes while
/// `/state/healthy` exists (checked every 300 ms, one failure is unhealthy), `sleep` as its
/// command, and TCP port 8080 exposed.
pub const TEST_IMAGE: &str = "confd-rs-test/busybox:1";

const LIMIT: Duration = Duration::from_secs(120);

/// `Ok` when an engine answers, both on [`DOCKER_SOCKET`] (what the agent and [`SocketProxy`]
/// use) and to the `docker` command (what the tests use); `Err` says why not.
pub fn engine() -> Result<(), String> {
    UnixStream::connect(DOCKER_SOCKET).map_err(|e| format!("{DOCKER_SOCKET}: {e}"))?;
    let out = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .map_err(|e| format!("no docker command: {e}"))?;
    if out.status.success() && !out.stdout.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "no Docker engine answers on {DOCKER_SOCKET}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Runs `docker ARGS` and returns its trimmed stdout; panics with its stderr if it fails.
pub fn docker(args: &[&str]) -> String {
    let out = run_bounded(Command::new("docker").args(args), LIMIT);
    assert!(
        out.status.success(),
        "docker {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Builds [`TEST_IMAGE`] once per process, from `/bin/busybox` (Debian's `busybox-static`:
/// the image has no libc, so the binary must be static) with no registry: `FROM scratch`.
pub fn test_image() -> &'static str {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        sweep();
        let busybox = Path::new("/bin/busybox");
        let elf = std::fs::read(busybox)
            .map_err(|e| format!("{}: {e} (apt-get install busybox-static)", busybox.display()))?;
        // A dynamically linked ELF names its interpreter (PT_INTERP): "/lib64/ld-linux…".
        if elf.windows(12).any(|w| w == b"/lib64/ld-li" || w == b"/lib/ld-linu") {
            return Err(format!(
                "{} is dynamically linked; the test image needs Debian's busybox-static",
                busybox.display()
            ));
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        std::fs::create_dir(dir.path().join("bin")).map_err(|e| e.to_string())?;
        let copy = dir.path().join("bin/busybox");
        std::fs::write(&copy, &elf).map_err(|e| e.to_string())?;
        std::fs::set_permissions(&copy, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .map_err(|e| e.to_string())?;
        std::fs::write(
            dir.path().join("Dockerfile"),
            "FROM scratch\n\
             COPY bin/busybox /bin/busybox\n\
             RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n\
             EXPOSE 8080\n\
             HEALTHCHECK --interval=300ms --timeout=2s --retries=1 CMD test -f /state/healthy\n\
             CMD [\"sleep\", \"86400\"]\n",
        )
        .map_err(|e| e.to_string())?;
        let out = run_bounded(
            Command::new("docker")
                .env("DOCKER_BUILDKIT", "0")
                .args(["build", "-q", "-t", TEST_IMAGE])
                .arg(dir.path()),
            LIMIT,
        );
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("docker build: {}", String::from_utf8_lossy(&out.stderr).trim()))
        }
    });
    match built {
        Ok(()) => TEST_IMAGE,
        Err(e) => panic!("cannot build the test image {TEST_IMAGE}: {e}"),
    }
}

/// Removes the containers of test processes that no longer run (killed before their guards
/// could remove them): every container carries the label `confd-rs-test.pid`.
fn sweep() {
    let out = run_bounded(
        Command::new("docker").args([
            "ps",
            "-aq",
            "--filter",
            "label=confd-rs-test.pid",
            "--format",
            "{{.ID}} {{.Label \"confd-rs-test.pid\"}}",
        ]),
        LIMIT,
    );
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((id, pid)) = line.split_once(' ') else { continue };
        if !Path::new("/proc").join(pid).exists() {
            let _ = run_bounded(Command::new("docker").args(["rm", "-f", "-v", id]), LIMIT);
        }
    }
}

/// A container of the test; removed (`docker rm -f`, with its volumes) when dropped.
pub struct Container {
    pub id: String,
    pub name: String,
}

impl Container {
    /// `docker run -d --name <unique> ARGS…` (ARGS end with the image and its command).
    pub fn run(args: &[&str]) -> Container {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name =
            format!("confd-rs-test-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
        let owner = format!("confd-rs-test.pid={}", std::process::id());
        let mut all = vec!["run", "-d", "--name", &name, "-l", &owner];
        all.extend_from_slice(args);
        let id = docker(&all);
        Container { id, name }
    }

    pub fn short_id(&self) -> &str {
        &self.id[..12]
    }

    /// `docker inspect -f FORMAT`.
    pub fn inspect(&self, format: &str) -> String {
        docker(&["inspect", "-f", format, &self.id])
    }

    pub fn health(&self) -> String {
        self.inspect("{{if .State.Health}}{{.State.Health.Status}}{{end}}")
    }

    /// The IP address on the default bridge network.
    pub fn bridge_ip(&self) -> String {
        self.inspect("{{.NetworkSettings.Networks.bridge.IPAddress}}")
    }

    pub fn stop(&self) {
        docker(&["stop", "-t", "1", &self.id]);
    }

    pub fn start(&self) {
        docker(&["start", &self.id]);
    }

    /// Removes it now (the guard then has nothing to do).
    pub fn remove(&self) {
        docker(&["rm", "-f", "-v", &self.id]);
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = run_bounded(Command::new("docker").args(["rm", "-f", "-v", &self.id]), LIMIT);
    }
}

/// A unix socket that forwards every connection to the engine's, until [`cut`](Self::cut):
/// then the open connections are shut down and new ones are closed at once, as if the engine
/// had gone, until [`restore`](Self::restore).
pub struct SocketProxy {
    path: PathBuf,
    cut: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<UnixStream>>>,
    stop: Arc<AtomicBool>,
    _dir: tempfile::TempDir,
}

impl SocketProxy {
    pub fn start() -> SocketProxy {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&path).expect("bind the proxy socket");
        let cut = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<UnixStream>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (c, o, s) = (cut.clone(), open.clone(), stop.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = conn else { continue };
                if c.load(Ordering::SeqCst) {
                    continue; // dropped: closed at once
                }
                let Ok(engine) = UnixStream::connect(DOCKER_SOCKET) else { continue };
                let mut open = o.lock().unwrap_or_else(|e| e.into_inner());
                for s in [&client, &engine] {
                    if let Ok(s) = s.try_clone() {
                        open.push(s);
                    }
                }
                open.retain(|s| s.peer_addr().is_ok());
                drop(open);
                pipe(client.try_clone().expect("clone"), engine.try_clone().expect("clone"));
                pipe(engine, client);
            }
        });
        SocketProxy { path, cut, open, stop, _dir: dir }
    }

    /// `unix://PATH`, for `--docker-host`.
    pub fn url(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for s in self.open.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for SocketProxy {
    fn drop(&mut self) {
        self.cut();
        self.stop.store(true, Ordering::SeqCst);
        let _ = UnixStream::connect(&self.path);
    }
}

/// Copies `from` to `to` on a thread until either ends.
fn pipe(mut from: UnixStream, mut to: UnixStream) {
    thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Write);
    });
}
