//! The backends the binary can read from, behind one interface: confd's `GetValues`, which
//! returns every key under the requested (prefixed) keys with its value.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::sync::Arc;

use confd_backend::file::PairSink;
use confd_backend::notify::{Notice, WatchStop};
use confd_core::resource::{clean_relative_key, TemplateResource};
use confd_kv::{KeyPrefix, Store};

use crate::config::{Config, RawConfig};

pub enum Backend {
    /// YAML files (`-file`, repeatable; directories are walked, `-filter` on base names).
    File {
        paths: Vec<PathBuf>,
        filter: String,
    },
    /// The process environment (`/database/host` ← `DATABASE_HOST`).
    Env,
    /// etcd v3 (`-backend etcd` and `-backend etcdv3`, like confd master).
    Etcd(confd_etcd::Etcd),
    /// The etcd v2 API (`-backend etcdv2`; confd 0.16's `etcd`).
    EtcdV2(confd_etcdv2::EtcdV2),
    Redis(confd_redis::Redis),
    Zookeeper(confd_zookeeper::Zookeeper),
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    File(#[from] confd_backend::file::FileBackendError),
    #[error(transparent)]
    Etcd(#[from] confd_etcd::EtcdError),
    #[error(transparent)]
    EtcdV2(#[from] confd_etcdv2::EtcdV2Error),
    #[error(transparent)]
    Redis(#[from] confd_redis::RedisError),
    #[error(transparent)]
    Zookeeper(#[from] confd_zookeeper::ZookeeperError),
}

impl BackendError {
    /// Whether no server could be reached (rather than one refusing or being misconfigured).
    pub fn is_unreachable(&self) -> bool {
        match self {
            BackendError::EtcdV2(e) => e.is_unreachable(),
            BackendError::Redis(e) => e.is_unreachable(),
            BackendError::Zookeeper(e) => e.is_unreachable(),
            BackendError::File(_) | BackendError::Etcd(_) => false,
        }
    }
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

    /// What `res`'s template reads: its keys as a [`ResourceStore`]. Built from
    /// [`Values::values`] unless the source keeps one current (etcd watch mode) or can give
    /// its keys one by one (the file backend).
    fn store(&self, res: &TemplateResource) -> Result<ResourceStore, String> {
        store_from_values(self, res)
    }
}

/// [`Values::store`] built from [`Values::values`].
pub fn store_from_values(
    values: &(impl Values + ?Sized),
    res: &TemplateResource,
) -> Result<ResourceStore, String> {
    Ok(ResourceStore::build(&res.prefix, values.values(&res.prefixed_keys())?))
}

/// A resource's keys as its template reads them: relative to its prefix, in a [`Store`]. Keys
/// that are not in clean form are left out, each with a notice saying so.
pub struct ResourceStore {
    pub store: Arc<Store>,
    pub left_out: Vec<String>,
}

impl ResourceStore {
    /// The store of `values` (the resource's full keys), consumed as the store is built, so
    /// the two copies of every key never coexist in full.
    pub fn build(prefix: &str, values: BTreeMap<String, String>) -> ResourceStore {
        let mut builder = StoreBuilder::new(prefix);
        for (key, value) in values {
            builder.pair(&key, &value);
        }
        builder.finish()
    }
}

/// Builds a [`ResourceStore`] from the resource's full keys as they come (in any order; of a
/// repeated key the last wins): each kept key and value is allocated once, as the store keeps
/// it.
pub struct StoreBuilder<'p> {
    prefix: &'p str,
    pairs: Vec<(Arc<str>, Arc<str>)>,
    /// Full keys left out for not being in clean form.
    left_out: Vec<String>,
    /// Where the current document's pairs begin (in `pairs` and `left_out`).
    document: (usize, usize),
}

impl<'p> StoreBuilder<'p> {
    pub fn new(prefix: &'p str) -> StoreBuilder<'p> {
        StoreBuilder { prefix, pairs: Vec::new(), left_out: Vec::new(), document: (0, 0) }
    }

    /// The store, and the full keys left out (sorted, each once). Every key kept is clean
    /// ([`clean_relative_key`] left out the others).
    pub fn finish_with_keys(mut self) -> (Arc<Store>, Vec<String>) {
        self.left_out.sort_unstable();
        self.left_out.dedup();
        (Arc::new(Store::from_sorted_clean(self.pairs)), self.left_out)
    }

    /// A pair whose value the caller already holds as a shared string (`value` is called only
    /// for a key that is kept).
    pub fn shared_pair(&mut self, key: &str, value: impl FnOnce() -> Arc<str>) {
        match clean_relative_key(self.prefix, key) {
            Some(relative) => self.pairs.push((Arc::from(&*relative), value())),
            None => self.left_out.push(key.to_string()),
        }
    }

    pub fn finish(self) -> ResourceStore {
        let (store, left_out) = self.finish_with_keys();
        ResourceStore { store, left_out: left_out.iter().map(|key| unclean_notice(key)).collect() }
    }
}

impl confd_backend::file::PairSink for StoreBuilder<'_> {
    fn begin_document(&mut self) {
        self.document = (self.pairs.len(), self.left_out.len());
    }

    fn pair(&mut self, key: &str, value: &str) {
        self.shared_pair(key, || Arc::from(value));
    }

    fn forget_document(&mut self) {
        self.pairs.truncate(self.document.0);
        self.left_out.truncate(self.document.1);
    }
}

/// Why a key that is not in clean form is not in a resource's store.
pub fn unclean_notice(full_key: &str) -> String {
    format!(
        "key {} left out: it is not in clean form (\"..\", \".\", \"//\" or a trailing \"/\")",
        gotmpl::gofmt::quote(full_key)
    )
}

impl Values for Backend {
    fn values(&self, keys: &[String]) -> Result<BTreeMap<String, String>, String> {
        self.get_values(keys).map_err(|e| e.to_string())
    }

    /// The file backend's keys go from each file's text into the store one by one, with no
    /// map of every key in between.
    fn store(&self, res: &TemplateResource) -> Result<ResourceStore, String> {
        let Backend::File { paths, filter } = self else { return store_from_values(self, res) };
        let mut builder = StoreBuilder::new(&res.prefix);
        confd_backend::file::read_selected(paths, filter, &res.prefixed_keys(), &mut builder)
            .map_err(|e| e.to_string())?;
        Ok(builder.finish())
    }
}

/// An in-memory copy of the backend's keys, selected by [`KeyPrefix`] (`/upstream` selects
/// `/upstream` and `/upstream/…`, not `/upstreamX`); each lookup costs what it returns. The
/// values may be shared strings (etcd watch mode's model).
pub struct SnapshotValues<'a, V = String>(pub &'a BTreeMap<String, V>);

impl<V: AsRef<str>> Values for SnapshotValues<'_, V> {
    fn values(&self, keys: &[String]) -> Result<BTreeMap<String, String>, String> {
        let mut out = BTreeMap::new();
        for key in keys {
            for (k, v) in KeyPrefix::new(key).select(self.0) {
                out.insert(k.clone(), v.as_ref().to_string());
            }
        }
        Ok(out)
    }
}

impl Backend {
    /// The backend `-backend` names. Backends confd has that we do not yet are an error that
    /// says so. A redis, zookeeper or etcd v2 server is tried at once: a refusal (a wrong
    /// password, an etcd without the v2 API) is an error; so is no server answering with
    /// `-onetime`, while a daemon starts anyway, keeps dest as it is, and renders once the
    /// server answers (its watch or its next pass says so).
    pub fn from_config(settings: &Config) -> Result<Backend, String> {
        let config = &settings.raw;
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
                let mut cfg = etcd_config(config);
                cfg.member_refresh = settings.member_refresh;
                cfg.on_members = Some(std::sync::Arc::new(log_members_notice));
                let etcd = confd_etcd::Etcd::connect(cfg).map_err(|e| e.to_string())?;
                Ok(Backend::Etcd(etcd))
            }
            "etcdv2" => {
                let client =
                    confd_etcdv2::EtcdV2::new(etcdv2_config(config)).map_err(|e| e.to_string())?;
                Backend::EtcdV2(client).probed(config.onetime)
            }
            "redis" => {
                let client =
                    confd_redis::Redis::new(redis_config(config)).map_err(|e| e.to_string())?;
                Backend::Redis(client).probed(config.onetime)
            }
            "zookeeper" => {
                let cfg = confd_zookeeper::ZookeeperConfig { nodes: config.nodes.clone() };
                let client = confd_zookeeper::Zookeeper::new(cfg).map_err(|e| e.to_string())?;
                Backend::Zookeeper(client).probed(config.onetime)
            }
            other => Err(format!(
                "backend {other:?} is not implemented in confd-rs (available: etcd, etcdv3, \
                 etcdv2, redis, zookeeper, file, env; see COMPATIBILITY.md for what to do \
                 meanwhile)"
            )),
        }
    }

    /// Tries the server once (see [`Backend::from_config`]).
    fn probed(self, onetime: bool) -> Result<Backend, String> {
        let probe = match &self {
            Backend::EtcdV2(c) => c.probe().map_err(BackendError::from),
            Backend::Redis(c) => c.probe().map_err(BackendError::from),
            Backend::Zookeeper(c) => c.probe().map_err(BackendError::from),
            Backend::File { .. } | Backend::Env | Backend::Etcd(_) => Ok(()),
        };
        match probe {
            Err(e) if onetime || !e.is_unreachable() => Err(e.to_string()),
            _ => Ok(self),
        }
    }

    /// For the stores whose watch only reports that something changed (redis, zookeeper,
    /// etcd v2): starts watching `keys`, reporting to `tx`. `None` for the other backends.
    pub fn watch_store(
        &self,
        keys: Vec<String>,
        tx: Sender<Notice>,
    ) -> Option<Result<WatchStop, BackendError>> {
        Some(match self {
            Backend::EtcdV2(c) => c.watch(keys, tx).map_err(BackendError::from),
            Backend::Redis(c) => c.watch(keys, tx).map_err(BackendError::from),
            Backend::Zookeeper(c) => c.watch(keys, tx).map_err(BackendError::from),
            Backend::File { .. } | Backend::Env | Backend::Etcd(_) => return None,
        })
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
            Backend::EtcdV2(c) => Ok(c.read(keys)?),
            Backend::Redis(c) => Ok(c.read(keys)?),
            Backend::Zookeeper(c) => Ok(c.read(keys)?),
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
            Backend::Env
            | Backend::Etcd(_)
            | Backend::EtcdV2(_)
            | Backend::Redis(_)
            | Backend::Zookeeper(_) => None,
        }
    }
}

/// The TLS files as confd's etcd client takes them: with a CA, or with both a client
/// certificate and key (a lone certificate or key is ignored, as in confd, with a warning).
fn tls_files(config: &RawConfig) -> Option<(Option<PathBuf>, Option<PathBuf>, Option<PathBuf>)> {
    let (ca, cert, key) = (&config.client_ca_keys, &config.client_cert, &config.client_key);
    if cert.is_empty() != key.is_empty() {
        crate::log::warning!("-client-cert and -client-key must be given together; ignoring the one given (as confd does)");
    }
    let pair = !cert.is_empty() && !key.is_empty();
    if ca.is_empty() && !pair {
        return None;
    }
    let path = |s: &String| (!s.is_empty()).then(|| PathBuf::from(s));
    Some((path(ca), if pair { path(cert) } else { None }, if pair { path(key) } else { None }))
}

/// Credentials go to etcd only with `-basic-auth`, as in confd.
fn basic_auth(config: &RawConfig) -> (Option<String>, Option<String>) {
    if config.basic_auth {
        return (Some(config.username.clone()), Some(config.password.clone()));
    }
    if !config.username.is_empty() || !config.password.is_empty() {
        crate::log::warning!(
            "-username/-password are not sent to etcd without -basic-auth (as in confd)"
        );
    }
    (None, None)
}

fn etcdv2_config(config: &RawConfig) -> confd_etcdv2::EtcdV2Config {
    let (username, password) = basic_auth(config);
    let tls =
        tls_files(config).map(|(ca, cert, key)| confd_http::tls::TlsSettings { ca, cert, key });
    confd_etcdv2::EtcdV2Config { nodes: config.nodes.clone(), username, password, tls }
}

/// redis takes the password from `-password` (or its file or variable) and, as confd does,
/// from `-client-key`; an ACL user from `-username`. No `-basic-auth` is needed.
fn redis_config(config: &RawConfig) -> confd_redis::RedisConfig {
    let given = |s: &String| (!s.is_empty()).then(|| s.clone());
    confd_redis::RedisConfig {
        nodes: config.nodes.clone(),
        username: given(&config.username),
        password: given(&config.password).or_else(|| given(&config.client_key)),
        separator: config.separator.clone(),
    }
}

/// What member discovery did, in the log.
fn log_members_notice(notice: confd_etcd::MembersNotice) {
    match notice {
        confd_etcd::MembersNotice::Failed(_) => crate::log::warning!("{notice}"),
        _ => crate::log::info!("{notice}"),
    }
}

/// confd's rules for the etcd client: credentials only with `-basic-auth`; TLS when a CA is
/// given or both a client certificate and key (a lone certificate or key is ignored, as in
/// confd, with a warning).
fn etcd_config(config: &RawConfig) -> confd_etcd::EtcdConfig {
    let mut cfg = confd_etcd::EtcdConfig::new(config.nodes.clone());
    (cfg.username, cfg.password) = basic_auth(config);
    cfg.tls = tls_files(config).map(|(ca, cert, key)| confd_etcd::TlsConfig { ca, cert, key });
    cfg
}

#[cfg(test)]
mod tests {
    use super::*;
    use confd_core::resource::{parse_resource, ResourceContext};

    /// The file backend's store, read pair by pair into the builder, is the store built from
    /// the map of every selected key (confd's `GetValues`): later files win, keys outside the
    /// resource's `keys` are not read (but `/upx` is: confd's raw prefix rule), and a document
    /// the line reader hands over midway is not read twice.
    #[test]
    fn the_file_backend_streams_the_same_store_as_its_map_gives() {
        let dir = tempfile::tempdir().expect("temp dir");
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text);
        write("1.yaml", "dc:\n  up:\n    a: \"1\"\n    b: 2\n    c: 0x1F\n  other: x\n")
            .expect("write");
        // The line reader takes the first lines, then meets a sequence and hands over.
        write("2.yaml", "dc:\n  up:\n    b: twenty\n    d..: odd\n    list:\n      - 1\n")
            .expect("write");
        write("3.yaml", "dc:\n  up:\n    d..: odd\n    e: yes\n  upx: near\n").expect("write");
        let toml = "[template]\nsrc = \"t.tmpl\"\ndest = \"/tmp/out\"\nkeys = [\"/up\"]\nprefix = \"/dc\"\n";
        let (res, _) = parse_resource(
            std::path::Path::new("/etc/confd/conf.d/t.toml"),
            toml,
            &ResourceContext::new("/etc/confd", ""),
        )
        .expect("resource");
        let backend = Backend::File { paths: vec![dir.path().to_path_buf()], filter: "*".into() };

        let streamed = backend.store(&res).expect("streamed");
        let mapped = store_from_values(&backend, &res).expect("mapped");
        assert_eq!(*streamed.store, *mapped.store);
        assert_eq!(streamed.left_out, mapped.left_out);

        let keys: Vec<&str> = streamed.store.iter().map(|(k, _)| &**k).collect();
        assert_eq!(keys, ["/up/a", "/up/b", "/up/c", "/up/d..", "/up/e", "/up/list/0", "/upx"]);
        assert_eq!(streamed.store.get("/up/b").expect("b").value.as_ref(), "twenty");
        assert_eq!(streamed.store.get("/up/c").expect("c").value.as_ref(), "31");
    }
}
