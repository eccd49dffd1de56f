//! Go's predefined template functions with their exact semantics and error texts.
//! `and`/`or` short-circuit and are evaluated by the executor itself.

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use crate::func::{FuncError, Signature};
use crate::gofmt::{self, LimitedString, Sink};
use crate::limits::{CallContext, TooLarge};
use crate::rval::RVal;
use crate::value::{List, Type, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    And,
    Or,
    Not,
    Len,
    Index,
    Slice,
    Print,
    Printf,
    Println,
    Html,
    Js,
    Urlquery,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Call,
}

const ALL: [(&str, Builtin); 19] = [
    ("and", Builtin::And),
    ("or", Builtin::Or),
    ("not", Builtin::Not),
    ("len", Builtin::Len),
    ("index", Builtin::Index),
    ("slice", Builtin::Slice),
    ("print", Builtin::Print),
    ("printf", Builtin::Printf),
    ("println", Builtin::Println),
    ("html", Builtin::Html),
    ("js", Builtin::Js),
    ("urlquery", Builtin::Urlquery),
    ("eq", Builtin::Eq),
    ("ne", Builtin::Ne),
    ("lt", Builtin::Lt),
    ("le", Builtin::Le),
    ("gt", Builtin::Gt),
    ("ge", Builtin::Ge),
    ("call", Builtin::Call),
];

struct Signatures {
    reflect_variadic_reflect: Signature,
    not: Signature,
    len: Signature,
    fallible_reflect_variadic: Signature,
    print: Signature,
    printf: Signature,
    eq: Signature,
    compare: Signature,
}

static SIGNATURES: LazyLock<Signatures> = LazyLock::new(|| {
    let r = || Type::Reflect;
    Signatures {
        reflect_variadic_reflect: Signature::new(vec![r()], r()).variadic(r()),
        not: Signature::new(vec![r()], Type::Bool),
        len: Signature::new(vec![r()], Type::Int).fallible(),
        fallible_reflect_variadic: Signature::new(vec![r()], r()).variadic(r()).fallible(),
        print: Signature::new(vec![], Type::String).variadic(Type::Any),
        printf: Signature::new(vec![Type::String], Type::String).variadic(Type::Any),
        eq: Signature::new(vec![r()], Type::Bool).variadic(r()).fallible(),
        compare: Signature::new(vec![r(), r()], Type::Bool).fallible(),
    }
});

impl Builtin {
    pub fn lookup(name: &str) -> Option<Builtin> {
        ALL.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
    }

    pub fn signature(self) -> &'static Signature {
        let s = &*SIGNATURES;
        match self {
            Builtin::And | Builtin::Or => &s.reflect_variadic_reflect,
            Builtin::Not => &s.not,
            Builtin::Len => &s.len,
            Builtin::Index | Builtin::Slice | Builtin::Call => &s.fallible_reflect_variadic,
            Builtin::Print | Builtin::Println | Builtin::Html | Builtin::Js | Builtin::Urlquery => {
                &s.print
            }
            Builtin::Printf => &s.printf,
            Builtin::Eq => &s.eq,
            Builtin::Ne | Builtin::Lt | Builtin::Le | Builtin::Gt | Builtin::Ge => &s.compare,
        }
    }

    /// Runs the builtin on already converted arguments. The builtins that build text stop
    /// before it grows past `ctx.max_value_bytes()`.
    pub fn call(self, ctx: &CallContext, args: &[RVal]) -> Result<RVal, FuncError> {
        let limit = ctx.max_value_bytes();
        let plain = |v: Value| Ok(RVal::plain(v));
        let text = |s: Result<String, TooLarge>| Ok(RVal::plain(Value::from(s?)));
        match self {
            Builtin::And | Builtin::Or => unreachable!("and/or are evaluated by the executor"),
            Builtin::Not => plain(Value::Bool(!truth(&args[0]))),
            Builtin::Len => Ok(RVal::plain(Value::Int(length(&args[0])? as i64))),
            Builtin::Index => Ok(index(&args[0], &args[1..])?),
            Builtin::Slice => plain(slice(&args[0], &args[1..])?),
            Builtin::Print => text(gofmt::sprint_bounded(&values(args), limit)),
            Builtin::Println => text(gofmt::sprintln_bounded(&values(args), limit)),
            Builtin::Printf => {
                let format = args[0].v.as_str().unwrap_or_default();
                text(gofmt::sprintf_bounded(format, &values(&args[1..]), limit))
            }
            Builtin::Html => text(html_escape(&eval_args(args, limit)?, limit)),
            Builtin::Js => text(js_escape(&eval_args(args, limit)?, limit)),
            Builtin::Urlquery => text(query_escape(&eval_args(args, limit)?, limit)),
            Builtin::Eq => plain(Value::Bool(eq(&args[0], &args[1..], limit)?)),
            Builtin::Ne => plain(Value::Bool(!eq(&args[0], &args[1..2], limit)?)),
            Builtin::Lt => plain(Value::Bool(lt(&args[0], &args[1])?)),
            Builtin::Le => plain(Value::Bool(le(&args[0], &args[1], limit)?)),
            Builtin::Gt => plain(Value::Bool(!le(&args[0], &args[1], limit)?)),
            Builtin::Ge => plain(Value::Bool(!lt(&args[0], &args[1])?)),
            Builtin::Call => call(ctx, &args[0], &args[1..]),
        }
    }
}

fn values(args: &[RVal]) -> Vec<Value> {
    args.iter().map(|a| a.v.clone()).collect()
}

/// Go's `indirectInterface`: the value inside an interface; a nil interface is no value.
pub fn indirect_interface(v: &RVal) -> Value {
    match &v.v {
        Value::Nil => Value::Missing,
        other => other.clone(),
    }
}

pub fn truth(v: &RVal) -> bool {
    indirect_interface(v).truth().unwrap_or(false)
}

fn length(item: &RVal) -> Result<usize, String> {
    match &item.v {
        Value::Nil => Err("len of nil pointer".into()),
        Value::Missing => Err("reflect: call of reflect.Value.Type on zero Value".into()),
        Value::String(s) => Ok(s.len()),
        Value::List(l) => Ok(l.items.len()),
        Value::Map(m) => Ok(m.entries.len()),
        other => Err(format!("len of type {}", other.type_name())),
    }
}

fn index_arg(index: &Value, cap: usize) -> Result<usize, String> {
    let x: i128 = match index {
        Value::Int(i) => i128::from(*i),
        Value::Uint(u) => i128::from(*u as i64),
        Value::Missing => return Err("cannot index slice/array with nil".into()),
        other => return Err(format!("cannot index slice/array with type {}", other.type_name())),
    };
    if x < 0 || x > cap as i128 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

/// Go's `prepareArg` for a map key or a `call` argument.
fn prepare_arg(value: Value, ty: &Type) -> Result<Value, String> {
    let Some(vt) = value.go_type() else {
        if !ty.can_be_nil() {
            return Err(format!("value is nil; should be of type {ty}"));
        }
        return Ok(ty.zero());
    };
    if vt.assignable_to(ty) {
        return Ok(value);
    }
    if vt.is_integer() && ty.is_integer() {
        return Ok(convert_integer(&value, ty));
    }
    Err(format!("value has type {vt}; should be {ty}"))
}

fn convert_integer(value: &Value, ty: &Type) -> Value {
    let bits = match value {
        Value::Int(i) => *i as u64,
        Value::Uint(u) => *u,
        _ => 0,
    };
    match ty {
        Type::Int => Value::Int(bits as i64),
        Type::Uint16 => Value::Uint(bits & 0xFFFF),
        _ => Value::Uint(bits),
    }
}

fn index(item: &RVal, indexes: &[RVal]) -> Result<RVal, String> {
    let mut item = RVal::plain(indirect_interface(item));
    if matches!(item.v, Value::Missing) {
        return Err("index of untyped nil".into());
    }
    for index in indexes {
        let index = indirect_interface(index);
        item = index_once(&item.v, index)?;
    }
    Ok(item)
}

fn index_once(item: &Value, index: Value) -> Result<RVal, String> {
    match item {
        Value::Nil => Err("index of nil pointer".into()),
        Value::List(l) => {
            let x = index_arg(&index, l.items.len())?;
            match l.items.get(x) {
                Some(v) => Ok(RVal::elem(v.clone(), l.elem_type())),
                None => Err("reflect: slice index out of range".into()),
            }
        }
        Value::String(s) => {
            let x = index_arg(&index, s.len())?;
            match s.as_bytes().get(x) {
                Some(b) => Ok(RVal::plain(Value::Uint(u64::from(*b)))),
                None => Err("reflect: string index out of range".into()),
            }
        }
        Value::Map(m) => {
            let key = prepare_arg(index, &Type::String)?;
            let key = key.as_str().unwrap_or_default();
            Ok(match m.entries.get(key) {
                Some(v) => RVal::elem(v.clone(), m.elem_type()),
                None => RVal::elem(m.elem_type().zero(), m.elem_type()),
            })
        }
        other => Err(format!("can't index item of type {}", other.type_name())),
    }
}

fn slice(item: &RVal, indexes: &[RVal]) -> Result<Value, String> {
    let item = indirect_interface(item);
    if matches!(item, Value::Missing) {
        return Err("slice of untyped nil".into());
    }
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    let len = match &item {
        Value::String(s) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            s.len()
        }
        Value::List(l) => l.items.len(),
        other => return Err(format!("can't slice item of type {}", other.type_name())),
    };
    let mut idx = [0, len, len];
    for (i, index) in indexes.iter().enumerate() {
        idx[i] = index_arg(&indirect_interface(index), len)?;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]));
    }
    Ok(match item {
        Value::String(s) => {
            Value::from(String::from_utf8_lossy(&s.as_bytes()[idx[0]..idx[1]]).into_owned())
        }
        Value::List(l) => Value::List(Arc::new(List {
            ty: l.ty.clone(),
            items: l.items[idx[0]..idx[1]].to_vec(),
            nil: false,
        })),
        _ => unreachable!("checked above"),
    })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    Complex,
    String,
    Uint,
}

fn basic_kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Uint(_) => Kind::Uint,
        Value::Float(_) => Kind::Float,
        Value::Complex(..) => Kind::Complex,
        Value::String(_) => Kind::String,
        _ => Kind::Invalid,
    }
}

const BAD_COMPARISON_TYPE: &str = "invalid type for comparison";
const BAD_COMPARISON: &str = "incompatible types for comparison";

fn is_nil(v: &Value) -> bool {
    match v {
        Value::Missing | Value::Nil => true,
        Value::List(l) => l.nil,
        Value::Map(m) => m.nil,
        _ => false,
    }
}

fn comparable(v: &Value) -> bool {
    !matches!(v, Value::List(_) | Value::Map(_) | Value::Func(_))
}

/// Go's `reflect.Kind` name, to decide whether two non-basic values may be compared.
fn reflect_kind(v: &Value) -> u8 {
    match v {
        Value::Missing => 0,
        Value::List(_) => 1,
        Value::Map(_) => 2,
        Value::Struct(_) | Value::Object(_) => 3,
        Value::Ptr(_) => 4,
        Value::Func(_) => 5,
        _ => 6,
    }
}

fn eq(arg1: &RVal, rest: &[RVal], limit: usize) -> Result<bool, FuncError> {
    let a = indirect_interface(arg1);
    if rest.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = basic_kind(&a);
    for arg in rest {
        let b = indirect_interface(arg);
        let k2 = basic_kind(&b);
        let truth = if k1 != k2 {
            match (&a, &b) {
                (Value::Int(i), Value::Uint(u)) | (Value::Uint(u), Value::Int(i)) => {
                    *i >= 0 && *i as u64 == *u
                }
                _ => {
                    if !matches!(a, Value::Missing) && !matches!(b, Value::Missing) {
                        return Err(BAD_COMPARISON.into());
                    }
                    false
                }
            }
        } else {
            match (&a, &b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::Complex(a, b), Value::Complex(c, d)) => a == c && b == d,
                (Value::Int(x), Value::Int(y)) => x == y,
                (Value::String(x), Value::String(y)) => x == y,
                (Value::Uint(x), Value::Uint(y)) => x == y,
                _ => eq_composite(&a, &b, limit)?,
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn eq_composite(a: &Value, b: &Value, limit: usize) -> Result<bool, FuncError> {
    let (ka, kb) = (reflect_kind(a), reflect_kind(b));
    if ka != kb && ka != 0 && kb != 0 {
        return Err(FuncError::new(format!(
            "non-comparable types {}: {}, {}: {}",
            shown(a, limit)?,
            a.type_name(),
            b.type_name(),
            shown(b, limit)?
        )));
    }
    if is_nil(a) || is_nil(b) {
        return Ok(is_nil(a) == is_nil(b));
    }
    if !comparable(b) {
        return Err(FuncError::new(format!(
            "non-comparable type {}: {}",
            shown(b, limit)?,
            b.type_name()
        )));
    }
    if a.type_name() != b.type_name() {
        return Ok(false);
    }
    Ok(a == b)
}

/// A value as an error message shows it, within the value-size limit.
fn shown(v: &Value, limit: usize) -> Result<String, TooLarge> {
    gofmt::sprint_bounded(std::slice::from_ref(v), limit)
}

fn lt(arg1: &RVal, arg2: &RVal) -> Result<bool, String> {
    let a = indirect_interface(arg1);
    let k1 = basic_kind(&a);
    if k1 == Kind::Invalid {
        return Err(BAD_COMPARISON_TYPE.into());
    }
    let b = indirect_interface(arg2);
    let k2 = basic_kind(&b);
    if k2 == Kind::Invalid {
        return Err(BAD_COMPARISON_TYPE.into());
    }
    Ok(match (&a, &b) {
        (Value::Int(i), Value::Uint(u)) => *i < 0 || (*i as u64) < *u,
        (Value::Uint(u), Value::Int(i)) => *i >= 0 && *u < *i as u64,
        _ if k1 != k2 => return Err(BAD_COMPARISON.into()),
        (Value::Bool(_) | Value::Complex(..), _) => return Err(BAD_COMPARISON_TYPE.into()),
        (Value::Float(x), Value::Float(y)) => x < y,
        (Value::Int(x), Value::Int(y)) => x < y,
        (Value::String(x), Value::String(y)) => x < y,
        (Value::Uint(x), Value::Uint(y)) => x < y,
        _ => return Err(BAD_COMPARISON_TYPE.into()),
    })
}

fn le(arg1: &RVal, arg2: &RVal, limit: usize) -> Result<bool, FuncError> {
    if lt(arg1, arg2)? {
        return Ok(true);
    }
    eq(arg1, std::slice::from_ref(arg2), limit)
}

/// Go's `evalArgs`: one string argument is used as is; otherwise the arguments are printed
/// with `fmt.Sprint`, a nil argument as `<no value>`.
fn eval_args(args: &[RVal], limit: usize) -> Result<Cow<'_, str>, TooLarge> {
    if let [one] = args {
        if let Value::String(s) = &one.v {
            return Ok(Cow::Borrowed(s));
        }
    }
    let printable: Vec<Value> = args
        .iter()
        .map(|a| match &a.v {
            Value::Nil | Value::Missing => Value::from("<no value>"),
            Value::Ptr(s) => Value::Struct(s.clone()),
            other => other.clone(),
        })
        .collect();
    gofmt::sprint_bounded(&printable, limit).map(Cow::Owned)
}

/// Escapes `s` character by character into a string of at most `limit` bytes.
fn escape(
    s: &str,
    limit: usize,
    mut escape_char: impl FnMut(&mut LimitedString, char),
) -> Result<String, TooLarge> {
    let mut out = LimitedString::new(String::with_capacity(s.len().min(limit)), limit);
    for c in s.chars() {
        if out.is_over() {
            break;
        }
        escape_char(&mut out, c);
    }
    out.into_result()
}

/// Go's `HTMLEscapeString`, within `limit` bytes.
fn html_escape(s: &str, limit: usize) -> Result<String, TooLarge> {
    if !s.contains(['\'', '"', '&', '<', '>', '\0']) {
        let mut out = LimitedString::new(String::new(), limit);
        out.push_str(s);
        return out.into_result();
    }
    escape(s, limit, |out, c| match c {
        '\0' => out.push('\u{FFFD}'),
        '"' => out.push_str("&#34;"),
        '\'' => out.push_str("&#39;"),
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        c => out.push(c),
    })
}

/// Go's `JSEscapeString`, within `limit` bytes.
fn js_escape(s: &str, limit: usize) -> Result<String, TooLarge> {
    escape(s, limit, |out, c| match c {
        '\\' => out.push_str("\\\\"),
        '\'' => out.push_str("\\'"),
        '"' => out.push_str("\\\""),
        '<' => out.push_str("\\u003C"),
        '>' => out.push_str("\\u003E"),
        '&' => out.push_str("\\u0026"),
        '=' => out.push_str("\\u003D"),
        c if (c as u32) < 0x20 => out.push_str(&format!("\\u00{:02X}", c as u32)),
        c if c.is_ascii() || gofmt::is_print(c) => out.push(c),
        c => out.push_str(&format!("\\u{:04X}", c as u32)),
    })
}

/// Go's `url.QueryEscape`, within `limit` bytes.
fn query_escape(s: &str, limit: usize) -> Result<String, TooLarge> {
    let mut out = LimitedString::new(String::with_capacity(s.len().min(limit)), limit);
    for &b in s.as_bytes() {
        if out.is_over() {
            break;
        }
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out.into_result()
}

fn call(ctx: &CallContext, fun: &RVal, args: &[RVal]) -> Result<RVal, FuncError> {
    let f = match indirect_interface(fun) {
        Value::Missing => return Err("call of nil".into()),
        Value::Func(f) => f,
        other => return Err(format!("non-function of type {}", other.type_name()).into()),
    };
    let sig = f.signature().clone();
    let fixed = sig.params.len();
    if sig.variadic.is_some() {
        if args.len() < fixed {
            return Err(format!(
                "wrong number of args: got {} want at least {}",
                args.len(),
                fixed
            )
            .into());
        }
    } else if args.len() != fixed {
        return Err(format!("wrong number of args: got {} want {}", args.len(), fixed).into());
    }
    let mut argv = Vec::with_capacity(args.len());
    for (i, arg) in args.iter().enumerate() {
        let ty = sig.param(i).expect("arity checked");
        let v = prepare_arg(indirect_interface(arg), ty).map_err(|e| format!("arg {i}: {e}"))?;
        argv.push(v);
    }
    let result = f.call_in(ctx, &argv)?;
    Ok(RVal::elem(result, &sig.result))
}
