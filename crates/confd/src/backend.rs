//! The backends the binary can read from, behind one interface: confd's `GetValues`, which
//! returns every key under the requested (prefixed) keys with its value.

use std::collections::BTreeMap;
use std::path::PathBuf;

use confd_kv::KeyPrefix;

use crate::config::RawConfig;

pub enum Backend {
    /// YAML files (`-file`, repeatable; directories are walked, `-filter` on base names).
    File { paths: Vec<PathBuf>, filter: String },
    /// The process environment (`/database/host` ← `DATABASE_HOST`).
    Env,
    /// etcd v3 (`-backend etcd` and `-backend etcdv3`, like confd master).
    Etcd(confd_etcd::Etcd),
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    File(#[from] confd_backend::file::FileBackendError),
    #[error(transparent)]
    Etcd(#[from] confd_etcd::EtcdError),
}

/// Where a pass gets each resource's keys: a fresh read from the backend, or (watch mode) the
/// in-memory copy the watch keeps current.
pub trait Values {
    /// Every key under `keys` (already prefixed), with its value.
    fn values(&self, keys: &[String]) -> Result<BTreeMap<String, String>, String>;

    /// The store revision these values are as of; 0 when the backend has none or it is not
    /// known (a push carries it, for the operator).
    fn revision(&self) -> u64 {
        0
    }
}

impl Values for Backend {
    fn values(&self, keys: &[String]) -> Result<BTreeMap<String, String>, String> {
        self.get_values(keys).map_err(|e| e.to_string())
    }
}

/// An in-memory copy of the backend's keys, selected by [`KeyPrefix`] (`/upstream` selects
/// `/upstream` and `/upstream/…`, not `/upstreamX`); each lookup costs what it returns.
pub struct SnapshotValues<'a>(pub &'a BTreeMap<String, String>);

impl Values for SnapshotValues<'_> {
    fn values(&self, keys: &[String]) -> Result<BTreeMap<String, String>, String> {
        let mut out = BTreeMap::new();
        for key in keys {
            for (k, v) in KeyPrefix::new(key).select(self.0) {
                out.insert(k.clone(), v.clone());
            }
        }
        Ok(out)
    }
}

impl Backend {
    /// The backend `-backend` names. Backends confd has that we do not yet are an error that
    /// says so (etcd arrives with issue 4).
    pub fn from_config(config: &RawConfig) -> Result<Backend, String> {
        match config.backend.as_str() {
            "file" => {
                if config.files.is_empty() {
                    return Err("the file backend needs at least one -file".into());
                }
                let paths = config.files.iter().map(PathBuf::from).collect();
                Ok(Backend::File { paths, filter: config.filter.clone() })
            }
            "env" => Ok(Backend::Env),
            "etcd" | "etcdv3" => {
                let etcd = confd_etcd::Etcd::connect(etcd_config(config)).map_err(|e| e.to_string())?;
                Ok(Backend::Etcd(etcd))
            }
            other => Err(format!(
                "backend {other:?} is not implemented in confd-rs (available: etcd, etcdv3, file, env)"
            )),
        }
    }

    /// For etcd: every key under `keys`, read once at one revision for the whole pass, so all
    /// resources render from one consistent state. `None` for backends read per resource.
    pub fn prefetch(
        &self,
        keys: &[String],
    ) -> Option<Result<BTreeMap<String, String>, BackendError>> {
        match self {
            Backend::Etcd(etcd) => Some(etcd.read(keys).map(|s| s.kvs).map_err(BackendError::from)),
            _ => None,
        }
    }

    /// Every key under `keys` (already prefixed) with its value. The file backend re-reads its
    /// files on every call, as confd does, so edits are seen by the next pass.
    pub fn get_values(&self, keys: &[String]) -> Result<BTreeMap<String, String>, BackendError> {
        match self {
            Backend::File { paths, filter } => {
                Ok(confd_backend::file::get_values(paths, filter, keys)?)
            }
            Backend::Env => Ok(confd_backend::env::values(keys, confd_backend::env::process_env())),
            Backend::Etcd(etcd) => Ok(etcd.read(keys)?.kvs),
        }
    }

    /// What `-watch` must observe: a function listing the files and directories to watch,
    /// evaluated again after every change (directories may gain subdirectories, symlinks may
    /// be swapped). `None` when the backend never changes.
    pub fn watch_source(&self) -> Option<crate::watch::PathSource> {
        match self {
            Backend::File { paths, filter } => {
                let (paths, filter) = (paths.clone(), filter.clone());
                Some(Box::new(move || {
                    confd_backend::file::watch_paths(&paths, &filter).map_err(|e| e.to_string())
                }))
            }
            Backend::Env | Backend::Etcd(_) => None,
        }
    }
}

/// confd's rules for the etcd client: credentials only with `-basic-auth`; TLS when a CA is
/// given or both a client certificate and key (a lone certificate or key is ignored, as in
/// confd, with a warning).
fn etcd_config(config: &RawConfig) -> confd_etcd::EtcdConfig {
    let mut cfg = confd_etcd::EtcdConfig::new(config.nodes.clone());
    if config.basic_auth {
        cfg.username = Some(config.username.clone());
        cfg.password = Some(config.password.clone());
    } else if !config.username.is_empty() || !config.password.is_empty() {
        crate::log::warning!(
            "-username/-password are not sent to etcd without -basic-auth (as in confd)"
        );
    }
    let (ca, cert, key) = (&config.client_ca_keys, &config.client_cert, &config.client_key);
    if cert.is_empty() != key.is_empty() {
        crate::log::warning!("-client-cert and -client-key must be given together; ignoring the one given (as confd does)");
    }
    let pair = !cert.is_empty() && !key.is_empty();
    if !ca.is_empty() || pair {
        let path = |s: &String| (!s.is_empty()).then(|| PathBuf::from(s));
        cfg.tls = Some(confd_etcd::TlsConfig {
            ca: path(ca),
            cert: if pair { path(cert) } else { None },
            key: if pair { path(key) } else { None },
        });
    }
    cfg
}
