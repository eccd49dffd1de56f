//! The one ZooKeeper session that reads and the watch share (see the crate documentation for
//! why one), and its replacement when it is over.
//!
//! While a session lives, the client library keeps it: it pings, notices a dead connection,
//! reconnects (to any node of the ensemble) and re-adds the watches. A session is over when
//! its state is terminal: expired (the server said so, or the client could not reconnect
//! within 7/5 of the session timeout), closed, or authentication failed. Then every request
//! on it fails at once, and the next [`Session::client`] makes a new one.

use tokio::sync::Mutex;
use tokio::time::timeout;
use zookeeper_client::Client;

use crate::{ZookeeperError, CONNECT_TIMEOUT, SESSION_TIMEOUT};

pub(crate) struct Session {
    /// The connect string: `host:port,host:port`.
    ensemble: String,
    /// The current client, if one was made and its session is not known to be over. Locked
    /// across a connection attempt, so concurrent callers make one session, not several.
    current: Mutex<Option<Client>>,
}

impl Session {
    pub(crate) fn new(ensemble: String) -> Session {
        Session { ensemble, current: Mutex::new(None) }
    }

    pub(crate) fn ensemble(&self) -> &str {
        &self.ensemble
    }

    /// A client on a live session: the current one, or a new one if there is none or its
    /// session is over. Waiting for the lock and connecting take at most [`CONNECT_TIMEOUT`]
    /// together. A session being re-established (disconnected, not over) is handed out as it
    /// is: its requests wait for the reconnection, within their own time limit.
    pub(crate) async fn client(&self) -> Result<Client, ZookeeperError> {
        timeout(CONNECT_TIMEOUT, self.client_unbounded()).await.unwrap_or_else(|_| {
            Err(ZookeeperError::ConnectTimeout {
                ensemble: self.ensemble.clone(),
                timeout: CONNECT_TIMEOUT,
            })
        })
    }

    async fn client_unbounded(&self) -> Result<Client, ZookeeperError> {
        let mut current = self.current.lock().await;
        if let Some(client) = current.as_ref() {
            if !client.state().is_terminated() {
                return Ok(client.clone());
            }
        }
        *current = None;
        // Fail eagerly: when every node refuses the connection, say so now instead of trying
        // again until the session timeout. (Once a session exists, the client library's own
        // reconnection cycles through the nodes until the session expires.)
        let client = Client::connector()
            .with_session_timeout(SESSION_TIMEOUT)
            .with_fail_eagerly()
            .connect(&self.ensemble)
            .await
            .map_err(|source| ZookeeperError::Connect {
                ensemble: self.ensemble.clone(),
                source,
            })?;
        *current = Some(client.clone());
        Ok(client)
    }
}
