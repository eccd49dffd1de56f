//! confd's read: every leaf under the keys, requested in a pipeline on one connection.
//!
//! [`walk`] asks in batches: one `multiRead` request (ZooKeeper 3.6+) carries "children of P"
//! and "data of P" for up to [`BATCH`] nodes, and a few batches are in flight at once. The
//! server's cost is mostly per request, so a tree of thousands of nodes is read in a few dozen
//! requests (measured in docs/BENCHMARKS.md). A server without `multiRead` answers
//! `Unimplemented`; the walk then asks node by node ([`walk_singly`]).
//!
//! [`walk_singly`] is breadth first over a queue of requests: "children of P" for every node we have
//! not seen yet, "data of P" for every node found without children. Up to [`WINDOW`]
//! requests are in flight; ZooKeeper answers a session's requests in order, so awaiting them
//! in the order they were sent loses nothing, and the walk costs about one round trip per
//! level of the tree (plus one for the data of the last level) rather than one per node.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;

use tokio::time::timeout;
use zookeeper_client::{Client, Error as ZkError, MultiReadResult};

use crate::{ZookeeperError, REQUEST_TIMEOUT};

/// Requests in flight at most (a bound on memory for very wide trees; the server itself
/// throttles above 1000 outstanding requests).
const WINDOW: usize = 256;

/// The paths to walk: each key with every `/*` removed (as confd does), cleaned of empty
/// segments, and without keys that lie below another key (their leaves are found anyway).
pub(crate) fn roots(keys: &[String], ensemble: &str) -> Result<Vec<String>, ZookeeperError> {
    let mut paths = Vec::with_capacity(keys.len());
    for key in keys {
        let stripped = key.replace("/*", "");
        let segments: Vec<&str> = stripped.split('/').filter(|s| !s.is_empty()).collect();
        if let Some(bad) = segments.iter().find(|s| matches!(**s, "." | "..")) {
            return Err(ZookeeperError::InvalidKey {
                ensemble: ensemble.to_string(),
                key: key.clone(),
                reason: format!("ZooKeeper paths have no {bad:?} segments"),
            });
        }
        paths.push(format!("/{}", segments.join("/")));
    }
    paths.sort();
    paths.dedup();
    let mut kept: Vec<String> = Vec::with_capacity(paths.len());
    for path in paths {
        // Sorted, so an ancestor comes before its descendants.
        if !kept.iter().any(|k| is_below(&path, k)) {
            kept.push(path);
        }
    }
    Ok(kept)
}

/// Whether `path` is `ancestor` or below it.
fn is_below(path: &str, ancestor: &str) -> bool {
    ancestor == "/"
        || path == ancestor
        || (path.starts_with(ancestor) && path.as_bytes().get(ancestor.len()) == Some(&b'/'))
}

/// The full path of `child` under `parent`.
fn join(parent: &str, child: &str) -> String {
    if parent == "/" {
        format!("/{child}")
    } else {
        format!("{parent}/{child}")
    }
}

enum Reply {
    Children(Vec<String>),
    Data(Vec<u8>),
}

type Pending = Pin<Box<dyn Future<Output = Result<Reply, ZkError>> + Send>>;

/// A request in flight: what was asked, about which path, and its answer to come.
struct InFlight {
    op: &'static str,
    path: String,
    reply: Pending,
}

enum Job {
    Children(String),
    Data(String),
}

/// Sends the request now (the client library writes it when the method is called, so
/// requests leave in queue order) and returns its answer to await later.
fn send(client: &Client, job: Job) -> InFlight {
    match job {
        Job::Children(path) => {
            // (`get_children`, unlike `list_children`, returns a future that does not borrow
            // the client.)
            let answer = client.get_children(&path);
            let reply = Box::pin(async move { answer.await.map(|(c, _)| Reply::Children(c)) });
            InFlight { op: "listing children of", path, reply }
        }
        Job::Data(path) => {
            let answer = client.get_data(&path);
            let reply = Box::pin(async move { answer.await.map(|(d, _)| Reply::Data(d)) });
            InFlight { op: "reading", path, reply }
        }
    }
}

/// Every leaf under `roots` with its value. A root or node that does not exist (any more)
/// contributes nothing.
/// Nodes per `multiRead` request (two operations each).
const BATCH: usize = 128;
/// `multiRead` requests in flight at most.
const BATCHES_IN_FLIGHT: usize = 4;

type BatchReply<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<MultiReadResult>, ZkError>> + Send + 'a>>;

/// Every leaf under `roots`, in batched `multiRead`s; node by node where the server has no
/// `multiRead`.
pub(crate) async fn walk(
    client: &Client,
    roots: &[String],
    ensemble: &str,
) -> Result<BTreeMap<String, String>, ZookeeperError> {
    match walk_batched(client, roots, ensemble).await {
        Err(ZookeeperError::Request { source: ZkError::Unimplemented, .. }) => {
            walk_singly(client, roots, ensemble).await
        }
        other => other,
    }
}

async fn walk_batched(
    client: &Client,
    roots: &[String],
    ensemble: &str,
) -> Result<BTreeMap<String, String>, ZookeeperError> {
    let mut values = BTreeMap::new();
    let mut queue: VecDeque<String> = roots.iter().cloned().collect();
    let mut in_flight: VecDeque<(Vec<String>, BatchReply<'_>)> = VecDeque::new();
    loop {
        while in_flight.len() < BATCHES_IN_FLIGHT && !queue.is_empty() {
            let paths: Vec<String> = queue.drain(..queue.len().min(BATCH)).collect();
            let mut reader = client.new_multi_reader();
            for path in &paths {
                let added = reader.add_get_children(path).and_then(|()| reader.add_get_data(path));
                added.map_err(|source| request_error(ensemble, "reading", path, source))?;
            }
            in_flight.push_back((paths, Box::pin(reader.commit())));
        }
        let Some((paths, reply)) = in_flight.pop_front() else {
            return Ok(values);
        };
        let first = paths.first().cloned().unwrap_or_default();
        let results = match timeout(REQUEST_TIMEOUT, reply).await {
            Err(_) => {
                return Err(ZookeeperError::RequestTimeout {
                    ensemble: ensemble.to_string(),
                    op: "reading",
                    path: first,
                    timeout: REQUEST_TIMEOUT,
                })
            }
            Ok(Err(source)) => return Err(request_error(ensemble, "reading", &first, source)),
            Ok(Ok(results)) => results,
        };
        let mut results = results.into_iter();
        for path in paths {
            let (children, data) = (results.next(), results.next());
            match (children, data) {
                (Some(MultiReadResult::Children { children }), _) if !children.is_empty() => {
                    queue.extend(children.iter().map(|c| join(&path, c)));
                }
                (
                    Some(MultiReadResult::Children { .. }),
                    Some(MultiReadResult::Data { data, .. }),
                ) => {
                    values.insert(path, String::from_utf8_lossy(&data).into_owned());
                }
                // Gone meanwhile (or between the two operations): it contributes nothing.
                (Some(MultiReadResult::Error { err: ZkError::NoNode }), _)
                | (_, Some(MultiReadResult::Error { err: ZkError::NoNode })) => {}
                (Some(MultiReadResult::Error { err }), _)
                | (_, Some(MultiReadResult::Error { err })) => {
                    return Err(request_error(ensemble, "reading", &path, err))
                }
                _ => {
                    let err = ZkError::UnexpectedError("a multiRead answer out of step".into());
                    return Err(request_error(ensemble, "reading", &path, err));
                }
            }
        }
    }
}

fn request_error(ensemble: &str, op: &'static str, path: &str, source: ZkError) -> ZookeeperError {
    ZookeeperError::Request { ensemble: ensemble.to_string(), op, path: path.to_string(), source }
}

/// The walk one request per node (servers before 3.6).
async fn walk_singly(
    client: &Client,
    roots: &[String],
    ensemble: &str,
) -> Result<BTreeMap<String, String>, ZookeeperError> {
    let mut values = BTreeMap::new();
    let mut queue: VecDeque<Job> = roots.iter().cloned().map(Job::Children).collect();
    let mut in_flight: VecDeque<InFlight> = VecDeque::with_capacity(WINDOW);
    loop {
        while in_flight.len() < WINDOW {
            match queue.pop_front() {
                Some(job) => in_flight.push_back(send(client, job)),
                None => break,
            }
        }
        let Some(InFlight { op, path, reply }) = in_flight.pop_front() else {
            return Ok(values);
        };
        let reply = match timeout(REQUEST_TIMEOUT, reply).await {
            Err(_) => {
                return Err(ZookeeperError::RequestTimeout {
                    ensemble: ensemble.to_string(),
                    op,
                    path,
                    timeout: REQUEST_TIMEOUT,
                })
            }
            Ok(Err(ZkError::NoNode)) => continue,
            Ok(Err(source)) => {
                return Err(ZookeeperError::Request {
                    ensemble: ensemble.to_string(),
                    op,
                    path,
                    source,
                })
            }
            Ok(Ok(reply)) => reply,
        };
        match reply {
            Reply::Children(children) if children.is_empty() => queue.push_back(Job::Data(path)),
            Reply::Children(children) => {
                queue.extend(children.iter().map(|c| Job::Children(join(&path, c))));
            }
            Reply::Data(data) => {
                values.insert(path, String::from_utf8_lossy(&data).into_owned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The batched walk and the node-by-node one (servers before 3.6) read the same leaves from
    /// a real server: wide, deep, inner data ignored, a missing root, `/` with `/zookeeper`.
    #[test]
    fn batched_and_single_walks_agree_on_a_real_server() {
        let zk = testkit::zookeeper::ZookeeperServer::start();
        for i in 0..300 {
            zk.put(&format!("/wide/s{i:03}/a"), &i.to_string());
        }
        zk.put("/deep/1/2/3/4/5/leaf", "bottom");
        zk.put("/deep/1", "inner data is ignored");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let session = crate::session::Session::new(zk.addr());
        let roots = roots_of(&["/wide", "/deep", "/missing"]);
        let (batched, singly, all) = rt.block_on(async {
            let client = session.client().await.unwrap();
            let batched = walk_batched(&client, &roots, "zk").await.unwrap();
            let singly = walk_singly(&client, &roots, "zk").await.unwrap();
            let all = walk_batched(&client, &roots_of(&["/"]), "zk").await.unwrap();
            (batched, singly, all)
        });
        assert_eq!(batched.len(), 301);
        assert_eq!(batched.get("/deep/1/2/3/4/5/leaf").map(String::as_str), Some("bottom"));
        assert_eq!(batched.get("/wide/s299/a").map(String::as_str), Some("299"));
        assert_eq!(batched, singly);
        assert!(all.keys().any(|k| k.starts_with("/zookeeper/")));
        assert_eq!(
            all.len(),
            batched.len() + all.keys().filter(|k| k.starts_with("/zookeeper/")).count()
        );
    }

    fn roots_of(keys: &[&str]) -> Vec<String> {
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        roots(&keys, "zk:2181").unwrap()
    }

    #[test]
    fn keys_become_paths_as_confd_strips_them() {
        assert_eq!(roots_of(&["/app/*", "/db/"]), ["/app", "/db"]);
        assert_eq!(roots_of(&["/*"]), ["/"]);
        assert_eq!(roots_of(&[""]), ["/"]);
        assert_eq!(roots_of(&["//a//b"]), ["/a/b"]);
        // strings.Replace(key, "/*", "", -1): every occurrence goes
        assert_eq!(roots_of(&["/a/*b"]), ["/ab"]);
    }

    #[test]
    fn keys_below_other_keys_are_walked_once() {
        assert_eq!(roots_of(&["/a/b", "/a", "/ab", "/a/b/c", "/a"]), ["/a", "/ab"]);
        assert_eq!(roots_of(&["/x", "/", "/y"]), ["/"]);
    }

    #[test]
    fn dot_segments_are_rejected_with_the_key() {
        let err = roots(&["/a/../b".to_string()], "zk:2181").unwrap_err();
        assert!(err.to_string().contains("/a/../b") && err.to_string().contains("zk:2181"));
    }

    #[test]
    fn children_join_their_parent() {
        assert_eq!(join("/", "x"), "/x");
        assert_eq!(join("/a", "x"), "/a/x");
    }
}
