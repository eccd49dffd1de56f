//! Conformance with Go's own `text/template`: every case of `tests/corpus/*.cases` is rendered
//! and compared with the golden that `tools/go-oracle` (Go 1.19.8) wrote. Cases listed in
//! `tests/corpus/divergences.toml` are deliberate differences; the test fails if one of them
//! starts to agree with Go (so the list stays honest) or if any other case disagrees.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gotmpl::{FuncError, Function, Signature, StructType, Template, Type, Value};

struct Case {
    name: String,
    data: Option<String>,
    template: String,
}

fn parse_cases(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        let Some(name) = line.strip_prefix("### case: ") else {
            continue;
        };
        let mut case = Case { name: name.trim().to_string(), data: None, template: String::new() };
        while let Some(line) = lines.next() {
            if let Some(data) = line.strip_prefix("### data: ") {
                case.data = Some(data.to_string());
            } else if line == "### template" {
                let mut body = Vec::new();
                while let Some(next) = lines.peek() {
                    if next.starts_with("### case:") {
                        break;
                    }
                    body.push(lines.next().unwrap());
                }
                case.template = body.join("\n");
                // The file's final newline is not part of the last template.
                if lines.peek().is_none() && text.ends_with('\n') {
                    case.template =
                        case.template.strip_suffix('\n').unwrap_or(&case.template).to_string();
                }
                break;
            }
        }
        cases.push(case);
    }
    cases
}

fn json_to_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            let text = n.to_string();
            match n.as_i64() {
                Some(i) if !text.contains(['.', 'e', 'E']) => Value::Int(i),
                _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            }
        }
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(items) => Value::list(items.iter().map(json_to_value).collect()),
        serde_json::Value::Object(map) => {
            let entries: BTreeMap<Arc<str>, Value> =
                map.iter().map(|(k, v)| (Arc::from(k.as_str()), json_to_value(v))).collect();
            Value::map(entries)
        }
    }
}

fn kv_type() -> Arc<StructType> {
    StructType::new("memkv.KVPair", &[("Key", Type::String), ("Value", Type::String)])
}

fn kv(k: &Value, v: &Value) -> Value {
    Value::Struct(Arc::new(gotmpl::Struct { ty: kv_type(), fields: vec![k.clone(), v.clone()] }))
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        _ => 0,
    }
}

/// The same function map as `tools/go-oracle/funcs.go`.
fn test_funcs() -> Vec<(String, Function)> {
    use Type::*;
    let f = |name: &str, sig: Signature, imp: fn(&[Value]) -> Result<Value, FuncError>| {
        (name.to_string(), Function::new(sig, imp))
    };
    let upper = Function::new(Signature::new(vec![String], String), |a| {
        Ok(Value::from(s(&a[0]).to_uppercase()))
    });
    let errf = Function::new(Signature::new(vec![String], String).fallible(), |a| {
        Err(FuncError::new(format!("errfn: {}", s(&a[0]))))
    });
    let upper_sig = upper.signature().as_ref().clone();
    let err_sig = errf.signature().as_ref().clone();
    vec![
        f("fail", Signature::new(vec![String], String).fallible(), |a| {
            Err(FuncError::new(s(&a[0])))
        }),
        f("boom", Signature::new(vec![], String), |_| panic!("boom")),
        f("ok", Signature::new(vec![String], String).fallible(), |a| Ok(a[0].clone())),
        f("kv", Signature::new(vec![String, String], Struct(kv_type())), |a| Ok(kv(&a[0], &a[1]))),
        f("kvs", Signature::new(vec![], Type::slice(Struct(kv_type()))).variadic(String), |a| {
            let pairs =
                a.chunks(2).map(|c| kv(&c[0], c.get(1).unwrap_or(&Value::from("")))).collect();
            Ok(Value::typed_list(Type::slice(Struct(kv_type())), pairs))
        }),
        f("strs", Signature::new(vec![], Type::slice(String)).variadic(String), |a| {
            Ok(Value::typed_list(Type::slice(String), a.to_vec()))
        }),
        f("ints", Signature::new(vec![], Type::slice(Int)).variadic(Int), |a| {
            Ok(Value::typed_list(Type::slice(Int), a.to_vec()))
        }),
        f("join", Signature::new(vec![Type::slice(String), String], String), |a| {
            let Value::List(l) = &a[0] else {
                return Ok(Value::from(""));
            };
            let parts: Vec<&str> = l.items.iter().map(s).collect();
            Ok(Value::from(parts.join(s(&a[1]))))
        }),
        f("add", Signature::new(vec![Int, Int], Int), |a| {
            Ok(Value::Int(int(&a[0]).wrapping_add(int(&a[1]))))
        }),
        f("cat", Signature::new(vec![String], String).variadic(String), |a| {
            let parts: Vec<&str> = a.iter().map(s).collect();
            Ok(Value::from(parts.join("-")))
        }),
        f("mkmap", Signature::new(vec![], Type::map(Any)).variadic(Any).fallible(), |a| {
            if a.len() % 2 == 1 {
                return Err(FuncError::new("invalid map call"));
            }
            let mut m = BTreeMap::new();
            for pair in a.chunks(2) {
                let Some(k) = pair[0].as_str() else {
                    return Err(FuncError::new("map keys must be strings"));
                };
                m.insert(Arc::from(k), pair[1].clone());
            }
            Ok(Value::map(m))
        }),
        f("nilval", Signature::new(vec![], Any), |_| Ok(Value::Nil)),
        f("half", Signature::new(vec![Float64], Float64), |a| match a[0] {
            Value::Float(x) => Ok(Value::Float(x / 2.0)),
            _ => Ok(Value::Float(0.0)),
        }),
        f("touint", Signature::new(vec![Int], Uint), |a| Ok(Value::Uint(int(&a[0]) as u64))),
        ("upperfn".into(), {
            let upper = upper.clone();
            Function::new(Signature::new(vec![], Type::Func(Arc::new(upper_sig))), move |_| {
                Ok(Value::Func(upper.clone()))
            })
        }),
        ("errfn".into(), {
            let errf = errf.clone();
            Function::new(Signature::new(vec![], Type::Func(Arc::new(err_sig))), move |_| {
                Ok(Value::Func(errf.clone()))
            })
        }),
    ]
}

/// Outcome in the golden's terms: (result, output, error).
fn run_case(case: &Case) -> (String, String, String) {
    let data = match &case.data {
        Some(text) => json_to_value(&serde_json::from_str(text).expect("case data is JSON")),
        None => Value::Missing,
    };
    let tmpl = match Template::new("tpl").funcs(test_funcs()).parse(&case.template) {
        Ok(t) => t,
        Err(e) => return ("parse_error".into(), String::new(), e.to_string()),
    };
    let mut out = String::new();
    match tmpl.execute_into(&mut out, &data) {
        Ok(()) => ("ok".into(), out, String::new()),
        Err(e) => ("exec_error".into(), out, e.to_string()),
    }
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn divergences() -> BTreeMap<String, String> {
    let text = fs::read_to_string(corpus_dir().join("divergences.toml")).unwrap_or_default();
    let table: toml::Table = text.parse().expect("divergences.toml parses");
    table
        .into_iter()
        .map(|(name, v)| {
            (name, v.get("reason").and_then(|r| r.as_str()).unwrap_or_default().to_string())
        })
        .collect()
}

/// The deep-recursion case needs more than the harness's 2 MiB of stack in unoptimised builds
/// (see `Limits::max_nesting`).
#[test]
fn corpus_matches_go() {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn_scoped(s, check_corpus)
            .unwrap()
            .join()
            .unwrap()
    });
}

fn check_corpus() {
    let diverging = divergences();
    let mut files: Vec<PathBuf> = fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cases"))
        .collect();
    files.sort();
    let (mut total, mut failures, mut listed_but_passing) = (0, Vec::new(), Vec::new());
    for file in &files {
        let cases = parse_cases(&fs::read_to_string(file).unwrap());
        let golden_path = file.with_extension("golden.json");
        let golden: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&golden_path).unwrap())
                .expect("golden parses");
        let expected: BTreeMap<&str, &serde_json::Value> = golden["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["name"].as_str().unwrap(), c))
            .collect();
        for case in &cases {
            total += 1;
            let want = expected
                .get(case.name.as_str())
                .unwrap_or_else(|| panic!("no golden for {}", case.name));
            let want = (
                want["result"].as_str().unwrap().to_string(),
                want["output"].as_str().unwrap().to_string(),
                want["error"].as_str().unwrap().to_string(),
            );
            let got = run_case(case);
            let agrees = got == want;
            match (agrees, diverging.contains_key(&case.name)) {
                (true, true) => listed_but_passing.push(case.name.clone()),
                (false, false) => failures.push(format!(
                    "{}: {}\n  template: {:?}\n  want: {:?}\n  got:  {:?}",
                    file.file_name().unwrap().to_string_lossy(),
                    case.name,
                    case.template,
                    want,
                    got
                )),
                _ => {}
            }
        }
    }
    eprintln!("{total} cases, {} failing, {} listed divergences", failures.len(), diverging.len());
    assert!(total >= 300, "the corpus must hold at least 300 cases, found {total}");
    assert!(
        listed_but_passing.is_empty(),
        "listed as divergences but agree with Go: {listed_but_passing:?}"
    );
    assert!(
        failures.is_empty(),
        "{} cases differ from Go:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn case_file_parser_keeps_trailing_newlines() {
    let cases = parse_cases("### case: a\n### template\nx\n\n### case: b\n### template\ny\n");
    assert_eq!(cases[0].template, "x\n");
    assert_eq!(cases[1].template, "y");
}
