//! A client of one etcd member's v3 gRPC API, on tonic: the calls confd-rs makes (range,
//! transaction, watch, lease grant, keep-alive and revoke, authenticate) and nothing else.
//!
//! Every request carries `hasleader: true` (a member cut off from the leader refuses rather
//! than serves stale data or a silent watch) and, with a user, the auth token, which
//! [`Client::authenticate`] obtains and renews. Fail-over between members is the connection
//! layer's (`crate::conn`), not this one's.

pub(crate) mod proto;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::metadata::{AsciiMetadataValue, MetadataValue};
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use tonic::Streaming;

use proto::*;

/// The largest message accepted from etcd (the default of 4 MiB is too small for one big
/// transaction's watch response).
pub(crate) const MAX_MESSAGE: usize = 256 << 20;

const RANGE: &str = "/etcdserverpb.KV/Range";
const TXN: &str = "/etcdserverpb.KV/Txn";
const WATCH: &str = "/etcdserverpb.Watch/Watch";
const LEASE_GRANT: &str = "/etcdserverpb.Lease/LeaseGrant";
const LEASE_REVOKE: &str = "/etcdserverpb.Lease/LeaseRevoke";
const LEASE_KEEP_ALIVE: &str = "/etcdserverpb.Lease/LeaseKeepAlive";
const AUTHENTICATE: &str = "/etcdserverpb.Auth/Authenticate";
const MEMBER_LIST: &str = "/etcdserverpb.Cluster/MemberList";

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RpcError {
    /// etcd (or the gRPC layer) answered with an error status.
    #[error("{0}")]
    Status(#[from] tonic::Status),
    /// The connection could not be made or was lost.
    #[error("{0}")]
    Transport(#[from] tonic::transport::Error),
    /// A stream ended without the answer it owed.
    #[error("{0}")]
    Stream(String),
}

/// How to reach a member.
#[derive(Clone)]
pub(crate) struct Options {
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// HTTP/2 keep-alive: ping interval and how long to wait for the answer.
    pub keepalive: (Duration, Duration),
    pub tls: Option<ClientTlsConfig>,
    /// User and password: authenticate, and send the token with every request.
    pub user: Option<(String, String)>,
}

/// One member's client; clones share the connection and the token.
#[derive(Clone)]
pub(crate) struct Client {
    grpc: tonic::client::Grpc<Channel>,
    user: Option<Arc<User>>,
}

struct User {
    name: String,
    password: String,
    token: Mutex<Option<AsciiMetadataValue>>,
    login: tokio::sync::Mutex<()>,
}

impl Client {
    /// A client for `url` (`http://` or `https://`). The connection is made by the first call;
    /// with a user, that call is [`Client::authenticate`], made here.
    pub(crate) async fn connect(url: &str, opts: &Options) -> Result<Client, RpcError> {
        let mut endpoint = Endpoint::from_shared(url.to_string())?
            .timeout(opts.request_timeout)
            .connect_timeout(opts.connect_timeout)
            .http2_keep_alive_interval(opts.keepalive.0)
            .keep_alive_timeout(opts.keepalive.1)
            .keep_alive_while_idle(true);
        if let Some(tls) = &opts.tls {
            endpoint = endpoint.tls_config(tls.clone())?;
        }
        let grpc = tonic::client::Grpc::new(endpoint.connect_lazy())
            .max_decoding_message_size(MAX_MESSAGE);
        let user = opts.user.as_ref().map(|(name, password)| {
            Arc::new(User {
                name: name.clone(),
                password: password.clone(),
                token: Mutex::new(None),
                login: tokio::sync::Mutex::new(()),
            })
        });
        let client = Client { grpc, user };
        if client.user.is_some() {
            client.authenticate().await?;
        }
        Ok(client)
    }

    /// Authenticates the user (again) and keeps the new token for the next requests.
    pub(crate) async fn authenticate(&self) -> Result<(), RpcError> {
        let Some(user) = &self.user else { return Ok(()) };
        // One login at a time per member: calls that met the same expired token wait for it
        // rather than each sending its own (a login goes through raft).
        let _one = user.login.lock().await;
        let req = AuthenticateRequest { name: user.name.clone(), password: user.password.clone() };
        // Without the old token (an expired one would fail the request itself), with hasleader.
        let resp: AuthenticateResponse = self.unary(with_leader(req), AUTHENTICATE).await?;
        let token = MetadataValue::try_from(resp.token.as_str())
            .map_err(|_| RpcError::Stream("etcd sent an auth token that is not ASCII".into()))?;
        *user.token.lock().unwrap_or_else(PoisonError::into_inner) = Some(token);
        Ok(())
    }

    pub(crate) async fn range(&self, req: RangeRequest) -> Result<RangeResponse, RpcError> {
        self.unary(self.request(req), RANGE).await
    }

    pub(crate) async fn txn(&self, req: TxnRequest) -> Result<TxnResponse, RpcError> {
        self.unary(self.request(req), TXN).await
    }

    pub(crate) async fn member_list(&self) -> Result<MemberListResponse, RpcError> {
        self.unary(self.request(MemberListRequest { linearizable: true }), MEMBER_LIST).await
    }

    pub(crate) async fn lease_grant(&self, ttl: i64) -> Result<LeaseGrantResponse, RpcError> {
        self.unary(self.request(LeaseGrantRequest { ttl, id: 0 }), LEASE_GRANT).await
    }

    pub(crate) async fn lease_revoke(&self, id: i64) -> Result<LeaseRevokeResponse, RpcError> {
        self.unary(self.request(LeaseRevokeRequest { id }), LEASE_REVOKE).await
    }

    /// Renews lease `id` once: `Some(ttl)` when renewed (`ttl` seconds from now), `None` when
    /// the lease no longer exists.
    pub(crate) async fn lease_keep_alive(&self, id: i64) -> Result<Option<i64>, RpcError> {
        let (tx, rx) = mpsc::channel(1);
        tx.send(LeaseKeepAliveRequest { id })
            .await
            .map_err(|_| RpcError::Stream("the keep-alive stream closed".into()))?;
        let mut stream: Streaming<LeaseKeepAliveResponse> =
            match self.streaming(self.request(ReceiverStream::new(rx)), LEASE_KEEP_ALIVE).await {
                Ok(s) => s,
                Err(RpcError::Status(s)) if is_lease_not_found(&s) => return Ok(None),
                Err(e) => return Err(e),
            };
        let answer = stream.message().await;
        drop(tx); // ends the request stream: etcd closes its side
        match answer {
            Ok(Some(r)) if r.ttl > 0 => Ok(Some(r.ttl)),
            Ok(Some(_)) => Ok(None),
            Ok(None) => {
                Err(RpcError::Stream("the keep-alive stream ended without an answer".into()))
            }
            Err(s) if is_lease_not_found(&s) => Ok(None),
            Err(s) => Err(RpcError::Status(s)),
        }
    }

    /// Opens a watch stream whose first request is `first`; more requests go through the
    /// returned sender.
    pub(crate) async fn watch(
        &self,
        first: WatchRequest,
    ) -> Result<(WatchSender, Streaming<WatchResponse>), RpcError> {
        let (tx, rx) = mpsc::channel(16);
        tx.send(first).await.map_err(|_| RpcError::Stream("the watch stream closed".into()))?;
        let stream = self.streaming(self.request(ReceiverStream::new(rx)), WATCH).await?;
        Ok((WatchSender(tx), stream))
    }

    /// `msg` with the leader requirement and, with a user, the current token.
    fn request<T>(&self, msg: T) -> tonic::Request<T> {
        let mut req = with_leader(msg);
        if let Some(user) = &self.user {
            if let Some(token) = user.token.lock().unwrap_or_else(PoisonError::into_inner).clone() {
                req.metadata_mut().insert("token", token);
            }
        }
        req
    }

    async fn unary<Req, Resp>(
        &self,
        req: tonic::Request<Req>,
        path: &'static str,
    ) -> Result<Resp, RpcError>
    where
        Req: prost::Message + 'static,
        Resp: prost::Message + Default + 'static,
    {
        let mut grpc = self.grpc.clone();
        grpc.ready().await?;
        let codec = tonic_prost::ProstCodec::default();
        let resp = grpc.unary(req, PathAndQuery::from_static(path), codec).await?;
        Ok(resp.into_inner())
    }

    async fn streaming<Req, Resp>(
        &self,
        req: tonic::Request<ReceiverStream<Req>>,
        path: &'static str,
    ) -> Result<Streaming<Resp>, RpcError>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + 'static,
    {
        let mut grpc = self.grpc.clone();
        grpc.ready().await?;
        let codec = tonic_prost::ProstCodec::default();
        let resp = grpc.streaming(req, PathAndQuery::from_static(path), codec).await?;
        Ok(resp.into_inner())
    }
}

/// `msg` with `hasleader: true`: a member cut off from the leader answers at once that it has
/// none, rather than waiting for a proposal or serving stale data.
fn with_leader<T>(msg: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    req.metadata_mut().insert("hasleader", AsciiMetadataValue::from_static("true"));
    req
}

/// More requests on an open watch stream.
pub(crate) struct WatchSender(mpsc::Sender<WatchRequest>);

impl WatchSender {
    pub(crate) async fn send(&mut self, req: WatchRequest) -> Result<(), RpcError> {
        self.0.send(req).await.map_err(|_| RpcError::Stream("the watch stream closed".into()))
    }
}

/// etcd's "requested lease not found".
pub(crate) fn is_lease_not_found(s: &tonic::Status) -> bool {
    s.code() == tonic::Code::NotFound && s.message().contains("lease not found")
}

/// A request for the keys in `[key, range_end)` (`range_end` empty: `key` alone).
pub(crate) fn range(key: Vec<u8>, range_end: Vec<u8>) -> RangeRequest {
    RangeRequest { key, range_end, ..RangeRequest::default() }
}

pub(crate) fn get_op(req: RangeRequest) -> RequestOp {
    RequestOp { request: Some(request_op::Request::Range(req)) }
}

pub(crate) fn put_op(key: &str, value: &str, lease: i64) -> RequestOp {
    let put = PutRequest { key: key.into(), value: value.into(), lease };
    RequestOp { request: Some(request_op::Request::Put(put)) }
}

pub(crate) fn delete_op(key: &str) -> RequestOp {
    let del = DeleteRangeRequest { key: key.into(), range_end: Vec::new() };
    RequestOp { request: Some(request_op::Request::DeleteRange(del)) }
}

/// A watch of `[key, range_end)` from `start_revision`, with progress notifications.
pub(crate) fn create_watch(key: Vec<u8>, range_end: Vec<u8>, start_revision: i64) -> WatchRequest {
    let create = WatchCreateRequest { key, range_end, start_revision, progress_notify: true };
    WatchRequest { request_union: Some(watch_request::RequestUnion::Create(create)) }
}

/// A request for a progress notification on every watcher of the stream.
pub(crate) fn progress_request() -> WatchRequest {
    WatchRequest {
        request_union: Some(watch_request::RequestUnion::Progress(WatchProgressRequest {})),
    }
}
