//! Logging in confd's line format, on stderr, shared by `confd` and `confd-register`:
//! `2026-11-27T17:35:32Z host confd[1234]: INFO message` (the program as invoked), or one JSON
//! object per line after [`set_json`].
#![forbid(unsafe_code)]

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    Debug = 0,
    Info = 1,
    Warning = 2,
    Error = 3,
    Fatal = 4,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Fatal => "FATAL",
        }
    }
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);
static JSON: AtomicU8 = AtomicU8::new(0);
static PREFIX: OnceLock<String> = OnceLock::new();

pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

pub fn set_json(json: bool) {
    JSON.store(u8::from(json), Ordering::Relaxed);
}

pub fn enabled(level: Level) -> bool {
    level as u8 >= LEVEL.load(Ordering::Relaxed)
}

/// `host confd[pid]`, computed once.
fn prefix() -> &'static str {
    PREFIX.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let argv0 = std::env::args().next().unwrap_or_else(|| "confd".into());
        format!("{} {}[{}]", host.trim(), argv0, std::process::id())
    })
}

/// Writes one log line if `level` is enabled.
pub fn log(level: Level, msg: &str) {
    if !enabled(level) {
        return;
    }
    let now = rfc3339(SystemTime::now());
    let line = if JSON.load(Ordering::Relaxed) == 1 {
        format!(
            "{{\"time\":\"{now}\",\"level\":\"{}\",\"msg\":{}}}\n",
            level.name().to_ascii_lowercase(),
            json_string(msg)
        )
    } else {
        format!("{now} {}: {} {msg}\n", prefix(), level.name())
    };
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// UTC time as RFC 3339 (`2026-11-27T17:35:32Z`).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[macro_export]
macro_rules! debug { ($($a:tt)*) => { $crate::log($crate::Level::Debug, &format!($($a)*)) } }
#[macro_export]
macro_rules! info { ($($a:tt)*) => { $crate::log($crate::Level::Info, &format!($($a)*)) } }
#[macro_export]
macro_rules! warning { ($($a:tt)*) => { $crate::log($crate::Level::Warning, &format!($($a)*)) } }
#[macro_export]
macro_rules! error { ($($a:tt)*) => { $crate::log($crate::Level::Error, &format!($($a)*)) } }
#[macro_export]
macro_rules! fatal { ($($a:tt)*) => { $crate::log($crate::Level::Fatal, &format!($($a)*)) } }

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_rfc3339_in_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_800_932);
        assert_eq!(rfc3339(t), "2026-11-27T17:35:32Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    }
}
