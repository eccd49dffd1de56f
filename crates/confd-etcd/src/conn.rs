//! The connection layer: one [`Client`] (`crate::rpc`) per endpoint, and fail-over between
//! them.
//!
//! A balancer over all endpoints (tonic's p2c, as client libraries use) keeps choosing a dead
//! endpoint and never retries; a SIGSTOPped member makes a call hang until its timeout. So each
//! endpoint gets its own client, and this layer decides where a call goes: the endpoint that
//! last worked, then the others in turn, with a small jittered backoff between attempts. A
//! dead member costs one refused connection (under a millisecond), a hung one costs one
//! request timeout; after that calls stay on the member that answered.
//!
//! Every client is built with a request timeout, a connect timeout, HTTP/2 keep-alive (also
//! while idle, so a hung member under an idle watch stream is noticed), `hasleader` (a member
//! cut off from the leader refuses, rather than serves stale data or a silent watch), and,
//! with a user, its auth token, renewed when etcd says it expired. With a user,
//! [`Client::connect`] authenticates eagerly, so connecting is itself an attempt that can
//! fail over.

use std::future::Future;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tonic::transport::{Certificate, ClientTlsConfig, Identity};

use crate::error::{classify, fmt_duration, Attempt, EtcdError, Failure};
use crate::rpc::{Client, Options, RpcError};
use crate::EtcdConfig;

/// Where a system CA bundle usually is, for `https://` endpoints without `-client-ca-keys`.
const SYSTEM_CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

pub(crate) struct Conn {
    /// The endpoints in use: the configured ones, until member discovery (`crate::discovery`)
    /// replaces them with the cluster's members. Calls take the list as it is when they start.
    endpoints: RwLock<Arc<[Arc<Endpoint>]>>,
    /// The configured endpoints: where discovery asks when none of the current ones answers.
    seeds: Arc<[Arc<Endpoint>]>,
    /// The URL of the endpoint that last worked; calls start there.
    preferred: Mutex<String>,
    /// How an endpoint's client is set up (options, TLS).
    template: EndpointTemplate,
    pub(crate) request_timeout: Duration,
    connect_timeout: Duration,
    pub(crate) user: Option<String>,
}

/// One endpoint and its client, built on first use and kept: tonic reconnects it by itself.
pub(crate) struct Endpoint {
    pub(crate) url: String,
    options: Options,
    client: tokio::sync::Mutex<Option<Client>>,
}

/// What every endpoint's client shares: timeouts, keep-alive, the user, the TLS files.
struct EndpointTemplate {
    base: Options,
    /// From `-client-ca-keys` and the client certificate, when given.
    tls: Option<ClientTlsConfig>,
    /// The system's CA bundle, loaded for the first `https://` endpoint without `tls`.
    system_roots: Mutex<Option<ClientTlsConfig>>,
}

impl EndpointTemplate {
    /// The endpoint for `raw` (`http://`, `https://`, or no scheme: https when TLS files are
    /// given), with its scheme spelled out so that messages say how it is reached.
    fn endpoint(&self, raw: &str) -> Result<Endpoint, EtcdError> {
        let url = raw.trim().to_string();
        if url.is_empty() {
            return Err(EtcdError::Config("an empty etcd endpoint was given".into()));
        }
        let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        let use_tls = match scheme.as_deref() {
            Some("https") => true,
            Some("http") => false,
            None => self.tls.is_some(),
            Some(other) => {
                return Err(EtcdError::Config(format!(
                    "endpoint {url}: unsupported scheme {other:?} (use http:// or https://)"
                )))
            }
        };
        let url = match scheme {
            None => format!("{}://{url}", if use_tls { "https" } else { "http" }),
            Some(_) => url,
        };
        let mut options = self.base.clone();
        if use_tls {
            options.tls = Some(match &self.tls {
                Some(t) => t.clone(),
                None => self.system_roots(&url)?,
            });
        }
        Ok(Endpoint { url, options, client: tokio::sync::Mutex::new(None) })
    }

    fn system_roots(&self, url: &str) -> Result<ClientTlsConfig, EtcdError> {
        let mut roots = self.system_roots.lock().unwrap_or_else(|p| p.into_inner());
        if roots.is_none() {
            *roots = Some(system_tls(url)?);
        }
        Ok(roots.clone().expect("set above"))
    }
}

/// A call that failed for good.
#[derive(Debug)]
pub(crate) enum CallError {
    /// The revision asked for has been compacted.
    Compacted,
    /// Permission denied at `endpoint`; the caller names the prefix.
    PermissionDenied {
        endpoint: String,
    },
    Error(EtcdError),
}

impl Conn {
    pub(crate) fn new(cfg: &EtcdConfig) -> Result<Conn, EtcdError> {
        if cfg.endpoints.is_empty() {
            return Err(EtcdError::Config("no etcd endpoints given".into()));
        }
        if cfg.password.is_some() && cfg.username.is_none() {
            return Err(EtcdError::Config("a password was given without a user name".into()));
        }
        let tls = match &cfg.tls {
            Some(t) => Some(load_tls(t)?),
            None => None,
        };
        let base = Options {
            request_timeout: cfg.request_timeout,
            connect_timeout: cfg.connect_timeout,
            keepalive: cfg.keepalive,
            tls: None,
            user: cfg
                .username
                .as_ref()
                .map(|user| (user.clone(), cfg.password.clone().unwrap_or_default())),
        };
        let template = EndpointTemplate { base, tls, system_roots: Mutex::new(None) };
        let mut seeds: Vec<Arc<Endpoint>> = Vec::new();
        for raw in &cfg.endpoints {
            let endpoint = template.endpoint(raw)?;
            if !seeds.iter().any(|s| s.url == endpoint.url) {
                seeds.push(Arc::new(endpoint));
            }
        }
        let seeds: Arc<[Arc<Endpoint>]> = seeds.into();
        // Each client starts on an endpoint of its own, so that a fleet started with the same
        // `-node`s spreads its watch streams and reads over the members rather than putting
        // them all on the first one.
        let first = random_index(seeds.len());
        Ok(Conn {
            preferred: Mutex::new(seeds[first].url.clone()),
            endpoints: RwLock::new(seeds.clone()),
            seeds,
            template,
            request_timeout: cfg.request_timeout,
            connect_timeout: cfg.connect_timeout,
            user: cfg.username.clone(),
        })
    }

    /// The endpoints in use now.
    pub(crate) fn current(&self) -> Arc<[Arc<Endpoint>]> {
        self.endpoints.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The configured endpoints.
    pub(crate) fn seeds(&self) -> Arc<[Arc<Endpoint>]> {
        self.seeds.clone()
    }

    pub(crate) fn len(&self) -> usize {
        self.current().len()
    }

    /// Endpoint `i` of the current list (`i` taken modulo its length, so an index kept across
    /// a change of the list still names an endpoint).
    pub(crate) fn endpoint(&self, i: usize) -> Arc<Endpoint> {
        let list = self.current();
        list[i % list.len()].clone()
    }

    pub(crate) fn endpoints(&self) -> Vec<String> {
        self.current().iter().map(|e| e.url.clone()).collect()
    }

    /// The index in the current list of the endpoint that last worked (0 when it is no
    /// longer in the list).
    pub(crate) fn preferred(&self) -> usize {
        position(&self.current(), &self.preferred_url())
    }

    pub(crate) fn preferred_url(&self) -> String {
        self.preferred.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn set_preferred(&self, url: &str) {
        let mut preferred = self.preferred.lock().unwrap_or_else(|p| p.into_inner());
        if *preferred != url {
            *preferred = url.to_string();
        }
    }

    /// Uses `urls` from now on (the cluster's members, as discovery found them). Endpoints
    /// already known keep their clients; calls under way finish on the list they started
    /// with. An URL that cannot be used (a scheme other than http/https, https without a CA)
    /// is an error and changes nothing.
    pub(crate) fn replace(&self, urls: &[String]) -> Result<(), EtcdError> {
        let known: Vec<Arc<Endpoint>> =
            self.current().iter().chain(self.seeds.iter()).cloned().collect();
        let mut next: Vec<Arc<Endpoint>> = Vec::with_capacity(urls.len());
        for url in urls {
            let fresh = self.template.endpoint(url)?;
            if next.iter().any(|e| e.url == fresh.url) {
                continue;
            }
            match known.iter().find(|e| e.url == fresh.url) {
                Some(e) => next.push(e.clone()),
                None => next.push(Arc::new(fresh)),
            }
        }
        if next.is_empty() {
            return Err(EtcdError::Config("no etcd endpoints given".into()));
        }
        *self.endpoints.write().unwrap_or_else(|p| p.into_inner()) = next.into();
        Ok(())
    }

    /// The client for `endpoint`, connecting (and, with a user, authenticating) first if
    /// needed.
    pub(crate) async fn client(&self, endpoint: &Endpoint) -> Result<Client, Failure> {
        let mut guard = endpoint.client.lock().await;
        if let Some(c) = guard.as_ref() {
            return Ok(c.clone());
        }
        let budget = self.connect_timeout + self.request_timeout;
        let connect = Client::connect(&endpoint.url, &endpoint.options);
        match tokio::time::timeout(budget, connect).await {
            Err(_) => Err(Failure::Transient {
                message: format!("no answer within {}", fmt_duration(budget)),
                tls: false,
                timeout: true,
            }),
            Ok(Err(e)) => Err(classify(e, &endpoint.url)),
            Ok(Ok(c)) => {
                *guard = Some(c.clone());
                Ok(c)
            }
        }
    }

    /// Connects (and so authenticates) to the first endpoint that answers. A rejected user or
    /// password, or TLS failing everywhere, is an error; endpoints that do not answer are not
    /// (yet): calls will report them.
    pub(crate) async fn authenticate(&self) -> Result<(), EtcdError> {
        let list = self.current();
        let n = list.len();
        let start = position(&list, &self.preferred_url());
        let mut attempts = Vec::new();
        let mut tls_failure = None;
        for k in 0..n {
            let endpoint = &list[(start + k) % n];
            match self.client(endpoint).await {
                Ok(_) => {
                    self.set_preferred(&endpoint.url);
                    return Ok(());
                }
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Transient { message, tls, .. }) => {
                    let a = Attempt { endpoint: endpoint.url.clone(), error: message };
                    if tls {
                        tls_failure = Some(a.clone());
                    }
                    attempts.push(a);
                }
                Err(Failure::PermissionDenied | Failure::Compacted | Failure::TokenExpired) => {
                    attempts.push(Attempt {
                        endpoint: endpoint.url.clone(),
                        error: "unexpected answer to authenticate".into(),
                    });
                }
            }
        }
        if tls_failure.is_some() {
            return Err(give_up(attempts, tls_failure, false, self.request_timeout));
        }
        Ok(())
    }

    /// [`Conn::call_on`] the endpoints in use.
    pub(crate) async fn call<T, F, Fut>(&self, f: F) -> Result<T, CallError>
    where
        F: FnMut(Client) -> Fut,
        Fut: Future<Output = Result<T, RpcError>>,
    {
        self.call_on(&self.current(), f).await
    }

    /// Runs a unary call with fail-over over `list`: first on the endpoint that last worked,
    /// then on the others in turn; at least three attempts, at most one per endpoint beyond
    /// that. Transient failures (unavailable, cancelled, unknown, deadline exceeded, transport
    /// errors, our own timeout) move on; anything else is returned at once.
    pub(crate) async fn call_on<T, F, Fut>(
        &self,
        list: &[Arc<Endpoint>],
        mut f: F,
    ) -> Result<T, CallError>
    where
        F: FnMut(Client) -> Fut,
        Fut: Future<Output = Result<T, RpcError>>,
    {
        let n = list.len();
        let attempts = n.max(3);
        let start = position(list, &self.preferred_url());
        let mut failed: Vec<Attempt> = Vec::new();
        let (mut tls_failure, mut all_timeout) = (None, true);
        for k in 0..attempts {
            let endpoint = &list[(start + k) % n];
            if k > 0 {
                tokio::time::sleep(jitter(Duration::from_millis(50) * (1 << (k - 1).min(4)))).await;
            }
            let outcome = match self.client(endpoint).await {
                Err(f) => Err(f),
                Ok(client) => match self.attempt(&mut f, &client, &endpoint.url).await {
                    // An expired token: authenticate again on the same member and repeat the
                    // call there at once, without using up an attempt. A refused login is
                    // final (a changed password), not a reason to move on.
                    Err(Failure::TokenExpired) => match client.authenticate().await {
                        Ok(()) => self.attempt(&mut f, &client, &endpoint.url).await,
                        Err(e) => Err(classify(e, &endpoint.url)),
                    },
                    other => other,
                },
            };
            match outcome {
                Ok(v) => {
                    self.set_preferred(&endpoint.url);
                    return Ok(v);
                }
                Err(Failure::Transient { message, tls, timeout }) => {
                    all_timeout &= timeout;
                    let a = Attempt { endpoint: endpoint.url.clone(), error: message };
                    if tls {
                        tls_failure = Some(a.clone());
                    }
                    failed.push(a);
                }
                Err(Failure::Compacted) => return Err(CallError::Compacted),
                Err(Failure::TokenExpired) => {
                    failed.push(Attempt {
                        endpoint: endpoint.url.clone(),
                        error: "auth token expired".into(),
                    });
                    all_timeout = false;
                }
                Err(Failure::PermissionDenied) => {
                    return Err(CallError::PermissionDenied { endpoint: endpoint.url.clone() })
                }
                Err(Failure::Fatal(e)) => return Err(CallError::Error(e)),
            }
        }
        Err(CallError::Error(give_up(failed, tls_failure, all_timeout, self.request_timeout)))
    }
}

/// Where `url` is in `list`; 0 when it is not there.
fn position(list: &[Arc<Endpoint>], url: &str) -> usize {
    list.iter().position(|e| e.url == url).unwrap_or(0)
}

impl Conn {
    /// One try of `f` on the endpoint at `url`, its failure sorted.
    async fn attempt<T, F, Fut>(&self, f: &mut F, client: &Client, url: &str) -> Result<T, Failure>
    where
        F: FnMut(Client) -> Fut,
        Fut: Future<Output = Result<T, RpcError>>,
    {
        // tonic's timeout covers the response headers only; this covers the body.
        let limit = self.request_timeout + Duration::from_secs(1);
        match tokio::time::timeout(limit, f(client.clone())).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(classify(e, url)),
            Err(_) => Err(Failure::Transient {
                message: format!("no answer within {}", fmt_duration(limit)),
                tls: false,
                timeout: true,
            }),
        }
    }
}

/// The error for a call every attempt of which failed transiently: TLS if any attempt failed
/// in the handshake (the most actionable), a timeout if all timed out, else unreachable.
pub(crate) fn give_up(
    attempts: Vec<Attempt>,
    tls: Option<Attempt>,
    all_timeout: bool,
    after: Duration,
) -> EtcdError {
    if let Some(t) = tls {
        EtcdError::Tls { endpoint: Some(t.endpoint), detail: t.error }
    } else if all_timeout && !attempts.is_empty() {
        EtcdError::Timeout { after, attempts }
    } else {
        EtcdError::Unreachable { attempts }
    }
}

fn load_tls(t: &crate::TlsConfig) -> Result<ClientTlsConfig, EtcdError> {
    let read = |what: &str, path: &std::path::Path| {
        std::fs::read(path).map_err(|e| EtcdError::Tls {
            endpoint: None,
            detail: format!("cannot read the {what} {}: {e}", path.display()),
        })
    };
    let mut opts = ClientTlsConfig::new();
    match &t.ca {
        Some(ca) => opts = opts.ca_certificate(Certificate::from_pem(read("CA file", ca)?)),
        None => opts = opts.ca_certificate(Certificate::from_pem(system_bundle()?)),
    }
    match (&t.cert, &t.key) {
        (Some(cert), Some(key)) => {
            let identity =
                Identity::from_pem(read("client certificate", cert)?, read("client key", key)?);
            opts = opts.identity(identity);
        }
        (None, None) => {}
        (Some(_), None) => {
            return Err(EtcdError::Config(
                "a client certificate was given without its key (-client-key)".into(),
            ))
        }
        (None, Some(_)) => {
            return Err(EtcdError::Config(
                "a client key was given without its certificate (-client-cert)".into(),
            ))
        }
    }
    Ok(opts)
}

fn system_tls(url: &str) -> Result<ClientTlsConfig, EtcdError> {
    let bundle = system_bundle().map_err(|e| match e {
        EtcdError::Tls { detail, .. } => EtcdError::Tls { endpoint: Some(url.to_string()), detail },
        other => other,
    })?;
    Ok(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(bundle)))
}

fn system_bundle() -> Result<Vec<u8>, EtcdError> {
    for path in SYSTEM_CA_BUNDLES {
        if let Ok(pem) = std::fs::read(path) {
            return Ok(pem);
        }
    }
    Err(EtcdError::Tls {
        endpoint: None,
        detail: "no CA file given (-client-ca-keys) and no system CA bundle found".into(),
    })
}

/// `base` scaled by a random factor in [0.5, 1.5), so that many clients do not retry in step.
pub(crate) fn jitter(base: Duration) -> Duration {
    let frac = (random() % 1000) as f64 / 1000.0;
    base.mul_f64(0.5 + frac)
}

/// A random index below `n` (≥ 1).
fn random_index(n: usize) -> usize {
    (random() % n.max(1) as u64) as usize
}

/// A random number (std's per-process random hash keys, over a counter): not for secrets.
fn random() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    std::collections::hash_map::RandomState::new().hash_one(COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Exponential backoff with jitter, for the watch supervisor: 100 ms doubling up to `cap`.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
    cap: Duration,
}

impl Backoff {
    pub(crate) fn new(cap: Duration) -> Backoff {
        Backoff { next: Duration::from_millis(100), cap }
    }

    pub(crate) fn next_delay(&mut self) -> Duration {
        let d = jitter(self.next).min(self.cap);
        self.next = (self.next * 2).min(self.cap);
        d
    }

    pub(crate) fn reset(&mut self) {
        self.next = Duration::from_millis(100);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_range() {
        for _ in 0..1000 {
            let d = jitter(Duration::from_millis(100));
            assert!(d >= Duration::from_millis(50) && d < Duration::from_millis(150), "{d:?}");
        }
    }

    #[test]
    fn clients_start_on_every_endpoint() {
        let cfg = EtcdConfig::new(vec![
            "http://127.0.0.1:1".into(),
            "http://127.0.0.1:2".into(),
            "http://127.0.0.1:3".into(),
        ]);
        let starts: std::collections::BTreeSet<String> =
            (0..200).map(|_| Conn::new(&cfg).unwrap().preferred_url()).collect();
        assert_eq!(starts.len(), 3, "{starts:?}");
    }

    #[test]
    fn backoff_grows_to_the_cap() {
        let mut b = Backoff::new(Duration::from_secs(5));
        let delays: Vec<Duration> = (0..10).map(|_| b.next_delay()).collect();
        assert!(delays[0] < Duration::from_millis(150));
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(5)));
        assert!(delays[9] >= Duration::from_millis(2500));
        b.reset();
        assert!(b.next_delay() < Duration::from_millis(150));
    }

    #[test]
    fn config_errors() {
        let mut cfg = EtcdConfig::new(vec![]);
        assert!(matches!(Conn::new(&cfg), Err(EtcdError::Config(_))));
        cfg.endpoints = vec!["ftp://x".into()];
        assert!(matches!(Conn::new(&cfg), Err(EtcdError::Config(_))));
        cfg.endpoints = vec!["http://127.0.0.1:1".into()];
        cfg.tls = Some(crate::TlsConfig {
            ca: Some("/nonexistent/ca.pem".into()),
            cert: None,
            key: None,
        });
        let e = Conn::new(&cfg).err().expect("unreadable CA");
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
        cfg.tls = None;
        assert!(Conn::new(&cfg).is_ok());
    }
}
