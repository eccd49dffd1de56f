//! confd's log format lives in `confd-log`, shared with confd-register.

pub use confd_log::{debug, error, info, log, set_json, set_level, warning, Level};
