//! etcd v2 API answers (`-backend etcdv2`: what a member, or anything at its address, sends):
//! a body read as a node tree and as an error, and the key paths and scoping built from text.
//! Any panic is a bug; so is a key node that does not give exactly its own leaf, a request
//! path with a byte outside the safe set, or a common directory that does not hold every key.
#![no_main]

use std::collections::BTreeMap;

use confd_etcdv2::wire::{self, ErrorBody, NodeAnswer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ErrorBody::parse(data);
    if let Ok(answer) = serde_json::from_slice::<NodeAnswer>(data) {
        let (dir, key) = (answer.node.dir, answer.node.key.clone());
        let mut leaves = BTreeMap::new();
        wire::leaves(answer.node, &mut leaves);
        if !dir {
            assert_eq!(leaves.keys().collect::<Vec<_>>(), [&key]);
        }
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    let keys: Vec<String> = text.lines().map(str::to_string).collect();
    for key in &keys {
        let path = wire::keys_path(key);
        assert!(path.starts_with("/v2/keys/"), "{path:?}");
        assert!(
            path.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-_.~%".contains(&b)),
            "{path:?}"
        );
    }
    if !keys.is_empty() {
        let dir = wire::common_directory(&keys);
        for key in &keys {
            let cleaned: String = format!(
                "/{}",
                key.split('/').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("/")
            );
            assert!(wire::concerns(&cleaned, &dir), "{dir:?} does not hold {cleaned:?}");
        }
    }
});
