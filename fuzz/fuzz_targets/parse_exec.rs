//! Parses and executes arbitrary text as a template against fixed data. Any panic, hang or
//! runaway allocation is a bug: hostile templates must end in an error.
#![no_main]

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::{FuncError, Function, Limits, Signature, Template, Type, Value};
use libfuzzer_sys::fuzz_target;

fn data() -> Value {
    let mut inner = BTreeMap::new();
    inner.insert(Arc::from("b"), Value::Int(2));
    inner.insert(Arc::from("s"), Value::from("héllo"));
    let mut m = BTreeMap::new();
    m.insert(Arc::from("a"), Value::Int(1));
    m.insert(Arc::from("f"), Value::Float(2.5));
    m.insert(Arc::from("n"), Value::Nil);
    m.insert(Arc::from("l"), Value::list(vec![Value::from("x"), Value::Int(3), Value::Nil]));
    m.insert(Arc::from("strs"), Value::string_list(["p", "q"]));
    m.insert(Arc::from("m"), Value::map(inner));
    Value::map(m)
}

fn funcs() -> Vec<(String, Function)> {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    vec![
        (
            "fail".to_string(),
            Function::new(Signature::new(vec![Type::String], Type::String).fallible(), move |a| {
                Err(FuncError::new(s(&a[0])))
            }),
        ),
        (
            "cat".to_string(),
            Function::new(
                Signature::new(vec![Type::String], Type::String).variadic(Type::Any),
                |a| Ok(Value::from(gotmpl::gofmt::sprint(a))),
            ),
        ),
        (
            "id".to_string(),
            Function::new(Signature::new(vec![Type::Any], Type::Any), |a| Ok(a[0].clone())),
        ),
    ]
}

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else { return };
    let limits = Limits {
        max_template_depth: 200,
        max_nesting: 400,
        max_output_bytes: 1 << 20,
        ..Limits::default()
    };
    if let Ok(t) = Template::new("fuzz").funcs(funcs()).with_limits(limits).parse(text) {
        let _ = t.execute(&data());
    }
});
