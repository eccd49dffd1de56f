//! The file backend's flattening against confd itself.
//!
//! `data/yaml11.cases` holds YAML files; `data/yaml11.golden.json` what confd (Go
//! gopkg.in/yaml.v2 v2.4.0 decoding into `interface{}`, then confd's `nodeWalk`) produced for
//! each, recorded with a throwaway Go program: `kv` (the keys, sorted), `dropped` (values confd
//! silently drops, as `key:GoType`), `error` (yaml.v2's message) or `panic`.
//!
//! Every case must agree with confd (same keys and values; an error where confd errors),
//! except those in [`DIVERGENCES`], which say what we do instead and why. A listed case that
//! starts agreeing with confd fails the test, so the list stays true.

use std::collections::BTreeMap;

use confd_backend::file::flatten_yaml;
use serde_json::Value;

/// What we do where confd differs, on purpose.
enum Ours {
    /// We produce these pairs (sorted).
    Pairs(&'static [(&'static str, &'static str)]),
    /// We report an error containing this text.
    Error(&'static str),
}

const DIVERGENCES: &[(&str, Ours, &str)] = &[
    (
        "ints-big",
        Ours::Pairs(&[
            ("/ka", "9223372036854775808"),
            ("/kb", "18446744073709551615"),
            ("/kc", "18446744073709552000"),
            ("/kd", "-9223372036854776000"),
            ("/ke", "18446744073709551615"),
            ("/kf", "18446744073709551615"),
            ("/kg", "100000000000000000000000"),
            ("/kh", "9223372036854775808"),
        ]),
        "integers above i64::MAX (Go uint64) are printed, not silently dropped",
    ),
    (
        "key-int",
        Ours::Pairs(&[("/80", "http")]),
        "non-string keys: confd panics, we use the resolved value",
    ),
    (
        "key-nested-int",
        Ours::Pairs(&[("/ports/443", "https")]),
        "non-string keys: confd panics, we use the resolved value",
    ),
    (
        "key-octal-int",
        Ours::Pairs(&[("/511", "x")]),
        "non-string keys: confd panics; 0777 is the integer 511",
    ),
    (
        "key-bool",
        Ours::Pairs(&[("/true", "1")]),
        "non-string keys: confd panics; yes is the boolean true",
    ),
    (
        "key-on",
        Ours::Pairs(&[("/true", "x")]),
        "non-string keys: confd panics; on is the boolean true",
    ),
    (
        "key-float",
        Ours::Pairs(&[("/1.5", "x")]),
        "non-string keys: confd panics, we use the resolved value",
    ),
    ("key-null", Ours::Error("null mapping key"), "confd panics on a null key; we report it"),
    (
        "directive-yaml-1-2",
        Ours::Pairs(&[("/ka", "1")]),
        "our parser is YAML 1.2: %YAML 1.2 is accepted",
    ),
    (
        "escape-slash",
        Ours::Pairs(&[("/ka", "a/b")]),
        "our parser is YAML 1.2: the \\/ escape is accepted",
    ),
    (
        "nel-in-plain",
        Ours::Pairs(&[("/ka", "b\u{85}c")]),
        "our parser is YAML 1.2: NEL (U+0085) is an ordinary character, not a line break",
    ),
    (
        "ls-in-plain",
        Ours::Pairs(&[("/ka", "b\u{2028}c")]),
        "our parser is YAML 1.2: LS (U+2028) is an ordinary character, not a line break",
    ),
];

fn cases() -> Vec<(String, String)> {
    let text = include_str!("data/yaml11.cases");
    let mut cases: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("### ") {
            cases.push((name.trim().to_string(), String::new()));
        } else if let Some((_, body)) = cases.last_mut() {
            body.push_str(line);
        }
    }
    cases
}

fn golden() -> BTreeMap<String, Value> {
    serde_json::from_str(include_str!("data/yaml11.golden.json")).expect("golden JSON")
}

fn sorted(pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut pairs = pairs;
    pairs.sort();
    pairs
}

fn golden_pairs(g: &Value) -> Option<Vec<(String, String)>> {
    let obj = g.as_object()?;
    if obj.contains_key("error") || obj.contains_key("panic") || obj.contains_key("dropped") {
        return None;
    }
    let kv = obj.get("kv").and_then(Value::as_array);
    Some(
        kv.map(|kv| {
            kv.iter()
                .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_str().unwrap().to_string()))
                .collect()
        })
        .unwrap_or_default(),
    )
}

#[test]
fn every_case_has_a_golden_and_divergences_exist() {
    let golden = golden();
    let cases = cases();
    assert!(cases.len() > 100, "only {} cases", cases.len());
    for (name, _) in &cases {
        assert!(golden.contains_key(name), "no golden for case {name}");
    }
    for (name, _, _) in DIVERGENCES {
        assert!(cases.iter().any(|(n, _)| n == name), "divergence {name} names no case");
    }
}

#[test]
fn flattening_matches_confd() {
    let golden = golden();
    let mut failures = Vec::new();
    for (name, text) in cases() {
        let g = &golden[&name];
        let ours = flatten_yaml(&text).map(sorted);
        if let Some((_, expected, why)) = DIVERGENCES.iter().find(|(n, _, _)| *n == name) {
            let agrees_with_confd = match (&ours, golden_pairs(g)) {
                (Ok(p), Some(gp)) => *p == gp,
                (Err(_), None) => g.get("error").is_some(),
                _ => false,
            };
            if agrees_with_confd {
                failures
                    .push(format!("{name}: listed as a divergence ({why}) but agrees with confd"));
            }
            match (expected, &ours) {
                (Ours::Pairs(want), Ok(got)) => {
                    let want: Vec<(String, String)> =
                        want.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
                    if *got != want {
                        failures.push(format!("{name}: want {want:?}, got {got:?}"));
                    }
                }
                (Ours::Error(text), Err(e)) if e.to_string().contains(text) => {}
                (_, got) => failures.push(format!("{name}: divergence not as listed, got {got:?}")),
            }
            continue;
        }
        match (golden_pairs(g), &ours) {
            (Some(want), Ok(got)) if *got == want => {}
            (None, Err(_)) if g.get("error").is_some() => {}
            (_, got) => failures.push(format!("{name}: confd gives {g}, we give {got:?}")),
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn errors_name_line_and_column() {
    let cases: BTreeMap<String, String> = cases().into_iter().collect();
    for (name, line, column) in [
        ("syntax-mapping-values", 1, 6),
        ("syntax-error-third-line", 3, 6),
        ("syntax-bad-indent", 3, 2),
        ("top-level-scalar", 1, 1),
        ("tag-int-bad", 1, 5),
        ("control-char", 1, 8),
        ("anchor-unknown", 1, 5),
        ("anchor-recursive", 2, 6),
        ("merge-not-map", 3, 7),
        ("complex-key-seq", 1, 3),
    ] {
        let e = flatten_yaml(&cases[name]).expect_err(name);
        assert_eq!((e.line, e.column), (line, column), "{name}: {e}");
    }
}
