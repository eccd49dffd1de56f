//! Membership documents (what a push resource renders, from stored values): arbitrary text
//! parsed and, when valid, turned into the snapshot and push JSON. Any panic is a bug, and so
//! is a valid document whose JSON does not round-trip to the same services: what nginx
//! receives must be exactly what was checked.
#![no_main]

use confd_core::membership::Membership;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(m) = Membership::parse(text) else { return };
    let json = m.to_json();
    // Every string in the JSON is a checked name or IP literal: nothing to escape.
    assert!(!json.contains('\\') && json.is_ascii(), "{json:?}");
    // The JSON's services, read back as a document, are the same membership.
    let mut again = String::new();
    for (service, peers) in m.services() {
        again.push_str(&format!("{service}\n"));
        for p in peers {
            again.push_str(&format!("{service} {}:{} weight={}\n", p.host, p.port, p.weight));
        }
    }
    assert_eq!(Membership::parse(&again).as_ref(), Ok(&m));
    let body = m.push_body(u64::MAX, 0);
    assert!(body.ends_with(&json[json.find("\"services\"").unwrap()..json.len() - 1]));
});
