//! etcd v3 for confd-rs (being written).
#![forbid(unsafe_code)]
