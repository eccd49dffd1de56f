//! Hostile templates end in an error, never in a crash, a hang or unbounded memory. These run
//! on the test harness's threads (2 MiB of stack), the smallest stack a caller is likely to use.

use gotmpl::{ErrorKind, FuncError, Function, Limits, Signature, Template, Type, Value};

#[test]
fn runaway_template_recursion_stops_at_the_depth_limit() {
    // Each level walks one list, so the template limit (1000) is reached first.
    let t = Template::new("t")
        .parse(r#"{{define "r"}}x{{template "r" .}}{{end}}{{template "r" .}}"#)
        .unwrap();
    let err = t.execute(&Value::Missing).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit);
    assert!(err.to_string().ends_with("exceeded maximum template depth (1000)"), "{err}");
}

#[test]
fn recursion_limit_is_configurable() {
    let limits = Limits { max_template_depth: 5, ..Limits::default() };
    let t = Template::new("t")
        .with_limits(limits)
        .parse(r#"{{define "r"}}x{{template "r" .}}{{end}}{{template "r" .}}"#)
        .unwrap();
    let mut out = String::new();
    let err = t.execute_into(&mut out, &Value::Missing).unwrap_err();
    assert!(err.to_string().ends_with("exceeded maximum template depth (5)"), "{err}");
    assert_eq!(out, "xxxxx", "partial output is kept, as Go keeps it");
}

#[test]
fn deeply_nested_parentheses_are_a_parse_error_not_a_stack_overflow() {
    let depth = 100_000;
    let text = format!("{{{{{}1{}}}}}", "(".repeat(depth), ")".repeat(depth));
    let err = Template::new("t").parse(&text).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Parse);
    assert_eq!(err.to_string(), "template: t:1: max nesting depth exceeded");
}

#[test]
fn nesting_just_under_the_limit_parses_and_runs() {
    let depth = 100;
    let text = format!("{{{{{}1{}}}}}", "(".repeat(depth), ")".repeat(depth));
    let t = Template::new("t").parse(&text).unwrap();
    assert_eq!(t.execute(&Value::Missing).unwrap(), "1");
}

#[test]
fn deeply_nested_ifs_are_a_parse_error() {
    let depth = 5_000;
    let text = format!("{}x{}", "{{if 1}}".repeat(depth), "{{end}}".repeat(depth));
    let err = Template::new("t").parse(&text).unwrap_err();
    assert!(err.to_string().contains("max nesting depth exceeded"), "{err}");
}

/// Runs `f` on a thread with `mib` MiB of stack: the default limits need about 2 MiB of stack
/// in release builds and several times that in unoptimised builds, which `cargo test` uses.
fn with_stack<T: Send>(mib: usize, f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(mib << 20)
            .spawn_scoped(s, f)
            .unwrap()
            .join()
            .unwrap()
    })
}

#[test]
fn recursion_through_nested_ifs_is_bounded_by_the_nesting_limit() {
    with_stack(STACK_MIB, recursion_through_nested_ifs);
}

const STACK_MIB: usize = if cfg!(debug_assertions) { 8 } else { 2 };

fn recursion_through_nested_ifs() {
    let ifs = 60;
    let body =
        format!("{}{{{{template \"r\" .}}}}{}", "{{if 1}}".repeat(ifs), "{{end}}".repeat(ifs));
    let text = format!("{{{{define \"r\"}}}}{body}{{{{end}}}}{{{{template \"r\" .}}}}");
    let err = Template::new("t").parse(&text).unwrap().execute(&Value::Missing).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit);
    assert!(err.to_string().ends_with("exceeded maximum nesting depth (1500)"), "{err}");
}

#[test]
fn output_beyond_the_limit_is_an_error() {
    let limits = Limits { max_output_bytes: 1000, ..Limits::default() };
    let t = Template::new("t").with_limits(limits).parse("{{range .}}0123456789{{end}}").unwrap();
    let data = Value::list((0..1000).map(Value::Int).collect());
    let err = t.execute(&data).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit);
    assert!(err.to_string().contains("output exceeds the limit of 1000 bytes"), "{err}");
}

#[test]
fn a_panicking_function_is_an_error_and_the_engine_stays_usable() {
    let boom = Function::new(Signature::new(vec![Type::Int, Type::Int], Type::Int), |a| {
        let (Value::Int(x), Value::Int(y)) = (&a[0], &a[1]) else {
            return Err(FuncError::new("bad"));
        };
        Ok(Value::Int(x / y))
    });
    let t = Template::new("t").func("div", boom).parse("{{div 6 3}} {{div 1 0}}").unwrap();
    let err = t.execute(&Value::Missing).unwrap_err();
    assert_eq!(
        err.to_string(),
        "template: t:1:14: executing \"t\" at <div 1 0>: error calling div: attempt to divide by zero"
    );
    // The same template executes again afterwards.
    assert!(t.execute(&Value::Missing).is_err());
}

#[test]
fn undefined_function_in_an_untaken_branch_is_a_parse_error() {
    let err = Template::new("t").parse("{{if false}}{{nosuch 1}}{{end}}").unwrap_err();
    assert_eq!(err.to_string(), "template: t:1: function \"nosuch\" not defined");
}
