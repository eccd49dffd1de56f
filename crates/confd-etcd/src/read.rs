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
/// Keys in the first page of one range.
const PAGE: i64 = 5000;
/// About how many bytes a continuation page may carry: its limit is sized from the keys and
/// values the page before held. etcd 3.4 finds every revision of the rest of the range for
/// each page (to count them) however small the page is, so a range of n keys read in pages
/// of p costs etcd about n²/2p: fewer, larger pages make 400,000 keys a few pages, not 80.
const PAGE_BYTES: usize = 8 << 20;
/// The most keys one continuation page asks for.
const MAX_PAGE: i64 = 200_000;
/// How often a read restarts because its revision was compacted meanwhile.
const COMPACTED_RETRIES: usize = 3;

struct Op {
    range: KeyRange,
    prefix: usize,
    /// Keys per page.
    limit: i64,
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

/// The request for one page of `r` (of at most `limit` keys) at `revision` (0: the current
/// one).
fn request(r: &KeyRange, revision: i64, limit: i64) -> RangeRequest {
    let mut req = range(r.key.clone(), r.end.clone());
    if !r.end.is_empty() {
        req.limit = limit;
    }
    req.revision = revision;
    req
}

async fn read_once(conn: &Conn, prefixes: &[Prefix]) -> Result<Snapshot, ReadError> {
    let ops: Vec<Op> = prefixes
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            p.read_ranges().into_iter().map(move |range| Op { range, prefix: i, limit: PAGE })
        })
        .collect();
    let mut revision = 0i64;
    let mut kvs = BTreeMap::new();
    let mut pages: Vec<Op> = Vec::new();

    for batch in ops.chunks(MAX_TXN_OPS) {
        let txn = TxnRequest {
            success: batch
                .iter()
                .map(|op| get_op(request(&op.range, revision, op.limit)))
                .collect(),
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
                let req = request(&op.range, revision, op.limit);
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
                limit: next_limit(g),
            });
        }
    }
}

/// The limit of the page after `g`: as many keys as fit in [`PAGE_BYTES`] at the size of
/// those in `g` (and some bytes of framing each), between [`PAGE`] and [`MAX_PAGE`], and no
/// more than are left (`g.count` counts the whole range `g` was asked for).
fn next_limit(g: &RangeResponse) -> i64 {
    let held = g.kvs.len().max(1);
    let bytes: usize = g.kvs.iter().map(|kv| kv.key.len() + kv.value.len() + 32).sum();
    let fits = i64::try_from(PAGE_BYTES / (bytes / held).max(1)).unwrap_or(MAX_PAGE);
    let left = (g.count - g.kvs.len() as i64).max(1);
    fits.clamp(PAGE, MAX_PAGE).min(left)
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
                let req =
                    RangeRequest { count_only: true, ..request(&op.range, revision, op.limit) };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::proto::KeyValue;

    fn page(n: usize, key_len: usize, value_len: usize, count: i64) -> RangeResponse {
        let kv = KeyValue {
            key: vec![b'k'; key_len],
            value: vec![b'v'; value_len],
            ..Default::default()
        };
        RangeResponse { kvs: vec![kv; n], more: true, count, ..Default::default() }
    }

    #[test]
    fn continuation_pages_grow_to_a_byte_budget_and_stop_at_what_is_left() {
        // Small keys: the byte budget allows more than the cap.
        assert_eq!(next_limit(&page(5000, 5, 1, 1_000_000)), MAX_PAGE);
        // The seed's keys (~60 bytes, ~90 with framing): ~93,000 a page.
        let seed = next_limit(&page(5000, 45, 15, 1_000_000));
        assert_eq!(seed, (PAGE_BYTES / 92) as i64);
        // Large values: never fewer than the first page's size.
        assert_eq!(next_limit(&page(5000, 40, 100_000, 1_000_000)), PAGE);
        // Only what is left of the range.
        assert_eq!(next_limit(&page(5000, 45, 15, 12_000)), 7_000);
        // An empty page that says "more" (it cannot, but a lie must not loop with limit 0).
        assert_eq!(next_limit(&page(0, 0, 0, 0)), 1);
    }
}
