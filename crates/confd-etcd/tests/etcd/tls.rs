//! TLS with client certificates (etcd `--client-cert-auth`).

use std::sync::mpsc;
use std::time::Duration;

use confd_etcd::{Etcd, EtcdConfig, EtcdError, TlsConfig};
use testkit::{EtcdCluster, EtcdOptions};

use crate::common::{s, Recorder};

#[test]
fn tls_with_client_certificates() {
    let cluster = EtcdCluster::start_with(EtcdOptions::new(1).client_cert_auth());
    let endpoints = cluster.endpoints();
    assert!(endpoints[0].starts_with("https://"));
    let files = cluster.tls_files().unwrap();
    cluster.put("/app/a", "1");

    let mut cfg = EtcdConfig::new(endpoints.clone());
    cfg.tls = Some(TlsConfig {
        ca: Some(files.ca.clone()),
        cert: Some(files.cert.clone()),
        key: Some(files.key.clone()),
    });
    let etcd = Etcd::connect(cfg.clone()).unwrap();
    let snap = etcd.read(&s(&["/app"])).unwrap();
    assert_eq!(snap.kvs.len(), 1);
    let (tx, rx) = mpsc::channel();
    let _h = etcd.watch(s(&["/app"]), Some(snap.revision), tx);
    let rec = Recorder::start(rx, snap.kvs);
    cluster.put("/app/b", "2");
    rec.wait(Duration::from_secs(5), "the put", |r| r.state.len() == 2);

    // Without the client certificate, and with a CA that did not sign the server's
    // certificate: errors that point at TLS.
    let mut no_cert = cfg.clone();
    no_cert.tls = Some(TlsConfig { ca: Some(files.ca.clone()), cert: None, key: None });
    let err = Etcd::connect(no_cert).unwrap().read(&s(&["/app"])).unwrap_err();
    eprintln!("without a client certificate: {err}");
    assert!(matches!(err, EtcdError::Tls { .. }), "{err:?}");
    assert!(err.to_string().contains(&endpoints[0]), "{err}");
    let mut wrong_ca = cfg.clone();
    wrong_ca.tls = Some(TlsConfig { ca: Some(files.cert.clone()), cert: None, key: None });
    let err = Etcd::connect(wrong_ca).unwrap().read(&s(&["/app"])).unwrap_err();
    eprintln!("with the wrong CA: {err}");
    assert!(matches!(err, EtcdError::Tls { .. }), "{err:?}");
    // A certificate without its key is a configuration error.
    let mut half = cfg;
    half.tls = Some(TlsConfig { ca: Some(files.ca), cert: Some(files.cert), key: None });
    assert!(matches!(Etcd::connect(half).err(), Some(EtcdError::Config(_))));
}
