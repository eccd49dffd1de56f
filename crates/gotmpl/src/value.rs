//! Values that flow through a template, and the slice of Go's type system that the engine needs
//! to reproduce Go's behaviour (assignability to function parameters, type names in errors,
//! zero values of missing map entries).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::func::Function;

/// A Go type, as far as templates can observe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    /// `interface {}`: holds any value.
    Any,
    /// `reflect.Value`: the parameter type of the comparison and indexing builtins.
    Reflect,
    Bool,
    /// Go `int` (64 bits).
    Int,
    /// Go `uint` (64 bits).
    Uint,
    /// Go `uint16` (used by `net.SRV`).
    Uint16,
    Float64,
    Complex128,
    String,
    /// A slice; `name` is set for named slice types such as `memkv.KVPairs`.
    Slice {
        name: Option<Arc<str>>,
        elem: Arc<Type>,
    },
    /// `map[string]T`.
    Map(Arc<Type>),
    /// A named struct type such as `memkv.KVPair`.
    Struct(Arc<StructType>),
    /// A pointer to a named struct type (e.g. `*net.SRV`).
    Ptr(Arc<Type>),
    /// A function type.
    Func(Arc<crate::func::Signature>),
    /// An opaque named type provided by the host (e.g. `time.Time`).
    Opaque(Arc<str>),
}

impl Type {
    pub fn slice(elem: Type) -> Type {
        Type::Slice { name: None, elem: Arc::new(elem) }
    }

    /// `[]string`, built once and shared: string lists are made on every `ls` or `getvs`.
    pub fn string_slice() -> Type {
        static STRING_SLICE: std::sync::LazyLock<Type> =
            std::sync::LazyLock::new(|| Type::slice(Type::String));
        STRING_SLICE.clone()
    }

    pub fn named_slice(name: &str, elem: Type) -> Type {
        Type::Slice { name: Some(name.into()), elem: Arc::new(elem) }
    }

    pub fn map(elem: Type) -> Type {
        Type::Map(Arc::new(elem))
    }

    /// Whether an untyped nil can be assigned to this type (Go's `canBeNil`).
    pub fn can_be_nil(&self) -> bool {
        matches!(
            self,
            Type::Any
                | Type::Reflect
                | Type::Slice { .. }
                | Type::Map(_)
                | Type::Ptr(_)
                | Type::Func(_)
        )
    }

    /// The zero value of the type, as Go's `reflect.Zero`.
    pub fn zero(&self) -> Value {
        match self {
            Type::Any | Type::Reflect => Value::Nil,
            Type::Bool => Value::Bool(false),
            Type::Int => Value::Int(0),
            Type::Uint | Type::Uint16 => Value::Uint(0),
            Type::Float64 => Value::Float(0.0),
            Type::Complex128 => Value::Complex(0.0, 0.0),
            Type::String => Value::from(""),
            Type::Slice { .. } => {
                Value::List(Arc::new(List { ty: self.clone(), items: Vec::new(), nil: true }))
            }
            Type::Map(_) => {
                Value::Map(Arc::new(Map { ty: self.clone(), entries: BTreeMap::new(), nil: true }))
            }
            Type::Struct(st) => Value::Struct(Arc::new(Struct {
                ty: st.clone(),
                fields: st.fields.iter().map(|(_, t)| t.zero()).collect(),
            })),
            Type::Ptr(_) | Type::Func(_) | Type::Opaque(_) => Value::Nil,
        }
    }

    /// Go's assignability, restricted to the types we model: identical types, anything to
    /// `interface {}`, and a named slice to its unnamed underlying slice type (or back).
    pub fn assignable_to(&self, target: &Type) -> bool {
        if matches!(target, Type::Any) || self == target {
            return true;
        }
        match (self, target) {
            (Type::Slice { name: n1, elem: e1 }, Type::Slice { name: n2, elem: e2 }) => {
                (n1.is_none() || n2.is_none()) && e1 == e2
            }
            _ => false,
        }
    }

    pub fn is_integer(&self) -> bool {
        matches!(self, Type::Int | Type::Uint | Type::Uint16)
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Any => f.write_str("interface {}"),
            Type::Reflect => f.write_str("reflect.Value"),
            Type::Bool => f.write_str("bool"),
            Type::Int => f.write_str("int"),
            Type::Uint => f.write_str("uint"),
            Type::Uint16 => f.write_str("uint16"),
            Type::Float64 => f.write_str("float64"),
            Type::Complex128 => f.write_str("complex128"),
            Type::String => f.write_str("string"),
            Type::Slice { name: Some(name), .. } => f.write_str(name),
            Type::Slice { name: None, elem } => write!(f, "[]{elem}"),
            Type::Map(elem) => write!(f, "map[string]{elem}"),
            Type::Struct(st) => f.write_str(&st.name),
            Type::Ptr(elem) => write!(f, "*{elem}"),
            Type::Func(sig) => write!(f, "{sig}"),
            Type::Opaque(name) => f.write_str(name),
        }
    }
}

/// A named struct type: its Go name (`memkv.KVPair`) and its exported fields in order.
#[derive(Debug, PartialEq, Eq)]
pub struct StructType {
    pub name: Arc<str>,
    pub fields: Vec<(Arc<str>, Type)>,
}

impl StructType {
    pub fn new(name: &str, fields: &[(&str, Type)]) -> Arc<StructType> {
        Arc::new(StructType {
            name: name.into(),
            fields: fields.iter().map(|(n, t)| (Arc::<str>::from(*n), t.clone())).collect(),
        })
    }

    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|(n, _)| &**n == name)
    }
}

/// A value of a struct type.
#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    pub ty: Arc<StructType>,
    pub fields: Vec<Value>,
}

/// A slice. `nil` marks Go's nil slice (prints like an empty one, but `eq` sees it as nil).
#[derive(Debug, Clone, PartialEq)]
pub struct List {
    pub ty: Type,
    pub items: Vec<Value>,
    pub nil: bool,
}

impl List {
    pub fn elem_type(&self) -> &Type {
        match &self.ty {
            Type::Slice { elem, .. } => elem,
            _ => &Type::Any,
        }
    }
}

/// A `map[string]T`; keys iterate in sorted order, as Go prints and ranges over them.
#[derive(Debug, Clone, PartialEq)]
pub struct Map {
    pub ty: Type,
    pub entries: BTreeMap<Arc<str>, Value>,
    pub nil: bool,
}

impl Map {
    pub fn elem_type(&self) -> &Type {
        match &self.ty {
            Type::Map(elem) => elem,
            _ => &Type::Any,
        }
    }
}

/// A host-provided value with methods, such as `time.Time`.
pub trait Object: Send + Sync + fmt::Debug {
    /// The Go type name, e.g. `time.Time`.
    fn type_name(&self) -> &str;
    /// The text Go's `fmt` prints for it (its `String` method).
    fn to_go_string(&self) -> String;
    /// A method callable from a template (`{{datetime.Format "2006"}}`).
    fn method(&self, name: &str) -> Option<Function>;
}

/// A template value. `Missing` is Go's invalid `reflect.Value` (prints `<no value>`); `Nil` is
/// a nil `interface {}` (prints `<nil>`).
#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    Missing,
    Nil,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    /// A `complex128`: real and imaginary parts (only from complex literals such as `1+2i`).
    Complex(f64, f64),
    String(Arc<str>),
    List(Arc<List>),
    Map(Arc<Map>),
    Struct(Arc<Struct>),
    /// A pointer to a struct (`*net.SRV`); Go prints it as `&{…}` at top level.
    Ptr(Arc<Struct>),
    Func(Function),
    Object(Arc<dyn Object>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Missing, Value::Missing) | (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Uint(a), Value::Uint(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Complex(a, b), Value::Complex(c, d)) => a == c && b == d,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => a == b,
            (Value::Struct(a), Value::Struct(b)) => a == b,
            (Value::Ptr(a), Value::Ptr(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Value {
    /// The Go type of the value; `None` for `Missing` and `Nil` (they have no concrete type).
    pub fn go_type(&self) -> Option<Type> {
        Some(match self {
            Value::Missing | Value::Nil => return None,
            Value::Bool(_) => Type::Bool,
            Value::Int(_) => Type::Int,
            Value::Uint(_) => Type::Uint,
            Value::Float(_) => Type::Float64,
            Value::Complex(..) => Type::Complex128,
            Value::String(_) => Type::String,
            Value::List(l) => l.ty.clone(),
            Value::Map(m) => m.ty.clone(),
            Value::Struct(s) => Type::Struct(s.ty.clone()),
            Value::Ptr(s) => Type::Ptr(Arc::new(Type::Struct(s.ty.clone()))),
            Value::Func(f) => Type::Func(f.signature().clone()),
            Value::Object(o) => Type::Opaque(o.type_name().into()),
        })
    }

    /// The Go type name as `%T` would print it (`<nil>` for nil).
    pub fn type_name(&self) -> String {
        match self.go_type() {
            Some(t) => t.to_string(),
            None => "<nil>".to_string(),
        }
    }

    /// Builds a `[]interface {}`.
    pub fn list(items: Vec<Value>) -> Value {
        Value::typed_list(Type::slice(Type::Any), items)
    }

    /// Builds a slice of the given slice type.
    pub fn typed_list(ty: Type, items: Vec<Value>) -> Value {
        Value::List(Arc::new(List { ty, items, nil: false }))
    }

    /// Builds a `[]string`.
    pub fn string_list<I, S>(items: I) -> Value
    where
        I: IntoIterator<Item = S>,
        S: Into<Arc<str>>,
    {
        let items = items.into_iter().map(|s| Value::String(s.into())).collect();
        Value::typed_list(Type::string_slice(), items)
    }

    /// Builds a `map[string]interface {}`.
    pub fn map(entries: BTreeMap<Arc<str>, Value>) -> Value {
        Value::typed_map(Type::map(Type::Any), entries)
    }

    pub fn typed_map(ty: Type, entries: BTreeMap<Arc<str>, Value>) -> Value {
        Value::Map(Arc::new(Map { ty, entries, nil: false }))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Go's notion of truth used by `if`, `with`, `and`, `or`, `not`; `None` when the value has
    /// no truth value (Go's "if/with can't use").
    pub fn truth(&self) -> Option<bool> {
        Some(match self {
            Value::Missing | Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Uint(u) => *u != 0,
            Value::Float(f) => *f != 0.0,
            Value::Complex(re, im) => *re != 0.0 || *im != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(l) => !l.items.is_empty(),
            Value::Map(m) => !m.entries.is_empty(),
            Value::Struct(_) | Value::Object(_) => true,
            Value::Ptr(_) | Value::Func(_) => true,
        })
    }
}

/// Bytes [`Value::owned_size`] charges for each element of a list or field of a struct on top
/// of what the element itself owns: its slot (a `Value`) and the header of the allocation a
/// string or container element points to. A list of 64M one-byte strings thus measures about
/// 3 GiB, close to what it really occupies.
pub const ELEMENT_OVERHEAD: usize = std::mem::size_of::<Value>() + 2 * std::mem::size_of::<usize>();

/// Bytes charged for each map entry on top of its key's bytes and what its value owns: an
/// element's overhead plus the key's slot.
pub const ENTRY_OVERHEAD: usize = ELEMENT_OVERHEAD + std::mem::size_of::<Arc<str>>();

impl Value {
    /// The memory this value keeps alive on its own, in bytes: a string's length; for a list,
    /// map or struct, [`ELEMENT_OVERHEAD`] per element (or [`ENTRY_OVERHEAD`] plus the key per
    /// entry) plus what each element owns. An allocation shared with another value (a string
    /// or container also held elsewhere, such as the key store's strings that `gets` returns)
    /// is not owned and counts nothing beyond its slot: dropping this value would not free it,
    /// and building the value did not allocate it. Scalars, functions and host objects own
    /// nothing.
    ///
    /// Counting stops as soon as the total passes `stop_above`, so measuring costs at most
    /// about `stop_above / ELEMENT_OVERHEAD` steps whatever the value; the result is then some
    /// number larger than `stop_above` (a lower bound of the size).
    pub fn owned_size(&self, stop_above: usize) -> usize {
        let mut total = 0;
        self.add_owned_size(&mut total, stop_above);
        total
    }

    /// Adds what `self` owns to `total`; false once `total` passed `stop_above`.
    fn add_owned_size(&self, total: &mut usize, stop_above: usize) -> bool {
        match self {
            Value::String(s) if Arc::strong_count(s) == 1 => *total = total.saturating_add(s.len()),
            Value::List(l) if Arc::strong_count(l) == 1 => {
                for item in &l.items {
                    *total = total.saturating_add(ELEMENT_OVERHEAD);
                    if !item.add_owned_size(total, stop_above) {
                        return false;
                    }
                }
            }
            Value::Map(m) if Arc::strong_count(m) == 1 => {
                for (key, item) in &m.entries {
                    let key_bytes = if Arc::strong_count(key) == 1 { key.len() } else { 0 };
                    *total = total.saturating_add(ENTRY_OVERHEAD + key_bytes);
                    if !item.add_owned_size(total, stop_above) {
                        return false;
                    }
                }
            }
            Value::Struct(s) | Value::Ptr(s) if Arc::strong_count(s) == 1 => {
                for field in &s.fields {
                    *total = total.saturating_add(ELEMENT_OVERHEAD);
                    if !field.add_owned_size(total, stop_above) {
                        return false;
                    }
                }
            }
            _ => {}
        }
        *total <= stop_above
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.into())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s.into())
    }
}

impl From<Arc<str>> for Value {
    fn from(s: Arc<str>) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh_strings(n: usize) -> Value {
        Value::string_list((0..n).map(|_| "x".to_string()))
    }

    #[test]
    fn a_string_owns_its_bytes_unless_shared() {
        let s = Value::from("x".repeat(100));
        assert_eq!(s.owned_size(usize::MAX), 100);
        let shared = s.clone();
        assert_eq!(shared.owned_size(usize::MAX), 0);
        assert_eq!(Value::Int(7).owned_size(usize::MAX), 0);
    }

    #[test]
    fn a_list_charges_an_overhead_per_element() {
        assert_eq!(fresh_strings(1000).owned_size(usize::MAX), 1000 * (ELEMENT_OVERHEAD + 1));
        let ints = Value::list((0..10).map(Value::Int).collect());
        assert_eq!(ints.owned_size(usize::MAX), 10 * ELEMENT_OVERHEAD);
    }

    #[test]
    fn a_map_charges_keys_and_entries() {
        let entries = [("ab".into(), Value::from("xyz")), ("c".into(), Value::Int(1))];
        let m = Value::map(entries.into_iter().collect());
        assert_eq!(m.owned_size(usize::MAX), 2 * ENTRY_OVERHEAD + 3 + 3);
    }

    #[test]
    fn shared_elements_count_only_their_slot() {
        let inner = fresh_strings(1000);
        let outer = Value::list(vec![inner.clone(), inner.clone()]);
        assert_eq!(outer.owned_size(usize::MAX), 2 * ELEMENT_OVERHEAD);
    }

    #[test]
    fn counting_stops_soon_after_the_bound() {
        let big = fresh_strings(1_000_000);
        let size = big.owned_size(1000);
        assert!(size > 1000 && size <= 1000 + ELEMENT_OVERHEAD + 1, "{size}");
    }
}
