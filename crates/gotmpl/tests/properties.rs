//! Properties that must hold for all inputs, checked on generated ones.

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::{gofmt, Template, Value};
use proptest::prelude::*;

fn render(text: &str, data: &Value) -> Result<String, gotmpl::Error> {
    Template::new("p").parse(text)?.execute(data)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn text_without_actions_is_copied_verbatim(text in "[^{]*") {
        prop_assert_eq!(render(&text, &Value::Missing).unwrap(), text);
    }

    #[test]
    fn a_quoted_string_literal_renders_as_the_string(s in any::<String>()) {
        let text = format!("{{{{{}}}}}", gofmt::quote(&s));
        prop_assert_eq!(render(&text, &Value::Missing).unwrap(), s);
    }

    #[test]
    fn strings_print_unchanged(s in any::<String>()) {
        prop_assert_eq!(render("{{.}}", &Value::from(s.as_str())).unwrap(), s);
    }

    #[test]
    fn integers_print_in_decimal(i in any::<i64>()) {
        let out = render("{{.}} {{printf \"%d\" .}} {{print .}}", &Value::Int(i)).unwrap();
        prop_assert_eq!(out, format!("{i} {i} {i}"));
    }

    #[test]
    fn integer_literals_round_trip(i in any::<i64>()) {
        prop_assert_eq!(render(&format!("{{{{{i}}}}}"), &Value::Missing).unwrap(), i.to_string());
    }

    #[test]
    fn floats_print_the_shortest_text_that_reads_back(f in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
        let out = render("{{.}}", &Value::Float(f)).unwrap();
        prop_assert_eq!(out.parse::<f64>().unwrap(), f);
    }

    #[test]
    fn range_over_a_map_visits_keys_in_sorted_order(keys in proptest::collection::btree_set("[a-z]{1,6}", 0..20)) {
        let map: BTreeMap<Arc<str>, Value> = keys.iter().map(|k| (Arc::from(k.as_str()), Value::Int(1))).collect();
        let out = render("{{range $k, $v := .}}{{$k}},{{end}}", &Value::map(map)).unwrap();
        let expected: String = keys.iter().map(|k| format!("{k},")).collect();
        prop_assert_eq!(out, expected);
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(text in any::<String>()) {
        let _ = render(&text, &Value::Missing);
    }

    #[test]
    fn parsing_action_soup_never_panics(text in "(\\{\\{-? ?|-? ?\\}\\}|[()|$.:=, \"`'a-z0-9\\\\]|if|else|end|range|with|define|template|block|break|continue|nil){0,40}") {
        let _ = render(&text, &Value::Missing);
    }
}

fn small_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::Int),
        any::<f64>().prop_map(Value::Float),
        "[a-zé\u{1}\"\\\\ ]{0,12}".prop_map(Value::from),
        proptest::collection::vec("[a-z]{0,4}", 0..4).prop_map(Value::string_list),
    ]
}

proptest! {
    /// The bounded printer gives exactly the unbounded text when it fits, and refuses when
    /// it does not, wherever the limit falls.
    #[test]
    fn bounded_printf_agrees_with_printf_up_to_the_limit(
        format in "([a-z ]|%[-+# 0]{0,2}[0-9]{0,2}(\\.[0-9])?[vdsqxXfeg%]){0,8}",
        args in proptest::collection::vec(small_value(), 0..5),
        limit in 0usize..120,
    ) {
        let full = gofmt::sprintf(&format, &args);
        let bounded = gofmt::sprintf_bounded(&format, &args, limit);
        if full.len() <= limit {
            prop_assert_eq!(bounded, Ok(full));
        } else {
            prop_assert!(bounded.is_err());
        }
        let printed = gofmt::sprint(&args);
        let bounded = gofmt::sprint_bounded(&args, limit);
        prop_assert_eq!(bounded.is_ok(), printed.len() <= limit);
    }
}
