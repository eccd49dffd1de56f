//! Template resources (`conf.d/*.toml`): arbitrary text parsed as one. Any panic is a bug: a
//! bad resource must end in an error naming its file, line and key.
#![no_main]

use std::path::Path;

use confd_core::resource::{parse_resource, ResourceContext};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let ctx = ResourceContext::new("/etc/confd", "/global");
    let _ = parse_resource(Path::new("/etc/confd/conf.d/fuzz.toml"), text, &ctx);
});
