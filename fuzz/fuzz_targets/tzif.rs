//! The time-zone reader behind the date functions: arbitrary bytes as a TZif file (from
//! /usr/share/zoneinfo), then lookups at times taken from the input, and the POSIX TZ rule
//! of a version 2+ footer parsed on its own. Any panic is a bug.
#![no_main]

use confd_core::host::tzif::{PosixTz, Zone};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = PosixTz::parse(text);
    }
    let Some(zone) = Zone::parse(data) else { return };
    let mut times = vec![i64::MIN, -1, 0, 1, i64::MAX];
    times.extend(data.chunks_exact(8).take(16).map(|c| i64::from_be_bytes(c.try_into().unwrap())));
    for t in times {
        let _ = zone.lookup(t);
    }
});
