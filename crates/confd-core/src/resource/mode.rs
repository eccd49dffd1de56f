//! `mode = "…"` of a template resource: Go's `strconv.ParseUint(mode, 0, 32)`, then only the
//! permission bits, as confd applies them through `os.FileMode` and `os.Chmod`.

use super::goparse::{self, NumError};

/// The permission bits confd applies (`os.FileMode.Perm()`); setuid, setgid and sticky
/// digits are dropped, because Go's `os.Chmod` only maps Go's own high mode bits.
pub const PERM_MASK: u32 = 0o777;

/// A parsed `mode`: the bits applied, and warnings about readings that surprise people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMode {
    pub perm: u32,
    pub warnings: Vec<String>,
}

/// Parses `text` as confd does. Errors carry Go's text, e.g.
/// `strconv.ParseUint: parsing "rw": invalid syntax`.
pub fn parse_mode(text: &str) -> Result<ParsedMode, NumError> {
    let value = goparse::parse_uint(text, 32)? as u32;
    let perm = value & PERM_MASK;
    let mut warnings = Vec::new();
    let decimal = !text.starts_with('0');
    if decimal && value != 0 {
        warnings.push(decimal_warning(text, value));
    } else if value & !PERM_MASK != 0 {
        warnings.push(format!(
            "mode {text:?}: bits above 0777 (setuid, setgid, sticky) are dropped as confd does; \
             {perm:04o} ({}) is applied",
            rwx(perm)
        ));
    }
    Ok(ParsedMode { perm, warnings })
}

fn decimal_warning(text: &str, value: u32) -> String {
    let mut msg =
        format!("mode {text:?} is read as decimal {value} (octal {value:o}) as confd does");
    let digits: String = text.chars().filter(|&c| c != '_').collect();
    let as_octal = u32::from_str_radix(&digits, 8).ok().filter(|v| *v <= 0o7777);
    if let Some(intended) = as_octal {
        msg.push_str(&format!("; write \"0{digits}\" for {}", rwx(intended & PERM_MASK)));
    }
    msg
}

/// `ls -l` style permission string: `0o644` → `rw-r--r--`.
pub fn rwx(perm: u32) -> String {
    let mut out = String::with_capacity(9);
    for shift in [6, 3, 0] {
        let bits = (perm >> shift) & 7;
        out.push(if bits & 4 != 0 { 'r' } else { '-' });
        out.push(if bits & 2 != 0 { 'w' } else { '-' });
        out.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    out
}
