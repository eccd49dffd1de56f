//! Times the file backend's two YAML readers on the seed's key layout (issue 15), in process:
//!
//!     cargo run --release -p confd-backend --example bench_yaml [-- SERVICES]
//!
//! `line reader` is `flatten_yaml` on the document as written: nested block mappings of word
//! keys, which the line reader takes. `document tree` is the same document with a `---` line
//! in front, which the line reader hands over at its first line, so saphyr's events and the
//! tree read all of it. Both give the same pairs (checked here). Method as `bench_engine`'s:
//! three warm-up runs, then runs for about 2 s; the median and the minimum are reported.

use std::fmt::Write;
use std::time::{Duration, Instant};

use confd_backend::file::flatten_yaml;

/// The seed's layout as `bench/e2e/scale-onetime.py` writes it.
fn seed_yaml(services: usize) -> String {
    let mut text = String::from("service_sgin:\n  subdomain:\n");
    for i in 0..services {
        let _ = writeln!(
            text,
            "    svc{i:06}: \"www.svc{i:06}.example.com  api.svc{i:06}.example.com\""
        );
    }
    text.push_str("  upstream:\n");
    for i in 0..services {
        let _ = writeln!(text, "    svc{i:06}:");
        for j in 1..=3 {
            let _ =
                writeln!(text, "      server{j}: \"10.{j}.{}.{}:8080\"", i / 256 % 256, i % 256);
        }
    }
    text
}

fn time(label: &str, text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for _ in 0..3 {
        pairs = flatten_yaml(text).expect("valid YAML");
    }
    let mut runs = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(2) || runs.len() < 5 {
        let t = Instant::now();
        let out = flatten_yaml(text).expect("valid YAML");
        runs.push(t.elapsed());
        drop(out);
    }
    runs.sort();
    let median = runs[runs.len() / 2];
    let mb = text.len() as f64 / 1e6;
    println!(
        "reader={label} keys={} yaml_mb={mb:.1} runs={} median_ms={:.1} min_ms={:.1} mb_per_s={:.0}",
        pairs.len(),
        runs.len(),
        median.as_secs_f64() * 1e3,
        runs[0].as_secs_f64() * 1e3,
        mb / median.as_secs_f64(),
    );
    pairs
}

fn main() {
    let services = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(25_000);
    let text = seed_yaml(services);
    let by_lines = time("line reader", &text);
    let by_tree = time("document tree", &format!("---\n{text}"));
    assert_eq!(by_lines, by_tree, "the two readers disagree");
}
