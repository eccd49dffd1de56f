//! The watch's decisions, without I/O: what etcd sent on a stream → what to deliver, whether
//! to probe the member's revision, whether the state can no longer be continued and must be
//! read anew. The supervisor (`super`) owns the stream and carries these out.
//!
//! **One watcher over the covering range.** All watched prefixes are covered by one watcher
//! whose range runs from the smallest prefix to the end of the largest; events outside every
//! prefix are dropped here. etcd puts all events of one revision into one response of one
//! watcher, so a transaction that spans several prefixes is delivered as one update by
//! construction — no timing decides it. Where the user may read only the prefixes and not the
//! range between them, etcd refuses the covering watcher; the state then falls back to one
//! watcher per prefix ([`WatchState::split`]), each response delivered as it comes (a
//! transaction across prefixes then arrives in one update per prefix).
//!
//! **Bookkeeping.** Per watcher, `next`: the revision to resume from (one after the last event
//! applied, or after the snapshot). Overall: `applied`, the highest revision applied, and the
//! cluster ID. A header from another cluster, or a revision that a linearizable probe confirms
//! to be behind `applied` (a restored cluster), or a compacted history means: read everything
//! again.

use crate::prefix::{EtcdRanges, KeyRange, Prefix};
use crate::Update;

/// One event of a response: the key's modification revision, the key, and its value (`None`:
/// deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    pub revision: i64,
    pub key: String,
    pub value: Option<String>,
}

/// What a watcher's response (neither a creation nor a cancellation) says, in plain terms:
/// the header's revision (0 when absent) and the events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Response {
    pub revision: i64,
    pub events: Vec<Event>,
}

/// What the supervisor should do after a header or a watcher's response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    Continue,
    /// Deliver this update.
    Deliver(Update),
    /// The member reports a revision below what was applied: find out, by a linearizable
    /// read on it, whether the cluster went back (then [`WatchState::probed`]).
    Probe,
    /// The state cannot be continued: end the stream, read everything again.
    Resync(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Watcher {
    pub range: KeyRange,
    /// The revision to watch from.
    pub next: i64,
}

#[derive(Debug)]
pub(crate) struct WatchState {
    prefixes: Vec<Prefix>,
    watchers: Vec<Watcher>,
    applied: i64,
    cluster_id: Option<u64>,
    /// A lower header revision has been probed on the current stream already.
    probed: bool,
}

impl WatchState {
    /// State for `prefixes` that resumes after revision `from` (`None`: read first).
    pub(crate) fn new(prefixes: Vec<Prefix>, from: Option<i64>) -> WatchState {
        let applied = from.unwrap_or(0);
        let watchers = vec![Watcher { range: KeyRange::covering(&prefixes), next: applied + 1 }];
        WatchState { prefixes, watchers, applied, cluster_id: None, probed: false }
    }

    pub(crate) fn prefixes(&self) -> &[Prefix] {
        &self.prefixes
    }

    pub(crate) fn watchers(&self) -> &[Watcher] {
        &self.watchers
    }

    /// Whether one watcher covers every prefix (a transaction is always one update).
    pub(crate) fn is_covering(&self) -> bool {
        self.watchers.len() == 1
    }

    /// Falls back to one watcher per prefix, each resuming where the covering one was;
    /// `false` if that is no different (one prefix, or split already).
    pub(crate) fn split(&mut self) -> bool {
        if !self.is_covering() || self.prefixes.len() < 2 {
            return false;
        }
        let next = self.watchers[0].next;
        self.watchers =
            self.prefixes.iter().map(|p| Watcher { range: p.watch_range(), next }).collect();
        true
    }

    /// A full read at `revision` was delivered: resume every watcher after it.
    pub(crate) fn resynced(&mut self, revision: i64) {
        self.applied = revision;
        for w in &mut self.watchers {
            w.next = revision + 1;
        }
    }

    /// A new stream begins (its first lower revision will be probed again).
    pub(crate) fn new_stream(&mut self) {
        self.probed = false;
    }

    /// The header of any response on the stream.
    pub(crate) fn header(&mut self, cluster_id: u64, revision: i64, url: &str) -> Decision {
        match self.cluster_id {
            Some(c) if c != cluster_id && cluster_id != 0 => {
                self.cluster_id = Some(cluster_id);
                return Decision::Resync(format!(
                    "etcd at {url} belongs to another cluster (ID {cluster_id:x}, was {c:x}): replaced or restored"
                ));
            }
            None if cluster_id != 0 => self.cluster_id = Some(cluster_id),
            _ => {}
        }
        if revision > 0 && revision < self.applied && !self.probed {
            // Lower than what was applied: a restored cluster, or a member that lags.
            self.probed = true;
            return Decision::Probe;
        }
        Decision::Continue
    }

    /// The member's current revision, by a linearizable read, after [`Decision::Probe`].
    pub(crate) fn probed(&self, current: i64, url: &str) -> Decision {
        if current < self.applied {
            return Decision::Resync(format!(
                "etcd at {url} is at revision {current}, behind the {} already applied: restored from a backup?",
                self.applied
            ));
        }
        Decision::Continue
    }

    /// A response of watcher `idx` (created, and not a cancellation).
    pub(crate) fn response(&mut self, idx: usize, resp: &Response) -> Decision {
        let Some(watcher) = self.watchers.get_mut(idx) else { return Decision::Continue };
        if resp.events.is_empty() {
            // A progress notification etcd sent on its own: it does so only for a watcher
            // that is in sync, so everything up to the header's revision has been delivered.
            watcher.next = watcher.next.max(resp.revision + 1);
            return Decision::Continue;
        }
        let mut changes = Vec::with_capacity(resp.events.len());
        let mut last = 0;
        for ev in &resp.events {
            if ev.revision < watcher.next {
                continue; // already applied (a resumed watch never repeats, but be sure)
            }
            last = last.max(ev.revision);
            if self.prefixes.iter().any(|p| p.selects(&ev.key)) {
                changes.push((ev.key.clone(), ev.value.clone()));
            }
        }
        if last > 0 {
            watcher.next = last + 1;
            self.applied = self.applied.max(last);
        }
        if changes.is_empty() {
            return Decision::Continue;
        }
        Decision::Deliver(Update::Changes { revision: last, changes })
    }

    /// Watcher `idx` was cancelled because its history was compacted.
    pub(crate) fn compacted(&self, idx: usize, compact_revision: i64) -> Decision {
        let next = self.watchers.get(idx).map_or(0, |w| w.next);
        Decision::Resync(format!(
            "the history of {} was compacted up to revision {compact_revision} while we needed it from {next}",
            self.watched(idx)
        ))
    }

    /// How watcher `idx` is named in messages: its prefix, or all of them.
    pub(crate) fn watched(&self, idx: usize) -> String {
        if self.is_covering() {
            let names: Vec<&str> = self.prefixes.iter().map(Prefix::display).collect();
            names.join(", ")
        } else {
            self.prefixes.get(idx).map_or_else(String::new, |p| p.display().to_string())
        }
    }
}

#[cfg(test)]
mod tests;
