//! What the watch of a store that only says "something changed" (redis, zookeeper, the etcd
//! v2 API) tells the daemon loop. The loop then reads the resources' keys again, through the
//! same read as `-onetime`, so a watch never has to carry values and cannot get them wrong.
//!
//! The rule every such watch keeps: it is armed *before* it sends [`Notice::Changed`], and it
//! sends `Changed` after every (re)connection, since what changed while it was not listening
//! was not seen. A read that follows a `Changed` therefore sees every change made before the
//! watch reported it, and a change made after is reported again: no update is lost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Why a watch is not listening (the store's own error, typed by its crate).
pub type WatchError = Arc<dyn std::error::Error + Send + Sync>;

/// One report of a watch.
#[derive(Debug, Clone)]
pub enum Notice {
    /// Something under the watched keys may have changed: read them again.
    Changed,
    /// The watch listens at `endpoint` (first time, or again after [`Notice::Down`]).
    Up { endpoint: String },
    /// The watch lost its server and retries by itself (with backoff); it sends
    /// [`Notice::Up`] and [`Notice::Changed`] when it listens again.
    Down { error: WatchError },
}

/// Stops a watch when told to or dropped; its thread notices within about a second.
#[derive(Debug)]
pub struct WatchStop(Arc<AtomicBool>);

/// The watch thread's side of [`WatchStop`].
#[derive(Debug, Clone)]
pub struct StopFlag(Arc<AtomicBool>);

/// A new stop switch and the flag it sets.
pub fn stop_switch() -> (WatchStop, StopFlag) {
    let flag = Arc::new(AtomicBool::new(false));
    (WatchStop(flag.clone()), StopFlag(flag))
}

impl WatchStop {
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl Drop for WatchStop {
    fn drop(&mut self) {
        self.stop();
    }
}

impl StopFlag {
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The pause before reconnection attempt `attempt` (0-based): 100 ms doubling to 5 s, so a
/// restarted server is found again within seconds and a dead one costs little.
pub fn reconnect_delay(attempt: u32) -> std::time::Duration {
    let ms = 100u64.saturating_mul(1u64 << attempt.min(6));
    std::time::Duration::from_millis(ms.min(5_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_the_switch_sets_the_flag() {
        let (stop, flag) = stop_switch();
        assert!(!flag.is_set());
        drop(stop);
        assert!(flag.is_set());
    }

    #[test]
    fn reconnect_delay_doubles_up_to_five_seconds() {
        let ms: Vec<u128> = (0..9).map(|a| reconnect_delay(a).as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    }
}
