//! The file backend's YAML reader: arbitrary bytes as a data file (`-file`), decoded and
//! flattened into keys as confd does. Any panic, hang or runaway allocation is a bug: a bad
//! file must end in an error naming its line. Whatever the simple reader (the fast path for
//! plain block mappings) takes, it must read exactly as the document tree does.
#![no_main]

use confd_backend::file::{decode_yaml_bytes, flatten_yaml, flatten_yaml_both_ways};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = decode_yaml_bytes(data) {
        let _ = flatten_yaml(&text);
        if let (Some(simple), tree) = flatten_yaml_both_ways(&text) {
            assert_eq!(Ok(simple), tree, "{text:?}");
        }
    }
});
