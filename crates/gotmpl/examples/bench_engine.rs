//! Times gotmpl on the workloads of `tools/go-oracle/BENCH.md`, with the same method as
//! `go-oracle bench`, so the two engines can be compared on one machine:
//!
//!     cargo run --release -p gotmpl --example bench_engine [-- WORKLOAD [--print]]
//!
//! `--print` writes one execution's output to stdout (compare with `go-oracle bench -print`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gotmpl::{Function, Signature, StructType, Template, Type, Value};

const SEED_TEMPLATE: &str = include_str!("../../../tools/go-oracle/testdata/seed-nginx.conf.tmpl");
const RANGE_TEMPLATE: &str = "{{range $i, $kv := .pairs}}{{printf \"%05d %-28s\" $i $kv.Key}} = {{$kv.Value}}{{if eq (len $kv.Value) 13}} short{{end}}\n{{end}}";

fn kv_type() -> Arc<StructType> {
    StructType::new("memkv.KVPair", &[("Key", Type::String), ("Value", Type::String)])
}

fn kv(key: &str, value: &str) -> Value {
    Value::Struct(Arc::new(gotmpl::Struct {
        ty: kv_type(),
        fields: vec![Value::from(key), Value::from(value)],
    }))
}

fn range40k() -> (Template, Value) {
    let pairs = (0..40_000)
        .map(|i| {
            let key = format!("/app/service{i:05}/key");
            let value = format!("10.{}.{}.{}:8080", i / 65536, (i / 256) % 256, i % 256);
            kv(&key, &value)
        })
        .collect();
    let mut data = BTreeMap::new();
    data.insert(Arc::from("pairs"), Value::typed_list(Type::slice(Type::Struct(kv_type())), pairs));
    (Template::new("range40k").parse(RANGE_TEMPLATE).expect("parses"), Value::map(data))
}

/// A sorted key store with prefix lookups, as BENCH.md specifies for both engines.
struct Store(BTreeMap<String, String>);

impl Store {
    fn under<'a>(&'a self, prefix: &str) -> impl Iterator<Item = (&'a String, &'a String)> {
        let prefix = prefix.to_string();
        self.0.range(prefix.clone()..).take_while(move |(k, _)| k.starts_with(&prefix))
    }

    fn gets<'a>(&'a self, pattern: &str) -> Vec<(&'a String, &'a String)> {
        let literal = &pattern[..pattern.find(['*', '?', '[', '\\']).unwrap_or(pattern.len())];
        self.under(literal).filter(|(k, _)| star_match(pattern, k)).collect()
    }
}

/// `path.Match` restricted to `*` wildcards, which is all the seed template uses.
fn star_match(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            let Some(rest) = name.strip_prefix(head) else { return false };
            let seg_end = rest.find('/').unwrap_or(rest.len());
            (0..=seg_end).any(|i| star_match(tail, &rest[i..]))
        }
    }
}

fn seed10k() -> (Template, Value) {
    let tmpl = Template::new("seed10k").funcs(seed_funcs()).parse(SEED_TEMPLATE).expect("parses");
    (tmpl, Value::Missing)
}

fn seed_funcs() -> Vec<(String, Function)> {
    let mut keys = BTreeMap::new();
    for i in 0..10_000 {
        let s = format!("svc{i:05}");
        keys.insert(format!("/subdomain/{s}"), format!("www.{s}.example.com  api.{s}.example.com"));
        for j in 1..=3 {
            let value = format!("10.{j}.{}.{}:8080", i / 256, i % 256);
            keys.insert(format!("/upstream/{s}/server{j}"), value);
        }
    }
    let store = Arc::new(Store(keys));
    let str_arg = |a: &[Value]| a[0].as_str().unwrap_or_default().to_string();
    let s = store.clone();
    let gets = Function::new(
        Signature::new(vec![Type::String], Type::slice(Type::Struct(kv_type()))).fallible(),
        move |a| {
            let pairs = s.gets(&str_arg(a)).into_iter().map(|(k, v)| kv(k, v)).collect();
            Ok(Value::typed_list(Type::slice(Type::Struct(kv_type())), pairs))
        },
    );
    let s = store.clone();
    let getvs = Function::new(
        Signature::new(vec![Type::String], Type::slice(Type::String)).fallible(),
        move |a| {
            let mut values: Vec<&str> =
                s.gets(&str_arg(a)).into_iter().map(|(_, v)| v.as_str()).collect();
            values.sort_unstable();
            Ok(Value::string_list(values))
        },
    );
    let s = store;
    let ls =
        Function::new(Signature::new(vec![Type::String], Type::slice(Type::String)), move |a| {
            let prefix = format!("{}/", str_arg(a).trim_end_matches('/'));
            let mut names: Vec<&str> = s
                .under(&prefix)
                .map(|(k, _)| k[prefix.len()..].split('/').next().unwrap_or(""))
                .collect();
            names.sort_unstable();
            names.dedup();
            Ok(Value::string_list(names))
        });
    let base = Function::new(Signature::new(vec![Type::String], Type::String), move |a| {
        let p = str_arg(a);
        let trimmed = p.trim_end_matches('/');
        Ok(Value::from(trimmed.rsplit('/').next().unwrap_or("/")))
    });
    [("gets", gets), ("getvs", getvs), ("ls", ls), ("base", base)]
        .into_iter()
        .map(|(n, f)| (n.to_string(), f))
        .collect()
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort_unstable();
    let n = xs.len();
    if n.is_multiple_of(2) {
        (xs[n / 2 - 1] + xs[n / 2]) / 2
    } else {
        xs[n / 2]
    }
}

/// Parse time of a template, 200 times, like `go-oracle bench`'s `-parse` lines.
fn run_parse(name: &str, text: &str, funcs: &[(String, Function)]) {
    let mut times = Vec::with_capacity(200);
    for _ in 0..200 {
        let t = Instant::now();
        let parsed = Template::new(name).funcs(funcs.iter().cloned()).parse(text).expect("parses");
        times.push(t.elapsed());
        drop(parsed);
    }
    let min = times.iter().min().copied().unwrap_or_default();
    println!(
        "workload={name}-parse engine=gotmpl iters=200 median_us={:.1} min_us={:.1}",
        median(times).as_secs_f64() * 1e6,
        min.as_secs_f64() * 1e6
    );
}

fn run(name: &str, tmpl: &Template, data: &Value) {
    let mut out = String::new();
    tmpl.execute_into(&mut out, data).expect("executes");
    let first = out.clone();
    let mut warm = Duration::MAX;
    for _ in 0..3 {
        out.clear();
        let t = Instant::now();
        tmpl.execute_into(&mut out, data).expect("executes");
        warm = warm.min(t.elapsed());
    }
    let iters = ((Duration::from_secs(2).as_secs_f64() / warm.as_secs_f64()) as usize).max(5);
    let mut times = Vec::with_capacity(iters);
    for _ in 0..iters {
        out.clear();
        let t = Instant::now();
        tmpl.execute_into(&mut out, data).expect("executes");
        times.push(t.elapsed());
    }
    assert_eq!(out, first, "output must be stable");
    let min = times.iter().min().copied().unwrap_or_default();
    println!(
        "workload={name} engine=gotmpl iters={iters} median_ms={:.3} min_ms={:.3} output_bytes={}",
        median(times).as_secs_f64() * 1e3,
        min.as_secs_f64() * 1e3,
        out.len()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let only = args.iter().find(|a| !a.starts_with("--")).map(String::as_str);
    let print = args.iter().any(|a| a == "--print");
    for (name, build) in [("range40k", range40k as fn() -> (Template, Value)), ("seed10k", seed10k)]
    {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let (tmpl, data) = build();
        let (text, funcs) = if name == "range40k" {
            (RANGE_TEMPLATE, vec![])
        } else {
            (SEED_TEMPLATE, seed_funcs())
        };
        if !print {
            run_parse(name, text, &funcs);
        }
        if print {
            print!("{}", tmpl.execute(&data).expect("executes"));
            return;
        }
        run(name, &tmpl, &data);
    }
}
