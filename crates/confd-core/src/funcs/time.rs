//! `time.Time` for confd's `datetime`: a host object that prints as Go's `Time.String()`
//! (`2026-11-27 17:35:32.89898681 +0000 UTC m=+0.019231305`) and has these methods, callable
//! from templates as in Go (`{{datetime.Format "2006-01-02"}}`, `{{datetime.UTC.Year}}`):
//!
//! `Format(layout string) string` (Go's reference-layout language, every token of Go 1.19),
//! `String() string`, `Unix() int64`, `UnixMilli() int64`, `UnixMicro() int64`,
//! `UnixNano() int64`, `UTC() time.Time`, `Local() time.Time`, `Year() int`,
//! `Month() time.Month`, `Day() int`, `Hour() int`, `Minute() int`, `Second() int`,
//! `Nanosecond() int`, `YearDay() int`, `Weekday() time.Weekday`, `IsZero() bool`.
//!
//! A time carries one zone: a fixed offset and its abbreviation, taken from the host when the
//! time was read ([`Now`]); the host decides the local zone (see `host::SystemHost`: UTC
//! unless `TZ` or `/etc/localtime` names another zone). `UTC()` and `Local()` drop the
//! monotonic reading, as in Go. `Month` and `Weekday` print as names (`November`, `Friday`);
//! unlike Go's integer-based types they cannot be compared with numbers or printed with `%d`.
//! The `int64` results have the engine's `int` type (they print the same).

use std::fmt::Write as _;
use std::sync::Arc;

use gotmpl::{FuncError, Function, Object, Signature, Type, Value};

/// A reading of the clock, as the host provides it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Now {
    /// Seconds since the Unix epoch (UTC).
    pub unix_secs: i64,
    /// Nanoseconds within the second, `0..1_000_000_000`.
    pub nanos: u32,
    /// The local zone's offset east of UTC, in seconds, at this instant.
    pub offset_secs: i32,
    /// The zone's abbreviation (`UTC`, `CET`, …); empty prints the offset as `+hhmm`.
    pub zone: String,
    /// Go's monotonic reading: nanoseconds since the process started (printed as `m=+…`).
    pub monotonic_nanos: Option<i64>,
}

impl Now {
    /// A UTC reading without monotonic clock, for tests and fixed clocks.
    pub fn utc(unix_secs: i64, nanos: u32) -> Now {
        Now { unix_secs, nanos, offset_secs: 0, zone: "UTC".into(), monotonic_nanos: None }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Zone {
    name: Arc<str>,
    offset: i32,
}

/// A Go `time.Time`: an instant, the zone it is shown in, the local zone, and an optional
/// monotonic reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoTime {
    secs: i64,
    nanos: u32,
    zone: Zone,
    local: Zone,
    mono: Option<i64>,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] =
    ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// Civil fields of an instant in its zone.
struct Civil {
    year: i64,
    month: u32, // 1..=12
    day: u32,
    yday: u32, // 1..=366
    weekday: usize,
    hour: u32,
    min: u32,
    sec: u32,
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1..=12; day may overflow).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400); // [0, 399]
    let mp = i64::from((month + 9) % 12); // March = 0
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(crate) fn is_leap_year(y: i64) -> bool {
    is_leap(y)
}

/// The proleptic Gregorian date of `days` since 1970-01-01: (year, month, day).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Count from 0000-03-01 in 400-year eras so leap days fall at the end of each year.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], from March 1st
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl GoTime {
    /// The time `datetime` returns for a clock reading.
    pub fn from_now(now: &Now) -> GoTime {
        let zone = Zone { name: now.zone.as_str().into(), offset: now.offset_secs };
        GoTime {
            secs: now.unix_secs,
            nanos: now.nanos.min(999_999_999),
            local: zone.clone(),
            zone,
            mono: now.monotonic_nanos,
        }
    }

    pub fn into_value(self) -> Value {
        Value::Object(Arc::new(self))
    }

    fn civil(&self) -> Civil {
        let local = i128::from(self.secs) + i128::from(self.zone.offset);
        let days = local.div_euclid(86_400) as i64;
        let secs_of_day = local.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        const BEFORE: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
        let yday = BEFORE[month as usize - 1] + day + u32::from(month > 2 && is_leap(year));
        Civil {
            year,
            month,
            day,
            yday,
            weekday: (days + 4).rem_euclid(7) as usize, // 1970-01-01 was a Thursday
            hour: secs_of_day / 3600,
            min: secs_of_day / 60 % 60,
            sec: secs_of_day % 60,
        }
    }

    fn in_zone(&self, zone: Zone) -> GoTime {
        GoTime { zone, mono: None, ..self.clone() }
    }

    /// `Time.Format(layout)`.
    pub fn format(&self, layout: &str) -> String {
        let mut out = String::with_capacity(layout.len() + 10);
        let mut civil: Option<Civil> = None;
        let mut rest = layout;
        while !rest.is_empty() {
            let (prefix, chunk, suffix) = next_chunk(rest);
            out.push_str(prefix);
            let Some(chunk) = chunk else { break };
            rest = suffix;
            let c = civil.get_or_insert_with(|| self.civil());
            self.append(&mut out, chunk, c);
        }
        out
    }

    fn append(&self, b: &mut String, chunk: Chunk, c: &Civil) {
        let hour12 = match c.hour % 12 {
            0 => 12,
            h => h,
        };
        match chunk {
            Chunk::Year => pad(b, c.year.abs() % 100, 2),
            Chunk::LongYear => pad(b, c.year, 4),
            Chunk::Month => b.push_str(&MONTHS[c.month as usize - 1][..3]),
            Chunk::LongMonth => b.push_str(MONTHS[c.month as usize - 1]),
            Chunk::NumMonth => pad(b, c.month.into(), 0),
            Chunk::ZeroMonth => pad(b, c.month.into(), 2),
            Chunk::WeekDay => b.push_str(&DAYS[c.weekday][..3]),
            Chunk::LongWeekDay => b.push_str(DAYS[c.weekday]),
            Chunk::Day => pad(b, c.day.into(), 0),
            Chunk::UnderDay => {
                if c.day < 10 {
                    b.push(' ');
                }
                pad(b, c.day.into(), 0);
            }
            Chunk::ZeroDay => pad(b, c.day.into(), 2),
            Chunk::UnderYearDay => {
                let width = if c.yday < 10 { 2 } else { usize::from(c.yday < 100) };
                b.extend(std::iter::repeat_n(' ', width));
                pad(b, c.yday.into(), 0);
            }
            Chunk::ZeroYearDay => pad(b, c.yday.into(), 3),
            Chunk::Hour => pad(b, c.hour.into(), 2),
            Chunk::Hour12 => pad(b, hour12.into(), 0),
            Chunk::ZeroHour12 => pad(b, hour12.into(), 2),
            Chunk::Minute => pad(b, c.min.into(), 0),
            Chunk::ZeroMinute => pad(b, c.min.into(), 2),
            Chunk::Second => pad(b, c.sec.into(), 0),
            Chunk::ZeroSecond => pad(b, c.sec.into(), 2),
            Chunk::PM => b.push_str(if c.hour >= 12 { "PM" } else { "AM" }),
            Chunk::Pm => b.push_str(if c.hour >= 12 { "pm" } else { "am" }),
            Chunk::Tz => {
                if self.zone.name.is_empty() {
                    self.append_offset(
                        b,
                        TzForm { iso: false, colon: false, minutes: true, seconds: false },
                    );
                } else {
                    b.push_str(&self.zone.name);
                }
            }
            Chunk::Offset(form) => self.append_offset(b, form),
            Chunk::Frac { digits, trim, sep } => {
                let all = format!("{:09}", self.nanos);
                let mut n = digits.min(9);
                if trim {
                    while n > 0 && all.as_bytes()[n - 1] == b'0' {
                        n -= 1;
                    }
                    if n == 0 {
                        return;
                    }
                }
                b.push(sep);
                b.push_str(&all[..n]);
            }
        }
    }

    fn append_offset(&self, b: &mut String, form: TzForm) {
        let offset = self.zone.offset;
        if form.iso && offset == 0 {
            b.push('Z');
            return;
        }
        b.push(if offset < 0 { '-' } else { '+' });
        let abs = i64::from(offset).abs();
        let minutes = abs / 60;
        pad(b, minutes / 60, 2);
        if form.colon {
            b.push(':');
        }
        if form.minutes {
            pad(b, minutes % 60, 2);
        }
        if form.seconds {
            if form.colon {
                b.push(':');
            }
            pad(b, abs % 60, 2);
        }
    }

    /// `Time.String()`: the time, then the monotonic reading if it has one.
    pub fn go_string(&self) -> String {
        let mut s = self.format("2006-01-02 15:04:05.999999999 -0700 MST");
        if let Some(m) = self.mono {
            s.push_str(" m=");
            s.push(if m < 0 { '-' } else { '+' });
            let m = m.unsigned_abs();
            let (whole, frac) = (m / 1_000_000_000, m % 1_000_000_000);
            let _ = write!(s, "{whole}.{frac:09}");
        }
        s
    }

    fn unix_nanos(&self) -> i128 {
        i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos)
    }
}

/// Appends `x` in decimal, zero-padded to `width` digits (after any minus sign), as Go's
/// `appendInt`.
fn pad(b: &mut String, x: i64, width: usize) {
    if x < 0 {
        b.push('-');
    }
    let _ = write!(b, "{:0width$}", x.unsigned_abs());
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TzForm {
    /// `Z07…` forms print `Z` for UTC.
    iso: bool,
    colon: bool,
    minutes: bool,
    seconds: bool,
}

/// A layout element (Go's `std*` codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chunk {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    Tz,
    Offset(TzForm),
    Frac { digits: usize, trim: bool, sep: char },
}

const fn tz(iso: bool, colon: bool, minutes: bool, seconds: bool) -> TzForm {
    TzForm { iso, colon, minutes, seconds }
}

/// Offset layouts after the leading `-` or `Z`, longest first as Go tries them.
const OFFSETS: [(&str, bool, bool, bool); 5] = [
    ("070000", false, true, true),
    ("07:00:00", true, true, true),
    ("0700", false, true, false),
    ("07:00", true, true, false),
    ("07", false, false, false),
];

/// Go's `nextStdChunk`: the text before the first layout element, the element, and the text
/// after it.
fn next_chunk(layout: &str) -> (&str, Option<Chunk>, &str) {
    let b = layout.as_bytes();
    let at = |i: usize, s: &str| layout.get(i..).is_some_and(|r| r.starts_with(s));
    let lower_at = |i: usize| b.get(i).is_some_and(u8::is_ascii_lowercase);
    for i in 0..b.len() {
        let found = |len: usize, chunk: Chunk| (&layout[..i], Some(chunk), &layout[i + len..]);
        match b[i] {
            b'J' if at(i, "Jan") => {
                if at(i, "January") {
                    return found(7, Chunk::LongMonth);
                }
                if !lower_at(i + 3) {
                    return found(3, Chunk::Month);
                }
            }
            b'M' => {
                if at(i, "Mon") {
                    if at(i, "Monday") {
                        return found(6, Chunk::LongWeekDay);
                    }
                    if !lower_at(i + 3) {
                        return found(3, Chunk::WeekDay);
                    }
                }
                if at(i, "MST") {
                    return found(3, Chunk::Tz);
                }
            }
            b'0' => {
                if let Some(d @ b'1'..=b'6') = b.get(i + 1) {
                    let chunk = [
                        Chunk::ZeroMonth,
                        Chunk::ZeroDay,
                        Chunk::ZeroHour12,
                        Chunk::ZeroMinute,
                        Chunk::ZeroSecond,
                        Chunk::Year,
                    ][usize::from(d - b'1')];
                    return found(2, chunk);
                }
                if at(i + 1, "02") {
                    return found(3, Chunk::ZeroYearDay);
                }
            }
            b'1' => {
                if at(i + 1, "5") {
                    return found(2, Chunk::Hour);
                }
                return found(1, Chunk::NumMonth);
            }
            b'2' => {
                if at(i, "2006") {
                    return found(4, Chunk::LongYear);
                }
                return found(1, Chunk::Day);
            }
            b'_' => {
                if at(i + 1, "2") {
                    // `_2006` is a literal `_` and a long year.
                    if at(i + 1, "2006") {
                        return (&layout[..i + 1], Some(Chunk::LongYear), &layout[i + 5..]);
                    }
                    return found(2, Chunk::UnderDay);
                }
                if at(i + 1, "_2") {
                    return found(3, Chunk::UnderYearDay);
                }
            }
            b'3' => return found(1, Chunk::Hour12),
            b'4' => return found(1, Chunk::Minute),
            b'5' => return found(1, Chunk::Second),
            b'P' if at(i + 1, "M") => return found(2, Chunk::PM),
            b'p' if at(i + 1, "m") => return found(2, Chunk::Pm),
            c @ (b'-' | b'Z') => {
                for (text, colon, minutes, seconds) in OFFSETS {
                    if at(i + 1, text) {
                        return found(
                            1 + text.len(),
                            Chunk::Offset(tz(c == b'Z', colon, minutes, seconds)),
                        );
                    }
                }
            }
            c @ (b'.' | b',') => {
                if let Some(&d @ (b'0' | b'9')) = b.get(i + 1) {
                    let mut j = i + 1;
                    while b.get(j) == Some(&d) {
                        j += 1;
                    }
                    // Only a run of digits that ends here is a fractional second.
                    if !b.get(j).is_some_and(u8::is_ascii_digit) {
                        let chunk = Chunk::Frac {
                            digits: j - (i + 1),
                            trim: d == b'9',
                            sep: char::from(c),
                        };
                        return found(j - i, chunk);
                    }
                }
            }
            _ => {}
        }
    }
    (layout, None, "")
}

/// `time.Month` and `time.Weekday`: printed by name.
#[derive(Debug)]
struct Named {
    type_name: &'static str,
    name: &'static str,
}

impl Object for Named {
    fn type_name(&self) -> &str {
        self.type_name
    }
    fn to_go_string(&self) -> String {
        self.name.to_string()
    }
    fn method(&self, name: &str) -> Option<Function> {
        let text = self.name;
        (name == "String").then(|| {
            Function::new(Signature::new(vec![], Type::String), move |_| Ok(Value::from(text)))
        })
    }
}

fn getter(result: Type, f: impl Fn() -> Value + Send + Sync + 'static) -> Function {
    Function::new(Signature::new(vec![], result), move |_| Ok::<_, FuncError>(f()))
}

impl Object for GoTime {
    fn type_name(&self) -> &str {
        "time.Time"
    }

    fn to_go_string(&self) -> String {
        self.go_string()
    }

    fn method(&self, name: &str) -> Option<Function> {
        let t = self.clone();
        let int = |f: fn(&GoTime) -> i64| {
            let t = t.clone();
            getter(Type::Int, move || Value::Int(f(&t)))
        };
        let time =
            |t: GoTime| getter(Type::Opaque("time.Time".into()), move || t.clone().into_value());
        Some(match name {
            "Format" => {
                let sig = Signature::new(vec![Type::String], Type::String);
                Function::new(sig, move |a| {
                    Ok(Value::from(t.format(a.first().and_then(Value::as_str).unwrap_or(""))))
                })
            }
            "String" => getter(Type::String, move || Value::from(t.go_string())),
            "Unix" => int(|t| t.secs),
            "UnixMilli" => int(|t| (t.unix_nanos() / 1_000_000) as i64),
            "UnixMicro" => int(|t| (t.unix_nanos() / 1_000) as i64),
            "UnixNano" => int(|t| t.unix_nanos() as i64),
            "UTC" => time(t.in_zone(Zone { name: "UTC".into(), offset: 0 })),
            "Local" => time(t.in_zone(t.local.clone())),
            "Year" => int(|t| t.civil().year),
            "Day" => int(|t| t.civil().day.into()),
            "Hour" => int(|t| t.civil().hour.into()),
            "Minute" => int(|t| t.civil().min.into()),
            "Second" => int(|t| t.civil().sec.into()),
            "Nanosecond" => int(|t| t.nanos.into()),
            "YearDay" => int(|t| t.civil().yday.into()),
            "Month" => {
                let name = MONTHS[t.civil().month as usize - 1];
                getter(Type::Opaque("time.Month".into()), move || {
                    Value::Object(Arc::new(Named { type_name: "time.Month", name }))
                })
            }
            "Weekday" => {
                let name = DAYS[t.civil().weekday];
                getter(Type::Opaque("time.Weekday".into()), move || {
                    Value::Object(Arc::new(Named { type_name: "time.Weekday", name }))
                })
            }
            // Go's zero Time is January 1, year 1, 00:00:00 UTC.
            "IsZero" => {
                getter(Type::Bool, move || Value::Bool(t.secs == -62_135_596_800 && t.nanos == 0))
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64, nanos: u32) -> GoTime {
        GoTime::from_now(&Now::utc(secs, nanos))
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-719_162), (1, 1, 1));
        for days in [-800_000, -719_162, -1, 0, 11_016, 20_000, 3_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn formats() {
        // 2009-11-10 23:00:00 UTC, a Tuesday.
        let t = at(1_257_894_000, 0);
        assert_eq!(t.format("2006-01-02T15:04:05Z07:00"), "2009-11-10T23:00:00Z");
        assert_eq!(t.format("Mon Jan _2 3:04PM 2006"), "Tue Nov 10 11:00PM 2009");
        assert_eq!(t.go_string(), "2009-11-10 23:00:00 +0000 UTC");
    }
}
