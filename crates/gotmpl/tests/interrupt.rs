//! The caller's interrupt hook: it stops a running execution with a distinct error kind, and a
//! hook that never says stop changes nothing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use gotmpl::{ErrorKind, Function, Interrupt, Limits, Signature, Template, Type, Value};

/// A hook that says stop on its `stop_at`-th call (never when `stop_at` is 0), and how often it
/// was called.
fn counting_hook(stop_at: usize) -> (Interrupt, Arc<AtomicUsize>) {
    let polls = Arc::new(AtomicUsize::new(0));
    let counter = polls.clone();
    let hook = Interrupt::new(move || {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        (n == stop_at).then(|| format!("stopped after {n} polls"))
    });
    (hook, polls)
}

fn with_interrupt(hook: Interrupt) -> Limits {
    Limits { interrupt: Some(hook), ..Limits::default() }
}

fn ints(n: i64) -> Value {
    Value::list((0..n).map(Value::Int).collect())
}

/// A nested range over 100000 elements: 10^10 iterations, which would run for hours.
const NESTED_RANGE: &str = "{{range .}}{{range $}}{{end}}{{end}}";

#[test]
fn a_hook_that_says_stop_ends_a_runaway_range_with_its_reason() {
    let (hook, polls) = counting_hook(3);
    let t = Template::new("t").with_limits(with_interrupt(hook)).parse(NESTED_RANGE).unwrap();
    let err = t.execute(&ints(100_000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Interrupted);
    assert_eq!(
        err.to_string(),
        "template: t:1:19: executing \"t\" at <{{range $}}{{end}}>: execution interrupted: stopped after 3 polls"
    );
    assert_eq!(polls.load(Ordering::SeqCst), 3, "the hook is not asked again after a stop");
}

#[test]
fn the_hook_is_asked_about_every_poll_interval_steps() {
    let (hook, polls) = counting_hook(0);
    let t =
        Template::new("t").with_limits(with_interrupt(hook)).parse("{{range .}}{{end}}").unwrap();
    let iterations = 100_000;
    t.execute(&ints(iterations)).unwrap();
    let expected = iterations as usize / Interrupt::POLL_INTERVAL as usize;
    let polled = polls.load(Ordering::SeqCst);
    assert!((expected..=expected + 2).contains(&polled), "{polled} polls, expected {expected}");
}

#[test]
fn called_templates_share_the_step_count_and_name_themselves_in_the_error() {
    let (hook, _) = counting_hook(2);
    let text =
        r#"{{define "inner"}}{{range .}}{{end}}{{end}}{{range .}}{{template "inner" $}}{{end}}"#;
    let t = Template::new("t").with_limits(with_interrupt(hook)).parse(text).unwrap();
    // Each call of "inner" runs 100 steps, fewer than the poll interval.
    let err = t.execute(&ints(100)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Interrupted);
    assert!(err.to_string().contains(r#"executing "inner" at <{{range .}}{{end}}>"#), "{err}");
}

#[test]
fn a_slow_function_in_a_loop_is_interrupted_too() {
    let (hook, _) = counting_hook(1);
    let id = Function::new(Signature::new(vec![Type::Int], Type::Int), |a| Ok(a[0].clone()));
    let t = Template::new("t")
        .func("id", id)
        .with_limits(with_interrupt(hook))
        .parse("{{range .}}{{id .}}{{end}}")
        .unwrap();
    let err = t.execute(&ints(1_000_000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Interrupted);
    assert!(err.to_string().contains("execution interrupted: stopped after 1 polls"), "{err}");
}

#[test]
fn calls_that_move_much_data_poll_sooner() {
    // One call with a 1 MiB argument counts as 1024 steps, so four calls reach a poll.
    let (hook, polls) = counting_hook(0);
    let t = Template::new("t")
        .with_limits(with_interrupt(hook))
        .parse("{{len (print .)}}{{len (print .)}}{{len (print .)}}{{len (print .)}}")
        .unwrap();
    t.execute(&Value::from("x".repeat(1 << 20))).unwrap();
    assert!(polls.load(Ordering::SeqCst) >= 4, "{polls:?}");
}

/// Templates that exercise every kind of step; each runs long enough to poll many times.
const WORKLOADS: &[&str] = &[
    "{{range $i, $x := .}}{{if eq (len (printf \"%d\" $x)) 3}}{{$i}}{{else}}-{{end}}{{end}}",
    "{{range .}}{{with $x := .}}{{print $x}}{{end}}{{if eq . 99990}}{{break}}{{end}}{{end}}",
    "{{range .}}{{if lt . 50000}}{{continue}}{{end}}{{html .}}{{js .}}{{urlquery .}}{{end}}",
    r#"{{define "d"}}<{{.}}>{{end}}{{range .}}{{template "d" .}}{{end}}"#,
    "{{$n := 0}}{{range .}}{{$n = .}}{{end}}{{$n}} {{index . 99999}} {{len (slice . 10 20)}}",
];

#[test]
fn a_hook_that_never_says_stop_changes_nothing() {
    let data = ints(100_000);
    for text in WORKLOADS {
        let plain = Template::new("t").parse(text).unwrap();
        let (hook, polls) = counting_hook(0);
        let hooked = Template::new("t").with_limits(with_interrupt(hook)).parse(text).unwrap();
        assert_eq!(hooked.execute(&data), plain.execute(&data), "{text}");
        assert!(polls.load(Ordering::SeqCst) > 100, "{text}: the hook was asked");
    }
}

#[test]
fn limits_stay_clone_and_debug_with_a_hook() {
    let (hook, _) = counting_hook(0);
    let limits = with_interrupt(hook).clone();
    assert!(format!("{limits:?}").contains("interrupt: Some(Interrupt(..))"));
}
