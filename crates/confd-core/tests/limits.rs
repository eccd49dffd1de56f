//! Templates that would exhaust memory or run for ever through confd's real function map end
//! in an error instead (issue 10, items 5 and 6). Each test stays far below 1 GB of memory.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use confd_core::funcs::{confd_funcs, Host, Now, Srv};
use confd_kv::Store;
use gotmpl::{Error, ErrorKind, Interrupt, Limits, Template, Value};

struct NoHost;

impl Host for NoHost {
    fn getenv(&self, _: &str) -> Option<String> {
        None
    }
    fn lookup_ip(&self, _: &str) -> Vec<IpAddr> {
        Vec::new()
    }
    fn lookup_srv(&self, _: &str, _: &str, _: &str) -> Vec<Srv> {
        Vec::new()
    }
    fn file_exists(&self, _: &str) -> bool {
        false
    }
    fn now(&self) -> Now {
        Now::utc(0, 0)
    }
}

fn render(limits: Limits, text: &str) -> Result<String, Error> {
    let store = Arc::new(Store::from_iter([("/big", "x".repeat(3000))]));
    let funcs = confd_funcs(store, Arc::new(NoHost));
    Template::new("t").funcs(funcs).with_limits(limits).parse(text)?.execute(&Value::Missing)
}

fn value_limit(bytes: usize) -> Limits {
    Limits { max_value_bytes: bytes, ..Limits::default() }
}

// See: issue 10, item 6 (the process aborted allocating 8 GB).
#[test]
fn r10_replace_with_an_empty_old_string_squares_until_refused() {
    let text = r#"{{$s := "x"}}{{range seq 1 22}}{{$s = replace $s "" $s -1}}{{end}}"#;
    let err = render(Limits::default(), text).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit);
    // 1 → 3 → 15 → 255 → 65535 bytes; the next step would be 65535 × 65537.
    assert_eq!(
        err.to_string(),
        "template: t:1:38: executing \"t\" at <replace $s \"\" $s -1>: error calling replace: \
         value of 4294967295 bytes exceeds the limit of 67108864 bytes"
    );
}

// See: issue 10, item 6.
#[test]
fn r10_printf_doubling_stops_at_the_default_limit() {
    let text = r#"{{$s := "x"}}{{range seq 1 40}}{{$s = printf "%s%s" $s $s}}{{end}}"#;
    let err = render(Limits::default(), text).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit);
    assert!(
        err.to_string()
            .ends_with("error calling printf: value exceeds the limit of 67108864 bytes"),
        "{err}"
    );
}

// See: issue 10, item 5 (the render ran for ever).
#[test]
fn r10_nested_seq_ranges_stop_when_the_interrupt_says_so() {
    let polls = Arc::new(AtomicUsize::new(0));
    let counter = polls.clone();
    let hook = Interrupt::new(move || {
        (counter.fetch_add(1, Ordering::SeqCst) >= 10).then(|| "render budget spent".into())
    });
    let limits = Limits { interrupt: Some(hook), ..Limits::default() };
    let text = "{{range seq 1 1048576}}{{range seq 1 1048576}}{{end}}{{end}}";
    let err = render(limits, text).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Interrupted);
    assert!(err.to_string().ends_with("execution interrupted: render budget spent"), "{err}");
    assert_eq!(polls.load(Ordering::SeqCst), 11);
}

/// Templates whose result is far larger than their input, with the error each gives under a
/// 10000-byte limit. `getv "/big"` is 3000 bytes.
const GROWING: &[(&str, &str)] = &[
    (r#"{{replace (getv "/big") "x" "xxxx" -1}}"#, "value of 12000 bytes"),
    (r#"{{split (getv "/big") ""}}"#, "value of 147000 bytes"),
    (r#"{{$b := getv "/big"}}{{join (split "a,b,c,d,e" ",") $b}}"#, "value of 12005 bytes"),
    (
        r#"{{$b := getv "/big"}}{{base64Encode (printf "%s%s%s%s" $b $b $b "x")}}"#,
        "value of 12004 bytes",
    ),
    (
        r#"{{$l := replace (slice (getv "/big") 0 1000) "x" "1," -1}}{{jsonArray (printf "[%s1]" $l)}}"#,
        "value exceeds",
    ),
    (
        r#"{{$l := replace (slice (getv "/big") 0 1000) "x" "1," -1}}{{json (printf "{\"k\":[%s1]}" $l)}}"#,
        "value exceeds",
    ),
    (r#"{{seq 1 1000}}"#, "value of 48000 bytes"),
];

#[test]
fn every_growing_function_refuses_before_building_past_the_limit() {
    for (text, what) in GROWING {
        let err = render(value_limit(10_000), text).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Limit, "{text}: {err}");
        assert!(err.to_string().contains(what), "{text}: {err}");
        assert!(err.to_string().contains("exceeds the limit of 10000 bytes"), "{text}: {err}");
        assert!(render(Limits::default(), text).is_ok(), "{text} fits the default limit");
    }
}

#[test]
fn case_mapping_is_refused_only_when_the_exact_result_is_too_large() {
    // ASCII keeps its length: 3000 bytes fit a 4000-byte limit although twice would not.
    assert_eq!(render(value_limit(4000), r#"{{len (toUpper (getv "/big"))}}"#).unwrap(), "3000");
    // 'ɐ' (2 bytes) upper-cases to 'Ɐ' (3 bytes).
    let text = r#"{{len (toUpper (replace (getv "/big") "x" "ɐ" -1))}}"#;
    let err = render(value_limit(8000), text).unwrap_err();
    assert!(
        err.to_string().ends_with("value of 9000 bytes exceeds the limit of 8000 bytes"),
        "{err}"
    );
}

#[test]
fn results_within_the_limit_are_unchanged() {
    let text =
        r#"{{replace "a-b" "-" "+" -1}} {{split "a,b" ","}} {{toLower "ÀB"}} {{base64Encode "x"}}"#;
    assert_eq!(render(value_limit(200), text).unwrap(), "a+b [a b] àb eA==");
}
