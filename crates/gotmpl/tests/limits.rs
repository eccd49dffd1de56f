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

// ---- the value-size limit ---------------------------------------------------------------------

const SMALL: usize = 1 << 16;

fn with_value_limit(bytes: usize, text: &str) -> Template {
    let limits = Limits { max_value_bytes: bytes, ..Limits::default() };
    Template::new("t").with_limits(limits).parse(text).unwrap()
}

fn ints(n: i64) -> Value {
    Value::list((0..n).map(Value::Int).collect())
}

#[test]
fn printf_doubling_a_string_stops_at_the_value_limit() {
    let t =
        with_value_limit(SMALL, r#"{{$s := "x"}}{{range .}}{{$s = printf "%s%s" $s $s}}{{end}}"#);
    let err = t.execute(&ints(40)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit);
    assert_eq!(
        err.to_string(),
        "template: t:1:31: executing \"t\" at <printf \"%s%s\" $s $s>: error calling printf: \
         value exceeds the limit of 65536 bytes"
    );
}

#[test]
fn a_result_of_exactly_the_limit_is_allowed_and_one_byte_more_is_not() {
    let t = with_value_limit(SMALL, "{{len (print .)}}");
    assert_eq!(t.execute(&Value::from("x".repeat(SMALL))).unwrap(), SMALL.to_string());
    let err = t.execute(&Value::from("x".repeat(SMALL + 1))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit);
}

/// Each template builds text more than twice the size of its input `.`, a string of 40000
/// bytes: over a 64 KiB limit, under the default one.
const GROWING: &[&str] = &[
    "{{print . .}}",
    "{{println . .}}",
    r#"{{printf "%s%s" . .}}"#,
    r#"{{printf "%q" .}}"#,
    r#"{{printf "% x" .}}"#,
    r#"{{printf "%80000s" "x"}}"#,
    r#"{{printf "%080000d" 1}}"#,
    "{{html .}}",
    "{{js .}}",
    "{{urlquery .}}",
    "{{print (slice . 0 1) . .}}",
];

#[test]
fn every_builtin_that_builds_text_respects_the_limit() {
    let data = Value::from("<\u{1}>".repeat(40_000 / 3));
    for text in GROWING {
        let err = with_value_limit(SMALL, text).execute(&data).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Limit, "{text}: {err}");
        assert!(err.to_string().ends_with("value exceeds the limit of 65536 bytes"), "{err}");
        let out = Template::new("t").parse(text).unwrap().execute(&data).unwrap();
        assert!(out.len() > SMALL, "{text}: the default limit lets it through");
    }
}

#[test]
fn printf_of_a_hundred_large_arguments_stops_at_the_default_limit() {
    // Unbounded, this would allocate 6 GB; bounded, it stops after 64 MiB.
    let (verbs, args) = ("%s".repeat(100), " .".repeat(100));
    let t = Template::new("t").parse(&format!("{{{{printf \"{verbs}\"{args}}}}}")).unwrap();
    let err = t.execute(&Value::from("x".repeat(60 << 20))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit);
    assert!(err.to_string().ends_with("value exceeds the limit of 67108864 bytes"), "{err}");
}

#[test]
fn a_function_result_over_the_limit_is_refused_after_the_call() {
    let big = Function::new(Signature::new(vec![Type::Int], Type::slice(Type::String)), |a| {
        let Value::Int(n) = a[0] else { return Err(FuncError::new("bad")) };
        Ok(Value::string_list((0..n).map(|i| i.to_string())))
    });
    let t = Template::new("t")
        .func("big", big)
        .with_limits(Limits { max_value_bytes: SMALL, ..Limits::default() })
        .parse("{{len (big 10)}} {{len (big 100000)}}")
        .unwrap();
    let mut out = String::new();
    let err = t.execute_into(&mut out, &Value::Missing).unwrap_err();
    assert_eq!(out, "10 ");
    assert_eq!(err.kind(), ErrorKind::Limit);
    assert_eq!(
        err.to_string(),
        "template: t:1:24: executing \"t\" at <big 100000>: error calling big: value exceeds the \
         limit of 65536 bytes"
    );
}

#[test]
fn a_function_sees_the_limit_and_its_refusal_is_a_limit_error() {
    let sig = Signature::new(vec![Type::Int], Type::String);
    let repeat = Function::with_context(sig, |ctx, a| {
        let Value::Int(n) = a[0] else { return Err(FuncError::new("bad")) };
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        ctx.check_size(n)?;
        Ok(Value::from("x".repeat(n)))
    });
    let t = Template::new("t")
        .func("repeat", repeat)
        .with_limits(Limits { max_value_bytes: 1000, ..Limits::default() })
        .parse("{{len (repeat 1000)}} {{repeat 1000000000000}}")
        .unwrap();
    let err = t.execute(&Value::Missing).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit);
    assert!(
        err.to_string().ends_with(
            "error calling repeat: value of 1000000000000 bytes exceeds the limit of 1000 bytes"
        ),
        "{err}"
    );
}

#[test]
fn values_that_share_their_parts_are_not_charged_twice() {
    // Each level's map holds the previous one twice: 2^40 entries if copied, 40 maps shared.
    let pair = Function::new(Signature::new(vec![Type::Any], Type::map(Type::Any)), |a| {
        let entries = [("a".into(), a[0].clone()), ("b".into(), a[0].clone())];
        Ok(Value::map(entries.into_iter().collect()))
    });
    let t = Template::new("t")
        .func("pair", pair)
        .with_limits(Limits { max_value_bytes: 1000, ..Limits::default() })
        .parse(r#"{{$m := "x"}}{{range .}}{{$m = pair $m}}{{end}}{{len $m}}"#)
        .unwrap();
    assert_eq!(t.execute(&ints(40)).unwrap(), "2");
}

#[test]
fn printing_a_huge_shared_value_stops_at_the_output_limit() {
    let pair = Function::new(Signature::new(vec![Type::Any], Type::slice(Type::Any)), |a| {
        Ok(Value::list(vec![a[0].clone(), a[0].clone()]))
    });
    let t = Template::new("t")
        .func("pair", pair)
        .with_limits(Limits { max_output_bytes: 1 << 20, ..Limits::default() })
        .parse(r#"{{$m := "x"}}{{range .}}{{$m = pair $m}}{{end}}{{$m}}"#)
        .unwrap();
    let mut out = String::new();
    let err = t.execute_into(&mut out, &ints(100)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit);
    assert!(err.to_string().ends_with("output exceeds the limit of 1048576 bytes"), "{err}");
    assert!(out.len() <= 1 << 20);
}
