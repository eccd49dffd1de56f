//! confd's pure core: template resources (`conf.d/*.toml`), confd's template functions, and
//! rendering. No I/O here except through the injected `funcs::Host`.
#![forbid(unsafe_code)]

pub mod funcs;
pub mod host;
pub mod membership;
pub mod reconcile;
pub mod resource;
