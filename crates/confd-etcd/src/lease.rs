//! Registration: leases, and keys written under them in one transaction.
//!
//! Every call goes through the connection layer's fail-over ([`Conn::call`]), which retries a
//! call that failed transiently, possibly after etcd applied it (a timeout after the commit).
//! That is safe here because every operation is idempotent for its caller: a registration puts
//! the same values again (the second put only bumps the keys' versions); deleting or revoking
//! twice finds nothing the second time (a missing lease counts as revoked); a keep-alive renews
//! twice. The one exception is `grant`: a retried grant can leave an extra lease behind, with
//! no keys, which expires after its TTL — harmless, and better than failing the registration.
//!
//! Permission checks. etcd checks a transaction's permissions for the operations of *both*
//! branches before it evaluates the comparisons, and a transaction without comparisons runs its
//! success branch. So `Txn::new().or_else([put(k, "")])` asks "may I write `k`?" without ever
//! writing it: [`check_writable`] and the error of a refused write use that to name the key.

use crate::rpc::proto::{RangeRequest, RequestOp, TxnRequest};
use crate::rpc::{delete_op, is_lease_not_found, put_op, range, RpcError};

use crate::conn::{CallError, Conn};
use crate::error::EtcdError;

/// An etcd lease ID (etcdctl prints them in hexadecimal).
pub type LeaseId = i64;

/// A granted lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub id: LeaseId,
    /// The TTL etcd granted, in seconds: at least what was asked, and at least etcd's minimum
    /// (1.5 × its election timeout, 2 s by default).
    pub ttl: i64,
}

/// etcd's default `--max-txn-ops`.
const MAX_TXN_OPS: usize = 128;

pub(crate) async fn grant(conn: &Conn, ttl: i64) -> Result<Lease, EtcdError> {
    if ttl < 1 {
        return Err(EtcdError::Config(format!("a lease TTL must be at least 1 s, not {ttl}")));
    }
    let resp = conn
        .call(|c| async move { c.lease_grant(ttl).await })
        .await
        .map_err(|e| lease_error(conn, e, None))?;
    Ok(Lease { id: resp.id, ttl: resp.ttl })
}

/// One keep-alive round: `Some(ttl)` when the lease was renewed (`ttl` seconds from now),
/// `None` when it no longer exists.
pub(crate) async fn keep_alive(conn: &Conn, lease: LeaseId) -> Result<Option<i64>, EtcdError> {
    // A stream that ends before answering fails the attempt: another member may do.
    conn.call(|c| async move { c.lease_keep_alive(lease).await })
        .await
        .map_err(|e| lease_error(conn, e, Some(lease)))
}

pub(crate) async fn register(
    conn: &Conn,
    lease: LeaseId,
    shared: &[(String, String)],
    leased: &[(String, String)],
) -> Result<(), EtcdError> {
    let mut ops = Vec::with_capacity(shared.len() + leased.len());
    for (k, v) in shared {
        ops.push(put_op(k, v, 0));
    }
    for (k, v) in leased {
        ops.push(put_op(k, v, lease));
    }
    let keys: Vec<&str> = shared.iter().chain(leased).map(|(k, _)| k.as_str()).collect();
    one_txn(conn, ops, &keys, Some(lease)).await
}

pub(crate) async fn deregister(conn: &Conn, keys: &[String]) -> Result<(), EtcdError> {
    let ops = keys.iter().map(|k| delete_op(k)).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    one_txn(conn, ops, &keys, None).await
}

pub(crate) async fn revoke(conn: &Conn, lease: LeaseId) -> Result<(), EtcdError> {
    let r = conn
        .call(|c| async move {
            match lease_missing(c.lease_revoke(lease).await) {
                Ok(_) => Ok(()),
                Err(e) => Err(e),
            }
        })
        .await;
    match r {
        Ok(()) => Ok(()),
        // etcd lets a user revoke a lease only if it may write every key attached to it.
        Err(CallError::PermissionDenied { endpoint }) => Err(EtcdError::WriteDenied {
            key: format!("the keys attached to lease {lease:x}"),
            user: conn.user.clone(),
            endpoint,
        }),
        Err(e) => Err(lease_error(conn, e, Some(lease))),
    }
}

pub(crate) async fn check_writable(conn: &Conn, keys: &[String]) -> Result<(), EtcdError> {
    for chunk in keys.chunks(MAX_TXN_OPS) {
        let keys: Vec<&str> = chunk.iter().map(String::as_str).collect();
        match probe(conn, &keys).await {
            Ok(()) => {}
            Err(CallError::PermissionDenied { endpoint }) => {
                return Err(name_denied(conn, &keys, endpoint).await)
            }
            Err(e) => return Err(lease_error(conn, e, None)),
        }
    }
    Ok(())
}

/// Runs `ops` as one transaction (all or nothing). `lease`: the lease the puts are under.
async fn one_txn(
    conn: &Conn,
    ops: Vec<RequestOp>,
    keys: &[&str],
    lease: Option<LeaseId>,
) -> Result<(), EtcdError> {
    if ops.is_empty() {
        return Ok(());
    }
    if ops.len() > MAX_TXN_OPS {
        return Err(EtcdError::Config(format!(
            "{} keys cannot be written in one transaction (etcd allows {MAX_TXN_OPS} by default)",
            ops.len()
        )));
    }
    let txn = TxnRequest { success: ops, failure: Vec::new() };
    let r = conn
        .call(|c| {
            let txn = txn.clone();
            async move { lease_missing(c.txn(txn).await) }
        })
        .await;
    match r {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(EtcdError::LeaseNotFound { lease: lease.unwrap_or_default() }),
        Err(CallError::PermissionDenied { endpoint }) => {
            Err(name_denied(conn, keys, endpoint).await)
        }
        Err(e) => Err(lease_error(conn, e, lease)),
    }
}

/// The keys below `dir/` (the range `[dir/, dir0)`, without the key `dir` itself, so that a
/// user granted only `dir/` may list them), without their values.
pub(crate) async fn keys_below(conn: &Conn, dir: &str) -> Result<Vec<String>, EtcdError> {
    let dir = dir.trim_end_matches('/');
    let (start, end) = (format!("{dir}/"), format!("{dir}0"));
    conn.call(|c| {
        let req =
            RangeRequest { keys_only: true, ..range(start.clone().into(), end.clone().into()) };
        async move { c.range(req).await }
    })
    .await
    .map(|r| r.kvs.iter().map(|kv| String::from_utf8_lossy(&kv.key).into_owned()).collect())
    .map_err(|e| match e {
        CallError::PermissionDenied { endpoint } => EtcdError::PermissionDenied {
            prefix: format!("{dir}/"),
            user: conn.user.clone(),
            endpoint,
        },
        e => lease_error(conn, e, None),
    })
}

/// `Ok(None)` for etcd's "requested lease not found".
fn lease_missing<T>(r: Result<T, RpcError>) -> Result<Option<T>, RpcError> {
    match r {
        Err(RpcError::Status(s)) if is_lease_not_found(&s) => Ok(None),
        r => r.map(Some),
    }
}

/// Asks whether all `keys` may be written, writing nothing (see the module comment).
async fn probe(conn: &Conn, keys: &[&str]) -> Result<(), CallError> {
    let ops: Vec<RequestOp> = keys.iter().map(|k| put_op(k, "", 0)).collect();
    // In the failure branch, which a transaction without comparisons never takes: etcd checks
    // the permission to write every key, and writes none.
    let txn = TxnRequest { success: Vec::new(), failure: ops };
    conn.call(|c| {
        let txn = txn.clone();
        async move { c.txn(txn).await.map(|_| ()) }
    })
    .await
}

/// The error for a refused write of `keys`: probes them one by one to name the first refused.
async fn name_denied(conn: &Conn, keys: &[&str], endpoint: String) -> EtcdError {
    for key in keys {
        if let Err(CallError::PermissionDenied { endpoint }) = probe(conn, &[key]).await {
            return EtcdError::WriteDenied {
                key: key.to_string(),
                user: conn.user.clone(),
                endpoint,
            };
        }
    }
    EtcdError::WriteDenied { key: keys.join(", "), user: conn.user.clone(), endpoint }
}

fn lease_error(conn: &Conn, e: CallError, lease: Option<LeaseId>) -> EtcdError {
    match e {
        CallError::Error(e) => e,
        CallError::PermissionDenied { endpoint } => EtcdError::WriteDenied {
            key: match lease {
                Some(l) => format!("the keys attached to lease {l:x}"),
                None => "(unknown key)".into(),
            },
            user: conn.user.clone(),
            endpoint,
        },
        // Only reads at a revision can meet compaction.
        CallError::Compacted => EtcdError::Etcd {
            endpoint: conn.preferred_url(),
            code: "OutOfRange".into(),
            message: "unexpected compaction error".into(),
        },
    }
}
