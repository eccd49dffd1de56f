//! Renders a Go template file with JSON data, as Go's `text/template` would:
//!
//!     cargo run -q -p gotmpl --example render -- TEMPLATE [DATA.json]
//!
//! JSON maps to Go values as in the conformance corpus: objects → `map[string]interface {}`,
//! arrays → `[]interface {}`, integral numbers → `int`, other numbers → `float64`.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

use gotmpl::{Template, Value};

fn json_to_value(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) if !n.to_string().contains(['.', 'e', 'E']) => Value::Int(i),
            _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(items) => Value::list(items.iter().map(json_to_value).collect()),
        serde_json::Value::Object(map) => Value::map(
            map.iter()
                .map(|(k, v)| (Arc::from(k.as_str()), json_to_value(v)))
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}

fn run(args: &[String]) -> Result<String, String> {
    let [template, rest @ ..] = args else {
        return Err("usage: render TEMPLATE [DATA.json]".into());
    };
    let text = std::fs::read_to_string(template).map_err(|e| format!("{template}: {e}"))?;
    let data = match rest.first() {
        Some(path) => {
            let json = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            let parsed: serde_json::Value =
                serde_json::from_str(&json).map_err(|e| format!("{path}: {e}"))?;
            json_to_value(&parsed)
        }
        None => Value::Missing,
    };
    let name = std::path::Path::new(template)
        .file_name()
        .map_or(template.clone(), |n| n.to_string_lossy().into_owned());
    let tmpl = Template::new(&name).parse(&text).map_err(|e| e.to_string())?;
    tmpl.execute(&data).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("render: {e}");
            ExitCode::FAILURE
        }
    }
}
