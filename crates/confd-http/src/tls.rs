//! TLS for the HTTP client (the etcd v2 API): rustls with the ring provider, roots from a CA
//! bundle (or the system's bundle when none is given), and an optional client certificate.

use std::io;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

/// A TLS connection over TCP.
pub type TlsStream = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// Where the system's CA bundle is on Debian (package `ca-certificates`).
pub const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// What TLS needs: the CA bundle to trust (the system's when `None`) and an optional client
/// certificate with its key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// Why TLS could not be set up or started.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{}: {why}", path.display())]
    Pem { path: PathBuf, why: String },
    #[error("TLS settings: {0}")]
    Config(#[from] rustls::Error),
    #[error("{0:?} is not a host name or IP address for TLS")]
    ServerName(String),
    #[error("{0}")]
    Connect(#[from] io::Error),
}

/// A TLS client configuration, made once and shared by every connection.
#[derive(Clone)]
pub struct TlsClient {
    config: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsClient")
    }
}

impl TlsClient {
    /// Reads the CA bundle and the client certificate and key named by `settings`.
    pub fn new(settings: &TlsSettings) -> Result<TlsClient, TlsError> {
        let ca = settings.ca.clone().unwrap_or_else(|| PathBuf::from(SYSTEM_CA_BUNDLE));
        let mut roots = rustls::RootCertStore::empty();
        for cert in certificates(&ca)? {
            roots.add(cert).map_err(|e| pem(&ca, e.to_string()))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots);
        let config = match (&settings.cert, &settings.key) {
            (Some(cert), Some(key)) => {
                let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| pem(key, e))?;
                builder.with_client_auth_cert(certificates(cert)?, key_der)?
            }
            _ => builder.with_no_client_auth(),
        };
        Ok(TlsClient { config: Arc::new(config) })
    }

    /// Starts TLS on `tcp`, checking the server's certificate for `host`.
    pub fn wrap(&self, host: &str, tcp: TcpStream) -> Result<TlsStream, TlsError> {
        let name = ServerName::try_from(host.to_string())
            .map_err(|_| TlsError::ServerName(host.to_string()))?;
        let conn = rustls::ClientConnection::new(self.config.clone(), name)?;
        Ok(rustls::StreamOwned::new(conn, tcp))
    }
}

fn pem(path: &Path, why: impl ToString) -> TlsError {
    TlsError::Pem { path: path.to_path_buf(), why: why.to_string() }
}

/// Every certificate in a PEM file; none is an error.
fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    std::fs::metadata(path).map_err(|source| TlsError::Read { path: path.into(), source })?;
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem(path, e))?;
    if certs.is_empty() {
        return Err(pem(path, "no certificate in it"));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_files_are_named() {
        let missing = TlsSettings { ca: Some("/nonexistent/ca.pem".into()), ..Default::default() };
        let err = TlsClient::new(&missing).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/ca.pem"), "{err}");
        let dir = std::env::temp_dir().join(format!("confd-http-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = TlsClient::new(&TlsSettings { ca: Some(empty.clone()), ..Default::default() })
            .unwrap_err()
            .to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(err.contains("empty.pem") && err.contains("no certificate"), "{err}");
    }
}
