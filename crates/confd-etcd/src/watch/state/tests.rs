//! The watch's decisions on recorded-style responses: resume, progress, compaction, restore,
//! cluster change, and transactions across prefixes.

use super::*;
use crate::prefix::cover;

const URL: &str = "http://m1:2379";

fn state(prefixes: &[&str], from: Option<i64>) -> WatchState {
    let raw: Vec<String> = prefixes.iter().map(|p| p.to_string()).collect();
    WatchState::new(cover(&raw), from)
}

fn put(revision: i64, key: &str, value: &str) -> Event {
    Event { revision, key: key.into(), value: Some(value.into()) }
}

fn del(revision: i64, key: &str) -> Event {
    Event { revision, key: key.into(), value: None }
}

fn events(revision: i64, events: Vec<Event>) -> Response {
    Response { revision, events }
}

fn changes(pairs: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.map(str::to_string))).collect()
}

#[test]
fn one_watcher_covers_every_prefix_and_resumes_after_the_read() {
    let s = state(&["/dc/upstream", "/dc/subdomain"], Some(41));
    assert!(s.is_covering());
    assert_eq!(
        s.watchers(),
        [Watcher {
            range: KeyRange { key: b"/dc/subdomain".to_vec(), end: b"/dc/upstream0".to_vec() },
            next: 42
        }]
    );
}

#[test]
fn a_transaction_across_prefixes_is_one_update() {
    let mut s = state(&["/dc/upstream", "/dc/subdomain"], Some(10));
    let resp = events(
        11,
        vec![
            put(11, "/dc/subdomain/web", "www.example.com"),
            put(11, "/dc/upstream/web/i1", "10.0.0.1:80"),
        ],
    );
    assert_eq!(
        s.response(0, &resp),
        Decision::Deliver(Update::Changes {
            revision: 11,
            changes: changes(&[
                ("/dc/subdomain/web", Some("www.example.com")),
                ("/dc/upstream/web/i1", Some("10.0.0.1:80")),
            ]),
        })
    );
    assert_eq!(s.watchers()[0].next, 12);
}

#[test]
fn keys_between_the_prefixes_and_siblings_are_dropped() {
    let mut s = state(&["/dc/a", "/dc/c"], Some(1));
    let resp =
        events(2, vec![put(2, "/dc/b/x", "1"), put(2, "/dc/a-sibling", "1"), put(2, "/dc/a", "1")]);
    assert_eq!(
        s.response(0, &resp),
        Decision::Deliver(Update::Changes {
            revision: 2,
            changes: changes(&[("/dc/a", Some("1"))])
        })
    );
    // A response of nothing but foreign keys delivers nothing, yet moves the resume point.
    assert_eq!(s.response(0, &events(3, vec![del(3, "/dc/b/x")])), Decision::Continue);
    assert_eq!(s.watchers()[0].next, 4);
}

#[test]
fn events_already_applied_are_not_delivered_again() {
    let mut s = state(&["/a"], Some(5));
    let resp = events(6, vec![put(4, "/a/old", "x"), put(6, "/a/new", "y")]);
    assert_eq!(
        s.response(0, &resp),
        Decision::Deliver(Update::Changes {
            revision: 6,
            changes: changes(&[("/a/new", Some("y"))])
        })
    );
}

#[test]
fn progress_notifications_move_the_resume_point() {
    let mut s = state(&["/a"], Some(5));
    assert_eq!(s.response(0, &events(90, vec![])), Decision::Continue);
    assert_eq!(s.watchers()[0].next, 91);
    assert_eq!(s.response(0, &events(50, vec![])), Decision::Continue);
    assert_eq!(s.watchers()[0].next, 91, "never backwards");
}

#[test]
fn compaction_means_reading_again() {
    let s = state(&["/a", "/b"], Some(5));
    let Decision::Resync(why) = s.compacted(0, 30) else { panic!() };
    assert_eq!(
        why,
        "the history of /a, /b was compacted up to revision 30 while we needed it from 6"
    );
}

#[test]
fn another_cluster_means_reading_again() {
    let mut s = state(&["/a"], Some(5));
    assert_eq!(s.header(7, 5, URL), Decision::Continue);
    assert_eq!(s.header(0, 6, URL), Decision::Continue, "no header says nothing");
    let Decision::Resync(why) = s.header(8, 6, URL) else { panic!() };
    assert!(why.contains("belongs to another cluster (ID 8, was 7)"), "{why}");
    assert_eq!(s.header(8, 6, URL), Decision::Continue, "the new cluster is the one now");
}

#[test]
fn a_revision_behind_what_was_applied_is_probed_once_per_stream() {
    let mut s = state(&["/a"], Some(50));
    assert_eq!(s.header(7, 40, URL), Decision::Probe);
    // A lagging follower: the linearizable read says the cluster is ahead.
    assert_eq!(s.probed(55, URL), Decision::Continue);
    assert_eq!(s.header(7, 41, URL), Decision::Continue, "probed once on this stream");
    s.new_stream();
    assert_eq!(s.header(7, 40, URL), Decision::Probe);
    // A restored cluster: it really is behind.
    let Decision::Resync(why) = s.probed(3, URL) else { panic!() };
    assert!(why.contains("at revision 3, behind the 50 already applied"), "{why}");
}

#[test]
fn a_resync_resumes_every_watcher_after_the_read() {
    let mut s = state(&["/a", "/b"], None);
    s.resynced(100);
    assert_eq!(s.watchers()[0].next, 101);
    assert_eq!(s.header(7, 99, URL), Decision::Probe, "applied is the read's revision");
}

#[test]
fn a_refused_covering_watcher_splits_into_one_per_prefix_from_the_same_revision() {
    let mut s = state(&["/dc/upstream", "/dc/subdomain"], Some(20));
    assert!(s.split());
    assert!(!s.is_covering());
    let ranges: Vec<&[u8]> = s.watchers().iter().map(|w| w.range.key.as_slice()).collect();
    assert_eq!(ranges, [b"/dc/subdomain".as_slice(), b"/dc/upstream".as_slice()]);
    assert!(s.watchers().iter().all(|w| w.next == 21));
    assert!(!s.split(), "once");
    assert_eq!(s.watched(1), "/dc/upstream");
    // Each watcher's responses are delivered as they come, each moving its own resume point.
    let resp = events(21, vec![put(21, "/dc/upstream/web/i1", "10.0.0.1:80")]);
    assert!(matches!(s.response(1, &resp), Decision::Deliver(_)));
    assert_eq!((s.watchers()[0].next, s.watchers()[1].next), (21, 22));
    assert!(!state(&["/only"], Some(1)).split(), "one prefix has nothing to split");
}
