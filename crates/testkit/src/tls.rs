//! A throw-away PKI made with the `openssl` CLI: one CA, one server certificate for
//! `IP:127.0.0.1`, client certificates on demand. ECDSA P-256 keys (fast to make), valid 2 days.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::util::run_bounded;

/// Paths of a certificate, its key and the CA that signed it (PEM files).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The CA certificate (trust anchor for both the server and client certificates).
    pub ca: PathBuf,
    /// The certificate.
    pub cert: PathBuf,
    /// Its private key (unencrypted PKCS#8).
    pub key: PathBuf,
}

pub(crate) struct Pki {
    dir: PathBuf,
    ca_key: PathBuf,
    /// The server certificate (SAN `IP:127.0.0.1`; EKU server and client auth, because etcd
    /// 3.4's gRPC gateway dials its own TLS port with it).
    pub(crate) server: TlsFiles,
    serial: AtomicU64,
}

const EC_KEY: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];

impl Pki {
    pub(crate) fn new(dir: &Path) -> Pki {
        std::fs::create_dir_all(dir)
            .unwrap_or_else(|e| panic!("testkit: creating {}: {e}", dir.display()));
        let ca = dir.join("ca.crt");
        let ca_key = dir.join("ca.key");
        openssl(
            dir,
            &[
                &["req", "-x509", "-new", "-nodes", "-days", "2"][..],
                &EC_KEY,
                &["-subj", "/CN=testkit CA", "-keyout", "ca.key", "-out", "ca.crt"],
                &["-addext", "basicConstraints=critical,CA:TRUE"],
                &["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            ]
            .concat(),
        );
        let mut pki = Pki {
            dir: dir.to_path_buf(),
            ca_key,
            server: TlsFiles { ca: ca.clone(), cert: PathBuf::new(), key: PathBuf::new() },
            serial: AtomicU64::new(1),
        };
        pki.server = pki.issue(
            "server",
            "127.0.0.1",
            "subjectAltName=IP:127.0.0.1\n\
             basicConstraints=CA:FALSE\n\
             keyUsage=critical,digitalSignature\n\
             extendedKeyUsage=serverAuth,clientAuth\n",
        );
        pki
    }

    /// A client certificate with common name `cn` (etcd takes the CN as the user name when
    /// auth is on and the request carries no token).
    pub(crate) fn client(&self, cn: &str) -> TlsFiles {
        assert!(
            !cn.is_empty() && cn.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
            "testkit: client certificate CN must be [A-Za-z0-9._-]+, got {cn:?}"
        );
        let n = self.serial.load(Ordering::Relaxed);
        self.issue(
            &format!("client-{cn}-{n}"),
            cn,
            "basicConstraints=CA:FALSE\n\
             keyUsage=critical,digitalSignature\n\
             extendedKeyUsage=clientAuth\n",
        )
    }

    fn issue(&self, stem: &str, cn: &str, extensions: &str) -> TlsFiles {
        let serial = self.serial.fetch_add(1, Ordering::Relaxed) + 1;
        let (key, csr, crt, ext) = (
            format!("{stem}.key"),
            format!("{stem}.csr"),
            format!("{stem}.crt"),
            format!("{stem}.ext"),
        );
        std::fs::write(self.dir.join(&ext), extensions)
            .unwrap_or_else(|e| panic!("testkit: writing {ext}: {e}"));
        let subj = format!("/CN={cn}");
        openssl(
            &self.dir,
            &[
                &["req", "-new", "-nodes"][..],
                &EC_KEY,
                &["-subj", &subj, "-keyout", &key, "-out", &csr],
            ]
            .concat(),
        );
        let ca_key = self.ca_key.to_string_lossy();
        let serial = serial.to_string();
        openssl(
            &self.dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                &ca_key,
                "-set_serial",
                &serial,
                "-days",
                "2",
                "-extfile",
                &ext,
                "-out",
                &crt,
            ],
        );
        TlsFiles { ca: self.server.ca.clone(), cert: self.dir.join(crt), key: self.dir.join(key) }
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out =
        run_bounded(Command::new("openssl").args(args).current_dir(dir), Duration::from_secs(30));
    assert!(
        out.status.success(),
        "testkit: openssl {} failed ({}):\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
