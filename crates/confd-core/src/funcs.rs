//! confd's template function map: the seven memkv lookups (`get gets getv getvs exists ls
//! lsdir`) and the 32 helpers of confd master's `newFuncMap`, each with the Go signature confd
//! declares (the signature decides how the engine converts arguments and which type errors it
//! reports), Go's semantics and Go's error texts.
//!
//! All I/O (environment, DNS, file system, clock) goes through the injected [`Host`], so a
//! render is a pure function of store, host and template; [`crate::host::SystemHost`] is the
//! real one.
//!
//! `tests/funcs.rs` renders every function through gotmpl and compares with tables produced by
//! Go 1.19 itself (`tools/funcs-oracle`): templates and error texts, `time.Format` layouts,
//! `encoding/json` results and errors, and `strings.ToUpper`/`ToLower` over every code point.
//!
//! Deliberate differences from confd (Go), all documented where they are implemented:
//! - `reverse`, `sortByLength` and `sortKVByLength` return a new list instead of sorting or
//!   reversing their argument in place (our values are immutable); a variable that held the
//!   argument keeps its old order.
//! - `sortByLength`/`sortKVByLength` sort stably. Go's `sort.Sort` is unstable, but for up to
//!   12 elements it is an insertion sort, so the two agree there; above that, elements of equal
//!   length may come out in a different (Go: arbitrary but deterministic) order.
//! - strings are UTF-8: `base64Decode` of bytes that are not UTF-8 replaces them with U+FFFD
//!   (Go would write the raw bytes).
//! - A function whose result would exceed gotmpl's `Limits::max_value_bytes` (default 64 MiB)
//!   fails instead of building it (Go would try and, past the machine's memory, abort):
//!   `replace`, `split`, `join`, `toUpper`, `toLower`, `base64Encode`, `json`, `jsonArray`,
//!   `seq`, `map`, `reverse` and the sorts compute their result's size first; the engine checks
//!   every other result after the call.
//! - `seq` refuses to build more than [`MAX_SEQ`] elements (Go would try and run out of
//!   memory); `json`/`jsonArray` nest at most [`json::MAX_DEPTH`] (1000) levels (Go: 10000).
//! - `datetime` returns our `time.Time` with the methods listed in [`time`]; its `Month` and
//!   `Weekday` print as names but are not numbers.
//! - Engine limits, visible only through `printf "%T"`: gotmpl has no `int64` or `uint16`
//!   values, so `datetime.Unix` is an `int` and `net.SRV`'s `Port` reads back as a `uint`.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use confd_kv::{gopath, KvPair, Store};
use gotmpl::{CallContext, FuncError, Function, Signature, Struct, StructType, Type, Value};
use gotmpl::{TooLarge, ELEMENT_OVERHEAD, ENTRY_OVERHEAD};

pub mod json;
pub mod safe;
pub mod text;
pub mod time;

pub use crate::host::SystemHost;
pub use time::{GoTime, Now};

/// The I/O confd's functions need, injected so that renders (and goldens) are deterministic.
pub trait Host: Send + Sync {
    /// `os.Getenv`: `None` when unset.
    fn getenv(&self, name: &str) -> Option<String>;
    /// `net.LookupIP`; resolver errors give an empty list.
    fn lookup_ip(&self, host: &str) -> Vec<IpAddr>;
    /// `net.LookupSRV(service, proto, name)`; errors give an empty list.
    fn lookup_srv(&self, service: &str, proto: &str, name: &str) -> Vec<Srv>;
    /// Whether `os.Stat(path)` does *not* fail with "not exist" (so permission errors → true).
    fn file_exists(&self, path: &str) -> bool;
    /// The wall clock in the local zone, with a monotonic reading (Go's `time.Now()`).
    fn now(&self) -> Now;
}

/// One DNS SRV record, as Go's `net.SRV`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Srv {
    pub target: String,
    pub port: u16,
    pub priority: u16,
    pub weight: u16,
}

/// The most elements `seq` builds (Go has no limit; a million covers every port range).
pub const MAX_SEQ: i64 = 1 << 20;

/// `memkv.KVPair {Key, Value string}`.
pub fn kv_pair_type() -> Arc<StructType> {
    static T: OnceLock<Arc<StructType>> = OnceLock::new();
    T.get_or_init(|| {
        StructType::new("memkv.KVPair", &[("Key", Type::String), ("Value", Type::String)])
    })
    .clone()
}

/// `net.SRV {Target string; Port, Priority, Weight uint16}`.
pub fn srv_type() -> Arc<StructType> {
    static T: OnceLock<Arc<StructType>> = OnceLock::new();
    T.get_or_init(|| {
        StructType::new(
            "net.SRV",
            &[
                ("Target", Type::String),
                ("Port", Type::Uint16),
                ("Priority", Type::Uint16),
                ("Weight", Type::Uint16),
            ],
        )
    })
    .clone()
}

fn kv_type() -> Type {
    Type::Struct(kv_pair_type())
}

/// `[]memkv.KVPair`.
fn kv_slice_type() -> Type {
    Type::slice(kv_type())
}

/// `memkv.KVPairs`, the named slice type `gets` returns.
fn kv_pairs_type() -> Type {
    Type::named_slice("memkv.KVPairs", kv_type())
}

fn string_slice() -> Type {
    Type::string_slice()
}

fn time_type() -> Type {
    Type::Opaque("time.Time".into())
}

/// A `memkv.KVPair` value.
pub fn kv_pair_value(kv: &KvPair) -> Value {
    Value::Struct(Arc::new(Struct {
        ty: kv_pair_type(),
        fields: vec![Value::String(kv.key.clone()), Value::String(kv.value.clone())],
    }))
}

/// A `*net.SRV` value.
pub fn srv_value(srv: &Srv) -> Value {
    Value::Ptr(Arc::new(Struct {
        ty: srv_type(),
        fields: vec![
            Value::from(srv.target.as_str()),
            Value::Uint(srv.port.into()),
            Value::Uint(srv.priority.into()),
            Value::Uint(srv.weight.into()),
        ],
    }))
}

/// A `[]string` (non-nil).
fn strings(items: impl IntoIterator<Item = impl Into<Arc<str>>>) -> Value {
    Value::string_list(items)
}

/// A `[]string` that is Go's nil slice when empty (prints the same; `eq` can tell).
fn strings_or_nil(items: Vec<String>) -> Value {
    if items.is_empty() {
        string_slice().zero()
    } else {
        strings(items)
    }
}

// ---- argument access: the engine has already converted arguments to the parameter types ----

fn arg_str(args: &[Value], i: usize) -> &str {
    match args.get(i) {
        Some(Value::String(s)) => s,
        _ => "",
    }
}

fn arg_int(args: &[Value], i: usize) -> i64 {
    match args.get(i) {
        Some(Value::Int(n)) => *n,
        _ => 0,
    }
}

fn arg_items(args: &[Value], i: usize) -> &[Value] {
    match args.get(i) {
        Some(Value::List(l)) => &l.items,
        _ => &[],
    }
}

fn item_str(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// The `Key` of a `memkv.KVPair` value.
fn kv_key(v: &Value) -> &str {
    match v {
        Value::Struct(s) => s.fields.first().map_or("", item_str),
        _ => "",
    }
}

fn err(msg: impl Into<String>) -> FuncError {
    FuncError::new(msg)
}

type Funcs = Vec<(String, Function)>;

/// Registers one function.
fn def(
    funcs: &mut Funcs,
    name: &str,
    sig: Signature,
    f: impl Fn(&[Value]) -> Result<Value, FuncError> + Send + Sync + 'static,
) {
    funcs.push((name.to_string(), Function::new(sig, f)));
}

/// Registers one function that may build a value much larger than its arguments: it reads
/// the value-size limit from the [`CallContext`] and must refuse before allocating more.
fn def_bounded(
    funcs: &mut Funcs,
    name: &str,
    sig: Signature,
    f: impl Fn(&CallContext, &[Value]) -> Result<Value, FuncError> + Send + Sync + 'static,
) {
    funcs.push((name.to_string(), Function::with_context(sig, f)));
}

/// Refuses a result of `exact()` bytes over the limit; `exact` (which may scan the input) runs
/// only when the cheap upper bound `bound` is over the limit.
fn check_size(
    ctx: &CallContext,
    bound: usize,
    exact: impl FnOnce() -> usize,
) -> Result<(), TooLarge> {
    if bound <= ctx.max_value_bytes() {
        return Ok(());
    }
    ctx.check_size(exact())
}

/// confd's complete function map (master): memkv's seven plus the 32 helpers, and ours that
/// check values for the context they are rendered in ([`safe`]); what those leave out is
/// dropped silently. Renders whose rejections are to be reported use [`confd_funcs_with`].
pub fn confd_funcs(store: Arc<Store>, host: Arc<dyn Host>) -> Vec<(String, Function)> {
    confd_funcs_with(store, host, safe::Rejections::new())
}

/// [`confd_funcs`], recording the entries the checking functions leave out in `rejections`.
pub fn confd_funcs_with(
    store: Arc<Store>,
    host: Arc<dyn Host>,
    rejections: safe::Rejections,
) -> Vec<(String, Function)> {
    confd_funcs_for(store, host, rejections, RootListing::Confd, RootNotes::default())
}

/// How `ls` and `lsdir` list the root, `/`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RootListing {
    /// As confd does (its issue #725): `ls "/"` gives only the top-level leaf keys, `lsdir "/"`
    /// nothing. The default: a confdir renders the same as with confd.
    #[default]
    Confd,
    /// Every top-level name (`ls`), every top-level name with children (`lsdir`):
    /// `-fix-root-listing`.
    All,
}

/// Root listings of one render whose corrected answer differs from confd's, described for
/// the caller to warn about (once per template while it persists).
#[derive(Clone, Debug, Default)]
pub struct RootNotes(Arc<std::sync::Mutex<Vec<String>>>);

impl RootNotes {
    fn record(&self, note: String) {
        let mut notes = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !notes.contains(&note) {
            notes.push(note);
        }
    }

    /// The notes recorded so far.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

/// [`confd_funcs_with`], with `ls`/`lsdir` of the root answered as `root` says; in
/// [`RootListing::Confd`] a root listing whose corrected answer would differ is noted in
/// `notes`.
pub fn confd_funcs_for(
    store: Arc<Store>,
    host: Arc<dyn Host>,
    rejections: safe::Rejections,
    root: RootListing,
    notes: RootNotes,
) -> Vec<(String, Function)> {
    let mut f = Funcs::with_capacity(44);
    memkv_funcs(&mut f, store, root, notes);
    path_and_string_funcs(&mut f);
    data_funcs(&mut f);
    host_funcs(&mut f, host.clone());
    list_funcs(&mut f);
    math_funcs(&mut f);
    safe_funcs(&mut f, rejections, host);
    f
}

/// `addr`, `ipAddr`, `serverNames`, `token` and `globEscape` (see [`safe`]).
fn safe_funcs(f: &mut Funcs, rejections: safe::Rejections, host: Arc<dyn Host>) {
    let checker = safe::Checker::new(rejections, host);
    let contexts = [
        safe::Context::Address,
        safe::Context::IpAddress,
        safe::Context::ServerNames,
        safe::Context::Token,
    ];
    for context in contexts {
        let checker = checker.clone();
        let sig = Signature::new(vec![Type::Any], Type::Any).fallible();
        def(f, context.function(), sig, move |a| {
            let arg = a.first().unwrap_or(&Value::Nil);
            let input = safe::input(arg).ok_or_else(|| {
                err(format!(
                    "want a string, a memkv.KVPair or a list of them, got {}",
                    arg.type_name()
                ))
            })?;
            Ok(checker.apply(context, input))
        });
    }
    def(f, "globEscape", Signature::new(vec![Type::String], Type::String), |a| {
        Ok(Value::from(safe::glob_escape(arg_str(a, 0))))
    });
}

fn memkv_funcs(f: &mut Funcs, store: Arc<Store>, root: RootListing, notes: RootNotes) {
    let s = store.clone();
    def(f, "get", Signature::new(vec![Type::String], kv_type()).fallible(), move |a| {
        let key = arg_str(a, 0);
        match s.get(key) {
            Some(kv) => Ok(kv_pair_value(&kv)),
            None => Err(err(format!("key does not exist: {key}"))),
        }
    });
    let s = store.clone();
    def(f, "gets", Signature::new(vec![Type::String], kv_pairs_type()).fallible(), move |a| {
        let pairs = s.gets(arg_str(a, 0)).map_err(|e| err(e.to_string()))?;
        Ok(Value::typed_list(kv_pairs_type(), pairs.iter().map(kv_pair_value).collect()))
    });
    let s = store.clone();
    let sig = Signature::new(vec![Type::String], Type::String).variadic(Type::String).fallible();
    def(f, "getv", sig, move |a| {
        let key = arg_str(a, 0);
        match s.get(key) {
            Some(kv) => Ok(Value::String(kv.value)),
            None if a.len() > 1 => Ok(a[1].clone()),
            None => Err(err(format!("key does not exist: {key}"))),
        }
    });
    let s = store.clone();
    def(f, "getvs", Signature::new(vec![Type::String], string_slice()).fallible(), move |a| {
        let values = s
            .getvs_as(arg_str(a, 0), |v| Value::String(v.clone()), |v| v.as_str().unwrap_or(""))
            .map_err(|e| err(e.to_string()))?;
        Ok(Value::typed_list(string_slice(), values))
    });
    let s = store.clone();
    def(f, "exists", Signature::new(vec![Type::String], Type::Bool), move |a| {
        Ok(Value::Bool(s.exists(arg_str(a, 0))))
    });
    let (s, n) = (store.clone(), notes.clone());
    def(f, "ls", Signature::new(vec![Type::String], string_slice()), move |a| {
        let path = arg_str(a, 0);
        Ok(strings(root_aware(root, &n, "ls", path, || s.ls_as_confd(path), || s.ls(path))))
    });
    let (s, n) = (store, notes);
    def(f, "lsdir", Signature::new(vec![Type::String], string_slice()), move |a| {
        let path = arg_str(a, 0);
        let (confd, all) = (|| s.lsdir_as_confd(path), || s.lsdir(path));
        Ok(strings(root_aware(root, &n, "lsdir", path, confd, all)))
    });
}

/// `ls`/`lsdir` of `path`: confd's answer or the corrected one (they differ only for the
/// root); in confd mode a root listing the corrected answer would change is noted.
fn root_aware(
    root: RootListing,
    notes: &RootNotes,
    function: &str,
    path: &str,
    confd: impl FnOnce() -> Vec<Arc<str>>,
    all: impl FnOnce() -> Vec<Arc<str>>,
) -> Vec<Arc<str>> {
    if root == RootListing::All || confd_kv::gopath::clean(path) != "/" {
        return all();
    }
    let (confd, all) = (confd(), all());
    if confd != all {
        let show = |names: &[Arc<str>]| format!("[{}]", names.join(" "));
        notes.record(format!(
            "{function} {} gives {} as confd does (its issue #725); the corrected listing \
             would be {}: -fix-root-listing (confd.toml fix_root_listing = true) renders that",
            gotmpl::gofmt::quote(path),
            show(&confd),
            show(&all)
        ));
    }
    confd
}

fn str_to_str(f: &mut Funcs, name: &str, imp: fn(&str) -> Cow<'_, str>) {
    def(f, name, Signature::new(vec![Type::String], Type::String), move |a| {
        Ok(Value::from(&*imp(arg_str(a, 0))))
    });
}

fn path_and_string_funcs(f: &mut Funcs) {
    str_to_str(f, "base", |p| Cow::Borrowed(gopath::base_str(p)));
    str_to_str(f, "dir", |p| Cow::Owned(gopath::dir(p)));
    let sig = Signature::new(vec![Type::String, Type::String], string_slice());
    def_bounded(f, "split", sig, |ctx, a| {
        let (s, sep) = (arg_str(a, 0), arg_str(a, 1));
        // `split $s ""` of 60 MB would be 60M strings: count them first.
        let list_size = |pieces: usize, bytes: usize| {
            pieces.saturating_mul(ELEMENT_OVERHEAD).saturating_add(bytes)
        };
        check_size(ctx, list_size(s.len().saturating_add(1), s.len()), || {
            let (pieces, bytes) = text::split_size(s, sep);
            list_size(pieces, bytes)
        })?;
        Ok(strings(text::split(s, sep)))
    });
    let sig = Signature::new(vec![string_slice(), Type::String], Type::String);
    def_bounded(f, "join", sig, |ctx, a| {
        let items: Vec<&str> = arg_items(a, 0).iter().map(item_str).collect();
        let sep = arg_str(a, 1);
        let seps = items.len().saturating_sub(1).saturating_mul(sep.len());
        ctx.check_size(items.iter().map(|s| s.len()).fold(seps, usize::saturating_add))?;
        Ok(Value::from(items.join(sep)))
    });
    for (name, upper) in [("toUpper", true), ("toLower", false)] {
        let sig = Signature::new(vec![Type::String], Type::String);
        def_bounded(f, name, sig, move |ctx, a| {
            let s = arg_str(a, 0);
            check_size(ctx, s.len().saturating_mul(2), || text::case_mapped_len(s, upper))?;
            Ok(Value::from(if upper { text::to_upper(s) } else { text::to_lower(s) }))
        });
    }
    let sig = Signature::new(vec![Type::String, Type::String], Type::Bool);
    def(f, "contains", sig, |a| Ok(Value::Bool(arg_str(a, 0).contains(arg_str(a, 1)))));
    let sig =
        Signature::new(vec![Type::String, Type::String, Type::String, Type::Int], Type::String);
    def_bounded(f, "replace", sig, |ctx, a| {
        let (s, old, new, n) = (arg_str(a, 0), arg_str(a, 1), arg_str(a, 2), arg_int(a, 3));
        // An empty `old` inserts `new` at every character boundary: n² from n.
        let bound = text::replaced_len_bound(s, old, new, n);
        check_size(ctx, bound, || text::replaced_len(s, old, new, n))?;
        Ok(Value::from(text::replace(s, old, new, n)))
    });
    let sig = Signature::new(vec![Type::String, Type::String], Type::String);
    def(f, "trimSuffix", sig, |a| {
        let (s, suffix) = (arg_str(a, 0), arg_str(a, 1));
        Ok(Value::from(s.strip_suffix(suffix).unwrap_or(s)))
    });
    def_bounded(f, "base64Encode", Signature::new(vec![Type::String], Type::String), |ctx, a| {
        let s = arg_str(a, 0);
        ctx.check_size(text::base64_encoded_len(s))?;
        Ok(Value::from(text::base64_encode(s)))
    });
    def(f, "base64Decode", Signature::new(vec![Type::String], Type::String).fallible(), |a| {
        let bytes = text::base64_decode(arg_str(a, 0)).map_err(err)?;
        Ok(Value::from(String::from_utf8_lossy(&bytes).into_owned()))
    });
    def(f, "parseBool", Signature::new(vec![Type::String], Type::Bool).fallible(), |a| {
        text::parse_bool(arg_str(a, 0)).map(Value::Bool).map_err(err)
    });
    def(f, "atoi", Signature::new(vec![Type::String], Type::Int).fallible(), |a| {
        text::atoi(arg_str(a, 0)).map(Value::Int).map_err(err)
    });
}

fn data_funcs(f: &mut Funcs) {
    let map_any = Type::map(Type::Any);
    let sig = Signature::new(vec![Type::String], map_any.clone()).fallible();
    def_bounded(f, "json", sig, |ctx, a| {
        json::unmarshal_object_within(arg_str(a, 0), ctx.max_value_bytes())
    });
    let sig = Signature::new(vec![Type::String], Type::slice(Type::Any)).fallible();
    def_bounded(f, "jsonArray", sig, |ctx, a| {
        json::unmarshal_array_within(arg_str(a, 0), ctx.max_value_bytes())
    });
    let sig = Signature::new(vec![], map_any).variadic(Type::Any).fallible();
    def_bounded(f, "map", sig, |ctx, a| {
        if a.len() % 2 != 0 {
            return Err(err("invalid map call"));
        }
        ctx.check_size((a.len() / 2).saturating_mul(ENTRY_OVERHEAD))?;
        let mut entries = std::collections::BTreeMap::new();
        for pair in a.chunks(2) {
            let Value::String(key) = &pair[0] else {
                return Err(err("map keys must be strings"));
            };
            // A "no value" argument arrives as Go's nil interface.
            let value = match &pair[1] {
                Value::Missing => Value::Nil,
                v => v.clone(),
            };
            entries.insert(key.clone(), value);
        }
        Ok(Value::map(entries))
    });
}

fn host_funcs(f: &mut Funcs, host: Arc<dyn Host>) {
    let h = host.clone();
    let sig = Signature::new(vec![Type::String], Type::String).variadic(Type::String);
    def(f, "getenv", sig, move |a| {
        let value = h.getenv(arg_str(a, 0)).unwrap_or_default();
        if value.is_empty() {
            return Ok(a.get(1).cloned().unwrap_or_else(|| Value::from("")));
        }
        Ok(Value::from(value))
    });
    let h = host.clone();
    def(f, "datetime", Signature::new(vec![], time_type()), move |_| {
        Ok(GoTime::from_now(&h.now()).into_value())
    });
    type Filter = fn(&str) -> bool;
    let lookups: [(&str, Filter); 3] = [
        ("lookupIP", |_| true),
        ("lookupIPV4", |s| s.contains('.')),
        ("lookupIPV6", |s| s.contains(':')),
    ];
    for (name, keep) in lookups {
        let h = host.clone();
        def(f, name, Signature::new(vec![Type::String], string_slice()), move |a| {
            let ips: Vec<String> =
                lookup_ip(&*h, arg_str(a, 0)).into_iter().filter(|ip| keep(ip)).collect();
            Ok(strings_or_nil(ips))
        });
    }
    let h = host.clone();
    let srv_list = Type::slice(Type::Ptr(Arc::new(Type::Struct(srv_type()))));
    let sig = Signature::new(vec![Type::String, Type::String, Type::String], srv_list.clone());
    def(f, "lookupSRV", sig, move |a| {
        let mut records = h.lookup_srv(arg_str(a, 0), arg_str(a, 1), arg_str(a, 2));
        // confd sorts by the concatenation Target+Port+Priority+Weight (sort.Slice; stable here).
        records.sort_by_cached_key(|r| format!("{}{}{}{}", r.target, r.port, r.priority, r.weight));
        Ok(Value::typed_list(srv_list.clone(), records.iter().map(srv_value).collect()))
    });
    let h = host;
    def(f, "fileExists", Signature::new(vec![Type::String], Type::Bool), move |a| {
        Ok(Value::Bool(h.file_exists(arg_str(a, 0))))
    });
}

/// `lookupIP`'s list: Go's string forms, sorted; an IPv4-mapped IPv6 address prints as IPv4,
/// as Go's `net.IP.String` does.
fn lookup_ip(host: &dyn Host, name: &str) -> Vec<String> {
    let mut ips: Vec<String> = host
        .lookup_ip(name)
        .into_iter()
        .map(|ip| match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => v6.to_string(),
            },
            IpAddr::V4(v4) => v4.to_string(),
        })
        .collect();
    ips.sort();
    ips
}

fn list_funcs(f: &mut Funcs) {
    def_bounded(f, "reverse", Signature::new(vec![Type::Any], Type::Any), |ctx, a| {
        let v = a.first().cloned().unwrap_or(Value::Nil);
        // Go's type switch matches exactly `[]string` and `[]memkv.KVPair`: the named
        // `memkv.KVPairs` from `gets` falls through and is returned unchanged.
        if let Value::List(l) = &v {
            if l.ty == string_slice() || l.ty == kv_slice_type() {
                ctx.check_list(l.items.len(), 0)?;
                let mut list = (**l).clone();
                list.items.reverse();
                return Ok(Value::List(Arc::new(list)));
            }
        }
        Ok(v)
    });
    def_bounded(
        f,
        "sortByLength",
        Signature::new(vec![string_slice()], string_slice()),
        |ctx, a| {
            ctx.check_list(arg_items(a, 0).len(), 0)?;
            Ok(sorted_by_len(&a[0], string_slice(), item_str))
        },
    );
    let sig = Signature::new(vec![kv_slice_type()], kv_slice_type());
    def_bounded(f, "sortKVByLength", sig, |ctx, a| {
        ctx.check_list(arg_items(a, 0).len(), 0)?;
        Ok(sorted_by_len(&a[0], kv_slice_type(), kv_key))
    });
}

/// A copy of the list `v` as type `ty`, stably sorted by the byte length of `key(item)`.
fn sorted_by_len(v: &Value, ty: Type, key: fn(&Value) -> &str) -> Value {
    match v {
        Value::List(l) => {
            let mut items = l.items.clone();
            items.sort_by_key(|item| key(item).len());
            Value::List(Arc::new(gotmpl::List { ty, items, nil: l.nil }))
        }
        _ => ty.zero(),
    }
}

fn math_funcs(f: &mut Funcs) {
    type Op = fn(i64, i64) -> Option<i64>;
    let ops: [(&str, Op); 5] = [
        ("add", |a, b| Some(a.wrapping_add(b))),
        ("sub", |a, b| Some(a.wrapping_sub(b))),
        ("mul", |a, b| Some(a.wrapping_mul(b))),
        ("div", |a, b| (b != 0).then(|| a.wrapping_div(b))),
        ("mod", |a, b| (b != 0).then(|| a.wrapping_rem(b))),
    ];
    for (name, op) in ops {
        def(f, name, Signature::new(vec![Type::Int, Type::Int], Type::Int), move |a| {
            // Go panics on a zero divisor; text/template turns the panic into this error.
            op(arg_int(a, 0), arg_int(a, 1))
                .map(Value::Int)
                .ok_or_else(|| err("runtime error: integer divide by zero"))
        });
    }
    let sig = Signature::new(vec![Type::Int, Type::Int], Type::slice(Type::Int));
    def_bounded(f, "seq", sig, |ctx, a| {
        let (first, last) = (arg_int(a, 0), arg_int(a, 1));
        let ty = Type::slice(Type::Int);
        if first > last {
            return Ok(ty.zero()); // Go returns a nil slice
        }
        let count = (i128::from(last) - i128::from(first)) + 1;
        if count > i128::from(MAX_SEQ) {
            return Err(err(format!("seq: {count} elements is more than the limit of {MAX_SEQ}")));
        }
        ctx.check_list(count as usize, 0)?;
        Ok(Value::typed_list(ty, (first..=last).map(Value::Int).collect()))
    });
}
