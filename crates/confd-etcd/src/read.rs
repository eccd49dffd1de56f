//! Consistent reads: every prefix at one revision.
//!
//! Like confd, the ranges go to etcd in transactions of at most 128 operations (etcd's default
//! `--max-txn-ops`). The first transaction runs at the current revision R (one transaction is
//! one revision, whatever it reads); every later transaction and every continuation page is
//! pinned to R with `revision = R`. Each range is paged (`limit`), so 40,000 keys under one
//! prefix are a handful of modest messages rather than one huge one, and no single call comes
//! near the request timeout. If R is compacted away while the read is under way, the whole read
//! starts again at the new current revision.

use std::collections::BTreeMap;

use crate::conn::{CallError, Conn};
use crate::error::EtcdError;
use crate::prefix::{EtcdRanges, KeyRange, Prefix};
use crate::rpc::proto::{response_op::Response, RangeRequest, RangeResponse, TxnRequest};
use crate::rpc::{get_op, range};
use crate::Snapshot;

/// etcd's default `--max-txn-ops`, and confd's batch size.
const MAX_TXN_OPS: usize = 128;
/// Keys per page of one range.
const PAGE: i64 = 5000;
/// How often a read restarts because its revision was compacted meanwhile.
const COMPACTED_RETRIES: usize = 3;

struct Op {
    range: KeyRange,
    prefix: usize,
}

pub(crate) async fn read(conn: &Conn, prefixes: &[Prefix]) -> Result<Snapshot, EtcdError> {
    for _ in 0..COMPACTED_RETRIES {
        match read_once(conn, prefixes).await {
            Err(ReadError::Compacted) => continue,
            Err(ReadError::Error(e)) => return Err(e),
            Ok(s) => return Ok(s),
        }
    }
    Err(EtcdError::Etcd {
        endpoint: conn.preferred_url(),
        code: "OutOfRange".into(),
        message: format!(
            "the revision being read was compacted {COMPACTED_RETRIES} times in a row; is something compacting continuously?"
        ),
    })
}

enum ReadError {
    Compacted,
    Error(EtcdError),
}

/// The request for one page of `r` at `revision` (0: the current one).
fn request(r: &KeyRange, revision: i64) -> RangeRequest {
    let mut req = range(r.key.clone(), r.end.clone());
    if !r.end.is_empty() {
        req.limit = PAGE;
    }
    req.revision = revision;
    req
}

async fn read_once(conn: &Conn, prefixes: &[Prefix]) -> Result<Snapshot, ReadError> {
    let ops: Vec<Op> = prefixes
        .iter()
        .enumerate()
        .flat_map(|(i, p)| p.read_ranges().into_iter().map(move |range| Op { range, prefix: i }))
        .collect();
    let mut revision = 0i64;
    let mut kvs = BTreeMap::new();
    let mut pages: Vec<Op> = Vec::new();

    for batch in ops.chunks(MAX_TXN_OPS) {
        let txn = TxnRequest {
            success: batch.iter().map(|op| get_op(request(&op.range, revision))).collect(),
            failure: Vec::new(),
        };
        let resp = conn
            .call(|c| {
                let txn = txn.clone();
                async move { c.txn(txn).await }
            })
            .await;
        let resp = match resp {
            Ok(r) => r,
            Err(e) => return Err(explain(conn, e, batch, prefixes, revision).await),
        };
        if revision == 0 {
            revision = resp.header.as_ref().map_or(0, |h| h.revision);
        }
        for (op, r) in batch.iter().zip(&resp.responses) {
            if let Some(Response::Range(g)) = &r.response {
                absorb(&mut kvs, op, g, &prefixes[op.prefix], &mut pages);
            }
        }
    }

    while let Some(op) = pages.pop() {
        let resp = conn
            .call(|c| {
                let req = request(&op.range, revision);
                async move { c.range(req).await }
            })
            .await;
        let resp = match resp {
            Ok(r) => r,
            Err(e) => {
                return Err(explain(conn, e, std::slice::from_ref(&op), prefixes, revision).await)
            }
        };
        absorb(&mut kvs, &op, &resp, &prefixes[op.prefix], &mut pages);
    }
    Ok(Snapshot { revision, kvs })
}

/// Keeps the keys `prefix` selects, and queues the next page if there is one.
fn absorb(
    kvs: &mut BTreeMap<String, String>,
    op: &Op,
    g: &RangeResponse,
    prefix: &Prefix,
    pages: &mut Vec<Op>,
) {
    for kv in &g.kvs {
        let key = String::from_utf8_lossy(&kv.key);
        if prefix.selects(&key) {
            kvs.insert(key.into_owned(), String::from_utf8_lossy(&kv.value).into_owned());
        }
    }
    if g.more {
        if let Some(last) = g.kvs.last() {
            let mut next = last.key.clone();
            next.push(0);
            pages.push(Op {
                range: KeyRange { key: next, end: op.range.end.clone() },
                prefix: op.prefix,
            });
        }
    }
}

/// Turns a failed call into the error to report. Permission denied on a batch does not say
/// which range was refused: ask for each prefix of the batch alone to name it.
async fn explain(
    conn: &Conn,
    e: CallError,
    batch: &[Op],
    prefixes: &[Prefix],
    revision: i64,
) -> ReadError {
    match e {
        CallError::Compacted => ReadError::Compacted,
        CallError::Error(e) => ReadError::Error(e),
        CallError::PermissionDenied { endpoint } => {
            let mut denied = None;
            'probe: for op in batch {
                let req = RangeRequest { count_only: true, ..request(&op.range, revision) };
                let r = conn
                    .call(|c| {
                        let req = req.clone();
                        async move { c.range(req).await }
                    })
                    .await;
                if let Err(CallError::PermissionDenied { .. }) = r {
                    denied = Some(op.prefix);
                    break 'probe;
                }
            }
            let prefix = match denied {
                Some(i) => prefixes[i].display().to_string(),
                None => {
                    let mut names: Vec<&str> =
                        batch.iter().map(|op| prefixes[op.prefix].display()).collect();
                    names.dedup();
                    names.join(", ")
                }
            };
            ReadError::Error(EtcdError::PermissionDenied {
                prefix,
                user: conn.user.clone(),
                endpoint,
            })
        }
    }
}
