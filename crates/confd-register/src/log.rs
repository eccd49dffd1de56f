//! confd's log format lives in `confd-log`, shared with confd.

pub use confd_log::{error, fatal, info, warning};
