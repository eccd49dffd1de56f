//! confd's own DNS client (SRV lookups for `-srv-domain`/`-srv-record` and `lookupSRV`):
//! arbitrary bytes as the reply to a query. Any panic is a bug: a bad reply must be refused.
#![no_main]

use confd_core::host::dns::{build_query, parse_reply};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The reply's id is the query's, so the parser gets past the first check.
    let id = data.get(..2).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    let query = build_query("_etcd-client._tcp.example.com", id).expect("a valid name");
    let _ = parse_reply(data, &query);
});
