//! Go's `fmt` printing (`Sprint`, `Sprintln`, `Sprintf`) and the parts of `strconv` it relies on
//! (`Quote`, `QuoteRune`, `IsPrint`, `FormatFloat`), reproduced byte for byte (Go 1.19) over
//! template [`Value`]s.
//!
//! The layout mirrors Go's: a low-level formatter that pads, signs and renders one scalar
//! (Go's `fmt/format.go`), a printer that dispatches on the value and the verb and walks
//! containers (`fmt/print.go`), the `Printf` format-string interpreter, and the `strconv` pieces.
//!
//! Known divergences from Go, all on values whose Go output depends on memory addresses or on
//! methods we cannot see:
//! - A pointer to a struct nested inside a container or struct prints as `&{…}` (Go prints its
//!   address, e.g. `[0xc000010018]`); with `%#v` it prints `&net.SRV{…}` where Go prints
//!   `(*net.SRV)(0xc000010018)`. At top level both agree on `&{…}`.
//! - Function values have no address: `%v` prints `0x0`, `%#v` prints `(func() string)(0x0)`
//!   (Go prints the code address, e.g. `0x47e0a0`). `%p` of slices, maps and pointers prints the
//!   address of the Rust allocation.
//! - Host objects (`time.Time`): `%v %s %q %x %X` use their `String` method as Go does, but
//!   `%#v` prints the `String` text unquoted (Go calls `GoString`, e.g.
//!   `time.Date(2009, time.November, 10, 23, 0, 0, 0, time.UTC)`), and other verbs print
//!   `%!d(time.Time=2009-11-10 23:00:00 +0000 UTC)` (Go walks the struct's private fields and
//!   prints something like `{0 63393490800 <nil>}`).

use std::sync::Arc;

use crate::limits::TooLarge;
use crate::value::{List, Map, Struct, Type, Value};

/// `fmt.Sprint`: operands formatted with `%v`, a space between two operands when neither is a
/// string.
pub fn sprint(args: &[Value]) -> String {
    sprint_bounded(args, usize::MAX).unwrap_or_default()
}

/// `fmt.Sprintln`: operands formatted with `%v`, always space-separated, newline-terminated.
pub fn sprintln(args: &[Value]) -> String {
    sprintln_bounded(args, usize::MAX).unwrap_or_default()
}

/// `fmt.Sprintf`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    sprintf_bounded(format, args, usize::MAX).unwrap_or_default()
}

/// Appends `v` as `fmt.Fprint(w, v)` would write it (one operand, `%v`, no flags).
pub fn write_value(out: &mut String, v: &Value) {
    let _ = write_value_bounded(out, v, usize::MAX);
}

/// [`sprint`] that stops, without allocating more, once the text would pass `limit` bytes.
pub fn sprint_bounded(args: &[Value], limit: usize) -> Result<String, TooLarge> {
    let mut p = Printer::bounded(String::new(), limit);
    let mut prev_string = false;
    for (i, arg) in args.iter().enumerate() {
        let is_string = matches!(arg, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            p.buf.push(' ');
        }
        p.print_arg(arg, 'v');
        prev_string = is_string;
        if p.buf.is_over() {
            break;
        }
    }
    p.buf.into_result()
}

/// [`sprintln`] that stops, without allocating more, once the text would pass `limit` bytes.
pub fn sprintln_bounded(args: &[Value], limit: usize) -> Result<String, TooLarge> {
    let mut p = Printer::bounded(String::new(), limit);
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            p.buf.push(' ');
        }
        p.print_arg(arg, 'v');
        if p.buf.is_over() {
            break;
        }
    }
    p.buf.push('\n');
    p.buf.into_result()
}

/// [`sprintf`] that stops, without allocating more, once the text would pass `limit` bytes.
pub fn sprintf_bounded(format: &str, args: &[Value], limit: usize) -> Result<String, TooLarge> {
    // Room for the usual result at once: the format and the text of string arguments.
    let likely = args
        .iter()
        .map(|a| a.as_str().map_or(8, str::len))
        .fold(format.len(), usize::saturating_add);
    let mut p = Printer::bounded(String::with_capacity(likely.min(limit)), limit);
    p.do_printf(format, args);
    p.buf.into_result()
}

/// [`write_value`] that stops once `out` would grow past `limit` bytes in all; `out` then
/// holds what fitted.
pub fn write_value_bounded(out: &mut String, v: &Value, limit: usize) -> Result<(), TooLarge> {
    let mut p = Printer::bounded(std::mem::take(out), limit);
    p.print_arg(v, 'v');
    let over = p.buf.is_over();
    *out = p.buf.s;
    if over {
        return Err(TooLarge { size: None, limit });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Where the text goes: a string that refuses to grow past a limit.

/// Something text can be appended to.
pub(crate) trait Sink {
    fn push(&mut self, c: char);
    fn push_str(&mut self, s: &str);
}

impl Sink for String {
    fn push(&mut self, c: char) {
        String::push(self, c);
    }

    fn push_str(&mut self, s: &str) {
        String::push_str(self, s);
    }
}

/// A `String` that refuses to grow past `limit` bytes: an append that would pass it is
/// dropped and marks the buffer as over, and nothing is appended after that. This is how a
/// `printf` of a hundred 60 MB arguments fails after writing 64 MiB instead of allocating 6 GB.
pub(crate) struct LimitedString {
    s: String,
    limit: usize,
    over: bool,
}

impl LimitedString {
    pub(crate) fn new(s: String, limit: usize) -> LimitedString {
        LimitedString { s, limit, over: false }
    }

    /// Bytes that may still be appended.
    pub(crate) fn remaining(&self) -> usize {
        self.limit.saturating_sub(self.s.len())
    }

    fn fits(&mut self, n: usize) -> bool {
        if self.over || n > self.remaining() {
            self.over = true;
            return false;
        }
        true
    }

    pub(crate) fn push_repeated(&mut self, c: char, n: usize) {
        if self.fits(n.saturating_mul(c.len_utf8())) {
            self.s.extend(std::iter::repeat_n(c, n));
        }
    }

    pub(crate) fn mark_over(&mut self) {
        self.over = true;
    }

    pub(crate) fn is_over(&self) -> bool {
        self.over
    }

    pub(crate) fn into_result(self) -> Result<String, TooLarge> {
        if self.over {
            return Err(TooLarge { size: None, limit: self.limit });
        }
        Ok(self.s)
    }
}

impl Sink for LimitedString {
    fn push(&mut self, c: char) {
        if self.fits(c.len_utf8()) {
            self.s.push(c);
        }
    }

    fn push_str(&mut self, s: &str) {
        if self.fits(s.len()) {
            self.s.push_str(s);
        }
    }
}

impl Default for LimitedString {
    fn default() -> LimitedString {
        LimitedString::new(String::new(), usize::MAX)
    }
}

// ---------------------------------------------------------------------------------------------
// Low-level formatter (Go's fmt/format.go).

#[derive(Clone, Copy, Default)]
struct Flags {
    wid_present: bool,
    prec_present: bool,
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    // `%+v` and `%#v` are distinct formats, recorded here with `plus`/`sharp` cleared.
    plus_v: bool,
    sharp_v: bool,
}

#[derive(Default)]
struct Printer {
    buf: LimitedString,
    fl: Flags,
    wid: usize,
    prec: usize,
}

impl Printer {
    fn bounded(buf: String, limit: usize) -> Printer {
        Printer { buf: LimitedString::new(buf, limit), ..Printer::default() }
    }

    fn clear_flags(&mut self) {
        self.fl = Flags::default();
        self.wid = 0;
        self.prec = 0;
    }

    fn write_padding(&mut self, n: usize) {
        let c = if self.fl.zero { '0' } else { ' ' };
        self.buf.push_repeated(c, n);
    }

    /// Appends `s` padded to the width (counted in runes) on the left, or on the right with `-`.
    fn pad(&mut self, s: &str) {
        if !self.fl.wid_present || self.wid == 0 {
            self.buf.push_str(s);
            return;
        }
        let n = self.wid.saturating_sub(s.chars().count());
        if self.fl.minus {
            self.buf.push_str(s);
            self.write_padding(n);
        } else {
            self.write_padding(n);
            self.buf.push_str(s);
        }
    }

    /// `pad` with the `0` flag ignored (numbers that already carry their zeros, `<nil>`, …).
    fn pad_no_zero(&mut self, s: &str) {
        let zero = std::mem::replace(&mut self.fl.zero, false);
        self.pad(s);
        self.fl.zero = zero;
    }

    fn fmt_boolean(&mut self, v: bool) {
        self.pad(if v { "true" } else { "false" });
    }

    /// `U+0078`, or with `#` `U+0078 'x'`.
    fn fmt_unicode(&mut self, u: u64) {
        let prec = if self.fl.prec_present && self.prec > 4 { self.prec } else { 4 };
        let hex = format!("{u:X}");
        let mut s = String::with_capacity(prec + 10);
        s.push_str("U+");
        s.extend(std::iter::repeat_n('0', prec.saturating_sub(hex.len())));
        s.push_str(&hex);
        if self.fl.sharp {
            if let Some(c) = printable_char(u) {
                s.push_str(" '");
                s.push(c);
                s.push('\'');
            }
        }
        self.pad_no_zero(&s);
    }

    /// Formats an integer in base 2, 8, 10 or 16 with sign, precision, `#` prefixes and padding.
    fn fmt_integer(&mut self, u: u64, base: u32, signed: bool, verb: char, upper: bool) {
        let negative = signed && (u as i64) < 0;
        let u = if negative { u.wrapping_neg() } else { u };
        // Two ways to ask for leading zeros: %.3d or %03d; with both, the 0 flag is ignored.
        let mut prec = 0;
        if self.fl.prec_present {
            prec = self.prec;
            if prec == 0 && u == 0 {
                let zero = std::mem::replace(&mut self.fl.zero, false);
                self.write_padding(self.wid);
                self.fl.zero = zero;
                return;
            }
        } else if self.fl.zero && self.fl.wid_present {
            prec = self.wid;
            if negative || self.fl.plus || self.fl.space {
                prec = prec.saturating_sub(1); // room for the sign
            }
        }
        let digits = match (base, upper) {
            (2, _) => format!("{u:b}"),
            (8, _) => format!("{u:o}"),
            (16, false) => format!("{u:x}"),
            (16, true) => format!("{u:X}"),
            _ => u.to_string(),
        };
        let zeros = prec.saturating_sub(digits.len());
        let mut s = String::with_capacity(zeros + digits.len() + 5);
        if negative {
            s.push('-');
        } else if self.fl.plus {
            s.push('+');
        } else if self.fl.space {
            s.push(' ');
        }
        if verb == 'O' {
            s.push_str("0o");
        }
        if self.fl.sharp {
            match base {
                2 => s.push_str("0b"),
                8 if zeros == 0 && !digits.starts_with('0') => s.push('0'),
                16 => s.push_str(if upper { "0X" } else { "0x" }),
                _ => {}
            }
        }
        s.extend(std::iter::repeat_n('0', zeros));
        s.push_str(&digits);
        self.pad_no_zero(&s);
    }

    /// Cuts `s` to the precision, counted in runes.
    fn truncate<'s>(&self, s: &'s str) -> &'s str {
        if !self.fl.prec_present {
            return s;
        }
        match s.char_indices().nth(self.prec) {
            Some((i, _)) => &s[..i],
            None => s,
        }
    }

    fn fmt_s(&mut self, s: &str) {
        let s = self.truncate(s);
        self.pad(s);
    }

    /// `%x`/`%X` of a string: its bytes in hex; `% x` separates them, `%#x` adds `0x`.
    fn fmt_sx(&mut self, s: &str, upper: bool) {
        let mut len = s.len();
        if self.fl.prec_present && self.prec < len {
            len = self.prec;
        }
        if len == 0 {
            if self.fl.wid_present {
                self.write_padding(self.wid);
            }
            return;
        }
        let mut width = 2 * len;
        if self.fl.space {
            if self.fl.sharp {
                width *= 2;
            }
            width += len - 1;
        } else if self.fl.sharp {
            width += 2;
        }
        let padding = if self.fl.wid_present { self.wid.saturating_sub(width) } else { 0 };
        if width.saturating_add(padding) > self.buf.remaining() {
            self.buf.mark_over();
            return;
        }
        if !self.fl.minus {
            self.write_padding(padding);
        }
        let prefix = if upper { "0X" } else { "0x" };
        if self.fl.sharp {
            self.buf.push_str(prefix);
        }
        for (i, &c) in s.as_bytes()[..len].iter().enumerate() {
            if self.fl.space && i > 0 {
                self.buf.push(' ');
                if self.fl.sharp {
                    self.buf.push_str(prefix);
                }
            }
            push_hex_byte(&mut self.buf, c, upper);
        }
        if self.fl.minus {
            self.write_padding(padding);
        }
    }

    /// `%q` of a string: Go-quoted (ASCII-only with `+`), backquoted with `#` when possible.
    fn fmt_q(&mut self, s: &str) {
        let s = self.truncate(s);
        if self.fl.sharp && can_backquote(s) {
            self.pad(&format!("`{s}`"));
        } else {
            // Quoting can grow a string up to ten times; stop where the buffer would anyway.
            let mut q = LimitedString::new(String::new(), self.buf.remaining());
            quote_into(&mut q, s, '"', self.fl.plus);
            if q.is_over() {
                self.buf.mark_over();
                return;
            }
            self.pad(&q.s);
        }
    }

    /// `%c`: the integer as a character (U+FFFD when it is not a valid code point).
    fn fmt_c(&mut self, c: u64) {
        let r = rune_or_error(c);
        self.pad(r.encode_utf8(&mut [0; 4]));
    }

    /// `%q` of an integer: a quoted Go character literal.
    fn fmt_qc(&mut self, c: u64) {
        let mut s = String::new();
        quote_rune_into(&mut s, rune_or_error(c), self.fl.plus);
        self.pad(&s);
    }

    /// Formats a float with `strconv.FormatFloat` and applies sign, `#` and padding rules.
    fn fmt_float(&mut self, v: f64, verb: u8, prec: i32) {
        let prec = if self.fl.prec_present { self.prec as i32 } else { prec };
        let mut num = format_float(v, verb, prec);
        if !num.starts_with(['-', '+']) {
            num.insert(0, '+');
        }
        if self.fl.space && num.starts_with('+') && !self.fl.plus {
            num.replace_range(..1, " ");
        }
        let b1 = num.as_bytes()[1];
        if b1 == b'I' || b1 == b'N' {
            // Infinities and NaN are never zero-padded; NaN gets a sign only when asked for.
            let s = if b1 == b'N' && !self.fl.space && !self.fl.plus { &num[1..] } else { &num };
            self.pad_no_zero(s);
            return;
        }
        if self.fl.sharp && verb != b'b' {
            num = sharp_float(&num, verb, prec);
        }
        if self.fl.plus || !num.starts_with('+') {
            if self.fl.zero && self.fl.wid_present && self.wid > num.len() {
                // Zero padding goes between the sign and the digits.
                self.buf.push_str(&num[..1]);
                self.write_padding(self.wid - num.len());
                self.buf.push_str(&num[1..]);
            } else {
                self.pad(&num);
            }
            return;
        }
        self.pad(&num[1..]);
    }
}

/// The `#` flag on floats: always print a decimal point and, for `%g`/`%x`, keep trailing zeros
/// up to the precision. `num` starts with a sign.
fn sharp_float(num: &str, verb: u8, prec: i32) -> String {
    let mut digits = match verb {
        b'v' | b'g' | b'G' | b'x' if prec == -1 => 6,
        b'v' | b'g' | b'G' | b'x' => prec,
        _ => 0,
    };
    let mut body_end = num.len();
    let mut has_point = false;
    let mut saw_nonzero = false;
    for (i, &c) in num.as_bytes().iter().enumerate().skip(1) {
        match c {
            b'.' => has_point = true,
            b'p' | b'P' => {
                body_end = i;
                break;
            }
            b'e' | b'E' if verb != b'x' && verb != b'X' => {
                body_end = i;
                break;
            }
            _ => {
                // Significant digits counted from the first non-zero one (as Go, this also
                // counts the `x` of a hex float).
                saw_nonzero |= c != b'0';
                if saw_nonzero {
                    digits -= 1;
                }
            }
        }
    }
    let (body, tail) = num.split_at(body_end);
    let mut out = body.to_string();
    if !has_point {
        if body.len() == 2 && body.ends_with('0') {
            digits -= 1; // a lone 0 counts as one digit
        }
        out.push('.');
    }
    if digits > 0 {
        out.extend(std::iter::repeat_n('0', digits as usize));
    }
    out.push_str(tail);
    out
}

fn push_hex_byte(buf: &mut impl Sink, c: u8, upper: bool) {
    let digits = if upper { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
    buf.push(char::from(digits[usize::from(c >> 4)]));
    buf.push(char::from(digits[usize::from(c & 0xF)]));
}

/// The character for a code point given as an integer, or U+FFFD (Go's `RuneError`).
fn rune_or_error(c: u64) -> char {
    u32::try_from(c).ok().and_then(char::from_u32).unwrap_or('\u{FFFD}')
}

fn printable_char(u: u64) -> Option<char> {
    u32::try_from(u).ok().and_then(char::from_u32).filter(|&c| is_print(c))
}

// ---------------------------------------------------------------------------------------------
// Printer: dispatch on value and verb (Go's fmt/print.go).

impl Printer {
    /// Go's `printArg`: a top-level operand, which is an `interface {}`.
    fn print_arg(&mut self, v: &Value, verb: char) {
        if matches!(v, Value::Nil | Value::Missing) {
            match verb {
                'T' | 'v' => self.pad("<nil>"),
                _ => self.bad_verb(verb, None, v),
            }
            return;
        }
        match verb {
            'T' => self.fmt_s(&v.type_name()),
            'p' => self.fmt_pointer_top(v),
            _ => self.print_value(v, None, verb, 0),
        }
    }

    /// Go's `printValue` for a non-nil dynamic value; `ty` is the static type of the slot
    /// holding it, when that is not an interface (it names the value in `%!verb(type=value)`).
    fn print_value(&mut self, v: &Value, ty: Option<&Type>, verb: char, depth: usize) {
        let handled = match v {
            Value::Missing | Value::Nil => {
                self.buf.push_str("<nil>");
                true
            }
            Value::Bool(b) => self.fmt_bool(*b, verb),
            Value::Int(i) => self.fmt_int(*i as u64, true, verb),
            Value::Uint(u) => self.fmt_int(*u, false, verb),
            Value::Float(f) => self.fmt_float_verb(*f, verb),
            Value::Complex(re, im) => self.fmt_complex(*re, *im, verb),
            Value::String(s) => self.fmt_string(s, verb),
            Value::List(l) => self.print_list(l, verb, depth),
            Value::Map(m) => self.print_map(m, verb, depth),
            Value::Struct(s) => self.print_struct(s, verb, depth),
            Value::Ptr(s) => self.print_ptr(s, verb, depth),
            Value::Func(_) => self.fmt_pointer(0, false, &v.type_name(), verb),
            Value::Object(o) => self.print_object(&o.to_go_string(), verb),
        };
        if !handled {
            self.bad_verb(verb, ty, v);
        }
    }

    /// A value held in a container slot or struct field of static type `ty`: a nil there
    /// prints according to that type (`<nil>`, `interface {}(nil)`, `(*T)(nil)`, `[]T(nil)`…).
    fn print_elem(&mut self, v: &Value, ty: &Type, verb: char, depth: usize) {
        if !matches!(v, Value::Nil | Value::Missing) {
            let static_ty = match ty {
                Type::Any | Type::Reflect => None,
                _ => Some(ty),
            };
            self.print_value(v, static_ty, verb, depth);
            return;
        }
        match ty {
            Type::Ptr(_) | Type::Func(_) => {
                if !self.fmt_pointer(0, true, &ty.to_string(), verb) {
                    self.bad_verb(verb, Some(ty), v);
                }
            }
            Type::Slice { .. } => {
                let l = List { ty: ty.clone(), items: Vec::new(), nil: true };
                self.print_list(&l, verb, depth);
            }
            Type::Map(_) => {
                let m = Map { ty: ty.clone(), entries: Default::default(), nil: true };
                self.print_map(&m, verb, depth);
            }
            _ if self.fl.sharp_v => {
                self.buf.push_str(&ty_or_any(ty));
                self.buf.push_str("(nil)");
            }
            _ => self.buf.push_str("<nil>"),
        }
    }

    /// Go's `badVerb`: `%!verb(type=value)`, or `%!verb(<nil>)`.
    fn bad_verb(&mut self, verb: char, ty: Option<&Type>, v: &Value) {
        self.buf.push_str("%!");
        self.buf.push(verb);
        self.buf.push('(');
        let ty = ty.map(Type::to_string).or_else(|| v.go_type().map(|t| t.to_string()));
        match ty {
            Some(ty) => {
                self.buf.push_str(&ty);
                self.buf.push('=');
                self.print_arg(v, 'v');
            }
            None => self.buf.push_str("<nil>"),
        }
        self.buf.push(')');
    }

    fn fmt_bool(&mut self, b: bool, verb: char) -> bool {
        match verb {
            't' | 'v' => self.fmt_boolean(b),
            _ => return false,
        }
        true
    }

    /// `%x` with a forced (or suppressed) `0x` prefix, as Go prints pointers and `%#v` uints.
    fn fmt_0x64(&mut self, u: u64, leading_0x: bool) {
        let sharp = std::mem::replace(&mut self.fl.sharp, leading_0x);
        self.fmt_integer(u, 16, false, 'v', false);
        self.fl.sharp = sharp;
    }

    fn fmt_int(&mut self, u: u64, signed: bool, verb: char) -> bool {
        match verb {
            'v' if self.fl.sharp_v && !signed => self.fmt_0x64(u, true),
            'v' | 'd' => self.fmt_integer(u, 10, signed, verb, false),
            'b' => self.fmt_integer(u, 2, signed, verb, false),
            'o' | 'O' => self.fmt_integer(u, 8, signed, verb, false),
            'x' => self.fmt_integer(u, 16, signed, verb, false),
            'X' => self.fmt_integer(u, 16, signed, verb, true),
            'c' => self.fmt_c(u),
            'q' => self.fmt_qc(u),
            'U' => self.fmt_unicode(u),
            _ => return false,
        }
        true
    }

    fn fmt_float_verb(&mut self, f: f64, verb: char) -> bool {
        match verb {
            'v' => self.fmt_float(f, b'g', -1),
            'b' | 'g' | 'G' | 'x' | 'X' => self.fmt_float(f, verb as u8, -1),
            'f' | 'e' | 'E' => self.fmt_float(f, verb as u8, 6),
            'F' => self.fmt_float(f, b'f', 6),
            _ => return false,
        }
        true
    }

    /// Go's `fmtComplex`: `(re+imi)`, the imaginary part always signed.
    fn fmt_complex(&mut self, re: f64, im: f64, verb: char) -> bool {
        if !matches!(verb, 'v' | 'b' | 'g' | 'G' | 'x' | 'X' | 'f' | 'F' | 'e' | 'E') {
            return false;
        }
        let old_plus = self.fl.plus;
        self.buf.push('(');
        self.fmt_float_verb(re, verb);
        self.fl.plus = true;
        self.fmt_float_verb(im, verb);
        self.buf.push_str("i)");
        self.fl.plus = old_plus;
        true
    }

    fn fmt_string(&mut self, s: &str, verb: char) -> bool {
        match verb {
            'v' if self.fl.sharp_v => self.fmt_q(s),
            'v' | 's' => self.fmt_s(s),
            'x' => self.fmt_sx(s, false),
            'X' => self.fmt_sx(s, true),
            'q' => self.fmt_q(s),
            _ => return false,
        }
        true
    }

    /// A host object: its `String` method serves `%v %s %q %x %X` (and, approximately, `%#v`).
    fn print_object(&mut self, text: &str, verb: char) -> bool {
        if self.fl.sharp_v {
            self.fmt_s(text);
            return true;
        }
        matches!(verb, 'v' | 's' | 'x' | 'X' | 'q') && self.fmt_string(text, verb)
    }

    /// Go's `fmtPointer` for a pointer-like value at address `addr`; false for a bad verb.
    fn fmt_pointer(&mut self, addr: u64, is_nil: bool, ty: &str, verb: char) -> bool {
        match verb {
            'v' if self.fl.sharp_v => {
                self.buf.push('(');
                self.buf.push_str(ty);
                self.buf.push_str(")(");
                if is_nil {
                    self.buf.push_str("nil");
                } else {
                    self.fmt_0x64(addr, true);
                }
                self.buf.push(')');
            }
            'v' if is_nil => self.pad("<nil>"),
            'v' | 'p' => self.fmt_0x64(addr, !self.fl.sharp),
            'b' | 'o' | 'd' | 'x' | 'X' => return self.fmt_int(addr, false, verb),
            _ => return false,
        }
        true
    }

    /// `%p` of a top-level operand.
    fn fmt_pointer_top(&mut self, v: &Value) {
        let addr = match v {
            Value::List(l) if l.nil => 0,
            Value::Map(m) if m.nil => 0,
            Value::List(l) => Arc::as_ptr(l).addr() as u64,
            Value::Map(m) => Arc::as_ptr(m).addr() as u64,
            Value::Ptr(s) => Arc::as_ptr(s).addr() as u64,
            Value::Func(_) => 0,
            _ => return self.bad_verb('p', None, v),
        };
        self.fmt_0x64(addr, !self.fl.sharp);
    }

    fn print_ptr(&mut self, s: &Struct, verb: char, depth: usize) -> bool {
        // Go prints `&{…}` only at depth 0 and an address below; we print `&{…}` for every verb
        // that would print the address, and keep Go's output for the others.
        if depth > 0 && verb == 'p' {
            self.fmt_0x64(std::ptr::from_ref(s).addr() as u64, !self.fl.sharp);
            return true;
        }
        if depth > 0 && !matches!(verb, 'v' | 'b' | 'o' | 'd' | 'x' | 'X') {
            return false;
        }
        self.buf.push('&');
        self.print_struct(s, verb, depth + 1)
    }

    fn print_list(&mut self, l: &List, verb: char, depth: usize) -> bool {
        let elem = l.elem_type();
        if self.fl.sharp_v {
            self.buf.push_str(&l.ty.to_string());
            if l.nil {
                self.buf.push_str("(nil)");
                return true;
            }
            self.buf.push('{');
            for (i, item) in l.items.iter().enumerate() {
                if self.buf.is_over() {
                    return true;
                }
                if i > 0 {
                    self.buf.push_str(", ");
                }
                self.print_elem(item, elem, verb, depth + 1);
            }
            self.buf.push('}');
        } else {
            self.buf.push('[');
            for (i, item) in l.items.iter().enumerate() {
                if self.buf.is_over() {
                    return true;
                }
                if i > 0 {
                    self.buf.push(' ');
                }
                self.print_elem(item, elem, verb, depth + 1);
            }
            self.buf.push(']');
        }
        true
    }

    fn print_map(&mut self, m: &Map, verb: char, depth: usize) -> bool {
        let sharp_v = self.fl.sharp_v;
        if sharp_v {
            self.buf.push_str(&m.ty.to_string());
            if m.nil {
                self.buf.push_str("(nil)");
                return true;
            }
            self.buf.push('{');
        } else {
            self.buf.push_str("map[");
        }
        let elem = m.elem_type();
        for (i, (k, v)) in m.entries.iter().enumerate() {
            if self.buf.is_over() {
                return true;
            }
            if i > 0 {
                self.buf.push_str(if sharp_v { ", " } else { " " });
            }
            if !self.fmt_string(k, verb) {
                self.bad_verb(verb, None, &Value::String(k.clone()));
            }
            self.buf.push(':');
            self.print_elem(v, elem, verb, depth + 1);
        }
        self.buf.push(if sharp_v { '}' } else { ']' });
        true
    }

    fn print_struct(&mut self, s: &Struct, verb: char, depth: usize) -> bool {
        let sharp_v = self.fl.sharp_v;
        if sharp_v {
            self.buf.push_str(&s.ty.name);
        }
        self.buf.push('{');
        for (i, ((name, ty), v)) in s.ty.fields.iter().zip(&s.fields).enumerate() {
            if self.buf.is_over() {
                return true;
            }
            if i > 0 {
                self.buf.push_str(if sharp_v { ", " } else { " " });
            }
            if self.fl.plus_v || sharp_v {
                self.buf.push_str(name);
                self.buf.push(':');
            }
            self.print_elem(v, ty, verb, depth + 1);
        }
        self.buf.push('}');
        true
    }
}

/// The type name for a nil in a slot of static type `ty` (`interface {}` for untyped slots).
fn ty_or_any(ty: &Type) -> String {
    match ty {
        Type::Reflect => Type::Any.to_string(),
        _ => ty.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Printf format strings (Go's doPrintf).

/// Values above this are treated as garbage by Go's number parser.
const TOO_LARGE: i64 = 1_000_000;

fn too_large(x: i64) -> bool {
    !(-TOO_LARGE..=TOO_LARGE).contains(&x)
}

/// Parses a decimal number in `s[start..end]`: (value, found, index after it). An absurdly long
/// number consumes the rest of the format, as in Go.
fn parse_num(s: &[u8], start: usize, end: usize) -> (i64, bool, usize) {
    if start >= end {
        return (0, false, end);
    }
    let (mut num, mut found, mut i) = (0i64, false, start);
    while i < end && s[i].is_ascii_digit() {
        if too_large(num) {
            return (0, false, end);
        }
        num = num * 10 + i64::from(s[i] - b'0');
        found = true;
        i += 1;
    }
    (num, found, i)
}

/// A width or precision taken from an argument (`*`): (value, ok, next argument index).
fn int_from_arg(args: &[Value], arg_num: usize) -> (i64, bool, usize) {
    let Some(arg) = args.get(arg_num) else {
        return (0, false, arg_num);
    };
    let (num, ok) = match arg {
        Value::Int(n) => (*n, true),
        Value::Uint(u) => i64::try_from(*u).map_or((0, false), |n| (n, true)),
        _ => (0, false),
    };
    if too_large(num) {
        return (0, false, arg_num + 1);
    }
    (num, ok, arg_num + 1)
}

/// State of the format-string scan.
struct Scan<'a> {
    fmt: &'a [u8],
    i: usize,
    arg_num: usize,
    nargs: usize,
    reordered: bool,
    good_arg_num: bool,
    after_index: bool,
}

impl Scan<'_> {
    /// Parses `[n]` at the cursor, if any, selecting argument n (1-based).
    fn arg_number(&mut self) {
        self.after_index = false;
        if self.fmt.get(self.i) != Some(&b'[') {
            return;
        }
        self.reordered = true;
        let rest = &self.fmt[self.i..];
        let (index, wid, ok) = match rest.iter().position(|&c| c == b']') {
            Some(close) if rest.len() >= 3 => match parse_num(rest, 1, close) {
                (n, true, next) if next == close => (n - 1, close + 1, true),
                _ => (0, close + 1, false),
            },
            _ => (0, 1, false),
        };
        self.i += wid;
        if ok && 0 <= index && (index as usize) < self.nargs {
            self.arg_num = index as usize;
            self.after_index = true;
        } else {
            self.good_arg_num = false;
            self.after_index = ok;
        }
    }
}

impl Printer {
    fn do_printf(&mut self, format: &str, args: &[Value]) {
        let fb = format.as_bytes();
        let mut sc = Scan {
            fmt: fb,
            i: 0,
            arg_num: 0,
            nargs: args.len(),
            reordered: false,
            good_arg_num: true,
            after_index: false,
        };
        while sc.i < fb.len() && !self.buf.is_over() {
            sc.good_arg_num = true;
            let start = sc.i;
            while sc.i < fb.len() && fb[sc.i] != b'%' {
                sc.i += 1;
            }
            self.buf.push_str(&format[start..sc.i]);
            if sc.i >= fb.len() {
                break;
            }
            sc.i += 1;
            self.clear_flags();
            self.parse_flags(&mut sc);
            sc.arg_number();
            self.parse_width(&mut sc, args);
            self.parse_precision(&mut sc, args);
            if !sc.after_index {
                sc.arg_number();
            }
            let Some(verb) = format[sc.i..].chars().next() else {
                self.buf.push_str("%!(NOVERB)");
                break;
            };
            sc.i += verb.len_utf8();
            self.print_verb(&mut sc, verb, args);
        }
        if !sc.reordered && sc.arg_num < args.len() {
            self.write_extra(&args[sc.arg_num..]);
        }
    }

    fn parse_flags(&mut self, sc: &mut Scan) {
        while let Some(&c) = sc.fmt.get(sc.i) {
            match c {
                b'#' => self.fl.sharp = true,
                b'0' => self.fl.zero = !self.fl.minus, // only pad with zeros on the left
                b'+' => self.fl.plus = true,
                b'-' => {
                    self.fl.minus = true;
                    self.fl.zero = false;
                }
                b' ' => self.fl.space = true,
                _ => return,
            }
            sc.i += 1;
        }
    }

    fn parse_width(&mut self, sc: &mut Scan, args: &[Value]) {
        if sc.fmt.get(sc.i) == Some(&b'*') {
            sc.i += 1;
            let (n, ok, next) = int_from_arg(args, sc.arg_num);
            sc.arg_num = next;
            self.fl.wid_present = ok;
            if !ok {
                self.buf.push_str("%!(BADWIDTH)");
            }
            self.wid = n.unsigned_abs() as usize;
            if n < 0 {
                self.fl.minus = true;
                self.fl.zero = false;
            }
            sc.after_index = false;
        } else {
            let (n, ok, next) = parse_num(sc.fmt, sc.i, sc.fmt.len());
            self.wid = n as usize;
            self.fl.wid_present = ok;
            sc.i = next;
            if sc.after_index && ok {
                sc.good_arg_num = false; // "%[3]2d"
            }
        }
    }

    fn parse_precision(&mut self, sc: &mut Scan, args: &[Value]) {
        if sc.i + 1 >= sc.fmt.len() || sc.fmt[sc.i] != b'.' {
            return;
        }
        sc.i += 1;
        if sc.after_index {
            sc.good_arg_num = false; // "%[3].2d"
        }
        sc.arg_number();
        if sc.fmt.get(sc.i) == Some(&b'*') {
            sc.i += 1;
            let (n, ok, next) = int_from_arg(args, sc.arg_num);
            sc.arg_num = next;
            self.prec = usize::try_from(n).unwrap_or(0);
            self.fl.prec_present = ok && n >= 0;
            if !self.fl.prec_present {
                self.buf.push_str("%!(BADPREC)");
            }
            sc.after_index = false;
        } else {
            let (n, _, next) = parse_num(sc.fmt, sc.i, sc.fmt.len());
            self.prec = n as usize;
            self.fl.prec_present = true; // "%.d" means precision 0
            sc.i = next;
        }
    }

    fn print_verb(&mut self, sc: &mut Scan, verb: char, args: &[Value]) {
        if verb == '%' {
            self.buf.push('%'); // absorbs no operand, ignores width and precision
        } else if !sc.good_arg_num {
            self.buf.push_str("%!");
            self.buf.push(verb);
            self.buf.push_str("(BADINDEX)");
        } else if sc.arg_num >= args.len() {
            self.buf.push_str("%!");
            self.buf.push(verb);
            self.buf.push_str("(MISSING)");
        } else {
            if verb == 'v' {
                self.fl.sharp_v = std::mem::take(&mut self.fl.sharp);
                self.fl.plus_v = std::mem::take(&mut self.fl.plus);
            }
            self.print_arg(&args[sc.arg_num], verb);
            sc.arg_num += 1;
        }
    }

    /// `%!(EXTRA type=value, …)` for operands the format did not use.
    fn write_extra(&mut self, extra: &[Value]) {
        self.clear_flags();
        self.buf.push_str("%!(EXTRA ");
        for (i, arg) in extra.iter().enumerate() {
            if i > 0 {
                self.buf.push_str(", ");
            }
            if matches!(arg, Value::Nil | Value::Missing) {
                self.buf.push_str("<nil>");
            } else {
                self.buf.push_str(&arg.type_name());
                self.buf.push('=');
                self.print_arg(arg, 'v');
            }
        }
        self.buf.push(')');
    }
}

// ---------------------------------------------------------------------------------------------
// strconv: quoting.

/// `strconv.Quote`: a double-quoted Go string literal; non-printable runes are escaped.
pub fn quote(s: &str) -> String {
    quote_with(s, '"', false)
}

/// `strconv.QuoteRune`: a single-quoted Go character literal.
pub fn quote_rune(r: char) -> String {
    let mut s = String::new();
    quote_rune_into(&mut s, r, false);
    s
}

fn quote_rune_into(buf: &mut impl Sink, r: char, ascii_only: bool) {
    buf.push('\'');
    escape_rune(buf, r, '\'', ascii_only);
    buf.push('\'');
}

/// `strconv.Quote` (or `QuoteToASCII` when `ascii_only`) with the given quote character.
fn quote_with(s: &str, quote: char, ascii_only: bool) -> String {
    let mut buf = String::with_capacity(s.len() + 2);
    quote_into(&mut buf, s, quote, ascii_only);
    buf
}

fn quote_into(buf: &mut impl Sink, s: &str, quote: char, ascii_only: bool) {
    buf.push(quote);
    for r in s.chars() {
        escape_rune(buf, r, quote, ascii_only);
    }
    buf.push(quote);
}

fn escape_rune(buf: &mut impl Sink, r: char, quote: char, ascii_only: bool) {
    if r == quote || r == '\\' {
        buf.push('\\');
        buf.push(r);
        return;
    }
    if is_print(r) && (r.is_ascii() || !ascii_only) {
        buf.push(r);
        return;
    }
    let esc = match r {
        '\x07' => "\\a",
        '\x08' => "\\b",
        '\x0c' => "\\f",
        '\n' => "\\n",
        '\r' => "\\r",
        '\t' => "\\t",
        '\x0b' => "\\v",
        _ => "",
    };
    if !esc.is_empty() {
        buf.push_str(esc);
        return;
    }
    let c = u32::from(r);
    let (prefix, width) = match c {
        0..0x20 | 0x7f => ("\\x", 2),
        0..0x10000 => ("\\u", 4),
        _ => ("\\U", 8),
    };
    buf.push_str(prefix);
    buf.push_str(&format!("{c:0width$x}"));
}

/// `strconv.CanBackquote`: whether `s` can be written as a raw string literal unchanged.
fn can_backquote(s: &str) -> bool {
    s.chars().all(|c| {
        if c.len_utf8() > 1 {
            return c != '\u{FEFF}';
        }
        (c >= ' ' || c == '\t') && c != '`' && c != '\x7f'
    })
}

/// `strconv.IsPrint` (= `unicode.IsPrint`): letters, marks, numbers, punctuation, symbols and
/// the ASCII space, as of Unicode 13.0.0 (Go 1.19). Exact: `PRINT_RANGES` was generated by
/// running Go's `unicode.IsPrint` over every code point (and checked against `strconv.IsPrint`).
pub fn is_print(r: char) -> bool {
    let c = u32::from(r);
    if c < 0x100 {
        return (0x20..=0x7e).contains(&c) || ((0xa1..=0xff).contains(&c) && c != 0xad);
    }
    // Inclusive ranges as a flat sorted list of (start, end) pairs: an odd count of bounds
    // below `c` means `c` is inside a range; otherwise it must equal the next range's start.
    let i = PRINT_RANGES.partition_point(|&x| x < c);
    i % 2 == 1 || PRINT_RANGES.get(i) == Some(&c)
}

// ---------------------------------------------------------------------------------------------
// strconv: FormatFloat.

/// `strconv.FormatFloat(f, fmt, prec, 64)` for `fmt` in `e E f g G` (and `b x X`); `prec` -1
/// asks for the fewest digits that read back as `f`.
pub fn format_float(f: f64, fmt: u8, prec: i32) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-Inf" } else { "+Inf" }.to_string();
    }
    let neg = f.is_sign_negative();
    match fmt {
        b'b' => return fmt_b(f),
        b'x' | b'X' => return fmt_x(f, fmt, prec),
        b'e' | b'E' | b'f' | b'g' | b'G' => {}
        _ => return format!("%{}", char::from(fmt)),
    }
    let abs = f.abs();
    let shortest = prec < 0;
    let (d, prec) = if shortest {
        let d = Decimal::shortest(abs);
        let (nd, dp) = (d.nd(), d.dp);
        let prec = match fmt {
            b'e' | b'E' => (nd - 1).max(0),
            b'f' => (nd - dp).max(0),
            _ => nd,
        };
        (d, prec)
    } else {
        match fmt {
            b'e' | b'E' => (Decimal::significant(abs, prec + 1), prec),
            b'f' => (Decimal::fixed(abs, prec), prec),
            _ => (Decimal::significant(abs, prec.max(1)), prec.max(1)),
        }
    };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    match fmt {
        b'e' | b'E' => d.fmt_e(&mut out, prec, fmt),
        b'f' => d.fmt_f(&mut out, prec),
        _ => d.fmt_g(&mut out, prec, fmt, shortest),
    }
    out
}

/// A decimal number `0.d1d2…dn × 10^dp`, without trailing zeros (no digits for zero).
struct Decimal {
    digits: Vec<u8>,
    dp: i32,
}

impl Decimal {
    /// Parses Rust's `{:e}` output (`1.2345e-7`).
    fn from_sci(s: &str) -> Decimal {
        let (mant, exp) = s.split_once('e').unwrap_or((s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let digits = mant.bytes().filter(u8::is_ascii_digit).collect();
        Decimal { digits, dp: exp + 1 }.trimmed()
    }

    /// Parses Rust's `{:.N}` output (`0.00120`).
    fn from_fixed(s: &str) -> Decimal {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits: Vec<u8> = int.bytes().chain(frac.bytes()).collect();
        let lead = digits.iter().take_while(|&&c| c == b'0').count();
        Decimal { digits: digits[lead..].to_vec(), dp: int.len() as i32 - lead as i32 }.trimmed()
    }

    fn trimmed(mut self) -> Decimal {
        while self.digits.last() == Some(&b'0') {
            self.digits.pop();
        }
        if self.digits.is_empty() {
            self.dp = 0;
        }
        self
    }

    /// The shortest digits that uniquely identify `abs`.
    fn shortest(abs: f64) -> Decimal {
        let d = Decimal::from_sci(&format!("{abs:e}"));
        // When `abs` lies exactly halfway between two shortest candidates, Rust picks the
        // upper one and Go the even one: the correctly rounded (half-to-even) digits of the
        // same length are Go's choice, provided they still read back as `abs`.
        if d.digits.last().is_some_and(|&c| (c - b'0') % 2 == 1) {
            let even = format!("{abs:.*e}", d.digits.len() - 1);
            if even.parse::<f64>() == Ok(abs) {
                return Decimal::from_sci(&even);
            }
        }
        d
    }

    /// `abs` correctly rounded to `n` significant digits. An f64's exact decimal expansion has
    /// at most 767 significant digits, so asking for more only adds zeros, which are trimmed
    /// anyway; the cap also keeps Rust's formatter within its precision range (found by fuzzing:
    /// `%.237654g`).
    fn significant(abs: f64, n: i32) -> Decimal {
        Decimal::from_sci(&format!("{abs:.*e}", (n - 1).clamp(0, 800) as usize))
    }

    /// `abs` correctly rounded to `prec` digits after the decimal point (an f64 has at most 1074
    /// of them, so the same cap applies).
    fn fixed(abs: f64, prec: i32) -> Decimal {
        Decimal::from_fixed(&format!("{abs:.*}", prec.clamp(0, 1100) as usize))
    }

    fn nd(&self) -> i32 {
        self.digits.len() as i32
    }

    fn digit(&self, i: i32) -> char {
        usize::try_from(i).ok().and_then(|i| self.digits.get(i)).map_or('0', |&c| char::from(c))
    }

    /// `%e`: `d.ddde±dd` with `prec` digits after the point.
    fn fmt_e(&self, out: &mut String, prec: i32, fmt: u8) {
        out.push(self.digit(0));
        if prec > 0 {
            out.push('.');
            out.extend((1..=prec).map(|i| self.digit(i)));
        }
        out.push(char::from(fmt));
        let exp = if self.digits.is_empty() { 0 } else { self.dp - 1 };
        out.push(if exp < 0 { '-' } else { '+' });
        let exp = exp.unsigned_abs();
        if exp < 10 {
            out.push('0');
        }
        out.push_str(&exp.to_string());
    }

    /// `%f`: `ddd.ddd` with `prec` digits after the point.
    fn fmt_f(&self, out: &mut String, prec: i32) {
        if self.dp > 0 {
            out.extend((0..self.dp).map(|i| self.digit(i)));
        } else {
            out.push('0');
        }
        if prec > 0 {
            out.push('.');
            out.extend((0..prec).map(|i| self.digit(self.dp + i)));
        }
    }

    /// `%g`: `%e` for large or small exponents, `%f` otherwise, without trailing zeros.
    fn fmt_g(&self, out: &mut String, prec: i32, fmt: u8, shortest: bool) {
        let nd = self.nd();
        let mut eprec = prec;
        if eprec > nd && nd >= self.dp {
            eprec = nd;
        }
        // %e is used if the exponent from the conversion is less than -4 or greater than or
        // equal to the precision; shortest output uses precision 6 for this decision.
        if shortest {
            eprec = 6;
        }
        let exp = self.dp - 1;
        if exp < -4 || exp >= eprec {
            self.fmt_e(out, prec.min(nd) - 1, fmt + b'e' - b'g');
        } else {
            let prec = if prec > self.dp { nd } else { prec };
            self.fmt_f(out, (prec - self.dp).max(0));
        }
    }
}

/// `%b` of a float: decimal mantissa and binary exponent, `4503599627370496p-52`.
fn fmt_b(f: f64) -> String {
    let (neg, mant, exp) = float_parts(f);
    let sign = if neg { "-" } else { "" };
    let exp = exp - 52;
    let exp_sign = if exp >= 0 { "+" } else { "" };
    format!("{sign}{mant}p{exp_sign}{exp}")
}

/// Sign, integer mantissa (with the implicit bit) and unbiased exponent of a finite float.
fn float_parts(f: f64) -> (bool, u64, i32) {
    let bits = f.to_bits();
    let neg = bits >> 63 != 0;
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let mant = bits & ((1 << 52) - 1);
    if exp == 0 {
        (neg, mant, 1 - 1023) // subnormal
    } else {
        (neg, mant | (1 << 52), exp - 1023)
    }
}

/// `%x` of a float: `-0x1.23abcp+20`; `prec` hex digits after the point, -1 for as many as
/// needed.
fn fmt_x(f: f64, fmt: u8, prec: i32) -> String {
    let (neg, mut mant, mut exp) = float_parts(f);
    if mant == 0 {
        exp = 0;
    }
    // Shift so the leading 1 bit sits at bit 60.
    mant <<= 60 - 52;
    while mant != 0 && mant & (1 << 60) == 0 {
        mant <<= 1;
        exp -= 1;
    }
    if (0..15).contains(&prec) {
        // Round to prec digits, half to even.
        let shift = prec as u32 * 4;
        let extra = (mant << shift) & ((1 << 60) - 1);
        mant >>= 60 - shift;
        if extra | (mant & 1) > 1 << 59 {
            mant += 1;
        }
        mant <<= 60 - shift;
        if mant & (1 << 61) != 0 {
            mant >>= 1;
            exp += 1;
        }
    }
    let hex: &[u8; 16] = if fmt == b'X' { b"0123456789ABCDEF" } else { b"0123456789abcdef" };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push('0');
    out.push(char::from(fmt));
    out.push(if (mant >> 60) & 1 == 1 { '1' } else { '0' });
    mant <<= 4; // drop the leading digit
    let ndigits = if prec < 0 {
        if mant == 0 {
            0
        } else {
            15
        }
    } else {
        prec
    };
    if ndigits > 0 {
        out.push('.');
        for _ in 0..ndigits {
            if prec < 0 && mant == 0 {
                break;
            }
            out.push(char::from(hex[(mant >> 60) as usize & 15]));
            mant <<= 4;
        }
    }
    out.push(if fmt == b'X' { 'P' } else { 'p' });
    out.push(if exp < 0 { '-' } else { '+' });
    let exp = exp.unsigned_abs();
    if exp < 10 {
        out.push('0');
    }
    out.push_str(&exp.to_string());
    out
}

// ---------------------------------------------------------------------------------------------
// Tables.

/// Printable code points from U+0100 up, as inclusive (start, end) pairs; generated from Go 1.19's
/// `unicode.IsPrint`.
const PRINT_RANGES: &[u32] = &[
    0x100, 0x377, 0x37a, 0x37f, 0x384, 0x38a, 0x38c, 0x38c, 0x38e, 0x3a1, 0x3a3, 0x52f, 0x531,
    0x556, 0x559, 0x58a, 0x58d, 0x58f, 0x591, 0x5c7, 0x5d0, 0x5ea, 0x5ef, 0x5f4, 0x606, 0x61b,
    0x61e, 0x6dc, 0x6de, 0x70d, 0x710, 0x74a, 0x74d, 0x7b1, 0x7c0, 0x7fa, 0x7fd, 0x82d, 0x830,
    0x83e, 0x840, 0x85b, 0x85e, 0x85e, 0x860, 0x86a, 0x8a0, 0x8b4, 0x8b6, 0x8c7, 0x8d3, 0x8e1,
    0x8e3, 0x983, 0x985, 0x98c, 0x98f, 0x990, 0x993, 0x9a8, 0x9aa, 0x9b0, 0x9b2, 0x9b2, 0x9b6,
    0x9b9, 0x9bc, 0x9c4, 0x9c7, 0x9c8, 0x9cb, 0x9ce, 0x9d7, 0x9d7, 0x9dc, 0x9dd, 0x9df, 0x9e3,
    0x9e6, 0x9fe, 0xa01, 0xa03, 0xa05, 0xa0a, 0xa0f, 0xa10, 0xa13, 0xa28, 0xa2a, 0xa30, 0xa32,
    0xa33, 0xa35, 0xa36, 0xa38, 0xa39, 0xa3c, 0xa3c, 0xa3e, 0xa42, 0xa47, 0xa48, 0xa4b, 0xa4d,
    0xa51, 0xa51, 0xa59, 0xa5c, 0xa5e, 0xa5e, 0xa66, 0xa76, 0xa81, 0xa83, 0xa85, 0xa8d, 0xa8f,
    0xa91, 0xa93, 0xaa8, 0xaaa, 0xab0, 0xab2, 0xab3, 0xab5, 0xab9, 0xabc, 0xac5, 0xac7, 0xac9,
    0xacb, 0xacd, 0xad0, 0xad0, 0xae0, 0xae3, 0xae6, 0xaf1, 0xaf9, 0xaff, 0xb01, 0xb03, 0xb05,
    0xb0c, 0xb0f, 0xb10, 0xb13, 0xb28, 0xb2a, 0xb30, 0xb32, 0xb33, 0xb35, 0xb39, 0xb3c, 0xb44,
    0xb47, 0xb48, 0xb4b, 0xb4d, 0xb55, 0xb57, 0xb5c, 0xb5d, 0xb5f, 0xb63, 0xb66, 0xb77, 0xb82,
    0xb83, 0xb85, 0xb8a, 0xb8e, 0xb90, 0xb92, 0xb95, 0xb99, 0xb9a, 0xb9c, 0xb9c, 0xb9e, 0xb9f,
    0xba3, 0xba4, 0xba8, 0xbaa, 0xbae, 0xbb9, 0xbbe, 0xbc2, 0xbc6, 0xbc8, 0xbca, 0xbcd, 0xbd0,
    0xbd0, 0xbd7, 0xbd7, 0xbe6, 0xbfa, 0xc00, 0xc0c, 0xc0e, 0xc10, 0xc12, 0xc28, 0xc2a, 0xc39,
    0xc3d, 0xc44, 0xc46, 0xc48, 0xc4a, 0xc4d, 0xc55, 0xc56, 0xc58, 0xc5a, 0xc60, 0xc63, 0xc66,
    0xc6f, 0xc77, 0xc8c, 0xc8e, 0xc90, 0xc92, 0xca8, 0xcaa, 0xcb3, 0xcb5, 0xcb9, 0xcbc, 0xcc4,
    0xcc6, 0xcc8, 0xcca, 0xccd, 0xcd5, 0xcd6, 0xcde, 0xcde, 0xce0, 0xce3, 0xce6, 0xcef, 0xcf1,
    0xcf2, 0xd00, 0xd0c, 0xd0e, 0xd10, 0xd12, 0xd44, 0xd46, 0xd48, 0xd4a, 0xd4f, 0xd54, 0xd63,
    0xd66, 0xd7f, 0xd81, 0xd83, 0xd85, 0xd96, 0xd9a, 0xdb1, 0xdb3, 0xdbb, 0xdbd, 0xdbd, 0xdc0,
    0xdc6, 0xdca, 0xdca, 0xdcf, 0xdd4, 0xdd6, 0xdd6, 0xdd8, 0xddf, 0xde6, 0xdef, 0xdf2, 0xdf4,
    0xe01, 0xe3a, 0xe3f, 0xe5b, 0xe81, 0xe82, 0xe84, 0xe84, 0xe86, 0xe8a, 0xe8c, 0xea3, 0xea5,
    0xea5, 0xea7, 0xebd, 0xec0, 0xec4, 0xec6, 0xec6, 0xec8, 0xecd, 0xed0, 0xed9, 0xedc, 0xedf,
    0xf00, 0xf47, 0xf49, 0xf6c, 0xf71, 0xf97, 0xf99, 0xfbc, 0xfbe, 0xfcc, 0xfce, 0xfda, 0x1000,
    0x10c5, 0x10c7, 0x10c7, 0x10cd, 0x10cd, 0x10d0, 0x1248, 0x124a, 0x124d, 0x1250, 0x1256, 0x1258,
    0x1258, 0x125a, 0x125d, 0x1260, 0x1288, 0x128a, 0x128d, 0x1290, 0x12b0, 0x12b2, 0x12b5, 0x12b8,
    0x12be, 0x12c0, 0x12c0, 0x12c2, 0x12c5, 0x12c8, 0x12d6, 0x12d8, 0x1310, 0x1312, 0x1315, 0x1318,
    0x135a, 0x135d, 0x137c, 0x1380, 0x1399, 0x13a0, 0x13f5, 0x13f8, 0x13fd, 0x1400, 0x167f, 0x1681,
    0x169c, 0x16a0, 0x16f8, 0x1700, 0x170c, 0x170e, 0x1714, 0x1720, 0x1736, 0x1740, 0x1753, 0x1760,
    0x176c, 0x176e, 0x1770, 0x1772, 0x1773, 0x1780, 0x17dd, 0x17e0, 0x17e9, 0x17f0, 0x17f9, 0x1800,
    0x180d, 0x1810, 0x1819, 0x1820, 0x1878, 0x1880, 0x18aa, 0x18b0, 0x18f5, 0x1900, 0x191e, 0x1920,
    0x192b, 0x1930, 0x193b, 0x1940, 0x1940, 0x1944, 0x196d, 0x1970, 0x1974, 0x1980, 0x19ab, 0x19b0,
    0x19c9, 0x19d0, 0x19da, 0x19de, 0x1a1b, 0x1a1e, 0x1a5e, 0x1a60, 0x1a7c, 0x1a7f, 0x1a89, 0x1a90,
    0x1a99, 0x1aa0, 0x1aad, 0x1ab0, 0x1ac0, 0x1b00, 0x1b4b, 0x1b50, 0x1b7c, 0x1b80, 0x1bf3, 0x1bfc,
    0x1c37, 0x1c3b, 0x1c49, 0x1c4d, 0x1c88, 0x1c90, 0x1cba, 0x1cbd, 0x1cc7, 0x1cd0, 0x1cfa, 0x1d00,
    0x1df9, 0x1dfb, 0x1f15, 0x1f18, 0x1f1d, 0x1f20, 0x1f45, 0x1f48, 0x1f4d, 0x1f50, 0x1f57, 0x1f59,
    0x1f59, 0x1f5b, 0x1f5b, 0x1f5d, 0x1f5d, 0x1f5f, 0x1f7d, 0x1f80, 0x1fb4, 0x1fb6, 0x1fc4, 0x1fc6,
    0x1fd3, 0x1fd6, 0x1fdb, 0x1fdd, 0x1fef, 0x1ff2, 0x1ff4, 0x1ff6, 0x1ffe, 0x2010, 0x2027, 0x2030,
    0x205e, 0x2070, 0x2071, 0x2074, 0x208e, 0x2090, 0x209c, 0x20a0, 0x20bf, 0x20d0, 0x20f0, 0x2100,
    0x218b, 0x2190, 0x2426, 0x2440, 0x244a, 0x2460, 0x2b73, 0x2b76, 0x2b95, 0x2b97, 0x2c2e, 0x2c30,
    0x2c5e, 0x2c60, 0x2cf3, 0x2cf9, 0x2d25, 0x2d27, 0x2d27, 0x2d2d, 0x2d2d, 0x2d30, 0x2d67, 0x2d6f,
    0x2d70, 0x2d7f, 0x2d96, 0x2da0, 0x2da6, 0x2da8, 0x2dae, 0x2db0, 0x2db6, 0x2db8, 0x2dbe, 0x2dc0,
    0x2dc6, 0x2dc8, 0x2dce, 0x2dd0, 0x2dd6, 0x2dd8, 0x2dde, 0x2de0, 0x2e52, 0x2e80, 0x2e99, 0x2e9b,
    0x2ef3, 0x2f00, 0x2fd5, 0x2ff0, 0x2ffb, 0x3001, 0x303f, 0x3041, 0x3096, 0x3099, 0x30ff, 0x3105,
    0x312f, 0x3131, 0x318e, 0x3190, 0x31e3, 0x31f0, 0x321e, 0x3220, 0x9ffc, 0xa000, 0xa48c, 0xa490,
    0xa4c6, 0xa4d0, 0xa62b, 0xa640, 0xa6f7, 0xa700, 0xa7bf, 0xa7c2, 0xa7ca, 0xa7f5, 0xa82c, 0xa830,
    0xa839, 0xa840, 0xa877, 0xa880, 0xa8c5, 0xa8ce, 0xa8d9, 0xa8e0, 0xa953, 0xa95f, 0xa97c, 0xa980,
    0xa9cd, 0xa9cf, 0xa9d9, 0xa9de, 0xa9fe, 0xaa00, 0xaa36, 0xaa40, 0xaa4d, 0xaa50, 0xaa59, 0xaa5c,
    0xaac2, 0xaadb, 0xaaf6, 0xab01, 0xab06, 0xab09, 0xab0e, 0xab11, 0xab16, 0xab20, 0xab26, 0xab28,
    0xab2e, 0xab30, 0xab6b, 0xab70, 0xabed, 0xabf0, 0xabf9, 0xac00, 0xd7a3, 0xd7b0, 0xd7c6, 0xd7cb,
    0xd7fb, 0xf900, 0xfa6d, 0xfa70, 0xfad9, 0xfb00, 0xfb06, 0xfb13, 0xfb17, 0xfb1d, 0xfb36, 0xfb38,
    0xfb3c, 0xfb3e, 0xfb3e, 0xfb40, 0xfb41, 0xfb43, 0xfb44, 0xfb46, 0xfbc1, 0xfbd3, 0xfd3f, 0xfd50,
    0xfd8f, 0xfd92, 0xfdc7, 0xfdf0, 0xfdfd, 0xfe00, 0xfe19, 0xfe20, 0xfe52, 0xfe54, 0xfe66, 0xfe68,
    0xfe6b, 0xfe70, 0xfe74, 0xfe76, 0xfefc, 0xff01, 0xffbe, 0xffc2, 0xffc7, 0xffca, 0xffcf, 0xffd2,
    0xffd7, 0xffda, 0xffdc, 0xffe0, 0xffe6, 0xffe8, 0xffee, 0xfffc, 0xfffd, 0x10000, 0x1000b,
    0x1000d, 0x10026, 0x10028, 0x1003a, 0x1003c, 0x1003d, 0x1003f, 0x1004d, 0x10050, 0x1005d,
    0x10080, 0x100fa, 0x10100, 0x10102, 0x10107, 0x10133, 0x10137, 0x1018e, 0x10190, 0x1019c,
    0x101a0, 0x101a0, 0x101d0, 0x101fd, 0x10280, 0x1029c, 0x102a0, 0x102d0, 0x102e0, 0x102fb,
    0x10300, 0x10323, 0x1032d, 0x1034a, 0x10350, 0x1037a, 0x10380, 0x1039d, 0x1039f, 0x103c3,
    0x103c8, 0x103d5, 0x10400, 0x1049d, 0x104a0, 0x104a9, 0x104b0, 0x104d3, 0x104d8, 0x104fb,
    0x10500, 0x10527, 0x10530, 0x10563, 0x1056f, 0x1056f, 0x10600, 0x10736, 0x10740, 0x10755,
    0x10760, 0x10767, 0x10800, 0x10805, 0x10808, 0x10808, 0x1080a, 0x10835, 0x10837, 0x10838,
    0x1083c, 0x1083c, 0x1083f, 0x10855, 0x10857, 0x1089e, 0x108a7, 0x108af, 0x108e0, 0x108f2,
    0x108f4, 0x108f5, 0x108fb, 0x1091b, 0x1091f, 0x10939, 0x1093f, 0x1093f, 0x10980, 0x109b7,
    0x109bc, 0x109cf, 0x109d2, 0x10a03, 0x10a05, 0x10a06, 0x10a0c, 0x10a13, 0x10a15, 0x10a17,
    0x10a19, 0x10a35, 0x10a38, 0x10a3a, 0x10a3f, 0x10a48, 0x10a50, 0x10a58, 0x10a60, 0x10a9f,
    0x10ac0, 0x10ae6, 0x10aeb, 0x10af6, 0x10b00, 0x10b35, 0x10b39, 0x10b55, 0x10b58, 0x10b72,
    0x10b78, 0x10b91, 0x10b99, 0x10b9c, 0x10ba9, 0x10baf, 0x10c00, 0x10c48, 0x10c80, 0x10cb2,
    0x10cc0, 0x10cf2, 0x10cfa, 0x10d27, 0x10d30, 0x10d39, 0x10e60, 0x10e7e, 0x10e80, 0x10ea9,
    0x10eab, 0x10ead, 0x10eb0, 0x10eb1, 0x10f00, 0x10f27, 0x10f30, 0x10f59, 0x10fb0, 0x10fcb,
    0x10fe0, 0x10ff6, 0x11000, 0x1104d, 0x11052, 0x1106f, 0x1107f, 0x110bc, 0x110be, 0x110c1,
    0x110d0, 0x110e8, 0x110f0, 0x110f9, 0x11100, 0x11134, 0x11136, 0x11147, 0x11150, 0x11176,
    0x11180, 0x111df, 0x111e1, 0x111f4, 0x11200, 0x11211, 0x11213, 0x1123e, 0x11280, 0x11286,
    0x11288, 0x11288, 0x1128a, 0x1128d, 0x1128f, 0x1129d, 0x1129f, 0x112a9, 0x112b0, 0x112ea,
    0x112f0, 0x112f9, 0x11300, 0x11303, 0x11305, 0x1130c, 0x1130f, 0x11310, 0x11313, 0x11328,
    0x1132a, 0x11330, 0x11332, 0x11333, 0x11335, 0x11339, 0x1133b, 0x11344, 0x11347, 0x11348,
    0x1134b, 0x1134d, 0x11350, 0x11350, 0x11357, 0x11357, 0x1135d, 0x11363, 0x11366, 0x1136c,
    0x11370, 0x11374, 0x11400, 0x1145b, 0x1145d, 0x11461, 0x11480, 0x114c7, 0x114d0, 0x114d9,
    0x11580, 0x115b5, 0x115b8, 0x115dd, 0x11600, 0x11644, 0x11650, 0x11659, 0x11660, 0x1166c,
    0x11680, 0x116b8, 0x116c0, 0x116c9, 0x11700, 0x1171a, 0x1171d, 0x1172b, 0x11730, 0x1173f,
    0x11800, 0x1183b, 0x118a0, 0x118f2, 0x118ff, 0x11906, 0x11909, 0x11909, 0x1190c, 0x11913,
    0x11915, 0x11916, 0x11918, 0x11935, 0x11937, 0x11938, 0x1193b, 0x11946, 0x11950, 0x11959,
    0x119a0, 0x119a7, 0x119aa, 0x119d7, 0x119da, 0x119e4, 0x11a00, 0x11a47, 0x11a50, 0x11aa2,
    0x11ac0, 0x11af8, 0x11c00, 0x11c08, 0x11c0a, 0x11c36, 0x11c38, 0x11c45, 0x11c50, 0x11c6c,
    0x11c70, 0x11c8f, 0x11c92, 0x11ca7, 0x11ca9, 0x11cb6, 0x11d00, 0x11d06, 0x11d08, 0x11d09,
    0x11d0b, 0x11d36, 0x11d3a, 0x11d3a, 0x11d3c, 0x11d3d, 0x11d3f, 0x11d47, 0x11d50, 0x11d59,
    0x11d60, 0x11d65, 0x11d67, 0x11d68, 0x11d6a, 0x11d8e, 0x11d90, 0x11d91, 0x11d93, 0x11d98,
    0x11da0, 0x11da9, 0x11ee0, 0x11ef8, 0x11fb0, 0x11fb0, 0x11fc0, 0x11ff1, 0x11fff, 0x12399,
    0x12400, 0x1246e, 0x12470, 0x12474, 0x12480, 0x12543, 0x13000, 0x1342e, 0x14400, 0x14646,
    0x16800, 0x16a38, 0x16a40, 0x16a5e, 0x16a60, 0x16a69, 0x16a6e, 0x16a6f, 0x16ad0, 0x16aed,
    0x16af0, 0x16af5, 0x16b00, 0x16b45, 0x16b50, 0x16b59, 0x16b5b, 0x16b61, 0x16b63, 0x16b77,
    0x16b7d, 0x16b8f, 0x16e40, 0x16e9a, 0x16f00, 0x16f4a, 0x16f4f, 0x16f87, 0x16f8f, 0x16f9f,
    0x16fe0, 0x16fe4, 0x16ff0, 0x16ff1, 0x17000, 0x187f7, 0x18800, 0x18cd5, 0x18d00, 0x18d08,
    0x1b000, 0x1b11e, 0x1b150, 0x1b152, 0x1b164, 0x1b167, 0x1b170, 0x1b2fb, 0x1bc00, 0x1bc6a,
    0x1bc70, 0x1bc7c, 0x1bc80, 0x1bc88, 0x1bc90, 0x1bc99, 0x1bc9c, 0x1bc9f, 0x1d000, 0x1d0f5,
    0x1d100, 0x1d126, 0x1d129, 0x1d172, 0x1d17b, 0x1d1e8, 0x1d200, 0x1d245, 0x1d2e0, 0x1d2f3,
    0x1d300, 0x1d356, 0x1d360, 0x1d378, 0x1d400, 0x1d454, 0x1d456, 0x1d49c, 0x1d49e, 0x1d49f,
    0x1d4a2, 0x1d4a2, 0x1d4a5, 0x1d4a6, 0x1d4a9, 0x1d4ac, 0x1d4ae, 0x1d4b9, 0x1d4bb, 0x1d4bb,
    0x1d4bd, 0x1d4c3, 0x1d4c5, 0x1d505, 0x1d507, 0x1d50a, 0x1d50d, 0x1d514, 0x1d516, 0x1d51c,
    0x1d51e, 0x1d539, 0x1d53b, 0x1d53e, 0x1d540, 0x1d544, 0x1d546, 0x1d546, 0x1d54a, 0x1d550,
    0x1d552, 0x1d6a5, 0x1d6a8, 0x1d7cb, 0x1d7ce, 0x1da8b, 0x1da9b, 0x1da9f, 0x1daa1, 0x1daaf,
    0x1e000, 0x1e006, 0x1e008, 0x1e018, 0x1e01b, 0x1e021, 0x1e023, 0x1e024, 0x1e026, 0x1e02a,
    0x1e100, 0x1e12c, 0x1e130, 0x1e13d, 0x1e140, 0x1e149, 0x1e14e, 0x1e14f, 0x1e2c0, 0x1e2f9,
    0x1e2ff, 0x1e2ff, 0x1e800, 0x1e8c4, 0x1e8c7, 0x1e8d6, 0x1e900, 0x1e94b, 0x1e950, 0x1e959,
    0x1e95e, 0x1e95f, 0x1ec71, 0x1ecb4, 0x1ed01, 0x1ed3d, 0x1ee00, 0x1ee03, 0x1ee05, 0x1ee1f,
    0x1ee21, 0x1ee22, 0x1ee24, 0x1ee24, 0x1ee27, 0x1ee27, 0x1ee29, 0x1ee32, 0x1ee34, 0x1ee37,
    0x1ee39, 0x1ee39, 0x1ee3b, 0x1ee3b, 0x1ee42, 0x1ee42, 0x1ee47, 0x1ee47, 0x1ee49, 0x1ee49,
    0x1ee4b, 0x1ee4b, 0x1ee4d, 0x1ee4f, 0x1ee51, 0x1ee52, 0x1ee54, 0x1ee54, 0x1ee57, 0x1ee57,
    0x1ee59, 0x1ee59, 0x1ee5b, 0x1ee5b, 0x1ee5d, 0x1ee5d, 0x1ee5f, 0x1ee5f, 0x1ee61, 0x1ee62,
    0x1ee64, 0x1ee64, 0x1ee67, 0x1ee6a, 0x1ee6c, 0x1ee72, 0x1ee74, 0x1ee77, 0x1ee79, 0x1ee7c,
    0x1ee7e, 0x1ee7e, 0x1ee80, 0x1ee89, 0x1ee8b, 0x1ee9b, 0x1eea1, 0x1eea3, 0x1eea5, 0x1eea9,
    0x1eeab, 0x1eebb, 0x1eef0, 0x1eef1, 0x1f000, 0x1f02b, 0x1f030, 0x1f093, 0x1f0a0, 0x1f0ae,
    0x1f0b1, 0x1f0bf, 0x1f0c1, 0x1f0cf, 0x1f0d1, 0x1f0f5, 0x1f100, 0x1f1ad, 0x1f1e6, 0x1f202,
    0x1f210, 0x1f23b, 0x1f240, 0x1f248, 0x1f250, 0x1f251, 0x1f260, 0x1f265, 0x1f300, 0x1f6d7,
    0x1f6e0, 0x1f6ec, 0x1f6f0, 0x1f6fc, 0x1f700, 0x1f773, 0x1f780, 0x1f7d8, 0x1f7e0, 0x1f7eb,
    0x1f800, 0x1f80b, 0x1f810, 0x1f847, 0x1f850, 0x1f859, 0x1f860, 0x1f887, 0x1f890, 0x1f8ad,
    0x1f8b0, 0x1f8b1, 0x1f900, 0x1f978, 0x1f97a, 0x1f9cb, 0x1f9cd, 0x1fa53, 0x1fa60, 0x1fa6d,
    0x1fa70, 0x1fa74, 0x1fa78, 0x1fa7a, 0x1fa80, 0x1fa86, 0x1fa90, 0x1faa8, 0x1fab0, 0x1fab6,
    0x1fac0, 0x1fac2, 0x1fad0, 0x1fad6, 0x1fb00, 0x1fb92, 0x1fb94, 0x1fbca, 0x1fbf0, 0x1fbf9,
    0x20000, 0x2a6dd, 0x2a700, 0x2b734, 0x2b740, 0x2b81d, 0x2b820, 0x2cea1, 0x2ceb0, 0x2ebe0,
    0x2f800, 0x2fa1d, 0x30000, 0x3134a, 0xe0100, 0xe01ef,
];

#[cfg(test)]
mod tests {
    //! Expected strings were produced by Go 1.19.8 (`fmt.Sprintf` and friends on the Go
    //! equivalents of the values built here).

    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::func::{Function, Signature};
    use crate::value::{Object, StructType};

    fn i(n: i64) -> Value {
        Value::Int(n)
    }
    fn u(n: u64) -> Value {
        Value::Uint(n)
    }
    fn f(x: f64) -> Value {
        Value::Float(x)
    }
    fn s(x: &str) -> Value {
        Value::from(x)
    }
    fn b(x: bool) -> Value {
        Value::Bool(x)
    }
    fn nil() -> Value {
        Value::Nil
    }
    fn l(items: Vec<Value>) -> Value {
        Value::list(items)
    }
    fn sl(items: &[&str]) -> Value {
        Value::string_list(items.iter().copied())
    }
    fn nil_sl() -> Value {
        Type::slice(Type::String).zero()
    }
    fn il(items: &[i64]) -> Value {
        Value::typed_list(Type::slice(Type::Int), items.iter().map(|&n| i(n)).collect())
    }
    fn m(entries: Vec<(&str, Value)>) -> Value {
        Value::map(entries.into_iter().map(|(k, v)| (Arc::from(k), v)).collect())
    }
    fn nil_m() -> Value {
        Type::map(Type::Any).zero()
    }
    fn ms(entries: &[(&str, &str)]) -> Value {
        let entries: BTreeMap<Arc<str>, Value> =
            entries.iter().map(|&(k, v)| (Arc::from(k), s(v))).collect();
        Value::typed_map(Type::map(Type::String), entries)
    }
    fn kv_type() -> Arc<StructType> {
        StructType::new("memkv.KVPair", &[("Key", Type::String), ("Value", Type::String)])
    }
    fn kv(k: &str, v: &str) -> Value {
        Value::Struct(Arc::new(Struct { ty: kv_type(), fields: vec![s(k), s(v)] }))
    }
    fn kvs(pairs: &[(&str, &str)]) -> Value {
        let ty = Type::named_slice("memkv.KVPairs", Type::Struct(kv_type()));
        Value::typed_list(ty, pairs.iter().map(|&(k, v)| kv(k, v)).collect())
    }
    fn srv_type() -> Arc<StructType> {
        let fields = [
            ("Target", Type::String),
            ("Port", Type::Uint16),
            ("Priority", Type::Uint16),
            ("Weight", Type::Uint16),
        ];
        StructType::new("net.SRV", &fields)
    }
    fn srv(target: &str, port: u64, priority: u64, weight: u64) -> Value {
        let fields = vec![s(target), u(port), u(priority), u(weight)];
        Value::Ptr(Arc::new(Struct { ty: srv_type(), fields }))
    }
    /// A struct with nil-able fields of each kind, all nil.
    fn holder() -> Value {
        let fields = [
            ("Any", Type::Any),
            ("Ptr", Type::Ptr(Arc::new(Type::Struct(srv_type())))),
            ("List", Type::slice(Type::String)),
            ("Map", Type::map(Type::String)),
        ];
        let ty = StructType::new("memkv.Holder", &fields);
        Value::Struct(Arc::new(Struct { ty, fields: vec![nil(), nil(), nil(), nil()] }))
    }

    #[derive(Debug)]
    struct Time;

    impl Object for Time {
        fn type_name(&self) -> &str {
            "time.Time"
        }
        fn to_go_string(&self) -> String {
            "2009-11-10 23:00:00 +0000 UTC".to_string()
        }
        fn method(&self, _name: &str) -> Option<Function> {
            None
        }
    }

    fn tm() -> Value {
        Value::Object(Arc::new(Time))
    }

    #[track_caller]
    fn t(format: &str, args: &[Value], want: &str) {
        assert_eq!(sprintf(format, args), want, "format {format:?}");
    }

    #[test]
    fn ints() {
        t(
            "%d|%v|%5d|%-5d|%05d|%+d|% d|%x|%X|%#x|%#X|%o|%#o|%O|%b|%#b",
            &[
                i(42),
                i(42),
                i(42),
                i(42),
                i(-42),
                i(42),
                i(42),
                i(255),
                i(255),
                i(255),
                i(255),
                i(8),
                i(8),
                i(8),
                i(5),
                i(5),
            ],
            "42|42|   42|42   |-0042|+42| 42|ff|FF|0xff|0XFF|10|010|0o10|101|0b101",
        );
        t("%d %x %o %b", &[i(-9223372036854775808), i(-9223372036854775808), i(-9223372036854775808), i(-9223372036854775808)], "-9223372036854775808 -8000000000000000 -1000000000000000000000 -1000000000000000000000000000000000000000000000000000000000000000");
        t(
            "%d %x %X %#v %v",
            &[
                u(18446744073709551615),
                u(18446744073709551615),
                u(9223372036854775808),
                u(255),
                u(7),
            ],
            "18446744073709551615 ffffffffffffffff 8000000000000000 0xff 7",
        );
        t(
            "%08.3d|%.3d|%.0d|%5.0d|%-8.3x|%+.3d|% 05d|%+05d|%#08x|%#.3o",
            &[i(7), i(-7), i(0), i(0), i(255), i(3), i(12), i(-12), i(255), i(8)],
            "     007|-007||     |0ff     |+003| 0012|-0012|0x000000ff|010",
        );
        t(
            "%c|%c|%c|%c|%5c|%-3c|",
            &[i(65), i(19990), i(-1), i(1114112), i(120), i(121)],
            "A|\u{4e16}|\u{fffd}|\u{fffd}|    x|y  |",
        );
        t(
            "%q|%+q|%q|%q|%#q|%q",
            &[i(97), i(233), i(10), i(128512), i(39), i(127)],
            "'a'|'\\u00e9'|'\\n'|'\u{1f600}'|'\\''|'\\x7f'",
        );
        t(
            "%U|%#U|%#U|%.6U|%#10U|%-8U|%U",
            &[i(128512), i(120), i(7), i(65), i(65), i(65), i(-1)],
            "U+1F600|U+0078 'x'|U+0007|U+000041|U+0041 'A'|U+0041  |U+FFFFFFFFFFFFFFFF",
        );
        t(
            "%x|% x|%#x|%+x|%08b|%#O|%o",
            &[i(-255), i(255), i(0), i(255), i(5), i(8), i(-8)],
            "-ff| ff|0x0|+ff|00000101|0o010|-10",
        );
        t(
            "%t|%s|%e|%f|%.2f",
            &[i(1), i(2), i(3), i(4), i(5)],
            "%!t(int=1)|%!s(int=2)|%!e(int=3)|%!f(int=4)|%!f(int=05)",
        );
        t("%6.2d|%-06d|%0-6d|%06s", &[i(1), i(2), i(3), s("ab")], "    01|2     |3     |0000ab");
    }

    #[test]
    fn floats() {
        t(
            "%v|%v|%v|%v|%v|%v|%v",
            &[f(1.0), f(1e+06), f(1e+21), f(123456.0), f(1.23456789e+08), f(1e-05), f(0.0001)],
            "1|1e+06|1e+21|123456|1.23456789e+08|1e-05|0.0001",
        );
        t(
            "%v|%v|%v|%v|%v|%v",
            &[
                f(0.1),
                f(0.3333333333333333),
                f(0.6666666666666666),
                f(100.0),
                f(1e+20),
                f(1.7976931348623157e+308),
            ],
            "0.1|0.3333333333333333|0.6666666666666666|100|1e+20|1.7976931348623157e+308",
        );
        t(
            "%v|%v|%v|%v",
            &[f(5e-324), f(f64::INFINITY), f(f64::NEG_INFINITY), f(f64::NAN)],
            "5e-324|+Inf|-Inf|NaN",
        );
        t(
            "%v|%.1f|%e|%g|%+v",
            &[f(-0.0), f(-0.0), f(0.0), f(0.0), f(0.0)],
            "-0|-0.0|0.000000e+00|0|0",
        );
        t(
            "%e|%E|%.2e|%.0e|%#.0e|%10.3e|%-10.1e|",
            &[
                f(1234.5678),
                f(1234.5678),
                f(1234.5678),
                f(1234.5678),
                f(1234.5678),
                f(-1234.5678),
                f(5.0),
            ],
            "1.234568e+03|1.234568E+03|1.23e+03|1e+03|1.e+03|-1.235e+03|5.0e+00   |",
        );
        t(
            "%f|%.2f|%.0f|%.0f|%.0f|%F|%8.3f|%-8.2f|%08.3f|%+.1f",
            &[
                f(3.14259),
                f(3.14259),
                f(0.5),
                f(1.5),
                f(2.5),
                f(2.0),
                f(-3.14259),
                f(1.0),
                f(-3.14259),
                f(2.25),
            ],
            "3.142590|3.14|0|2|2|2.000000|  -3.143|1.00    |-003.143|+2.2",
        );
        t(
            "%g|%G|%.3g|%.3g|%.3g|%.10g|%g|%g|%.0g|%.1g",
            &[
                f(1234.5678),
                f(1e-07),
                f(1234.5678),
                f(100.0),
                f(0.0001234),
                f(0.3333333333333333),
                f(1e+100),
                f(1e-100),
                f(123.0),
                f(0.15),
            ],
            "1234.5678|1E-07|1.23e+03|100|0.000123|0.3333333333|1e+100|1e-100|1e+02|0.1",
        );
        t(
            "%#g|%#.3g|%#v|%#g|%#.4g|%#e|%#f|%#.0f",
            &[f(1.0), f(2.0), f(1.0), f(1.23456789e+08), f(0.00012), f(1.0), f(1.0), f(3.0)],
            "1.00000|2.00|1|1.23456789e+08|0.0001200|1.000000e+00|1.000000|3.",
        );
        t("%x|%X|%.2x|%.0x|%x|%x|%#x|%x|%.1x", &[f(1.0), f(3.0), f(0.3333333333333333), f(1.5), f(0.0), f(-0.5), f(1.0), f(5e-324), f(1.96875)], "0x1p+00|0X1.8P+01|0x1.55p-02|0x1p+01|0x0p+00|-0x1p-01|0x1.0000p+00|0x1p-1074|0x1.0p+01");
        t(
            "%b|%b|%+f|% f|% .2e|%+.3g|% g",
            &[f(1.0), f(-0.1), f(1.5), f(1.5), f(1.5), f(1.5), f(-1.5)],
            "4503599627370496p-52|-7205759403792794p-56|+1.500000| 1.500000| 1.50e+00|+1.5|-1.5",
        );
        t(
            "%5v|%-6v|%06v|%+06v|%06.1f|%+08.2f|% 08.2f",
            &[
                f(f64::INFINITY),
                f(f64::NAN),
                f(f64::NEG_INFINITY),
                f(f64::NAN),
                f(f64::NAN),
                f(3.14259),
                f(3.14259),
            ],
            " +Inf|NaN   |  -Inf|   NaN|   NaN|+0003.14| 0003.14",
        );
        t(
            "%8.3v|%08v|%-8v|%+v|% v",
            &[f(3.14259), f(-1.5), f(2.5), f(1e+06), f(1e-07)],
            "    3.14|-00001.5|2.5     |1e+06| 1e-07",
        );
        t("%.30f|%.20e|%.25g", &[f(0.1), f(0.3333333333333333), f(0.1)], "0.100000000000000005551115123126|3.33333333333333314830e-01|0.1000000000000000055511151");
        t(
            "%.3f|%.3f|%.2f|%.1f|%.1f|%.2e",
            &[f(1.0005), f(2.0005), f(1.005), f(0.05), f(0.25), f(1.125)],
            "1.000|2.001|1.00|0.1|0.2|1.12e+00",
        );
        t(
            "%d|%s|%q|%t|%c",
            &[f(1.5), f(1.5), f(1.5), f(1.5), f(1.5)],
            "%!d(float64=1.5)|%!s(float64=1.5)|%!q(float64=1.5)|%!t(float64=1.5)|%!c(float64=1.5)",
        );
        t(
            "%v|%v|%v|%v|%v",
            &[f(0.0001), f(0.001), f(99999.0), f(999999.0), f(9.999999e+06)],
            "0.0001|0.001|99999|999999|9.999999e+06",
        );
        t("%v|%v|%v|%.17g|%.18g|%v|%v", &[f(0.3), f(0.30000000000000004), f(1e+23), f(0.1), f(0.1), f(7.091227316169792e+14), f(1.9235209629936912e+14)], "0.3|0.30000000000000004|1e+23|0.10000000000000001|0.100000000000000006|7.091227316169792e+14|1.9235209629936912e+14");
    }

    #[test]
    fn strings() {
        t(
            "%s|%v|%q|%x|%X|% x|%# x|%#x|% X",
            &[
                s("h\u{e9}llo"),
                s("hi"),
                s("a\"b\\c\u{a}"),
                s("hi"),
                s("hi"),
                s("abc"),
                s("abc"),
                s("abc"),
                s("h\u{e9}"),
            ],
            "h\u{e9}llo|hi|\"a\\\"b\\\\c\\n\"|6869|6869|61 62 63|0x61 0x62 0x63|0x616263|68 C3 A9",
        );
        t(
            "%.3s|%.3q|%.2x|%5s|%-5s|%05s|%-05s|%5.1s|%.0s|",
            &[
                s("h\u{e9}llo"),
                s("h\u{e9}llo"),
                s("h\u{e9}llo"),
                s("\u{e9}"),
                s("\u{e9}"),
                s("ab"),
                s("ab"),
                s("xyz"),
                s("xyz"),
            ],
            "h\u{e9}l|\"h\u{e9}l\"|68c3|    \u{e9}|\u{e9}    |000ab|ab   |    x||",
        );
        t(
            "%#q|%#q|%#q|%#q|%+q|%+q|%#+q",
            &[
                s("abc"),
                s("a`b"),
                s("a\u{9}b"),
                s("a\u{a}b"),
                s("h\u{e9}llo"),
                s("\u{1f600}"),
                s("\u{e9}"),
            ],
            "`abc`|\"a`b\"|`a\u{9}b`|\"a\\nb\"|\"h\\u00e9llo\"|\"\\U0001f600\"|`\u{e9}`",
        );
        t("%q|%q|%q|%q|%q", &[s("\u{0}\u{7}\u{8}\u{c}\u{b}\u{7f}"), s("\u{a0}\u{ad}\u{200b}\u{2028}"), s("\u{feff}\u{1f600}\u{e0001}"), s("\u{e000}\u{f0000}"), s("\u{65e5}\u{672c}\u{8a9e}")], "\"\\x00\\a\\b\\f\\v\\x7f\"|\"\\u00a0\\u00ad\\u200b\\u2028\"|\"\\ufeff\u{1f600}\\U000e0001\"|\"\\ue000\\U000f0000\"|\"\u{65e5}\u{672c}\u{8a9e}\"");
        t(
            "%10q|%-10q|%010q|%8x|%-8x|%08x|%x|%5x|",
            &[s("a"), s("a"), s("a"), s("ab"), s("ab"), s("ab"), s(""), s("")],
            "       \"a\"|\"a\"       |0000000\"a\"|    6162|6162    |00006162||     |",
        );
        t("%d|%t|%c|%e|%U|%5d|%+d", &[s("s"), s("s"), s("s"), s("s"), s("s"), s("s"), s("s")], "%!d(string=s)|%!t(string=s)|%!c(string=s)|%!e(string=s)|%!U(string=s)|%!d(string=    s)|%!d(string=s)");
        t(
            "%#v|%+v|%#v|%#q",
            &[s("a\"b"), s("x"), s("`"), s("\u{feff}")],
            "\"a\\\"b\"|x|\"`\"|\"\\ufeff\"",
        );
        t("%s|%v|%q|%x|%d|%t|%10v|%-10v|", &[b(true), b(false), b(true), b(true), b(true), b(false), b(true), b(false)], "%!s(bool=true)|false|%!q(bool=true)|%!x(bool=true)|%!d(bool=true)|false|      true|false     |");
        t(
            "%T|%T|%T|%T|%T|%T|%T|%10T|%.3T",
            &[i(1), u(1), f(1.5), s("s"), b(true), nil(), l(vec![]), i(1), s("abc")],
            "int|uint|float64|string|bool|<nil>|[]interface {}|       int|str",
        );
    }

    #[test]
    fn containers() {
        t(
            "%v|%d|%5d|%x|%q|%s|%v",
            &[
                il(&[1, 2]),
                il(&[1, 2]),
                il(&[1, 2]),
                il(&[10, 255]),
                il(&[65, 66]),
                il(&[1]),
                il(&[]),
            ],
            "[1 2]|[1 2]|[    1     2]|[a ff]|['A' 'B']|[%!s(int=1)]|[]",
        );
        t("%v|%q|%x|%X|% x|%5s|%-4s|%d", &[sl(&["a", "b"]), sl(&["a", "b"]), sl(&["ab", "cd"]), sl(&["ab"]), sl(&["ab", "cd"]), sl(&["a"]), sl(&["a", "b"]), sl(&["a"])], "[a b]|[\"a\" \"b\"]|[6162 6364]|[6162]|[61 62 63 64]|[    a]|[a    b   ]|[%!d(string=a)]");
        t("%v|%s|%d|%q|%5v|%#v", &[l(vec![s("a"), i(1), nil(), f(1.5), b(true)]), l(vec![s("a"), i(1)]), l(vec![nil(), s("x")]), l(vec![s("a"), i(98)]), l(vec![nil(), i(1)]), l(vec![s("a"), i(1), nil(), f(1.5), u(2)])], "[a 1 <nil> 1.5 true]|[a %!s(int=1)]|[<nil> %!d(string=x)]|[\"a\" 'b']|[<nil>     1]|[]interface {}{\"a\", 1, interface {}(nil), 1.5, 0x2}");
        t(
            "%v|%#v|%#v|%#v|%v|%#v",
            &[sl(&[]), sl(&["a"]), nil_sl(), l(vec![]), nil_sl(), il(&[1])],
            "[]|[]string{\"a\"}|[]string(nil)|[]interface {}{}|[]|[]int{1}",
        );
        t("%v|%q|%x|%d|%#v|%+v", &[m(vec![("a", s("x")), ("b", i(2)), ("c", nil())]), m(vec![("a", s("x"))]), m(vec![("a", s("x"))]), m(vec![("a", i(1))]), m(vec![("a", i(1)), ("b", nil()), ("c", s("s"))]), m(vec![("a", kv("/app/port", "8080"))])], "map[a:x b:2 c:<nil>]|map[\"a\":\"x\"]|map[61:78]|map[%!d(string=a):1]|map[string]interface {}{\"a\":1, \"b\":interface {}(nil), \"c\":\"s\"}|map[a:{Key:/app/port Value:8080}]");
        t("%v|%#v|%v|%#v|%5v|%-3s|", &[ms(&[("a", "b"), ("k", "v")]), ms(&[("k", "v")]), m(vec![]), nil_m(), ms(&[("a", "b")]), ms(&[("a", "b")])], "map[a:b k:v]|map[string]string{\"k\":\"v\"}|map[]|map[string]interface {}(nil)|map[    a:    b]|map[a  :b  ]|");
        t(
            "%v|%v|%v",
            &[
                l(vec![l(vec![i(1), s("a")]), m(vec![("x", sl(&["y"]))])]),
                m(vec![("l", l(vec![i(1), il(&[2])]))]),
                l(vec![m(vec![])]),
            ],
            "[[1 a] map[x:[y]]]|map[l:[1 [2]]]|[map[]]",
        );
        t("%v|%+v|%#v|%s|%q|%x|%d", &[kv("/app/port", "8080"), kv("/app/port", "8080"), kv("/app/port", "8080"), kv("/app/port", "8080"), kv("/app/port", "8080"), kv("/app/port", "8080"), kv("/app/port", "8080")], "{/app/port 8080}|{Key:/app/port Value:8080}|memkv.KVPair{Key:\"/app/port\", Value:\"8080\"}|{/app/port 8080}|{\"/app/port\" \"8080\"}|{2f6170702f706f7274 38303830}|{%!d(string=/app/port) %!d(string=8080)}");
        t("%v|%+v|%#v", &[kvs(&[("/app/port", "8080"), ("b", "c")]), kvs(&[("/app/port", "8080")]), kvs(&[("/app/port", "8080")])], "[{/app/port 8080} {b c}]|[{Key:/app/port Value:8080}]|memkv.KVPairs{memkv.KVPair{Key:\"/app/port\", Value:\"8080\"}}");
        t("%v|%+v|%#v|%s|%d|%x|%T", &[srv("db.local.", 5432, 10, 5), srv("db.local.", 5432, 10, 5), srv("db.local.", 5432, 10, 5), srv("db.local.", 5432, 10, 5), srv("db.local.", 5432, 10, 5), srv("db.local.", 5432, 10, 5), srv("db.local.", 5432, 10, 5)], "&{db.local. 5432 10 5}|&{Target:db.local. Port:5432 Priority:10 Weight:5}|&net.SRV{Target:\"db.local.\", Port:0x1538, Priority:0xa, Weight:0x5}|&{db.local. %!s(uint16=5432) %!s(uint16=10) %!s(uint16=5)}|&{%!d(string=db.local.) 5432 10 5}|&{64622e6c6f63616c2e 1538 a 5}|*net.SRV");
        t("%v|%+v|%#v|%d|%s|%T", &[holder(), holder(), holder(), holder(), holder(), holder()], "{<nil> <nil> [] map[]}|{Any:<nil> Ptr:<nil> List:[] Map:map[]}|memkv.Holder{Any:interface {}(nil), Ptr:(*net.SRV)(nil), List:[]string(nil), Map:map[string]string(nil)}|{<nil> 0 [] map[]}|{<nil> %!s(*net.SRV=<nil>) [] map[]}|memkv.Holder");
        t("%v|%s|%q|%x|%X|%T|%10.4v|%-30s|", &[tm(), tm(), tm(), tm(), tm(), tm(), tm(), tm()], "2009-11-10 23:00:00 +0000 UTC|2009-11-10 23:00:00 +0000 UTC|\"2009-11-10 23:00:00 +0000 UTC\"|323030392d31312d31302032333a30303a3030202b3030303020555443|323030392D31312D31302032333A30303A3030202B3030303020555443|time.Time|      2009|2009-11-10 23:00:00 +0000 UTC |");
        t("%v|%q|%+v", &[l(vec![tm()]), m(vec![("t", tm())]), l(vec![kv("/app/port", "8080"), nil()])], "[2009-11-10 23:00:00 +0000 UTC]|map[\"t\":\"2009-11-10 23:00:00 +0000 UTC\"]|[{Key:/app/port Value:8080} <nil>]");
        t(
            "%s|%v|%d",
            &[l(vec![sl(&["a"]), i(1)]), l(vec![i(-1), u(3)]), m(vec![("a", il(&[1, 2]))])],
            "[[a] %!s(int=1)]|[-1 3]|map[%!d(string=a):[1 2]]",
        );
        t(
            "%+v|%+d|% d|%#x|%#o",
            &[l(vec![i(1), s("a")]), il(&[1, -2]), il(&[1, -2]), il(&[255]), l(vec![i(8), s("a")])],
            "[1 a]|[+1 -2]|[ 1 -2]|[0xff]|[010 %!o(string=a)]",
        );
        t("%t|%c|%U|%e|%.1f|%g", &[l(vec![b(true), i(1)]), il(&[65, 66]), il(&[65]), l(vec![f(1.5), i(2)]), l(vec![f(1.25), s("x")]), l(vec![f(1e+06)])], "[true %!t(int=1)]|[A B]|[U+0041]|[1.500000e+00 %!e(int=2)]|[1.2 %!f(string=x)]|[1e+06]");
    }

    #[test]
    fn errors() {
        t("%d %d", &[i(1)], "1 %!d(MISSING)");
        t(
            "%d",
            &[i(1), i(2), s("a"), nil(), l(vec![i(1)]), kv("/app/port", "8080")],
            "1%!(EXTRA int=2, string=a, <nil>, []interface {}=[1], memkv.KVPair={/app/port 8080})",
        );
        t(
            "%!|%z|%\u{e9}|%",
            &[i(1), i(2), i(3)],
            "%!!(int=1)|%!z(int=2)|%!\u{e9}(int=3)|%!(NOVERB)",
        );
        t(
            "%s|%d|%x|%t|%p|%e|%q",
            &[nil(), nil(), nil(), nil(), nil(), nil(), nil()],
            "%!s(<nil>)|%!d(<nil>)|%!x(<nil>)|%!t(<nil>)|%!p(<nil>)|%!e(<nil>)|%!q(<nil>)",
        );
        t(
            "%v|%T|%5v|%-6v|%#v|%+v",
            &[nil(), nil(), nil(), nil(), nil(), nil()],
            "<nil>|<nil>|<nil>|<nil> |<nil>|<nil>",
        );
        t(
            "%[2]d %[1]d|%[1]d %d|%[3]d|%[0]d|%[x]d|%[2]*[1]d|%.[2]d|%[1]",
            &[i(1), i(2)],
            "2 1|1 2|%!d(BADINDEX)|%!d(BADINDEX)|%!d(BADINDEX)| 1|2|%!(NOVERB)",
        );
        t(
            "%*d|%-*d|%.*f|%*.*f|%*d|%.*d|%*d",
            &[
                i(5),
                i(1),
                i(5),
                i(2),
                i(2),
                f(3.14259),
                i(8),
                i(3),
                f(2.5),
                s("x"),
                i(1),
                i(-1),
                i(3),
                i(10000000),
                i(4),
            ],
            "    1|2    |3.14|   2.500|%!(BADWIDTH)1|%!(BADPREC)3|%!(BADWIDTH)4",
        );
        t("%*d", &[u(3), i(7)], "  7");
        t("%[1]*d|%[2]*[1]d|%[3]*d", &[i(2), i(5)], " 5|    2|%!d(BADINDEX)");
        t("%[2]d %d", &[i(1), i(2), i(3)], "2 3");
        t("%d %[5]d %d", &[i(1), i(2)], "1 %!d(BADINDEX) 2");
        t("%100000000d|x", &[i(1)], "%!(NOVERB)%!(EXTRA int=1)");
        t("%.100000000d|x", &[i(1)], "%!(NOVERB)%!(EXTRA int=1)");
        t("%.", &[i(1)], "%!.(int=1)");
        t("%-", &[i(1)], "%!(NOVERB)%!(EXTRA int=1)");
        t("%5", &[i(1)], "%!(NOVERB)%!(EXTRA int=1)");
        t("%[1]2d|%[1].2d|%[1]5.2f", &[i(3), f(4.5)], "%!d(BADINDEX)|%!d(BADINDEX)|%!f(BADINDEX)");
        t("%3%|%-3%|%%|%.2%", &[i(1)], "%|%|%|%%!(EXTRA int=1)");
        t("%v %v", &[s("a")], "a %!v(MISSING)");
        t(
            "no verbs",
            &[i(1), s("a"), f(2.5), b(true), nil(), u(3)],
            "no verbs%!(EXTRA int=1, string=a, float64=2.5, bool=true, <nil>, uint=3)",
        );
        t("%s %s", &[l(vec![nil()]), i(1)], "[<nil>] %!s(int=1)");
        t("%.*s|%.*s", &[i(-1), s("abc"), i(2), s("abc")], "%!(BADPREC)abc|ab");
        t(
            "%0*d|%-0*d|%0-5d|%+-5d|%- 5d|%+ d",
            &[i(-5), i(1), i(5), i(2), i(3), i(4), i(5), i(6)],
            "1    |2    |3    |+4   | 5   |+6",
        );
        t("%[-1]d|%[]d|%[1|%[1]", &[i(1)], "%!d(BADINDEX)|%!d(BADINDEX)|%!(NOVERB)");
    }

    #[test]
    fn print() {
        assert_eq!(
            sprint(&[s("a"), s("b"), i(1), i(2), s("c"), f(3.5), nil(), b(true)]),
            "ab1 2c3.5 <nil> true"
        );
        assert_eq!(
            sprintln(&[s("a"), s("b"), i(1), i(2), s("c"), f(3.5), nil(), b(true)]),
            "a b 1 2 c 3.5 <nil> true\u{a}"
        );
        assert_eq!(sprint(&[i(1), s("a"), i(2)]), "1a2");
        assert_eq!(sprintln(&[i(1), s("a"), i(2)]), "1 a 2\u{a}");
        assert_eq!(
            sprint(&[nil(), nil(), l(vec![i(1)]), m(vec![("a", nil())])]),
            "<nil> <nil> [1] map[a:<nil>]"
        );
        assert_eq!(
            sprintln(&[nil(), nil(), l(vec![i(1)]), m(vec![("a", nil())])]),
            "<nil> <nil> [1] map[a:<nil>]\u{a}"
        );
        assert_eq!(sprint(&[]), "");
        assert_eq!(sprintln(&[]), "\u{a}");
        assert_eq!(sprint(&[s("x")]), "x");
        assert_eq!(sprintln(&[s("x")]), "x\u{a}");
        assert_eq!(
            sprint(&[
                kv("/app/port", "8080"),
                srv("db.local.", 5432, 10, 5),
                tm(),
                f(1e+21),
                u(7),
                f(0.0)
            ]),
            "{/app/port 8080} &{db.local. 5432 10 5} 2009-11-10 23:00:00 +0000 UTC 1e+21 7 0"
        );
        assert_eq!(
            sprintln(&[
                kv("/app/port", "8080"),
                srv("db.local.", 5432, 10, 5),
                tm(),
                f(1e+21),
                u(7),
                f(0.0)
            ]),
            "{/app/port 8080} &{db.local. 5432 10 5} 2009-11-10 23:00:00 +0000 UTC 1e+21 7 0\u{a}"
        );
        assert_eq!(sprint(&[s(""), s(""), i(1), s("")]), "1");
        assert_eq!(sprintln(&[s(""), s(""), i(1), s("")]), "  1 \u{a}");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote(""), "\"\"");
        assert_eq!(quote("abc"), "\"abc\"");
        assert_eq!(quote("a\"b'c\\"), "\"a\\\"b'c\\\\\"");
        assert_eq!(
            quote("\u{7}\u{8}\u{c}\u{a}\u{d}\u{9}\u{b}\u{0}\u{1f}\u{7f}"),
            "\"\\a\\b\\f\\n\\r\\t\\v\\x00\\x1f\\x7f\""
        );
        assert_eq!(quote("h\u{e9}llo w\u{f6}rld"), "\"h\u{e9}llo w\u{f6}rld\"");
        assert_eq!(quote("\u{85}\u{a0}\u{ad}"), "\"\\u0085\\u00a0\\u00ad\"");
        assert_eq!(
            quote("\u{2028}\u{2029}\u{200b}\u{200d}\u{2060}\u{feff}\u{fffe}\u{ffff}"),
            "\"\\u2028\\u2029\\u200b\\u200d\\u2060\\ufeff\\ufffe\\uffff\""
        );
        assert_eq!(
            quote("\u{1f600}\u{1f1fa}\u{e0100}\u{e0001}"),
            "\"\u{1f600}\u{1f1fa}\u{e0100}\\U000e0001\""
        );
        assert_eq!(quote("\u{e000}\u{f0000}\u{10fffd}"), "\"\\ue000\\U000f0000\\U0010fffd\"");
        assert_eq!(
            quote("\u{378}\u{600}\u{61c}\u{180e}\u{3000}\u{fffd}"),
            "\"\\u0378\\u0600\\u061c\\u180e\\u3000\u{fffd}\""
        );
        assert_eq!(
            quote("\u{65e5}\u{672c}\u{8a9e}\u{3042}"),
            "\"\u{65e5}\u{672c}\u{8a9e}\u{3042}\""
        );
        assert_eq!(quote("\u{1fae0}\u{30000}"), "\"\\U0001fae0\u{30000}\"");
        assert_eq!(quote_rune('\u{61}'), "'a'");
        assert_eq!(quote_rune('\u{27}'), "'\\''");
        assert_eq!(quote_rune('\u{22}'), "'\"'");
        assert_eq!(quote_rune('\u{5c}'), "'\\\\'");
        assert_eq!(quote_rune('\u{a}'), "'\\n'");
        assert_eq!(quote_rune('\u{0}'), "'\\x00'");
        assert_eq!(quote_rune('\u{7f}'), "'\\x7f'");
        assert_eq!(quote_rune('\u{e9}'), "'\u{e9}'");
        assert_eq!(quote_rune('\u{ad}'), "'\\u00ad'");
        assert_eq!(quote_rune('\u{2028}'), "'\\u2028'");
        assert_eq!(quote_rune('\u{1f600}'), "'\u{1f600}'");
        assert_eq!(quote_rune('\u{10ffff}'), "'\\U0010ffff'");
        assert_eq!(quote_rune('\u{fffd}'), "'\u{fffd}'");
    }

    #[test]
    fn format_floats() {
        assert_eq!(format_float(7.091227316169792e+14, b'e', -1), "7.091227316169792e+14");
        assert_eq!(format_float(7.091227316169792e+14, b'e', 3), "7.091e+14");
        assert_eq!(format_float(7.091227316169792e+14, b'E', 0), "7E+14");
        assert_eq!(format_float(7.091227316169792e+14, b'f', -1), "709122731616979.2");
        assert_eq!(format_float(7.091227316169792e+14, b'f', 2), "709122731616979.25");
        assert_eq!(format_float(7.091227316169792e+14, b'g', -1), "7.091227316169792e+14");
        assert_eq!(format_float(7.091227316169792e+14, b'g', 4), "7.091e+14");
        assert_eq!(format_float(7.091227316169792e+14, b'G', 0), "7E+14");
        assert_eq!(format_float(7.091227316169792e+14, b'g', 20), "709122731616979.25");
        assert_eq!(format_float(0.0, b'e', -1), "0e+00");
        assert_eq!(format_float(0.0, b'e', 3), "0.000e+00");
        assert_eq!(format_float(0.0, b'E', 0), "0E+00");
        assert_eq!(format_float(0.0, b'f', -1), "0");
        assert_eq!(format_float(0.0, b'f', 2), "0.00");
        assert_eq!(format_float(0.0, b'g', -1), "0");
        assert_eq!(format_float(0.0, b'g', 4), "0");
        assert_eq!(format_float(0.0, b'G', 0), "0");
        assert_eq!(format_float(0.0, b'g', 20), "0");
        assert_eq!(format_float(1.0, b'e', -1), "1e+00");
        assert_eq!(format_float(1.0, b'e', 3), "1.000e+00");
        assert_eq!(format_float(1.0, b'E', 0), "1E+00");
        assert_eq!(format_float(1.0, b'f', -1), "1");
        assert_eq!(format_float(1.0, b'f', 2), "1.00");
        assert_eq!(format_float(1.0, b'g', -1), "1");
        assert_eq!(format_float(1.0, b'g', 4), "1");
        assert_eq!(format_float(1.0, b'G', 0), "1");
        assert_eq!(format_float(1.0, b'g', 20), "1");
        assert_eq!(format_float(-1.0, b'e', -1), "-1e+00");
        assert_eq!(format_float(-1.0, b'e', 3), "-1.000e+00");
        assert_eq!(format_float(-1.0, b'E', 0), "-1E+00");
        assert_eq!(format_float(-1.0, b'f', -1), "-1");
        assert_eq!(format_float(-1.0, b'f', 2), "-1.00");
        assert_eq!(format_float(-1.0, b'g', -1), "-1");
        assert_eq!(format_float(-1.0, b'g', 4), "-1");
        assert_eq!(format_float(-1.0, b'G', 0), "-1");
        assert_eq!(format_float(-1.0, b'g', 20), "-1");
        assert_eq!(format_float(0.1, b'e', -1), "1e-01");
        assert_eq!(format_float(0.1, b'e', 3), "1.000e-01");
        assert_eq!(format_float(0.1, b'E', 0), "1E-01");
        assert_eq!(format_float(0.1, b'f', -1), "0.1");
        assert_eq!(format_float(0.1, b'f', 2), "0.10");
        assert_eq!(format_float(0.1, b'g', -1), "0.1");
        assert_eq!(format_float(0.1, b'g', 4), "0.1");
        assert_eq!(format_float(0.1, b'G', 0), "0.1");
        assert_eq!(format_float(0.1, b'g', 20), "0.10000000000000000555");
        assert_eq!(format_float(0.3333333333333333, b'e', -1), "3.333333333333333e-01");
        assert_eq!(format_float(0.3333333333333333, b'e', 3), "3.333e-01");
        assert_eq!(format_float(0.3333333333333333, b'E', 0), "3E-01");
        assert_eq!(format_float(0.3333333333333333, b'f', -1), "0.3333333333333333");
        assert_eq!(format_float(0.3333333333333333, b'f', 2), "0.33");
        assert_eq!(format_float(0.3333333333333333, b'g', -1), "0.3333333333333333");
        assert_eq!(format_float(0.3333333333333333, b'g', 4), "0.3333");
        assert_eq!(format_float(0.3333333333333333, b'G', 0), "0.3");
        assert_eq!(format_float(0.3333333333333333, b'g', 20), "0.33333333333333331483");
        assert_eq!(format_float(1.23456789125e+08, b'e', -1), "1.23456789125e+08");
        assert_eq!(format_float(1.23456789125e+08, b'e', 3), "1.235e+08");
        assert_eq!(format_float(1.23456789125e+08, b'E', 0), "1E+08");
        assert_eq!(format_float(1.23456789125e+08, b'f', -1), "123456789.125");
        assert_eq!(format_float(1.23456789125e+08, b'f', 2), "123456789.12");
        assert_eq!(format_float(1.23456789125e+08, b'g', -1), "1.23456789125e+08");
        assert_eq!(format_float(1.23456789125e+08, b'g', 4), "1.235e+08");
        assert_eq!(format_float(1.23456789125e+08, b'G', 0), "1E+08");
        assert_eq!(format_float(1.23456789125e+08, b'g', 20), "123456789.125");
        assert_eq!(format_float(1e+21, b'e', -1), "1e+21");
        assert_eq!(format_float(1e+21, b'e', 3), "1.000e+21");
        assert_eq!(format_float(1e+21, b'E', 0), "1E+21");
        assert_eq!(format_float(1e+21, b'f', -1), "1000000000000000000000");
        assert_eq!(format_float(1e+21, b'f', 2), "1000000000000000000000.00");
        assert_eq!(format_float(1e+21, b'g', -1), "1e+21");
        assert_eq!(format_float(1e+21, b'g', 4), "1e+21");
        assert_eq!(format_float(1e+21, b'G', 0), "1E+21");
        assert_eq!(format_float(1e+21, b'g', 20), "1e+21");
        assert_eq!(format_float(1e-07, b'e', -1), "1e-07");
        assert_eq!(format_float(1e-07, b'e', 3), "1.000e-07");
        assert_eq!(format_float(1e-07, b'E', 0), "1E-07");
        assert_eq!(format_float(1e-07, b'f', -1), "0.0000001");
        assert_eq!(format_float(1e-07, b'f', 2), "0.00");
        assert_eq!(format_float(1e-07, b'g', -1), "1e-07");
        assert_eq!(format_float(1e-07, b'g', 4), "1e-07");
        assert_eq!(format_float(1e-07, b'G', 0), "1E-07");
        assert_eq!(format_float(1e-07, b'g', 20), "9.9999999999999995475e-08");
        assert_eq!(format_float(2.5, b'e', -1), "2.5e+00");
        assert_eq!(format_float(2.5, b'e', 3), "2.500e+00");
        assert_eq!(format_float(2.5, b'E', 0), "2E+00");
        assert_eq!(format_float(2.5, b'f', -1), "2.5");
        assert_eq!(format_float(2.5, b'f', 2), "2.50");
        assert_eq!(format_float(2.5, b'g', -1), "2.5");
        assert_eq!(format_float(2.5, b'g', 4), "2.5");
        assert_eq!(format_float(2.5, b'G', 0), "2");
        assert_eq!(format_float(2.5, b'g', 20), "2.5");
        assert_eq!(format_float(0.000123456, b'e', -1), "1.23456e-04");
        assert_eq!(format_float(0.000123456, b'e', 3), "1.235e-04");
        assert_eq!(format_float(0.000123456, b'E', 0), "1E-04");
        assert_eq!(format_float(0.000123456, b'f', -1), "0.000123456");
        assert_eq!(format_float(0.000123456, b'f', 2), "0.00");
        assert_eq!(format_float(0.000123456, b'g', -1), "0.000123456");
        assert_eq!(format_float(0.000123456, b'g', 4), "0.0001235");
        assert_eq!(format_float(0.000123456, b'G', 0), "0.0001");
        assert_eq!(format_float(0.000123456, b'g', 20), "0.00012345600000000000519");
        assert_eq!(format_float(9.999999e+10, b'e', -1), "9.999999e+10");
        assert_eq!(format_float(9.999999e+10, b'e', 3), "1.000e+11");
        assert_eq!(format_float(9.999999e+10, b'E', 0), "1E+11");
        assert_eq!(format_float(9.999999e+10, b'f', -1), "99999990000");
        assert_eq!(format_float(9.999999e+10, b'f', 2), "99999990000.00");
        assert_eq!(format_float(9.999999e+10, b'g', -1), "9.999999e+10");
        assert_eq!(format_float(9.999999e+10, b'g', 4), "1e+11");
        assert_eq!(format_float(9.999999e+10, b'G', 0), "1E+11");
        assert_eq!(format_float(9.999999e+10, b'g', 20), "99999990000");
        assert_eq!(format_float(5e-324, b'e', -1), "5e-324");
        assert_eq!(format_float(5e-324, b'e', 3), "4.941e-324");
        assert_eq!(format_float(5e-324, b'E', 0), "5E-324");
        assert_eq!(format_float(5e-324, b'f', -1), "0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000005");
        assert_eq!(format_float(5e-324, b'f', 2), "0.00");
        assert_eq!(format_float(5e-324, b'g', -1), "5e-324");
        assert_eq!(format_float(5e-324, b'g', 4), "4.941e-324");
        assert_eq!(format_float(5e-324, b'G', 0), "5E-324");
        assert_eq!(format_float(5e-324, b'g', 20), "4.9406564584124654418e-324");
        assert_eq!(format_float(1.7976931348623157e+308, b'e', -1), "1.7976931348623157e+308");
        assert_eq!(format_float(1.7976931348623157e+308, b'e', 3), "1.798e+308");
        assert_eq!(format_float(1.7976931348623157e+308, b'E', 0), "2E+308");
        assert_eq!(format_float(1.7976931348623157e+308, b'f', -1), "179769313486231570000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000");
        assert_eq!(format_float(1.7976931348623157e+308, b'f', 2), "179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368.00");
        assert_eq!(format_float(1.7976931348623157e+308, b'g', -1), "1.7976931348623157e+308");
        assert_eq!(format_float(1.7976931348623157e+308, b'g', 4), "1.798e+308");
        assert_eq!(format_float(1.7976931348623157e+308, b'G', 0), "2E+308");
        assert_eq!(format_float(1.7976931348623157e+308, b'g', 20), "1.7976931348623157081e+308");
        assert_eq!(format_float(100.0, b'e', -1), "1e+02");
        assert_eq!(format_float(100.0, b'e', 3), "1.000e+02");
        assert_eq!(format_float(100.0, b'E', 0), "1E+02");
        assert_eq!(format_float(100.0, b'f', -1), "100");
        assert_eq!(format_float(100.0, b'f', 2), "100.00");
        assert_eq!(format_float(100.0, b'g', -1), "100");
        assert_eq!(format_float(100.0, b'g', 4), "100");
        assert_eq!(format_float(100.0, b'G', 0), "1E+02");
        assert_eq!(format_float(100.0, b'g', 20), "100");
        assert_eq!(format_float(1e+15, b'e', -1), "1e+15");
        assert_eq!(format_float(1e+15, b'e', 3), "1.000e+15");
        assert_eq!(format_float(1e+15, b'E', 0), "1E+15");
        assert_eq!(format_float(1e+15, b'f', -1), "1000000000000000");
        assert_eq!(format_float(1e+15, b'f', 2), "1000000000000000.00");
        assert_eq!(format_float(1e+15, b'g', -1), "1e+15");
        assert_eq!(format_float(1e+15, b'g', 4), "1e+15");
        assert_eq!(format_float(1e+15, b'G', 0), "1E+15");
        assert_eq!(format_float(1e+15, b'g', 20), "1000000000000000");
    }

    const PRINTABLE: &[u32] = &[
        0x3d2, 0x7a5, 0xf4e, 0x1324, 0x1eac, 0x2286, 0x2661, 0x2a3d, 0x2e1a, 0x35bd, 0x3990,
        0x3d64, 0x4139, 0x450f, 0x48e6, 0x4cbe, 0x5097, 0x5471, 0x584c, 0x5c28, 0x6005, 0x63d6,
        0x67a8, 0x6b7b, 0x6f4f, 0x7324, 0x76fa, 0x7ad1, 0x7ea9, 0x8282, 0x865c, 0x8a37, 0x8e13,
        0x91f0, 0x95c1, 0x9993, 0x9d66, 0xa13a, 0xa50f, 0xa8e5, 0xacbc, 0xb094, 0xb46d, 0xb847,
        0xbc22, 0xbffe, 0xc3db, 0xc7ac, 0xcb7e, 0xcf51, 0xd325, 0xd6fa, 0xf997, 0xfd69, 0x1013c,
        0x10510, 0x108e5, 0x11092, 0x11c1d, 0x13327, 0x168e6, 0x17091, 0x17468, 0x17840, 0x17c19,
        0x17ff3, 0x183ce, 0x187aa, 0x18b87, 0x1b1de, 0x1d091, 0x1d467, 0x1d83e, 0x1f32e, 0x1f700,
        0x1fad3, 0x2027c, 0x20652, 0x20a29, 0x20e01, 0x211da, 0x215b4, 0x2198f, 0x21d6b, 0x22148,
        0x22519, 0x228eb, 0x22cbe, 0x23092, 0x23467, 0x2383d, 0x23c14, 0x23fec, 0x243c5, 0x2479f,
        0x24b7a, 0x24f56, 0x25333, 0x25704, 0x25ad6, 0x25ea9, 0x2627d, 0x26652, 0x26a28, 0x26dff,
        0x271d7, 0x275b0, 0x2798a, 0x27d65, 0x28141, 0x2851e, 0x288ef, 0x28cc1, 0x29094, 0x29468,
        0x2983d, 0x29c13, 0x29fea, 0x2a3c2, 0x2a79b, 0x2ab75, 0x2af50, 0x2b32c, 0x2b709, 0x2bada,
        0x2beac, 0x2c27f, 0x2c653, 0x2ca28, 0x2cdfe, 0x2d1d5, 0x2d5ad, 0x2d986, 0x2dd60, 0x2e13b,
        0x2e517, 0x2e8f4, 0x2f83e, 0x303c0, 0x30798, 0x30b71, 0x30f4b, 0x31326, 0x20, 0x7e, 0xa1,
        0xff, 0x100, 0x377, 0x606, 0x2010, 0x2027, 0x2070, 0x3001, 0xf900, 0xfffc, 0xfffd, 0x10000,
        0x1f600, 0x1fad6, 0x20000, 0x2a6dd, 0x30000, 0x3134a, 0xe0100, 0xe01ef,
    ];
    const NOT_PRINTABLE: &[u32] = &[
        0x0, 0xb79, 0x16fb, 0x1ad3, 0x31eb, 0xe27f, 0xe658, 0xea32, 0xee0d, 0xf1e9, 0xf5c6,
        0x10cbb, 0x1146a, 0x11843, 0x11ff8, 0x123d4, 0x127b1, 0x12b82, 0x12f54, 0x136fb, 0x13ad0,
        0x13ea6, 0x1427d, 0x14655, 0x14a2e, 0x14e08, 0x151e3, 0x155bf, 0x1599c, 0x15d6d, 0x1613f,
        0x16512, 0x16cbb, 0x18f58, 0x1932a, 0x196fd, 0x19ad1, 0x19ea6, 0x1a27c, 0x1a653, 0x1aa2b,
        0x1ae04, 0x1b5b9, 0x1b995, 0x1bd72, 0x1c143, 0x1c515, 0x1c8e8, 0x1ccbc, 0x1dc16, 0x1dfef,
        0x1e3c9, 0x1e7a4, 0x1eb80, 0x1ef5d, 0x1fea7, 0x2ecc5, 0x2f097, 0x2f46a, 0x2fc13, 0x2ffe9,
        0x31702, 0x31adf, 0x31eb0, 0x32282, 0x32655, 0x32a29, 0x32dfe, 0x331d4, 0x335ab, 0x33983,
        0x33d5c, 0x34136, 0x34511, 0x348ed, 0x34cca, 0x3509b, 0x3546d, 0x35840, 0x35c14, 0x35fe9,
        0x363bf, 0x36796, 0x36b6e, 0x36f47, 0x37321, 0x376fc, 0x37ad8, 0x37eb5, 0x38286, 0x38658,
        0x38a2b, 0x38dff, 0x391d4, 0x395aa, 0x39981, 0x39d59, 0x3a132, 0x3a50c, 0x3a8e7, 0x3acc3,
        0x3b0a0, 0x3b471, 0x3b843, 0x3bc16, 0x3bfea, 0x3c3bf, 0x3c795, 0x3cb6c, 0x3cf44, 0x3d31d,
        0x3d6f7, 0x3dad2, 0x3deae, 0x3e28b, 0x3e65c, 0x3ea2e, 0x3ee01, 0x3f1d5, 0x3f5aa, 0x3f980,
        0x3fd57, 0x4012f, 0x40508, 0x408e2, 0x40cbd, 0x41099, 0x41476, 0x41847, 0x41c19, 0x41fec,
        0x423c0, 0x42795, 0x42b6b, 0x42f42, 0x4331a, 0x436f3, 0x43acd, 0x43ea8, 0x44284, 0x44661,
        0x44a32, 0x44e04, 0x451d7, 0x455ab, 0x45980, 0x45d56, 0x4612d, 0x46505, 0x468de, 0x46cb8,
        0x47093, 0x4746f, 0x4784c, 0x47c1d, 0x47fef, 0x483c2, 0x48796, 0x48b6b, 0x48f41, 0x49318,
        0x496f0, 0x49ac9, 0x49ea3, 0x4a27e, 0x4a65a, 0x4aa37, 0x4ae08, 0x4b1da, 0x4b5ad, 0x4b981,
        0x4bd56, 0x4c12c, 0x4c503, 0x4c8db, 0x4ccb4, 0x4d08e, 0x4d469, 0x4d845, 0x4dc22, 0x4dff3,
        0x4e3c5, 0x4e798, 0x4eb6c, 0x4ef41, 0x4f317, 0x4f6ee, 0x4fac6, 0x4fe9f, 0x50279, 0x50654,
        0x50a30, 0x50e0d, 0x511de, 0x515b0, 0x51983, 0x51d57, 0x5212c, 0x52502, 0x528d9, 0x52cb1,
        0x5308a, 0x53464, 0x5383f, 0x53c1b, 0x53ff8, 0x543c9, 0x5479b, 0x54b6e, 0x54f42, 0x55317,
        0x556ed, 0x55ac4, 0x55e9c, 0x56275, 0x5664f, 0x56a2a, 0x56e06, 0x571e3, 0x575b4, 0x57986,
        0x57d59, 0x5812d, 0x58502, 0x588d8, 0x58caf, 0x59087, 0x59460, 0x5983a, 0x59c15, 0x59ff1,
        0x5a3ce, 0x5a79f, 0x5ab71, 0x5af44, 0x5b318, 0x5b6ed, 0x5bac3, 0x5be9a, 0x5c272, 0x5c64b,
        0x5ca25, 0x5ce00, 0x5d1dc, 0x5d5b9, 0x5d98a, 0x5dd5c, 0x5e12f, 0x5e503, 0x5e8d8, 0x5ecae,
        0x5f085, 0x5f45d, 0x5f836, 0x5fc10, 0x5ffeb, 0x603c7, 0x607a4, 0x60b75, 0x60f47, 0x6131a,
        0x616ee, 0x61ac3, 0x61e99, 0x62270, 0x62648, 0x62a21, 0x62dfb, 0x631d6, 0x635b2, 0x6398f,
        0x63d60, 0x64132, 0x64505, 0x648d9, 0x64cae, 0x65084, 0x6545b, 0x65833, 0x65c0c, 0x65fe6,
        0x663c1, 0x6679d, 0x66b7a, 0x66f4b, 0x6731d, 0x676f0, 0x67ac4, 0x67e99, 0x6826f, 0x68646,
        0x68a1e, 0x68df7, 0x691d1, 0x695ac, 0x69988, 0x69d65, 0x6a136, 0x6a508, 0x6a8db, 0x6acaf,
        0x6b084, 0x6b45a, 0x6b831, 0x6bc09, 0x6bfe2, 0x6c3bc, 0x6c797, 0x6cb73, 0x6cf50, 0x6d321,
        0x6d6f3, 0x6dac6, 0x6de9a, 0x6e26f, 0x6e645, 0x6ea1c, 0x6edf4, 0x6f1cd, 0x6f5a7, 0x6f982,
        0x6fd5e, 0x7013b, 0x7050c, 0x708de, 0x70cb1, 0x71085, 0x7145a, 0x71830, 0x71c07, 0x71fdf,
        0x723b8, 0x72792, 0x72b6d, 0x72f49, 0x73326, 0x736f7, 0x73ac9, 0x73e9c, 0x74270, 0x74645,
        0x74a1b, 0x74df2, 0x751ca, 0x755a3, 0x7597d, 0x75d58, 0x76134, 0x76511, 0x768e2, 0x76cb4,
        0x77087, 0x7745b, 0x77830, 0x77c06, 0x77fdd, 0x783b5, 0x7878e, 0x78b68, 0x78f43, 0x7931f,
        0x796fc, 0x79acd, 0x79e9f, 0x7a272, 0x7a646, 0x7aa1b, 0x7adf1, 0x7b1c8, 0x7b5a0, 0x7b979,
        0x7bd53, 0x7c12e, 0x7c50a, 0x7c8e7, 0x7ccb8, 0x7d08a, 0x7d45d, 0x7d831, 0x7dc06, 0x7dfdc,
        0x7e3b3, 0x7e78b, 0x7eb64, 0x7ef3e, 0x7f319, 0x7f6f5, 0x7fad2, 0x7fea3, 0x80275, 0x80648,
        0x80a1c, 0x80df1, 0x811c7, 0x8159e, 0x81976, 0x81d4f, 0x82129, 0x82504, 0x828e0, 0x82cbd,
        0x8308e, 0x83460, 0x83833, 0x83c07, 0x83fdc, 0x843b2, 0x84789, 0x84b61, 0x84f3a, 0x85314,
        0x856ef, 0x85acb, 0x85ea8, 0x86279, 0x8664b, 0x86a1e, 0x86df2, 0x871c7, 0x8759d, 0x87974,
        0x87d4c, 0x88125, 0x884ff, 0x888da, 0x88cb6, 0x89093, 0x89464, 0x89836, 0x89c09, 0x89fdd,
        0x8a3b2, 0x8a788, 0x8ab5f, 0x8af37, 0x8b310, 0x8b6ea, 0x8bac5, 0x8bea1, 0x8c27e, 0x8c64f,
        0x8ca21, 0x8cdf4, 0x8d1c8, 0x8d59d, 0x8d973, 0x8dd4a, 0x8e122, 0x8e4fb, 0x8e8d5, 0x8ecb0,
        0x8f08c, 0x8f469, 0x8f83a, 0x8fc0c, 0x8ffdf, 0x903b3, 0x90788, 0x90b5e, 0x90f35, 0x9130d,
        0x916e6, 0x91ac0, 0x91e9b, 0x92277, 0x92654, 0x92a25, 0x92df7, 0x931ca, 0x9359e, 0x93973,
        0x93d49, 0x94120, 0x944f8, 0x948d1, 0x94cab, 0x95086, 0x95462, 0x9583f, 0x95c10, 0x95fe2,
        0x963b5, 0x96789, 0x96b5e, 0x96f34, 0x9730b, 0x976e3, 0x97abc, 0x97e96, 0x98271, 0x9864d,
        0x98a2a, 0x98dfb, 0x991cd, 0x995a0, 0x99974, 0x99d49, 0x9a11f, 0x9a4f6, 0x9a8ce, 0x9aca7,
        0x9b081, 0x9b45c, 0x9b838, 0x9bc15, 0x9bfe6, 0x9c3b8, 0x9c78b, 0x9cb5f, 0x9cf34, 0x9d30a,
        0x9d6e1, 0x9dab9, 0x9de92, 0x9e26c, 0x9e647, 0x9ea23, 0x9ee00, 0x9f1d1, 0x9f5a3, 0x9f976,
        0x9fd4a, 0xa011f, 0xa04f5, 0xa08cc, 0xa0ca4, 0xa107d, 0xa1457, 0xa1832, 0xa1c0e, 0xa1feb,
        0xa23bc, 0xa278e, 0xa2b61, 0xa2f35, 0xa330a, 0xa36e0, 0xa3ab7, 0xa3e8f, 0xa4268, 0xa4642,
        0xa4a1d, 0xa4df9, 0xa51d6, 0xa55a7, 0xa5979, 0xa5d4c, 0xa6120, 0xa64f5, 0xa68cb, 0xa6ca2,
        0xa707a, 0xa7453, 0xa782d, 0xa7c08, 0xa7fe4, 0xa83c1, 0xa8792, 0xa8b64, 0xa8f37, 0xa930b,
        0xa96e0, 0xa9ab6, 0xa9e8d, 0xaa265, 0xaa63e, 0xaaa18, 0xaadf3, 0xab1cf, 0xab5ac, 0xab97d,
        0xabd4f, 0xac122, 0xac4f6, 0xac8cb, 0xacca1, 0xad078, 0xad450, 0xad829, 0xadc03, 0xadfde,
        0xae3ba, 0xae797, 0xaeb68, 0xaef3a, 0xaf30d, 0xaf6e1, 0xafab6, 0xafe8c, 0xb0263, 0xb063b,
        0xb0a14, 0xb0dee, 0xb11c9, 0xb15a5, 0xb1982, 0xb1d53, 0xb2125, 0xb24f8, 0xb28cc, 0xb2ca1,
        0xb3077, 0xb344e, 0xb3826, 0xb3bff, 0xb3fd9, 0xb43b4, 0xb4790, 0xb4b6d, 0xb4f3e, 0xb5310,
        0xb56e3, 0xb5ab7, 0xb5e8c, 0xb6262, 0xb6639, 0xb6a11, 0xb6dea, 0xb71c4, 0xb759f, 0xb797b,
        0xb7d58, 0xb8129, 0xb84fb, 0xb88ce, 0xb8ca2, 0xb9077, 0xb944d, 0xb9824, 0xb9bfc, 0xb9fd5,
        0xba3af, 0xba78a, 0xbab66, 0xbaf43, 0xbb314, 0xbb6e6, 0xbbab9, 0xbbe8d, 0xbc262, 0xbc638,
        0xbca0f, 0xbcde7, 0xbd1c0, 0xbd59a, 0xbd975, 0xbdd51, 0xbe12e, 0xbe4ff, 0xbe8d1, 0xbeca4,
        0xbf078, 0xbf44d, 0xbf823, 0xbfbfa, 0xbffd2, 0xc03ab, 0xc0785, 0xc0b60, 0xc0f3c, 0xc1319,
        0xc16ea, 0xc1abc, 0xc1e8f, 0xc2263, 0xc2638, 0xc2a0e, 0xc2de5, 0xc31bd, 0xc3596, 0xc3970,
        0xc3d4b, 0xc4127, 0xc4504, 0xc48d5, 0xc4ca7, 0xc507a, 0xc544e, 0xc5823, 0xc5bf9, 0xc5fd0,
        0xc63a8, 0xc6781, 0xc6b5b, 0xc6f36, 0xc7312, 0xc76ef, 0xc7ac0, 0xc7e92, 0xc8265, 0xc8639,
        0xc8a0e, 0xc8de4, 0xc91bb, 0xc9593, 0xc996c, 0xc9d46, 0xca121, 0xca4fd, 0xca8da, 0xcacab,
        0xcb07d, 0xcb450, 0xcb824, 0xcbbf9, 0xcbfcf, 0xcc3a6, 0xcc77e, 0xccb57, 0xccf31, 0xcd30c,
        0xcd6e8, 0xcdac5, 0xcde96, 0xce268, 0xce63b, 0xcea0f, 0xcede4, 0xcf1ba, 0xcf591, 0xcf969,
        0xcfd42, 0xd011c, 0xd04f7, 0xd08d3, 0xd0cb0, 0xd1081, 0xd1453, 0xd1826, 0xd1bfa, 0xd1fcf,
        0xd23a5, 0xd277c, 0xd2b54, 0xd2f2d, 0xd3307, 0xd36e2, 0xd3abe, 0xd3e9b, 0xd426c, 0xd463e,
        0xd4a11, 0xd4de5, 0xd51ba, 0xd5590, 0xd5967, 0xd5d3f, 0xd6118, 0xd64f2, 0xd68cd, 0xd6ca9,
        0xd7086, 0xd7457, 0xd7829, 0xd7bfc, 0xd7fd0, 0xd83a5, 0xd877b, 0xd8b52, 0xd8f2a, 0xd9303,
        0xd96dd, 0xd9ab8, 0xd9e94, 0xda271, 0xda642, 0xdaa14, 0xdade7, 0xdb1bb, 0xdb590, 0xdb966,
        0xdbd3d, 0xdc115, 0xdc4ee, 0xdc8c8, 0xdcca3, 0xdd07f, 0xdd45c, 0xdd82d, 0xddbff, 0xddfd2,
        0xde3a6, 0xde77b, 0xdeb51, 0xdef28, 0xdf300, 0xdf6d9, 0xdfab3, 0xdfe8e, 0xe026a, 0xe0647,
        0xe0a18, 0xe0dea, 0xe11bd, 0xe1591, 0xe1966, 0xe1d3c, 0xe2113, 0xe24eb, 0xe28c4, 0xe2c9e,
        0xe3079, 0xe3455, 0xe3832, 0xe3c03, 0xe3fd5, 0xe43a8, 0xe477c, 0xe4b51, 0xe4f27, 0xe52fe,
        0xe56d6, 0xe5aaf, 0xe5e89, 0xe6264, 0xe6640, 0xe6a1d, 0xe6dee, 0xe71c0, 0xe7593, 0xe7967,
        0xe7d3c, 0xe8112, 0xe84e9, 0xe88c1, 0xe8c9a, 0xe9074, 0xe944f, 0xe982b, 0xe9c08, 0xe9fd9,
        0xea3ab, 0xea77e, 0xeab52, 0xeaf27, 0xeb2fd, 0xeb6d4, 0xebaac, 0xebe85, 0xec25f, 0xec63a,
        0xeca16, 0xecdf3, 0xed1c4, 0xed596, 0xed969, 0xedd3d, 0xee112, 0xee4e8, 0xee8bf, 0xeec97,
        0xef070, 0xef44a, 0xef825, 0xefc01, 0xeffde, 0xf03af, 0xf0781, 0xf0b54, 0xf0f28, 0xf12fd,
        0xf16d3, 0xf1aaa, 0xf1e82, 0xf225b, 0xf2635, 0xf2a10, 0xf2dec, 0xf31c9, 0xf359a, 0xf396c,
        0xf3d3f, 0xf4113, 0xf44e8, 0xf48be, 0xf4c95, 0xf506d, 0xf5446, 0xf5820, 0xf5bfb, 0xf5fd7,
        0xf63b4, 0xf6785, 0xf6b57, 0xf6f2a, 0xf72fe, 0xf76d3, 0xf7aa9, 0xf7e80, 0xf8258, 0xf8631,
        0xf8a0b, 0xf8de6, 0xf91c2, 0xf959f, 0xf9970, 0xf9d42, 0xfa115, 0xfa4e9, 0xfa8be, 0xfac94,
        0xfb06b, 0xfb443, 0xfb81c, 0xfbbf6, 0xfbfd1, 0xfc3ad, 0xfc78a, 0xfcb5b, 0xfcf2d, 0xfd300,
        0xfd6d4, 0xfdaa9, 0xfde7f, 0xfe256, 0xfe62e, 0xfea07, 0xfede1, 0xff1bc, 0xff598, 0xff975,
        0xffd46, 0x100118, 0x1004eb, 0x1008bf, 0x100c94, 0x10106a, 0x101441, 0x101819, 0x101bf2,
        0x101fcc, 0x1023a7, 0x102783, 0x102b60, 0x102f31, 0x103303, 0x1036d6, 0x103aaa, 0x103e7f,
        0x104255, 0x10462c, 0x104a04, 0x104ddd, 0x1051b7, 0x105592, 0x10596e, 0x105d4b, 0x10611c,
        0x1064ee, 0x1068c1, 0x106c95, 0x10706a, 0x107440, 0x107817, 0x107bef, 0x107fc8, 0x1083a2,
        0x10877d, 0x108b59, 0x108f36, 0x109307, 0x1096d9, 0x109aac, 0x109e80, 0x10a255, 0x10a62b,
        0x10aa02, 0x10adda, 0x10b1b3, 0x10b58d, 0x10b968, 0x10bd44, 0x10c121, 0x10c4f2, 0x10c8c4,
        0x10cc97, 0x10d06b, 0x10d440, 0x10d816, 0x10dbed, 0x10dfc5, 0x10e39e, 0x10e778, 0x10eb53,
        0x10ef2f, 0x10f30c, 0x10f6dd, 0x10faaf, 0x10fe82, 0x7f, 0xa0, 0xad, 0x378, 0x600, 0x605,
        0x61c, 0x6dd, 0x70f, 0x180e, 0x1680, 0x2000, 0x200a, 0x200b, 0x200f, 0x2028, 0x202a,
        0x202f, 0x205f, 0x2060, 0x2064, 0x2066, 0x206f, 0x3000, 0xd7ff, 0xe000, 0xf8ff, 0xfeff,
        0xfff9, 0xfffb, 0xfffe, 0xffff, 0x1fae0, 0x2a6de, 0x3134b, 0xe0001, 0xf0000, 0x10fffd,
    ];

    #[test]
    fn is_print_samples() {
        for &c in PRINTABLE {
            assert!(is_print(char::from_u32(c).unwrap()), "U+{c:04X} should be printable");
        }
        for &c in NOT_PRINTABLE {
            assert!(!is_print(char::from_u32(c).unwrap()), "U+{c:04X} should not be printable");
        }
    }

    #[test]
    fn write_value_appends() {
        let mut out = String::from("x=");
        write_value(&mut out, &m(vec![("a", l(vec![i(1), nil()]))]));
        write_value(&mut out, &Value::Missing);
        assert_eq!(out, "x=map[a:[1 <nil>]]<nil>");
    }

    // Divergences from Go, where Go's output depends on addresses (see the module docs).

    #[test]
    fn nested_pointers_print_their_struct() {
        let list = Value::typed_list(
            Type::slice(Type::Ptr(Arc::new(Type::Struct(srv_type())))),
            vec![srv("a", 1, 2, 3)],
        );
        let args = [list.clone(), list.clone(), list.clone(), list];
        // Go: [0xc000010018]|[]*net.SRV{(*net.SRV)(0xc000010018)}; the bad verbs agree with Go.
        let want = "[&{a 1 2 3}]|[]*net.SRV{&net.SRV{Target:\"a\", Port:0x1, Priority:0x2, \
                    Weight:0x3}}|[%!s(*net.SRV=&{a 1 2 3})]|[%!t(*net.SRV=&{a 1 2 3})]";
        t("%v|%#v|%s|%t", &args, want);
    }

    #[test]
    fn functions_print_as_null_pointers() {
        let sig = Signature::new(vec![Type::String], Type::String);
        let func = Value::Func(Function::new(sig, |_| Ok(Value::Nil)));
        // Go prints the code address, e.g. 0x47e0a0.
        t(
            "%v|%p|%#v|%d",
            &[func.clone(), func.clone(), func.clone(), func.clone()],
            "0x0|0x0|(func(string) string)(0x0)|0",
        );
        t("%s|%T", &[func.clone(), func], "%!s(func(string) string=0x0)|func(string) string");
    }

    #[test]
    fn objects_without_string_verbs() {
        // Go prints the private fields of time.Time here.
        t("%d|%t|%#v", &[tm(), tm(), tm()], "%!d(time.Time=2009-11-10 23:00:00 +0000 UTC)|%!t(time.Time=2009-11-10 23:00:00 +0000 UTC)|2009-11-10 23:00:00 +0000 UTC");
    }

    #[test]
    fn pointer_verb() {
        t(
            "%p|%p|%p",
            &[i(1), s("a"), tm()],
            "%!p(int=1)|%!p(string=a)|%!p(time.Time=2009-11-10 23:00:00 +0000 UTC)",
        );
        t("%p|%#p", &[nil_sl(), nil_m()], "0x0|0");
        assert!(sprintf("%p", &[l(vec![])]).starts_with("0x"));
        assert!(sprintf("%p", &[srv("a", 1, 2, 3)]).starts_with("0x"));
    }
}
