//! Durations of a template resource: command timeouts and the watch-mode `wait` window.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::goparse;

/// Default `check_cmd_timeout`. confd has no timeout at all (a hung `nginx -t` blocks it
/// forever, confd#346/#360); 30 s is far above any real config check.
pub const DEFAULT_CHECK_CMD_TIMEOUT: Duration = Duration::from_secs(30);

/// Default `reload_cmd_timeout`: reloads may wait for a service to drain, so longer than the
/// check.
pub const DEFAULT_RELOAD_CMD_TIMEOUT: Duration = Duration::from_secs(60);

/// A command timeout: Go duration syntax (`"30s"`, `"2m"`, `"1m30s"`); `"0"` means no
/// timeout (confd's behaviour). Negative durations are rejected.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    non_negative(text)
}

fn non_negative(text: &str) -> Result<Duration, String> {
    let nanos = goparse::parse_duration(text)?;
    u64::try_from(nanos)
        .map(Duration::from_nanos)
        .map_err(|_| format!("duration {text:?} is negative"))
}

/// Default `-min-reload-interval`: a reload command runs at most once a second; a reload due
/// sooner waits for the rest of the second (coalesced, never dropped).
pub const DEFAULT_MIN_RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// Default `-max-removal`: a batch that would remove more than half of a resource's keys is
/// held (fail static).
pub const DEFAULT_MAX_REMOVAL: u8 = 50;

/// Default `-hold-time`: a held removal that stays the same this long is applied.
pub const DEFAULT_HOLD_TIME: Duration = Duration::from_secs(300);

/// A non-negative Go duration (`"2s"`, `"5m"`, `"0"`), for the reload interval and hold time.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    non_negative(text)
}

/// `max_removal`: a percentage of keys, `"50%"` (the `%` may be left out), 0 to 100; `"100%"`
/// never holds.
pub fn parse_percent(text: &str) -> Result<u8, String> {
    let digits = text.trim().strip_suffix('%').unwrap_or(text.trim());
    match digits.parse::<u8>() {
        Ok(p) if p <= 100 => Ok(p),
        _ => Err(format!("invalid percentage {text:?}: want a whole number from 0% to 100%")),
    }
}

/// The debounce window of watch mode, written `"quiet:max"` (`"500ms:5s"`) or `"0"`.
///
/// After a change, processing waits until no further change has arrived for `quiet`
/// (trailing edge), but never longer than `max` after the first change of the burst.
/// `quiet == 0` (`"0"`, `"0:0"`, `"0:5s"`) disables debouncing: every change is processed at
/// once, as confd does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WaitSpec {
    /// How long the keys must stay unchanged before processing.
    pub quiet: Duration,
    /// The longest a burst of changes can delay processing.
    pub max: Duration,
}

impl WaitSpec {
    /// No debouncing.
    pub const DISABLED: WaitSpec = WaitSpec { quiet: Duration::ZERO, max: Duration::ZERO };

    /// Parses `"quiet:max"` or `"0"`. `max` must not be shorter than `quiet`.
    pub fn parse(text: &str) -> Result<WaitSpec, String> {
        if text == "0" {
            return Ok(WaitSpec::DISABLED);
        }
        let Some((quiet, max)) = text.split_once(':') else {
            return Err(format!(
                "invalid wait {text:?}: want \"quiet:max\" (e.g. \"500ms:5s\") or \"0\""
            ));
        };
        let bad = |e: String| format!("invalid wait {text:?}: {e}");
        let spec = WaitSpec {
            quiet: non_negative(quiet).map_err(bad)?,
            max: non_negative(max).map_err(bad)?,
        };
        if !spec.quiet.is_zero() && spec.max < spec.quiet {
            return Err(format!(
                "invalid wait {text:?}: max {:?} is shorter than quiet period {:?}",
                spec.max, spec.quiet
            ));
        }
        Ok(spec)
    }

    /// Whether this window processes every change at once.
    pub fn is_disabled(&self) -> bool {
        self.quiet.is_zero()
    }
}

impl FromStr for WaitSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WaitSpec::parse(s)
    }
}

impl fmt::Display for WaitSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_disabled() {
            f.write_str("0")
        } else {
            write!(f, "{:?}:{:?}", self.quiet, self.max)
        }
    }
}
