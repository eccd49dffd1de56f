//! Test harness (being written).
#![forbid(unsafe_code)]
