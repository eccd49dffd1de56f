//! The JSON template functions (`json`, `jsonArray`): arbitrary text as a stored value
//! decoded into an object and into an array, under the render's value bound. Any panic or
//! runaway allocation is a bug: a bad value must be an error of that function.
#![no_main]

use confd_core::funcs::json::{unmarshal_array_within, unmarshal_object_within};
use libfuzzer_sys::fuzz_target;

const MAX_VALUE_BYTES: usize = 64 << 20;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = unmarshal_object_within(text, MAX_VALUE_BYTES);
    let _ = unmarshal_array_within(text, MAX_VALUE_BYTES);
});
