//! A reader for TZif zone files (RFC 8536, `/usr/share/zoneinfo/*`), enough to find the
//! offset and abbreviation in force at an instant, as Go's `Location.lookup` does.
//!
//! After the last transition the file's footer, a POSIX TZ string such as
//! `EST5EDT,M3.2.0,M11.1.0`, decides, as in Go (so "slim" zone files and dates after 2037
//! work).

use crate::funcs::time::{civil_from_days, days_from_civil, is_leap_year};

/// One zone type: offset east of UTC and abbreviation.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ZoneType {
    offset: i32,
    is_dst: bool,
    name: String,
}

/// A parsed zone file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    types: Vec<ZoneType>,
    /// Transition instants (Unix seconds, ascending) and the type index in force from each.
    transitions: Vec<(i64, usize)>,
    /// The footer's rule, used after the last transition.
    extend: Option<PosixTz>,
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i64(&mut self) -> Option<i64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Some(i64::from_be_bytes(a))
    }
}

struct Header {
    version: u8,
    isutcnt: usize,
    isstdcnt: usize,
    leapcnt: usize,
    timecnt: usize,
    typecnt: usize,
    charcnt: usize,
}

impl Header {
    /// The bytes of the data block the header announces, with times of `time_size` bytes
    /// (`None` if that overflows).
    fn data_size(&self, time_size: usize) -> Option<usize> {
        let parts = [
            self.timecnt.checked_mul(time_size + 1)?,
            self.typecnt.checked_mul(6)?,
            self.charcnt,
            self.leapcnt.checked_mul(time_size + 4)?,
            self.isstdcnt,
            self.isutcnt,
        ];
        parts.iter().try_fold(0usize, |sum, &p| sum.checked_add(p))
    }
}

fn header(r: &mut Reader) -> Option<Header> {
    if r.take(4)? != b"TZif" {
        return None;
    }
    let version = r.take(1)?[0];
    r.take(15)?;
    let mut n = [0usize; 6];
    for slot in &mut n {
        *slot = usize::try_from(r.u32()?).ok()?;
    }
    let [isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt] = n;
    Some(Header { version, isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt })
}

impl Zone {
    /// Parses a TZif file (version 1, or the 64-bit data of versions 2 and later).
    pub fn parse(data: &[u8]) -> Option<Zone> {
        let mut r = Reader { data, pos: 0 };
        let mut h = header(&mut r)?;
        let mut time_size = 4;
        if h.version >= b'2' {
            // Skip the 32-bit block; the 64-bit one follows with its own header.
            r.take(h.data_size(4)?)?;
            h = header(&mut r)?;
            time_size = 8;
        }
        // The counts are the file's word: nothing is allocated for data the file does not hold.
        if r.data.len().saturating_sub(r.pos) < h.data_size(time_size)? {
            return None;
        }
        let mut times = Vec::with_capacity(h.timecnt);
        for _ in 0..h.timecnt {
            times.push(if time_size == 8 { r.i64()? } else { i64::from(r.u32()? as i32) });
        }
        let indexes = r.take(h.timecnt)?.to_vec();
        let mut raw_types = Vec::with_capacity(h.typecnt);
        for _ in 0..h.typecnt {
            let offset = r.u32()? as i32;
            let b = r.take(2)?;
            raw_types.push((offset, b[0] != 0, usize::from(b[1])));
        }
        let chars = r.take(h.charcnt)?;
        r.take(h.leapcnt * (time_size + 4) + h.isstdcnt + h.isutcnt)?;
        let types: Vec<ZoneType> = raw_types
            .into_iter()
            .map(|(offset, is_dst, idx)| {
                let rest = chars.get(idx..).unwrap_or(&[]);
                let end = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
                ZoneType {
                    offset,
                    is_dst,
                    name: String::from_utf8_lossy(&rest[..end]).into_owned(),
                }
            })
            .collect();
        if types.is_empty() {
            return None;
        }
        let mut transitions = Vec::with_capacity(times.len());
        for (t, i) in times.into_iter().zip(indexes) {
            let i = usize::from(i);
            if i >= types.len() {
                return None;
            }
            transitions.push((t, i));
        }
        let extend = if h.version >= b'2' {
            let footer = data.get(r.pos..).unwrap_or(&[]);
            let text = String::from_utf8_lossy(footer);
            PosixTz::parse(text.trim_matches('\n'))
        } else {
            None
        };
        Some(Zone { types, transitions, extend })
    }

    /// The abbreviation and offset in force at `unix_secs` (Go's `Location.lookup`).
    pub fn lookup(&self, unix_secs: i64) -> (String, i32) {
        let n = self.transitions.partition_point(|&(t, _)| t <= unix_secs);
        let zone = if self.transitions.is_empty() || n == self.transitions.len() {
            // At or after the last transition (Go treats "no transitions" the same way).
            match &self.extend {
                Some(tz) => tz.lookup(unix_secs),
                None if self.transitions.is_empty() => &self.types[0],
                None => &self.types[self.transitions[n - 1].1],
            }
        } else if n == 0 {
            &self.types[self.first_zone()]
        } else {
            &self.types[self.transitions[n - 1].1]
        };
        (zone.name.clone(), zone.offset)
    }

    /// The zone before the first transition (Go's `lookupFirstZone`).
    fn first_zone(&self) -> usize {
        if !self.transitions.iter().any(|&(_, i)| i == 0) {
            return 0;
        }
        let first = self.transitions[0].1;
        if self.types[first].is_dst {
            if let Some(i) = (0..first).rev().find(|&i| !self.types[i].is_dst) {
                return i;
            }
        }
        self.types.iter().position(|t| !t.is_dst).unwrap_or(0)
    }
}

/// A POSIX TZ rule date (Go's `rule`): when daylight saving time starts or ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RuleDay {
    /// `Jn`: day 1..=365, February 29th never counted.
    Julian(u32),
    /// `n`: day 0..=365, counting February 29th.
    DayOfYear(u32),
    /// `Mm.w.d`: weekday `d` (0 = Sunday) of week `w` (5 = last) of month `m`.
    MonthWeekDay { month: u32, week: u32, weekday: u32 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rule {
    day: RuleDay,
    /// Local time of day of the change, in seconds (default 02:00).
    time: i64,
}

/// The footer of a TZif file: a POSIX TZ string (`EST5EDT,M3.2.0,M11.1.0`, `JST-9`), which
/// Go uses after the last transition (its `tzset`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PosixTz {
    std: ZoneType,
    dst: Option<(ZoneType, Rule, Rule)>,
}

/// A number in `min..=max` at the start of `s`, and the rest.
fn tz_num(s: &str, min: i64, max: i64) -> Option<(i64, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    let mut n: i64 = 0;
    for b in s[..end].bytes() {
        n = n * 10 + i64::from(b - b'0');
        if n > max {
            return None;
        }
    }
    (n >= min).then_some((n, &s[end..]))
}

/// `[+-]hh[:mm[:ss]]` in seconds (positive = west of UTC for zone offsets).
fn tz_offset(s: &str) -> Option<(i64, &str)> {
    let (neg, s) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let (h, mut s) = tz_num(s, 0, 24 * 7)?;
    let mut off = h * 3600;
    for unit in [60, 1] {
        let Some(rest) = s.strip_prefix(':') else { break };
        let (n, rest) = tz_num(rest, 0, 59)?;
        off += n * unit;
        s = rest;
    }
    Some((if neg { -off } else { off }, s))
}

/// A zone name: `<...>`, or at least three characters up to a digit, `,`, `-` or `+`.
fn tz_name(s: &str) -> Option<(&str, &str)> {
    if let Some(quoted) = s.strip_prefix('<') {
        let end = quoted.find('>')?;
        return Some((&quoted[..end], &quoted[end + 1..]));
    }
    let end =
        s.find(|c: char| c.is_ascii_digit() || matches!(c, ',' | '-' | '+')).unwrap_or(s.len());
    (end >= 3).then(|| (&s[..end], &s[end..]))
}

fn tz_rule(s: &str) -> Option<(Rule, &str)> {
    let (day, s) = if let Some(rest) = s.strip_prefix('J') {
        let (n, rest) = tz_num(rest, 1, 365)?;
        (RuleDay::Julian(n as u32), rest)
    } else if let Some(rest) = s.strip_prefix('M') {
        let (month, rest) = tz_num(rest, 1, 12)?;
        let (week, rest) = tz_num(rest.strip_prefix('.')?, 1, 5)?;
        let (weekday, rest) = tz_num(rest.strip_prefix('.')?, 0, 6)?;
        (
            RuleDay::MonthWeekDay {
                month: month as u32,
                week: week as u32,
                weekday: weekday as u32,
            },
            rest,
        )
    } else {
        let (n, rest) = tz_num(s, 0, 365)?;
        (RuleDay::DayOfYear(n as u32), rest)
    };
    match s.strip_prefix('/') {
        Some(rest) => {
            let (time, rest) = tz_offset(rest)?;
            Some((Rule { day, time }, rest))
        }
        None => Some((Rule { day, time: 2 * 3600 }, s)),
    }
}

impl PosixTz {
    pub fn parse(s: &str) -> Option<PosixTz> {
        let (std_name, s) = tz_name(s)?;
        let (std_off, s) = tz_offset(s)?;
        let std = ZoneType { offset: -std_off as i32, is_dst: false, name: std_name.to_string() };
        if s.is_empty() || s.starts_with(',') {
            return Some(PosixTz { std, dst: None });
        }
        let (dst_name, mut s) = tz_name(s)?;
        let mut dst_offset = i64::from(std.offset) + 3600;
        if !(s.is_empty() || s.starts_with(',')) {
            let (off, rest) = tz_offset(s)?;
            dst_offset = -off;
            s = rest;
        }
        let s = if s.is_empty() { ",M3.2.0,M11.1.0" } else { s };
        let s = s.strip_prefix([',', ';'])?;
        let (start, s) = tz_rule(s)?;
        let (end, s) = tz_rule(s.strip_prefix(',')?)?;
        if !s.is_empty() {
            return None;
        }
        let dst = ZoneType { offset: dst_offset as i32, is_dst: true, name: dst_name.to_string() };
        Some(PosixTz { std, dst: Some((dst, start, end)) })
    }

    /// The zone in force at `unix_secs`.
    fn lookup(&self, unix_secs: i64) -> &ZoneType {
        let Some((dst, start, end)) = &self.dst else { return &self.std };
        let days = unix_secs.div_euclid(86_400);
        let (year, _, _) = civil_from_days(days);
        let year_start = days_from_civil(year, 1, 1);
        let ysec = (days - year_start) * 86_400 + unix_secs.rem_euclid(86_400);
        let mut start_sec = rule_time(year, start, self.std.offset);
        let mut end_sec = rule_time(year, end, dst.offset);
        let (mut outside, mut inside) = (&self.std, dst);
        if end_sec < start_sec {
            // Southern hemisphere: the rule's "end" comes first in the year.
            std::mem::swap(&mut start_sec, &mut end_sec);
            std::mem::swap(&mut outside, &mut inside);
        }
        if ysec < start_sec || ysec >= end_sec {
            outside
        } else {
            inside
        }
    }
}

/// Seconds after the start of `year` (UTC) at which `rule` takes effect, for a zone whose
/// offset before the change is `offset`.
fn rule_time(year: i64, rule: &Rule, offset: i32) -> i64 {
    let day = match rule.day {
        RuleDay::Julian(n) => i64::from(n) - 1 + i64::from(is_leap_year(year) && n >= 60),
        RuleDay::DayOfYear(n) => i64::from(n),
        RuleDay::MonthWeekDay { month, week, weekday } => {
            let first = days_from_civil(year, month, 1);
            let first_weekday = (first + 4).rem_euclid(7); // 1970-01-01 was a Thursday
            let next = if month == 12 {
                days_from_civil(year + 1, 1, 1)
            } else {
                days_from_civil(year, month + 1, 1)
            };
            let month_len = next - first;
            let mut d = (i64::from(weekday) - first_weekday).rem_euclid(7);
            for _ in 1..week {
                if d + 7 >= month_len {
                    break;
                }
                d += 7;
            }
            first - days_from_civil(year, 1, 1) + d
        }
    };
    day * 86_400 + rule.time - i64::from(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the tzif fuzz target: a version 2 file whose second header announces 2^28
    /// transitions in a few bytes made the parser reserve 2 GB. Counts are now checked against
    /// the bytes the file holds.
    #[test]
    fn counts_larger_than_the_file_are_refused_before_allocating() {
        let mut data = b"TZif2".to_vec();
        data.extend([0u8; 15]);
        data.extend([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4]);
        data.extend([0, 0, 0, 0, 0, 0, b'U', b'T', b'C', 0]);
        data.extend(b"TZif1");
        data.extend([0u8; 15]);
        // isutcnt isstdcnt leapcnt 0, timecnt 0x08000000, typecnt 1, charcnt 4.
        data.extend([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4]);
        data.extend(b"\0\0\0\0\0\0UTC\0\nUTC0\n");
        assert!(Zone::parse(&data).is_none());
        // The same header with what it announces is fine.
        let mut ok = data[..44 + 10].to_vec();
        ok.extend(b"TZif1");
        ok.extend([0u8; 15]);
        ok.extend([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4]);
        ok.extend(b"\0\0\0\0\0\0UTC\0\nUTC0\n");
        assert_eq!(Zone::parse(&ok).unwrap().lookup(0), ("UTC".to_string(), 0));
    }

    #[test]
    fn posix_zones() {
        let z = PosixTz::parse("JST-9").unwrap();
        assert_eq!((z.std.name.as_str(), z.std.offset, z.dst.is_none()), ("JST", 9 * 3600, true));
        let z = PosixTz::parse("<-0330>3:30").unwrap();
        assert_eq!((z.std.name.as_str(), z.std.offset), ("-0330", -(3 * 3600 + 1800)));
        assert!(PosixTz::parse("").is_none());
        assert!(PosixTz::parse("AB1").is_none());
        let ny = PosixTz::parse("EST5EDT,M3.2.0,M11.1.0").unwrap();
        // 2039-03-13 06:59:59 UTC is 01:59:59 EST; a second later it is 03:00 EDT.
        assert_eq!(ny.lookup(2_183_612_399).name, "EST");
        assert_eq!(ny.lookup(2_183_612_400).name, "EDT");
        // 2039-11-06 05:59:59 UTC is 01:59:59 EDT; then 01:00 EST.
        assert_eq!(ny.lookup(2_204_171_999).name, "EDT");
        assert_eq!(ny.lookup(2_204_172_000).name, "EST");
        // Southern hemisphere: daylight time spans the new year.
        let nz = PosixTz::parse("NZST-12NZDT,M9.5.0,M4.1.0/3").unwrap();
        assert_eq!(nz.lookup(2_208_988_800).offset, 13 * 3600); // 2040-01-01
        assert_eq!(nz.lookup(2_224_713_600).offset, 12 * 3600); // 2040-07-01
        let j = PosixTz::parse("XST3XDT,J60/0,300").unwrap();
        assert_eq!(j.dst.as_ref().map(|d| d.0.offset), Some(-2 * 3600));
    }

    #[test]
    fn system_zone_files() {
        // Skipped where the system has no zone database.
        let Ok(data) = std::fs::read("/usr/share/zoneinfo/America/New_York") else { return };
        let z = Zone::parse(&data).unwrap();
        assert_eq!(z.lookup(1_700_000_000), ("EST".to_string(), -5 * 3600)); // 2023-11-14
        assert_eq!(z.lookup(1_690_000_000), ("EDT".to_string(), -4 * 3600)); // 2023-07-22
        if let Ok(data) = std::fs::read("/usr/share/zoneinfo/Etc/UTC") {
            assert_eq!(Zone::parse(&data).unwrap().lookup(1_700_000_000), ("UTC".to_string(), 0));
        }
    }
}
